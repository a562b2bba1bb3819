"""The collection tarball carries no secrets and no local files, even after the simulator has run.

A copy of the working tree is used as a user's checkout: the simulator is started in it (its state
directory `.vipctl-sim/` holds the admin token and an inventory with the farm password), the CLI
writes reports and an exported script where the README says, and `ansible-galaxy collection build`
packs it. No member may contain the farm's password or the admin token.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Its own 127.67.0.0/16, apart from the other tests' farms.
OCTET = 67

pytestmark = [pytest.mark.xdist_group("molecule"), pytest.mark.timeout(300)]


def _checkout(target: Path) -> Path:
    """The files a clone has (tracked, plus new files not ignored), copied to `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _farm_with_a_fresh_password(target: Path, password: str) -> Path:
    farm = yaml.safe_load(resources.files("vipctl.sim").joinpath("farms/default.yml").read_text("utf-8"))
    farm["defaults"]["winrm"]["password"] = password
    for host in farm["hosts"].values():
        host["address"] = host["address"].replace("127.0.", f"127.{OCTET}.", 1)
    target.write_text(yaml.safe_dump(farm), encoding="utf-8")
    return target


def _vipctl(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "vipctl"), *args], cwd=checkout, capture_output=True, text=True, timeout=120, check=False
    )


def test_tarball_built_after_the_simulator_ran_holds_no_secret(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "vipctl")
    password = f"Pkg-{secrets.token_hex(8)}!"
    farm = _farm_with_a_fresh_password(tmp_path / "farm.yml", password)
    log = (tmp_path / "sim.log").open("w")
    # As the README says: `vipctl sim serve` from the repository root (state in .vipctl-sim/).
    simulator = subprocess.Popen(
        [str(BIN / "vipctl"), "sim", "serve", "--farm", str(farm)],
        cwd=checkout,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    state = checkout / ".vipctl-sim"
    try:
        deadline = time.monotonic() + 30
        while not (state / "sim.json").exists():
            assert simulator.poll() is None, (tmp_path / "sim.log").read_text()
            assert time.monotonic() < deadline, "the simulator did not write sim.json within 30 s"
            time.sleep(0.1)
        token = json.loads((state / "sim.json").read_text())["token"]
        inventory = ".vipctl-sim/inventory.yml"
        assert password in (state / "inventory.yml").read_text()
        audit = _vipctl(checkout, "audit", "-i", inventory, "--report", "reports/audit.html")
        assert audit.returncode in (0, 2), audit.stdout + audit.stderr
        status = _vipctl(checkout, "status", "-i", inventory, "--report", "farm.html")
        assert status.returncode in (0, 1), status.stdout + status.stderr
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(timeout=15)
        log.close()
    script = _vipctl(checkout, "script", "rds_ip_virtualization", "-d", "inventory/sim-desired-state.yml")
    assert script.returncode == 0, script.stderr
    (checkout / "reports" / "apply.ps1").write_text(script.stdout, encoding="utf-8")
    assert (checkout / "reports" / "audit.html").is_file() and (checkout / "farm.html").is_file()

    out = tmp_path / "dist"
    built = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(checkout)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = out.glob("vipctl-farm-*.tar.gz")
    leaks: list[str] = []
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        for member in archive.getmembers():
            content = archive.extractfile(member) if member.isfile() else None
            data = content.read() if content is not None else b""
            if password.encode() in data or token.encode() in data:
                leaks.append(member.name)
    assert leaks == []
    local = [n for n in names if n.startswith((".vipctl-sim", "reports/")) or n.endswith(".html")]
    assert local == []
    # The check above would pass on an empty tarball: the collection itself is there.
    assert "plugins/action/vip_status.py" in names and "roles/farm_rollout/tasks/main.yml" in names
