"""The desired-state file: the roles' schema and defaults, validated before any host is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipctl.desired_state import DesiredStateError, load_desired_state, parse_desired_state, problem_of


def test_present_keys_are_passed_as_given_and_absent_ones_are_unmanaged() -> None:
    state = parse_desired_state(
        {"vipctl_rds_ip_virtualization": {"mode": "per_program", "programs": ["a.exe"]}}
    )
    # No role default is merged in: an option left out takes the module's documented default.
    assert state.rds_ip_virtualization == {"mode": "per_program", "programs": ["a.exe"]}
    assert state.prefer_loopback is None and state.verify_params() is None


def test_problem_of_a_hosts_variables_speaks_like_the_cli() -> None:
    assert "is not set" in problem_of({}, ["vipctl_rds_ip_virtualization"])
    assert "-e @inventory/sim-desired-state.yml" in problem_of({}, ["vipctl_rds_ip_virtualization"])
    typo = problem_of({"vipctl_rds_ip_virtualisation": {}, "vipctl_status": {"registered": True}})
    assert "unknown key(s) vipctl_rds_ip_virtualisation" in typo and "vipctl_status" not in typo
    assert problem_of({"vipctl_rds_ip_virtualization": {"mode": "per_program", "programs": ["a.exe"]}}) == ""


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
