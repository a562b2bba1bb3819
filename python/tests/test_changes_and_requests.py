"""Feature order, what each desired state writes, render_diff, and the per-module requests' shape."""

from __future__ import annotations

from vipctl import registry_map
from vipctl.changes import (
    FEATURE_LOOPBACK,
    FEATURE_PREFER,
    FEATURE_RDS,
    Change,
    Desired,
    feature_order,
    is_enabling,
)
from vipctl.diff import render_diff
from vipctl.host_requests.citrix_prefer_loopback import prefer_loopback_request, prefer_loopback_writes
from vipctl.host_requests.rds_ip_virtualization import rds_policy_writes, rds_request
from vipctl.settings import parse_citrix_loopback_policy, parse_prefer_loopback, parse_rds_ip_virtualization

RDS_ON = parse_rds_ip_virtualization({"adapter": "192.0.2.0/24"})
LOOPBACK_ON = parse_citrix_loopback_policy({"programs": ["a.exe"]})
PREFER_ON = parse_prefer_loopback({"processes": ["a.exe"]})


def test_enabling_orders_rds_then_loopback_then_prefer() -> None:
    desired = Desired(rds=RDS_ON, loopback=LOOPBACK_ON, prefer=PREFER_ON)
    assert is_enabling(desired)
    assert feature_order(is_enabling(desired)) == (FEATURE_RDS, FEATURE_LOOPBACK, FEATURE_PREFER)


def test_disabling_reverses_so_prefer_loopback_goes_first() -> None:
    desired = Desired(
        rds=parse_rds_ip_virtualization({"state": "disabled"}),
        prefer=parse_prefer_loopback({"enabled": False}),
    )
    assert not is_enabling(desired)
    assert feature_order(is_enabling(desired))[0] == FEATURE_PREFER


def test_disabling_rds_by_policy_writes_only_enable_virtual_ip_zero() -> None:
    writes = rds_policy_writes(parse_rds_ip_virtualization({"state": "disabled"}))
    assert [(w.name, w.state, w.value) for w in writes] == [("EnableVirtualIP", "present", 0)]


def test_turning_prefer_loopback_off_removes_both_values() -> None:
    writes = prefer_loopback_writes(parse_prefer_loopback({"enabled": False}))
    assert [(w.name, w.state) for w in writes] == [
        ("PreferLoopback", "absent"),
        ("PreferLoopbackProcesses", "absent"),
    ]


def test_render_diff_lines() -> None:
    key = registry_map.PREFER_LOOPBACK_KEY
    changes = [
        Change(FEATURE_PREFER, key, "PreferLoopback", None, {"type": "REG_DWORD", "value": 1}),
        Change(
            FEATURE_PREFER, key, "PreferLoopbackProcesses", None, {"type": "REG_MULTI_SZ", "value": ["a.exe"]}
        ),
    ]
    assert render_diff(changes) == {
        "before": f"{key}\\PreferLoopback = (absent)\n{key}\\PreferLoopbackProcesses = (absent)\n",
        "after": f"{key}\\PreferLoopback = 1 (REG_DWORD)\n"
        f'{key}\\PreferLoopbackProcesses = ["a.exe"] (REG_MULTI_SZ)\n',
    }
    assert render_diff([]) is None


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
