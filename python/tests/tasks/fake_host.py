"""A small in-test responder: answers one executor request over a dict-based host state.

It follows the protocol document (conditions, `when`, `require`, check mode, skip after failure,
backups) for the ops the module tasks send, and records every request it gets.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from vipctl import registry_map
from vipctl.executor.codec import Response, decode_response

SERVER_2022: dict[str, Any] = {
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
    "citrix_controller": {"installed": False},
}

TSVIP_DEFAULTS: dict[str, Any] = {
    "VirtualIPActive": 0,
    "VirtualIPMode": 1,
    "ProgramList": [],
    "NetworkAdapterMacAddress": "",
    "NetworkAdapterMacList": ["00:15:5D:01:02:0A"],
    "VirtualizeLoopbackAddressesEnabled": 0,
}


class OpFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def holds(conditions: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> bool:
    for condition in conditions:
        value: Any = results.get(condition["ref"])
        for key in condition["path"]:
            value = value.get(key) if isinstance(value, dict) else None
        if "in" in condition and value not in condition["in"]:
            return False
        if "not_in" in condition and value in condition["not_in"]:
            return False
    return True


@dataclass
class FakeHost:
    facts: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(SERVER_2022))
    registry: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tsvip_local: dict[str, Any] = field(default_factory=dict)
    citrix_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    fail_ops: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # vipctl's restart marker: reasons recorded since the last boot (empty: nothing pending).
    restart_reasons: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A stock 2019/2022 image has the Winsock catalog entry, unless a test says it was renamed.
        if registry_map.WINSOCK_FIX_RENAMED_KEY not in self.registry:
            self.registry.setdefault(
                registry_map.WINSOCK_FIX_KEY,
                {
                    "AppFullPath": _sz(r"C:\Windows\System32\svchost.exe"),
                    "PermittedLspCategories": dword(registry_map.WINSOCK_FIX_LSP_CATEGORIES),
                },
            )

    # ---- the runner ----------------------------------------------------------------------------
    def __call__(self, request: dict[str, Any]) -> Response:
        """Answer through the real decoder, so a fake answer the protocol refuses fails the test."""
        return decode_response(json.dumps(self.answer(request)), 0, host="fake")

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(copy.deepcopy(request))
        self.check = bool(request["check"])
        self.backup_dir = request["backup_dir"]
        self.backups: list[str] = []
        results: list[dict[str, Any]] = []
        by_id: dict[str, dict[str, Any]] = {}
        failed_at: int | None = None
        for index, op in enumerate(request["ops"]):
            result: dict[str, Any] = {"op": op["op"], **({"id": op["id"]} if "id" in op else {})}
            if failed_at is not None:
                failed = request["ops"][failed_at]["op"]
                result.update(
                    ok=False,
                    skipped=True,
                    error={"kind": "skipped", "message": f"not run: op {failed_at} ({failed}) failed"},
                )
            elif "when" in op and not holds(op["when"], by_id):
                result.update(ok=True, changed=False, skipped=True, data={})
            else:
                try:
                    if op.get("id") in self.fail_ops:
                        raise OpFailed(*self.fail_ops[op["id"]])
                    changed, data = getattr(self, "op_" + op["op"])(op, by_id)
                    result.update(ok=True, changed=changed, data=data)
                except OpFailed as exc:
                    result.update(ok=False, error={"kind": exc.kind, "message": exc.message})
                    failed_at = index
            results.append(result)
            if "id" in op:
                by_id[op["id"]] = result
        return {"v": 1, "ok": failed_at is None, "results": results, "backups": self.backups}

    def _backup(self, name: str) -> str | None:
        if self.check:
            return None
        path = f"{self.backup_dir}\\{name}"
        if path not in self.backups:
            self.backups.append(path)
        return path

    # ---- ops --------------------------------------------------------------------------------
    def op_host_facts(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        return False, copy.deepcopy(self.facts)

    def op_require(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        if not holds(op["conditions"], results):
            raise OpFailed("precondition_failed", op["message"])
        return False, {}

    def op_registry_get(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        key = self.registry.get(op["path"])
        values = (
            {} if key is None else {n: v for n, v in key.items() if "names" not in op or n in op["names"]}
        )
        return False, {
            "path": op["path"],
            "exists": key is not None,
            "values": copy.deepcopy(values),
            "subkeys": [],
        }

    def op_registry_set(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        current = self.registry.get(op["path"], {})
        changes = []
        for item in op["values"]:
            after = {"type": item["type"], "value": item["value"]} if item["state"] == "present" else None
            if current.get(item["name"]) != after:
                changes.append({"name": item["name"], "before": current.get(item["name"]), "after": after})
        backup = self._backup(op["path"].replace("\\", "_").replace(" ", "_") + ".reg") if changes else None
        if changes and not self.check:
            key = self.registry.setdefault(op["path"], {})
            for change in changes:
                if change["after"] is None:
                    key.pop(change["name"], None)
                else:
                    key[change["name"]] = change["after"]
        return bool(changes), {"path": op["path"], "changes": changes, "backup": backup}

    def op_registry_rename_key(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        new_path = op["path"].rsplit("\\", 1)[0] + "\\" + op["new_name"]
        data = {"path": op["path"], "new_path": new_path, "state": "renamed"}
        if op["path"] not in self.registry:
            if new_path in self.registry:
                return False, {**data, "state": "already"}
            raise OpFailed("not_found", f"key not found: {op['path']}")
        if not self.check:
            self._backup("winsock.reg")
            self.registry[new_path] = self.registry.pop(op["path"])
        return True, data

    def _tsvip_properties(self) -> dict[str, Any]:
        props = {**TSVIP_DEFAULTS, **self.tsvip_local}
        policy = self.registry.get(registry_map.RDS_POLICY_KEY, {})
        if "EnableVirtualIP" in policy:
            props["VirtualIPActive"] = policy["EnableVirtualIP"]["value"]
        props["PolicySourceVirtualIPActive"] = int("EnableVirtualIP" in policy)
        return props

    def op_tsvip_get(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        if not self.facts["rds_role_installed"]:
            return False, {"available": False, "properties": None}
        return False, {"available": True, "properties": self._tsvip_properties()}

    def op_tsvip_set(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        if not self.facts["rds_role_installed"]:
            raise OpFailed(
                "not_available", "Win32_TSVirtualIP is not available: the RDS-RD-Server role is not installed"
            )
        current = self._tsvip_properties()
        changes = [
            {"name": n, "before": current.get(n), "after": v}
            for n, v in op["properties"].items()
            if current.get(n) != v
        ]
        if any(c["name"] == "VirtualIPActive" for c in changes) and current["PolicySourceVirtualIPActive"]:
            raise OpFailed(
                "policy_controlled",
                "SetVirtualIPActive failed: VirtualIPActive is under group policy control",
            )
        backup = self._backup("tsvip.json") if changes else None
        if not self.check:
            self.tsvip_local.update({c["name"]: c["after"] for c in changes})
        return bool(changes), {"changes": changes, "backup": backup}

    def op_feature_install(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        if self.facts["rds_role_installed"]:
            return False, {"name": op["name"], "state": "already", "reboot_required": False}
        if not self.check:
            self.facts["rds_role_installed"] = True
        return True, {"name": op["name"], "state": "installed", "reboot_required": True}

    def op_citrix_policy_get(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        policy = self.citrix_policies.get(op["name"])
        return False, {"available": True, "exists": policy is not None, "policy": copy.deepcopy(policy)}

    def op_citrix_policy_set(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        name = op["name"]
        current = self.citrix_policies.get(name)
        changes: list[dict[str, Any]]
        if op["state"] == "absent":
            changes = [] if current is None else [{"field": "policy", "before": current, "after": None}]
            if changes and not self.check:
                del self.citrix_policies[name]
        elif current is None:
            wanted = {
                "name": name,
                "enabled": True,
                "priority": 1,
                "description": "",
                "filters": [],
                **op["policy"],
            }
            changes = [{"field": "policy", "before": None, "after": wanted}]
            if not self.check:
                self.citrix_policies[name] = wanted
        else:
            changes = []
            for fld in ("enabled", "priority", "description", "filters"):
                if fld in op["policy"] and op["policy"][fld] != current.get(fld):
                    changes.append({"field": fld, "before": current.get(fld), "after": op["policy"][fld]})
            for setting, wanted_setting in op["policy"]["settings"].items():
                if current["settings"].get(setting) != wanted_setting:
                    changes.append(
                        {
                            "field": f"settings.{setting}",
                            "before": current["settings"].get(setting),
                            "after": wanted_setting,
                        }
                    )
            if not self.check:
                for change in changes:
                    field_name = str(change["field"])
                    if field_name.startswith("settings."):
                        current["settings"][field_name.removeprefix("settings.")] = change["after"]
                    else:
                        current[field_name] = change["after"]
        backup = self._backup(f"citrix_policy_{name}.json") if changes else None
        return bool(changes), {"changes": changes, "backup": backup}

    def op_restart_state(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        pending = bool(self.restart_reasons)
        marker = {"exists": pending, "set_utc": "2026-11-28T01:00:00.0000000Z" if pending else None}
        marker["reasons"] = list(self.restart_reasons)
        boot = "2026-11-28T00:00:00.0000000Z"
        return False, {"last_boot_utc": boot, "marker": marker, "pending": pending}

    def op_restart_mark(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        reasons = list(self.restart_reasons) + [r for r in op["reasons"] if r not in self.restart_reasons]
        changed = reasons != self.restart_reasons or not self.restart_reasons
        if not self.check:
            self.restart_reasons = reasons
        data = {"last_boot_utc": "2026-11-28T00:00:00.0000000Z", "set_utc": "2026-11-28T01:00:00.0000000Z"}
        return changed, {**data, "reasons": reasons, "pending": True}

    def op_address_match(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        network = ipaddress.IPv4Network(op["cidr"], strict=False)
        addresses = list(self.facts["ip_addresses"])
        inside = [a for a in addresses if ipaddress.IPv4Address(a) in network]
        return False, {
            "cidr": op["cidr"],
            "addresses": addresses,
            "matching": inside,
            "matched": bool(inside),
        }

    def restart(self) -> None:
        self.restart_reasons = []

    def op_sessions(self, op: dict[str, Any], results: Any) -> tuple[bool, Any]:
        return False, {"sessions": copy.deepcopy(self.sessions)}


def _sz(text: str) -> dict[str, Any]:
    return {"type": "REG_SZ", "value": text}


def dword(number: int) -> dict[str, Any]:
    return {"type": "REG_DWORD", "value": number}


def multi(items: list[str]) -> dict[str, Any]:
    return {"type": "REG_MULTI_SZ", "value": items}
