"""The host's file system, as far as vipctl needs one: backup files and their folders' ACLs.

Paths are case-insensitive and keep their spelling; `/` is read as `\\`. A folder exists when it
was made (`make_dir`) or has files below it. Each folder may carry an ACL of its own; one without
inherits its parent's inheritable entries, as NTFS does. `C:\\ProgramData` starts with Windows'
default ACL, which lets members of Users create files and folders below it
(docs/windows-facts.md#programdata-lets-every-user-create-files-and-folders).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from vipctl.sim.model.regfile import decode_reg_file

# Well-known SIDs, the same on every language of Windows (docs/windows-facts.md#well-known-sids).
ADMINISTRATORS = "S-1-5-32-544"
SYSTEM = "S-1-5-18"
USERS = "S-1-5-32-545"
AUTHENTICATED_USERS = "S-1-5-11"
EVERYONE = "S-1-1-0"
CREATOR_OWNER = "S-1-3-0"
# The ordinary user the admin API plants files as: a member of Users, not of Administrators.
ORDINARY_USER = "S-1-5-21-1004336348-1177238915-682003330-1001"

# Rights that let a principal create a file in a folder (FILE_ADD_FILE is in all of them).
_CREATE_RIGHTS = frozenset({"full", "modify", "write", "create"})
RIGHTS = ("full", "modify", "write", "create", "read")


@dataclass(frozen=True)
class Ace:
    """One allow entry: `rights` is a summary (`create` = create files / write data and create
    folders / append data); `inherit` = it flows to subfolders and files ((OI)(CI))."""

    sid: str
    rights: str
    inherit: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"sid": self.sid, "rights": self.rights, "inherit": self.inherit}


@dataclass
class Folder:
    spelled: str
    owner: str
    protected: bool = False  # inheritance off: the parent's entries do not flow in
    aces: list[Ace] = field(default_factory=list)


@dataclass(frozen=True)
class EffectiveAcl:
    owner: str
    protected: bool
    aces: tuple[Ace, ...]

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "protected": self.protected, "aces": [a.to_json() for a in self.aces]}


def programdata_default() -> Folder:
    """`icacls C:\\ProgramData` on a fresh Windows Server: SYSTEM and Administrators full control,
    CREATOR OWNER full control of what one creates, Users read and (folders only) create files
    and folders (docs/windows-facts.md#programdata-lets-every-user-create-files-and-folders)."""
    return Folder(
        "C:\\ProgramData",
        SYSTEM,
        protected=True,
        aces=[
            Ace(SYSTEM, "full"),
            Ace(ADMINISTRATORS, "full"),
            Ace(CREATOR_OWNER, "full"),
            Ace(USERS, "read"),
            Ace(USERS, "create"),
        ],
    )


def _norm(path: str) -> str:
    return path.replace("/", "\\").rstrip("\\")


def parent_of(path: str) -> str | None:
    norm = _norm(path)
    return norm.rsplit("\\", 1)[0] if "\\" in norm else None


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, tuple[str, bytes]] = {}
        self._folders: dict[str, Folder] = {}
        self.put_folder(programdata_default())

    # -- files ---------------------------------------------------------------------------------
    def write(self, path: str, data: bytes) -> None:
        self._files[_norm(path).lower()] = (_norm(path), data)

    def read(self, path: str) -> bytes | None:
        entry = self._files.get(_norm(path).lower())
        return entry[1] if entry else None

    def exists(self, path: str) -> bool:
        return _norm(path).lower() in self._files

    # -- folders and their ACLs ------------------------------------------------------------------
    def put_folder(self, folder: Folder) -> None:
        folder.spelled = _norm(folder.spelled)
        self._folders[folder.spelled.lower()] = folder

    def is_dir(self, path: str) -> bool:
        lowered = _norm(path).lower()
        return lowered in self._folders or any(f.startswith(lowered + "\\") for f in self._files)

    def make_dir(
        self, path: str, owner: str, *, protected: bool = False, aces: list[Ace] | None = None
    ) -> None:
        """Create `path` (and missing parents, owned by `owner`, inheriting); an existing folder is kept."""
        parent = parent_of(path)
        if parent is not None and "\\" in parent and not self.is_dir(parent):
            self.make_dir(parent, owner)
        if _norm(path).lower() not in self._folders:
            self.put_folder(Folder(_norm(path), owner, protected, list(aces or [])))

    def folder(self, path: str) -> Folder | None:
        return self._folders.get(_norm(path).lower())

    def acl(self, path: str) -> EffectiveAcl:
        """The folder's effective ACL: its own entries, then (unless protected) what its parents pass on.

        CREATOR OWNER entries become entries for the folder's owner as they flow in, as NTFS does."""
        own = self.folder(path)
        owner = own.owner if own is not None else ADMINISTRATORS
        aces: list[Ace] = list(own.aces) if own is not None else []
        protected = own is not None and own.protected
        blocked, above_path = protected, parent_of(path)
        while not blocked and above_path is not None:
            above = self.folder(above_path)
            if above is not None:
                aces += [
                    Ace(owner, a.rights) if a.sid == CREATOR_OWNER else a for a in above.aces if a.inherit
                ]
                blocked = above.protected
            above_path = parent_of(above_path)
        return EffectiveAcl(owner, protected, tuple(aces))

    def may_create(self, directory: str, sid: str) -> bool:
        """Whether an ordinary user `sid` (a member of Users) may create a file in `directory`."""
        groups = {sid, USERS, AUTHENTICATED_USERS, EVERYONE}
        return any(a.sid in groups and a.rights in _CREATE_RIGHTS for a in self.acl(directory).aces)

    def grant(self, path: str, sid: str, rights: str) -> None:
        """What `icacls <path> /grant <sid>:(OI)(CI)<rights>` does: one more explicit entry."""
        if rights not in RIGHTS:
            raise ValueError(f"rights must be one of {', '.join(RIGHTS)}")
        folder = self.folder(path)
        if folder is None:
            raise KeyError(f"no such folder: {path}")
        folder.aces.append(Ace(sid, rights))

    def children(self, directory: str) -> dict[str, list[str]]:
        """Immediate subdirectories of `directory` -> the full paths of all files below each."""
        prefix = _norm(directory).lower() + "\\"
        out: dict[str, list[str]] = {}
        for lowered, (spelled, _data) in sorted(self._files.items()):
            if not lowered.startswith(prefix):
                continue
            rest = spelled[len(prefix) :]
            if "\\" not in rest:
                continue
            sub = spelled[: len(prefix) + rest.index("\\")]
            out.setdefault(sub, []).append(spelled)
        return out

    def acls_json(self) -> dict[str, Any]:
        """Every folder made with an owner of its own (not just implied by files), with its effective ACL."""
        return {f.spelled: self.acl(f.spelled).to_json() for f in self._folders.values()}

    def to_json(self) -> dict[str, Any]:
        """Every file as text: `.reg` files decoded from UTF-16LE, JSON files parsed, others UTF-8."""
        return {spelled: render(spelled, data) for spelled, data in self._files.values()}


def render(path: str, data: bytes) -> Any:
    if path.lower().endswith(".reg"):
        return decode_reg_file(data)
    if path.lower().endswith(".json"):
        return json.loads(data.decode("utf-8-sig"))
    return data.decode("utf-8", errors="replace")


def encode(path: str, content: Any) -> bytes:
    """Inverse of `render`: how a file given as text (or JSON data) is stored."""
    if path.lower().endswith(".reg"):
        return b"\xff\xfe" + str(content).encode("utf-16-le")
    if path.lower().endswith(".json") and not isinstance(content, str):
        return json.dumps(content, ensure_ascii=False).encode("utf-8")
    return str(content).encode("utf-8")
