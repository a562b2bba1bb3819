"""Plain-text tables and the closing summary; JSON goes out as one document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vipctl.display import terminal_text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [
        ["" if c is None else terminal_text(str(c), keep_newlines=False) for c in row] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def is_unsupported(record: dict[str, Any]) -> bool:
    """The host's OS cannot use the features (any module's support verdict says so)."""
    return any(
        isinstance(x.get("data"), dict) and (x["data"].get("support") or {}).get("supported") is False
        for x in record["results"]
    )


def host_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts per host: failed, unsupported (visible, never counted as ok) and ok."""
    failed = [r["host"] for r in records if not r["ok"]]
    unsupported = [r["host"] for r in records if is_unsupported(r)]
    changed = [r["host"] for r in records if any(x.get("changed") for x in r["results"])]
    slowest = max(records, key=lambda r: r["elapsed"], default=None)
    return {
        "hosts": len(records),
        "ok": len(records) - len(set(failed) | set(unsupported)),
        "failed": len(failed),
        "failed_hosts": failed,
        "unsupported": len(unsupported),
        "unsupported_hosts": unsupported,
        "changed": len(changed),
        "slowest_host": None if slowest is None else slowest["host"],
        "slowest_seconds": 0.0 if slowest is None else slowest["elapsed"],
    }


def summary_line(summary: dict[str, Any], elapsed: float, verb: str = "changed") -> str:
    unsupported = f", {summary['unsupported']} unsupported" if summary.get("unsupported") else ""
    line = (
        f"{summary['hosts']} host(s): {summary['ok']} ok, {summary['failed']} failed{unsupported}, "
        f"{summary['changed']} {verb}; {elapsed:.2f}s"
    )
    if summary["slowest_host"]:
        line += f" (slowest {summary['slowest_host']}: {summary['slowest_seconds']:.2f}s)"
    return line


def first_line(text: str) -> str:
    # Cut at line feeds only: U+2028 and friends inside a host's names are escaped, not line ends.
    return text.strip().replace("\r\n", "\n").split("\n")[0] if text.strip() else ""


def host_problem(record: dict[str, Any]) -> str:
    """Why a host failed: the transport error or the first failed step's message."""
    if record["error"]:
        return str(record["error"])
    for result in record["results"]:
        if result.get("failed"):
            return f"{result['module']}: {first_line(result['msg'])}"
    return ""


def _compact(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=True)


def json_text(document: dict[str, Any]) -> str:
    """The document as JSON, one top-level key per line and one list item (a host) per line.

    Readable and greppable per host, and written by the C encoder: `indent=` would switch json to
    its pure-Python encoder, about five times slower, which at a thousand hosts is seconds."""
    lines = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_compact(item)}" for item in value)
            lines.append(f"  {_compact(str(key))}: [\n{items}\n  ]")
        else:
            lines.append(f"  {_compact(str(key))}: {_compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"
