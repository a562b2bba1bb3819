"""run_citrix_prefer_loopback: the both-features guard on the host, force, removal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vipctl import registry_map
from vipctl.settings import SettingsError
from vipctl.tasks.citrix_prefer_loopback import run_citrix_prefer_loopback

from .fake_host import FakeHost, dword, multi

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
PARAMS = {"processes": ["app.exe", "APP.exe"]}


def both_enabled() -> FakeHost:
    return FakeHost(
        registry={
            registry_map.RDS_POLICY_KEY: {"EnableVirtualIP": dword(1)},
            registry_map.CITRIX_APPLIED_VIP_KEY: {"VirtualLoopbackSupport": dword(1)},
        }
    )


def test_writes_prefer_loopback_when_both_features_are_on() -> None:
    host = both_enabled()
    result = run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert len(host.requests) == 1
    assert result.changed and not result.reboot_required and not result.warnings
    assert host.registry[registry_map.PREFER_LOOPBACK_KEY] == {
        "PreferLoopback": dword(1),
        "PreferLoopbackProcesses": multi(["app.exe"]),
    }
    assert not run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW).changed


def test_refused_when_rds_is_off_by_policy() -> None:
    host = both_enabled()
    host.registry[registry_map.RDS_POLICY_KEY]["EnableVirtualIP"] = dword(0)
    result = run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert result.failed and "EnableVirtualIP = 0" in result.msg
    assert registry_map.PREFER_LOOPBACK_KEY not in host.registry


def test_local_wmi_state_counts_when_policy_is_silent() -> None:
    host = both_enabled()
    del host.registry[registry_map.RDS_POLICY_KEY]
    refused = run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert refused.failed and "off on this host" in refused.msg
    host.tsvip_local["VirtualIPActive"] = 1
    assert run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW).changed


def test_refused_when_the_vda_has_loopback_disabled() -> None:
    host = both_enabled()
    host.registry[registry_map.CITRIX_APPLIED_VIP_KEY]["VirtualLoopbackSupport"] = dword(0)
    result = run_citrix_prefer_loopback(PARAMS, check=True, runner=host, now=NOW)
    assert result.failed and "virtual loopback" in result.msg


def test_unknown_loopback_state_warns_but_proceeds() -> None:
    host = both_enabled()
    del host.registry[registry_map.CITRIX_APPLIED_VIP_KEY]
    result = run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert result.changed and any("UNCONFIRMED" in w for w in result.warnings)


def test_force_skips_the_guards() -> None:
    host = FakeHost()
    result = run_citrix_prefer_loopback({**PARAMS, "force": True}, check=False, runner=host, now=NOW)
    assert result.changed and any("force" in w for w in result.warnings)
    assert not any(op["op"] == "require" and op["id"] != "supported" for op in host.requests[0]["ops"])


def test_disable_removes_both_values_without_guards() -> None:
    host = FakeHost(
        registry={
            registry_map.PREFER_LOOPBACK_KEY: {
                "PreferLoopback": dword(1),
                "PreferLoopbackProcesses": multi(["a.exe"]),
            }
        }
    )
    result = run_citrix_prefer_loopback({"enabled": False}, check=False, runner=host, now=NOW)
    assert result.changed and host.registry[registry_map.PREFER_LOOPBACK_KEY] == {}
    assert result.diff is not None and "PreferLoopback = (absent)" in result.diff["after"]


def test_client_os_refused() -> None:
    host = both_enabled()
    host.facts.update(product_type=1, product_name="Windows 10 Pro", build_number=19045)
    result = run_citrix_prefer_loopback(PARAMS, check=False, runner=host, now=NOW)
    assert result.failed and "desktop (client) OS" in result.msg


def test_bad_params_never_reach_the_host() -> None:
    host = FakeHost()
    with pytest.raises(SettingsError, match="not a path"):
        run_citrix_prefer_loopback({"processes": [r"C:\a.exe"]}, check=False, runner=host)
    assert host.requests == []
