"""Argument checks shared by the op modules: each failure names the field."""

from __future__ import annotations

from typing import Any

from vipctl.sim.model.errors import BadArgument
from vipctl.sim.model.registry import split_path


def require_str(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value:
        raise BadArgument(f"'{name}' is required and must be a non-empty string")
    return value


def optional_str_list(args: dict[str, Any], name: str) -> list[str] | None:
    value = args.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadArgument(f"'{name}' must be a list of strings")
    return value


def registry_path(args: dict[str, Any]) -> list[str]:
    """The `path` argument as key names below HKLM."""
    parts = split_path(args.get("path"))
    if any('"' in part for part in parts):
        # The executor passes key paths to reg.exe, which Windows PowerShell 5.1 cannot quote safely.
        raise BadArgument(f"path is not a valid registry key path: {args.get('path')}")
    return parts
