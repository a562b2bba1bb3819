"""`vipctl status`: the vip_status module on every selected host, as a table."""

from __future__ import annotations

import time
from typing import Any

from vipctl.cli import exit_codes
from vipctl.cli.context import Context, Outcome
from vipctl.cli.jobs import Step, steps_work
from vipctl.cli.output import host_problem, host_summary, summary_line, table
from vipctl.cli.targets import Target

HEADERS = (
    "HOST",
    "OS",
    "SUPPORTED",
    "RD IP VIRT",
    "LOOPBACK",
    "PREFER",
    "WINSOCK FIX",
    "RESTART",
    "FINDINGS",
)


def status_plan(target: Target) -> list[Step]:
    del target  # every host gets the same read
    return [Step("vip_status")]


def _on_off(value: Any) -> str:
    return {True: "on", False: "off"}.get(value, "unknown")


def status_row(record: dict[str, Any]) -> list[Any]:
    status = next((r for r in record["results"] if r["module"] == "vip_status" and not r["failed"]), None)
    if status is None:
        return [record["host"], "", "", "", "", "", "", "", f"FAILED: {host_problem(record)}"]
    data = status["data"]
    rds = data["rds_ip_virtualization"]
    rds_text = _on_off(rds["enabled"]["value"])
    if rds["enabled"]["value"]:
        rds_text += f" ({rds['mode']['value']})"
    findings = data["findings"]
    return [
        record["host"],
        data["os"]["product_name"],
        "yes" if data["support"]["supported"] else "no",
        rds_text,
        _on_off(data["citrix_loopback_applied"]),
        _on_off(data["prefer_loopback"]["enabled"]),
        data["winsock_fix"],
        "pending" if (data.get("restart") or {}).get("pending") else "-",
        "; ".join(findings) if findings else "-",
    ]


def run(ctx: Context) -> Outcome:
    start = time.monotonic()
    records = ctx.run(steps_work(status_plan, check=False))
    summary = host_summary(records)
    text = table(HEADERS, [status_row(r) for r in records])
    text += "\n\n" + summary_line(summary, time.monotonic() - start)
    document = {"command": "status", "summary": summary, "hosts": records}
    return Outcome(document, text, exit_codes.combine(errors=summary["failed"] > 0, drift=False))
