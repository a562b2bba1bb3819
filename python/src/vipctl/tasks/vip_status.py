"""Module task: read-only status and compliance findings of one host."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from vipctl import registry_map
from vipctl.citrix_in_effect import UNSUPPORTED_POLICY_WARNING, observed_loopback_applied
from vipctl.executor.codec import Response
from vipctl.host_requests.common import (
    CITRIX_APPLIED,
    CITRIX_POLICY,
    FACTS,
    PREFER,
    RDS_POLICY,
    SESSIONS,
    TSVIP,
    WINSOCK_KEY,
    WINSOCK_RENAMED,
)
from vipctl.host_requests.vip_status import status_request
from vipctl.host_support import HostVerdict
from vipctl.loopback import LoopbackError, citrix_loopback_address, microsoft_loopback_address
from vipctl.rds_in_effect import EffectiveValue, effective_rds, registry_value
from vipctl.restart import PendingRestart, pending_restart
from vipctl.settings import parse_status_query
from vipctl.tasks.common import Runner, TaskResult, failed_result, host_verdict

MODULE: Final = "vip_status"
# Session 0 runs services; Windows never virtualizes it.
SERVICES_SESSION: Final = 0
# Why a session gets no expected address (docs/windows-facts.md#sessions-that-are-never-virtualized).
SERVICES_SESSION_REASON: Final = "session 0 is never virtualized"
ADMIN_SESSION_REASON: Final = "/admin sessions are never virtualized"


def _winsock_state(verdict: HostVerdict, response: Response) -> str:
    if not verdict.needs_winsock_fix:
        return "not_applicable"
    if response.data(WINSOCK_KEY).get("exists"):
        return "needed"
    # Renamed by vipctl (rollback can put it back), or simply not there (removed by hand, or an
    # image that never had it): both leave IP virtualization free to work.
    return "applied" if response.data(WINSOCK_RENAMED).get("exists") else "absent"


def _sessions(response: Response, rds: Mapping[str, EffectiveValue]) -> list[dict[str, Any]]:
    rows = response.data(SESSIONS).get("sessions")
    out = []
    for row in rows if isinstance(rows, list) else []:
        session_id = row.get("id")
        # Only a literal true counts: an executor that predates the field, or cannot tell, omits
        # it or says false, and the session is then treated as an ordinary one.
        admin = row.get("admin") is True
        not_virtualized: str | None = None
        if session_id == SERVICES_SESSION:
            not_virtualized = SERVICES_SESSION_REASON
        elif admin:
            not_virtualized = ADMIN_SESSION_REASON
        citrix: str | None = None
        microsoft: str | None = None
        if not_virtualized is None:
            try:
                citrix = citrix_loopback_address(session_id)
                if rds["virtualize_loopback"].value:
                    microsoft = microsoft_loopback_address(session_id)
            except LoopbackError:
                citrix = None
        out.append(
            {
                "id": session_id,
                "user": row.get("user"),
                "state": row.get("state"),
                "virtual_ip": row.get("virtual_ip"),
                "admin": admin,
                "expected_citrix_loopback": citrix,
                "expected_microsoft_loopback": microsoft,
                "not_virtualized": not_virtualized,
            }
        )
    return out


def _findings(
    verdict: HostVerdict,
    winsock: str,
    rds: Mapping[str, EffectiveValue],
    prefer_on: bool,
    loopback_on: bool | None,
    pending_reboot: bool,
    restart: PendingRestart,
) -> list[str]:
    findings = []
    configured = rds["enabled"].value or prefer_on
    if not verdict.supported and configured:
        findings.append(f"features are configured on an unsupported host: {verdict.reason}")
    if rds["enabled"].value and winsock == "needed":
        findings.append("RD IP Virtualization is enabled but the Winsock fix (KB 4501072) is not applied")
    if rds["enabled"].value and rds["adapter"].value is None:
        findings.append("RD IP Virtualization is enabled but no adapter is selected, so it stays off")
    if rds["enabled"].value and rds["mode"].value == "per_program" and not rds["programs"].value:
        findings.append("RD IP Virtualization is per program but the program list is empty")
    if prefer_on and not rds["enabled"].value:
        findings.append("PreferLoopback is set while RD IP Virtualization is off")
    if prefer_on and loopback_on is False:
        findings.append("PreferLoopback is set while Citrix virtual loopback is off")
    if not verdict.supported and loopback_on:
        findings.append(UNSUPPORTED_POLICY_WARNING)
    if restart.pending:
        findings.append(
            f"{restart.describe()} (since {restart.since}): new sessions get their addresses after it"
        )
    elif pending_reboot:
        findings.append("a restart is pending: recent changes may not be in effect yet")
    return findings


def run_vip_status(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Read everything in one request; never writes (`check` and `now` exist for a uniform signature)."""
    query = parse_status_query(params)
    built = status_request(query)
    response = runner(built.request)
    failure = response.first_failure()
    if failure is not None:
        return failed_result(response, failure)
    facts = response.data(FACTS)
    verdict = host_verdict(response)
    assert verdict is not None  # host_facts ran without failing
    tsvip = response.data(TSVIP)
    rds = effective_rds(
        response.data(RDS_POLICY).get("values") or {},
        tsvip.get("properties") if tsvip.get("available") else None,
    )
    winsock = _winsock_state(verdict, response)
    prefer_values = response.data(PREFER).get("values") or {}
    prefer_on = registry_value(prefer_values, registry_map.PREFER_LOOPBACK.name) == 1
    loopback_on = observed_loopback_applied(response.data(CITRIX_APPLIED).get("values") or {})
    policy = response.data(CITRIX_POLICY)
    restart = pending_restart(response)
    data = {
        "os": {
            "computer_name": facts.get("computer_name"),
            "product_name": facts.get("product_name"),
            "build": facts.get("build_number"),
        },
        "support": verdict.to_dict(),
        "rds_role_installed": bool(facts.get("rds_role_installed")),
        "rds_ip_virtualization": {name: value.to_dict() for name, value in rds.items()},
        "winsock_fix": winsock,
        "citrix_vda": facts.get("citrix_vda") or {"installed": False},
        "citrix_controller": facts.get("citrix_controller") or {"installed": False},
        "citrix_loopback_applied": loopback_on,
        "loopback_policy": (
            {"exists": bool(policy.get("exists")), "policy": policy.get("policy")}
            if response.ran(CITRIX_POLICY)
            else None
        ),
        "prefer_loopback": {
            "enabled": prefer_on,
            "processes": registry_value(prefer_values, registry_map.PREFER_LOOPBACK_PROCESSES.name) or [],
        },
        "sessions": _sessions(response, rds),
        "restart": restart.to_dict(),
        "findings": _findings(
            verdict, winsock, rds, prefer_on, loopback_on, bool(facts.get("pending_reboot")), restart
        ),
    }
    msg = f"{facts.get('computer_name')}: {verdict.reason}"
    if restart.pending:
        msg += f"; {restart.describe()}"
    warnings = list(verdict.warnings)
    if not verdict.supported and loopback_on:
        warnings.append(UNSUPPORTED_POLICY_WARNING)
    return TaskResult(changed=False, msg=msg, data=data, warnings=warnings)
