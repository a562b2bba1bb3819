"""A Delivery Controller's Citrix policy store and what a VDA caches from it.

The store is what docs/windows-facts.md#the-citrix-group-policy-provider describes.

A Studio policy is two provider nodes, Computer and User, with one name, priority and enabled
flag; the executor's view merges their settings. Priority 1 is the highest; `Unfiltered` always
ranks last. Assumptions (UNCONFIRMED, kept here): AD GPO policies override site policies; only
DesktopGroup filters restrict a VDA's machine-level result; the VDA cache value names are those in
`registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT` and
`registry_map.CITRIX_APPLIED_LOOPBACK_PROGRAMS`."""

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
# Settings the provider keeps on the User node; everything else (the VIP settings included) is Computer.
USER_SETTINGS = frozenset({"ClientDriveRedirection", "ClipboardRedirection", "ClientPrinterRedirection"})
# Settings the simulated provider knows (Find-CitrixSettingCategory fails on anything else).
KNOWN_SETTINGS = (
    frozenset(
        {
            registry_map.CITRIX_SETTING_LOOPBACK_SUPPORT,
            registry_map.CITRIX_SETTING_LOOPBACK_PROGRAMS,
            "VirtualIPLoopbackSupport",
            "VirtualIPLoopbackPrograms",
        }
    )
    | USER_SETTINGS
)
STATES = ("Enabled", "Disabled", "Allowed", "Prohibited", "NotConfigured", "UseDefault")
FILTER_MODES = ("Allow", "Deny")


@dataclass
class CitrixPolicy:
    name: str
    enabled: bool = True
    priority: int = 1
    description: str = ""
    computer_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: list[dict[str, Any]] = field(default_factory=list)

    def settings(self) -> dict[str, dict[str, Any]]:
        """Configured settings of both nodes (the provider does not list NotConfigured ones)."""
        merged = {**self.computer_settings, **self.user_settings}
        return {
            name: copy.deepcopy(merged[name])
            for name in sorted(merged)
            if merged[name].get("State", "NotConfigured") != "NotConfigured"
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "priority": self.priority,
            "description": self.description,
            "settings": self.settings(),
            "filters": copy.deepcopy(self.filters),
        }

    def nodes(self) -> dict[str, Any]:
        """The provider's layout, for snapshots: `<drive>:\\Computer\\<name>` and `...\\User\\<name>`."""
        head = {"Enabled": self.enabled, "Priority": self.priority, "Description": self.description}
        return {
            "Computer": {**head, "Settings": copy.deepcopy(self.computer_settings), "Filters": self.filters},
            "User": {**head, "Settings": copy.deepcopy(self.user_settings), "Filters": self.filters},
        }

    @classmethod
    def from_json(cls, name: str, spec: dict[str, Any]) -> CitrixPolicy:
        policy = cls(name)
        policy.update(validate_spec(spec))
        return policy

    def update(self, spec: dict[str, Any]) -> None:
        """Write the fields `spec` lists; settings field by field, filters matched by type and name."""
        if "enabled" in spec:
            self.enabled = spec["enabled"]
        if "priority" in spec:
            self.priority = spec["priority"]
        if "description" in spec:
            self.description = spec["description"]
        for name, setting in spec.get("settings", {}).items():
            if name not in KNOWN_SETTINGS:
                raise NotFound(f"Citrix policy setting not found: {name}")
            node = self.user_settings if name in USER_SETTINGS else self.computer_settings
            node.setdefault(name, {"State": "NotConfigured"}).update(copy.deepcopy(setting))
        for wanted in spec.get("filters", []):
            current = _find_filter(self.filters, wanted)
            if current is None:
                current = {
                    "type": wanted["type"],
                    "name": wanted["name"],
                    "value": "",
                    "enabled": True,
                    "mode": "Allow",
                }
                self.filters.append(current)
            current.update(copy.deepcopy(wanted))


def _find_filter(filters: list[dict[str, Any]], wanted: dict[str, Any]) -> dict[str, Any] | None:
    return next((f for f in filters if f["type"] == wanted["type"] and f["name"] == wanted["name"]), None)


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
        extra = sorted(set(item) - {"type", "name", "value", "enabled", "mode"})
        if extra:
            raise BadArgument(f"policy.filters[{i}] has unknown fields {extra}")
        if "mode" in item and item["mode"] not in FILTER_MODES:
            raise BadArgument(f"policy.filters[{i}].mode must be Allow or Deny")
        if "enabled" in item and not isinstance(item["enabled"], bool):
            raise BadArgument(f"policy.filters[{i}].enabled must be true or false")
        if "value" in item and not isinstance(item["value"], str):
            raise BadArgument(f"policy.filters[{i}].value must be a string")
    return spec


