"""The layout checks `make test` runs can fail: module cycles, import contracts, dead code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tools.import_graph import cycles, module_cycles  # noqa: E402


def test_no_module_imports_itself_through_others() -> None:
    assert module_cycles(grimp.build_graph("vipctl")) == []


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_import_contracts_hold() -> None:
    run = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout


def test_vulture_reports_planted_dead_code(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def never_called() -> int:\n    return 1\n", encoding="utf-8")
    vulture = str(Path(sys.executable).with_name("vulture"))
    run = subprocess.run(
        [vulture, str(planted), "--min-confidence", "60"], capture_output=True, text=True, check=False
    )
    assert run.returncode != 0 and "never_called" in run.stdout
    clean = subprocess.run(
        [vulture, "python/src", "plugins", "tools", "bench", "--min-confidence", "60"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0, clean.stdout
