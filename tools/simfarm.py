"""A simulated farm started in-process and driven by real ansible: used by `make demo` and the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vipctl.sim.admin import AdminApi
from vipctl.sim.admin_client import AdminClient
from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer
from vipctl.sim.inventory import write_inventory
from vipctl.sim.relocate import block_for_this_process, relocate_farm

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Record:
    """The recorded results of one ansible run."""

    rc: int
    stdout: str
    stderr: str
    entries: list[dict[str, Any]] = field(default_factory=list)

    def results(self, task: str) -> dict[str, dict[str, Any]]:
        """host -> result dict for the task with this name."""
        return {e["host"]: e["result"] | {"_status": e["status"]} for e in self.entries if e["task"] == task}

    def changed_count(self) -> int:
        return sum(1 for e in self.entries if e["status"] == "changed")

    def failed(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["status"] in ("failed", "unreachable")]


@dataclass
class SimFarm:
    sim: SimServer
    admin: AdminClient
    inventory: Path
    workdir: Path
    connection: str

    def ansible_env(self, record: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tools" / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="vipctl_record",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "ansible-tmp"),
            ANSIBLE_HOME=str(self.workdir / "ansible-home"),
            VIPCTL_RECORD=str(record),
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        )
        return env

    def _run(self, argv: list[str], name: str) -> Record:
        record = self.workdir / f"{name}.jsonl"
        record.unlink(missing_ok=True)
        proc = subprocess.run(
            argv, cwd=REPO, env=self.ansible_env(record), capture_output=True, text=True, timeout=600
        )
        entries = []
        if record.exists():
            entries = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
        return Record(proc.returncode, proc.stdout, proc.stderr, entries)

    def playbook(self, playbook: str | Path, *extra: str, name: str = "run") -> Record:
        return self._run(
            [str(BIN / "ansible-playbook"), "-i", str(self.inventory), str(playbook), *extra], name
        )

    def play(
        self, tasks: list[dict[str, Any]], hosts: str = "all", *extra: str, name: str = "play"
    ) -> Record:
        """Write a one-play playbook around `tasks` and run it."""
        path = self.workdir / f"{name}.yml"
        path.write_text(yaml.safe_dump([{"hosts": hosts, "gather_facts": False, "tasks": tasks}]))
        return self.playbook(path, *extra, name=name)

    def adhoc(self, pattern: str, module: str, args: str = "", *extra: str, name: str = "adhoc") -> Record:
        argv = [str(BIN / "ansible"), pattern, "-i", str(self.inventory), "-m", module, *extra]
        if args:
            argv += ["-a", args]
        return self._run(argv, name)

    def snapshot(self, host: str) -> dict[str, Any]:
        return self.admin.snapshot(host)


@contextmanager
def running_farm(
    workdir: Path, connection: str = "winrm", https: bool = False, farm: Any = None
) -> Iterator[SimFarm]:
    """Serve `farm` (default: the embedded farm on this process's own 127.N block) until the block ends."""
    farm = farm if farm is not None else relocate_farm(load_farm(None), block_for_this_process())
    sim = SimServer(max_receive_wait_s=0.5)
    state = workdir / "sim"
    sim.start(farm, https=https, state_dir=state)
    admin_api = AdminApi(sim, port=0)
    admin_api.start()
    try:
        inventory = write_inventory(sim, workdir / f"inventory-{connection}.yml", connection)
        yield SimFarm(sim, AdminClient(admin_api.url, admin_api.token), inventory, workdir, connection)
    finally:
        admin_api.stop()
        sim.stop()
