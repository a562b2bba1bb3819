"""Run one piece of work per host, concurrently, and account for every host.

A bounded thread pool (`forks`, as in Ansible) runs `work(host)` for each host. Each host yields
exactly one `HostOutcome`, in inventory order, whatever happened on the others: an exception in
one host's work is recorded on that host and never stops the rest. Threads suit the job: the
work is network round trips, and the clients (requests, pypsrp, pywinrm) block on sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_FORKS = 5  # Ansible's default, so `--forks` means the same in both worlds.

# progress(done, total, host, ok), called from the calling thread as each host finishes.
ProgressCallback = Callable[[int, int, str, bool], None]


@dataclass(frozen=True)
class HostOutcome(Generic[T]):
    """What happened on one host: `value` when `ok`, else `error`; `elapsed` seconds of its work."""

    host: str
    ok: bool
    value: T | None = None
    error: Exception | None = None
    elapsed: float = 0.0

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else type(self.error).__name__


def _timed(host: str, work: Callable[[str], T], clock: Callable[[], float]) -> HostOutcome[T]:
    start = clock()
    try:
        value = work(host)
    except Exception as error:
        # Recorded, not raised: one host's failure must not stop the others.
        return HostOutcome(host=host, ok=False, error=error, elapsed=clock() - start)
    return HostOutcome(host=host, ok=True, value=value, elapsed=clock() - start)


def run_fleet(
    hosts: Sequence[str],
    work: Callable[[str], T],
    *,
    forks: int = DEFAULT_FORKS,
    progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
    succeeded: Callable[[T], bool] | None = None,
) -> list[HostOutcome[T]]:
    """Run `work(host)` for every host, at most `forks` at a time; outcomes in `hosts` order.

    `succeeded` tells the progress callback which returned values are failures all the same."""
    if forks < 1:
        raise ValueError(f"forks must be at least 1, not {forks}")
    total = len(hosts)
    outcomes: list[HostOutcome[T] | None] = [None] * total
    if total == 0:
        return []
    with ThreadPoolExecutor(max_workers=min(forks, total), thread_name_prefix="vipctl-fleet") as pool:
        futures = {pool.submit(_timed, host, work, clock): index for index, host in enumerate(hosts)}
        for done, future in enumerate(as_completed(futures), start=1):
            outcome = future.result()
            outcomes[futures[future]] = outcome
            if progress is not None:
                progress(done, total, outcome.host, counts_as_ok(outcome, succeeded))
    return [outcome for outcome in outcomes if outcome is not None]


def counts_as_ok(outcome: HostOutcome[T], succeeded: Callable[[T], bool] | None) -> bool:
    if not outcome.ok or succeeded is None or outcome.value is None:
        return outcome.ok
    return succeeded(outcome.value)
