"""WMI `Win32_TSVirtualIP`: a local store written only through the class, with per-value precedence
of the group-policy key (`registry_map.RDS_POLICY_KEY`).

Facts: docs/windows-facts.md#the-local-store-is-written-only-through-wmi.

The local store lives under `registry_map.RDS_LOCAL_KEY`. Apart from `VirtualizeLoopbackAdresses`
the value names Windows uses there are UNCONFIRMED, so they are private to this module: nothing
outside the simulator may rely on them (vipctl writes the local store only through WMI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vipctl import registry_map
from vipctl.sim.model.errors import BadArgument, Failed, NotAvailable, PolicyControlled
from vipctl.sim.model.network import Adapter
from vipctl.sim.model.registry import Registry
from vipctl.sim.model.regvalue import RegValue

# WMI property -> (local value name [UNCONFIRMED except loopback], policy value or None, setter, default)
_LOCAL = registry_map.RDS_LOCAL_KEY
_POLICY = registry_map.RDS_POLICY_KEY
PROPERTIES: dict[str, tuple[str, str | None, str, Any]] = {
    "VirtualIPActive": ("EnableVirtualIP", registry_map.ENABLE_VIRTUAL_IP.name, "SetVirtualIPActive", 0),
    "VirtualIPMode": ("VirtualMode", registry_map.VIRTUAL_MODE.name, "SetVirtualIPMode", 1),
    "ProgramList": ("PerApp", registry_map.PER_APP.name, "SetProgramList", []),
    "NetworkAdapterMacAddress": (
        "NetworkAdapterMac",
        registry_map.VIP_ADAPTER.name,
        "SelectNetworkAdapter",
        "",
    ),
    "VirtualizeLoopbackAddressesEnabled": (
        registry_map.VIRTUALIZE_LOOPBACK_LOCAL.name,
        None,
        "SetVirtualizeLoopbackAddressesEnabled",
        0,
    ),
}
POLICY_SOURCE = {
    "VirtualIPActive": "PolicySourceVirtualIPActive",
    "VirtualIPMode": "PolicySourceVirtualIPMode",
    "ProgramList": "PolicySourceProgramList",
    "NetworkAdapterMacAddress": "PolicySourceNetworkAdapter",
    "VirtualizeLoopbackAddressesEnabled": "PolicySourceVirtualizeLoopbackAddresses",
}


@dataclass(frozen=True)
class TsVipSettings:
    """What RD IP Virtualization would do if the host booted now."""

    active: bool
    per_program: bool
    programs: tuple[str, ...]
    adapter: Adapter | None
    loopback: bool
    prompt_on_lease_fail: bool


class TsVip:
    def __init__(
        self, registry: Registry, adapters: list[Adapter], role_installed: Callable[[], bool]
    ) -> None:
        self._registry = registry
        self._adapters = adapters
        self._role_installed = role_installed

    @property
    def available(self) -> bool:
        return self._role_installed()

    def _policy(self, name: str | None) -> RegValue | None:
        return None if name is None else self._registry.get_value(_POLICY, name)

    def _mac_for_cidr(self, cidr: str) -> str:
        for adapter in self._adapters:
            if adapter.in_cidr(cidr):
                return adapter.mac
        return ""

    def _property(self, prop: str) -> tuple[Any, int]:
        local_name, policy_name, _setter, default = PROPERTIES[prop]
        policy = self._policy(policy_name)
        if policy is not None:
            if prop == "NetworkAdapterMacAddress":
                return self._mac_for_cidr(str(policy.data)), 1
            return _plain(prop, policy), 1
        local = self._registry.get_value(_LOCAL, local_name)
        if local is not None:
            return _plain(prop, local), 0
        return (list(default) if isinstance(default, list) else default), 0

    def properties(self) -> dict[str, Any]:
        """The WMI instance as `Get-CimInstance Win32_TSVirtualIP` shows it."""
        if not self.available:
            raise NotAvailable("Win32_TSVirtualIP is not available: the RDS-RD-Server role is not installed")
        out: dict[str, Any] = {}
        for prop in PROPERTIES:
            out[prop] = self._property(prop)[0]
        out["NetworkAdapterMacList"] = [adapter.mac for adapter in self._adapters]
        for prop, source in POLICY_SOURCE.items():
            out[source] = self._property(prop)[1]
        return out

    def plan(self, wanted: dict[str, Any]) -> list[dict[str, Any]]:
        """Validate a tsvip_set request; the changes it would make, in property order."""
        if not isinstance(wanted, dict):
            raise BadArgument("argument 'properties' must be an object")
        unknown = sorted(set(wanted) - set(PROPERTIES))
        if unknown:
            raise BadArgument(f"unknown Win32_TSVirtualIP properties {unknown}; settable: {list(PROPERTIES)}")
        if not self.available:
            raise NotAvailable("Win32_TSVirtualIP is not available: the RDS-RD-Server role is not installed")
        changes: list[dict[str, Any]] = []
        for prop in PROPERTIES:
            if prop not in wanted:
                continue
            after = _validate(prop, wanted[prop], [a.mac for a in self._adapters])
            before, under_policy = self._property(prop)
            if before == after:
                continue
            if under_policy:
                setter, policy_value = PROPERTIES[prop][2], PROPERTIES[prop][1]
                raise PolicyControlled(
                    f"{setter} failed: {prop} is under group policy control ({_POLICY}\\{policy_value})"
                )
            changes.append({"name": prop, "before": before, "after": after})
        return changes

    def apply(self, changes: list[dict[str, Any]]) -> None:
        for change in changes:
            local_name = PROPERTIES[change["name"]][0]
            after = change["after"]
            value = (
                RegValue("REG_MULTI_SZ", tuple(after))
                if isinstance(after, list)
                else (RegValue("REG_SZ", after) if isinstance(after, str) else RegValue("REG_DWORD", after))
            )
            self._registry.set_value(_LOCAL, local_name, value)

    def invoke_method(self, prop: str, value: Any) -> None:
        """One Set*/Select* method of Win32_TSVirtualIP, writing `prop` as Windows would.

        Each method refuses a value under group policy, and SelectNetworkAdapter also refuses
        while the mode is per session (docs/windows-facts.md#selectnetworkadapter-fails-in-per-session-mode),
        so a writer must select the adapter in per-program mode and set the mode after it."""
        setter = PROPERTIES[prop][2]
        if not self.available:
            raise NotAvailable("Win32_TSVirtualIP is not available: the RDS-RD-Server role is not installed")
        after = _validate(prop, value, [a.mac for a in self._adapters])
        if self._property(prop)[1]:
            raise PolicyControlled(f"{setter} failed: {prop} is under group policy control")
        if prop == "NetworkAdapterMacAddress" and self._property("VirtualIPMode")[0] == 0:
            raise Failed(f"{setter} failed: the IP virtualization mode is per session")
        self.apply([{"name": prop, "after": after}])

    def set_local(self, values: dict[str, Any]) -> None:
        """Seed the local store directly (farm files and vectors), bypassing policy checks."""
        self.apply(
            [
                {"name": k, "after": _validate(k, v, [a.mac for a in self._adapters])}
                for k, v in values.items()
            ]
        )

    def effective(self) -> TsVipSettings:
        """The settings a boot would take (the caller decides when they take effect)."""
        prompt = self._policy(registry_map.PROMPT_ON_IP_LEASE_FAIL.name)
        if not self.available:
            return TsVipSettings(False, False, (), None, False, False)
        props = self.properties()
        adapter = next((a for a in self._adapters if a.mac == props["NetworkAdapterMacAddress"]), None)
        return TsVipSettings(
            active=bool(props["VirtualIPActive"]) and adapter is not None,
            per_program=props["VirtualIPMode"] == 1,
            programs=tuple(props["ProgramList"]),
            adapter=adapter,
            loopback=bool(props["VirtualizeLoopbackAddressesEnabled"]),
            prompt_on_lease_fail=prompt is not None and prompt.data == 1,
        )


def _plain(prop: str, value: RegValue) -> Any:
    if prop == "ProgramList":
        return list(value.data) if isinstance(value.data, tuple) else [str(value.data)]
    if prop in ("VirtualIPActive", "VirtualizeLoopbackAddressesEnabled"):
        return 1 if value.data else 0
    return value.data


def mac_key(mac: str) -> str:
    """A MAC in one spelling: any case, ':' or '-' between bytes
    (docs/windows-facts.md#mac-addresses-compare-normalised)."""
    return mac.replace(":", "").replace("-", "").upper()


def _validate(prop: str, value: Any, macs: list[str]) -> Any:
    if prop == "ProgramList":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise BadArgument("ProgramList must be a list of non-empty program names")
        return list(value)
    if prop == "NetworkAdapterMacAddress":
        if not isinstance(value, str):
            raise BadArgument("NetworkAdapterMacAddress must be a string")
        listed = next((m for m in macs if mac_key(m) == mac_key(value)), None)
        if listed is None:
            raise Failed(f"SelectNetworkAdapter failed: no network adapter has MAC address {value!r}")
        return listed
    if isinstance(value, bool) or value not in (0, 1):
        raise BadArgument(f"{prop} must be 0 or 1, got {value!r}")
    return value
