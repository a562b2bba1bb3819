"""The simulated HKLM hive: keys and value names are case-insensitive but keep their spelling.

Subkeys enumerate in case-insensitive name order (the order `reg export` walks them); values
keep creation order. Access-denied faults cover a key and everything under it, for reads and
writes alike, as a restrictive ACL on a real key does."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from vipctl.sim.model.errors import AccessDenied, BadArgument, Conflict, NotFound
from vipctl.sim.model.regvalue import RegValue

_HIVE_NAMES = ("hklm", "hkey_local_machine")
# The .NET message PowerShell shows for a registry key the caller may not open.
ACCESS_DENIED_MESSAGE = "Requested registry access is not allowed."


@dataclass
class RegKey:
    name: str
    values: dict[str, tuple[str, RegValue]] = field(default_factory=dict)
    subkeys: dict[str, RegKey] = field(default_factory=dict)

    def sorted_subkeys(self) -> list[RegKey]:
        return [self.subkeys[k] for k in sorted(self.subkeys)]

    def value_items(self) -> list[tuple[str, RegValue]]:
        return list(self.values.values())


def split_path(path: object) -> list[str]:
    """`HKLM\\A\\B` or `HKEY_LOCAL_MACHINE\\A\\B` -> ["A", "B"]; anything else is a bad request."""
    if not isinstance(path, str) or not path.strip():
        raise BadArgument(f"registry path must be a non-empty string, got {path!r}")
    parts = [p for p in path.strip().strip("\\").split("\\")]
    if parts[0].lower().rstrip(":") not in _HIVE_NAMES:
        raise BadArgument(
            f"registry path must start with HKLM\\ (only HKEY_LOCAL_MACHINE is allowed), got {path!r}"
        )
    rest = parts[1:]
    if any(p == "" for p in rest):
        raise BadArgument(f"registry path has an empty key name: {path!r}")
    return rest


def display_path(parts: list[str]) -> str:
    return "\\".join(["HKLM", *parts])


def export_path(parts: list[str]) -> str:
    return "\\".join(["HKEY_LOCAL_MACHINE", *parts])


class Registry:
    def __init__(self) -> None:
        self.root = RegKey("HKEY_LOCAL_MACHINE")
        self._denied: dict[tuple[str, ...], str] = {}  # lowered key names -> path as given
        # Keys that read but refuse writes (an ACL granting read only): backups work, writes fail
        # (docs/windows-facts.md#a-key-can-be-readable-but-not-writable).
        self._read_only: dict[tuple[str, ...], str] = {}

    # -- faults -------------------------------------------------------------------------------
    def deny(self, path: str) -> None:
        parts = split_path(path)
        self._denied.setdefault(tuple(p.lower() for p in parts), display_path(parts))

    def deny_write(self, path: str) -> None:
        parts = split_path(path)
        self._read_only.setdefault(tuple(p.lower() for p in parts), display_path(parts))

    def clear_denials(self) -> None:
        self._denied.clear()
        self._read_only.clear()

    @contextmanager
    def as_system(self) -> Iterator[None]:
        """Reads Windows itself makes (services running as SYSTEM) are not subject to injected faults."""
        saved, self._denied = self._denied, {}
        saved_read_only, self._read_only = self._read_only, {}
        try:
            yield
        finally:
            self._denied = saved
            self._read_only = saved_read_only

    def denied_paths(self) -> list[str]:
        return list(self._denied.values())

    def read_only_paths(self) -> list[str]:
        return list(self._read_only.values())

    def check_write(self, parts: list[str], subtree: bool = False) -> None:
        """`check_access`, and AccessDenied at, under (or, with `subtree`, above) a read-only key."""
        self.check_access(parts, subtree)
        lowered = tuple(p.lower() for p in parts)
        for denied in self._read_only:
            if lowered[: len(denied)] == denied or (subtree and denied[: len(lowered)] == lowered):
                raise AccessDenied(f"{ACCESS_DENIED_MESSAGE} ({display_path(parts)})")

    def check_access(self, parts: list[str], subtree: bool = False) -> None:
        """AccessDenied if `parts` is at or under a denied key (or, with `subtree`, has one below it)."""
        lowered = tuple(p.lower() for p in parts)
        for denied in self._denied:
            if lowered[: len(denied)] == denied or (subtree and denied[: len(lowered)] == lowered):
                raise AccessDenied(f"{ACCESS_DENIED_MESSAGE} ({display_path(parts)})")

    # -- keys ---------------------------------------------------------------------------------
    def _walk(self, parts: list[str]) -> RegKey | None:
        key = self.root
        for part in parts:
            found = key.subkeys.get(part.lower())
            if found is None:
                return None
            key = found
        return key

    def find(self, path: str | list[str]) -> RegKey | None:
        parts = split_path(path) if isinstance(path, str) else path
        self.check_access(parts)
        return self._walk(parts)

    def exists(self, path: str | list[str]) -> bool:
        return self.find(path) is not None

    def ensure_key(self, path: str | list[str]) -> RegKey:
        parts = split_path(path) if isinstance(path, str) else path
        self.check_write(parts)
        key = self.root
        for part in parts:
            key = key.subkeys.setdefault(part.lower(), RegKey(part))
        return key

    def delete_key(self, path: str | list[str]) -> bool:
        """Delete a key and its whole tree; False when it was not there."""
        parts = split_path(path) if isinstance(path, str) else path
        if not parts:
            raise BadArgument("refusing to delete the HKLM hive itself")
        self.check_write(parts, subtree=True)
        parent = self._walk(parts[:-1])
        if parent is None or parts[-1].lower() not in parent.subkeys:
            return False
        del parent.subkeys[parts[-1].lower()]
        return True

    def rename_key(self, path: str | list[str], new_name: str) -> None:
        parts = split_path(path) if isinstance(path, str) else path
        if not new_name or "\\" in new_name:
            raise BadArgument(f"new key name must be a single non-empty name, got {new_name!r}")
        self.check_write(parts, subtree=True)
        self.check_write([*parts[:-1], new_name])
        parent = self._walk(parts[:-1])
        if parent is None or parts[-1].lower() not in parent.subkeys:
            raise NotFound(f"Cannot find path '{display_path(parts)}' because it does not exist.")
        if new_name.lower() in parent.subkeys and new_name.lower() != parts[-1].lower():
            raise Conflict(f"A key at this path already exists: {display_path([*parts[:-1], new_name])}")
        key = parent.subkeys.pop(parts[-1].lower())
        key.name = new_name
        parent.subkeys[new_name.lower()] = key

    # -- values -------------------------------------------------------------------------------
    def get_value(self, path: str | list[str], name: str) -> RegValue | None:
        key = self.find(path)
        if key is None:
            return None
        entry = key.values.get(name.lower())
        return entry[1] if entry else None

    def set_value(self, path: str | list[str], name: str, value: RegValue) -> None:
        key = self.ensure_key(path)
        existing = key.values.get(name.lower())
        # Overwriting keeps the original spelling and position, as RegSetValueEx does.
        key.values[name.lower()] = (existing[0] if existing else name, value)

    def delete_value(self, path: str | list[str], name: str) -> bool:
        key = self.find(path)
        if key is None or name.lower() not in key.values:
            return False
        self.check_write(split_path(path) if isinstance(path, str) else path)
        del key.values[name.lower()]
        return True

    # -- whole-hive views ---------------------------------------------------------------------
    def copy(self) -> Registry:
        return copy.deepcopy(self)

    def to_json(self) -> dict[str, dict[str, dict[str, object]]]:
        """Every key as `{"HKLM\\path": {value name: typed value}}` (keys without values included)."""
        out: dict[str, dict[str, dict[str, object]]] = {}

        def visit(key: RegKey, parts: list[str]) -> None:
            if parts:
                out[display_path(parts)] = {name: value.to_json() for name, value in key.value_items()}
            for sub in key.sorted_subkeys():
                visit(sub, [*parts, sub.name])

        visit(self.root, [])
        return out

    def stored_parts(self, parts: list[str]) -> list[str]:
        """The spelling the hive stores for `parts` (as given where the key does not exist)."""
        key = self.root
        spelled: list[str] = []
        for i, part in enumerate(parts):
            found = key.subkeys.get(part.lower())
            if found is None:
                return spelled + parts[i:]
            spelled.append(found.name)
            key = found
        return spelled
