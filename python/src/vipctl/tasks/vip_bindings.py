"""Module task: the TCPView procedure in one read-only request, with optional verification.

One request reads everything the audit needs (host facts, sessions, the socket table, the RD IP
Virtualization state, PreferLoopback and the Citrix policy a VDA cached), so the socket table and
the settings it is judged against are one snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from vipctl import registry_map, restart
from vipctl.bindings.audit import audit_host
from vipctl.bindings.in_force import Feature, effective_settings
from vipctl.bindings.model import BindingsDataError, parse_net_endpoints, parse_sessions
from vipctl.bindings.query import BindingsQuery, parse_bindings_query
from vipctl.citrix_in_effect import UNSUPPORTED_POLICY_WARNING, observed_loopback_applied
from vipctl.executor.codec import Response
from vipctl.host_requests.common import (
    CITRIX_APPLIED,
    FACTS,
    PREFER,
    RDS_POLICY,
    SESSIONS,
    TSVIP,
    new_request,
)
from vipctl.restart import NOT_YET_VIRTUALIZED, pending_restart
from vipctl.tasks.common import Runner, TaskResult, failed_result, host_verdict, utc_now

MODULE: Final = "vip_bindings"
ENDPOINTS: Final = "endpoints"


def bindings_request() -> dict[str, Any]:
    """Reads only: no backup directory, and check mode changes nothing."""
    on_vda = [{"ref": FACTS, "path": ["data", "citrix_vda", "installed"], "in": [True]}]
    ops: list[dict[str, Any]] = [
        {"op": "host_facts", "id": FACTS},
        {"op": "sessions", "id": SESSIONS},
        {"op": "net_endpoints", "id": ENDPOINTS},
        {"op": "tsvip_get", "id": TSVIP},
        {"op": "registry_get", "id": RDS_POLICY, "path": registry_map.RDS_POLICY_KEY},
        {"op": "registry_get", "id": PREFER, "path": registry_map.PREFER_LOOPBACK_KEY},
        # Only a VDA caches Citrix policy; elsewhere the read is skipped and loopback counts as off.
        {
            "op": "registry_get",
            "id": CITRIX_APPLIED,
            "path": registry_map.CITRIX_APPLIED_VIP_KEY,
            "when": on_vda,
        },
        restart.state_op(),
    ]
    return new_request(ops, check=True, backup_dir=None)


def _summary_msg(report: Mapping[str, Any]) -> str:
    clashes = report["clashes"]
    failed_binds = sum(c["failed_binds"] for c in clashes)
    needing = [r for r in report["recommendations"] if r["recommendation"] != "none"]
    return (
        f"{len(needing)} program(s) bind 0.0.0.0, 127.0.0.1 or a server IP; "
        f"{len(clashes)} port clash(es) across sessions, {failed_binds} failed bind(s)"
    )


def _warnings(query: BindingsQuery, response: Response, report: Mapping[str, Any]) -> list[str]:
    warnings: list[str] = []
    verification = report.get("verification")
    if verification and verification["not_running"]:
        names = ", ".join(verification["not_running"])
        warnings.append(f"not running, so not verified: {names} (start it in a user session and rerun)")
    if query.expect and query.expect.feature is Feature.RDS_IP and not response.data(TSVIP).get("available"):
        warnings.append("Win32_TSVirtualIP is not available: is the RD Session Host role installed?")
    return warnings


def _verification_result(report: dict[str, Any], warnings: list[str]) -> TaskResult:
    verification = report["verification"]
    counts = verification["counts"]
    total = sum(counts.values())
    if verification["ok"]:
        msg = f"all {total} instance(s) of {', '.join(verification['programs'])} bind their expected address"
        return TaskResult(msg=msg, data=report, warnings=warnings)
    restart = report.get("restart") or {}
    if restart.get("pending"):
        why = f" ({NOT_YET_VIRTUALIZED}: {'; '.join(restart.get('reasons') or [])})"
        fix = "restart the host, let the users log on again, then verify again"
    else:
        why = ""
        fix = (
            "check with vip_status that the feature covers these programs, and that their sessions "
            "started after it took effect"
        )
    # One line to read, then the failing instances, one per line (the table; msg_details in Ansible).
    msg = (
        f"{total - counts['ok']} of {total} instance(s) do not bind their expected address{why}; fix: {fix}\n"
    )
    return TaskResult(failed=True, msg=msg + verification["failures_table"], data=report, warnings=warnings)


def run_vip_bindings(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Audit one host's bindings; with `expect`, fail unless every instance binds where it should.

    Read-only, so `check` changes nothing and `changed` is always False.
    """
    del check  # nothing is written either way
    query = parse_bindings_query(params)  # SettingsError here, before any round trip
    response = runner(bindings_request())
    failure = response.first_failure()
    if failure is not None:
        return failed_result(response, failure)
    try:
        table = parse_net_endpoints(response.data(ENDPOINTS))
        sessions = parse_sessions(response.data(SESSIONS))
    except BindingsDataError as exc:
        return TaskResult(failed=True, msg=f"the host's socket data is malformed: {exc}")
    settings = effective_settings(
        tsvip=response.data(TSVIP),
        rds_policy_key=response.data(RDS_POLICY),
        prefer_loopback_key=response.data(PREFER),
        citrix_applied_key=response.data(CITRIX_APPLIED),
    )
    if query.expect:
        settings = settings.asserting(query.expect.feature, query.expect.programs)
    facts = response.data(FACTS)
    pending = pending_restart(response)
    report = audit_host(
        str(facts.get("computer_name") or ""),
        table=table,
        sessions=sessions,
        server_ips=[str(ip) for ip in facts.get("ip_addresses") or []],
        include_system=query.include_system,
        endpoint_filter=query.endpoint_filter,
        expect=query.expect,
        settings=settings,
        failure_reason=NOT_YET_VIRTUALIZED if pending.pending else None,
    )
    report["restart"] = pending.to_dict()
    report["checked_at"] = utc_now(now).isoformat()
    warnings = _warnings(query, response, report)
    verdict = host_verdict(response)
    if verdict is not None:
        report["support"] = verdict.to_dict()
    if verdict is not None and not verdict.supported:
        return _unsupported_result(report, verdict.reason, response, warnings)
    if report["verification"] is None:
        return TaskResult(msg=_summary_msg(report), data=report, warnings=warnings)
    return _verification_result(report, warnings)


def _unsupported_result(
    report: dict[str, Any], reason: str, response: Response, warnings: list[str]
) -> TaskResult:
    """Visible, never advised and never verified: the features cannot be used on this OS."""
    report["recommendations"] = []
    report["verification"] = None
    warnings = [*warnings, f"unsupported host ({reason}): no recommendation and no verification"]
    loopback = observed_loopback_applied(response.data(CITRIX_APPLIED).get("values") or {})
    if loopback:
        warnings.append(UNSUPPORTED_POLICY_WARNING)
    return TaskResult(msg=f"unsupported: {reason}; {_summary_msg(report)}", data=report, warnings=warnings)
