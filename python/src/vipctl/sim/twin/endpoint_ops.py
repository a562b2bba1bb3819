"""net_endpoints and sessions: the TCPView-equivalent socket table and the session list."""

from __future__ import annotations

from typing import Any

from vipctl.sim.model.errors import BadArgument
from vipctl.sim.model.sessions import LISTENER_SESSION_ID
from vipctl.sim.twin.context import OpContext, Outcome

# The executor's CIM sources, by the name a fault is injected under (SimHost.fail_api).
TCP_SOURCE = "MSFT_NetTCPConnection"
UDP_SOURCE = "MSFT_NetUDPEndpoint"
PROCESS_SOURCE = "Win32_Process"
WTS_SOURCE = "WTSEnumerateSessions"


def op_net_endpoints(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    protocols = args.get("protocols", ["tcp", "udp"])
    if not isinstance(protocols, list) or not protocols or not all(isinstance(p, str) for p in protocols):
        raise BadArgument("'protocols' must be a non-empty list of 'tcp' and/or 'udp'")
    protocols = [p.lower() for p in protocols]  # the executor compares with -eq: any case
    if not set(protocols) <= {"tcp", "udp"}:
        raise BadArgument("'protocols' must be a non-empty list of 'tcp' and/or 'udp'")
    host = ctx.host
    # A failing source fails the op with its kind; it is never an empty table
    # (docs/windows-facts.md#socket-table-errors-are-not-empty-tables).
    host.check_api(PROCESS_SOURCE)
    if "tcp" in protocols:
        host.check_api(TCP_SOURCE)
    if "udp" in protocols:
        host.check_api(UDP_SOURCE)
    processes = [p.to_json() for p in sorted(host.processes.values(), key=lambda p: p.pid)]
    return False, {"endpoints": host.net_endpoints(list(protocols)), "processes": processes}


def op_sessions(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    ctx.host.check_api(WTS_SOURCE)
    # Listener WinStations (id 65536 and up) are no one's session: left out as the executor does.
    sessions = [s for s in ctx.host.wts_sessions() if s.id < LISTENER_SESSION_ID]
    # The model knows which sessions are /admin ones; the protocol row carries it so that readers
    # can leave those sessions out of any virtual-address expectation.
    return False, {"sessions": [{**s.to_json(), "admin": s.admin} for s in sessions]}
