"""Every module through real ansible against the simulated farm, over both winrm and psrp.

Ground truth is read through the simulator's admin API, never through the module under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_farms import load_test_farm
from simfarm import SimFarm, running_farm

from vipctl import registry_map as rm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


def registry(farm: SimFarm, host: str) -> dict[str, Any]:
    return dict(farm.snapshot(host)["registry"])


def policy_values(farm: SimFarm, host: str) -> dict[str, Any]:
    return dict(registry(farm, host).get(rm.RDS_POLICY_KEY) or {})


def executor_requests(farm: SimFarm, host: str) -> int:
    return int(farm.admin.counters(host)["requests"])


RDS_ARGS = {"mode": "per_program", "programs": ["softphone.exe", "licclient.exe"], "adapter": "10.0.0.0/24"}


def test_vip_status_ad_hoc_with_the_short_name(farm: SimFarm) -> None:
    record = farm.adhoc("all", "vip_status")
    assert record.rc == 0, record.stdout + record.stderr
    results = record.results("vip_status")
    assert results["vda2019-01"]["support"]["supported"] is True
    assert results["vda2019-01"]["winsock_fix"] == "needed"
    assert results["w10ms-01"]["support"]["supported"] is False
    assert "multi-session" in results["w10ms-01"]["support"]["reason"]
    assert results["ddc01"]["citrix_controller"]["installed"] is True
    assert all(r["changed"] is False for r in results.values())
    assert "Sim-Farm-Passw0rd!" not in record.stdout + record.stderr


def test_rds_check_mode_shows_a_diff_and_changes_nothing(farm: SimFarm) -> None:
    before = farm.snapshot("vda2019-01")
    record = farm.play(
        [{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], "vda2019-01", "--check", "--diff"
    )
    assert record.rc == 0, record.stdout + record.stderr
    result = record.results("rds")["vda2019-01"]
    assert result["changed"] is True
    assert "EnableVirtualIP" in record.stdout  # the diff is printed
    assert result["backups"] == []
    after = farm.snapshot("vda2019-01")
    assert after["registry"] == before["registry"]
    assert after["files"] == before["files"]


def test_rds_applies_backs_up_and_is_idempotent(farm: SimFarm) -> None:
    first = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], "vda2019-01", name="first")
    assert first.rc == 0, first.stdout + first.stderr
    result = first.results("rds")["vda2019-01"]
    assert result["changed"] is True and result["reboot_required"] is True
    assert result["backups"], "every touched key is backed up before the write"
    values = policy_values(farm, "vda2019-01")
    assert values["EnableVirtualIP"] == {"type": "REG_DWORD", "value": 1}
    assert values["PerApp"]["value"] == ["softphone.exe", "licclient.exe"]
    reg = registry(farm, "vda2019-01")
    assert rm.WINSOCK_FIX_RENAMED_KEY in reg and rm.WINSOCK_FIX_KEY not in reg
    snapshot_files = farm.snapshot("vda2019-01")["files"]
    assert set(result["backups"]) <= set(snapshot_files)

    second = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], "vda2019-01", name="second")
    assert second.rc == 0
    assert second.results("rds")["vda2019-01"]["changed"] is False


def test_winsock_fix_is_left_alone_on_server_2016(farm: SimFarm) -> None:
    record = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], "vda2016-01")
    assert record.rc == 0, record.stdout + record.stderr
    assert policy_values(farm, "vda2016-01")["EnableVirtualIP"]["value"] == 1
    assert not any(key.startswith(rm.WINSOCK_FIX_PARENT) for key in registry(farm, "vda2016-01"))


def test_unsupported_os_is_refused_and_untouched(farm: SimFarm) -> None:
    before = farm.snapshot("w10ms-01")["registry"]
    record = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], "w10ms-01")
    assert record.rc != 0
    result = record.results("rds")["w10ms-01"]
    assert result["_status"] == "failed"
    assert "multi-session" in result["msg"]
    assert farm.snapshot("w10ms-01")["registry"] == before


def test_bad_arguments_fail_before_anything_reaches_the_host(farm: SimFarm) -> None:
    requests_before = executor_requests(farm, "vda2022-01")
    bad = dict(RDS_ARGS, programs=["C:\\Apps\\softphone.exe"])
    record = farm.play([{"name": "rds", "rds_ip_virtualization": bad}], "vda2022-01")
    result = record.results("rds")["vda2022-01"]
    assert result["_status"] == "failed"
    assert "programs" in result["msg"] and "softphone.exe" in result["msg"]
    typo = farm.play(
        [{"name": "rds", "rds_ip_virtualization": {"mode": "per_sesion"}}], "vda2022-01", name="t"
    )
    assert "mode" in typo.results("rds")["vda2022-01"]["msg"]
    assert executor_requests(farm, "vda2022-01") == requests_before


def test_citrix_policy_on_the_controller(farm: SimFarm) -> None:
    task = {
        "name": "loopback",
        "citrix_virtual_loopback": {
            "programs": ["crmclient.exe"],
            "priority": 5,
            "filters": [{"type": "DesktopGroup", "name": "CRM users", "value": "Shared Desktops"}],
        },
    }
    check = farm.play([task], "ddc01", "--check", name="check")
    assert check.results("loopback")["ddc01"]["changed"] is True
    assert "vipctl virtual loopback" not in farm.snapshot("ddc01")["citrix"]["controller"]["site"]

    first = farm.play([task], "ddc01", "--diff", name="first")
    assert first.rc == 0, first.stdout + first.stderr
    assert first.results("loopback")["ddc01"]["changed"] is True
    policy = farm.snapshot("ddc01")["citrix"]["controller"]["site"]["vipctl virtual loopback"]
    # Only the Computer half is written: it holds the settings. It is the only numbered policy of
    # that half, so the provider clamps priority 5 to 1, and a new policy is enabled only because
    # the module asks for it.
    assert policy["halves"]["User"] is None
    computer = policy["halves"]["Computer"]
    assert (computer["priority"], computer["enabled"]) == (1, True)
    assert policy["settings"]["VirtualLoopbackSupport"]["State"] == "Enabled"
    assert policy["settings"]["VirtualLoopbackPrograms"]["Values"] == ["crmclient.exe"]
    assert computer["filters"][0]["value"] == "Shared Desktops"

    # The rerun compares the clamped priority, so it reports no change.
    second = farm.play([task], "ddc01", name="second")
    assert second.results("loopback")["ddc01"]["changed"] is False


def test_citrix_policy_in_an_ad_gpo_needs_delegation(farm: SimFarm) -> None:
    """Over plain WinRM the domain is a second hop: the module fails naming CredSSP, writes nothing."""
    task = {
        "name": "loopback",
        "citrix_virtual_loopback": {"programs": ["crmclient.exe"], "scope": "ad_gpo", "gpo": "VDA Policies"},
    }
    before = farm.snapshot("ddc01")
    record = farm.play([task], "ddc01", name="gpo")
    assert record.rc != 0
    result = record.results("loopback")["ddc01"]
    assert result["_status"] == "failed"
    assert "delegation_required" in result["msg"] and "CredSSP" in result["msg"]
    after = farm.snapshot("ddc01")
    assert after["citrix"]["controller"] == before["citrix"]["controller"]
    assert after["files"] == before["files"]


def test_prefer_loopback_guard_and_force(farm: SimFarm) -> None:
    task = {"name": "prefer", "citrix_prefer_loopback": {"processes": ["crmclient.exe"]}}
    refused = farm.play([task], "vda2022-01", name="refused")
    result = refused.results("prefer")["vda2022-01"]
    assert result["_status"] == "failed"
    assert "RD IP Virtualization" in result["msg"]
    assert rm.PREFER_LOOPBACK_KEY not in registry(farm, "vda2022-01")

    forced_task = {
        "name": "prefer",
        "citrix_prefer_loopback": {"processes": ["crmclient.exe"], "force": True},
    }
    forced = farm.play([forced_task], "vda2022-01", name="forced")
    result = forced.results("prefer")["vda2022-01"]
    assert result["changed"] is True and result["warnings"]
    assert registry(farm, "vda2022-01")[rm.PREFER_LOOPBACK_KEY]["PreferLoopback"]["value"] == 1


def test_vip_bindings_finds_the_clashes_and_expect_fails_before_rollout(farm: SimFarm) -> None:
    audit = farm.play([{"name": "audit", "vip_bindings": {}}], "vda2019-01", name="audit")
    result = audit.results("audit")["vda2019-01"]
    clashes = {(c["program"], c["port"]) for c in result["clashes"]}
    assert ("crmclient.exe", 9000) in clashes and ("softphone.exe", 5060) in clashes
    advice = {r["program"]: r["recommendation"] for r in result["recommendations"]}
    assert advice["crmclient.exe"] == "virtual_loopback" and advice["licclient.exe"] == "virtual_ip"

    expect = {"programs": ["crmclient.exe"], "feature": "citrix_loopback", "port": 9000}
    verify = farm.play([{"name": "verify", "vip_bindings": {"expect": expect}}], "vda2019-01", name="v")
    result = verify.results("verify")["vda2019-01"]
    assert result["_status"] == "failed"
    # One line to read; the table, one line per failing instance, names the address session 2 should
    # have had.
    assert "\n" not in result["msg"] and "fix: " in result["msg"]
    assert "127.0.0.3" in "\n".join(result["msg_details"])


def test_vip_bindings_fails_on_a_socket_table_error_instead_of_finding_nothing(farm: SimFarm) -> None:
    """A failing NetTCPIP source is the module's error, never an empty (clash-free) table."""
    farm.admin.set_faults("vda2019-01", api_faults={"MSFT_NetTCPConnection": "access_denied"})
    audit = farm.play([{"name": "audit", "vip_bindings": {}}], "vda2019-01", name="audit")
    result = audit.results("audit")["vda2019-01"]
    assert result["_status"] == "failed"
    assert "access_denied" in result["msg"] and "MSFT_NetTCPConnection" in result["msg"]


