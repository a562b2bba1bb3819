"""Host data shown to a person: terminal escapes and the Markdown report."""

from __future__ import annotations

from typing import Any

import pytest

from vipctl.display import disguising_characters, markdown_cell, terminal_text
from vipctl.report import render_report

HOSTILE = [
    "\x1b[2J\x1b[31mred",  # clear screen, colour
    "\x1b]0;title\x07",  # window title
    "a\rb",  # overwrite the line
    "\x9b31m",  # C1 CSI
    "a\u2028b\u2029c\u0085d",  # line separators
    "invoice\u202egpj.exe",  # bidi override
    "crm\u200bclient.exe",  # zero width
    "\ud800",  # lone surrogate
    "\u2066x\u2069",  # bidi isolates
]


@pytest.mark.parametrize("text", HOSTILE)
def test_terminal_text_leaves_no_control_format_or_separator_character(text: str) -> None:
    shown = terminal_text(text, keep_newlines=False)
    assert shown.isprintable(), repr(shown)


def test_terminal_text_keeps_line_feeds_and_ordinary_text() -> None:
    assert terminal_text("HOST  RESULT\nvda01  ok é 中") == "HOST  RESULT\nvda01  ok é 中"
    assert terminal_text("a\nb", keep_newlines=False) == "a\\x0ab"


def test_disguising_characters_are_listed() -> None:
    assert disguising_characters("invoice\u202egpj.exe") == ["U+202E"]
    assert disguising_characters("crm\u200bclient\ufeff.exe") == ["U+200B", "U+FEFF"]
    assert disguising_characters("crmclient.exe") == []


def test_markdown_cell_escapes_html_markdown_and_controls() -> None:
    cell = markdown_cell("<img src=x onerror=alert(1)>|[x](javascript:1)\x1b[31m\n`code`")
    assert "<" not in cell and ">" not in cell and "\x1b" not in cell and "\n" not in cell
    assert "\\|" in cell and "\\[x\\]" in cell and "\\`code\\`" in cell


def _document(product: str, program: str) -> dict[str, Any]:
    status = {
        "os": {"product_name": product},
        "support": {"supported": True},
        "rds_ip_virtualization": {"enabled": {"value": True}, "mode": {"value": "per_<b>session"}},
        "citrix_loopback_applied": True,
        "prefer_loopback": {"enabled": False},
        "winsock_fix": "done",
        "findings": [f"finding about {program}"],
    }
    clash = {
        "program": program,
        "protocol": "tcp",
        "port": 9000,
        "sessions": [1, 2],
        "resolved": False,
        "failed_binds": 1,
    }
    return {
        "command": "audit",
        "summary": {"hosts": 1, "ok": 1, "failed": 0},
        "farm": {
            "clashes": {"clashes": 1, "unresolved": 1, "failed_binds": 1},
            "virtual_loopback": [program],
            "virtual_ip": [],
            "prefer_loopback": [],
        },
        "hosts": [
            {
                "host": "vda01",
                "error": None,
                "results": [
                    {"module": "vip_status", "failed": False, "data": status},
                    {"module": "vip_bindings", "failed": False, "data": {"clashes": [clash]}},
                ],
            },
        ],
    }


def test_markdown_report_escapes_every_host_value() -> None:
    text = render_report(_document("<script>alert(1)</script>\x1b[2J", "evil\u202egpj.exe|x"), ".md")
    assert "<script>" not in text and "<b>" not in text
    assert "\x1b" not in text and "\u202e" not in text
    assert "&lt;script&gt;" in text and "\\\\x1b" in text and "\\\\u202e" in text
    # A pipe in a name must not open a new column: every table row keeps its cell count.
    rows = [line for line in text.splitlines() if line.startswith("| vda01 | evil")]
    assert rows and all(row.replace("\\|", "").count("|") == 7 for row in rows), rows


def test_html_report_escapes_host_values() -> None:
    text = render_report(_document("<script>alert(1)</script>", "a.exe"), ".html")
    assert "<script>alert(1)</script>" not in text
