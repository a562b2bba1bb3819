"""`vipctl loopback`: session ID <-> per-session loopback address, both directions."""

from __future__ import annotations

import re

from vipctl.cli import exit_codes
from vipctl.cli.context import Outcome
from vipctl.loopback import (
    LoopbackError,
    citrix_loopback_address,
    microsoft_loopback_address,
    session_for_loopback,
)

# ASCII digits only (str.isdigit() also takes "²"); anything longer is no session ID either.
_SESSION_ID = re.compile(r"[0-9]{1,10}")


def run(values: list[str]) -> Outcome:
    rows = []
    for value in values:
        session = int(value) if _SESSION_ID.fullmatch(value) else session_for_loopback(value)
        rows.append(
            {
                "session_id": session,
                "citrix_loopback": citrix_loopback_address(session),
                "microsoft_loopback": microsoft_loopback_address(session),
            }
        )
    text = "\n".join(
        f"session {r['session_id']}: {r['citrix_loopback']} (Citrix virtual loopback; "
        f"Microsoft loopback virtualization: {r['microsoft_loopback']})"
        for r in rows
    )
    return Outcome({"command": "loopback", "mappings": rows}, text, exit_codes.OK)


__all__ = ["LoopbackError", "run"]
