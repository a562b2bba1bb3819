"""The modules over WinRM HTTPS with certificate validation on, as real farms should run them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_farms import load_test_farm
from simfarm import running_farm


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_vip_status_over_https_validates_the_certificate(tmp_path: Path, connection: str) -> None:
    with running_farm(tmp_path, connection, https=True, farm=load_test_farm()) as farm:
        inventory = farm.inventory.read_text(encoding="utf-8")
        assert "https" in inventory and str(farm.sim.ca_file) in inventory
        record = farm.adhoc("vda2022-01", "vip_status", name="trusted")
        assert record.rc == 0, record.stdout + record.stderr
        assert record.results("vip_status")["vda2022-01"]["support"]["supported"] is True

        # The same call trusting only the system CAs must be refused: validation is really on.
        trust = (
            ["-e", "ansible_winrm_ca_trust_path=/etc/ssl/certs/ca-certificates.crt"]
            if connection == "winrm"
            else ["-e", "ansible_psrp_ca_cert=/etc/ssl/certs/ca-certificates.crt"]
        )
        refused = farm.adhoc("vda2022-01", "vip_status", "", *trust, name="untrusted")
        assert refused.rc != 0
        assert [e["status"] for e in refused.entries] == ["unreachable"]
        assert "CERTIFICATE_VERIFY_FAILED" in refused.entries[0]["result"]["msg"]
