"""What one request carries from op to op: check mode, the backup folder and what was backed up."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vipctl.sim.model.regfile import deletion_text, encode_reg_file, export_bytes
from vipctl.sim.model.registry import display_path

if TYPE_CHECKING:
    from vipctl.sim.model.host import SimHost

# The executor keeps letters, digits, '.', '_' and '-' in file names and turns the rest into '_'.
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")

Outcome = tuple[bool, dict[str, Any]]  # (changed, data)


@dataclass
class OpContext:
    host: SimHost
    check: bool
    backup_dir: str | None
    # The connection carries delegated credentials (CredSSP, or a forwardable Kerberos ticket), so
    # the executor can reach other machines such as a domain controller. The transport sets it.
    delegated: bool = False
    backups: list[str] = field(default_factory=list)
    _backed_up: dict[str, str] = field(default_factory=dict)
    _tsvip_saved: dict[str, Any] = field(default_factory=dict)

    @property
    def writing(self) -> bool:
        return not self.check

    def backup_registry_key(self, parts: list[str]) -> str | None:
        """`reg export` the key before its first write in this request; the file path, or None.

        A missing key is saved as the deletion of its topmost missing ancestor (see `_topmost_missing`)."""
        if self.check or self.backup_dir is None:
            return None
        path = display_path(parts)
        if path.lower() in self._backed_up:
            return self._backed_up[path.lower()]
        file = self.backup_dir.rstrip("\\") + "\\" + path.replace("\\", "_").replace(" ", "_") + ".reg"
        # exists() is the access check, as opening the key is in the executor.
        if self.host.registry.exists(parts):
            content = export_bytes(self.host.registry, path)
        else:
            content = encode_reg_file(deletion_text(self._topmost_missing(parts)))
        self.host.files.write(file, content)
        return self._remember(path.lower(), file)

    def _topmost_missing(self, parts: list[str]) -> list[str]:
        """The highest missing key on the way to the missing key `parts` (`parts` itself at the least).

        A write creates every missing level, so restoring must delete from there to undo it all;
        any key above it existed before and must survive the restore."""
        top = len(parts)
        while top > 1 and not self.host.registry.exists(parts[: top - 1]):
            top -= 1
        return parts[:top]

    def backup_json(self, file_stem: str, content: dict[str, Any]) -> str | None:
        """Save `content` as `<backup_dir>/<file_stem>.json`, once per request per file."""
        if self.check or self.backup_dir is None:
            return None
        file = self.backup_dir.rstrip("\\") + "\\" + _UNSAFE_FILE_CHARS.sub("_", file_stem) + ".json"
        if file.lower() in self._backed_up:
            return self._backed_up[file.lower()]
        self.host.files.write(file, json.dumps(content, ensure_ascii=False, indent=2).encode("utf-8"))
        return self._remember(file.lower(), file)

    def backup_tsvip(self, changes: list[dict[str, Any]]) -> str | None:
        """Save the WMI values before `changes` as `<backup_dir>/tsvip.json` (`{"properties": {...}}`).

        The local store is written only through WMI, so the backup is WMI values, not a .reg file.
        Within one request the file collects every property changed, each with its earliest value."""
        if self.check or self.backup_dir is None:
            return None
        file = self.backup_dir.rstrip("\\") + "\\tsvip.json"
        if file.lower() not in self._backed_up:
            self._tsvip_saved = {}
            self._remember(file.lower(), file)
        for change in changes:
            self._tsvip_saved.setdefault(change["name"], change["before"])
        content = {"properties": self._tsvip_saved}
        self.host.files.write(file, json.dumps(content, ensure_ascii=False, indent=2).encode("utf-8"))
        return file

    def _remember(self, identity: str, file: str) -> str:
        self._backed_up[identity] = file
        self.backups.append(file)
        return file
