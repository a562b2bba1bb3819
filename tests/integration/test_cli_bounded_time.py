"""A host that stalls or floods cannot hold `vipctl` for ever or fill the controller's memory."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import pytest
import yaml
from cli_sim import start_sim, vipctl

from vipctl.sim.farm import load_farm
from vipctl.sim.inventory import write_inventory

HOST = "vda2019-01"
# Short bounds, so the test runs in seconds: Receive held 1 s, read timeout 2 s, exchange 4 s.
FAST = {
    "ansible_winrm_operation_timeout_sec": 1,
    "ansible_winrm_read_timeout_sec": 2,
    "ansible_psrp_operation_timeout": 1,
    "ansible_psrp_read_timeout": 2,
    "vipctl_request_deadline": 4,
}


def _inventory(path: Path, connection: str, sim: object) -> str:
    written = write_inventory(sim, path, connection)  # type: ignore[arg-type]
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    data["all"]["hosts"][HOST].update(FAST)
    written.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(written)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_a_host_trickling_its_reply_is_cut_off_at_the_deadline(tmp_path: Path, connection: str) -> None:
    sim, _written = start_sim(load_farm(None), tmp_path / "sim")
    try:
        inventory = _inventory(tmp_path / "inventory.yml", connection, sim)
        sim.set_faults(HOST, {"drip_bytes_per_s": 20})  # a 3 KB reply would take minutes
        started = time.monotonic()
        code, out, _err = vipctl("status", "-i", inventory, "-l", HOST, "--json")
        elapsed = time.monotonic() - started
        error = json.loads(out)["hosts"][0]["error"]
        assert code == 1 and "did not complete within 4 s" in error, error
        assert elapsed < 30, elapsed
    finally:
        sim.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_an_oversized_reply_is_refused_without_being_read(tmp_path: Path, connection: str) -> None:
    sim, _written = start_sim(load_farm(None), tmp_path / "sim")
    try:
        inventory = _inventory(tmp_path / "inventory.yml", connection, sim)
        sim.set_faults(HOST, {"oversize_reply_mb": 300})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        code, out, _err = vipctl("status", "-i", inventory, "-l", HOST, "--json")
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        error = json.loads(out)["hosts"][0]["error"]
        assert code == 1 and "more than the 67108864 allowed" in error, error
        assert grown_mb < 100, grown_mb
    finally:
        sim.stop()


@pytest.mark.timeout(60)
def test_a_host_whose_receive_always_times_out_gets_a_clear_error_in_bounded_time(tmp_path: Path) -> None:
    sim, _written = start_sim(load_farm(None), tmp_path / "sim")
    try:
        path = Path(_inventory(tmp_path / "inventory.yml", "winrm", sim))
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["all"]["hosts"][HOST]["vipctl_command_timeout"] = 3
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        sim.set_faults(HOST, {"timeouts": True})
        started = time.monotonic()
        code, out, _err = vipctl("status", "-i", str(path), "-l", HOST, "--json")
        error = json.loads(out)["hosts"][0]["error"]
        assert code == 1 and time.monotonic() - started < 20
        assert "Receive(s) ended in the WS-Man operation timeout" in error, error
        assert "vipctl status" in error  # the request was sent: say how to check the host
    finally:
        sim.stop()
