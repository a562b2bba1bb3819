"""Module task: put back the backup sets the vipctl modules made on a host, newest first.

Every write op saves what it is about to change into the module call's own set folder
(`<backup_root>\\<UTC stamp>-<module>`): `reg export` files, Citrix policy JSON files and
`tsvip.json` (Win32_TSVirtualIP values, put back through WMI). Restoring sets newest first
therefore walks the host back, run by run, to the state before the oldest set.

Two round trips, because op arguments are literal data: the file names to restore are only known
after `backup_list` has answered. Round trip 1 lists, round trip 2 restores (none in check mode).

Restored sets are remembered on the host with nothing but the existing ops, so a rerun has nothing
left to do: for each restored set the restore request creates an empty marker key
`HKLM\\SOFTWARE\\vipctl.rolled-back.<set>` (registry_set backs the absent key up into this run's
own `<stamp>-vip_rollback` set) and at once restores that backup, deleting the key again. The
registry ends exactly as restored; the backup file is the lasting record that the set was undone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from vipctl import registry_map, restart
from vipctl.executor.codec import Response
from vipctl.executor.errors import BACKUP_TAMPERED, ERROR_KIND_FIXES
from vipctl.host_requests.common import BACKUP_STAMP_FORMAT, new_request
from vipctl.restart import pending_restart
from vipctl.settings import SettingsError, parse_backup_root
from vipctl.settings.fields import unsafe_text_fix
from vipctl.tasks.common import Runner, TaskResult, failed_result, utc_now

MODULE: Final = "vip_rollback"
LIST: Final = "list"
STAMP_FORMAT: Final = BACKUP_STAMP_FORMAT
MARKER_KEY_PREFIX: Final = "HKLM\\SOFTWARE\\vipctl.rolled-back."
MARKER_VALUE: Final = "RestoredSet"
# What a registry_restore may write or delete: the table in vipctl.registry_map, sent as data.
MANAGED_KEYS: Final = [k.to_protocol() for k in registry_map.MANAGED_KEYS]
TSVIP_BACKUP: Final = "tsvip.json"
# Set folders are named `<UTC stamp>-<module>` (host_requests.common.backup_dir_for).
# Stamps carry microseconds; whole-second stamps (an earlier spelling) are still recognised.
_SET_NAME = re.compile(r"^(\d{8}T\d{6}(?:\d{6})?Z)-(.+)$")


@dataclass(frozen=True)
class Selection:
    """Which sets to restore: the named ones, those since a time, or (neither) the newest one."""

    backup_root: str
    since: str | None = None  # a set stamp, compared as text: stamps sort as times
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupSet:
    dir: str
    name: str
    stamp: str
    module: str
    files: tuple[str, ...]
    # The host checked the set against its manifest (every file named, every SHA-256 equal).
    verified: bool = False
    problem: str | None = None

    def restore_ops(self) -> list[dict[str, Any]]:
        return [op for op in (restore_op(self.dir, f) for f in self.files) if op is not None]

    def foreign_files(self) -> list[str]:
        return [f for f in self.files if restore_op(self.dir, f) is None]

    def to_dict(self) -> dict[str, Any]:
        return {"dir": self.dir, "name": self.name, "module": self.module, "files": list(self.files)}


@dataclass
class Listing:
    """The host's sets (newest first) and the names of those an earlier rollback restored."""

    sets: list[BackupSet] = field(default_factory=list)
    restored: set[str] = field(default_factory=set)

    def pending(self) -> list[BackupSet]:
        return [s for s in self.sets if s.name.lower() not in self.restored]


def restore_op(directory: str, name: str) -> dict[str, Any] | None:
    """The executor op that restores one backup file, by its kind; None for files we did not write."""
    path = f"{directory}\\{name}"
    lower = name.lower()
    if lower.endswith(".reg"):
        return {"op": "registry_restore", "file": path, "managed_keys": MANAGED_KEYS}
    if lower.startswith("citrix_policy_") and lower.endswith(".json"):
        return {"op": "citrix_policy_restore", "file": path}
    if lower == TSVIP_BACKUP:
        # The local store behind Win32_TSVirtualIP is written only through WMI, never imported.
        return {"op": "tsvip_restore", "file": path}
    return None


def marker_key(set_name: str) -> str:
    return MARKER_KEY_PREFIX + set_name


def marker_backup_file(backup_dir: str, set_name: str) -> str:
    """Where registry_set saves the marker key (protocol: key path with '\\' and ' ' as '_')."""
    return backup_dir + "\\" + marker_key(set_name).replace("\\", "_").replace(" ", "_") + ".reg"


def _restored_by_marker(file: str) -> str | None:
    prefix = marker_key("").replace("\\", "_").lower()
    lower = file.lower()
    if lower.startswith(prefix) and lower.endswith(".reg"):
        return lower[len(prefix) : -len(".reg")]
    return None


