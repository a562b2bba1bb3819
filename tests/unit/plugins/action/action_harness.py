"""Harness for the action plugins, built the way ansible.windows tests its action plugins.

The plugin is constructed directly with a real Task, PlayContext, loader and templar and a fake
connection. The fake keeps the parts the runner relies on (the plugin name and the real PowerShell
shell plugin's encoder) and answers exec_command with a canned executor response after decoding
the stdin frame, so every request the plugin sends can be inspected.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.plugins.shell.powershell import ShellModule

from vipctl.executor.bootstrap import parse_stdin_frame

REPO = Path(__file__).resolve().parents[4]
ACTION_DIR = REPO / "plugins" / "action"
# The plugins import their base as `ansible_collections.vipctl.farm...`, which the repository
# provides through the .collections symlink that ansible.cfg points Ansible at.
if str(REPO / ".collections") not in sys.path:
    sys.path.insert(0, str(REPO / ".collections"))
MODULES = (
    "vip_status",
    "vip_bindings",
    "rds_ip_virtualization",
    "citrix_virtual_loopback",
    "citrix_prefer_loopback",
    "vip_rollback",
)
# Arguments each module accepts without complaint; the content of the answer does not matter here.
GOOD_ARGS: dict[str, dict[str, Any]] = {
    "vip_status": {},
    "vip_bindings": {"port": 8080, "protocol": "tcp"},
    "rds_ip_virtualization": {"state": "enabled", "mode": "per_session", "adapter": "192.0.2.0/24"},
    "citrix_virtual_loopback": {"programs": ["crmclient.exe"]},
    "citrix_prefer_loopback": {"processes": ["crmclient.exe"]},
    "vip_rollback": {"since": "2026-11-26T12:00:00Z"},
}
SECRET = "Sup3r-Secret-Pa55!"
# The one backup set the canned host has, so vip_rollback finds something to restore.
CANNED_SET = "20261126T120001000000Z-rds_ip_virtualization"
CANNED_BACKUP = "HKLM_SOFTWARE_Policies_Microsoft_Windows_NT_Terminal_Services_TSAppSrv_VirtualIP.reg"

# What a Windows Server 2022 RD Session Host with a Citrix VDA reports about itself.
HOST_FACTS: dict[str, Any] = {
    "computer_name": "RDSH01",
    "product_name": "Windows Server 2022 Datacenter",
    "edition_id": "ServerDatacenter",
    "installation_type": "Server",
    "current_build": "20348",
    "build_number": 20348,
    "product_type": 3,
    "sku": 8,
    "ip_addresses": ["192.0.2.10"],
    "rds_role_installed": True,
    "pending_reboot": False,
    "citrix_vda": {"installed": True, "version": "2402.0.0.1", "list_of_ddcs": ["ddc01.example.com"]},
    "citrix_controller": {"installed": True},
}


def canned_response(request: dict[str, Any]) -> dict[str, Any]:
    """A host where nothing is configured yet: reads find nothing, every write reports a change."""
    results = []
    for op in request["ops"]:
        changed = False
        data: dict[str, Any] = {}
        if op["op"] == "host_facts":
            data = copy.deepcopy(HOST_FACTS)
        elif op["op"] == "registry_get":
            data = {"path": op.get("path"), "exists": False, "values": {}, "subkeys": []}
        elif op["op"] == "registry_set":
            changed = True
            changes = [
                {
                    "name": item["name"],
                    "before": None,
                    "after": {"type": item["type"], "value": item["value"]},
                }
                for item in op["values"]
                if item.get("state", "present") == "present"
            ]
            data = {"path": op["path"], "changes": changes, "backup": None}
        elif op["op"] == "backup_list":
            # The host vouches for the set: it matches its manifest (docs/executor-protocol.md).
            canned = {"dir": f"{op['root']}\\{CANNED_SET}", "files": [CANNED_BACKUP], "verified": True}
            data = {"sets": [{**canned, "problem": None}]}
        elif op["op"] == "registry_restore":
            changed = True
            data = {"file": op["file"], "key": "HKLM\\SOFTWARE\\x"}
        elif op["op"] == "citrix_policy_set":
            changed = True
            data = {"changes": [{"field": "policy", "before": None, "after": op.get("policy")}]}
        result = {"op": op["op"], "ok": True, "changed": changed, "data": data}
        if "id" in op:
            result["id"] = op["id"]
        results.append(result)
    return {"v": 1, "ok": True, "results": results, "backups": []}


@dataclass
class FakeConnection:
    """Stands in for the winrm/psrp connection plugin: records each exec_command it gets."""

    _load_name: str = "ansible.builtin.winrm"
    responder: Callable[[dict[str, Any]], dict[str, Any]] = canned_response
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._shell = ShellModule()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [call["request"] for call in self.calls]

    def exec_command(
        self, cmd: str, in_data: bytes | None = None, sudoable: bool = True
    ) -> tuple[int, bytes, bytes]:
        script, request_json = parse_stdin_frame(in_data or b"")
        request = json.loads(request_json)
        self.calls.append({"cmd": cmd, "script": script, "request": request, "sudoable": sudoable})
        return 0, json.dumps(self.responder(request)).encode("utf-8"), b""


def load_action_class(module: str) -> type[Any]:
    """plugins/action/<module>.py loaded from its file, as Ansible's plugin loader does."""
    spec = importlib.util.spec_from_file_location(f"vipctl_test_action_{module}", ACTION_DIR / f"{module}.py")
    assert spec is not None and spec.loader is not None
    plugin: ModuleType = importlib.util.module_from_spec(spec)
    # Registered first, like Ansible's loader does: the plugin finds its docs via inspect.getfile.
    sys.modules[spec.name] = plugin
    spec.loader.exec_module(plugin)
    action_class: type[Any] = plugin.ActionModule
    return action_class


@dataclass
class ActionRun:
    """One constructed plugin, its fake connection, and how to run it."""

    action: Any
    connection: FakeConnection
    task_vars: dict[str, Any]

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = self.action.run(task_vars=self.task_vars)
        return result


ActionFactory = Callable[..., ActionRun]
