"""Error messages that send the user to the right fix: a connection lost mid-request, and NTLM
refused for want of encryption (not "credentials rejected")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_sim import start_sim, vipctl

from vipctl.sim.farm import load_farm
from vipctl.sim.inventory import write_inventory


def test_a_connection_dropped_after_the_request_was_sent_is_not_cannot_connect(tmp_path: Path) -> None:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    try:
        # w10ms-01 speaks Basic (its lab AllowUnencrypted): create shell, command, send, then the
        # connection drops at the first Receive, when the request is on the host.
        sim.set_faults("w10ms-01", {"reset_after": 3})
        code, out, _err = vipctl("status", "-i", str(inventory), "-l", "w10ms-01", "--json")
        error = json.loads(out)["hosts"][0]["error"]
        assert code == 1
        assert "cannot connect" not in error, error
        assert "after the request was sent" in error and "vipctl status" in error and "rollback" in error
    finally:
        sim.stop()


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_unencrypted_ntlm_over_http_is_named_as_such(tmp_path: Path, connection: str) -> None:
    sim, _inventory = start_sim(load_farm(None), tmp_path / "sim")
    try:
        path = write_inventory(sim, tmp_path / "inventory.yml", connection)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["all"]["hosts"]["vda2019-01"][f"ansible_{connection}_message_encryption"] = "never"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        code, out, _err = vipctl("status", "-i", str(path), "-l", "vda2019-01", "--json")
        error = json.loads(out)["hosts"][0]["error"]
        assert code == 1
        assert error.startswith("UnencryptedRefused:") and "message_encryption to auto" in error, error
    finally:
        sim.stop()
