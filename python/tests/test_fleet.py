"""Fleet runs: bounded concurrency, inventory order, failure isolation, timing, progress."""

from __future__ import annotations

import io
import threading
import time

import pytest

from vipctl.fleet import HostOutcome, run_fleet
from vipctl.progress import ProgressBar
from vipctl.transport import HostUnreachable

HOSTS = [f"rdsh{n:02d}" for n in range(1, 9)]


class ConcurrencyProbe:
    """Work that records how many calls overlap."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, host: str) -> str:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        with self._lock:
            self.active -= 1
        return host.upper()


def test_concurrency_is_bounded_by_forks() -> None:
    probe = ConcurrencyProbe(delay=0.05)
    outcomes = run_fleet(HOSTS, probe, forks=3)
    assert probe.peak == 3
    assert len(probe.threads) == 3
    assert [o.value for o in outcomes] == [h.upper() for h in HOSTS]


def test_hosts_really_run_at_the_same_time() -> None:
    # Four hosts must all be inside `work` at once to pass the barrier; serial execution would time out.
    barrier = threading.Barrier(4, timeout=5)

    def work(host: str) -> int:
        return barrier.wait()

    outcomes = run_fleet(HOSTS[:4], work, forks=4)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert sorted(o.value for o in outcomes if o.value is not None) == [0, 1, 2, 3]


def test_wall_time_reflects_parallelism() -> None:
    started = time.monotonic()
    run_fleet(HOSTS, ConcurrencyProbe(delay=0.2), forks=8)
    assert time.monotonic() - started < 0.2 * len(HOSTS) / 2


def test_outcomes_follow_inventory_order_not_finish_order() -> None:
    # The first host finishes last.
    delays = {host: 0.02 * (len(HOSTS) - index) for index, host in enumerate(HOSTS)}
    finished: list[str] = []
    lock = threading.Lock()

    def work(host: str) -> str:
        time.sleep(delays[host])
        with lock:
            finished.append(host)
        return host

    outcomes = run_fleet(HOSTS, work, forks=len(HOSTS))
    assert [o.host for o in outcomes] == HOSTS
    assert finished[0] == HOSTS[-1]


def test_one_host_failing_does_not_stop_the_others() -> None:
    def work(host: str) -> str:
        if host == "rdsh03":
            raise HostUnreachable(host, "cannot connect: [Errno 111] Connection refused")
        if host == "rdsh05":
            raise RuntimeError("bug in a task")
        return "done"

    outcomes = run_fleet(HOSTS, work, forks=2)
    assert len(outcomes) == len(HOSTS)
    failed = {o.host: o for o in outcomes if not o.ok}
    assert set(failed) == {"rdsh03", "rdsh05"}
    assert isinstance(failed["rdsh03"].error, HostUnreachable)
    assert str(failed["rdsh03"].error) == "rdsh03: cannot connect: [Errno 111] Connection refused"
    assert failed["rdsh03"].value is None
    assert all(o.value == "done" and o.error is None for o in outcomes if o.ok)


def test_elapsed_is_each_hosts_own_work_time() -> None:
    delays = {"fast": 0.0, "slow": 0.15}
    outcomes = run_fleet(list(delays), lambda host: time.sleep(delays[host]), forks=1)
    by_host = {o.host: o for o in outcomes}
    assert by_host["slow"].elapsed >= 0.15
    # Queue time is not counted: the fast host ran after the slow one yet reports near zero.
    assert by_host["fast"].elapsed < 0.1


def test_elapsed_uses_the_given_clock_even_on_failure() -> None:
    ticks = iter([10.0, 12.5])

    def boom(host: str) -> None:
        raise ValueError(host)

    [outcome] = run_fleet(["rdsh01"], boom, forks=1, clock=lambda: next(ticks))
    assert outcome == HostOutcome(host="rdsh01", ok=False, error=outcome.error, elapsed=2.5)
    assert outcome.error_type == "ValueError"


def test_progress_is_called_once_per_host_from_the_calling_thread() -> None:
    calls: list[tuple[int, int, str, bool, str]] = []

    def progress(done: int, total: int, host: str, ok: bool) -> None:
        calls.append((done, total, host, ok, threading.current_thread().name))

    def work(host: str) -> None:
        if host == "rdsh02":
            raise OSError("down")

    run_fleet(HOSTS, work, forks=4, progress=progress)
    assert [c[0] for c in calls] == list(range(1, len(HOSTS) + 1))
    assert {c[1] for c in calls} == {len(HOSTS)}
    assert sorted(c[2] for c in calls) == HOSTS
    assert [c[2] for c in calls if not c[3]] == ["rdsh02"]
    assert {c[4] for c in calls} == {threading.current_thread().name}


def test_empty_inventory_and_bad_forks() -> None:
    assert run_fleet([], lambda host: host) == []
    with pytest.raises(ValueError, match="forks must be at least 1"):
        run_fleet(HOSTS, lambda host: host, forks=0)


# ---------------------------------------------------------------- progress bar


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_prints_one_line_per_finished_host_when_not_a_tty() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    run_fleet(HOSTS, lambda host: host, forks=2, progress=bar)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(HOSTS) and "\r" not in stream.getvalue()
    assert lines[-1] == f"{len(HOSTS)}/{len(HOSTS)} hosts: {lines[-1].split()[2]} ok"
    assert sorted(line.split()[2] for line in lines) == sorted(HOSTS)
    assert bar.enabled is False


def test_progress_bar_draws_on_a_tty_and_counts_failures() -> None:
    stream = FakeTty()
    bar = ProgressBar(stream, width=10)

    def work(host: str) -> None:
        if host == "rdsh01":
            raise OSError("down")

    run_fleet(HOSTS, work, forks=1, progress=bar)
    bar.close()
    text = stream.getvalue()
    assert text.count("\r") == len(HOSTS)
    assert text.endswith("\n")
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("[##########] 8/8 hosts, 1 failed  last: rdsh08")


def test_progress_bar_render_partial() -> None:
    bar = ProgressBar(io.StringIO(), width=10)
    assert bar.render(3, 12, "rdsh03").startswith("[##--------] 3/12 hosts  last: rdsh03")
