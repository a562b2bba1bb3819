"""Pending restarts remembered on the host until it restarts.

A write whose change takes effect only after a restart is followed, in the same request, by a
`restart_mark` op that records the reason on the host (registry_map.RESTART_MARKER_KEY) with the
host's own clock. A later request reads it back with `restart_state`: the restart is pending while
the marker is newer than the boot time, so a rerun with nothing left to change, `vip_status`, the
CLI and verification still know about it, and a restart of the host clears it by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from vipctl.executor.codec import Response

RESTART_STATE: Final = "restart_state"
MARK_PREFIX: Final = "restart_mark_after_"
NOT_YET_VIRTUALIZED: Final = "not virtualized yet: restart pending"


@dataclass(frozen=True)
class PendingRestart:
    pending: bool
    reasons: tuple[str, ...] = ()
    since: str | None = None
    last_boot_utc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "reasons": list(self.reasons),
            "since": self.since,
            "last_boot_utc": self.last_boot_utc,
        }

    def describe(self) -> str:
        """'restart pending: <reasons>' for people; '' when none is pending."""
        if not self.pending:
            return ""
        return "restart pending: " + ("; ".join(self.reasons) or "a change needs a restart")


def state_op() -> dict[str, Any]:
    return {"op": "restart_state", "id": RESTART_STATE}


def mark_ops(writes: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """One `restart_mark` per (write op id, reason), run only when that write changed something."""
    return [
        {
            "op": "restart_mark",
            "id": MARK_PREFIX + op_id,
            "reasons": [reason],
            "when": [{"ref": op_id, "path": ["changed"], "in": [True]}],
        }
        for op_id, reason in writes
    ]


def pending_restart(response: Response) -> PendingRestart:
    """What the host says after the request: the last mark made (or previewed), else the state read."""
    marks = [r.id for r in response.results if r.id and r.id.startswith(MARK_PREFIX) and response.ran(r.id)]
    if marks:
        # Each mark returns the marker as it left it; in check mode nothing was written, so the
        # reasons of every mark of the request are gathered, in order.
        reasons: dict[str, None] = {}
        for key in marks:
            reasons.update(dict.fromkeys(str(r) for r in response.data(key).get("reasons") or []))
        last = response.data(marks[-1])
        return PendingRestart(True, tuple(reasons), last.get("set_utc"), last.get("last_boot_utc"))
    if not response.ran(RESTART_STATE):
        return PendingRestart(False)
    state = response.data(RESTART_STATE)
    marker = state.get("marker") or {}
    if not state.get("pending"):
        return PendingRestart(False, last_boot_utc=state.get("last_boot_utc"))
    return PendingRestart(
        True,
        tuple(str(r) for r in marker.get("reasons") or []),
        marker.get("set_utc"),
        state.get("last_boot_utc"),
    )
