"""`vipctl apply`: plan in check mode, show the diff, ask, then write.

The order is `vipctl.changes.feature_order`: when enabling, RD IP Virtualization, the Citrix policy
(Delivery Controllers first, so VDAs can receive it), PreferLoopback last; when anything is being
turned off, the reverse: PreferLoopback first, the controllers last. Only hosts whose plan has
changes are written.
"""

from __future__ import annotations

import re
import time
from typing import Any

from vipctl.changes import FEATURE_LOOPBACK, FEATURE_PREFER, FEATURE_RDS, Desired, feature_order, is_enabling
from vipctl.cli import exit_codes
from vipctl.cli.context import Context, Outcome
from vipctl.cli.jobs import Step, steps_work
from vipctl.cli.output import first_line, host_problem, host_summary, is_unsupported, summary_line, table
from vipctl.cli.targets import RDSH, VDAS, Target
from vipctl.desired_state import DesiredState, DesiredStateError
from vipctl.display import terminal_text
from vipctl.host_requests.common import SUPPORTED
from vipctl.inventory_file import InventoryError
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


def idle_reason(target: Target, desired: DesiredState) -> str:
    """Why `apply` leaves `target` alone (its plan is empty)."""
    if target.is_controller:
        return (
            "is a Delivery Controller (citrix_controllers) and the desired state sets no"
            " vipctl_citrix_virtual_loopback"
        )
    groups = [group for group in (RDSH, VDAS) if group in target.groups]
    if not groups:
        return f"is in neither {RDSH} nor {VDAS}, the groups apply configures"
    features = {RDSH: "vipctl_rds_ip_virtualization", VDAS: "vipctl_prefer_loopback"}
    keys = " or ".join(features[g] for g in groups)
    return f"is in {' and '.join(groups)}, but the desired state sets no {keys}"


def _named_in_limit(limit: str | None) -> set[str]:
    """Hosts or groups the --limit pattern names to include ('vda01,rdsh:!vda03' -> vda01, rdsh)."""
    tokens = re.split(r"[,:]", limit or "")
    return {token.strip() for token in tokens if token.strip() and token.strip()[0] not in "!&"}


def _refuse_idle(ctx: Context, idle: list[Target], desired: DesiredState) -> None:
    """A host the user named that apply would leave alone is a mistake to report, not "no changes".

    So is a selection where no host at all has anything to apply."""
    named = [t for t in idle if t.name in _named_in_limit(ctx.limit)]
    refused = idle if len(idle) == len(ctx.targets) else named
    if not refused:
        return
    lines = "; ".join(f"{t.name} {idle_reason(t, desired)}" for t in refused)
    raise InventoryError(
        f"apply would leave alone: {lines}. Add the host to the right group or the desired state,"
        " or leave it out of --limit"
    )


def controllers_first(desired: DesiredState) -> bool:
    """VDAs receive the policy from their controllers: write it first when enabling, last otherwise."""
    return enabling(desired)


def _state(result: dict[str, Any], check: bool) -> str:
    if result.get("unsupported"):
        return "unsupported"
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


def leave_out_unsupported(records: list[dict[str, Any]]) -> None:
    """vipctl_fail_on_unsupported: false: an unsupported host's refusal is reported, not an error."""
    for record in records:
        if record["error"] is not None or not is_unsupported(record):
            continue
        for result in record["results"]:
            if result["failed"] and (result["data"].get("error") or {}).get("op") == SUPPORTED:
                result.update(failed=False, unsupported=True, msg=f"left out: {result['msg']}")
        record["ok"] = not any(x["failed"] for x in record["results"])


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
    idle = [t for t in ctx.targets if not plan(t)]
    _refuse_idle(ctx, idle, ctx.desired)
    planned = ctx.run(steps_work(plan, check=True), active, label="hosts planned")
    if not ctx.desired.fail_on_unsupported:
        leave_out_unsupported(planned)
    pending = _pending(planned)
    changes = sum(1 for r in planned for x in r["results"] if x["changed"] or x.get("deferred"))
    plan_errors = any(not r["ok"] for r in planned)
    text = "Plan:\n" + table(HEADERS, _rows(planned, True))
    if idle:
        text += "\n\nleft alone: " + "; ".join(f"{t.name} {idle_reason(t, ctx.desired)}" for t in idle)
    diff = _diffs(planned)
    if diff:
        text += "\n\n" + diff
    document: dict[str, Any] = {
        "command": "apply",
        "check": ctx.check,
        "plan": planned,
        "hosts": [],
        "left_alone": [{"host": t.name, "reason": idle_reason(t, ctx.desired)} for t in idle],
    }
    if ctx.check or not pending:
        summary = host_summary(planned)
        document["summary"] = summary
        verdict = (
            "no changes needed" if not pending else f"{changes} change(s) pending on {len(pending)} host(s)"
        )
        text += f"\n\n{verdict}\n" + summary_line(summary, time.monotonic() - start, "would change")
        return Outcome(document, text, exit_codes.combine(errors=plan_errors, drift=bool(pending)))
    if not ctx.json:
        # Printed before the final output, so redacted here like the rest at the output boundary.
        ctx.out.write(terminal_text(ctx.redactor.text(text)) + "\n\n")
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
    summary = host_summary([*records, *(r for r in planned if r["host"] not in pending)])
    summary["plan_failed_hosts"] = [r["host"] for r in planned if not r["ok"]]
    document.update(hosts=records, summary=summary)
    text += "Applied:\n" + table(HEADERS, _rows(records, False))
    reboot = sorted({r["host"] for r in records for x in r["results"] if x["reboot_required"]})
    if reboot:
        text += f"\n\nrestart needed before new sessions get their addresses: {', '.join(reboot)}"
    text += "\n\n" + summary_line(summary, time.monotonic() - start)
    errors = plan_errors or summary["failed"] > 0
    return Outcome(document, text, exit_codes.combine(errors=errors, drift=False))
