"""Windows' 500 KB envelope limit: the simulator enforces it, and vipctl's requests fit it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import winrm
import yaml
from cli_sim import start_sim, vipctl

from vipctl.sim.farm import load_farm

PROGRAMS = [f"lineofbusiness-application-{i:05d}.exe" for i in range(10_000)]


def test_the_simulator_refuses_an_envelope_over_max_envelope_size(tmp_path: Path) -> None:
    sim, _inventory = start_sim(load_farm(None), tmp_path / "sim")
    try:
        address, port, scheme = sim.endpoint("w10ms-01")
        cfg = sim.host("w10ms-01").winrm
        protocol = winrm.Protocol(
            f"{scheme}://{address}:{port}/wsman",
            transport="basic",
            username=cfg.username,
            password=cfg.password,
        )
        shell = protocol.open_shell()
        command = protocol.run_command(shell, "cmd.exe", ["/c", "more"])
        with pytest.raises(winrm.exceptions.WSManFaultError) as caught:
            protocol.send_command_input(shell, command, b"x" * 400_000, end=True)  # about 534 KB base64
        assert caught.value.wsman_fault_code is not None and "maximum envelope size" in caught.value.reason
    finally:
        sim.stop()


@pytest.mark.timeout(300)
def test_a_ten_thousand_program_list_reaches_the_host_in_envelopes_that_fit(tmp_path: Path) -> None:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    try:
        desired = tmp_path / "desired.yml"
        rds = {"mode": "per_program", "programs": PROGRAMS}
        desired.write_text(yaml.safe_dump({"vipctl_rds_ip_virtualization": rds}), encoding="utf-8")
        code, out, err = vipctl(
            "apply", "-i", str(inventory), "-d", str(desired), "-l", "vda2019-01", "--check", "--json"
        )
        assert code == 2, err + out[:2000]
        assert json.loads(out)["plan"][0]["ok"] is True
    finally:
        sim.stop()
