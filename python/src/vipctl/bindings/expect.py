"""Where each instance of a listed program should be listening, and whether it is.

This is the product's own statement of docs/windows-facts.md#where-a-bind-lands, written apart
from the simulator so that each checks the other. Per instance (process in a session) and per port:
- session 0 and `/admin` sessions are never virtualized: the program keeps what it asked for;
- a 127.0.0.1 bind: both features apply and a VIP is leased -> the VIP, unless PreferLoopback
  lists the program -> the Citrix session loopback; Citrix loopback alone -> `citrix_loopback_address`;
  else Microsoft loopback virtualization -> `microsoft_loopback_address`; else 127.0.0.1;
- a 0.0.0.0 / server-IP bind: RD IP Virtualization covers it and a VIP is leased -> the VIP;
  no lease with PromptOnIPLeaseFail -> the bind fails; else unchanged.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vipctl.bindings.exposure import is_fixed_port_listener
from vipctl.bindings.in_force import EffectiveSettings, Feature
from vipctl.bindings.model import Endpoint, EndpointTable, ProcessInfo, Protocol, Session, program_key
from vipctl.loopback import citrix_loopback_address, microsoft_loopback_address

_LOOPBACK_NET = ipaddress.IPv4Network("127.0.0.0/8")


class Requested(StrEnum):
    """What the program itself asks `bind` for, before any virtualization rewrites it."""

    LOOPBACK = "loopback"  # 127.0.0.1
    WILDCARD = "wildcard"  # 0.0.0.0 or the server IP


class Verdict(StrEnum):
    OK = "ok"
    WRONG_ADDRESS = "wrong_address"
    NOT_LISTENING = "not_listening"


@dataclass(frozen=True)
class Expectation:
    addresses: tuple[str, ...]  # any of these is right; empty = the bind is expected to fail
    why: str


@dataclass(frozen=True)
class InstanceCheck:
    program: str
    pid: int
    session: int
    protocol: Protocol | None
    port: int | None
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    verdict: Verdict
    why: str

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


def _unchanged(requested: Requested, server_ips: Sequence[str], why: str) -> Expectation:
    if requested is Requested.LOOPBACK:
        return Expectation(("127.0.0.1",), why)
    return Expectation(("0.0.0.0", *server_ips), why)


def expected_address(
    program: str,
    session_id: int,
    session: Session | None,
    requested: Requested,
    settings: EffectiveSettings,
    server_ips: Sequence[str] = (),
) -> Expectation:
    """Where a bind of `requested` by `program` in `session_id` lands.

    The rule is docs/windows-facts.md#where-a-bind-lands."""
    if session_id == 0:
        return _unchanged(requested, server_ips, "session 0 is never virtualized")
    if session is not None and session.admin:
        return _unchanged(requested, server_ips, "/admin sessions are never virtualized")
    vip = session.virtual_ip if session is not None else None
    rds = settings.rds_applies(program)
    if requested is Requested.LOOPBACK:
        citrix = settings.citrix_applies(program)
        if citrix and rds and vip:
            if settings.loopback_preferred(program):
                return Expectation(
                    (citrix_loopback_address(session_id),), "both features; PreferLoopback lists it"
                )
            return Expectation(
                (vip,), "both features and not in PreferLoopbackProcesses: the session VIP wins"
            )
        if citrix:
            return Expectation((citrix_loopback_address(session_id),), "Citrix virtual loopback lists it")
        # Loopback virtualization is part of RD IP Virtualization: its Winsock hook only rewrites
        # binds of the processes it virtualizes (per session, or listed per program).
        if rds and settings.ms_loopback_virtualization:
            return Expectation((microsoft_loopback_address(session_id),), "Microsoft loopback virtualization")
        return _unchanged(requested, server_ips, "not virtualized: no loopback feature applies to it")
    if rds and vip:
        return Expectation((vip,), "RD IP Virtualization: the session's virtual IP")
    if rds and settings.prompt_on_ip_lease_fail:
        return Expectation((), "no VIP leased and PromptOnIPLeaseFail=1: the bind fails")
    if rds:
        return _unchanged(requested, server_ips, "no VIP leased for the session: falls back to the server IP")
    return _unchanged(requested, server_ips, "not virtualized: RD IP Virtualization does not cover it")


def _infer_requested(feature: Feature, addresses: Iterable[str]) -> Requested | None:
    if feature is Feature.CITRIX_LOOPBACK:
        return Requested.LOOPBACK
    if feature is Feature.RDS_IP:
        return Requested.WILDCARD
    # Only a 127.0.0.1 request ever yields a 127/8 address, whereas a session VIP can come from
    # either request (both features, loopback not preferred). So one instance on 127/8 says what
    # all instances of the program ask for, even if other sessions were given their VIP.
    seen = list(addresses)
    if any(ipaddress.IPv4Address(a) in _LOOPBACK_NET for a in seen):
        return Requested.LOOPBACK
    return Requested.WILDCARD if seen else None