class CitrixPolicyStore:
    """The policies a Delivery Controller holds: the site's, and those of AD GPOs it edits."""

    def __init__(self) -> None:
        self.site: dict[str, CitrixPolicy] = {UNFILTERED.lower(): CitrixPolicy(UNFILTERED, priority=1)}
        self.gpos: dict[str, tuple[str, dict[str, CitrixPolicy]]] = {}

    def _bucket(self, scope: object, gpo: object, create: bool = False) -> dict[str, CitrixPolicy] | None:
        if scope not in SCOPES:
            raise BadArgument(f"scope must be 'site' or 'ad_gpo', got {scope!r}")
        if scope == "site":
            return self.site
        if not isinstance(gpo, str) or not gpo:
            raise BadArgument("scope 'ad_gpo' needs the gpo name")
        if gpo.lower() not in self.gpos:
            if not create:
                return None
            self.gpos[gpo.lower()] = (gpo, {})
        return self.gpos[gpo.lower()][1]

    def get(self, scope: object, gpo: object, name: str) -> CitrixPolicy | None:
        bucket = self._bucket(scope, gpo)
        return None if bucket is None else bucket.get(name.lower())

    def put(self, scope: object, gpo: object, name: str, policy: CitrixPolicy | None) -> None:
        bucket = self._bucket(scope, gpo, create=policy is not None)
        if policy is None:
            if bucket is not None:
                bucket.pop(name.lower(), None)
            return
        assert bucket is not None
        bucket[name.lower()] = policy

    def plan_set(
        self, scope: object, gpo: object, name: str, state: object, spec: object
    ) -> list[dict[str, Any]]:
        """The changes citrix_policy_set reports: whole-policy presence, then field by field."""
        if state not in ("present", "absent"):
            raise BadArgument(f"argument 'state' must be present or absent, got {state!r}")
        existing = self.get(scope, gpo, name)
        if state == "absent":
            return [] if existing is None else [{"field": "policy", "before": "present", "after": "absent"}]
        if spec is None:
            raise BadArgument("argument 'policy' must be an object")
        checked = validate_spec(spec)
        changes: list[dict[str, Any]] = []
        if existing is None:
            changes.append({"field": "policy", "before": "absent", "after": "present"})
            current: dict[str, Any] = {
                "enabled": None,
                "priority": None,
                "description": None,
                "settings": {},
                "filters": [],
            }
        else:
            current = existing.to_json()

        def add(field_name: str, before: Any, after: Any) -> None:
            if not json_equal(before, after):
                changes.append({"field": field_name, "before": before, "after": after})

        for fld in ("enabled", "priority", "description"):
            if fld in checked:
                add(fld, current[fld], checked[fld])
        for setting, wanted in checked.get("settings", {}).items():
            before = current["settings"].get(setting, {})
            for fld in ("State", "Values", "Value"):
                if fld in wanted:
                    old = before.get(fld, "NotConfigured" if fld == "State" else None)
                    add(f"settings.{setting}.{fld}", old, wanted[fld])
        for wanted in checked.get("filters", []):
            old_filter = _find_filter(current["filters"], wanted) or {}
            for fld in ("value", "enabled", "mode"):
                if fld in wanted:
                    add(f"filters.{wanted['type']}.{wanted['name']}.{fld}", old_filter.get(fld), wanted[fld])
        return changes

    def apply_set(
        self, scope: object, gpo: object, name: str, state: str, spec: dict[str, Any] | None
    ) -> None:
        if state == "absent":
            self.put(scope, gpo, name, None)
            return
        existing = self.get(scope, gpo, name)
        if existing is None:
            # New-Item puts a new policy last: one below the lowest priority in use.
            bucket = self._bucket(scope, gpo) or {}
            ranks = [p.priority for p in bucket.values() if p.name != UNFILTERED]
            existing = CitrixPolicy(name, priority=max(ranks, default=0) + 1)
            self.put(scope, gpo, name, existing)
        existing.update(spec or {})

    def resultant(self, delivery_group: str | None) -> dict[str, dict[str, Any]]:
        """The settings a VDA in `delivery_group` ends up with."""
        result: dict[str, dict[str, Any]] = {}
        # Site first, then GPOs, each later layer overriding: AD policies win over site ones.
        layers = [self.site, *(bucket for _name, bucket in self.gpos.values())]
        for layer in layers:
            ranked = sorted(
                (p for p in layer.values() if p.enabled and _applies(p, delivery_group)),
                key=lambda p: (p.name == UNFILTERED, p.priority),
            )
            layer_result: dict[str, dict[str, Any]] = {}
            for policy in ranked:
                for setting, value in policy.settings().items():
                    if setting not in layer_result and value.get("State") not in (
                        "NotConfigured",
                        "UseDefault",
                    ):
                        layer_result[setting] = value
            result.update(layer_result)
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            "site": {p.name: {**p.to_json(), "nodes": p.nodes()} for p in self.site.values()},
            "gpos": {gname: {p.name: p.to_json() for p in b.values()} for gname, b in self.gpos.values()},
        }


def json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: true is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def _applies(policy: CitrixPolicy, delivery_group: str | None) -> bool:
    groups = [f for f in policy.filters if f["enabled"] and f["type"] == "DesktopGroup"]
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
