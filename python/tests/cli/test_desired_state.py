"""The desired-state file: the roles' schema and defaults, validated before any host is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vipctl.desired_state import ROLE_DEFAULTS, DesiredStateError, load_desired_state, parse_desired_state

ROLES = Path(__file__).resolve().parents[3] / "roles"


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("vipctl_rds_ip_virtualization", "rds_ip_virtualization"),
        ("vipctl_citrix_virtual_loopback", "citrix_virtual_loopback"),
        ("vipctl_prefer_loopback", "citrix_prefer_loopback"),
        ("vipctl_verify", "vip_verify"),
    ],
)
def test_defaults_match_the_roles(key: str, role: str) -> None:
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert ROLE_DEFAULTS[key] == defaults[key]


def test_present_keys_merge_over_role_defaults_and_absent_ones_are_unmanaged() -> None:
    state = parse_desired_state(
        {"vipctl_rds_ip_virtualization": {"mode": "per_program", "programs": ["a.exe"]}}
    )
    assert state.rds_ip_virtualization is not None
    assert state.rds_ip_virtualization["state"] == "enabled"
    assert state.rds_ip_virtualization["programs"] == ["a.exe"]
    assert state.prefer_loopback is None and state.verify_params() is None


def test_bad_values_are_refused_with_the_field_named() -> None:
    with pytest.raises(DesiredStateError, match=r"vipctl_prefer_loopback\.processes"):
        parse_desired_state({"vipctl_prefer_loopback": {"enabled": True, "processes": ["C:\\x\\app.exe"]}})
    with pytest.raises(DesiredStateError, match="unknown key"):
        parse_desired_state({"vipctl_rds": {}})
    with pytest.raises(DesiredStateError, match="vipctl_verify"):
        parse_desired_state({"vipctl_verify": {"programs": ["crm"], "feature": "nope"}})


def test_the_shipped_sim_desired_state_loads_and_playbook_only_keys_are_accepted() -> None:
    repo = Path(__file__).resolve().parents[3]
    state = load_desired_state(repo / "inventory" / "sim-desired-state.yml")
    assert state.citrix_virtual_loopback is not None
    assert state.citrix_virtual_loopback["programs"] == ["crmclient.exe"]
    assert state.verify is not None and "softphone.exe" in state.verify["programs"]