def _instances(table: EndpointTable, key: str) -> list[ProcessInfo]:
    found = {p.pid: p for p in table.processes if p.key == key and p.session is not None}
    for ep in table.endpoints:
        if ep.key == key and ep.pid not in found and ep.process and ep.session is not None:
            found[ep.pid] = ProcessInfo(ep.pid, ep.process, ep.path, ep.session)
    return sorted(found.values(), key=lambda p: (p.session or 0, p.pid))


def _listeners(table: EndpointTable, key: str, port: int | None) -> list[Endpoint]:
    result = []
    for ep in table.endpoints:
        if ep.key != key or not ep.is_ipv4 or not ep.is_listener:
            continue
        # A port named by the user is checked even inside the dynamic range.
        if (port is None and is_fixed_port_listener(ep)) or ep.local_port == port:
            result.append(ep)
    return result


def check_program(
    program: str,
    table: EndpointTable,
    sessions: Mapping[int, Session],
    settings: EffectiveSettings,
    *,
    feature: Feature = Feature.AUTO,
    port: int | None = None,
    server_ips: Sequence[str] = (),
) -> list[InstanceCheck]:
    """One check per running instance of `program` and per (protocol, port) it is seen on."""
    key = program_key(program)
    listeners = _listeners(table, key, port)
    by_port: dict[tuple[Protocol | None, int | None], dict[int, list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for ep in listeners:
        by_port[(ep.protocol, ep.local_port)][ep.pid].append(ep.local_address)
    if not by_port:
        by_port[(None, port)] = defaultdict(list)  # nobody listens: every instance is not listening

    checks: list[InstanceCheck] = []
    for (protocol, port_no), by_pid in sorted(
        by_port.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or 0)
    ):
        requested = _infer_requested(feature, (a for addrs in by_pid.values() for a in addrs))
        for proc in _instances(table, key):
            assert proc.session is not None  # filtered in _instances
            actual = tuple(sorted(set(by_pid.get(proc.pid, ()))))
            if requested is None:
                exp = Expectation((), "nothing listens, so what it binds is unknown: set expect.feature")
            else:
                exp = expected_address(
                    proc.name, proc.session, sessions.get(proc.session), requested, settings, server_ips
                )
            if not actual:
                verdict = Verdict.NOT_LISTENING
            elif exp.addresses and all(a in exp.addresses for a in actual):
                verdict = Verdict.OK
            else:
                verdict = Verdict.WRONG_ADDRESS
            checks.append(
                InstanceCheck(
                    proc.name,
                    proc.pid,
                    proc.session,
                    protocol,
                    port_no,
                    exp.addresses,
                    actual,
                    verdict,
                    exp.why,
                )
            )
    return checks


def check_programs(
    programs: Iterable[str],
    table: EndpointTable,
    sessions: Iterable[Session],
    settings: EffectiveSettings,
    *,
    feature: Feature = Feature.AUTO,
    port: int | None = None,
    server_ips: Sequence[str] = (),
) -> list[InstanceCheck]:
    """`check_program` for each listed program (a program not running yields no rows)."""
    by_id = {s.id: s for s in sessions}
    checks: list[InstanceCheck] = []
    for program in programs:
        checks.extend(
            check_program(program, table, by_id, settings, feature=feature, port=port, server_ips=server_ips)
        )
    return checks


_HEADERS = ("program", "pid", "session", "port", "expected", "actual", "verdict")


def _row(check: InstanceCheck, failure_reason: str | None = None) -> tuple[str, ...]:
    port = f"{check.protocol or '?'}/{check.port}" if check.port is not None else "-"
    expected = " | ".join(check.expected) if check.expected else "(no bind)"
    return (
        check.program,
        str(check.pid),
        str(check.session),
        port,
        expected,
        ", ".join(check.actual) or "-",
        failure_reason if failure_reason and not check.ok else check.verdict.value,
    )


def render_table(
    checks: Sequence[InstanceCheck], *, only_failures: bool = False, failure_reason: str | None = None
) -> str:
    """A fixed-width plain-text table, one line per instance, for failure messages and logs.

    `failure_reason` replaces the verdict of the failing rows when their cause is known (a restart
    the host still waits for)."""
    rows = [_row(c, failure_reason) for c in checks if not (only_failures and c.ok)]
    widths = [max(len(cells[i]) for cells in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
        for cells in [_HEADERS, *rows]
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class ExpectSpec:
    """The `expect` parameter of vip_bindings: which programs must bind their session's address."""

    programs: tuple[str, ...]
    feature: Feature = Feature.AUTO
    port: int | None = None
