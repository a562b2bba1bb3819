"""net_endpoints and sessions: the TCPView-equivalent socket table and the session list."""

from __future__ import annotations

from typing import Any

from vipctl.sim.model.errors import BadArgument
from vipctl.sim.twin.context import OpContext, Outcome


def op_net_endpoints(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    protocols = args.get("protocols", ["tcp", "udp"])
    if not isinstance(protocols, list) or not protocols or not set(protocols) <= {"tcp", "udp"}:
        raise BadArgument("'protocols' must be a non-empty list of 'tcp' and/or 'udp'")
    host = ctx.host
    processes = [p.to_json() for p in sorted(host.processes.values(), key=lambda p: p.pid)]
    return False, {"endpoints": host.net_endpoints(list(protocols)), "processes": processes}


def op_sessions(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    sessions = sorted(ctx.host.sessions.values(), key=lambda s: s.id)
    # The model knows which sessions are /admin ones; the protocol row carries it so that readers
    # can leave those sessions out of any virtual-address expectation.
    return False, {"sessions": [{**s.to_json(), "admin": s.admin} for s in sessions]}
