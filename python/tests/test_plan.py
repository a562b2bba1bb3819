"""plan(): ordering, guards and reboot flags; render_diff; request builders' shape."""

from __future__ import annotations

from typing import Any

import pytest

from vipctl import registry_map
from vipctl.diff import render_diff
from vipctl.plan import FEATURE_LOOPBACK, FEATURE_PREFER, FEATURE_RDS, Desired, Observed, PlanError, plan
from vipctl.request_builders import prefer_loopback_request, rds_request
from vipctl.settings import parse_citrix_loopback_policy, parse_prefer_loopback, parse_rds_ip_virtualization


def facts(build: int, product_type: int = 3) -> dict[str, Any]:
    return {"edition_id": "ServerStandard", "sku": 7, "product_type": product_type, "build_number": build}


RDS_ON = parse_rds_ip_virtualization({"adapter": "192.0.2.0/24"})
LOOPBACK_ON = parse_citrix_loopback_policy({"programs": ["a.exe"]})
PREFER_ON = parse_prefer_loopback({"processes": ["a.exe"]})


def test_enabling_orders_rds_then_loopback_then_prefer_and_flags_reboots() -> None:
    result = plan(
        Observed(facts(17763), winsock_fix_key_present=True),
        Desired(rds=RDS_ON, loopback=LOOPBACK_ON, prefer=PREFER_ON),
    )
    features = [c.feature for c in result.changes]
    assert features == sorted(features, key=[FEATURE_RDS, FEATURE_LOOPBACK, FEATURE_PREFER].index)
    assert result.changes[0].name == "(key)" and result.changes[0].reboot_required
    assert result.changes[-1].feature == FEATURE_PREFER
    reboots = {c.name for c in result.changes if c.reboot_required}
    # Every RD IP Virtualization setting is read at boot; PreferLoopback and the policy are not.
    assert reboots == {c.name for c in result.changes if c.feature == FEATURE_RDS}
    assert "EnableVirtualIP" in reboots and "VirtualMode" in reboots


def test_disabling_reverses_so_prefer_loopback_goes_first() -> None:
    observed = Observed(
        facts(20348),
        rds_policy_values={"EnableVirtualIP": {"type": "REG_DWORD", "value": 1}},
        prefer_loopback_values={"PreferLoopback": {"type": "REG_DWORD", "value": 1}},
    )
    result = plan(
        observed,
        Desired(
            rds=parse_rds_ip_virtualization({"state": "disabled"}),
            prefer=parse_prefer_loopback({"enabled": False}),
        ),
    )
    assert [c.feature for c in result.changes] == [FEATURE_PREFER, FEATURE_RDS]
    assert all(c.name != "(key)" for c in result.changes)


@pytest.mark.parametrize("build", [14393, 26100])
def test_winsock_fix_only_on_2019_and_2022(build: int) -> None:
    result = plan(Observed(facts(build), winsock_fix_key_present=True), Desired(rds=RDS_ON))
    assert all(c.target != registry_map.WINSOCK_FIX_KEY for c in result.changes)


def test_unsupported_os_refused() -> None:
    with pytest.raises(PlanError, match="domain controller"):
        plan(Observed(facts(20348, product_type=2)), Desired(rds=RDS_ON))


def test_loopback_policy_alone_is_not_bound_to_the_os() -> None:
    assert plan(Observed(facts(9600)), Desired(loopback=LOOPBACK_ON)).changes


def test_prefer_loopback_guard_uses_will_be_enabled_state() -> None:
    with pytest.raises(PlanError, match="RD IP Virtualization"):
        plan(Observed(facts(20348), citrix_loopback_applied=True), Desired(prefer=PREFER_ON))
    with pytest.raises(PlanError, match="virtual loopback"):
        plan(Observed(facts(20348), citrix_loopback_applied=False), Desired(rds=RDS_ON, prefer=PREFER_ON))
    assert plan(Observed(facts(20348)), Desired(rds=RDS_ON, loopback=LOOPBACK_ON, prefer=PREFER_ON)).changes
    unknown = plan(Observed(facts(20348)), Desired(rds=RDS_ON, prefer=PREFER_ON))
    assert any("UNCONFIRMED" in w for w in unknown.warnings)
    forced = parse_prefer_loopback({"processes": ["a.exe"], "force": True})
    assert plan(Observed(facts(20348)), Desired(prefer=forced)).changes


def test_no_changes_when_observed_matches() -> None:
    observed = Observed(
        facts(14393),
        rds_policy_values={
            "EnableVirtualIP": {"type": "REG_DWORD", "value": 1},
            "VirtualMode": {"type": "REG_DWORD", "value": 0},
            "VIPAdapter": {"type": "REG_SZ", "value": "192.0.2.0/24"},
        },
    )
    result = plan(observed, Desired(rds=RDS_ON))
    assert result.changes == () and not result.reboot_required and render_diff(result.changes) is None


def test_render_diff_lines() -> None:
    result = plan(
        Observed(facts(14393)),
        Desired(prefer=parse_prefer_loopback({"enabled": True, "processes": ["a.exe"], "force": True})),
    )
    diff = render_diff(result.changes)
    assert diff == {
        "before": f"{registry_map.PREFER_LOOPBACK_KEY}\\PreferLoopback = (absent)\n"
        f"{registry_map.PREFER_LOOPBACK_KEY}\\PreferLoopbackProcesses = (absent)\n",
        "after": f"{registry_map.PREFER_LOOPBACK_KEY}\\PreferLoopback = 1 (REG_DWORD)\n"
        f'{registry_map.PREFER_LOOPBACK_KEY}\\PreferLoopbackProcesses = ["a.exe"] (REG_MULTI_SZ)\n',
    }


def test_requests_read_before_writing_and_guard_first() -> None:
    ops = rds_request(RDS_ON, check=False, backup_dir="X").request["ops"]
    kinds = [op["op"] for op in ops]
    assert kinds[:2] == ["host_facts", "require"]
    first_write = min(i for i, k in enumerate(kinds) if k in ("registry_set", "registry_rename_key"))
    reads = ("host_facts", "require", "registry_get", "tsvip_get", "restart_state", "address_match")
    assert all(k in reads for k in kinds[:first_write])
    ids = [op["id"] for op in ops]
    assert len(ids) == len(set(ids))
    prefer_ops = prefer_loopback_request(PREFER_ON, check=True, backup_dir="X").request["ops"]
    assert prefer_ops[-1]["op"] == "registry_set" and sum(op["op"] == "require" for op in prefer_ops) == 4


def test_loopback_policy_is_compared_half_by_half() -> None:
    spec_settings = {
        "VirtualLoopbackSupport": {"State": "Enabled"},
        "VirtualLoopbackPrograms": {"State": "Enabled", "Values": ["a.exe"]},
    }
    half = {"enabled": True, "priority": 1, "description": "", "filters": []}
    current = {
        "name": "vipctl virtual loopback",
        "settings": spec_settings,
        "halves": {"Computer": half, "User": None},
    }
    assert plan(Observed(facts(20348), citrix_policy=current), Desired(loopback=LOOPBACK_ON)).changes == ()
    disabled = {**current, "halves": {"Computer": {**half, "enabled": False}, "User": None}}
    changes = plan(Observed(facts(20348), citrix_policy=disabled), Desired(loopback=LOOPBACK_ON)).changes
    assert [(c.name, c.before, c.after) for c in changes] == [("Computer.enabled", False, True)]