def test_requests_per_module_call(farm: SimFarm) -> None:
    farm.adhoc("vda2022-01", "vip_status", name="warm")
    before = executor_requests(farm, "vda2022-01")
    farm.adhoc("vda2022-01", "vip_status", name="measured")
    per_call = executor_requests(farm, "vda2022-01") - before
    # One executor run: connection set-up (auth, shell or runspace) plus one command's round trips.
    assert 1 <= per_call <= 12, per_call


def test_wrong_password_and_unreachable_host(farm: SimFarm) -> None:
    wrong = farm.adhoc("vda2022-01", "vip_status", "", "-e", "ansible_password=not-the-password", name="pw")
    assert wrong.rc != 0
    assert [e["status"] for e in wrong.entries] == ["unreachable"]
    assert "not-the-password" not in wrong.stdout + wrong.stderr

    farm.admin.set_faults("vda2019-01", down=True)
    down = farm.adhoc("vda2019-01", "vip_status", name="down")
    assert down.rc != 0
    assert [e["status"] for e in down.entries] == ["unreachable"]


def test_a_non_winrm_connection_is_refused_clearly(farm: SimFarm) -> None:
    record = farm.adhoc("vda2022-01", "vip_status", "", "-e", "ansible_connection=local", name="local")
    result = record.results("vip_status")["vda2022-01"]
    assert result["_status"] == "failed"
    assert "winrm" in result["msg"] and "psrp" in result["msg"]
