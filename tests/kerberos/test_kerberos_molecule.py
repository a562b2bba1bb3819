"""The molecule scenario `kerberos`: the full rollout over psrp with Kerberos on the simulated farm.

The scenario's farm accepts neither Basic nor NTLM, so it passes only over Kerberos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from krb_realm import KerberosRealm

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.timeout(600)


def test_molecule_kerberos_scenario(realm: KerberosRealm, ccache: Path, tmp_path: Path) -> None:
    # kerberos_env (conftest) has pointed KRB5_CONFIG, KRB5_KTNAME and KRB5CCNAME at the realm:
    # the simulator molecule starts reads the keytab, ansible reads the ticket.
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "NO_COLOR": "1",
        "ANSIBLE_NOCOLOR": "1",
    }
    result = subprocess.run(
        [str(BIN / "molecule"), "test", "-s", "kerberos"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    for step in ("create", "converge", "idempotence", "side_effect", "verify", "destroy"):
        assert f"{step}: Executed: Successful" in output, f"step {step} did not run:\n{output[-4000:]}"
