"""The backup store of executor part 15_backup_store.ps1: a root only Administrators and SYSTEM
can write, a manifest per backup set, and the checks every restore makes before it trusts a file.

- The root is created with an explicit ACL (owner Administrators; Administrators and SYSTEM full
  control; inheritance off). An existing root with any other owner, any other entry, or
  inheritance on is refused with `insecure_backup_root`: below `C:\\ProgramData` an inherited ACL
  lets every user create files (docs/windows-facts.md#programdata-lets-every-user-create-files-and-folders).
- After each op that saved something, `vipctl-manifest.json` in the set folder lists every file
  the request saved with its SHA-256. A restore op takes a file only if its set's manifest names
  it with that hash and the set holds nothing the manifest does not name (`backup_tampered`).
- `registry_restore` takes a `.reg` file only if every section names a key vipctl manages
  (`managed_keys`, from vipctl.registry_map), since `reg import` applies every section of a file
  whatever key it names (docs/windows-facts.md#reg-import-applies-every-section-of-the-file).
"""

from __future__ import annotations

import hashlib
import json
import ntpath
import re
from typing import Any

from vipctl.sim.model.errors import BackupTampered, BadArgument, InsecureBackupRoot
from vipctl.sim.model.files import ADMINISTRATORS, SYSTEM, Ace, FileStore

