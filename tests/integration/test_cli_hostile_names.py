"""Host data that fights back: names with line separators, ESC sequences, bidi and zero-width
characters, through `vipctl` (winrm and psrp) against the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cli_sim import start_sim, vipctl
from hostile_farm import (
    BIDI_NAME,
    ESCAPE_NAME,
    HOSTILE_NAMES,
    LINE_SEPARATOR_NAMES,
    ZERO_WIDTH_NAME,
    hostile_farm,
)

from vipctl.sim.front_door import SimServer
from vipctl.sim.inventory import write_inventory

# Nothing a host sends may reach the terminal raw: no C0/C1 control, bidi, zero-width or separator.
RAW_FORBIDDEN = ("\x1b", "\x07", "\x85", "\u2028", "\u2029", "\u202e", "\u200b")


@pytest.fixture
def hostile(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[SimServer, Path]]:
    sim, inventory = start_sim(hostile_farm(), tmp_path / "sim")
    connection = getattr(request, "param", "winrm")
    if connection != "winrm":
        inventory = write_inventory(sim, tmp_path / f"inventory-{connection}.yml", connection)
    yield sim, inventory
    sim.stop()


def _endpoint_names(document: dict[str, object]) -> set[str]:
    names: set[str] = set()
    for record in document["hosts"]:  # type: ignore[attr-defined]
        for result in record["results"]:
            names.update(e["process"] for e in result["data"].get("endpoints", []))
    return names


@pytest.mark.parametrize("hostile", ["winrm", "psrp"], indirect=True)
def test_audit_reads_names_with_line_separators(hostile: tuple[SimServer, Path]) -> None:
    _sim, inventory = hostile
    code, out, err = vipctl("audit", "-i", str(inventory), "--json")
    document = json.loads(out)
    assert code == 0, err + out
    assert all(h["ok"] for h in document["hosts"]), [h["error"] for h in document["hosts"]]
    assert set(HOSTILE_NAMES) <= _endpoint_names(document)


def test_a_program_named_with_a_line_separator_is_applied_and_status_still_reads(
    hostile: tuple[SimServer, Path], tmp_path: Path
) -> None:
    sim, inventory = hostile
    program = LINE_SEPARATOR_NAMES["crm"]
    desired = tmp_path / "desired.yml"
    rds = {"mode": "per_program", "programs": [program, LINE_SEPARATOR_NAMES["softphone"]]}
    desired.write_text(yaml.safe_dump({"vipctl_rds_ip_virtualization": rds}), encoding="utf-8")
    hosts = ("-i", str(inventory), "-d", str(desired), "-l", "vda2019-01")
    code, out, err = vipctl("apply", *hosts, "--yes")
    assert code == 0, err + out
    policy = sim.host("vda2019-01").snapshot()["registry"]
    assert any(program in json.dumps(values, ensure_ascii=False) for values in policy.values())
    assert vipctl("apply", *hosts, "--check")[0] == 0  # converged: the name reads back equal
    code, out, err = vipctl("status", "-i", str(inventory), "-l", "vda2019-01")
    assert code == 0, err + out


def test_terminal_and_markdown_never_show_host_control_characters(
    hostile: tuple[SimServer, Path], tmp_path: Path
) -> None:
    _sim, inventory = hostile
    report = tmp_path / "audit.md"
    code, out, err = vipctl("audit", "-i", str(inventory), "--report", str(report))
    assert code == 0, err + out
    markdown = report.read_text(encoding="utf-8")
    for raw in RAW_FORBIDDEN:
        assert raw not in out, f"{raw!r} reached the terminal"
        assert raw not in markdown, f"{raw!r} reached the Markdown report"
    assert "\\x1b]0;owned\\x07" in out  # shown escaped, so the reader sees what the host holds
    assert "\\\\x1b\\]0;owned\\\\x07" in markdown  # the same, with Markdown's own escapes
    assert "invoice\\u202egpj.exe [DISGUISED: U+202E]" in out
    assert "crm\\u200bclient.exe [DISGUISED: U+200B]" in out
    code, out, _err = vipctl("audit", "-i", str(inventory), "--json")
    flagged = {(d["program"], tuple(d["characters"])) for d in json.loads(out)["disguised_names"]}
    assert flagged == {(BIDI_NAME, ("U+202E",)), (ZERO_WIDTH_NAME, ("U+200B",))}
    assert ESCAPE_NAME not in {name for name, _characters in flagged}
