"""The host's file system, as far as vipctl needs one: backup files under a Windows path.

Paths are case-insensitive and keep their spelling; `/` is read as `\\`. Directories exist
implicitly through the files below them."""

from __future__ import annotations

import json
from typing import Any

from vipctl.sim.model.regfile import decode_reg_file


def _norm(path: str) -> str:
    return path.replace("/", "\\").rstrip("\\")


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, tuple[str, bytes]] = {}

    def write(self, path: str, data: bytes) -> None:
        self._files[_norm(path).lower()] = (_norm(path), data)

    def read(self, path: str) -> bytes | None:
        entry = self._files.get(_norm(path).lower())
        return entry[1] if entry else None

    def exists(self, path: str) -> bool:
        return _norm(path).lower() in self._files

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
