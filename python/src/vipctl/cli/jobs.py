"""Run module tasks on many hosts: one open transport per host, the fleet runner, one record per host.

Each host runs its steps in order over one session; a failed step stops that host's later steps
(as a failed task stops a host in a play) but never another host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vipctl.cli.session import HostSession, SessionPool
from vipctl.cli.targets import Target
from vipctl.executor import bootstrap
from vipctl.fleet import ProgressCallback
from vipctl.fleet_processes import run_fleet_in_processes, worker_processes
from vipctl.tasks import TASKS
from vipctl.tasks.common import Runner, TaskResult


@dataclass(frozen=True)
class Step:
    module: str
    params: Mapping[str, Any] = field(default_factory=dict)


# What to run on one host; an empty list means the host has nothing to do for this command.
HostPlan = Callable[[Target], list[Step]]
# A custom unit of work for commands that are not module tasks (rollback).
HostWork = Callable[[Target, Runner], list[dict[str, Any]]]


def _result(module: str, outcome: TaskResult) -> dict[str, Any]:
    return {
        "module": module,
        "changed": outcome.changed,
        "failed": outcome.failed,
        "msg": outcome.msg,
        "data": outcome.data,
        "diff": outcome.diff,
        "reboot_required": outcome.reboot_required,
        "warnings": list(outcome.warnings),
        "backups": list(outcome.backups),
    }


def _deferred(result: dict[str, Any]) -> bool:
    """In a plan, a guard that refuses only because an earlier step has not been applied yet."""
    error = result["data"].get("error") if isinstance(result["data"], dict) else None
    return isinstance(error, dict) and error.get("kind") == "precondition_failed"


def run_steps(target: Target, steps: list[Step], runner: Runner, *, check: bool) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for step in steps:
        result = _result(step.module, TASKS[step.module](step.params, check=check, runner=runner))
        if result["failed"] and step.module == "vip_bindings" and result["data"].get("verification"):
            # A verification that ran and found wrong binds is a finding about the host, not an error.
            result.update(failed=False, verified=False)
        elif step.module == "vip_bindings" and result["data"].get("verification"):
            result["verified"] = True
        if check and result["failed"] and _deferred(result) and any(r["changed"] for r in results):
            result.update(
                failed=False,
                deferred=True,
                msg=f"checked when applied: {result['msg']} (until the steps above are applied)",
            )
        results.append(result)
        if result["failed"]:
            break
    return results


def steps_work(plan: HostPlan, *, check: bool) -> HostWork:
    def work(target: Target, runner: Runner) -> list[dict[str, Any]]:
        return run_steps(target, plan(target), runner, check=check)

    return work


def run_on_hosts(
    targets: list[Target],
    work: HostWork,
    *,
    forks: int,
    sessions: SessionPool | None = None,
    progress: ProgressCallback | None = None,
) -> list[dict[str, Any]]:
    """One record per target, in inventory order: results, error, elapsed seconds, requests sent.

    Records are not redacted here: the CLI redacts everything once, at its output boundary.
    With many hosts the run is spread over worker processes (`forks` stays the total); those
    open their own sessions and close them when the host is done. In-process, `sessions` keeps
    each host's session open for the rest of the CLI run."""
    by_name = {t.name: t for t in targets}
    processes = worker_processes(len(targets), forks)
    pool = sessions if processes == 1 else None

    def one(name: str) -> dict[str, Any]:
        target = by_name[name]
        record: dict[str, Any] = {"host": name, "groups": list(target.groups), "results": [], "error": None}
        start = time.monotonic()
        session = pool.session(target.settings) if pool is not None else HostSession(target.settings)
        before = session.requests
        try:
            record["results"] = work(target, session)
        except Exception as exc:
            # A transport or executor failure ends this host's run; the message names the host.
            record["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            if pool is None:
                session.close()
        record["requests"] = session.requests - before
        record["elapsed"] = round(time.monotonic() - start, 3)
        record["ok"] = record["error"] is None and not any(r.get("failed") for r in record["results"])
        return record

    names = [t.name for t in targets]
    if processes > 1:
        # Compressed once here, so the forked workers inherit it rather than each compressing it.
        bootstrap.shipped_script_line()
    outcomes = run_fleet_in_processes(
        names, one, forks=forks, processes=processes, progress=progress, succeeded=lambda r: bool(r["ok"])
    )
    records = []
    for outcome in outcomes:
        if outcome.ok and outcome.value is not None:
            records.append(outcome.value)
        else:
            records.append(
                {
                    "host": outcome.host,
                    "groups": list(by_name[outcome.host].groups),
                    "results": [],
                    "error": f"{outcome.error_type}: {outcome.error}",
                    "ok": False,
                    "requests": 0,
                    "elapsed": round(outcome.elapsed, 3),
                }
            )
    return records
