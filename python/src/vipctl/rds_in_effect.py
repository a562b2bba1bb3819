"""RD IP Virtualization as it is in effect, with where each value comes from.

The rule is docs/windows-facts.md#policy-values-win-over-local-values-one-at-a-time.

Precedence is per value: a value present in the policy key wins, else the local store as WMI
`Win32_TSVirtualIP` reports it, else the Windows default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from vipctl import registry_map

SOURCE_POLICY: Final = "policy"
SOURCE_LOCAL: Final = "local"
SOURCE_DEFAULT: Final = "default"
MODE_NAMES: Final = {0: "per_session", 1: "per_program"}


@dataclass(frozen=True)
class EffectiveValue:
    value: Any
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


def registry_value(values: Mapping[str, Any], name: str) -> Any:
    """The plain value of a typed registry value (`{"type", "value"}`), None when absent."""
    typed = values.get(name)
    return typed.get("value") if isinstance(typed, Mapping) else None


def _local(tsvip: Mapping[str, Any] | None, prop: str) -> Any:
    # Only a value the local store holds counts as local; one WMI mirrors from policy does not.
    if tsvip is None or prop not in tsvip:
        return None
    return tsvip[prop]


def _pick(policy: Any, local: Any, default: Any) -> EffectiveValue:
    if policy is not None:
        return EffectiveValue(policy, SOURCE_POLICY)
    if local is not None:
        return EffectiveValue(local, SOURCE_LOCAL)
    return EffectiveValue(default, SOURCE_DEFAULT)


def effective_rds(
    policy_values: Mapping[str, Any], tsvip: Mapping[str, Any] | None
) -> dict[str, EffectiveValue]:
    """Effective settings from the policy key's values and the WMI properties (None: class unavailable)."""
    enabled = registry_value(policy_values, registry_map.ENABLE_VIRTUAL_IP.name)
    mode = registry_value(policy_values, registry_map.VIRTUAL_MODE.name)
    programs = registry_value(policy_values, registry_map.PER_APP.name)
    adapter = registry_value(policy_values, registry_map.VIP_ADAPTER.name)
    prompt = registry_value(policy_values, registry_map.PROMPT_ON_IP_LEASE_FAIL.name)
    local_active = _local(tsvip, "VirtualIPActive")
    local_mode = _local(tsvip, "VirtualIPMode")
    local_mac = _local(tsvip, "NetworkAdapterMacAddress") or None
    local_loopback = _local(tsvip, "VirtualizeLoopbackAddressesEnabled")
    return {
        "enabled": _pick(
            None if enabled is None else enabled == 1,
            None if local_active is None else local_active == 1,
            False,
        ),
        # Windows treats an absent mode as per program.
        "mode": _pick(
            MODE_NAMES.get(mode) if mode is not None else None, MODE_NAMES.get(local_mode), "per_program"
        ),
        "programs": _pick(programs, _local(tsvip, "ProgramList"), []),
        "adapter": _pick(adapter, local_mac, None),
        # PromptOnIPLeaseFail exists only as policy; without it sessions fall back to the server IP.
        "fallback_to_server_ip": _pick(None if prompt is None else prompt != 1, None, True),
        "virtualize_loopback": _pick(None, None if local_loopback is None else local_loopback == 1, False),
    }
