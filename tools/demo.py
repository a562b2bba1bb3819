"""`make demo`: the whole job on the embedded simulated farm, with real Ansible over WinRM.

1. start the simulated farm (one Delivery Controller, VDAs on 2016/2019/2022, a Windows 10
   multi-session host);
2. audit: which programs clash on fixed ports across sessions;
3. roll out with playbooks/site.yml (with --diff): Citrix policy, RD IP Virtualization, ...;
4. restart the hosts that asked for it, refresh Citrix policy on the VDAs, log the users off and on
   (all through the simulator's admin API: what an admin, win_reboot and gpupdate would do);
5. verify that each session's instances bind their own address;
6. run site.yml again: 0 changed;
7. stop the simulator.
Exit code 0 only when every step did what it should.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from simfarm import Record, SimFarm, running_farm

DESIRED_STATE = "@inventory/sim-desired-state.yml"


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n== {text}\n{'=' * 100}", flush=True)


def show(record: Record) -> None:
    print(record.stdout, flush=True)
    if record.rc != 0:
        print(record.stderr, file=sys.stderr, flush=True)


def hosts_needing_restart(record: Record) -> list[str]:
    return sorted({e["host"] for e in record.entries if e["result"].get("reboot_required")})


def restart_and_relog(farm: SimFarm, restart: list[str]) -> None:
    for host in restart:
        farm.admin.action(host, "reboot")
        print(f"  restarted {host}")
    time.sleep(0.3)  # the simulated hosts are down for a moment after a restart
    for host in farm.admin.hosts():
        groups = farm.sim.host(host).groups
        if "citrix_vdas" not in groups:
            continue
        farm.admin.action(host, "policy_refresh")
        farm.admin.action(host, "logoff")
        farm.admin.action(host, "logon")
        print(f"  {host}: Citrix policy refreshed, users logged off and on again")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connection", choices=["winrm", "psrp"], default="winrm")
    args = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="vipctl-demo-") as workdir,
        running_farm(Path(workdir), args.connection) as farm,
    ):
        banner(f"Simulated farm up: {', '.join(farm.sim.host_names)} (connection {args.connection})")

        banner("1. Audit: who binds 0.0.0.0, 127.0.0.1 or the server IP, and what clashes")
        audit = farm.playbook("playbooks/audit.yml", name="audit")
        show(audit)

        banner("2. Roll out: playbooks/site.yml --diff")
        rollout = farm.playbook("site.yml", "-e", DESIRED_STATE, "--diff", name="rollout")
        show(rollout)

        banner("3. Restart where needed, refresh Citrix policy, users log off and on")
        restart_and_relog(farm, hosts_needing_restart(rollout))

        banner("4. Verify: each session's instance on its own address")
        verify = farm.playbook("playbooks/verify.yml", "-e", DESIRED_STATE, name="verify")
        show(verify)

        banner("5. Roll out again: nothing left to change")
        rerun = farm.playbook("site.yml", "-e", DESIRED_STATE, name="rerun")
        show(rerun)

    failures = [
        f"{name} exited {record.rc}"
        for name, record in (("audit", audit), ("rollout", rollout), ("verify", verify), ("rerun", rerun))
        if record.rc != 0
    ]
    if rerun.changed_count():
        failures.append(f"the rerun changed {rerun.changed_count()} task(s); expected 0")
    if rollout.changed_count() == 0:
        failures.append("the rollout changed nothing on a fresh farm")
    banner(f"Demo finished in {time.monotonic() - started:.1f} s")
    print(f"  rollout: {rollout.changed_count()} changed task(s); rerun: {rerun.changed_count()} changed")
    for failure in failures:
        print(f"  FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