def parse_listing(data: Mapping[str, Any]) -> Listing:
    listing = Listing()
    for entry in data.get("sets") or []:
        directory = str(entry.get("dir", "")).rstrip("\\")
        name = directory.rsplit("\\", 1)[-1]
        match = _SET_NAME.match(name)
        if match is None:
            continue  # not a folder a vipctl module made
        files = tuple(str(f) for f in entry.get("files") or [])
        verified = entry.get("verified") is True
        problem = entry.get("problem")
        if match.group(2) == MODULE:
            # Only markers the host vouches for count: a planted one must not hide a set.
            if verified:
                listing.restored.update(s for s in map(_restored_by_marker, files) if s)
            continue
        listing.sets.append(
            BackupSet(
                directory,
                name,
                match.group(1),
                match.group(2),
                files,
                verified,
                None if problem is None else str(problem),
            )
        )
    return listing


def parse_since(value: Any) -> str | None:
    """An ISO 8601 time (naive = UTC) as a set stamp; SettingsError naming `since` otherwise."""
    if value is None or value == "":
        return None
    fix = "give an ISO 8601 time such as 2026-11-26T12:00:00Z (no zone = UTC)"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise SettingsError("since", value, fix) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        # A time near year 1 or 9999 with an offset falls outside the calendar once moved to UTC.
        return moment.astimezone(UTC).strftime(STAMP_FORMAT)
    except (OverflowError, ValueError):
        raise SettingsError(
            "since", value, f"the time is out of range once converted to UTC; {fix}"
        ) from None


def parse_selection(params: Mapping[str, Any]) -> Selection:
    root = parse_backup_root(params.get("backup_root"))
    raw_names = params.get("sets") or []
    if isinstance(raw_names, str) or not isinstance(raw_names, Sequence):
        raise SettingsError("sets", raw_names, "give a list of backup set folder names")
    names = tuple(str(n).rstrip("\\") for n in raw_names)
    if any(not n for n in names):
        raise SettingsError("sets", list(raw_names), "set folder names must not be empty")
    for where, text in [("backup_root", root), *((f"sets[{i}]", n) for i, n in enumerate(names))]:
        fix = unsafe_text_fix(text)
        if fix is not None:
            raise SettingsError(where, text, fix)
    since = parse_since(params.get("since"))
    if since is not None and names:
        raise SettingsError("since", params.get("since"), "give either since or sets, not both")
    return Selection(root, since, names)


def _find(listing: Listing, wanted: str) -> BackupSet | None:
    wanted = wanted.lower()
    return next((s for s in listing.sets if wanted in (s.dir.lower(), s.name.lower())), None)


def choose(listing: Listing, selection: Selection) -> tuple[list[BackupSet], list[str], list[str]]:
    """(sets to restore newest first, names already restored, names not found)."""
    if selection.names:
        found = {n: _find(listing, n) for n in selection.names}
        missing = [n for n, s in found.items() if s is None]
        chosen = {s.name for s in found.values() if s is not None}
        done = sorted(n for n in chosen if n.lower() in listing.restored)
        return [s for s in listing.pending() if s.name in chosen], done, missing
    if selection.since is not None:
        since = selection.since
        done = [s.name for s in listing.sets if s.stamp >= since and s.name.lower() in listing.restored]
        return [s for s in listing.pending() if s.stamp >= since], done, []
    return listing.pending()[:1], [], []


def restore_request(chosen: Sequence[BackupSet], backup_dir: str) -> dict[str, Any]:
    """Each set's files, then its marker (created and at once deleted again), newest set first.

    A failure stops the request, so a set is marked only after all its files were restored.
    """
    ops: list[dict[str, Any]] = []
    for index, backup_set in enumerate(chosen):
        for number, op in enumerate(backup_set.restore_ops()):
            ops.append({**op, "id": f"restore_{index}_{number}"})
        marker = {"name": MARKER_VALUE, "type": "REG_SZ", "value": backup_set.dir}
        ops.append(
            {
                "op": "registry_set",
                "id": f"mark_{index}",
                "path": marker_key(backup_set.name),
                "values": [marker],
            }
        )
        marker_key_only = {"key": marker_key(backup_set.name), "floor": marker_key(backup_set.name)}
        ops.append(
            {
                "op": "registry_restore",
                "id": f"unmark_{index}",
                "file": marker_backup_file(backup_dir, backup_set.name),
                "managed_keys": [marker_key_only],
            }
        )
    needing = [s.name for s in chosen if s.module in _REBOOT_MODULES]
    if needing:
        # The restored settings, like the change itself, take effect after a restart: remember it on
        # the host until then (vipctl.restart), so status and verification say so.
        reason = f"rollback restored RD IP Virtualization settings ({', '.join(needing)})"
        ops.append({"op": "restart_mark", "id": restart.MARK_PREFIX + "rollback", "reasons": [reason]})
    return new_request(ops, check=False, backup_dir=backup_dir)


