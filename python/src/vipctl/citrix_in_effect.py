"""What a VDA reports of the Citrix virtual loopback policy it received (cache value names UNCONFIRMED,
docs/windows-facts.md#what-a-vda-caches-from-citrix-policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from vipctl import registry_map
from vipctl.rds_in_effect import registry_value

LOOPBACK_UNCONFIRMED_WARNING: Final = (
    "could not confirm that Citrix virtual loopback is enabled on this VDA (its policy cache value "
    "names are UNCONFIRMED); check the bindings with vip_bindings"
)


# A Citrix policy with no filter applies to every VDA of the site, the unsupported ones too.
UNSUPPORTED_POLICY_WARNING: Final = (
    "a Citrix virtual loopback policy reaches this unsupported host: the site-wide policy has no "
    "filter; add a filter (for example DesktopGroup) so it applies only to supported VDAs"
)


def observed_loopback_applied(values: Mapping[str, Any]) -> bool | None:
    """Read the VDA's cached Citrix loopback support (value names UNCONFIRMED); None when absent."""
    raw = registry_value(values, registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name)
    return None if raw is None else raw == 1


def _halves(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    halves = policy.get("halves")
    if not isinstance(halves, Mapping):
        return []
    return [half for half in halves.values() if isinstance(half, Mapping)]


def policy_enabled(policy: Mapping[str, Any]) -> bool:
    """A policy as `citrix_policy_get` reads it applies when one of its halves is enabled
    (docs/windows-facts.md#citrix-policies-have-two-independent-halves)."""
    return any(half.get("enabled") for half in _halves(policy))


def policy_filtered(policy: Mapping[str, Any]) -> bool:
    """Whether any half of the policy has a filter (with none, it reaches every VDA of the site)."""
    return any(half.get("filters") for half in _halves(policy))
