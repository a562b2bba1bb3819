"""Pending restarts are remembered on the host until it restarts (over winrm and psrp).

site.yml leaves a marker on each host whose change needs a restart; vip_status, `vipctl status`
and verification report it with its reasons until the host has restarted; a rerun with nothing
left to change still reports it, and `-e vipctl_reboot=true` restarts exactly those hosts.
The restart itself goes through tools/sim_collections' ansible.windows.win_reboot, the simulator's
stand-in for the real module (which runs shutdown.exe, not modelled).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_farms import load_test_farm
from simfarm import REPO, SimFarm, running_farm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])

DESIRED_STATE = "@inventory/sim-desired-state.yml"
SESSION_HOSTS = ("vda2016-01", "vda2019-01", "vda2022-01")
RDS_TASK = "rds_ip_virtualization : Configure RD IP Virtualization"


@pytest.fixture
def farm(tmp_path: Path, connection: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        monkeypatch.setenv(
            "ANSIBLE_COLLECTIONS_PATH", f"{REPO / '.collections'}:{REPO / 'tools' / 'sim_collections'}"
        )
        monkeypatch.setenv("VIPCTL_SIM_ADMIN_URL", running.admin.url)
        monkeypatch.setenv("VIPCTL_SIM_ADMIN_TOKEN", running.admin.token)
        yield running


def boots(farm: SimFarm) -> dict[str, int]:
    return {host: int(farm.snapshot(host)["boot_count"]) for host in farm.admin.hosts()}


def test_a_restart_is_remembered_until_the_host_restarts(farm: SimFarm) -> None:
    rollout = farm.playbook("site.yml", "-e", DESIRED_STATE, name="rollout")
    assert rollout.rc == 0, rollout.stdout[-4000:]
    for host, result in rollout.results(RDS_TASK).items():
        assert result["reboot_required"] is True, (host, result)
        assert "RD IP Virtualization policy values changed" in result["restart"]["reasons"]

    status = farm.adhoc("rdsh", "vip_status", name="status")
    for host in SESSION_HOSTS:
        restart = status.results("vip_status")[host]["restart"]
        assert restart["pending"] is True and restart["reasons"], restart
        assert "restart pending: " in status.results("vip_status")[host]["msg"]

    cli = subprocess.run(
        [
            str(Path(sys.executable).parent / "vipctl"),
            "status",
            "-i",
            str(farm.inventory),
            "--limit",
            "vda2019-01",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "pending" in cli.stdout and "restart pending: " in cli.stdout, cli.stdout + cli.stderr

    verify = farm.playbook("playbooks/verify.yml", "-e", DESIRED_STATE, name="verify")
    assert verify.rc != 0
    assert "not virtualized yet: restart pending" in verify.stdout

    # Nothing left to change, and the restart is still pending: reported, not forgotten.
    before = boots(farm)
    rerun = farm.playbook("site.yml", "-e", DESIRED_STATE, name="rerun")
    assert rerun.rc == 0 and rerun.changed_count() == 0, rerun.stdout[-4000:]
    assert all(r["reboot_required"] for r in rerun.results(RDS_TASK).values())
    assert boots(farm) == before

    restarted = farm.playbook("site.yml", "-e", DESIRED_STATE, "-e", "vipctl_reboot=true", name="reboot")
    assert restarted.rc == 0, restarted.stdout[-4000:]
    after = boots(farm)
    assert {h for h in after if after[h] != before[h]} == set(SESSION_HOSTS)

    cleared = farm.adhoc("rdsh", "vip_status", name="cleared")
    assert not any(r["restart"]["pending"] for r in cleared.results("vip_status").values())
    again = farm.playbook("site.yml", "-e", DESIRED_STATE, "-e", "vipctl_reboot=true", name="again")
    assert again.rc == 0 and boots(farm) == after  # nothing pending: nobody restarts


def test_a_program_list_change_needs_a_restart(farm: SimFarm) -> None:
    args = {"mode": "per_program", "programs": ["softphone.exe"], "adapter": "10.0.0.0/24"}
    first = farm.play([{"name": "rds", "rds_ip_virtualization": args}], "vda2022-01", name="first")
    assert first.rc == 0, first.stdout
    farm.admin.action("vda2022-01", "reboot")
    deadline = time.monotonic() + 10
    while not farm.snapshot("vda2022-01")["up"] and time.monotonic() < deadline:
        time.sleep(0.05)
    wider = dict(args, programs=["softphone.exe", "licclient.exe"])
    second = farm.play([{"name": "rds", "rds_ip_virtualization": wider}], "vda2022-01", name="second")
    result = second.results("rds")["vda2022-01"]
    assert result["changed"] is True and result["reboot_required"] is True, result
    assert [c["name"] for c in result["changes"]] == ["PerApp"]
