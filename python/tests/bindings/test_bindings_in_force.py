from __future__ import annotations

from typing import Any

from vipctl import registry_map as rm
from vipctl.bindings.in_force import EffectiveSettings, Feature, effective_settings


def _key(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"path": "HKLM\\x", "exists": True, "values": values, "subkeys": []}


def _tsvip(**props: Any) -> dict[str, Any]:
    return {"available": True, "properties": props}


def test_wmi_state_alone() -> None:
    s = effective_settings(
        tsvip=_tsvip(
            VirtualIPActive=1,
            VirtualIPMode=1,
            ProgramList=["softphone.exe"],
            VirtualizeLoopbackAddressesEnabled=1,
        )
    )
    assert s.rds_ip_active and s.rds_ip_per_program and s.ms_loopback_virtualization
    assert s.rds_applies("SOFTPHONE.EXE") and not s.rds_applies("crm.exe")


def test_policy_wins_value_by_value() -> None:
    policy = _key(
        {
            rm.VIRTUAL_MODE.name: {"type": "REG_DWORD", "value": 0},
            rm.PROMPT_ON_IP_LEASE_FAIL.name: {"type": "REG_DWORD", "value": 1},
        }
    )
    s = effective_settings(
        tsvip=_tsvip(VirtualIPActive=1, VirtualIPMode=1, ProgramList=[]), rds_policy_key=policy
    )
    assert s.rds_ip_active and not s.rds_ip_per_program and s.prompt_on_ip_lease_fail
    assert s.rds_applies("anything.exe")


def test_prefer_loopback_and_citrix_applied_keys() -> None:
    s = effective_settings(
        tsvip={"available": False, "properties": {}},
        prefer_loopback_key=_key(
            {
                rm.PREFER_LOOPBACK.name: {"type": "REG_DWORD", "value": 1},
                rm.PREFER_LOOPBACK_PROCESSES.name: {"type": "REG_MULTI_SZ", "value": "crm.exe"},
            }
        ),
        citrix_applied_key=_key(
            {
                rm.CITRIX_APPLIED_LOOPBACK_SUPPORT.name: {"type": "REG_DWORD", "value": 1},
                rm.CITRIX_APPLIED_LOOPBACK_PROGRAMS.name: {"type": "REG_MULTI_SZ", "value": ["crm.exe"]},
            }
        ),
    )
    assert not s.rds_ip_active
    assert s.loopback_preferred("CRM.exe") and s.citrix_applies("crm")


def test_missing_keys_mean_everything_off() -> None:
    missing = {"path": "HKLM\\x", "exists": False, "values": {}, "subkeys": []}
    s = effective_settings(tsvip=None, prefer_loopback_key=missing, citrix_applied_key=missing)
    assert s == EffectiveSettings()


def test_asserting_puts_programs_under_the_feature() -> None:
    base = EffectiveSettings()
    citrix = base.asserting(Feature.CITRIX_LOOPBACK, ["crm.exe"])
    assert citrix.citrix_applies("crm.exe") and not citrix.rds_ip_active
    rds = base.asserting(Feature.RDS_IP, ["softphone.exe"])
    assert rds.rds_applies("softphone.exe") and not rds.rds_applies("crm.exe")
    per_session = EffectiveSettings.create(rds_ip_active=True, rds_ip_per_program=False)
    assert per_session.asserting(Feature.RDS_IP, ["x.exe"]) is per_session
    assert base.asserting(Feature.AUTO, ["crm.exe"]) is base
