"""Move a farm's listeners to another 127.N.0.0/16 block, so several simulators can run at once.

The farm file pins each host to an address such as 127.0.10.11. Parallel test workers, a demo and
a developer's own simulator would collide on those; relocating keeps the last two octets (so host
identities stay recognisable) and swaps the second octet. Only where the simulator *listens*
changes: the hosts' own (simulated) server IPs are untouched.
"""

from __future__ import annotations

import ipaddress
import os
import zlib
from typing import Any

# 127.0.x.x is left to the farm files; blocks start at 127.1.
_FIRST_BLOCK = 1
_LAST_BLOCK = 254


def relocate_farm(farm: Any, block: int) -> Any:
    """Rewrite every host's WinRM listen address to 127.<block>.<c>.<d>, in place; returns the farm."""
    if not _FIRST_BLOCK <= block <= _LAST_BLOCK:
        raise ValueError(f"block must be between {_FIRST_BLOCK} and {_LAST_BLOCK}, got {block}")
    for host in farm.hosts.values():
        octets = ipaddress.IPv4Address(host.winrm.address).packed
        host.winrm.address = f"127.{block}.{octets[2]}.{octets[3]}"
    return farm


def block_for(label: str) -> int:
    """A stable block for a label (a pytest-xdist worker id plus the process id, say)."""
    span = _LAST_BLOCK - _FIRST_BLOCK + 1
    return _FIRST_BLOCK + zlib.crc32(label.encode("utf-8")) % span


def block_for_this_process() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return block_for(f"{worker}:{os.getpid()}")
