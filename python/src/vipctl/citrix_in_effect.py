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
