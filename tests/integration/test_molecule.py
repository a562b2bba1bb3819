"""The molecule scenarios over the simulated farm: winrm (default) and psrp, full `molecule test`.

Each scenario starts its own simulator (create), rolls out site.yml, checks idempotence, restarts
the session hosts through the admin API, verifies with the modules and the simulator's ground
truth, and stops the simulator (destroy). The windows_vm scenario needs real VMs: only its syntax.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.xdist_group("molecule"), pytest.mark.timeout(600)]


def _molecule(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # molecule calls ansible-config / ansible-playbook by name: the venv's, not whatever is on PATH.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        # Ephemeral state (scenario inventory, the simulator's state dir) per test run, so a run left
        # behind by an interrupted session never leaks into this one.
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "NO_COLOR": "1",
        "ANSIBLE_NOCOLOR": "1",
    }
    env.pop("VIPCTL_WINDOWS_INVENTORY", None)
    env.pop("VIPCTL_WINDOWS_VARS", None)
    return subprocess.run(
        [str(BIN / "molecule"), *args],
        cwd=ROOT,  # molecule finds extensions/molecule/<scenario> from the collection root
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )


def _assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]


@pytest.mark.parametrize("scenario", ["default", "psrp"])
def test_molecule_scenario_passes(scenario: str, tmp_path: Path) -> None:
    result = _molecule("test", "-s", scenario, tmp_path=tmp_path)
    _assert_ok(result)
    output = result.stdout + result.stderr
    for step in ("create", "converge", "idempotence", "side_effect", "verify", "destroy"):
        assert f"{step}: Executed: Successful" in output, f"step {step} did not run:\n{output[-4000:]}"
    # The verify step says what it proved in a few lines, not the hosts' whole ground truth.
    verify = _verify_output(result.stdout)
    assert "each on its session's own address" in verify and "ground truth agrees on" in verify, verify
    assert len(verify.splitlines()) < 150, f"verify printed {len(verify.splitlines())} lines"


def _verify_output(stdout: str) -> str:
    """The verify playbook's part of Ansible's output: from its first play to its recap."""
    start = stdout.index("PLAY [Verify through the modules]")
    last_play = stdout.index("PLAY [Verify against the simulator's ground truth]", start)
    end = stdout.index("PLAY RECAP", last_play)
    return stdout[start:end]


def test_windows_vm_scenario_syntax(tmp_path: Path) -> None:
    _assert_ok(_molecule("syntax", "-s", "windows_vm", tmp_path=tmp_path))
