"""`vipctl status`: the vip_status module on every selected host, as a table."""

from __future__ import annotations

import time
from typing import Any

from vipctl.citrix_in_effect import policy_enabled, policy_filtered
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


def loopback_text(data: dict[str, Any]) -> str:
    """What a VDA applied, or on a controller the policy it holds (enabled, filters)."""
    policy = data.get("loopback_policy")
    if policy is not None:
        if not policy.get("exists"):
            return "no policy"
        held = policy.get("policy") or {}
        state = "policy enabled" if policy_enabled(held) else "policy disabled"
        return state + ("" if policy_filtered(held) else ", no filter")
    return _on_off(data["citrix_loopback_applied"])


def unreached_warnings(records: list[dict[str, Any]]) -> list[str]:
    """A site-wide policy with no filter reaches every VDA: name the unsupported ones it reaches."""
    statuses = [
        (r["host"], x["data"])
        for r in records
        for x in r["results"]
        if x["module"] == "vip_status" and not x["failed"]
    ]
    unfiltered = [
        host
        for host, data in statuses
        if (data.get("loopback_policy") or {}).get("exists")
        and policy_enabled(data["loopback_policy"].get("policy") or {})
        and not policy_filtered(data["loopback_policy"].get("policy") or {})
    ]
    reached = [
        host
        for host, data in statuses
        if not data["support"]["supported"] and (data.get("citrix_vda") or {}).get("installed")
    ]
    if not unfiltered or not reached:
        return []
    return [
        f"warning: the Citrix virtual loopback policy on {', '.join(unfiltered)} has no filter, so it "
        f"reaches unsupported VDAs too: {', '.join(reached)}; add a filter (for example DesktopGroup)"
    ]


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
        "yes" if data["support"]["supported"] else "unsupported",
        rds_text,
        loopback_text(data),
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
    warnings = unreached_warnings(records)
    if warnings:
        text += "\n\n" + "\n".join(warnings)
    text += "\n\n" + summary_line(summary, time.monotonic() - start)
    document = {"command": "status", "summary": summary, "hosts": records, "warnings": warnings}
    return Outcome(document, text, exit_codes.combine(errors=summary["failed"] > 0, drift=False))
