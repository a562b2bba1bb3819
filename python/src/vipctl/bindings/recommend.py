"""Per program, which feature gives it per-session addresses, and why, in words.

The rule follows the seed: a program binding 127.0.0.1 needs Citrix virtual loopback; one
binding 0.0.0.0 or the server IP needs RD IP Virtualization (per-program list); one doing both
needs both, and then PreferLoopback decides which wins for its 127.0.0.1 binds
(docs/windows-facts.md#where-a-bind-lands).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vipctl.bindings.clashes import Clash
from vipctl.bindings.exposure import BindKind, Exposure
from vipctl.bindings.model import program_key


class Recommendation(StrEnum):
    VIRTUAL_LOOPBACK = "virtual_loopback"
    VIRTUAL_IP = "virtual_ip"
    BOTH = "both"
    NONE = "none"


@dataclass(frozen=True)
class ProgramAdvice:
    program: str
    recommendation: Recommendation
    reason: str
    binds: tuple[str, ...]  # "127.0.0.1 tcp/9000", "session loopback tcp/9000", one per address and port
    sessions: tuple[int, ...]
    clashes: int  # (protocol, port) pairs wanted in several sessions
    failed_binds: int  # instances that could not bind where their peers did
    # Every listener already binds a per-session address and no clash is left: the feature is in
    # place for it, so it is reported as resolved, not as needing the feature.
    resolved: bool = False


def recommendation_for(kinds: Iterable[BindKind]) -> Recommendation:
    kind_set = set(kinds)
    loopback = any(kind.wants_loopback for kind in kind_set)
    wildcard = any(kind.wants_wildcard for kind in kind_set)
    if loopback and wildcard:
        return Recommendation.BOTH
    if loopback:
        return Recommendation.VIRTUAL_LOOPBACK
    if wildcard:
        return Recommendation.VIRTUAL_IP
    return Recommendation.NONE


_ACTION = {
    Recommendation.VIRTUAL_LOOPBACK: "add it to the Citrix virtual loopback programs so each session gets "
    "its own 127.x.y.z",
    Recommendation.VIRTUAL_IP: "add it to the RD IP Virtualization program list (per-program mode) so each "
    "session binds its own virtual IP",
    Recommendation.BOTH: "list it for both Citrix virtual loopback and RD IP Virtualization, and set "
    "PreferLoopback with it in PreferLoopbackProcesses so its 127.0.0.1 binds get the session loopback "
    "instead of the session's virtual IP",
}

_ALREADY = {
    BindKind.SESSION_LOOPBACK: "already bound to a per-session loopback",
    BindKind.SESSION_IP: "already bound to a session virtual IP",
}


# Virtualized addresses differ per session; naming them by kind keeps one label per port.
_VIRTUALIZED_LABEL = {BindKind.SESSION_LOOPBACK: "session loopback", BindKind.SESSION_IP: "session VIP"}


def _bind_label(exposure: Exposure) -> str:
    ep = exposure.endpoint
    address = _VIRTUALIZED_LABEL.get(exposure.kind, ep.local_address)
    return f"{address} {ep.protocol}/{ep.local_port}"


def _sessions_text(sessions: Sequence[int]) -> str:
    if len(sessions) == 1:
        return f"session {sessions[0]}"
    return "sessions " + ", ".join(str(s) for s in sessions)


def _is_resolved(kinds: set[BindKind], program_clashes: Sequence[Clash]) -> bool:
    return (
        bool(kinds)
        and kinds <= set(_ALREADY)
        and all(clash.resolved and not clash.failed for clash in program_clashes)
    )


def _reason(
    recommendation: Recommendation,
    binds: Sequence[str],
    kinds: set[BindKind],
    sessions: Sequence[int],
    program_clashes: Sequence[Clash],
) -> str:
    if recommendation is Recommendation.NONE:
        return "no listener on 0.0.0.0, 127.0.0.1 or a server IP: per-session addressing does not change it"
    parts = [f"listens on {', '.join(binds)} in {_sessions_text(sessions)}"]
    parts.extend(text for kind, text in _ALREADY.items() if kind in kinds)
    if _is_resolved(kinds, program_clashes):
        parts.append("every session has its own address")
        return "; ".join(parts) + ": resolved, keep it listed"
    failed = sum(len(clash.failed) for clash in program_clashes)
    if failed:
        parts.append(f"{failed} instance(s) could not bind (address in use)")
    elif program_clashes and all(clash.resolved for clash in program_clashes):
        parts.append("every session has its own address on the shared port")
    elif len(sessions) < 2:
        parts.append("a second session would want the same port")
    return "; ".join(parts) + ": " + _ACTION[recommendation]


def recommend(
    exposures: Iterable[Exposure], clashes: Iterable[Clash] = (), *, programs: Iterable[str] = ()
) -> list[ProgramAdvice]:
    """Advice for every exposed program, plus `programs` (asked about by name) even if not exposed."""
    by_program: dict[str, list[Exposure]] = defaultdict(list)
    names: dict[str, str] = {}
    for exposure in exposures:
        ep = exposure.endpoint
        if ep.key is None or ep.process is None:
            continue
        by_program[ep.key].append(exposure)
        names.setdefault(ep.key, ep.process)
    for name in programs:
        names.setdefault(program_key(name), name)
    clashes_by_program: dict[str, list[Clash]] = defaultdict(list)
    for clash in clashes:
        clashes_by_program[program_key(clash.program)].append(clash)

    advice: list[ProgramAdvice] = []
    for key, name in names.items():
        found = by_program.get(key, [])
        kinds = {exp.kind for exp in found}
        binds = tuple(sorted({_bind_label(exp) for exp in found}))
        sessions = tuple(sorted({exp.endpoint.session for exp in found if exp.endpoint.session is not None}))
        program_clashes = clashes_by_program.get(key, [])
        recommendation = recommendation_for(kinds)
        advice.append(
            ProgramAdvice(
                program=name,
                recommendation=recommendation,
                reason=_reason(recommendation, binds, kinds, sessions, program_clashes),
                binds=binds,
                sessions=sessions,
                clashes=len(program_clashes),
                failed_binds=sum(len(clash.failed) for clash in program_clashes),
                resolved=recommendation is not Recommendation.NONE and _is_resolved(kinds, program_clashes),
            )
        )
    return sorted(advice, key=lambda a: a.program.lower())
