"""Render a command's document into the report template picked by the file's suffix.

HTML autoescapes everything (host data is untrusted text); Markdown escapes every value printed:
HTML, Markdown punctuation and control characters (`vipctl.display.markdown_cell`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vipctl.display import markdown_cell

TEMPLATES: Final = {".html": "report.html.j2", ".htm": "report.html.j2", ".md": "report.md.j2"}


class ReportError(ValueError):
    """The report cannot be written (unknown format, unwritable path)."""


class _MarkdownCell(str):
    """Text already escaped for a Markdown cell, so the environment does not escape it twice."""


def _md_cell(value: Any) -> _MarkdownCell:
    return value if isinstance(value, _MarkdownCell) else _MarkdownCell(markdown_cell(value))


def _environment(markdown: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("vipctl.report", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Markdown has no autoescape: every value printed is escaped here, filtered with `md` or not.
        finalize=_md_cell if markdown else None,
    )
    env.filters["md"] = _md_cell
    return env


def _sections(document: dict[str, Any]) -> dict[str, Any]:
    """Flatten host records into the report's tables."""
    settings, clashes, checks, problems = [], [], [], []
    advice: list[dict[str, Any]] = []
    instances: list[dict[str, Any]] = []
    for record in document.get("hosts", []):
        if record.get("error"):
            problems.append({"host": record["host"], "problem": record["error"]})
        for result in record.get("results", []):
            data = result.get("data") or {}
            if result.get("failed"):
                problems.append({"host": record["host"], "problem": f"{result['module']}: {result['msg']}"})
            if result["module"] == "vip_status" and not result.get("failed"):
                rds = data["rds_ip_virtualization"]
                settings.append(
                    {
                        "host": record["host"],
                        "os": data["os"]["product_name"],
                        "supported": data["support"]["supported"],
                        "rds": rds["enabled"]["value"],
                        "rds_mode": rds["mode"]["value"],
                        "loopback": data["citrix_loopback_applied"],
                        "prefer": data["prefer_loopback"]["enabled"],
                        "winsock": data["winsock_fix"],
                        "findings": data["findings"],
                        "restart": data.get("restart") or {"pending": False, "reasons": []},
                    }
                )
            if result["module"] == "vip_bindings" and "exposures" in data:
                support = data.get("support") or {}
                if support.get("supported") is False:
                    advice.append(
                        {
                            "host": record["host"],
                            "program": "-",
                            "recommendation": "unsupported",
                            "reason": f"no recommendation: {support.get('reason')}",
                        }
                    )
                for item in data.get("recommendations", []):
                    recommendation = "resolved" if item.get("resolved") else item["recommendation"]
                    advice.append({"host": record["host"], **item, "recommendation": recommendation})
                for exposure in data["exposures"]:
                    instances.append({"host": record["host"], **exposure})
            for clash in data.get("clashes", []) if result["module"] == "vip_bindings" else []:
                clashes.append({"host": record["host"], **clash})
            verification = data.get("verification") if result["module"] == "vip_bindings" else None
            for check in (verification or {}).get("instances", []):
                checks.append({"host": record["host"], **check})
    return {
        "settings": settings,
        "clashes": clashes,
        "checks": checks,
        "problems": problems,
        "advice": advice,
        "instances": instances,
    }


def render_report(document: dict[str, Any], fmt: str) -> str:
    template = TEMPLATES.get(fmt)
    if template is None:
        raise ReportError(f"report format {fmt!r} is not supported; name the file .html or .md")
    return (
        _environment(markdown=template.endswith(".md.j2"))
        .get_template(template)
        .render(
            doc=document,
            summary=document.get("summary") or {},
            farm=document.get("farm"),
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            **_sections(document),
        )
    )


def write_report(document: dict[str, Any], path: str | Path) -> Path:
    target = Path(path)
    text = render_report(document, target.suffix.lower())
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write report {target}: {exc.strerror}") from None
    except ValueError:
        # A path holding NUL or a lone surrogate names no file the system can create.
        raise ReportError(f"cannot write report {str(target)!r}: not a usable file name") from None
    return target
