"""`vipctl audit`: status and the TCPView-equivalent per host, then the farm-wide clash analysis.

With a desired-state file that lists `vipctl_verify.programs`, the audit also verifies them, so
one run yields every section of the farm report.
"""

from __future__ import annotations

import time
from typing import Any

from vipctl.bindings.audit import farm_summary
from vipctl.cli import exit_codes
from vipctl.cli.commands.status import status_row
from vipctl.cli.context import Context, Outcome
from vipctl.cli.jobs import Step, steps_work
from vipctl.cli.output import host_problem, host_summary, summary_line, table
from vipctl.cli.targets import Target
from vipctl.display import disguising_characters

HEADERS = ("HOST", "NEEDS VIRTUAL IP / LOOPBACK", "CLASHES", "FAILED BINDS", "VERIFIED")


def bindings_reports(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r["data"]
        for rec in records
        for r in rec["results"]
        if r["module"] == "vip_bindings" and "clashes" in r["data"]
    ]


def verified_text(result: dict[str, Any] | None) -> str:
    if result is None or "verified" not in result:
        return "-"
    return "yes" if result["verified"] else "NO"


def flagged_name(name: str) -> str:
    """A host's program name, marked when bidi or zero-width characters make it look like another."""
    hidden = disguising_characters(name)
    return f"{name} [DISGUISED: {' '.join(hidden)}]" if hidden else name


def disguised_names(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every program name a host reported that holds bidi or zero-width characters."""
    found: dict[tuple[str, str], list[str]] = {}
    for report in bindings_reports(records):
        for endpoint in report.get("endpoints", []):
            name = str(endpoint.get("process") or "")
            if disguising_characters(name):
                found[(str(report.get("host", "")), name)] = disguising_characters(name)
    return [{"host": h, "program": p, "characters": c} for (h, p), c in found.items()]


def _row(record: dict[str, Any]) -> list[Any]:
    result = next((r for r in record["results"] if r["module"] == "vip_bindings"), None)
    if result is None or "clashes" not in result["data"]:
        state = "(not audited)" if record["ok"] else f"FAILED: {host_problem(record)}"
        return [record["host"], state, "", "", ""]
    data = result["data"]
    if (data.get("support") or {}).get("supported") is False:
        return [record["host"], f"(unsupported: {data['support']['reason']})", len(data["clashes"]), "", "-"]
    needing = [
        f"{flagged_name(a['program'])} ({a['recommendation']})"
        for a in data["recommendations"]
        if a["recommendation"] != "none"
    ]
    failed_binds = sum(c["failed_binds"] for c in data["clashes"])
    return [
        record["host"],
        ", ".join(needing) or "-",
        len(data["clashes"]),
        failed_binds,
        verified_text(result),
    ]


def farm_text(farm: dict[str, Any]) -> str:
    clashes = farm["clashes"]
    lines = [
        f"Farm: {farm['hosts']} host(s) audited; {clashes['clashes']} clash(es), "
        f"{clashes['unresolved']} unresolved, {clashes['failed_binds']} failed bind(s)",
        f"  needs Citrix virtual loopback: {', '.join(map(flagged_name, farm['virtual_loopback'])) or '-'}",
        f"  needs RD IP Virtualization:    {', '.join(map(flagged_name, farm['virtual_ip'])) or '-'}",
        f"  needs PreferLoopback (both):   {', '.join(map(flagged_name, farm['prefer_loopback'])) or '-'}",
        f"  resolved (own address):        {', '.join(map(flagged_name, farm.get('resolved') or [])) or '-'}",
    ]
    verification = farm["verification"]
    if verification["hosts_checked"]:
        lines.append(
            f"  verification: {verification['hosts_checked']} host(s) checked, "
            f"failed on: {', '.join(verification['hosts_failed']) or 'none'}"
        )
    return "\n".join(lines)


def run(ctx: Context) -> Outcome:
    start = time.monotonic()
    verify = ctx.desired.verify_params() if ctx.desired else None

    def plan(target: Target) -> list[Step]:
        if not target.is_session_host:
            return [Step("vip_status")]
        return [Step("vip_status"), Step("vip_bindings", verify or {})]

    records = ctx.run(steps_work(plan, check=False))
    farm = farm_summary(bindings_reports(records))
    summary = host_summary(records)
    text = "\n\n".join(
        [
            table(HEADERS, [_row(r) for r in records]),
            farm_text(farm),
            summary_line(summary, time.monotonic() - start),
        ]
    )
    drift = bool(farm["verification"]["hosts_failed"])
    document = {"command": "audit", "summary": summary, "farm": farm, "hosts": records}
    document["status_rows"] = [status_row(r) for r in records]
    document["disguised_names"] = disguised_names(records)
    return Outcome(document, text, exit_codes.combine(errors=summary["failed"] > 0, drift=drift))
