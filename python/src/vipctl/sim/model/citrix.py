"""A Delivery Controller's Citrix policy store and what a VDA caches from it.

The store is what docs/windows-facts.md#the-citrix-group-policy-provider describes.

The Citrix Group Policy provider shows each policy as up to two items, `<drive>:\\Computer\\<name>`
and `<drive>:\\User\\<name>`, which exist independently; each half has its own Enabled, Priority,
Description, settings and filters (docs/windows-facts.md#citrix-policies-have-two-independent-halves).
Priority 1 is the highest, numbered per half; `Unfiltered` always ranks last and is not numbered.
Assumptions (UNCONFIRMED, kept here): AD GPO policies override site policies; only DesktopGroup
filters restrict a VDA's machine-level result; the VDA cache value names are those in
`registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT` and
`registry_map.CITRIX_APPLIED_LOOPBACK_PROGRAMS`; which half holds each setting (`SETTING_HALF`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from vipctl import registry_map
from vipctl.sim.model.errors import BadArgument, NotFound
from vipctl.sim.model.registry import Registry
from vipctl.sim.model.regvalue import RegValue

SCOPES = ("site", "ad_gpo")
UNFILTERED = "Unfiltered"
HALVES = ("Computer", "User")
# The half that holds each setting the simulated provider knows (Find-CitrixSettingCategory fails
# on anything else). The virtual loopback settings are Computer settings as Citrix's lookup helper
# reads them; which half Studio uses for them is UNCONFIRMED
# (docs/windows-facts.md#which-half-holds-the-virtual-loopback-settings), and the executor looks
# the half up at run time, so it does not depend on this table.
SETTING_HALF = {
    registry_map.CITRIX_SETTING_LOOPBACK_SUPPORT: "Computer",
    registry_map.CITRIX_SETTING_LOOPBACK_PROGRAMS: "Computer",
    "VirtualIPLoopbackSupport": "Computer",
    "VirtualIPLoopbackPrograms": "Computer",
    "ClientDriveRedirection": "User",
    "ClipboardRedirection": "User",
    "ClientPrinterRedirection": "User",
}
KNOWN_SETTINGS = frozenset(SETTING_HALF)
# Filter types that exist only under the User half; every other type exists under both halves
# and must be the same in both (docs/windows-facts.md#citrix-policy-filters-live-per-half).
USER_ONLY_FILTERS = frozenset({"AccessControl", "BranchRepeater", "ClientIP", "ClientName", "User"})
STATES = ("Enabled", "Disabled", "Allowed", "Prohibited", "NotConfigured", "UseDefault")
FILTER_MODES = ("Allow", "Deny")
FILTER_FIELDS = ("value", "enabled", "mode")


def filter_halves(filter_type: str) -> tuple[str, ...]:
    return ("User",) if filter_type in USER_ONLY_FILTERS else HALVES


@dataclass
class PolicyHalf:
    """`<drive>:\\<half>\\<name>`: a policy created through the provider starts disabled
    (docs/windows-facts.md#a-new-citrix-policy-starts-disabled)."""

    enabled: bool = False
    priority: int = 1
    description: str = ""
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: list[dict[str, Any]] = field(default_factory=list)

    def configured(self) -> dict[str, dict[str, Any]]:
        """Settings as the executor reads them: NotConfigured ones are not listed."""
        return {
            name: copy.deepcopy(value)
            for name, value in self.settings.items()
            if value.get("State", "NotConfigured") != "NotConfigured"
        }

    def provider_values(self, setting: str) -> list[str]:
        """`.Values` as the provider shows it: an empty list reads back as one empty string
        (docs/windows-facts.md#empty-citrix-values-read-as-one-empty-string)."""
        values = list(self.settings.get(setting, {}).get("Values", []))
        return values or [""]

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "priority": self.priority,
            "description": self.description,
            "filters": copy.deepcopy(self.filters),
        }


