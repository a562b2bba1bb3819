"""Host data made safe to show a person: in a terminal, and in a Markdown report.

Process, product and policy names come from the hosts, so they may hold anything Windows allows:
ESC sequences that recolour or rewrite a terminal, line separators, bidi overrides that make
`exe.elif` read as `file.exe`, and zero-width characters that make two names look alike. Such
characters are shown as `\\xNN` / `\\uNNNN` escapes; `disguising_characters` lists the ones that
make a name look like another, so the audit can flag the name as well as escape it.
"""

from __future__ import annotations

import html
import unicodedata
from typing import Final

from vipctl.settings.fields import INVISIBLE_CHARACTERS

# Unicode categories never shown as they are: controls, format characters (bidi, zero-width),
# surrogates, private use, unassigned, and the line and paragraph separators.
_ESCAPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Characters Markdown gives a meaning to inside a table cell.
_MARKDOWN_SPECIAL: Final = frozenset("\\`*_[]|")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _needs_escape(ch: str) -> bool:
    return unicodedata.category(ch) in _ESCAPED_CATEGORIES


def terminal_text(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with every control, format and separator character escaped (line feeds kept if asked).

    A backslash stays as it is: Windows paths are full of them, and an escape this function wrote
    is told apart from a name's own backslash by `disguising_characters`, not by the text."""
    return "".join(
        ch if (ch == "\n" and keep_newlines) or not _needs_escape(ch) else _escape_char(ch) for ch in text
    )


def disguising_characters(text: str) -> list[str]:
    """The bidi controls and zero-width characters in `text`, as U+XXXX, in order of appearance."""
    found = dict.fromkeys(f"U+{ord(ch):04X}" for ch in text if ch in INVISIBLE_CHARACTERS)
    return list(found)


def markdown_cell(value: object) -> str:
    """One Markdown table cell: HTML escaped, Markdown punctuation and control characters neutralised."""
    text = terminal_text("" if value is None else str(value), keep_newlines=False)
    text = "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIAL else ch for ch in text)
    return html.escape(text, quote=True)
