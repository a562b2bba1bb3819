"""Desired-state parsing: good input becomes clean dataclasses, bad input a SettingsError naming the fix."""

from __future__ import annotations

from typing import Any

import pytest

from vipctl.settings import (
    DEFAULT_POLICY_NAME,
    SettingsError,
    parse_adapter_cidr,
    parse_citrix_loopback_policy,
    parse_exe_names,
    parse_mac,
    parse_prefer_loopback,
    parse_rds_ip_virtualization,
    parse_status_query,
)


def error_for(parse: Any, params: Any) -> SettingsError:
    with pytest.raises(SettingsError) as info:
        parse(params)
    return info.value


# ---- exe names -------------------------------------------------------------------------------


def test_exe_names_deduplicate_case_insensitively_keeping_first_spelling() -> None:
    assert parse_exe_names("programs", ["App.exe", "other.EXE", "APP.EXE", "app.exe"]) == [
        "App.exe",
        "other.EXE",
    ]


def test_exe_names_accept_a_comma_separated_string_like_ansible_lists() -> None:
    assert parse_exe_names("programs", "a.exe, b.exe") == ["a.exe", "b.exe"]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (r"C:\apps\app.exe", "not a path"),
        ("apps/app.exe", "not a path"),
        ("*.exe", "wildcards"),
        ("app?.exe", "wildcards"),
        ('"app.exe"', "quotes"),
        ("'app.exe'", "quotes"),
        ("app\t.exe", "control characters"),
        ("app\n.exe", "control characters"),
        ("", "empty"),
        ("   ", "empty"),
        ("a" * 252 + ".exe", "at most 255"),
        ("app", "ending in .exe"),
        ("app.com", "ending in .exe"),
        (".exe", "ending in .exe"),
        (" app.exe", "spaces"),
        ("a|b.exe", "cannot contain"),
        (7, "as a string"),
    ],
)
def test_exe_name_errors_name_the_field_value_and_reason(bad: object, why: str) -> None:
    err = error_for(lambda p: parse_exe_names("programs", p), ["ok.exe", bad])
    assert err.field == "programs[1]"
    assert err.value == bad
    assert why in str(err)
    assert "programs[1]" in str(err) and repr(bad) in str(err)


def test_exe_name_of_exactly_255_chars_is_fine() -> None:
    name = "a" * 251 + ".exe"
    assert parse_exe_names("programs", [name]) == [name]


def test_exe_names_must_be_a_list() -> None:
    assert "give a list" in str(error_for(lambda p: parse_exe_names("programs", p), {"a.exe": 1}))


# ---- CIDR and MAC ----------------------------------------------------------------------------


def test_cidr_keeps_the_adapter_address_and_prefix() -> None:
    assert parse_adapter_cidr("adapter", "192.0.2.96/24") == "192.0.2.96/24"
    assert parse_adapter_cidr("adapter", " 10.1.0.0/16 ") == "10.1.0.0/16"


@pytest.mark.parametrize(
    "bad", ["192.0.2.96", "192.0.2.300/24", "192.0.2.1/33", "2001:db8::/64", "0.0.0.0/0", 24]
)
def test_bad_cidr(bad: object) -> None:
    err = error_for(lambda p: parse_adapter_cidr("adapter", p), bad)
    assert err.field == "adapter"
    assert "CIDR" in str(err) or "prefix" in str(err)


@pytest.mark.parametrize(
    "spelling", ["00:15:5d:01:02:0a", "00-15-5D-01-02-0A", "00155d01020a", "0015.5d01.020a"]
)
def test_mac_is_normalised(spelling: str) -> None:
    assert parse_mac("adapter", spelling) == "00:15:5D:01:02:0A"


@pytest.mark.parametrize(
    "bad", ["00:15:5d:01:02", "00:15-5d:01:02:0a", "zz:15:5d:01:02:0a", "00-00-00-00-00-00", None]
)
def test_bad_mac(bad: object) -> None:
    assert error_for(lambda p: parse_mac("adapter", p), bad).field == "adapter"


# ---- RD IP Virtualization --------------------------------------------------------------------


def test_rds_defaults() -> None:
    rds = parse_rds_ip_virtualization({})
    assert (rds.state, rds.mode, rds.method, rds.winsock_fix, rds.install_role) == (
        "enabled",
        "per_session",
        "policy",
        "auto",
        False,
    )
    assert rds.adapter is None and rds.fallback_to_server_ip is None and rds.virtualize_loopback is None


