"""What every module task shares: the runner contract, the result shape, reading a response."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vipctl.changes import RESTART_FEATURES, Change
from vipctl.diff import render_diff
from vipctl.executor.codec import OpResult, Response
from vipctl.executor.errors import with_fix
from vipctl.host_requests.common import FACTS, SUPPORTED, WriteSpec
from vipctl.host_support import HostVerdict, classify
from vipctl.restart import pending_restart

# Takes a request (built by `codec.build_request`), returns the response decoded by the same codec;
# raises on transport errors and on output that is not one protocol response.
Runner = Callable[[dict[str, Any]], Response]


@dataclass
class TaskResult:
    changed: bool = False
    failed: bool = False
    msg: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, str] | None = None
    reboot_required: bool = False
    warnings: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)

    def to_ansible(self) -> dict[str, Any]:
        """Module return values at the top level; the standard keys win over data of the same name.

        `msg` is one line a person reads in a failure (reason and fix); anything longer, such as a
        table, goes under `msg_details`, one list item per line."""
        result: dict[str, Any] = dict(self.data)
        lines = self.msg.strip().splitlines()
        if len(lines) > 1:
            result["msg_details"] = lines[1:]
        result.update(
            changed=self.changed,
            failed=self.failed,
            msg=lines[0] if lines else "",
            reboot_required=self.reboot_required,
            backups=list(self.backups),
        )
        if self.warnings:
            result["warnings"] = list(self.warnings)
        if self.diff is not None:
            result["diff"] = dict(self.diff)
        return result


def utc_now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def host_verdict(response: Response) -> HostVerdict | None:
    """The support verdict from the request's `host_facts` read, when it ran."""
    facts = response.data(FACTS)
    return classify(facts) if facts else None


def failure_message(response: Response, failure: OpResult) -> str:
    """Name the op and the host's message; an unsupported-OS refusal gets classify's reason."""
    kind = failure.error.kind if failure.error else "failed"
    message = failure.error.message if failure.error else "no message"
    label = failure.id or failure.op
    verdict = host_verdict(response)
    if kind == "precondition_failed":
        if failure.id == SUPPORTED and verdict is not None:
            return f"refused: {verdict.reason}"
        return f"refused: {message}"
    return f"op {label} ({failure.op}) failed: {kind}: {with_fix(str(kind), str(message))}"


def failed_result(response: Response, failure: OpResult) -> TaskResult:
    verdict = host_verdict(response)
    data: dict[str, Any] = {"support": verdict.to_dict()} if verdict else {}
    if failure.error is not None:
        data["error"] = {
            "op": failure.id or failure.op,
            "kind": failure.error.kind,
            "message": failure.error.message,
        }
    return TaskResult(
        failed=True, msg=failure_message(response, failure), data=data, backups=list(response.backups)
    )


def _changes_of(spec: WriteSpec, result: OpResult) -> list[Change]:
    data = result.data
    if result.op == "registry_rename_key":
        if data.get("state") != "renamed":
            return []
        return [Change(spec.feature, spec.target, "(key)", data.get("path"), data.get("new_path"), True)]
    if result.op == "feature_install":
        if data.get("state") != "installed":
            return []
        name = str(data.get("name"))
        return [
            Change(spec.feature, spec.target, name, "absent", "installed", bool(data.get("reboot_required")))
        ]
    target = str(data.get("path") or spec.target)
    changes = data.get("changes")
    out: list[Change] = []
    for item in changes if isinstance(changes, list) else []:
        name = str(item.get("name") or item.get("field"))
        out.append(
            Change(
                spec.feature,
                target,
                name,
                item.get("before"),
                item.get("after"),
                spec.feature in RESTART_FEATURES,
            )
        )
    return out


def collect_changes(response: Response, writes: Sequence[WriteSpec]) -> list[Change]:
    """The changes the host reports it made (or, in check mode, would make), in request order."""
    changes: list[Change] = []
    for spec in writes:
        result = response.result(spec.op_id)
        if result is not None and response.ran(spec.op_id):
            changes += _changes_of(spec, result)
    return changes


def applied_result(
    response: Response,
    changes: Sequence[Change],
    *,
    check: bool,
    data: dict[str, Any],
    warnings: Sequence[str] = (),
) -> TaskResult:
    """Success result: `changed` honestly from the host's own change reports."""
    if not changes:
        msg = "already in the desired state"
    else:
        verb = "would change" if check else "changed"
        msg = f"{verb} {len(changes)} setting(s)"
    restart = pending_restart(response)
    reboot = any(c.reboot_required for c in changes) or restart.pending
    if reboot:
        msg += "; " + (restart.describe() or "a restart is required for it to take effect")
    return TaskResult(
        changed=bool(changes),
        msg=msg,
        data={**data, "changes": [c.to_dict() for c in changes], "restart": restart.to_dict()},
        diff=render_diff(changes),
        reboot_required=reboot,
        warnings=list(warnings),
        backups=list(response.backups),
    )
