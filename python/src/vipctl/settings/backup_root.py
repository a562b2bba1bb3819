"""The backup root: the host folder every backup set lives in, checked before any host is contacted.

The executor creates it with an ACL of its own and refuses one others can write; what reaches the
host must therefore be a plain local folder path, spelled one way only."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from vipctl.registry_map import DEFAULT_BACKUP_ROOT
from vipctl.settings.errors import SettingsError

FIELD: Final = "backup_root"
# Set folder (`<stamp>-<module>`, about 50 characters) and file names (up to about 120) must still
# fit Windows PowerShell 5.1's 260-character path limit below the root.
MAX_LENGTH: Final = 80
_DRIVE_PATH: Final = re.compile(r"^[A-Za-z]:\\[^\\]")
_FORBIDDEN: Final = "*?\"'<>|:"
EXAMPLE: Final = DEFAULT_BACKUP_ROOT


def parse_backup_root(value: object) -> str:
    """An absolute local folder path with a drive letter (trailing backslash dropped); SettingsError
    naming `backup_root` and the fix otherwise. None or "" is the default root."""
    if value is None or value == "":
        return DEFAULT_BACKUP_ROOT
    if not isinstance(value, str):
        raise SettingsError(FIELD, value, f"give a folder path as a string, such as {EXAMPLE}")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        raise SettingsError(
            FIELD, value, "remove control and invisible characters (tabs, line breaks, bidi marks)"
        )
    if value.startswith(("\\\\", "//")):
        raise SettingsError(
            FIELD,
            value,
            f"give a local folder, not a UNC or device path (\\\\server\\share, \\\\?\\): e.g. {EXAMPLE}",
        )
    if "/" in value:
        raise SettingsError(FIELD, value, f"use backslashes, as Windows spells paths: e.g. {EXAMPLE}")
    root = value.rstrip("\\")
    if not _DRIVE_PATH.match(root + "\\x" if len(root) == 2 else root):
        raise SettingsError(
            FIELD, value, f"give an absolute path starting with a drive letter, e.g. {EXAMPLE}"
        )
    if len(root) <= 2:
        raise SettingsError(FIELD, value, f"give a folder below the drive root, e.g. {EXAMPLE}")
    bad = sorted({ch for ch in root[2:] if ch in _FORBIDDEN})
    if bad:
        raise SettingsError(
            FIELD,
            value,
            f"remove the characters {' '.join(bad)} (wildcards, quotes and : are not path characters here)",
        )
    segments = root[3:].split("\\")
    if any(segment in ("", ".", "..") for segment in segments):
        raise SettingsError(
            FIELD, value, "remove empty, '.' and '..' segments: give the folder's one plain spelling"
        )
    if any(segment != segment.rstrip(". ") or segment != segment.lstrip(" ") for segment in segments):
        raise SettingsError(
            FIELD,
            value,
            "remove leading spaces and trailing dots or spaces from folder names (Windows drops them)",
        )
    if len(root) > MAX_LENGTH:
        raise SettingsError(
            FIELD, value, f"use at most {MAX_LENGTH} characters, so backup file paths stay short"
        )
    return root
