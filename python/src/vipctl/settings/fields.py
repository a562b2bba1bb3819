"""Field-level parsers shared by the feature settings: each returns a clean value or raises SettingsError.

`None` means "not given" throughout, because Ansible passes every declared option, unset ones as None.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

from vipctl.settings.errors import SettingsError

T = TypeVar("T")

# Ansible's boolean spellings, so `key=yes` from ad-hoc commands works like YAML `true`.
_TRUE_WORDS = frozenset({"yes", "on", "true", "1", "y", "t"})
_FALSE_WORDS = frozenset({"no", "off", "false", "0", "n", "f"})
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses; 18 digits keep
# int() far from its digit limit, and every such value fits a QWORD.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")
# Characters that make a name display as something else, or not display at all: the bidi embedding,
# override and isolate controls, the bidi marks, and the zero-width characters.
INVISIBLE_CHARACTERS = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def as_mapping(field: str, params: object) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise SettingsError(field, params, "give a mapping of option names to values")
    for key in params:
        if not isinstance(key, str):
            raise SettingsError(field, key, "option names must be strings")
    return params


def reject_unknown_keys(field: str, params: Mapping[str, Any], valid: Collection[str]) -> None:
    unknown = sorted(set(params) - set(valid))
    if unknown:
        prefix = f"{field}." if field else ""
        raise SettingsError(
            f"{prefix}{unknown[0]}",
            params[unknown[0]],
            f"unknown option; valid options are {', '.join(sorted(valid))}",
        )


def get_bool(field: str, value: object, default: T) -> bool | T:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise SettingsError(field, value, "use true or false")


def get_choice(field: str, value: object, choices: Sequence[str], default: T) -> str | T:
    if value is None:
        return default
    if isinstance(value, str) and value in choices:
        return value
    raise SettingsError(field, value, f"choose one of {', '.join(choices)}")


def get_int(field: str, value: object, *, minimum: int, default: T) -> int | T:
    if value is None:
        return default
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise SettingsError(field, value, f"use a whole number of at least {minimum}")
    if number < minimum:
        raise SettingsError(field, value, f"use a whole number of at least {minimum}")
    return number


def has_control_chars(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def unsafe_text_fix(text: str) -> str | None:
    """Why `text` cannot name anything, or None. Control characters break lines and terminals;
    a lone surrogate is not Unicode text, so it cannot travel as UTF-8 to a host; bidi controls
    and zero-width characters make a name look like another one."""
    if has_control_chars(text):
        return "remove control characters (tabs, line breaks)"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "remove the lone surrogate: the value is not valid Unicode text"
    hidden = sorted({ch for ch in text if ch in INVISIBLE_CHARACTERS})
    if hidden:
        codes = " ".join(f"U+{ord(ch):04X}" for ch in hidden)
        return f"remove the invisible or text-direction characters ({codes}): they disguise the name"
    return None


def get_text(field: str, value: object, *, default: T, max_length: int = 255, forbidden: str = "") -> str | T:
    """A one-line string; `forbidden` lists characters that would break where the value is used."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise SettingsError(field, value, "use a string")
    fix = unsafe_text_fix(value)
    if fix is not None:
        raise SettingsError(field, value, fix)
    if len(value) > max_length:
        raise SettingsError(field, value, f"use at most {max_length} characters (got {len(value)})")
    bad = sorted({ch for ch in value if ch in forbidden})
    if bad:
        raise SettingsError(field, value, f"remove the characters {' '.join(bad)}")
    return value


def get_name(field: str, value: object, *, default: T, forbidden: str = "") -> str | T:
    """Like get_text, but must not be empty or padded with spaces (it names an object)."""
    text = get_text(field, value, default=default, forbidden=forbidden)
    if not isinstance(text, str):
        return text
    if not text.strip():
        raise SettingsError(field, value, "give a non-empty name")
    if text != text.strip():
        raise SettingsError(field, value, "remove the leading or trailing spaces")
    return text


def get_list(field: str, value: object) -> list[object] | None:
    """A list option; a comma-separated string is split, as Ansible's `type: list` does."""
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Sequence):
        return list(value)
    raise SettingsError(field, value, "give a list")
