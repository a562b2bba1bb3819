"""Sorting what the server pool wants to send into the Receive it belongs to.

psrpcore keeps one send buffer for the pool and all its pipelines; WS-Man delivers pool
messages on the shell's Receive and pipeline messages on the command's Receive. The outbox
drains the buffer in fragment-sized payloads and queues each under its target.
"""

from __future__ import annotations

import uuid
from collections import deque

from psrpcore import ServerRunspacePool

# Windows' PSRP fragments stay well under the client's MaxEnvelopeSize (pypsrp: 150 KiB,
# base64 adds a third); one Receive carries at most RECEIVE_BUDGET bytes of fragments.
FRAGMENT_SIZE = 32 * 1024
RECEIVE_BUDGET = 96 * 1024

Target = uuid.UUID | None  # None = the runspace pool itself


class Outbox:
    def __init__(self, fragment_size: int = FRAGMENT_SIZE, receive_budget: int = RECEIVE_BUDGET) -> None:
        self._fragment_size = fragment_size
        self._budget = max(receive_budget, fragment_size)
        self._queues: dict[Target, deque[bytes]] = {}

    def collect(self, pool: ServerRunspacePool) -> None:
        """Move everything psrpcore has prepared into the per-target queues."""
        while (payload := pool.data_to_send(self._fragment_size)) is not None:
            self._queues.setdefault(payload.pipeline_id, deque()).append(payload.data)

    def pending(self, target: Target) -> bool:
        return bool(self._queues.get(target))

    def take(self, target: Target) -> bytes:
        """Up to one Receive's worth of fragments for `target` (at least one payload if any)."""
        queue = self._queues.get(target)
        taken = bytearray()
        while queue and (not taken or len(taken) + len(queue[0]) <= self._budget):
            taken += queue.popleft()
        if queue is not None and not queue:
            del self._queues[target]
        return bytes(taken)

    def discard(self, target: Target) -> None:
        self._queues.pop(target, None)
