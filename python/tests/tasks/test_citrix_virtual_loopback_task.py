"""run_citrix_virtual_loopback: policy create/update/remove on a controller, one request."""

from __future__ import annotations

from datetime import UTC, datetime

from vipctl.tasks.citrix_virtual_loopback import run_citrix_virtual_loopback

from .fake_host import FakeHost

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
PARAMS = {
    "programs": ["app.exe"],
    "priority": 2,
    "filters": [{"type": "DesktopGroup", "name": "dg", "value": "Apps"}],
}


def controller() -> FakeHost:
    host = FakeHost()
    host.facts["citrix_controller"] = {"installed": True}
    return host


def test_creates_then_converges() -> None:
    host = controller()
    result = run_citrix_virtual_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert len(host.requests) == 1 and result.changed and not result.reboot_required
    policy = host.citrix_policies["vipctl virtual loopback"]
    assert policy["settings"]["VirtualLoopbackPrograms"] == {"State": "Enabled", "Values": ["app.exe"]}
    assert policy["priority"] == 2 and policy["filters"][0]["mode"] == "Allow"
    assert result.backups == [host.requests[0]["backup_dir"] + "\\citrix_policy_vipctl virtual loopback.json"]
    assert not run_citrix_virtual_loopback(PARAMS, check=False, runner=host, now=NOW).changed


def test_update_reports_only_the_differing_setting() -> None:
    host = controller()
    run_citrix_virtual_loopback(PARAMS, check=False, runner=host, now=NOW)
    result = run_citrix_virtual_loopback(
        {**PARAMS, "programs": ["app.exe", "b.exe"]}, check=True, runner=host
    )
    assert [c["name"] for c in result.data["changes"]] == ["settings.VirtualLoopbackPrograms"]
    assert (
        result.diff is not None and "b.exe" in result.diff["after"] and "b.exe" not in result.diff["before"]
    )
    assert host.citrix_policies["vipctl virtual loopback"]["settings"]["VirtualLoopbackPrograms"][
        "Values"
    ] == ["app.exe"]


def test_absent_removes_the_policy() -> None:
    host = controller()
    run_citrix_virtual_loopback(PARAMS, check=False, runner=host, now=NOW)
    result = run_citrix_virtual_loopback({"state": "absent"}, check=False, runner=host, now=NOW)
    assert result.changed and host.citrix_policies == {}
    assert not run_citrix_virtual_loopback({"state": "absent"}, check=False, runner=host, now=NOW).changed


def test_refused_on_a_host_without_the_controller_snapin() -> None:
    host = FakeHost()
    result = run_citrix_virtual_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert result.failed and "not a Citrix Delivery Controller" in result.msg
    assert host.citrix_policies == {}


def test_ad_gpo_scope_is_sent_to_the_host() -> None:
    host = controller()
    run_citrix_virtual_loopback({**PARAMS, "scope": "ad_gpo", "gpo": "VDA policy"}, check=True, runner=host)
    write = host.requests[0]["ops"][-1]
    assert (write["op"], write["scope"], write["gpo"]) == ("citrix_policy_set", "ad_gpo", "VDA policy")