MANIFEST_NAME = "vipctl-manifest.json"
TRUSTED_SIDS = frozenset({ADMINISTRATORS, SYSTEM})
ROOT_FIX = (
    "remove the folder (after saving anything you need from it) so vipctl creates it again, or "
    "reset it: icacls <root> /inheritance:r /grant:r *S-1-5-32-544:(OI)(CI)F *S-1-5-18:(OI)(CI)F "
    "and icacls <root> /setowner *S-1-5-32-544, after checking every file below it"
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def root_problem(files: FileStore, root: str) -> str | None:
    """Why the folder `root` is not safe to keep backups in, or None when only Administrators and
    SYSTEM own it and can reach it."""
    acl = files.acl(root)
    if acl.owner not in TRUSTED_SIDS:
        return f"its owner is {acl.owner}, not Administrators (S-1-5-32-544) or SYSTEM (S-1-5-18)"
    if not acl.protected:
        return "it inherits permissions from its parent folder (inheritance is on)"
    wider = sorted({ace.sid for ace in acl.aces if ace.sid not in TRUSTED_SIDS})
    if wider:
        return f"it grants access to {', '.join(wider)}, beyond Administrators and SYSTEM"
    return None


def assert_root_secure(files: FileStore, root: str) -> None:
    problem = root_problem(files, root)
    if problem is not None:
        raise InsecureBackupRoot(f"backup root {root} is not safe: {problem}; {ROOT_FIX}")


def ensure_root(files: FileStore, root: str) -> None:
    """Create the root with its explicit ACL, or check the one that is there."""
    if not files.is_dir(root):
        files.make_dir(
            root,
            ADMINISTRATORS,
            protected=True,
            aces=[Ace(ADMINISTRATORS, "full"), Ace(SYSTEM, "full")],
        )
        return
    assert_root_secure(files, root)


def root_of(backup_dir: str) -> str:
    root = ntpath.dirname(backup_dir.rstrip("\\"))
    if not root or root == backup_dir.rstrip("\\"):
        raise BadArgument(f"backup_dir {backup_dir} has no parent folder to serve as the backup root")
    return root


def manifest_bytes(files: FileStore, saved: list[str]) -> bytes:
    entries = []
    for path in sorted(saved, key=lambda p: ntpath.basename(p).lower()):
        data = files.read(path) or b""
        entries.append({"name": ntpath.basename(path), "sha256": sha256_hex(data)})
    document = {"manifest_version": 1, "files": entries}
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def write_manifest(files: FileStore, backup_dir: str, saved: list[str]) -> None:
    files.write(backup_dir.rstrip("\\") + "\\" + MANIFEST_NAME, manifest_bytes(files, saved))


def _manifest_entries(files: FileStore, set_dir: str) -> dict[str, str]:
    """name (lower-cased) -> sha256 from the set's manifest; BackupTampered when there is none."""
    raw = files.read(set_dir + "\\" + MANIFEST_NAME)
    if raw is None:
        raise BackupTampered(f"backup set {set_dir} has no {MANIFEST_NAME}: vipctl did not make it")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
        entries = {str(e["name"]).lower(): str(e["sha256"]).lower() for e in document["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupTampered(f"the manifest of backup set {set_dir} is not readable: {exc}") from exc
    if document.get("manifest_version") != 1:
        raise BackupTampered(f"the manifest of backup set {set_dir} is not a v1 manifest")
    return entries


def set_problem(files: FileStore, set_dir: str, names: list[str]) -> str | None:
    """Why the set folder's files cannot be trusted, or None when they are exactly its manifest."""
    try:
        entries = _manifest_entries(files, set_dir)
    except BackupTampered as exc:
        return exc.message
    present = {n.lower(): n for n in names if n.lower() != MANIFEST_NAME}
    for lowered, name in sorted(present.items()):
        if lowered not in entries:
            return f"{name} is not in the manifest: vipctl did not write it"
        if sha256_hex(files.read(set_dir + "\\" + name) or b"") != entries[lowered]:
            return f"{name} changed after vipctl wrote it (SHA-256 differs from the manifest)"
    missing = sorted(set(entries) - set(present))
    if missing:
        return f"{missing[0]} is in the manifest but missing"
    return None


def verify_backup_file(files: FileStore, file: str) -> None:
    """The checks before any restore op reads `file`: a safe root, and the set matching its manifest."""
    set_dir = ntpath.dirname(file.rstrip("\\"))
    assert_root_secure(files, root_of(set_dir))
    names = [ntpath.basename(f) for f in _set_files(files, set_dir)]
    problem = set_problem(files, set_dir, names)
    restorable = {n.lower() for n in names} - {MANIFEST_NAME}
    if problem is None and ntpath.basename(file).lower() not in restorable:
        problem = f"{ntpath.basename(file)} is not one of the set's backup files"
    if problem is not None:
        raise BackupTampered(f"refusing to restore {file}: {problem}")


def _set_files(files: FileStore, set_dir: str) -> list[str]:
    """The files directly in `set_dir`."""
    below = files.children(ntpath.dirname(set_dir))
    for directory, paths in below.items():
        if directory.lower() == set_dir.lower():
            return [p for p in paths if ntpath.dirname(p).lower() == set_dir.lower()]
    return []


# ---------------------------------------------------------------- managed keys


def _key_parts(path: str) -> list[str]:
    text = path.strip().strip("\\")
    head, _, rest = text.partition("\\")
    if head.upper() not in ("HKLM", "HKEY_LOCAL_MACHINE"):
        raise ValueError(path)
    return [p.lower() for p in rest.split("\\") if p] if rest else []


def _within(inner: list[str], outer: list[str]) -> bool:
    return len(inner) >= len(outer) and inner[: len(outer)] == outer


def parse_managed_keys(raw: object) -> list[tuple[list[str], list[str]]]:
    """`managed_keys` ([{key, floor}]) as (key parts, floor parts); BadArgument when malformed."""
    if not isinstance(raw, list) or not raw:
        raise BadArgument("'managed_keys' must be a non-empty list of {key, floor}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise BadArgument(f"managed_keys[{i}] needs a string 'key'")
        floor = item.get("floor", item["key"])
        try:
            key_parts, floor_parts = _key_parts(item["key"]), _key_parts(str(floor))
        except ValueError as exc:
            raise BadArgument(f"managed_keys[{i}]: only HKLM keys, got {exc}") from None
        if not key_parts or not floor_parts or not _within(key_parts, floor_parts):
            raise BadArgument(f"managed_keys[{i}]: 'floor' must be the key or one of its ancestors")
        out.append((key_parts, floor_parts))
    return out


def section_problem(header: str, managed: list[tuple[list[str], list[str]]]) -> str | None:
    """Why a `.reg` section header (the text between `[` and `]`) is outside what vipctl manages.

    `[K]` writes K: K must be a managed key or below one. `[-K]` deletes K's tree: K may also be a
    missing ancestor vipctl's write created, down to the key's floor. Only the full hive name
    counts, as the executor matches `HKEY_LOCAL_MACHINE\\...`."""
    deleting = header.startswith("-")
    name = header[1:] if deleting else header
    head, _, rest = name.partition("\\")
    if head.upper() != "HKEY_LOCAL_MACHINE" or not rest.rstrip("\\"):
        return f"[{header}] is not a key under HKEY_LOCAL_MACHINE"
    parts = [p.lower() for p in rest.rstrip("\\").split("\\")]
    for key, floor in managed:
        if _within(parts, key):
            return None
        if deleting and _within(key, parts) and _within(parts, floor):
            return None
    return f"[{header}] names a key vipctl does not manage"


def reg_file_problem(text: str, managed: list[tuple[list[str], list[str]]]) -> str | None:
    """The first section of a `.reg` file outside the managed keys, or None.

    Lines end at CR, LF or CR LF only, as File.ReadAllLines splits them in the executor."""
    for line in re.split(r"\r\n|\r|\n", text.lstrip("\ufeff")):
        stripped = line.strip()
        if not stripped.startswith("["):
            continue
        if not stripped.endswith("]"):
            return f"{stripped!r} is not a well-formed section header"
        problem = section_problem(stripped[1:-1], managed)
        if problem is not None:
            return problem
    return None


def set_listing(files: FileStore, set_dir: str, names: list[str]) -> dict[str, Any]:
    problem = set_problem(files, set_dir, names)
    shown = [n for n in names if n.lower() != MANIFEST_NAME]
    return {"dir": set_dir, "files": shown, "verified": problem is None, "problem": problem}
