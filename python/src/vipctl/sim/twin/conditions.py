"""`when` and `require`: conditions over earlier ops' results, pure data, never code."""

from __future__ import annotations

from typing import Any

from vipctl.sim.model.citrix import json_equal
from vipctl.sim.model.errors import BadArgument, ModelError
from vipctl.sim.twin.context import OpContext, Outcome
from vipctl.sim.twin.fields import field, folded


class PreconditionFailed(ModelError):
    kind = "precondition_failed"


def _lookup(result: Any, path: list[Any]) -> Any:
    node = result
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = field(node, step)  # result fields are [ordered] keys: any case
        elif (
            isinstance(node, list)
            and isinstance(step, int)
            and not isinstance(step, bool)
            and 0 <= step < len(node)
        ):
            node = node[step]
        else:
            return None
    return node


def holds(conditions: object, earlier: dict[str, dict[str, Any]]) -> bool:
    """True when every condition holds; BadArgument for a malformed condition or an unknown ref."""
    if not isinstance(conditions, list):
        raise BadArgument("conditions must be a list")
    for i, cond in enumerate(conditions):
        if not isinstance(cond, dict):
            raise BadArgument(f"condition {i} must be an object")
        cond = folded(cond)
        ref, path = cond.get("ref"), cond.get("path", [])
        if not isinstance(ref, str) or ref.lower() not in earlier:
            raise BadArgument(f"condition {i}: ref {ref!r} is not the id of an earlier op")
        if not isinstance(path, list):
            raise BadArgument(f"condition {i}: path must be a list")
        has_in, has_not_in = "in" in cond, "not_in" in cond
        if has_in == has_not_in:
            raise BadArgument(f"condition {i}: give exactly one of 'in' and 'not_in'")
        choices = cond["in"] if has_in else cond["not_in"]
        if not isinstance(choices, list):
            raise BadArgument(f"condition {i}: '{'in' if has_in else 'not_in'}' must be a list")
        value = _lookup(earlier[ref.lower()], path)
        found = any(json_equal(value, c) for c in choices)
        if found != has_in:
            return False
    return True


def op_require(ctx: OpContext, args: dict[str, Any], earlier: dict[str, dict[str, Any]]) -> Outcome:
    message = args.get("message")
    if not isinstance(message, str) or not message:
        raise BadArgument("'message' is required and must be a non-empty string")
    if not holds(args.get("conditions"), earlier):
        raise PreconditionFailed(message)
    return False, {}