def test_rds_none_values_mean_not_given_as_ansible_passes_them() -> None:
    assert parse_rds_ip_virtualization({"mode": None, "programs": None}) == parse_rds_ip_virtualization({})


def test_rds_full_policy_settings() -> None:
    rds = parse_rds_ip_virtualization(
        {
            "state": "enabled",
            "mode": "per_program",
            "programs": ["a.exe", "A.EXE", "b.exe"],
            "adapter": "192.0.2.10/24",
            "fallback_to_server_ip": "no",
            "virtualize_loopback": True,
            "winsock_fix": "skip",
            "install_role": "yes",
        }
    )
    assert rds.programs == ("a.exe", "b.exe")
    assert rds.adapter == "192.0.2.10/24"
    assert rds.fallback_to_server_ip is False
    assert rds.install_role is True and rds.virtualize_loopback is True and rds.winsock_fix == "skip"


def test_rds_wmi_adapter_is_a_normalised_mac() -> None:
    assert (
        parse_rds_ip_virtualization({"method": "wmi", "adapter": "aa:bb:cc:dd:ee:ff"}).adapter
        == "AA:BB:CC:DD:EE:FF"
    )


@pytest.mark.parametrize(
    ("params", "field", "fix"),
    [
        ({"state": "on"}, "state", "enabled, disabled"),
        ({"mode": "session"}, "mode", "per_session, per_program"),
        ({"method": "gpo"}, "method", "policy, wmi"),
        ({"winsock_fix": "yes"}, "winsock_fix", "auto, skip"),
        ({"install_role": "maybe"}, "install_role", "true or false"),
        ({"mode": "per_program"}, "programs", "needs at least one exe"),
        ({"mode": "per_program", "programs": []}, "programs", "needs at least one exe"),
        ({"programs": ["a.exe"]}, "programs", "only to mode per_program"),
        ({"adapter": "aa:bb:cc:dd:ee:ff"}, "adapter", "CIDR"),
        ({"method": "wmi", "adapter": "192.0.2.0/24"}, "adapter", "MAC"),
        ({"method": "wmi", "fallback_to_server_ip": True}, "fallback_to_server_ip", "only method policy"),
        ({"adaptor": "192.0.2.0/24"}, "adaptor", "valid options are adapter, fallback_to_server_ip"),
    ],
)
def test_rds_errors(params: dict[str, Any], field: str, fix: str) -> None:
    err = error_for(parse_rds_ip_virtualization, params)
    assert err.field == field
    assert fix in str(err)


def test_rds_disabling_per_program_without_programs_is_fine() -> None:
    assert parse_rds_ip_virtualization({"state": "disabled", "mode": "per_program"}).enabled is False


def test_rds_params_must_be_a_mapping() -> None:
    assert "mapping" in str(error_for(parse_rds_ip_virtualization, ["state"]))


# ---- Citrix loopback policy ------------------------------------------------------------------


def test_citrix_defaults() -> None:
    policy = parse_citrix_loopback_policy({"programs": ["app.exe"]})
    assert policy.location.policy_name == DEFAULT_POLICY_NAME == "vipctl virtual loopback"
    assert (policy.location.scope, policy.location.controller, policy.location.gpo) == (
        "site",
        "localhost",
        None,
    )
    assert (policy.state, policy.enabled, policy.priority, policy.filters) == ("present", True, None, None)


def test_citrix_full() -> None:
    policy = parse_citrix_loopback_policy(
        {
            "policy_name": "Loopback apps",
            "programs": ["a.exe", "A.exe"],
            "priority": "3",
            "description": "per-session loopback",
            "scope": "ad_gpo",
            "gpo": "Citrix VDA policy",
            "controller": "ddc01.example.com",
            "filters": [
                {"type": "DesktopGroup", "name": "dg", "value": "Finance"},
                {"type": "User", "name": "u", "value": "EXAMPLE\\Traders", "mode": "Deny", "enabled": False},
            ],
        }
    )
    assert policy.programs == ("a.exe",)
    assert policy.priority == 3
    assert policy.location.gpo == "Citrix VDA policy"
    assert policy.filters is not None and policy.filters[1].to_protocol() == {
        "type": "User",
        "name": "u",
        "value": "EXAMPLE\\Traders",
        "enabled": False,
        "mode": "Deny",
    }


