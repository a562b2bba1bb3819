"""vip_bindings: the TCPView procedure in one read-only request, with optional verification.

One request reads everything the audit needs (host facts, sessions, the socket table, the RD IP
Virtualization state, PreferLoopback and the Citrix policy a VDA cached), so the socket table and
the settings it is judged against are a single snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vipctl import registry_map as rm
from vipctl.bindings.audit import audit_host
from vipctl.bindings.effective import Feature, effective_settings
from vipctl.bindings.model import BindingsDataError, parse_net_endpoints, parse_sessions
from vipctl.bindings.query import BindingsQuery, parse_bindings_query
from vipctl.tasks.common import Runner, TaskResult

_KEYS = {
    "rds_policy": (rm.RDS_POLICY_KEY, [v.name for v in rm.RDS_POLICY_VALUES]),
    "prefer_loopback": (rm.PREFER_LOOPBACK_KEY, [v.name for v in rm.PREFER_LOOPBACK_VALUES]),
    "citrix_applied": (rm.CITRIX_APPLIED_VIP_KEY, [v.name for v in rm.CITRIX_APPLIED_VALUES]),
}


def build_request(check: bool) -> dict[str, Any]:
    """The one request: reads only, so no backup directory."""
    ops: list[dict[str, Any]] = [
        {"op": "host_facts", "id": "facts"},
        {"op": "sessions", "id": "sessions"},
        {"op": "net_endpoints", "id": "endpoints"},
        {"op": "tsvip_get", "id": "tsvip"},
    ]
    ops.extend(
        {"op": "registry_get", "id": op_id, "path": path, "names": names}
        for op_id, (path, names) in _KEYS.items()
    )
    return {"v": 1, "check": check, "backup_dir": None, "ops": ops}


def _results(response: Mapping[str, Any]) -> tuple[dict[str, Mapping[str, Any]], str | None]:
    """Op data by id, or the first failure in words."""
    if response.get("error"):
        error = response["error"]
        return {}, f"executor refused the request: {error.get('kind')}: {error.get('message')}"
    found: dict[str, Mapping[str, Any]] = {}
    for result in response.get("results", []):
        if not result.get("ok"):
            error = result.get("error", {})
            return {}, f"{result.get('op')} failed: {error.get('kind')}: {error.get('message')}"
        found[str(result.get("id"))] = result.get("data") or {}
    missing = [op["id"] for op in build_request(False)["ops"] if op["id"] not in found]
    if missing:
        return {}, f"executor response lacks results for {', '.join(missing)}"
    return found, None


def _failed(msg: str, data: dict[str, Any] | None = None) -> TaskResult:
    return TaskResult(changed=False, failed=True, msg=msg, data=data or {})


def _summary_msg(report: Mapping[str, Any]) -> str:
    clashes = report["clashes"]
    failed_binds = sum(c["failed_binds"] for c in clashes)
    needing = [r for r in report["recommendations"] if r["recommendation"] != "none"]
    return (
        f"{len(needing)} program(s) bind 0.0.0.0, 127.0.0.1 or a server IP; "
        f"{len(clashes)} port clash(es) across sessions, {failed_binds} failed bind(s)"
    )


def _warnings(
    query: BindingsQuery, data: Mapping[str, Mapping[str, Any]], report: Mapping[str, Any]
) -> list[str]:
    warnings: list[str] = []
    verification = report.get("verification")
    if verification and verification["not_running"]:
        warnings.append(
            "not running, so not verified: "
            + ", ".join(verification["not_running"])
            + " (start it in a session)"
        )
    if query.expect and query.expect.feature is Feature.RDS_IP and not data["tsvip"].get("available"):
        warnings.append("Win32_TSVirtualIP is not available: the RD Session Host role is missing")
    return warnings


def run_vip_bindings(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Audit one host's bindings; with `expect`, fail unless every instance binds where it should."""
    query = parse_bindings_query(params)  # SettingsError before any round trip
    response = runner(build_request(check))
    data, error = _results(response)
    if error:
        return _failed(error)
    try:
        table = parse_net_endpoints(data["endpoints"])
        sessions = parse_sessions(data["sessions"])
    except BindingsDataError as exc:
        return _failed(f"executor data malformed: {exc}")
    settings = effective_settings(
        tsvip=data["tsvip"],
        rds_policy_key=data["rds_policy"],
        prefer_loopback_key=data["prefer_loopback"],
        citrix_applied_key=data["citrix_applied"],
    )
    if query.expect:
        settings = settings.asserting(query.expect.feature, query.expect.programs)
    facts = data["facts"]
    server_ips = [str(ip) for ip in facts.get("ip_addresses") or []]
    host = str(facts.get("computer_name") or "")
    report = audit_host(
        host,
        table=table,
        sessions=sessions,
        server_ips=server_ips,
        include_system=query.include_system,
        endpoint_filter=query.endpoint_filter,
        expect=query.expect,
        settings=settings,
    )
    report["checked_at"] = (now or datetime.now(UTC)).isoformat()
    warnings = _warnings(query, data, report)
    verification = report["verification"]
    if verification is None:
        return TaskResult(
            changed=False, failed=False, msg=_summary_msg(report), data=report, warnings=warnings
        )
    counts = verification["counts"]
    total = sum(counts.values())
    if verification["ok"]:
        msg = f"all {total} instance(s) of {', '.join(verification['programs'])} bind their expected address"
        return TaskResult(changed=False, failed=False, msg=msg, data=report, warnings=warnings)
    bad = total - counts["ok"]
    msg = f"{bad} of {total} instance(s) do not bind their expected address:\n{verification['table']}"
    return TaskResult(changed=False, failed=True, msg=msg, data=report, warnings=warnings)
