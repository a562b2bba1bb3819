"""`make demo` is the README's main command: its script must keep working end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_demo_audits_rolls_out_verifies_and_converges(connection: str) -> None:
    proc = subprocess.run(
        [sys.executable, "tools/demo.py", "--connection", connection],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-2000:]
    assert "crmclient.exe: virtual_loopback" in out  # the audit found the loopback clash
    assert "rerun: 0 changed" in out
    assert "127.0.0.3  127.0.0.3  ok" in out  # session 2's CRM instance on its own loopback address
    assert "w10ms-01 left out" in out  # the OS guard
