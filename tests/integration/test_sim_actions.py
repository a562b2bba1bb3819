"""`vipctl sim restart|logoff|logon|policy-refresh HOST` against a running `vipctl sim serve`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from vipctl.sim.admin_client import AdminClient

BIN = Path(sys.executable).parent
OCTET = 68  # its own 127.68.0.0/16


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("sim-actions")
    farm = yaml.safe_load(resources.files("vipctl.sim").joinpath("farms/default.yml").read_text("utf-8"))
    for host in farm["hosts"].values():
        host["address"] = host["address"].replace("127.0.", f"127.{OCTET}.", 1)
    (work / "farm.yml").write_text(yaml.safe_dump(farm), encoding="utf-8")
    log = (work / "sim.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "vipctl"), "sim", "serve", "--farm", "farm.yml"],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not (work / ".vipctl-sim" / "sim.json").exists():
            assert process.poll() is None and time.monotonic() < deadline, (work / "sim.log").read_text()
            time.sleep(0.1)
        yield work
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


def sim(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "vipctl"), "sim", *args], cwd=work, capture_output=True, text=True, timeout=60, check=False
    )


def test_restart_logoff_logon_from_the_cli(served: Path) -> None:
    admin = AdminClient.from_state_dir(served / ".vipctl-sim")
    boots = admin.snapshot("vda2019-01")["boot_count"]
    result = sim(served, "restart", "vda2019-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "vda2019-01: restart done"
    snapshot = admin.snapshot("vda2019-01")
    assert snapshot["boot_count"] == boots + 1 and snapshot["up"]
    users = [s for s in snapshot["sessions"] if s["id"] != 0]
    assert users == []  # a restart ends every user session
    assert sim(served, "logon", "vda2019-01").returncode == 0
    assert [s for s in admin.snapshot("vda2019-01")["sessions"] if s["id"] != 0]
    assert sim(served, "logoff", "vda2019-01").returncode == 0
    assert [s for s in admin.snapshot("vda2019-01")["sessions"] if s["id"] != 0] == []
    assert sim(served, "logon", "vda2019-01", "vda2022-01").returncode == 0
    assert sim(served, "policy-refresh", "vda2019-01").returncode == 0


def test_unknown_host_or_no_simulator_is_a_clear_error(served: Path, tmp_path: Path) -> None:
    unknown = sim(served, "restart", "vda9999")
    assert unknown.returncode == 3 and "unknown host(s) vda9999" in unknown.stderr
    missing = sim(tmp_path, "logon", "vda2019-01")
    assert missing.returncode == 3 and "no running simulator" in missing.stderr
    assert "Traceback" not in unknown.stderr + missing.stderr
