"""address_match: the twin of executor part 87_addresses.ps1.

The host's IPv4 addresses are those host_facts reports (its IP-enabled adapters); an RD IP
Virtualization adapter CIDR selects an adapter only when one of them lies inside it
(docs/windows-facts.md#vipadapter-selects-the-adapter-by-its-address).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from vipctl.sim.model.errors import BadArgument
from vipctl.sim.twin.args import require_str
from vipctl.sim.twin.context import OpContext, Outcome

# The executor's own pattern: dotted IPv4 and a prefix of at most two digits, up to 32.
_CIDR = re.compile(r"^([0-9.]+)/(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


def _number(address: str) -> int | None:
    found = _DOTTED.match(address)
    if found is None or any(int(octet) > 255 for octet in found.groups()):
        return None
    return int(ipaddress.IPv4Address(".".join(str(int(o)) for o in found.groups())))


def op_address_match(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    cidr = require_str(args, "cidr")
    found = _CIDR.match(cidr)
    network = _number(found.group(1)) if found else None
    if found is None or network is None or int(found.group(2)) > 32:
        raise BadArgument(f"argument 'cidr' must be an IPv4 network like 10.0.0.0/24: {cidr}")
    size = 2 ** (32 - int(found.group(2)))
    start = network - network % size
    addresses = [ctx.host.adapter.ip]
    inside = [a for a in addresses if (n := _number(a)) is not None and start <= n < start + size]
    return False, {"cidr": cidr, "addresses": addresses, "matching": inside, "matched": bool(inside)}
