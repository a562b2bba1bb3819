"""Spread a fleet run over worker processes, each with its own thread pool; `forks` stays the total.

Threads suit the network waits, but the client's own work per host (WS-Man XML, NTLM sealing,
JSON, the tasks) holds one interpreter lock; past a few hundred hosts one interpreter is the
bottleneck, not the network. Workers are forked, so the work function (a closure) needs no
pickling; each host's value (plain data) comes back through a pipe as soon as the host finishes,
so progress is reported per host. A worker that dies accounts for its unfinished hosts as errors.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Final

from vipctl.fleet import HostOutcome, ProgressCallback, counts_as_ok, run_fleet

# A worker is only worth its start-up (a fork, a new TCP + auth per host anyway) when it keeps at
# least this many threads and hosts busy.
MIN_THREADS_PER_PROCESS: Final = 8
MIN_HOSTS_PER_PROCESS: Final = 50


class WorkerDied(Exception):
    """A worker process ended before reporting every host it was given."""


def worker_processes(hosts: int, forks: int, cpus: int | None = None) -> int:
    """How many processes to spread `hosts` over at `forks` total concurrency (1 = stay in-process)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    available = cpus if cpus is not None else len(os.sched_getaffinity(0))
    return max(1, min(available, forks // MIN_THREADS_PER_PROCESS, hosts // MIN_HOSTS_PER_PROCESS))


def _shares(hosts: Sequence[str], forks: int, processes: int) -> list[tuple[list[str], int]]:
    """Hosts dealt round-robin (neighbours in an inventory tend to be alike) and forks split evenly."""
    base, extra = divmod(forks, processes)
    return [(list(hosts[index::processes]), base + (1 if index < extra else 0)) for index in range(processes)]


def _worker(
    share: list[str], threads: int, work: Callable[[str], Any], pipe: Connection
) -> None:  # pragma: no cover - runs in the forked child; the parent's tests see its results
    lock = threading.Lock()

    def report(host: str) -> None:
        try:
            message: tuple[str, bool, Any] = (host, True, work(host))
        except Exception as error:
            message = (host, False, f"{type(error).__name__}: {error}")
        with lock:
            pipe.send(message)

    code = 0
    try:
        run_fleet(share, report, forks=threads)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        pipe.close()
        # Skip the parent's atexit handlers and buffered output, copied by the fork.
        os._exit(code)


def run_fleet_in_processes(
    hosts: Sequence[str],
    work: Callable[[str], Any],
    *,
    forks: int,
    processes: int,
    progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
    succeeded: Callable[[Any], bool] | None = None,
) -> list[HostOutcome[Any]]:
    """Like `run_fleet`, over `processes` forked workers; `work` must return picklable data."""
    if processes < 2:
        return run_fleet(hosts, work, forks=forks, progress=progress, clock=clock, succeeded=succeeded)
    context = multiprocessing.get_context("fork")
    start = clock()
    pending: dict[Connection, tuple[Any, set[str]]] = {}
    for share, threads in _shares(hosts, min(forks, len(hosts)), processes):
        if not share:
            continue
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(share, max(threads, 1), work, sender), daemon=True)
        process.start()
        sender.close()
        pending[receiver] = (process, set(share))
    outcomes: dict[str, HostOutcome[Any]] = {}
    total = len(hosts)
    while pending:
        for ready in wait(list(pending)):
            if not isinstance(ready, Connection):
                continue
            process, left = pending[ready]
            try:
                host, ok, value = ready.recv()
            except EOFError:
                process.join()
                for host in sorted(left):
                    error = WorkerDied(f"the worker process exited with code {process.exitcode}")
                    outcomes[host] = HostOutcome(host=host, ok=False, error=error, elapsed=clock() - start)
                    if progress is not None:
                        progress(len(outcomes), total, host, False)
                del pending[ready]
                ready.close()
                continue
            left.discard(host)
            elapsed = clock() - start
            if ok:
                outcome = HostOutcome(host=host, ok=True, value=value, elapsed=elapsed)
            else:
                outcome = HostOutcome(host=host, ok=False, error=Exception(value), elapsed=elapsed)
            outcomes[host] = outcome
            if progress is not None:
                progress(len(outcomes), total, host, counts_as_ok(outcome, succeeded))
    return [outcomes[host] for host in hosts]
