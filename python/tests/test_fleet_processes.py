"""Fleet runs spread over forked worker processes: total concurrency, order, progress, dead workers."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import pytest

from vipctl.fleet_processes import WorkerDied, run_fleet_in_processes, worker_processes

HOSTS = [f"vda{n:04d}" for n in range(1, 41)]
FORK = multiprocessing.get_context("fork")


def test_worker_processes_only_when_each_keeps_enough_threads_and_hosts_busy() -> None:
    assert worker_processes(1000, 20, cpus=2) == 2
    assert worker_processes(1000, 20, cpus=8) == 2  # 8 threads per process at least
    assert worker_processes(1000, 64, cpus=4) == 4
    assert worker_processes(1000, 5, cpus=8) == 1  # Ansible's default forks: one interpreter
    assert worker_processes(60, 40, cpus=8) == 1  # too few hosts to share
    assert worker_processes(200, 40, cpus=1) == 1


def test_hosts_run_in_several_processes_at_most_forks_at_a_time_in_inventory_order() -> None:
    active = FORK.Value("i", 0)
    peak = FORK.Value("i", 0)

    def work(host: str) -> dict[str, Any]:
        with active.get_lock():
            active.value += 1
            peak.value = max(peak.value, active.value)
        time.sleep(0.05)
        with active.get_lock():
            active.value -= 1
        return {"host": host, "pid": os.getpid()}

    seen: list[tuple[int, str, bool]] = []
    outcomes = run_fleet_in_processes(
        HOSTS,
        work,
        forks=8,
        processes=2,
        progress=lambda done, total, host, ok: seen.append((done, host, ok)),
    )
    assert [o.host for o in outcomes] == HOSTS
    assert all(o.ok and o.value is not None and o.value["host"] == o.host for o in outcomes)
    pids = {o.value["pid"] for o in outcomes if o.value is not None}
    assert len(pids) == 2 and os.getpid() not in pids
    assert 2 <= peak.value <= 8
    assert [done for done, _, _ in seen] == list(range(1, len(HOSTS) + 1))
    assert sorted(host for _, host, _ in seen) == sorted(HOSTS)


def test_errors_and_failed_values_are_reported_per_host() -> None:
    def work(host: str) -> dict[str, Any]:
        if host == "vda0003":
            raise RuntimeError("no route to vda0003")
        return {"ok": host != "vda0004"}

    seen: dict[str, bool] = {}
    outcomes = run_fleet_in_processes(
        HOSTS,
        work,
        forks=8,
        processes=2,
        progress=lambda done, total, host, ok: seen.__setitem__(host, ok),
        succeeded=lambda value: bool(value["ok"]),
    )
    by_host = {o.host: o for o in outcomes}
    assert by_host["vda0003"].ok is False and "no route to vda0003" in str(by_host["vda0003"].error)
    assert by_host["vda0004"].ok is True and seen["vda0004"] is False
    assert seen["vda0003"] is False and seen["vda0005"] is True


def test_a_dead_worker_accounts_for_its_unfinished_hosts() -> None:
    def work(host: str) -> str:
        if host == "vda0001":
            os._exit(7)  # the whole worker dies, as on an out-of-memory kill
        time.sleep(0.01)
        return host

    outcomes = run_fleet_in_processes(HOSTS, work, forks=2, processes=2)
    assert [o.host for o in outcomes] == HOSTS
    died = [o for o in outcomes if not o.ok]
    assert died and all(isinstance(o.error, WorkerDied) and "code 7" in str(o.error) for o in died)
    # The other worker's hosts (every second one) are unaffected.
    assert all(o.ok for o in outcomes[1::2])


@pytest.mark.parametrize("processes", [0, 1])
def test_one_process_runs_in_threads_here(processes: int) -> None:
    outcomes = run_fleet_in_processes(HOSTS[:5], lambda host: os.getpid(), forks=3, processes=processes)
    assert {o.value for o in outcomes} == {os.getpid()}
