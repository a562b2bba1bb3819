"""Network identifiers in settings: the adapter CIDR (policy) and MAC address (WMI)."""

from __future__ import annotations

import ipaddress
import re

from vipctl.settings.errors import SettingsError

_MAC_HEX = re.compile(r"[0-9A-Fa-f]{12}")
_MAC_SEPARATED = re.compile(r"[0-9A-Fa-f]{2}([-:])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}")
_MAC_DOTTED = re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")


def parse_adapter_cidr(field: str, value: object) -> str:
    """IPv4 address with prefix that picks the adapter (VIPAdapter); host bits may be set, as in the ADMX."""
    fix = "give an IPv4 network in CIDR form, e.g. 192.0.2.0/24 (an adapter address and its prefix length)"
    if not isinstance(value, str) or "/" not in value:
        raise SettingsError(field, value, fix)
    try:
        interface = ipaddress.IPv4Interface(value.strip())
    except ValueError as exc:
        raise SettingsError(field, value, fix) from exc
    if interface.network.prefixlen == 0:
        raise SettingsError(field, value, "use a prefix length between 1 and 32; /0 matches every adapter")
    return str(interface)


def parse_mac(field: str, value: object) -> str:
    """A MAC address in any common spelling, normalised to AA:BB:CC:DD:EE:FF.

    Colons, because that is how WMI spells adapter addresses (Win32_NetworkAdapter.MACAddress);
    that Win32_TSVirtualIP's SelectNetworkAdapter wants the same spelling is UNCONFIRMED."""
    fix = "give the adapter's MAC address, e.g. 00:15:5D:01:02:03"
    if not isinstance(value, str):
        raise SettingsError(field, value, fix)
    text = value.strip()
    if not (_MAC_HEX.fullmatch(text) or _MAC_SEPARATED.fullmatch(text) or _MAC_DOTTED.fullmatch(text)):
        raise SettingsError(field, value, fix)
    digits = re.sub(r"[-:.]", "", text).upper()
    if digits in ("000000000000", "FFFFFFFFFFFF"):
        raise SettingsError(field, value, "that is not a network adapter's address; " + fix)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
