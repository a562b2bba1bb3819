"""The simulator's dependencies are the `vipctl[sim]` extra: a controller runs without them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIM_ONLY = ("psrpcore", "defusedxml")
# Blocks the simulator-only packages the way a controller without the extra lacks them.
BLOCK = "import sys\nfor name in {names!r}: sys.modules[name] = None\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK.format(names=SIM_ONLY) + code],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def test_the_extra_and_the_requirement_files_split_the_same_way() -> None:
    project = tomllib.loads((REPO / "python" / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    extra = " ".join(project["optional-dependencies"]["sim"])
    controller = (REPO / "requirements.txt").read_text()
    for name in SIM_ONLY:
        assert name not in runtime and name in extra
        assert name not in controller and name in (REPO / "requirements-sim.txt").read_text()
    assert "cryptography" in extra


def test_a_controller_without_the_extra_runs_the_cli_modules_and_transports() -> None:
    run = _run(
        "import vipctl.cli, vipctl.tasks, vipctl.action_plugin.action, vipctl.transport.winrm, "
        "vipctl.transport.psrp\n"
        "from vipctl.cli import main\n"
        "raise SystemExit(main(['script', 'vip_status']))\n"
    )
    assert run.returncode == 0, run.stderr
    assert "vipctl executor" in run.stdout


def test_the_simulator_without_the_extra_says_how_to_get_it() -> None:
    run = _run("from vipctl.cli import main\nraise SystemExit(main(['sim', 'serve']))\n")
    assert run.returncode == 3
    assert "pip install 'vipctl[sim]'" in run.stderr and "Traceback" not in run.stderr
