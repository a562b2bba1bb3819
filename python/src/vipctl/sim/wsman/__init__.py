"""Sans-I/O WS-Management: parse requests, keep shells, shape replies like Windows' WinRM service.

Nothing here touches a socket; `vipctl.sim.front_door` feeds request bodies in and writes replies out.
"""

from vipctl.sim.wsman.endpoint import Outcome, PendingReceive, ShellFactory, WsmanEndpoint
from vipctl.sim.wsman.request import MalformedRequest, UnknownCommand, WsmanRequest, parse_request

__all__ = [
    "MalformedRequest",
    "Outcome",
    "PendingReceive",
    "ShellFactory",
    "UnknownCommand",
    "WsmanEndpoint",
    "WsmanRequest",
    "parse_request",
]