def _diff(chosen: Sequence[BackupSet], *, check: bool) -> dict[str, str] | None:
    if not chosen:
        return None
    lines = [f"{s.dir}\\{f}" for s in chosen for f in s.files if restore_op(s.dir, f) is not None]
    after = "would be restored" if check else "restored"
    return {
        "before": "".join(f"{line}: not restored\n" for line in lines),
        "after": "".join(f"{line}: {after}\n" for line in lines),
    }


def _warnings(chosen: Sequence[BackupSet], done: Sequence[str]) -> list[str]:
    warnings = [
        f"{s.dir}: left alone {f} (not a file vipctl writes)" for s in chosen for f in s.foreign_files()
    ]
    if done:
        warnings.append(f"already restored by an earlier rollback, skipped: {', '.join(done)}")
    return warnings


def _not_restored(restored: Response | None) -> list[str]:
    """Warnings for WMI values tsvip_restore had to leave as they are (WMI cannot unselect an adapter)."""
    if restored is None:
        return []
    warnings = []
    for result in restored.results:
        if result.op != "tsvip_restore" or not result.ok or result.skipped:
            continue
        data = result.data
        for name in data.get("not_restored") or []:
            warnings.append(
                f"{data.get('file')}: {name} left as it is: no adapter was selected before, "
                "and WMI can select an adapter but not unselect one"
            )
    return warnings


# Restoring what these modules changed (EnableVirtualIP, the Winsock catalog, the WMI settings)
# takes effect only after a restart, as the change itself did.
_REBOOT_MODULES: Final = frozenset({"rds_ip_virtualization"})


def _result(
    chosen: Sequence[BackupSet],
    done: Sequence[str],
    *,
    check: bool,
    backups: list[str],
    restored: Response | None = None,
) -> TaskResult:
    files = sum(len(s.restore_ops()) for s in chosen)
    data = {"sets": [s.to_dict() for s in chosen], "already_restored": list(done)}
    if not chosen:
        msg = "nothing to restore" + (": every selected set was already restored" if done else "")
        return TaskResult(msg=msg, data=data, warnings=_warnings(chosen, done))
    verb = "would restore" if check else "restored"
    needing = [s.name for s in chosen if s.module in _REBOOT_MODULES]
    msg = f"{verb} {len(chosen)} backup set(s), {files} file(s), newest first"
    if needing:
        msg += f"; the host needs a restart for {', '.join(needing)} to take effect"
    if restored is not None:
        data["restart"] = pending_restart(restored).to_dict()
    data["restart_needed_for"] = needing
    return TaskResult(
        changed=True,
        reboot_required=bool(needing),
        msg=msg,
        data=data,
        diff=_diff(chosen, check=check),
        warnings=[*_warnings(chosen, done), *_not_restored(restored)],
        backups=backups,
    )


def _untrusted_result(untrusted: Sequence[BackupSet], chosen: Sequence[BackupSet]) -> TaskResult:
    """Refuse the whole restore: a set the host cannot vouch for may hold planted files."""
    first = untrusted[0]
    problem = first.problem or "the host did not vouch for it"
    return TaskResult(
        failed=True,
        msg=(f"{BACKUP_TAMPERED}: backup set {first.name}: {problem} ({ERROR_KIND_FIXES[BACKUP_TAMPERED]})"),
        data={
            "sets": [s.to_dict() for s in chosen],
            "error": {"op": LIST, "kind": BACKUP_TAMPERED, "message": problem},
            "untrusted_sets": [{"name": s.name, "problem": s.problem} for s in untrusted],
        },
    )


def run_vip_rollback(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Validate (SettingsError before any host contact), list the sets, then restore the chosen ones."""
    selection = parse_selection(params)
    listed = runner(
        new_request(
            [{"op": "backup_list", "id": LIST, "root": selection.backup_root}],
            check=check,
            backup_dir=None,
        )
    )
    failure = listed.first_failure()
    if failure is not None:
        return failed_result(listed, failure)
    listing = parse_listing(listed.data(LIST))
    chosen, done, missing = choose(listing, selection)
    if missing:
        known = ", ".join(s.name for s in listing.sets) or "none"
        return TaskResult(
            failed=True,
            msg=f"sets: no backup set {', '.join(missing)} under {selection.backup_root}; there: {known}",
            data={"sets": [s.to_dict() for s in listing.sets]},
        )
    untrusted = [s for s in chosen if not s.verified]
    if untrusted:
        return _untrusted_result(untrusted, chosen)
    if check or not chosen:
        return _result(chosen, done, check=check, backups=[])
    stamp = utc_now(now).astimezone(UTC).strftime(STAMP_FORMAT)
    restored = runner(restore_request(chosen, f"{selection.backup_root}\\{stamp}-{MODULE}"))
    failure = restored.first_failure()
    if failure is not None:
        result = failed_result(restored, failure)
        result.changed = any(r.ok and not r.skipped for r in restored.results)
        result.data["sets"] = [s.to_dict() for s in chosen]
        return result
    return _result(chosen, done, check=False, backups=list(restored.backups), restored=restored)
