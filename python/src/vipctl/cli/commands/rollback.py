"""`vipctl rollback`: restore the newest backup set not yet restored (or `--set DIR`, or every set
made `--since TIME`) on each host.

The work is the vip_rollback module's task (vipctl.tasks.vip_rollback), so the CLI and the
playbooks restore the same way: run again to step one module call further back.
"""

from __future__ import annotations

import time
from typing import Any

from vipctl.cli import exit_codes
from vipctl.cli.context import Context, Outcome
from vipctl.cli.jobs import HostWork
from vipctl.cli.output import host_problem, host_summary, summary_line, table
from vipctl.cli.targets import Target
from vipctl.tasks.common import Runner
from vipctl.tasks.vip_rollback import MODULE, parse_selection, run_vip_rollback

HEADERS = ("HOST", "SET", "RESULT", "FILES")


def rollback_work(check: bool, wanted: str | None, since: str | None = None) -> HostWork:
    # Validated by the task before any host is contacted (since and sets are exclusive).
    params: dict[str, Any] = {"sets": [wanted] if wanted else [], "since": since}

    def work(target: Target, runner: Runner) -> list[dict[str, Any]]:
        del target
        outcome = run_vip_rollback(params, check=check, runner=runner)
        return [
            {
                "module": MODULE,
                "changed": outcome.changed,
                "failed": outcome.failed,
                "msg": outcome.msg,
                "data": outcome.data,
                "diff": outcome.diff,
                "reboot_required": outcome.reboot_required,
                "warnings": list(outcome.warnings),
                "backups": list(outcome.backups),
            }
        ]

    return work


def _row(record: dict[str, Any]) -> list[Any]:
    if not record["results"]:
        return [record["host"], "", "FAILED", host_problem(record)]
    result = record["results"][0]
    state = "FAILED" if result["failed"] else result["msg"]
    sets = result["data"].get("sets") or []
    names = ", ".join(str(s["name"]) for s in sets) if not result["failed"] else ""
    return [record["host"], names or "-", state, sum(len(s["files"]) for s in sets)]


def run(ctx: Context) -> Outcome:
    start = time.monotonic()
    # Bad --since / --set are bad input (exit 3) before any host is contacted, not a host failure.
    parse_selection({"sets": [ctx.backup_set] if ctx.backup_set else [], "since": ctx.since})
    records = ctx.run(rollback_work(ctx.check, ctx.backup_set, ctx.since))
    summary = host_summary(records)
    text = table(HEADERS, [_row(r) for r in records])
    text += "\n\n" + summary_line(
        summary, time.monotonic() - start, "would restore" if ctx.check else "restored"
    )
    document = {"command": "rollback", "check": ctx.check, "summary": summary, "hosts": records}
    drift = ctx.check and summary["changed"] > 0
    return Outcome(document, text, exit_codes.combine(errors=summary["failed"] > 0, drift=drift))
