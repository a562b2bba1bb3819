"""One simulated host served alone over WS-Management, for tests that want a fresh host each.

A SimServer starts in a few milliseconds, so a server per test is cheaper than sharing one and
undoing each test's host changes and faults. Listeners go to this test worker's own 127.N block
(the one `sim_farms` relocates the default farm to), on third octets the farm files do not use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, cast

from vipctl.sim.farm import Farm
from vipctl.sim.front_door import SimServer
from vipctl.sim.host_protocols import FarmLike
from vipctl.sim.inventory import build_inventory
from vipctl.sim.model.host import SimHost
from vipctl.sim.model.hostspec import WinRMEndpoint
from vipctl.sim.relocate import block_for_this_process
from vipctl.transport import ConnectionSettings
from vipctl.transport.ansible_vars import settings_from_ansible_vars

Connection = Literal["psrp", "winrm"]
CONNECTIONS: tuple[Connection, ...] = ("psrp", "winrm")
USERNAME = "vipadmin"
PASSWORD = "Wire-Vector-Pa55!"
# The embedded farm listens on 127.N.10.x; third octets from 200 up stay clear of it.
_FIRST_OCTET3 = 200
_PER_OCTET3 = 250


def address(index: int) -> str:
    """A distinct loopback address per index, inside this worker's block."""
    block = block_for_this_process()
    return f"127.{block}.{_FIRST_OCTET3 + index // _PER_OCTET3}.{1 + index % _PER_OCTET3}"


def free_ports(host: str, count: int) -> list[int]:
    """`count` distinct ports free on `host` right now (held together, so they differ)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.create_server((host, 0))) for _probe in range(count)]
        return [int(probe.getsockname()[1]) for probe in probes]


def endpoint(index: int) -> WinRMEndpoint:
    where = address(index)
    http_port, https_port = free_ports(where, 2)
    return WinRMEndpoint(where, USERNAME, PASSWORD, http_port=http_port, https_port=https_port)


@contextlib.contextmanager
def serve(name: str, host: SimHost, state_dir: Path) -> Iterator[SimServer]:
    """`host` served alone over HTTP and HTTPS (a CA of its own in `state_dir`) until the block ends."""
    server = SimServer(max_receive_wait_s=0.2)
    # A model Farm is what the server documents it takes; mypy sees the model's concrete (mutable)
    # attribute types as narrower than the structural protocol's, hence the cast.
    farm = cast(FarmLike, Farm(hosts={name: host}))
    server.start(farm, https=True, state_dir=state_dir)
    try:
        yield server
    finally:
        server.stop()


def settings(server: SimServer, name: str, connection: Connection, **changes: Any) -> ConnectionSettings:
    """What an inventory of the running server gives this host: HTTPS, Basic, the server's CA."""
    host_vars = build_inventory(server, connection)["all"]["hosts"][name]
    base = settings_from_ansible_vars(name, host_vars)
    return dataclasses.replace(base, **changes) if changes else base
