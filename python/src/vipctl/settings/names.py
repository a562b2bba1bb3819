"""Program (exe) names as Windows and Citrix match them: a file name, never a path or a pattern."""

from __future__ import annotations

from vipctl.settings.errors import SettingsError
from vipctl.settings.fields import get_list, has_control_chars, unsafe_text_fix

MAX_EXE_NAME_LENGTH = 255  # NTFS file name limit
_PATH_CHARS = "\\/:"
_WILDCARDS = "*?"
_QUOTES = "\"'"
_OTHER_FORBIDDEN = "<>|"  # also illegal in Windows file names


def parse_exe_name(field: str, value: object) -> str:
    """Check one program name; the error says why the rule exists."""
    if not isinstance(value, str):
        raise SettingsError(field, value, "give the program as a string, e.g. app.exe")
    if not value.strip():
        raise SettingsError(field, value, "give a program name such as app.exe; empty names match nothing")
    if has_control_chars(value):
        raise SettingsError(
            field, value, "remove control characters (tabs, line breaks) from the program name"
        )
    fix = unsafe_text_fix(value)
    if fix is not None:
        raise SettingsError(field, value, fix)
    if len(value) > MAX_EXE_NAME_LENGTH:
        raise SettingsError(
            field, value, f"a program name is a file name: at most {MAX_EXE_NAME_LENGTH} characters"
        )
    if any(ch in _PATH_CHARS for ch in value):
        raise SettingsError(
            field,
            value,
            "give the exe name only (e.g. app.exe), not a path: the lists are matched against the process "
            "image name, so a folder never matches",
        )
    if any(ch in _WILDCARDS for ch in value):
        raise SettingsError(
            field, value, "list each program by its exact exe name; wildcards are not matched"
        )
    if any(ch in _QUOTES for ch in value):
        raise SettingsError(field, value, "remove the quotes: each list entry is already one name")
    if any(ch in _OTHER_FORBIDDEN for ch in value):
        raise SettingsError(field, value, "remove < > |: Windows file names cannot contain them")
    if value != value.strip():
        raise SettingsError(
            field, value, "remove the leading or trailing spaces: they become part of the name"
        )
    if not value.lower().endswith(".exe") or len(value) == len(".exe"):
        raise SettingsError(
            field,
            value,
            "give the full exe name ending in .exe (e.g. app.exe): processes are matched by image name",
        )
    return value


def parse_exe_names(field: str, value: object, *, default: list[str] | None = None) -> list[str]:
    """A list of exe names, de-duplicated case-insensitively (Windows names are), keeping first spelling."""
    items = get_list(field, value)
    if items is None:
        return list(default or [])
    seen: set[str] = set()
    names: list[str] = []
    for index, item in enumerate(items):
        name = parse_exe_name(f"{field}[{index}]", item)
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names
