"""`vipctl apply`: plan in check mode, show the diff, ask, then write.

The order is `vipctl.changes.feature_order`: when enabling, RD IP Virtualization, the Citrix policy
(Delivery Controllers first, so VDAs can receive it), PreferLoopback last; when anything is being
turned off, the reverse: PreferLoopback first, the controllers last. Only hosts whose plan has
changes are written.
"""

from __future__ import annotations

import time
from typing import Any

from vipctl.changes import FEATURE_LOOPBACK, FEATURE_PREFER, FEATURE_RDS, Desired, feature_order, is_enabling
from vipctl.cli import exit_codes
from vipctl.cli.context import Context, Outcome
from vipctl.cli.jobs import Step, steps_work
from vipctl.cli.output import first_line, host_problem, host_summary, summary_line, table
from vipctl.cli.targets import RDSH, VDAS, Target
from vipctl.desired_state import DesiredState, DesiredStateError
from vipctl.settings import parse_citrix_loopback_policy, parse_prefer_loopback, parse_rds_ip_virtualization

HEADERS = ("HOST", "MODULE", "RESULT", "DETAIL")


def enabling(desired: DesiredState) -> bool:
    """False when the desired state turns any feature off (the settings parsers validate it too)."""

    def parsed(parse: Any, params: dict[str, Any] | None) -> Any:
        return None if params is None else parse(params)

    return is_enabling(
        Desired(
            rds=parsed(parse_rds_ip_virtualization, desired.rds_ip_virtualization),
            loopback=parsed(parse_citrix_loopback_policy, desired.citrix_virtual_loopback),
            prefer=parsed(parse_prefer_loopback, desired.prefer_loopback),
        )
    )


def apply_plan(desired: DesiredState) -> Any:
    params = {
        FEATURE_RDS: desired.rds_ip_virtualization,
        FEATURE_LOOPBACK: desired.citrix_virtual_loopback,
        FEATURE_PREFER: desired.prefer_loopback,
    }
    order = feature_order(enabling(desired))

    def wanted(feature: str, target: Target) -> bool:
        if feature == FEATURE_LOOPBACK:
            return target.is_controller
        if target.is_controller:
            return False
        return (RDSH if feature == FEATURE_RDS else VDAS) in target.groups

    def plan(target: Target) -> list[Step]:
        return [
            Step(feature, values)
            for feature in order
            if (values := params[feature]) is not None and wanted(feature, target)
        ]

    return plan


def controllers_first(desired: DesiredState) -> bool:
    """VDAs receive the policy from their controllers: write it first when enabling, last otherwise."""
    return enabling(desired)


def _state(result: dict[str, Any], check: bool) -> str:
    if result["failed"]:
        return "FAILED"
    if result.get("deferred"):
        return "deferred"
    if result["changed"]:
        return "would change" if check else "changed"
    return "ok"


def _rows(records: list[dict[str, Any]], check: bool) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for record in records:
        if record["error"]:
            rows.append([record["host"], "-", "FAILED", host_problem(record)])
        for result in record["results"]:
            rows.append([record["host"], result["module"], _state(result, check), first_line(result["msg"])])
    return rows


def _diffs(records: list[dict[str, Any]]) -> str:
    parts = []
    for record in records:
        for result in record["results"]:
            diff = result.get("diff") or {}
            if result["changed"] and (diff.get("before") or diff.get("after")):
                parts.append(
                    f"--- {record['host']} {result['module']} (before)\n{diff.get('before', '')}".rstrip()
                )
                parts.append(
                    f"+++ {record['host']} {result['module']} (after)\n{diff.get('after', '')}".rstrip()
                )
    return "\n".join(parts)


def _pending(records: list[dict[str, Any]]) -> set[str]:
    return {
        r["host"] for r in records if r["ok"] and any(x["changed"] or x.get("deferred") for x in r["results"])
    }


def _confirm(ctx: Context, count: int, hosts: int) -> bool:
    if ctx.assume_yes:
        return True
    if not ctx.stdin.isatty():
        raise DesiredStateError("apply would write changes but stdin is not a terminal; rerun with --yes")
    ctx.err.write(f"Apply {count} change(s) on {hosts} host(s)? [y/N] ")
    ctx.err.flush()
    return ctx.stdin.readline().strip().lower() in ("y", "yes")


def run(ctx: Context) -> Outcome:
    if ctx.desired is None:
        raise DesiredStateError("apply needs a desired-state file (--desired FILE)")
    start = time.monotonic()
    plan = apply_plan(ctx.desired)
    active = [t for t in ctx.targets if plan(t)]
    planned = ctx.run(steps_work(plan, check=True), active, label="hosts planned")
    pending = _pending(planned)
    changes = sum(1 for r in planned for x in r["results"] if x["changed"] or x.get("deferred"))
    plan_errors = any(not r["ok"] for r in planned)
    text = "Plan:\n" + table(HEADERS, _rows(planned, True))
    diff = _diffs(planned)
    if diff:
        text += "\n\n" + diff
    document: dict[str, Any] = {"command": "apply", "check": ctx.check, "plan": planned, "hosts": []}
    if ctx.check or not pending:
        summary = host_summary(planned)
        document["summary"] = summary
        verdict = (
            "no changes needed" if not pending else f"{changes} change(s) pending on {len(pending)} host(s)"
        )
        text += f"\n\n{verdict}\n" + summary_line(summary, time.monotonic() - start, "would change")
        return Outcome(document, text, exit_codes.combine(errors=plan_errors, drift=bool(pending)))
    if not ctx.json:
        ctx.out.write(text + "\n\n")
        ctx.out.flush()
    text = ""
    if not _confirm(ctx, changes, len(pending)):
        document["summary"] = host_summary(planned)
        return Outcome(document, "Nothing applied.", exit_codes.OK if not plan_errors else exit_codes.ERRORS)
    writes = [t for t in active if t.name in pending]
    controllers = [t for t in writes if t.is_controller]
    session_hosts = [t for t in writes if not t.is_controller]
    if controllers_first(ctx.desired):
        records = ctx.run(steps_work(plan, check=False), controllers, "controllers")
        records += ctx.run(steps_work(plan, check=False), session_hosts)
    else:
        records = ctx.run(steps_work(plan, check=False), session_hosts)
        records += ctx.run(steps_work(plan, check=False), controllers, "controllers")
    summary = host_summary(records)
    summary["plan_failed_hosts"] = [r["host"] for r in planned if not r["ok"]]
    document.update(hosts=records, summary=summary)
    text += "Applied:\n" + table(HEADERS, _rows(records, False))
    reboot = sorted({r["host"] for r in records for x in r["results"] if x["reboot_required"]})
    if reboot:
        text += f"\n\nrestart needed before new sessions get their addresses: {', '.join(reboot)}"
    text += "\n\n" + summary_line(summary, time.monotonic() - start)
    errors = plan_errors or summary["failed"] > 0
    return Outcome(document, text, exit_codes.combine(errors=errors, drift=False))
