"""`vipctl apply` follows vipctl.changes.feature_order: PreferLoopback last when enabling, first when not."""

from __future__ import annotations

from vipctl.cli.commands.apply import apply_plan, controllers_first
from vipctl.cli.targets import Target
from vipctl.desired_state import parse_desired_state
from vipctl.transport import ConnectionSettings

VDA = Target("vda01", ("rdsh", "citrix_vdas"), ConnectionSettings(host="127.0.0.1"))
DDC = Target("ddc01", ("citrix_controllers",), ConnectionSettings(host="127.0.0.1"))


def modules(desired: dict[str, object], target: Target) -> list[str]:
    return [step.module for step in apply_plan(parse_desired_state(desired))(target)]


def test_enabling_writes_prefer_loopback_last_and_controllers_first() -> None:
    desired = {
        "vipctl_rds_ip_virtualization": {"state": "enabled", "adapter": "10.0.0.0/24"},
        "vipctl_citrix_virtual_loopback": {"programs": ["crm.exe"]},
        "vipctl_prefer_loopback": {"enabled": True, "processes": ["crm.exe"]},
    }
    assert modules(desired, VDA) == ["rds_ip_virtualization", "citrix_prefer_loopback"]
    assert modules(desired, DDC) == ["citrix_virtual_loopback"]
    assert controllers_first(parse_desired_state(desired)) is True


def test_turning_off_removes_prefer_loopback_first_and_controllers_last() -> None:
    desired = {
        "vipctl_rds_ip_virtualization": {"state": "disabled"},
        "vipctl_citrix_virtual_loopback": {"state": "absent"},
        "vipctl_prefer_loopback": {"enabled": False},
    }
    assert modules(desired, VDA) == ["citrix_prefer_loopback", "rds_ip_virtualization"]
    assert controllers_first(parse_desired_state(desired)) is False
