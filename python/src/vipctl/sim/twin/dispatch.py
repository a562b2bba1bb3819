"""The request loop of docs/executor-protocol.md: validate, run ops in order, stop after a failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vipctl.executor.codec import PROTOCOL_VERSION
from vipctl.sim.model.errors import BadArgument, ModelError
from vipctl.sim.twin import citrix_ops, endpoint_ops, facts_ops, registry_ops, restart_ops, tsvip_ops
from vipctl.sim.twin.address_ops import op_address_match
from vipctl.sim.twin.conditions import holds, op_require
from vipctl.sim.twin.context import OpContext, Outcome
from vipctl.sim.twin.fields import folded, reject_case_duplicates

if TYPE_CHECKING:
    from vipctl.sim.model.host import SimHost

Handler = Callable[[OpContext, dict[str, Any]], Outcome]

OPS: dict[str, Handler] = {
    "host_facts": facts_ops.op_host_facts,
    "feature_install": facts_ops.op_feature_install,
    "registry_get": registry_ops.op_registry_get,
    "registry_set": registry_ops.op_registry_set,
    "registry_rename_key": registry_ops.op_registry_rename_key,
    "registry_restore": registry_ops.op_registry_restore,
    "backup_list": registry_ops.op_backup_list,
    "tsvip_get": tsvip_ops.op_tsvip_get,
    "tsvip_set": tsvip_ops.op_tsvip_set,
    "tsvip_restore": tsvip_ops.op_tsvip_restore,
    "citrix_policy_get": citrix_ops.op_citrix_policy_get,
    "citrix_policy_set": citrix_ops.op_citrix_policy_set,
    "citrix_policy_restore": citrix_ops.op_citrix_policy_restore,
    "net_endpoints": endpoint_ops.op_net_endpoints,
    "sessions": endpoint_ops.op_sessions,
    "restart_state": restart_ops.op_restart_state,
    "restart_mark": restart_ops.op_restart_mark,
    "address_match": op_address_match,
}
KNOWN_OPS = (*OPS, "require")
# Op names compare as PowerShell's hashtable lookup does, ignoring case; the result echoes the name sent.
_BY_LOWER = {name.lower(): name for name in KNOWN_OPS}


def _dump(response: dict[str, Any]) -> str:
    return json.dumps(response, ensure_ascii=False, separators=(",", ":"))


# What the bootstrap answers before it compiles the executor on a host in Constrained Language
# Mode (docs/windows-facts.md#constrained-language-mode-blocks-the-executor).
CONSTRAINED_LANGUAGE_MESSAGE = "ConstrainedLanguage"


def _malformed(message: str, kind: str = "bad_request") -> tuple[str, int]:
    reply = {
        "v": PROTOCOL_VERSION,
        "ok": False,
        "error": {"kind": kind, "message": message},
        "results": [],
        "backups": [],
    }
    return _dump(reply), 1


def _request_problem(request: object) -> str | None:
    if not isinstance(request, dict):
        return "request must be a JSON object"
    if request.get("v") != PROTOCOL_VERSION or isinstance(request.get("v"), bool):
        return f"unsupported protocol version {request.get('v')!r}; this executor speaks v {PROTOCOL_VERSION}"
    if not isinstance(request.get("ops"), list):
        return "request 'ops' must be a list"
    if not isinstance(request.get("check", False), bool):
        return "request 'check' must be true or false"
    backup_dir = request.get("backup_dir")
    if backup_dir is not None and (not isinstance(backup_dir, str) or not backup_dir):
        return "request 'backup_dir' must be a non-empty string or null"
    for i, op in enumerate(request["ops"]):
        if not isinstance(op, dict):
            return f"ops[{i}] must be an object"
    return None


def run_request(host: SimHost, request_json: str, delegated: bool = False) -> tuple[str, int]:
    """(response JSON, exit code): 0 when the request was understood, 1 when it was malformed."""
    if host.language_mode != "FullLanguage":
        # Checked first, before the request is even read, as the bootstrap does.
        return _malformed(CONSTRAINED_LANGUAGE_MESSAGE, "constrained_language")
    try:
        request = json.loads(request_json, object_pairs_hook=reject_case_duplicates)
    except ValueError as exc:
        return _malformed(f"request is not valid JSON: {exc}")
    if isinstance(request, dict):
        request = folded(request)
        if isinstance(request.get("ops"), list):
            request["ops"] = [folded(op) if isinstance(op, dict) else op for op in request["ops"]]
    problem = _request_problem(request)
    if problem is not None:
        return _malformed(problem)
    ctx = OpContext(host, request.get("check", False), request.get("backup_dir"), delegated)
    results: list[dict[str, Any]] = []
    earlier: dict[str, dict[str, Any]] = {}
    failed: tuple[int, object] | None = None
    for index, op in enumerate(request["ops"]):
        head: dict[str, Any] = {"op": op.get("op")}
        if "id" in op:
            head["id"] = op["id"]
        if failed is not None:
            message = f"not run: op {failed[0]} ({failed[1]}) failed"
            results.append(
                {**head, "ok": False, "skipped": True, "error": {"kind": "skipped", "message": message}}
            )
            continue
        result = _run_one(ctx, op, head, earlier)
        ctx.save_manifest()
        results.append(result)
        if isinstance(op.get("id"), str):
            earlier[op["id"].lower()] = result
        if not result["ok"]:
            failed = (index, op.get("op"))
    response = {"v": PROTOCOL_VERSION, "ok": failed is None, "results": results, "backups": list(ctx.backups)}
    return _dump(response), 0


def _run_one(
    ctx: OpContext, op: dict[str, Any], head: dict[str, Any], earlier: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    sent = op.get("op")
    name = _BY_LOWER.get(sent.lower(), sent) if isinstance(sent, str) else sent
    try:
        if "id" in op and (not isinstance(op["id"], str) or not op["id"]):
            raise BadArgument("'id' must be a non-empty string")
        if isinstance(op.get("id"), str) and op["id"].lower() in earlier:
            raise BadArgument(f"duplicate op id {op['id']!r}")
        if not isinstance(name, str) or name not in KNOWN_OPS:
            return {**head, "ok": False, "error": {"kind": "unknown_op", "message": f"unknown op {sent!r}"}}
        if "when" in op and not holds(op["when"], earlier):
            return {**head, "ok": True, "changed": False, "skipped": True, "data": {}}
        changed, data = op_require(ctx, op, earlier) if name == "require" else OPS[name](ctx, op)
    except ModelError as exc:
        return {**head, "ok": False, "error": {"kind": exc.kind, "message": exc.message}}
    return {**head, "ok": True, "changed": changed, "data": data}
