"""Benchmark: Ansible at fleet size. site.yml on a scaled simulated farm, then again, then vip_status.

The simulator (`scaled_farm(N)`: one Delivery Controller, N-1 VDAs) runs in its own process; the
real `ansible-playbook` and `ansible` run from the repository root with `--forks`. Three runs:
the first rollout, the idempotent rerun (must change nothing) and `ansible all -m vip_status`.
For each it prints the wall time, tasks and WinRM requests per host (the admin API's counters),
and the machine's load.

Usage:
    .venv/bin/python bench/site_fleet.py --hosts 200 --forks 20
Exit status 0 when every run succeeded and the rerun changed nothing (and, with --max-rerun-seconds,
the rerun was fast enough).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from fleet_sim import REPO, ServedFarm, admin_counters, load, served_farm, spread, spread_text

BIN = Path(sys.executable).parent
# The demo's desired state, with the adapter of the scaled farm's network (its hosts are numbered in
# 10.1.0.0/16, see vipctl.sim.farm.scaled_farm): the guard refuses an adapter matching no address.
SCALED_FARM_ADAPTER = "10.1.0.0/16"


def desired_state_file(workdir: Path) -> str:
    desired = yaml.safe_load((REPO / "inventory" / "sim-desired-state.yml").read_text(encoding="utf-8"))
    desired["vipctl_rds_ip_virtualization"]["adapter"] = SCALED_FARM_ADAPTER
    path = workdir / "desired-state.yml"
    path.write_text(yaml.safe_dump(desired), encoding="utf-8")
    return f"@{path}"


def _ansible_env(record: Path, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tools" / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="vipctl_record",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-tmp"),
        ANSIBLE_HOME=str(workdir / "ansible-home"),
        VIPCTL_RECORD=str(record),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def run_step(name: str, argv: list[str], farm: ServedFarm, workdir: Path) -> dict[str, Any]:
    record = workdir / f"{name}.jsonl"
    before = {c["host"]: c for c in _named_counters(farm)}
    load_before = load()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(
        argv, cwd=REPO, env=_ansible_env(record, workdir), capture_output=True, text=True, check=False
    )
    wall = time.monotonic() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Ansible's controller and every worker it forked and reaped (the simulator is not reaped yet).
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    after = _named_counters(farm)
    entries = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    statuses = Counter(entry["status"] for entry in entries)
    tasks = Counter(entry["host"] for entry in entries if entry["status"] != "skipped")
    requests = [float(c["requests"] - before[c["host"]]["requests"]) for c in after]
    hosts = len(after)
    return {
        "step": name,
        "command": " ".join(argv),
        "exit_code": done.returncode,
        "wall_s": round(wall, 2),
        "controller_cpu_s": round(cpu, 2),
        "statuses": dict(sorted(statuses.items())),
        "tasks_run_per_host": spread([float(tasks.get(c["host"], 0)) for c in after]),
        "requests_per_host": spread(requests),
        "seconds_per_host_task": round(wall / max(sum(tasks.values()), 1), 4),
        "hosts": hosts,
        "load_before": load_before,
        "load_after": load(),
        "stderr_tail": done.stderr[-1500:] if done.returncode else "",
    }


def _named_counters(farm: ServedFarm) -> list[dict[str, Any]]:
    from vipctl.sim.admin_client import AdminClient

    admin = AdminClient.from_state_dir(farm.state_dir)
    names = admin.hosts()
    return [{"host": name, **counters} for name, counters in zip(names, admin_counters(farm), strict=True)]


def report(step: dict[str, Any]) -> str:
    lines = [
        f"== {step['step']}: {step['command']}",
        f"exit code {step['exit_code']}; wall time {step['wall_s']:.2f} s for {step['hosts']} hosts;"
        f" controller CPU {step['controller_cpu_s']:.2f} s; results {step['statuses']}",
        f"tasks run per host (not skipped): {spread_text(step['tasks_run_per_host'])}",
        f"WinRM requests per host: {spread_text(step['requests_per_host'])}",
        f"load (1/5/15 min) before: {step['load_before']}, after: {step['load_after']}",
    ]
    if step["stderr_tail"]:
        lines.append(step["stderr_tail"])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--connection", choices=("winrm", "psrp"), default="winrm")
    parser.add_argument("--max-rerun-seconds", type=float, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vipctl-site-bench-"))
    forks = ["--forks", str(args.forks)]
    with served_farm(args.hosts, latency_ms=args.latency_ms, connection=args.connection) as farm:
        inventory = ["-i", str(farm.inventory)]
        desired = desired_state_file(workdir)
        playbook = [str(BIN / "ansible-playbook"), *inventory, *forks, "site.yml", "-e", desired]
        steps = [
            run_step("first run", playbook, farm, workdir),
            run_step("rerun", playbook, farm, workdir),
            run_step(
                "vip_status",
                [str(BIN / "ansible"), "all", *inventory, *forks, "-m", "vip_status"],
                farm,
                workdir,
            ),
        ]
    print(json.dumps(steps, indent=2) if args.json else "\n\n".join(report(step) for step in steps))
    ok = all(step["exit_code"] == 0 for step in steps) and steps[1]["statuses"].get("changed", 0) == 0
    if args.max_rerun_seconds is not None and steps[1]["wall_s"] > args.max_rerun_seconds:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
