from __future__ import annotations

import json
from typing import Any

from farm_tables import SERVER_IP, after_data, before_data, sessions_data

from vipctl.bindings.audit import audit_host, farm_summary
from vipctl.bindings.expect import ExpectSpec
from vipctl.bindings.filters import endpoint_filter
from vipctl.bindings.in_force import EffectiveSettings, Feature
from vipctl.bindings.model import parse_net_endpoints, parse_sessions

LOOPBACK_ON = EffectiveSettings.create(citrix_loopback_enabled=True, citrix_loopback_programs=["crm.exe"])


def _report(host: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return audit_host(
        host,
        table=parse_net_endpoints(data),
        sessions=parse_sessions(sessions_data()),
        server_ips=[SERVER_IP],
        **kw,
    )


def test_host_report_is_json_and_has_every_part() -> None:
    report = _report("rdsh01", before_data())
    assert json.loads(json.dumps(report)) == report
    assert {c["program"] for c in report["clashes"]} == {"crm.exe", "softphone.exe"}
    crm = next(c for c in report["clashes"] if c["program"] == "crm.exe")
    assert crm["failed_binds"] == 2 and crm["resolved"] is False
    assert [i["status"] for i in crm["instances"]] == ["listening", "bind_failed", "bind_failed"]
    recs = {r["program"]: r["recommendation"] for r in report["recommendations"]}
    assert recs == {
        "crm.exe": "virtual_loopback",
        "licclient.exe": "virtual_ip",
        "softphone.exe": "virtual_ip",
    }
    assert report["verification"] is None
    assert all(e["session"] != 0 for e in report["endpoints"])


def test_include_system_lists_session_0() -> None:
    report = _report("rdsh01", before_data(), include_system=True)
    assert any(e["process"] == "lsass.exe" for e in report["endpoints"])
    assert any(x["program"] == "System" and x["port"] == 445 for x in report["exposures"])


def test_filter_narrows_listing_but_not_verification() -> None:
    report = _report(
        "rdsh01",
        after_data(),
        endpoint_filter=endpoint_filter(processes=["softphone"], protocol="tcp"),
        expect=ExpectSpec(("crm.exe",), Feature.CITRIX_LOOPBACK),
        settings=LOOPBACK_ON,
    )
    assert report["endpoints"] == [] and report["clashes"] == []
    verification = report["verification"]
    assert verification["ok"] is True and verification["counts"] == {
        "ok": 4,
        "wrong_address": 0,
        "not_listening": 0,
    }
    assert "127.0.0.4" in verification["table"]


def test_verification_names_programs_not_running() -> None:
    report = _report(
        "rdsh01", after_data(), expect=ExpectSpec(("crm.exe", "absent.exe")), settings=LOOPBACK_ON
    )
    assert report["verification"]["not_running"] == ["absent.exe"]
    assert any(
        r["program"] == "absent.exe" and r["recommendation"] == "none" for r in report["recommendations"]
    )


def test_farm_summary_merges_hosts() -> None:
    before = _report("rdsh01", before_data(), expect=ExpectSpec(("crm.exe",)), settings=LOOPBACK_ON)
    after = _report("rdsh02", after_data(), expect=ExpectSpec(("crm.exe",)), settings=LOOPBACK_ON)
    # A third host where crm.exe also binds UDP 0.0.0.0: farm-wide it needs both features.
    odd = before_data()
    crm1 = next(e for e in odd["endpoints"] if e["pid"] == 1100)
    odd["endpoints"].append(
        {**crm1, "protocol": "udp", "local_address": "0.0.0.0", "local_port": 9001, "state": None}
    )
    third = _report("rdsh03", odd)
    summary = farm_summary(json.loads(json.dumps([before, after, third])))
    assert summary["hosts"] == 3
    assert summary["programs"]["crm.exe"] == {
        "recommendation": "both",
        "hosts": ["rdsh01", "rdsh02", "rdsh03"],
    }
    assert summary["virtual_loopback"] == ["crm.exe"]
    assert summary["virtual_ip"] == ["crm.exe", "licclient.exe", "softphone.exe"]
    assert summary["prefer_loopback"] == ["crm.exe"]
    clashes = summary["clashes"]
    # rdsh01: crm + softphone unresolved; rdsh02: both resolved; rdsh03: those two plus crm's UDP
    # 9001, which bob's and carol's instances lack as well.
    assert (clashes["clashes"], clashes["unresolved"], clashes["failed_binds"]) == (7, 5, 8)
    assert clashes["by_program"]["crm.exe"] == {
        "hosts": ["rdsh01", "rdsh02", "rdsh03"],
        "clashes": 4,
        "failed_binds": 6,
    }
    assert summary["verification"] == {
        "hosts_checked": 2,
        "hosts_failed": ["rdsh01"],
        "ok": 4,
        "wrong_address": 1,
        "not_listening": 2,
    }


def test_farm_summary_of_nothing() -> None:
    summary = farm_summary([])
    assert summary["hosts"] == 0 and summary["programs"] == {} and summary["clashes"]["clashes"] == 0
