"""Program names with line separators through real Ansible (winrm and psrp) on the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_farm import HOSTILE_NAMES, LINE_SEPARATOR_NAMES, hostile_farm
from simfarm import running_farm


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_modules_audit_and_configure_names_with_line_separators(tmp_path: Path, connection: str) -> None:
    program = LINE_SEPARATOR_NAMES["crm"]
    tasks = [
        {"name": "bindings", "vip_bindings": {}},
        {"name": "rds", "rds_ip_virtualization": {"mode": "per_program", "programs": [program]}},
        {"name": "status", "vip_status": {}},
    ]
    with running_farm(tmp_path, connection, farm=hostile_farm()) as farm:
        record = farm.play(tasks, "vda2019-01")
    assert record.rc == 0, record.stdout + record.stderr
    endpoints = record.results("bindings")["vda2019-01"]["endpoints"]
    assert set(HOSTILE_NAMES) <= {e["process"] for e in endpoints}
    assert record.results("rds")["vda2019-01"]["changed"] is True
    status = record.results("status")["vda2019-01"]
    assert status["rds_ip_virtualization"]["programs"]["value"] == [program]
