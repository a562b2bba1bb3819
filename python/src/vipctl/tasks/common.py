"""What every module task shares: the runner contract, the result shape, reading a response."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vipctl.diff import render_diff
from vipctl.hostinfo import HostVerdict, classify
from vipctl.plan import RESTART_FEATURES, Change
from vipctl.request_builders import FACTS, SUPPORTED, WriteSpec
from vipctl.restart import pending_restart

# Takes a request dict, returns the decoded response dict (executor protocol); raises on transport errors.
Runner = Callable[[dict[str, Any]], Mapping[str, Any]]


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


class Response:
    """Results of one executor response, by op id."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        results = raw.get("results")
        self.results: list[Mapping[str, Any]] = (
            [r for r in results if isinstance(r, Mapping)] if isinstance(results, list) else []
        )
        self.by_id = {str(r["id"]): r for r in self.results if "id" in r}

    def result(self, op_id: str) -> Mapping[str, Any]:
        return self.by_id.get(op_id, {})

    def ran(self, op_id: str) -> bool:
        found = self.result(op_id)
        return bool(found.get("ok")) and not found.get("skipped")

    def data(self, op_id: str) -> Mapping[str, Any]:
        data = self.result(op_id).get("data") if self.ran(op_id) else None
        return data if isinstance(data, Mapping) else {}

    @property
    def backups(self) -> list[str]:
        backups = self.raw.get("backups")
        return [str(b) for b in backups] if isinstance(backups, list) else []

    def first_failure(self) -> Mapping[str, Any] | None:
        """The op that failed (not the ones skipped after it), or a stand-in for a refused request."""
        error = self.raw.get("error")
        if self.raw.get("ok") is False and isinstance(error, Mapping) and not self.results:
            return {"op": "(request)", "error": error}
        for result in self.results:
            if result.get("ok") is False and not result.get("skipped"):
                return result
        return None

    def verdict(self) -> HostVerdict | None:
        facts = self.data(FACTS)
        return classify(facts) if facts else None


# What a person can do about a failed op, by the executor's error kind (docs/executor-protocol.md).
FIXES: dict[str, str] = {
    "access_denied": "connect as an account in the host's local Administrators group",
    "not_available": "the host lacks what this op needs (see the message); check the role or product",
    "policy_controlled": "a group policy sets this value; change it in the GPO or use method: policy",
    "not_found": "check the name in the message against the host",
    "bad_request": "a bug in vipctl's request: report it with the message",
}


def failure_message(response: Response, failure: Mapping[str, Any]) -> str:
    """Name the op and the host's message; an unsupported-OS refusal gets classify's reason."""
    error = failure.get("error")
    error = error if isinstance(error, Mapping) else {}
    kind = error.get("kind", "failed")
    message = error.get("message", "no message")
    label = failure.get("id") or failure.get("op")
    verdict = response.verdict()
    if kind == "precondition_failed":
        if failure.get("id") == SUPPORTED and verdict is not None:
            return f"refused: {verdict.reason}"
        return f"refused: {message}"
    fix = FIXES.get(str(kind))
    detail = f"op {label} ({failure.get('op')}) failed: {kind}: {message}"
    return f"{detail}; fix: {fix}" if fix else detail


def failed_result(response: Response, failure: Mapping[str, Any]) -> TaskResult:
    verdict = response.verdict()
    data: dict[str, Any] = {"support": verdict.to_dict()} if verdict else {}
    error = failure.get("error")
    if isinstance(error, Mapping):
        data["error"] = {"op": failure.get("id") or failure.get("op"), **error}
    return TaskResult(
        failed=True, msg=failure_message(response, failure), data=data, backups=response.backups
    )


def _changes_of(spec: WriteSpec, result: Mapping[str, Any]) -> list[Change]:
    op = result.get("op")
    raw = result.get("data")
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if op == "registry_rename_key":
        if data.get("state") != "renamed":
            return []
        return [Change(spec.feature, spec.target, "(key)", data.get("path"), data.get("new_path"), True)]
    if op == "feature_install":
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
        if response.ran(spec.op_id):
            changes += _changes_of(spec, response.result(spec.op_id))
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
    restart = pending_restart(response.by_id)
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
        backups=response.backups,
    )
