"""Render planned or applied changes as Ansible-style before/after text blocks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vipctl.changes import Change

ABSENT = "(absent)"


def format_value(value: Any) -> str:
    """A registry typed value reads as `1 (REG_DWORD)`; anything else as compact JSON."""
    if value is None:
        return ABSENT
    if isinstance(value, Mapping) and set(value) == {"type", "value"}:
        return f"{format_value(value['value'])} ({value['type']})"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def render_diff(changes: Sequence[Change]) -> dict[str, str] | None:
    """`{"before": ..., "after": ...}`, one line per changed value, or None when nothing changes."""
    if not changes:
        return None
    before = [f"{c.target}\\{c.name} = {format_value(c.before)}" for c in changes]
    after = [f"{c.target}\\{c.name} = {format_value(c.after)}" for c in changes]
    return {"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"}
