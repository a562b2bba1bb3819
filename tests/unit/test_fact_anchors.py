"""docs/windows-facts.md is where every Windows or Citrix fact lives: citations must resolve.

Code, docs and tests cite a fact as `docs/windows-facts.md#<anchor>` (or `windows-facts.md#<anchor>`
from inside docs/); the anchor is GitHub's slug of a `###` heading. Each fact carries its Fact,
Source and Status lines, and nothing points at a facts file outside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FACTS = REPO / "docs" / "windows-facts.md"
SCANNED_DIRS = ("python", "plugins", "roles", "docs", "tests", "tools", "bench")
SCANNED_SUFFIXES = {".py", ".ps1", ".md", ".yml", ".yaml", ".json", ".j2", ".txt", ".cfg", ".toml"}
CITATION = re.compile(r"windows-facts\.md#([A-Za-z0-9_-]+)")
# Spelled in two halves so this file does not cite the outside document itself.
OUTSIDE_FACTS = re.compile("DOMAIN" + r"(?:\.md| ?§)")


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def fact_headings(text: str) -> list[str]:
    return [line[4:].strip() for line in text.splitlines() if line.startswith("### ")]


def fact_anchors(text: str) -> set[str]:
    return {github_slug(heading) for heading in fact_headings(text)}


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED_DIRS:
        for path in (REPO / name).rglob("*"):
            if path.suffix in SCANNED_SUFFIXES and path.is_file() and ".venv" not in path.parts:
                files.append(path)
    return sorted(files)


def citations(files: list[Path]) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        found.extend((path, anchor) for anchor in CITATION.findall(text))
    return found


def test_slug_matches_github_rules() -> None:
    assert github_slug("Ansible's winrm connection pipes stdin") == "ansibles-winrm-connection-pipes-stdin"
    slug = github_slug("Win32_TSVirtualIP properties and methods")
    assert slug == "win32_tsvirtualip-properties-and-methods"
    assert github_slug("PowerShell feeds $input from stdin") == "powershell-feeds-input-from-stdin"


def test_every_cited_anchor_exists() -> None:
    anchors = fact_anchors(FACTS.read_text(encoding="utf-8"))
    found = citations(scanned_files())
    assert len(found) >= 20, "the code cites its facts; so few citations means the scan is broken"
    missing = sorted(
        f"{path.relative_to(REPO)}: #{anchor}" for path, anchor in found if anchor not in anchors
    )
    assert missing == []


def test_the_ps_parts_are_scanned() -> None:
    files = scanned_files()
    assert any(path.suffix == ".ps1" and "executor" in path.parts for path in files)
    cited = {path for path, _anchor in citations(files)}
    assert any(path.suffix == ".ps1" for path in cited)


def test_a_missing_anchor_is_reported(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("# see docs/windows-facts.md" + "#no-such-fact\n", encoding="utf-8")
    anchors = fact_anchors(FACTS.read_text(encoding="utf-8"))
    assert [anchor for _path, anchor in citations([planted]) if anchor not in anchors] == ["no-such-fact"]


def test_nothing_cites_the_outside_facts_file() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in [*scanned_files(), REPO / "README.md"]
        if OUTSIDE_FACTS.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


@pytest.mark.parametrize("heading", fact_headings(FACTS.read_text(encoding="utf-8")))
def test_each_fact_has_fact_source_and_status(heading: str) -> None:
    text = FACTS.read_text(encoding="utf-8")
    body = text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]
    for label in ("**Fact**", "**Source**", "**Status**"):
        assert label in body, f"{heading}: no {label} line"
    status = body.split("**Status**:", 1)[1]
    assert "confirmed" in status or "UNCONFIRMED" in status
    assert re.search(r"https?://", body.split("**Source**", 1)[1]), f"{heading}: the source has no URL"


def test_anchors_are_unique() -> None:
    headings = fact_headings(FACTS.read_text(encoding="utf-8"))
    slugs = [github_slug(heading) for heading in headings]
    assert len(slugs) == len(set(slugs))
