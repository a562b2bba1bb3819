"""One host's bindings audit as JSON-able data, and the farm-wide view over many hosts.

The host report is plain data (no dataclasses) so that it travels unchanged through Ansible
results, the fleet runner and the report templates, and `farm_summary` can be given reports
that were saved and loaded back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from vipctl.bindings.clashes import Clash, find_clashes
from vipctl.bindings.expect import ExpectSpec, InstanceCheck, Verdict, check_programs, render_table
from vipctl.bindings.exposure import Exposure, find_exposures, is_system
from vipctl.bindings.filters import EndpointFilter
from vipctl.bindings.in_force import EffectiveSettings
from vipctl.bindings.model import EndpointTable, Session, program_key
from vipctl.bindings.recommend import ProgramAdvice, Recommendation, recommend


def _exposure(exp: Exposure) -> dict[str, Any]:
    ep = exp.endpoint
    return {
        "program": ep.process,
        "pid": ep.pid,
        "session": ep.session,
        "protocol": ep.protocol,
        "address": ep.local_address,
        "port": ep.local_port,
        "path": ep.path,
        "kind": exp.kind.value,
    }


def _clash(clash: Clash) -> dict[str, Any]:
    return {
        "program": clash.program,
        "protocol": clash.protocol,
        "port": clash.port,
        "sessions": list(clash.sessions),
        "resolved": clash.resolved,
        "failed_binds": len(clash.failed),
        "instances": [
            {"pid": i.pid, "session": i.session, "status": i.status.value, "addresses": list(i.addresses)}
            for i in clash.instances
        ],
    }


def _advice(advice: ProgramAdvice) -> dict[str, Any]:
    data = asdict(advice)
    data["recommendation"] = advice.recommendation.value
    data["binds"] = list(advice.binds)
    data["sessions"] = list(advice.sessions)
    return data


def _check(check: InstanceCheck) -> dict[str, Any]:
    data = asdict(check)
    data.update(expected=list(check.expected), actual=list(check.actual), verdict=check.verdict.value)
    return data


def _verification(
    spec: ExpectSpec,
    table: EndpointTable,
    sessions: Sequence[Session],
    settings: EffectiveSettings,
    server_ips: Sequence[str],
    failure_reason: str | None = None,
) -> dict[str, Any]:
    checks = check_programs(
        spec.programs, table, sessions, settings, feature=spec.feature, port=spec.port, server_ips=server_ips
    )
    running = {program_key(c.program) for c in checks}
    counts = {verdict.value: sum(1 for c in checks if c.verdict is verdict) for verdict in Verdict}
    return {
        "programs": list(spec.programs),
        "feature": spec.feature.value,
        "port": spec.port,
        "ok": all(c.ok for c in checks),
        "counts": counts,
        "not_running": [p for p in spec.programs if program_key(p) not in running],
        "instances": [
            {**_check(c), "why": failure_reason} if failure_reason and not c.ok else _check(c) for c in checks
        ],
        "table": render_table(checks, failure_reason=failure_reason),
        # The failing rows alone, for a failure message a person reads.
        "failures_table": render_table(checks, only_failures=True, failure_reason=failure_reason),
    }


def audit_host(
    host: str,
    *,
    table: EndpointTable,
    sessions: Sequence[Session],
    server_ips: Sequence[str],
    include_system: bool = False,
    endpoint_filter: EndpointFilter | None = None,
    expect: ExpectSpec | None = None,
    settings: EffectiveSettings | None = None,
    failure_reason: str | None = None,
) -> dict[str, Any]:
    """Exposures, clashes, advice and (with `expect`) verification for one host, as plain data.

    `failure_reason` names why failing instances fail, when that is known (a pending restart).

    The filter narrows what is listed and analysed; verification always sees the whole table,
    because a filter on, say, state=Listen must not turn a listening instance into a failed one.
    """
    shown = endpoint_filter.apply(table) if endpoint_filter else table
    vips = [s.virtual_ip for s in sessions if s.virtual_ip]
    exposures = find_exposures(
        shown.endpoints, server_ips=server_ips, session_ips=vips, include_system=include_system
    )
    clashes = find_clashes(shown, include_system=include_system)
    advice = recommend(exposures, clashes, programs=expect.programs if expect else ())
    listed = [e for e in shown.endpoints if include_system or not is_system(e.session)]
    report: dict[str, Any] = {
        "host": host,
        "server_ips": list(server_ips),
        "sessions": [asdict(s) for s in sessions],
        "endpoints": [asdict(e) for e in listed],
        "exposures": [_exposure(e) for e in exposures],
        "clashes": [_clash(c) for c in clashes],
        "recommendations": [_advice(a) for a in advice],
        "verification": None,
    }
    if expect is not None:
        report["verification"] = _verification(
            expect, table, sessions, settings or EffectiveSettings(), server_ips, failure_reason
        )
    return report


_MERGE = {
    frozenset({Recommendation.VIRTUAL_LOOPBACK}): Recommendation.VIRTUAL_LOOPBACK,
    frozenset({Recommendation.VIRTUAL_IP}): Recommendation.VIRTUAL_IP,
}


def _merge(recommendations: Iterable[Recommendation]) -> Recommendation:
    # A program that binds 127.0.0.1 on one host and 0.0.0.0 on another is configured farm-wide
    # by one policy, so it needs both features.
    needed = {r for r in recommendations if r is not Recommendation.NONE}
    if not needed:
        return Recommendation.NONE
    return _MERGE.get(frozenset(needed), Recommendation.BOTH)


def farm_summary(reports: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Farm-wide view: which programs need which feature, clash counts, verification totals."""
    names: dict[str, str] = {}
    recs: dict[str, list[Recommendation]] = {}
    unresolved: set[str] = set()
    prog_hosts: dict[str, set[str]] = {}
    clash_stats: dict[str, dict[str, Any]] = {}
    totals = {"clashes": 0, "unresolved": 0, "failed_binds": 0}
    verdicts = {v.value: 0 for v in Verdict}
    hosts_failed: list[str] = []
    hosts_checked = 0
    hosts = 0
    for report in reports:
        hosts += 1
        host = str(report["host"])
        for advice in report.get("recommendations", []):
            key = program_key(advice["program"])
            names.setdefault(key, advice["program"])
            recs.setdefault(key, []).append(Recommendation(advice["recommendation"]))
            if not advice.get("resolved"):
                unresolved.add(key)
            if advice["recommendation"] != Recommendation.NONE.value:
                prog_hosts.setdefault(key, set()).add(host)
        for clash in report.get("clashes", []):
            key = program_key(clash["program"])
            names.setdefault(key, clash["program"])
            stats = clash_stats.setdefault(key, {"hosts": set(), "clashes": 0, "failed_binds": 0})
            stats["hosts"].add(host)
            stats["clashes"] += 1
            stats["failed_binds"] += clash["failed_binds"]
            totals["clashes"] += 1
            totals["unresolved"] += 0 if clash["resolved"] else 1
            totals["failed_binds"] += clash["failed_binds"]
        verification = report.get("verification")
        if verification:
            hosts_checked += 1
            if not verification["ok"]:
                hosts_failed.append(host)
            for verdict, count in verification["counts"].items():
                verdicts[verdict] = verdicts.get(verdict, 0) + count
    merged = {key: _merge(found) for key, found in recs.items()}

    def needing(*wanted: Recommendation) -> list[str]:
        """Programs that still need a feature somewhere; resolved ones are listed apart."""
        return sorted((names[k] for k, r in merged.items() if r in wanted and k in unresolved), key=str.lower)

    return {
        "hosts": hosts,
        "programs": {
            names[key]: {"recommendation": rec.value, "hosts": sorted(prog_hosts.get(key, set()))}
            for key, rec in sorted(merged.items())
        },
        "virtual_loopback": needing(Recommendation.VIRTUAL_LOOPBACK, Recommendation.BOTH),
        "virtual_ip": needing(Recommendation.VIRTUAL_IP, Recommendation.BOTH),
        "prefer_loopback": needing(Recommendation.BOTH),
        "resolved": sorted(
            (names[k] for k, r in merged.items() if r is not Recommendation.NONE and k not in unresolved),
            key=str.lower,
        ),
        "clashes": {
            **totals,
            "by_program": {
                names[key]: {
                    "hosts": sorted(s["hosts"]),
                    "clashes": s["clashes"],
                    "failed_binds": s["failed_binds"],
                }
                for key, s in sorted(clash_stats.items())
            },
        },
        "verification": {"hosts_checked": hosts_checked, "hosts_failed": hosts_failed, **verdicts},
    }
