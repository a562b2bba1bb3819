"""run_rds_ip_virtualization against the in-test responder: one request, honest changed, guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vipctl import registry_map
from vipctl.settings import SettingsError
from vipctl.tasks.rds_ip_virtualization import run_rds_ip_virtualization

from .fake_host import FakeHost, dword

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
PARAMS = {"mode": "per_session", "adapter": "192.0.2.0/24"}


def test_enables_policy_renames_winsock_key_and_needs_reboot() -> None:
    host = FakeHost()
    result = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    assert len(host.requests) == 1
    assert (
        host.requests[0]["backup_dir"]
        == registry_map.DEFAULT_BACKUP_ROOT + r"\20261126T120000000000Z-rds_ip_virtualization"
    )
    assert result.changed and not result.failed and result.reboot_required
    assert host.registry[registry_map.RDS_POLICY_KEY]["EnableVirtualIP"] == dword(1)
    assert host.registry[registry_map.RDS_POLICY_KEY]["VirtualMode"] == dword(0)
    assert registry_map.WINSOCK_FIX_KEY not in host.registry
    assert registry_map.WINSOCK_FIX_RENAMED_KEY in host.registry
    names = [c["name"] for c in result.data["changes"]]
    assert names[0] == "(key)" and "EnableVirtualIP" in names  # Winsock fix before the policy values
    assert result.diff is not None and "EnableVirtualIP = 1 (REG_DWORD)" in result.diff["after"]
    assert "EnableVirtualIP = (absent)" in result.diff["before"]
    assert result.backups


def test_second_run_changes_nothing() -> None:
    host = FakeHost()
    run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    again = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    # Nothing left to change, but the restart the first run asked for is still pending.
    assert not again.changed and again.diff is None and again.reboot_required
    assert again.msg.startswith("already in the desired state; restart pending: ")
    host.restart()
    after_restart = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    assert not after_restart.reboot_required
    assert after_restart.msg == "already in the desired state"


def test_check_mode_reports_but_writes_nothing() -> None:
    host = FakeHost()
    result = run_rds_ip_virtualization(PARAMS, check=True, runner=host, now=NOW)
    assert host.requests[0]["check"] is True
    assert result.changed and result.msg.startswith("would change")
    assert registry_map.RDS_POLICY_KEY not in host.registry
    assert registry_map.WINSOCK_FIX_KEY in host.registry
    assert result.backups == []


def test_server_2016_gets_no_winsock_fix() -> None:
    host = FakeHost()
    host.facts.update(build_number=14393, current_build="14393", product_name="Windows Server 2016")
    result = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    assert result.changed
    assert registry_map.WINSOCK_FIX_KEY in host.registry
    rename = [op for op in host.requests[0]["ops"] if op["op"] == "registry_rename_key"]
    assert len(rename) == 1 and rename[0]["when"]  # sent, but its `when` skipped it


def test_unsupported_os_refused_on_the_host_with_classify_reason() -> None:
    host = FakeHost()
    host.facts.update(
        edition_id="ServerRdsh",
        sku=175,
        build_number=22631,
        product_name="Windows 11 Enterprise multi-session",
    )
    result = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    assert result.failed and not result.changed
    assert "Windows 11 Enterprise multi-session" in result.msg and result.msg.startswith("refused:")
    assert registry_map.RDS_POLICY_KEY not in host.registry and registry_map.WINSOCK_FIX_KEY in host.registry
    assert len(host.requests) == 1


def test_bad_params_raise_before_the_host_is_contacted() -> None:
    host = FakeHost()
    with pytest.raises(SettingsError, match="programs"):
        run_rds_ip_virtualization({"mode": "per_program"}, check=False, runner=host)
    assert host.requests == []


def test_op_error_names_the_op_and_the_host_message() -> None:
    host = FakeHost(
        fail_ops={"write_rds_policy": ("access_denied", "Requested registry access is not allowed.")}
    )
    result = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    assert result.failed
    assert "write_rds_policy (registry_set)" in result.msg and "Requested registry access" in result.msg
    assert result.data["error"]["kind"] == "access_denied"


def test_wmi_method_under_policy_control_fails_clearly() -> None:
    host = FakeHost(registry={registry_map.RDS_POLICY_KEY: {"EnableVirtualIP": dword(0)}})
    result = run_rds_ip_virtualization({"method": "wmi"}, check=False, runner=host, now=NOW)
    assert result.failed and "policy_controlled" in result.msg


def test_install_role_defers_wmi_settings_with_a_warning() -> None:
    host = FakeHost()
    host.facts["rds_role_installed"] = False
    result = run_rds_ip_virtualization(
        {"method": "wmi", "adapter": "00:15:5d:01:02:0a", "install_role": True},
        check=False,
        runner=host,
        now=NOW,
    )
    assert result.changed and result.reboot_required
    assert result.data["changes"][0]["name"] == "RDS-RD-Server"
    assert any("restart the host and run this module again" in w for w in result.warnings)
    assert host.tsvip_local == {}


def test_disable_writes_only_enable_virtual_ip_zero() -> None:
    host = FakeHost(
        registry={registry_map.RDS_POLICY_KEY: {"EnableVirtualIP": dword(1), "VirtualMode": dword(0)}}
    )
    result = run_rds_ip_virtualization({"state": "disabled"}, check=False, runner=host, now=NOW)
    assert [c["name"] for c in result.data["changes"]] == ["EnableVirtualIP"]
    assert host.registry[registry_map.RDS_POLICY_KEY] == {
        "EnableVirtualIP": dword(0),
        "VirtualMode": dword(0),
    }
    assert registry_map.WINSOCK_FIX_KEY in host.registry  # the fix is never applied while disabling
    assert result.data["before"]["enabled"] == {"value": True, "source": "policy"}


def test_server_2025_warns_unconfirmed() -> None:
    host = FakeHost()
    host.facts.update(build_number=26100, current_build="26100")
    result = run_rds_ip_virtualization(PARAMS, check=True, runner=host, now=NOW)
    assert any("UNCONFIRMED" in w for w in result.warnings)


def test_a_catalog_entry_unlike_kb_4501072_is_left_alone_with_a_warning() -> None:
    foreign = {
        "AppFullPath": {"type": "REG_SZ", "value": r"C:\Vendor\agent.exe"},
        "PermittedLspCategories": dword(1),
    }
    host = FakeHost(registry={registry_map.WINSOCK_FIX_KEY: foreign})
    result = run_rds_ip_virtualization(PARAMS, check=False, runner=host, now=NOW)
    assert not result.failed
    assert registry_map.WINSOCK_FIX_KEY in host.registry
    assert registry_map.WINSOCK_FIX_RENAMED_KEY not in host.registry
    assert any("KB 4501072" in w and "left alone" in w for w in result.warnings)


def test_turning_off_while_prefer_loopback_is_set_warns() -> None:
    host = FakeHost(registry={registry_map.PREFER_LOOPBACK_KEY: {"PreferLoopback": dword(1)}})
    result = run_rds_ip_virtualization({"state": "disabled"}, check=True, runner=host, now=NOW)
    assert len(host.requests) == 1
    assert any("PreferLoopback is still set" in w for w in result.warnings)


def test_check_mode_previews_every_restart_reason_and_records_none() -> None:
    host = FakeHost()
    result = run_rds_ip_virtualization(PARAMS, check=True, runner=host, now=NOW)
    assert result.reboot_required
    assert result.data["restart"]["reasons"] == [
        "the Winsock catalog entry of KB 4501072 was renamed",
        "RD IP Virtualization policy values changed",
    ]
    assert host.restart_reasons == []  # check mode writes no marker
