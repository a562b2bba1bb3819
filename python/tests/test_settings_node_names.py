"""Citrix policy and filter names are provider path segments: anything that is not one plain
segment is refused in the settings layer, before any host is contacted."""

from __future__ import annotations

import pytest

from vipctl.settings import SettingsError, parse_citrix_loopback_policy

HOSTILE_NAMES = [
    ".",
    "..",
    "...",
    "..\\..",
    "a\\b",
    "a/b",
    "/",
    "\\",
    "*",
    "VIP*",
    "VIP?",
    "?",
    " VIP",
    "VIP ",
    ".VIP",
    "VIP.",
    "VIP. ",
    " . ",
    "VIP\tloopback",
    "VIP\nloopback",
]


def params(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"programs": ["crmclient.exe"]}
    base.update(overrides)
    return base


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_policy_names_are_refused(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_citrix_loopback_policy(params(policy_name=name))
    assert caught.value.field == "policy_name"


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_filter_names_are_refused(name: str) -> None:
    item = {"type": "DesktopGroup", "name": name, "value": "Office"}
    with pytest.raises(SettingsError) as caught:
        parse_citrix_loopback_policy(params(filters=[item]))
    assert caught.value.field == "filters[0].name"


@pytest.mark.parametrize("name", ["VIP loopback", "v1.2 policy", "[CRM] loopback", "a..b", "Ünïcode"])
def test_plain_names_are_kept(name: str) -> None:
    policy = parse_citrix_loopback_policy(
        params(policy_name=name, filters=[{"type": "User", "name": name, "value": "DOMAIN\\crm"}])
    )
    assert policy.location.policy_name == name
    assert policy.filters is not None and policy.filters[0].name == name