def test_citrix_absent_needs_no_programs() -> None:
    assert parse_citrix_loopback_policy({"state": "absent"}).state == "absent"


@pytest.mark.parametrize(
    ("params", "field", "fix"),
    [
        ({}, "programs", "at least one exe"),
        ({"programs": ["a.exe"], "priority": 0}, "priority", "at least 1"),
        ({"programs": ["a.exe"], "priority": True}, "priority", "whole number"),
        ({"programs": ["a.exe"], "priority": "high"}, "priority", "whole number"),
        ({"programs": ["a.exe"], "scope": "ad_gpo"}, "gpo", "needs the name of the AD GPO"),
        ({"programs": ["a.exe"], "gpo": "x"}, "gpo", "only to scope ad_gpo"),
        ({"programs": ["a.exe"], "scope": "farm"}, "scope", "site, ad_gpo"),
        ({"programs": ["a.exe"], "state": "enabled"}, "state", "present, absent"),
        ({"programs": ["a.exe"], "policy_name": "a\\b"}, "policy_name", "remove the characters \\"),
        ({"programs": ["a.exe"], "policy_name": ""}, "policy_name", "non-empty"),
        ({"programs": ["a.exe"], "controller": "ddc 01"}, "controller", "host name"),
        ({"programs": ["a.exe"], "description": "a\nb"}, "description", "control characters"),
        (
            {"programs": ["a.exe"], "filters": [{"type": "Site", "name": "n", "value": "v"}]},
            "filters[0].type",
            "OU",
        ),
        (
            {"programs": ["a.exe"], "filters": [{"type": "OU", "value": "v"}]},
            "filters[0].name",
            "give the filter",
        ),
        (
            {"programs": ["a.exe"], "filters": [{"type": "OU", "name": "n"}]},
            "filters[0].value",
            "what the OU",
        ),
        (
            {"programs": ["a.exe"], "filters": [{"type": "OU", "name": "n", "value": "v", "mode": "allow"}]},
            "filters[0].mode",
            "Allow, Deny",
        ),
        (
            {"programs": ["a.exe"], "filters": [{"type": "OU", "name": "n", "value": "v", "negate": True}]},
            "filters[0].negate",
            "valid options are enabled, mode, name, type, value",
        ),
        (
            {"programs": ["a.exe"], "filters": [{"type": "OU", "name": "n", "value": "v"}] * 2},
            "filters",
            "unique",
        ),
        ({"programs": ["a.exe"], "filters": ["OU=x"]}, "filters[0]", "mapping"),
        ({"programs": ["C:\\x\\a.exe"]}, "programs[0]", "not a path"),
        ({"programs": ["a.exe"], "priorty": 2}, "priorty", "valid options are controller, description"),
    ],
)
def test_citrix_errors(params: dict[str, Any], field: str, fix: str) -> None:
    err = error_for(parse_citrix_loopback_policy, params)
    assert err.field == field
    assert fix in str(err)


# ---- PreferLoopback and status ---------------------------------------------------------------


def test_prefer_loopback() -> None:
    prefer = parse_prefer_loopback({"processes": ["a.exe", "A.EXE"], "force": "true"})
    assert (prefer.enabled, prefer.processes, prefer.force) == (True, ("a.exe",), True)
    assert parse_prefer_loopback({"enabled": False}).processes == ()


@pytest.mark.parametrize(
    ("params", "field", "fix"),
    [
        ({}, "processes", "at least one exe"),
        ({"processes": ["*"]}, "processes[0]", "wildcards"),
        ({"processes": ["a.exe"], "enabled": 2}, "enabled", "true or false"),
        (
            {"processes": ["a.exe"], "programs": ["b.exe"]},
            "programs",
            "valid options are enabled, force, processes",
        ),
    ],
)
def test_prefer_loopback_errors(params: dict[str, Any], field: str, fix: str) -> None:
    err = error_for(parse_prefer_loopback, params)
    assert err.field == field
    assert fix in str(err)


def test_status_query() -> None:
    assert parse_status_query({}).location.policy_name == DEFAULT_POLICY_NAME
    assert error_for(parse_status_query, {"programs": []}).field == "programs"
