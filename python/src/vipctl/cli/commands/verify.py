"""`vipctl verify`: prove each session's instances bind their own address (vipctl_verify)."""

from __future__ import annotations

import time
from typing import Any

from vipctl.bindings.audit import farm_summary
from vipctl.cli import exit_codes
from vipctl.cli.commands.audit import bindings_reports
from vipctl.cli.context import Context, Outcome
from vipctl.cli.jobs import Step, steps_work
from vipctl.cli.output import first_line, host_problem, host_summary, summary_line, table
from vipctl.cli.targets import Target
from vipctl.desired_state import DesiredStateError

HEADERS = ("HOST", "VERIFIED", "OK", "INSTANCES", "NOT RUNNING", "DETAIL")


def _row(record: dict[str, Any]) -> list[Any]:
    result = next((r for r in record["results"] if r["module"] == "vip_bindings"), None)
    if result is not None and (result["data"].get("support") or {}).get("supported") is False:
        return [record["host"], "unsupported", "", "", "", first_line(result["msg"])]
    if result is None or not result["data"].get("verification"):
        return [record["host"], "ERROR", "", "", "", host_problem(record)]
    verification = result["data"]["verification"]
    counts = verification["counts"]
    return [
        record["host"],
        "yes" if verification["ok"] else "NO",
        counts.get("ok", 0),
        sum(counts.values()),
        ", ".join(verification["not_running"]) or "-",
        first_line(result["msg"]),
    ]


def run(ctx: Context) -> Outcome:
    params = ctx.desired.verify_params() if ctx.desired else None
    if params is None:
        raise DesiredStateError("verify needs a desired-state file with vipctl_verify.programs listed")
    start = time.monotonic()

    def plan(target: Target) -> list[Step]:
        return [Step("vip_bindings", params)] if target.is_session_host else []

    sessions = [t for t in ctx.targets if t.is_session_host]
    records = ctx.run(steps_work(plan, check=False), sessions)
    farm = farm_summary(bindings_reports(records))
    summary = host_summary(records)
    text = table(HEADERS, [_row(r) for r in records])
    for record in records:
        for result in record["results"]:
            if result.get("verified") is False:
                text += f"\n\n{record['host']}:\n{result['data']['verification']['table']}"
    text += "\n\n" + summary_line(summary, time.monotonic() - start)
    drift = bool(farm["verification"]["hosts_failed"])
    document = {"command": "verify", "summary": summary, "farm": farm, "hosts": records}
    return Outcome(document, text, exit_codes.combine(errors=summary["failed"] > 0, drift=drift))