@dataclass
class CitrixPolicy:
    name: str
    halves: dict[str, PolicyHalf] = field(default_factory=dict)  # only the halves that exist

    def settings(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for half in HALVES:
            if half in self.halves:
                merged.update(self.halves[half].configured())
        return {name: merged[name] for name in sorted(merged)}

    def to_json(self) -> dict[str, Any]:
        """The executor's view (Read-CitrixPolicy): settings of both halves, then each half."""
        return {
            "name": self.name,
            "settings": self.settings(),
            "halves": {h: (self.halves[h].to_json() if h in self.halves else None) for h in HALVES},
        }

    @classmethod
    def from_json(cls, name: str, spec: dict[str, Any]) -> CitrixPolicy:
        """A policy as it already stands (farm files, vectors, backups).

        Either the executor's view (`halves`), or the `policy` form of citrix_policy_set, whose
        fields go to the halves its settings and filters need (Computer when they need none)."""
        if "halves" in spec:
            return cls._from_halves(name, spec)
        checked = validate_spec(spec)
        wanted = _needed_halves(checked, [])
        policy = cls(name)
        for half in wanted or ["Computer"]:
            policy.halves[half] = PolicyHalf(
                enabled=checked.get("enabled", True),
                priority=checked.get("priority", 1),
                description=checked.get("description", ""),
            )
        for setting, value in checked.get("settings", {}).items():
            policy.halves[SETTING_HALF[setting]].settings[setting] = copy.deepcopy(value)
        for item in checked.get("filters", []):
            for half in filter_halves(item["type"]):
                if half in policy.halves:
                    policy.halves[half].filters.append(_full_filter(item))
        return policy

    @classmethod
    def _from_halves(cls, name: str, spec: dict[str, Any]) -> CitrixPolicy:
        halves = spec.get("halves")
        settings = spec.get("settings", {})
        if not isinstance(halves, dict) or not isinstance(settings, dict):
            raise BadArgument("policy.halves and policy.settings must be objects")
        policy = cls(name)
        for half in HALVES:
            raw = halves.get(half)
            if raw is None:
                continue
            checked = validate_spec({k: v for k, v in raw.items()})
            policy.halves[half] = PolicyHalf(
                enabled=checked.get("enabled", False),
                priority=checked.get("priority", 1),
                description=checked.get("description", ""),
                filters=[_full_filter(f) for f in checked.get("filters", [])],
            )
        for setting, value in validate_spec({"settings": settings}).get("settings", {}).items():
            half = SETTING_HALF[setting]
            if half not in policy.halves:
                raise BadArgument(
                    f"setting {setting} belongs to the {half} half, which the backup does not hold"
                )
            policy.halves[half].settings[setting] = copy.deepcopy(value)
        if not policy.halves:
            raise BadArgument(f"policy {name} has neither a Computer nor a User half")
        return policy


def _full_filter(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": item["type"], "name": item["name"], "value": "", "enabled": True, "mode": "Allow", **item}


def _find_filter(filters: list[dict[str, Any]], wanted: dict[str, Any]) -> dict[str, Any] | None:
    return next((f for f in filters if f["type"] == wanted["type"] and f["name"] == wanted["name"]), None)


def _needed_halves(spec: dict[str, Any], existing: list[str]) -> list[str]:
    """The halves a policy must have: those it has, those its settings live in, and the User half
    for a user-only filter; both-halves filters go to whichever halves there are."""
    needed = set(existing)
    for setting in spec.get("settings", {}):
        if setting not in KNOWN_SETTINGS:
            raise NotFound(f"Citrix policy setting not found: {setting}")
        needed.add(SETTING_HALF[setting])
    for item in spec.get("filters", []):
        if item["type"] in USER_ONLY_FILTERS:
            needed.add("User")
    return [h for h in HALVES if h in needed]


def validate_spec(spec: object) -> dict[str, Any]:
    """The `policy` argument of citrix_policy_set, checked field by field."""
    if not isinstance(spec, dict):
        raise BadArgument("policy must be an object")
    unknown = sorted(set(spec) - {"enabled", "priority", "description", "settings", "filters"})
    if unknown:
        raise BadArgument(f"policy has unknown fields {unknown}")
    if "enabled" in spec and not isinstance(spec["enabled"], bool):
        raise BadArgument("policy.enabled must be true or false")
    priority = spec.get("priority", 1)
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 1:
        raise BadArgument("policy.priority must be an integer >= 1")
    if "description" in spec and not isinstance(spec["description"], str):
        raise BadArgument("policy.description must be a string")
    settings = spec.get("settings", {})
    if not isinstance(settings, dict):
        raise BadArgument("policy.settings must be an object")
    for name, setting in settings.items():
        if not isinstance(setting, dict) or setting.get("State") not in STATES:
            raise BadArgument(f"policy.settings.{name}.State must be one of {', '.join(STATES)}")
        extra = sorted(set(setting) - {"State", "Values", "Value"})
        if extra:
            raise BadArgument(f"policy.settings.{name} has unknown fields {extra}")
        values = setting.get("Values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadArgument(f"policy.settings.{name}.Values must be a list of strings")
        if "Value" in setting and not isinstance(setting["Value"], str):
            raise BadArgument(f"policy.settings.{name}.Value must be a string")
    filters = spec.get("filters", [])
    if not isinstance(filters, list):
        raise BadArgument("policy.filters must be a list")
    for i, item in enumerate(filters):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("type"), str)
            or not isinstance(item.get("name"), str)
        ):
            raise BadArgument(f"policy.filters[{i}] must be an object with string 'type' and 'name'")
        extra = sorted(set(item) - {"type", "name", *FILTER_FIELDS})
        if extra:
            raise BadArgument(f"policy.filters[{i}] has unknown fields {extra}")
        if "mode" in item and item["mode"] not in FILTER_MODES:
            raise BadArgument(f"policy.filters[{i}].mode must be Allow or Deny")
        if "enabled" in item and not isinstance(item["enabled"], bool):
            raise BadArgument(f"policy.filters[{i}].enabled must be true or false")
        if "value" in item and not isinstance(item["value"], str):
            raise BadArgument(f"policy.filters[{i}].value must be a string")
    return spec


class PolicyBucket(dict[str, CitrixPolicy]):
    """The policies of one drive (the site, or one AD GPO), by lower-cased name."""

    def ranked(self, half: str) -> list[CitrixPolicy]:
        """The numbered policies that have `half`, highest priority first (Unfiltered is not numbered)."""
        return sorted(
            (p for p in self.values() if half in p.halves and p.name != UNFILTERED),
            key=lambda p: p.halves[half].priority,
        )

    def add_half(self, policy: CitrixPolicy, half: str) -> PolicyHalf:
        """New-Item: the half starts disabled and last in its half's order."""
        created = PolicyHalf(priority=len(self.ranked(half)) + 1)
        policy.halves[half] = created
        return created

    def set_priority(self, policy: CitrixPolicy, half: str, wanted: int) -> None:
        """Setting Priority moves the policy and renumbers the others 1..n; the value is clamped
        to n (docs/windows-facts.md#citrix-policy-priority-renumbers-and-clamps)."""
        others = [p for p in self.ranked(half) if p is not policy]
        position = min(max(wanted, 1), len(others) + 1)
        others.insert(position - 1, policy)
        for rank, each in enumerate(others, start=1):
            each.halves[half].priority = rank

    def remove(self, name: str) -> None:
        policy = self.pop(name.lower(), None)
        if policy is None:
            return
        for half in policy.halves:  # the others close the gap
            for rank, each in enumerate(self.ranked(half), start=1):
                each.halves[half].priority = rank


def converge(bucket: PolicyBucket, name: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Bring policy `name` to `spec` (the `policy` form), as the executor's Set-CitrixPolicy does;
    the changes, in its order: the policy, then per half its presence, Enabled, Priority,
    Description and filters, then the settings."""
    checked = validate_spec(spec)
    changes: list[dict[str, Any]] = []

    def add(field_name: str, before: Any, after: Any) -> bool:
        if json_equal(before, after):
            return False
        changes.append({"field": field_name, "before": before, "after": after})
        return True

    policy = bucket.get(name.lower())
    if policy is None:
        add("policy", "absent", "present")
        policy = CitrixPolicy(name)
        bucket[name.lower()] = policy
    existed = list(policy.halves)
    for half in _needed_halves(checked, existed) or ["Computer"]:
        fresh = half not in policy.halves
        inherited: list[dict[str, Any]] = []
        if fresh:
            if existed:
                add(half, "absent", "present")
                # Both-halves filters of the half that exists come along, so the halves agree.
                inherited = [
                    copy.deepcopy(f)
                    for f in policy.halves[existed[0]].filters
                    if f["type"] not in USER_ONLY_FILTERS
                ]
            bucket.add_half(policy, half)
        state = policy.halves[half]
        if "enabled" in checked and add(
            f"{half}.enabled", None if fresh else state.enabled, checked["enabled"]
        ):
            state.enabled = checked["enabled"]
        if "priority" in checked:
            target = min(checked["priority"], len(bucket.ranked(half)))
            if add(f"{half}.priority", None if fresh else state.priority, target):
                bucket.set_priority(policy, half, target)
        if "description" in checked and add(
            f"{half}.description", None if fresh else state.description, checked["description"]
        ):
            state.description = checked["description"]
        wanted_filters = inherited + [
            f for f in checked.get("filters", []) if half in filter_halves(f["type"])
        ]
        for wanted in wanted_filters:
            current = _find_filter(state.filters, wanted)
            old = current or {}
            if current is None:
                current = {
                    "type": wanted["type"],
                    "name": wanted["name"],
                    "value": "",
                    "enabled": True,
                    "mode": "Allow",
                }
                state.filters.append(current)
            for fld in FILTER_FIELDS:
                if fld in wanted and add(
                    f"filters.{half}.{wanted['type']}.{wanted['name']}.{fld}", old.get(fld), wanted[fld]
                ):
                    current[fld] = wanted[fld]
    for setting, wanted_setting in checked.get("settings", {}).items():
        half_state = policy.halves[SETTING_HALF[setting]]
        node = half_state.settings
        before = half_state.configured().get(setting, {})  # the executor reads configured ones only
        for fld in ("State", "Values", "Value"):
            if fld not in wanted_setting:
                continue
            previous = before.get(fld, "NotConfigured" if fld == "State" else None)
            if add(f"settings.{setting}.{fld}", previous, wanted_setting[fld]):
                node.setdefault(setting, {"State": "NotConfigured"})[fld] = copy.deepcopy(wanted_setting[fld])
    return changes


class CitrixPolicyStore:
    """The policies a Delivery Controller holds: the site's, and those of the domain's GPOs."""

    def __init__(self, domain_gpos: list[str] | None = None) -> None:
        self.site = PolicyBucket()
        self.site[UNFILTERED.lower()] = CitrixPolicy(
            UNFILTERED, {h: PolicyHalf(enabled=True) for h in HALVES}
        )
        # A GPO is not created by editing it: only the domain's GPOs can be opened.
        self.gpos: dict[str, tuple[str, PolicyBucket]] = {
            gpo.lower(): (gpo, PolicyBucket()) for gpo in domain_gpos or []
        }

    def add_gpo(self, gpo: str) -> None:
        self.gpos.setdefault(gpo.lower(), (gpo, PolicyBucket()))

    def bucket(self, scope: object, gpo: object) -> PolicyBucket:
        """The drive New-PSDrive opens; NotFound for a GPO the domain does not have."""
        if scope not in SCOPES:
            raise BadArgument(f"scope must be 'site' or 'ad_gpo', got {scope!r}")
        if scope == "site":
            return self.site
        if not isinstance(gpo, str) or not gpo:
            raise BadArgument("scope 'ad_gpo' needs the gpo name")
        if gpo.lower() not in self.gpos:
            raise NotFound(f"AD GPO not found: {gpo} (nothing was created)")
        return self.gpos[gpo.lower()][1]

    def get(self, scope: object, gpo: object, name: str) -> CitrixPolicy | None:
        return self.bucket(scope, gpo).get(name.lower())

    def put(self, scope: object, gpo: object, name: str, policy: CitrixPolicy | None) -> None:
        """Remove `name`, then (when given) add `policy` with each half's saved priority."""
        bucket = self.bucket(scope, gpo)
        bucket.remove(name)
        if policy is None:
            return
        saved = {half: state.priority for half, state in policy.halves.items()}
        bucket[name.lower()] = policy
        for half, priority in saved.items():
            bucket.set_priority(policy, half, priority)

    def plan_set(
        self, scope: object, gpo: object, name: str, state: object, spec: object
    ) -> list[dict[str, Any]]:
        """The changes citrix_policy_set reports, computed on a copy of the drive."""
        if state not in ("present", "absent"):
            raise BadArgument(f"argument 'state' must be present or absent, got {state!r}")
        bucket = self.bucket(scope, gpo)
        if state == "absent":
            present = name.lower() in bucket
            return [{"field": "policy", "before": "present", "after": "absent"}] if present else []
        if spec is None:
            raise BadArgument("argument 'policy' must be an object")
        return converge(copy.deepcopy(bucket), name, validate_spec(spec))

    def apply_set(
        self, scope: object, gpo: object, name: str, state: str, spec: dict[str, Any] | None
    ) -> None:
        bucket = self.bucket(scope, gpo)
        if state == "absent":
            bucket.remove(name)
            return
        converge(bucket, name, spec or {})

    def resultant(self, delivery_group: str | None) -> dict[str, dict[str, Any]]:
        """The settings a VDA in `delivery_group` ends up with, each half ranked on its own."""
        result: dict[str, dict[str, Any]] = {}
        # Site first, then GPOs, each later layer overriding: AD policies win over site ones.
        layers = [self.site, *(bucket for _name, bucket in self.gpos.values())]
        for layer in layers:
            layer_result: dict[str, dict[str, Any]] = {}
            for half in HALVES:
                ranked = sorted(
                    (
                        p
                        for p in layer.values()
                        if half in p.halves
                        and p.halves[half].enabled
                        and _applies(p.halves[half].filters, delivery_group)
                    ),
                    key=lambda p: (p.name == UNFILTERED, p.halves[half].priority),
                )
                for policy in ranked:
                    for setting, value in policy.halves[half].configured().items():
                        if setting not in layer_result and value.get("State") != "UseDefault":
                            layer_result[setting] = value
            result.update(layer_result)
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            "site": {p.name: {**p.to_json(), "nodes": _nodes(p)} for p in self.site.values()},
            "gpos": {gname: {p.name: p.to_json() for p in b.values()} for gname, b in self.gpos.values()},
        }


def _nodes(policy: CitrixPolicy) -> dict[str, Any]:
    """The provider's layout, for snapshots: each half's item, settings as the provider shows them."""
    out: dict[str, Any] = {}
    for half, state in policy.halves.items():
        settings = copy.deepcopy(state.settings)
        for name, value in settings.items():
            if "Values" in value:
                value["Values"] = state.provider_values(name)
        out[half] = {
            "Enabled": state.enabled,
            "Priority": state.priority,
            "Description": state.description,
            "Settings": settings,
            "Filters": copy.deepcopy(state.filters),
        }
    return out


def json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: true is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def _applies(filters: list[dict[str, Any]], delivery_group: str | None) -> bool:
    groups = [f for f in filters if f["enabled"] and f["type"] == "DesktopGroup"]
    if any(f["mode"] == "Deny" and f["value"] == delivery_group for f in groups):
        return False
    allows = [f for f in groups if f["mode"] == "Allow"]
    return not allows or any(f["value"] == delivery_group for f in allows)


def cache_on_vda(registry: Registry, resultant: dict[str, dict[str, Any]]) -> None:
    """Write what a VDA keeps after a policy refresh (value names UNCONFIRMED, from registry_map)."""
    support = resultant.get(registry_map.CITRIX_SETTING_LOOPBACK_SUPPORT)
    programs = resultant.get(registry_map.CITRIX_SETTING_LOOPBACK_PROGRAMS)
    key = registry_map.CITRIX_APPLIED_VIP_KEY
    support_value = registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name
    programs_value = registry_map.CITRIX_APPLIED_LOOPBACK_PROGRAMS.name
    if support is None:
        registry.delete_value(key, support_value)
    else:
        registry.set_value(
            key, support_value, RegValue("REG_DWORD", 1 if support["State"] == "Enabled" else 0)
        )
    if programs is None or programs["State"] != "Enabled":
        registry.delete_value(key, programs_value)
    else:
        registry.set_value(key, programs_value, RegValue("REG_MULTI_SZ", tuple(programs.get("Values", []))))
