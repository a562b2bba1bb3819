"""Desired state of the Citrix virtual loopback policy (set on a Delivery Controller)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from vipctl.settings.errors import SettingsError
from vipctl.settings.fields import (
    as_mapping,
    get_bool,
    get_choice,
    get_int,
    get_list,
    get_name,
    get_text,
    reject_unknown_keys,
)
from vipctl.settings.names import parse_exe_names

DEFAULT_POLICY_NAME: Final = "vipctl virtual loopback"
STATES: Final = ("present", "absent")
SCOPES: Final = ("site", "ad_gpo")
FILTER_MODES: Final = ("Allow", "Deny")
# Folder names under <drive>:\Computer\<Policy>\Filters of the CitrixGroupPolicy provider.
FILTER_TYPES: Final = (
    "AccessControl",
    "BranchRepeater",
    "ClientIP",
    "ClientName",
    "ClientPlatform",
    "DeliveryGroupType",
    "DesktopGroup",
    "DesktopKind",
    "DesktopTag",
    "OU",
    "Tag",
    "User",
)
# Policy and filter names become leaf names in a provider path, so path characters would misaddress.
_NAME_FORBIDDEN: Final = '\\/:*?"<>|'
_HOSTNAME: Final = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
OPTIONS: Final = (
    "policy_name",
    "state",
    "enabled",
    "programs",
    "priority",
    "description",
    "scope",
    "gpo",
    "controller",
    "filters",
)
FILTER_OPTIONS: Final = ("type", "name", "value", "enabled", "mode")


@dataclass(frozen=True)
class PolicyFilter:
    type: str
    name: str
    value: str
    enabled: bool = True
    mode: str = "Allow"

    def to_protocol(self) -> dict[str, object]:
        return {
            "type": self.type,
            "name": self.name,
            "value": self.value,
            "enabled": self.enabled,
            "mode": self.mode,
        }


@dataclass(frozen=True)
class PolicyLocation:
    """Where the policy lives: the site database via a controller, or an AD GPO."""

    policy_name: str = DEFAULT_POLICY_NAME
    scope: str = "site"
    gpo: str | None = None
    controller: str = "localhost"

    def to_protocol(self) -> dict[str, object]:
        address: dict[str, object] = {
            "name": self.policy_name,
            "scope": self.scope,
            "controller": self.controller,
        }
        if self.gpo is not None:
            address["gpo"] = self.gpo
        return address


@dataclass(frozen=True)
class CitrixLoopbackPolicy:
    """None for priority, description or filters means "leave as is" (provider default when created)."""

    location: PolicyLocation = field(default_factory=PolicyLocation)
    state: str = "present"
    enabled: bool = True
    programs: tuple[str, ...] = ()
    priority: int | None = None
    description: str | None = None
    filters: tuple[PolicyFilter, ...] | None = None


def parse_node_name(field: str, value: object, default: str | None) -> str | None:
    """A policy or filter name: it becomes one node name in a provider path, so it must be one
    plain segment (PowerShell resolves '.' and '..' in provider paths, and Windows-style names
    with leading or trailing spaces or dots are spelled more than one way)."""
    name = get_name(field, value, default=default, forbidden=_NAME_FORBIDDEN)
    if name is None:
        return None
    if name in (".", ".."):
        raise SettingsError(field, value, "give a real name: '.' and '..' would address another policy node")
    if name != name.strip(". "):
        raise SettingsError(field, value, "remove the leading or trailing dots and spaces")
    return name


def parse_controller(value: object) -> str:
    controller = get_name("controller", value, default="localhost")
    if not _HOSTNAME.fullmatch(controller):
        raise SettingsError(
            "controller", value, "give the Delivery Controller's host name or FQDN, e.g. ddc01.example.com"
        )
    return controller


def parse_location(params: Mapping[str, object]) -> PolicyLocation:
    scope = get_choice("scope", params.get("scope"), SCOPES, "site")
    gpo = get_name("gpo", params.get("gpo"), default=None, forbidden='"')
    if scope == "ad_gpo" and gpo is None:
        raise SettingsError("gpo", None, "scope ad_gpo needs the name of the AD GPO that holds the policy")
    if scope == "site" and gpo is not None:
        raise SettingsError("gpo", gpo, "gpo applies only to scope ad_gpo: set scope: ad_gpo, or remove gpo")
    return PolicyLocation(
        policy_name=parse_node_name("policy_name", params.get("policy_name"), DEFAULT_POLICY_NAME)
        or DEFAULT_POLICY_NAME,
        scope=scope,
        gpo=gpo,
        controller=parse_controller(params.get("controller")),
    )


def parse_filter(field: str, value: object) -> PolicyFilter:
    item = as_mapping(field, value)
    reject_unknown_keys(field, item, FILTER_OPTIONS)
    filter_type = get_choice(f"{field}.type", item.get("type"), FILTER_TYPES, None)
    if filter_type is None:
        raise SettingsError(f"{field}.type", None, f"give a filter type: one of {', '.join(FILTER_TYPES)}")
    name = parse_node_name(f"{field}.name", item.get("name"), None)
    if name is None:
        raise SettingsError(
            f"{field}.name", None, "give the filter a name (it is the filter's node in the policy)"
        )
    filter_value = get_text(f"{field}.value", item.get("value"), default=None, max_length=1024)
    if filter_value is None or not filter_value.strip():
        raise SettingsError(
            f"{field}.value", item.get("value"), f"give what the {filter_type} filter matches"
        )
    return PolicyFilter(
        type=filter_type,
        name=name,
        value=filter_value,
        enabled=get_bool(f"{field}.enabled", item.get("enabled"), True),
        mode=get_choice(f"{field}.mode", item.get("mode"), FILTER_MODES, "Allow"),
    )


def parse_citrix_loopback_policy(params: Mapping[str, object]) -> CitrixLoopbackPolicy:
    params = as_mapping("citrix_virtual_loopback", params)
    reject_unknown_keys("", params, OPTIONS)
    state = get_choice("state", params.get("state"), STATES, "present")
    programs = parse_exe_names("programs", params.get("programs"))
    if state == "present" and not programs:
        raise SettingsError(
            "programs",
            params.get("programs"),
            "virtual loopback applies only to listed programs: list at least one exe",
        )
    raw_filters = get_list("filters", params.get("filters"))
    filters: tuple[PolicyFilter, ...] | None = None
    if raw_filters is not None:
        filters = tuple(parse_filter(f"filters[{i}]", item) for i, item in enumerate(raw_filters))
        keys = [(f.type, f.name.lower()) for f in filters]
        if len(set(keys)) != len(keys):
            raise SettingsError(
                "filters", params.get("filters"), "give each filter a name unique within its type"
            )
    return CitrixLoopbackPolicy(
        location=parse_location(params),
        state=state,
        enabled=get_bool("enabled", params.get("enabled"), True),
        programs=tuple(programs),
        priority=get_int("priority", params.get("priority"), minimum=1, default=None),
        description=get_text("description", params.get("description"), default=None, max_length=1024),
        filters=filters,
    )
