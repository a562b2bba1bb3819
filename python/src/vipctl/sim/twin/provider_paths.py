"""Provider path segments, as executor part 45_provider_paths.ps1 checks them.

Citrix policy and filter names become leaf names in CitrixGroupPolicy provider paths, where
PowerShell resolves `.` and `..` even under -LiteralPath
(docs/windows-facts.md#powershell-resolves-dot-segments-in-provider-paths). The simulator's policy
store is a dictionary that no name can escape, so these checks are what make it fail the way
Windows would be made to fail: before anything is read or written."""

from __future__ import annotations

from typing import Any

from vipctl.sim.model.errors import BadArgument

_PATH_CHARACTERS = frozenset("\\/*?")


def check_segment(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadArgument(f"argument '{field}' must be a non-empty string")
    if value in (".", ".."):
        raise BadArgument(f"argument '{field}' must not be '.' or '..': it would name another node")
    if any(ch in _PATH_CHARACTERS for ch in value):
        raise BadArgument(f"argument '{field}' must not contain \\, /, * or ?: {value}")
    if value != value.strip(" ."):
        raise BadArgument(f"argument '{field}' must not start or end with a space or a dot: '{value}'")
    # char.IsControl: the C0 and C1 control characters.
    if any(ord(ch) < 32 or 127 <= ord(ch) <= 159 for ch in value):
        raise BadArgument(f"argument '{field}' must not contain control characters")
    return value


def check_filters(policy: object) -> None:
    """The type and name of each filter of a `citrix_policy_set` policy, where they are given."""
    filters = policy.get("filters") if isinstance(policy, dict) else None
    if not isinstance(filters, list):
        return
    for item in filters:
        entry: dict[str, Any] = item if isinstance(item, dict) else {}
        check_segment(entry.get("type"), "filters.type")
        check_segment(entry.get("name"), "filters.name")
