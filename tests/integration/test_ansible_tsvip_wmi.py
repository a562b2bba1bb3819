"""RD IP Virtualization through WMI (`method: wmi`, `virtualize_loopback`), then rolled back, over
winrm and psrp: the tsvip_set and tsvip_restore path whose PowerShell once called the op handler
instead of the WMI writer (a second `function Invoke-TsVipSet`). The static checker is what fails
on that PowerShell (tests/powershell/test_ps_static_check.py); this pins the behaviour the
executor and its twin must both have.

Ground truth is the simulator's admin API (Win32_TSVirtualIP as the model holds it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sim_farms import load_test_farm
from simfarm import SimFarm, running_farm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])

HOST = "vda2019-01"


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


def tsvip(farm: SimFarm) -> dict[str, Any]:
    properties = farm.snapshot(HOST)["tsvip"]
    assert properties is not None, "the test host must have Win32_TSVirtualIP (RDSH role)"
    return dict(properties)


def test_wmi_settings_apply_back_up_and_roll_back(farm: SimFarm) -> None:
    before = tsvip(farm)
    mac = before["NetworkAdapterMacList"][0]
    args = {
        "method": "wmi",
        "mode": "per_session",
        "adapter": mac.lower().replace(":", "-"),
        "virtualize_loopback": True,
        "winsock_fix": "skip",
    }
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    applied = farm.play([{"name": "rds", "rds_ip_virtualization": args}], HOST, name="apply")
    assert applied.rc == 0, applied.stdout + applied.stderr
    result = applied.results("rds")[HOST]
    assert result["changed"] is True
    assert any(backup.endswith("\\tsvip.json") for backup in result["backups"])
    after = tsvip(farm)
    assert after["VirtualIPActive"] == 1
    assert after["VirtualIPMode"] == 0
    assert after["NetworkAdapterMacAddress"] == mac
    assert after["VirtualizeLoopbackAddressesEnabled"] == 1

    again = farm.play([{"name": "rds", "rds_ip_virtualization": args}], HOST, name="again")
    assert again.rc == 0, again.stdout + again.stderr
    assert again.results("rds")[HOST]["changed"] is False

    rollback = farm.play([{"name": "undo", "vip_rollback": {"since": since}}], HOST, name="undo")
    assert rollback.rc == 0, rollback.stdout + rollback.stderr
    assert rollback.results("undo")[HOST]["changed"] is True
    restored = tsvip(farm)
    for name in ("VirtualIPActive", "VirtualIPMode", "VirtualizeLoopbackAddressesEnabled", "ProgramList"):
        assert restored[name] == before[name], name
