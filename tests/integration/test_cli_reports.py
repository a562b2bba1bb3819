"""Reports a person can act on, through the CLI on the default farm: per-host reasons and
recommendations, each exposed instance with its address, port, PID and path, and programs that
the rollout resolved listed as resolved, no longer as needing a feature."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_sim import start_sim, vipctl

from vipctl.display import markdown_cell
from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer

REPO = Path(__file__).resolve().parents[2]
DESIRED = str(REPO / "inventory" / "sim-desired-state.yml")
SESSION_HOSTS = ("vda2016-01", "vda2019-01", "vda2022-01")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[SimServer, Path]]:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    yield sim, inventory
    sim.stop()


def test_reports_give_reasons_instances_and_stop_listing_resolved_programs(
    farm: tuple[SimServer, Path], tmp_path: Path
) -> None:
    sim, inventory = farm
    before = tmp_path / "audit.md"
    vipctl("audit", "-i", str(inventory), "--report", str(before))
    text = before.read_text(encoding="utf-8")
    assert "## Recommendations per host" in text
    # Markdown cells are escaped (`_` would start emphasis): the cell renders as virtual_loopback.
    assert r"| vda2019-01 | crmclient.exe | virtual\_loopback | listens on 127.0.0.1 tcp/9000" in text
    assert "| w10ms-01 | - | unsupported | no recommendation: " in text
    assert (
        "| vda2019-01 | crmclient.exe | 1 |" in text
        and markdown_cell(r"C:\Program Files\Contoso\CRM\crmclient.exe") in text
    )
    assert "| Needs Citrix virtual loopback | crmclient.exe |" in text

    code, out, err = vipctl("apply", "-i", str(inventory), "-d", DESIRED, "--yes")
    assert code == 0, out + err
    pending = tmp_path / "status.md"
    vipctl("status", "-i", str(inventory), "--report", str(pending))
    row = next(
        line for line in pending.read_text(encoding="utf-8").splitlines() if line.startswith("| vda2019-01")
    )
    assert (
        "| restart pending: the Winsock catalog entry of KB 4501072 was renamed; RD IP Virtualization" in row
    )
    for name in SESSION_HOSTS:
        sim.host(name).reboot()
    time.sleep(0.5)  # the simulated hosts are down for a moment after a restart
    for name in SESSION_HOSTS:
        host = sim.host(name)
        host.policy_refresh()
        host.logon_sessions()
    after = tmp_path / "verify.md"
    code, out, err = vipctl("verify", "-i", str(inventory), "-d", DESIRED, "--report", str(after))
    assert code == 0, out + err
    text = after.read_text(encoding="utf-8")
    assert "| Needs Citrix virtual loopback | - |" in text
    assert "| Needs RD IP Virtualization | - |" in text
    assert "| Resolved (own address per session) | crmclient.exe, licclient.exe, softphone.exe |" in text
