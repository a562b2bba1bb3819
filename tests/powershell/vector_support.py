"""Contract vectors as data: loading, the host a vector describes, and the exact comparisons.

Shared by the twin test (tests/powershell/test_vectors_twin.py) and the same vectors sent over
the wire (tests/integration/test_vectors_over_wire.py), so both judge a vector identically."""

from __future__ import annotations

import json
import ntpath
from pathlib import Path
from typing import Any

from vipctl.sim.model.files import encode, render
from vipctl.sim.model.host import SimHost
from vipctl.sim.model.hostspec import HostSpec, VdaSpec, WinRMEndpoint
from vipctl.sim.model.network import Adapter
from vipctl.sim.model.processes import AppSpec, BindSpec
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.twin import backup_store

VECTOR_DIR = Path(__file__).parent / "vectors"
VECTORS = sorted(VECTOR_DIR.glob("*.json"))
ANY = "<any>"
SECTIONS = (
    "registry",
    "files",
    "tsvip",
    "citrix_policies",
    "sessions",
    "processes",
    "secure_folders",
    "backup_manifests",
)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def differences(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Readable differences; "<any>" matches anything, objects need the same keys, bool is not int."""
    if expected == ANY:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        out = [f"{where}.{k}: not expected" for k in actual if k not in expected]
        out += [f"{where}.{k}: missing" for k in expected if k not in actual]
        for key in expected:
            if key in actual:
                out += differences(expected[key], actual[key], f"{where}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {expected!r}, got {actual!r}"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{where}[{i}]")
        ]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    return []


def build_host(vector: dict[str, Any], winrm: WinRMEndpoint | None = None) -> SimHost:
    """The host a vector describes; `winrm` is where a simulator serves it (the twin test never dials)."""
    host = vector["host"]
    before = vector.get("state_before") or {}
    registry = {
        path: None
        if values is None
        else {n: RegValue.from_json(v["type"], v["value"]) for n, v in values.items()}
        for path, values in (before.get("registry") or {}).items()
    }
    vda = host.get("citrix_vda")
    pool = host.get("vip_pool") or {}
    spec = HostSpec(
        name=host.get("name", "vectorhost"),
        image=host["image"],
        winrm=winrm or WinRMEndpoint("127.0.99.1", "vipadmin", "vector"),
        adapter=Adapter("Ethernet", host.get("mac", "00:15:5D:00:00:01"), host.get("ip", "192.0.2.10"), 24),
        roles=list(host.get("roles", [])),
        vip_pool_start=pool.get("start"),
        vip_pool_size=pool.get("size", 0),
        citrix_vda=None
        if vda is None
        else VdaSpec(vda["version"], list(vda["controllers"]), vda.get("delivery_group")),
        citrix_controller=bool(host.get("citrix_controller", False)),
        registry=registry,
        tsvip=dict(before.get("tsvip") or {}),
        citrix_policies=[
            ("site", None, name, policy) for name, policy in (before.get("citrix_policies") or {}).items()
        ],
        domain_gpos=list(host.get("domain_gpos", [])),
        gpo_needs_delegation=host.get("gpo_needs_delegation", True),
        language_mode=host.get("language_mode", "FullLanguage"),
    )
    sim = SimHost(spec)
    for path in host.get("denied_registry_paths", []):
        sim.deny_registry_path(path)
    for path in host.get("read_only_registry_paths", []):
        sim.deny_registry_write(path)
    for api, kind in (host.get("api_faults") or {}).items():
        sim.fail_api(api, kind)
    for session in before.get("sessions") or []:
        sim.add_session(session["id"], session["user"], session.get("admin", False))
    for proc in before.get("processes") or []:
        binds = tuple(
            BindSpec(b["protocol"], b["address"], b["port"], b.get("remote_address"), b.get("remote_port"))
            for b in proc.get("binds", [])
        )
        sim.start_process(proc["session"], AppSpec(proc["name"], proc.get("path"), binds), proc.get("pid"))
    for folder in before.get("secure_folders") or []:
        backup_store.ensure_root(sim.files, folder)  # made as the executor makes a backup root
    for path, content in (before.get("files") or {}).items():
        sim.files.write(path, encode(path, content))
    for set_dir in before.get("backup_manifests") or []:
        staged = [p for p in (before.get("files") or {}) if ntpath.dirname(p).lower() == set_dir.lower()]
        backup_store.write_manifest(sim.files, set_dir, staged)
    return sim


def state_differences(sim: SimHost, expected: dict[str, Any]) -> list[str]:
    out: list[str] = []
    sim.clear_faults()  # ground truth is read past any injected access-denied fault
    snapshot = sim.snapshot()
    for path, values in (expected.get("registry") or {}).items():
        key = sim.registry.find(path)
        if values is None or key is None:
            if (values is None) != (key is None):
                out.append(f"registry {path}: expected {'absent' if values is None else 'present'}")
            continue
        for name, typed in values.items():
            value = sim.registry.get_value(path, name)
            out += differences(typed, None if value is None else value.to_json(), f"registry {path} [{name}]")
    for path, content in (expected.get("files") or {}).items():
        data = sim.files.read(path)
        out += differences(content, None if data is None else render(path, data), f"file {path}")
    if "tsvip" in expected:
        props = snapshot["tsvip"] or {}
        for name, value in expected["tsvip"].items():
            out += differences(value, props.get(name), f"tsvip {name}")
    policies = (snapshot["citrix"]["controller"] or {}).get("site", {})
    for name, policy in (expected.get("citrix_policies") or {}).items():
        actual = policies.get(name)
        if actual is not None:
            actual = {k: v for k, v in actual.items() if k != "nodes"}
        out += differences(policy, actual, f"citrix policy {name}")
    if "sessions" in expected:
        out += differences(
            expected["sessions"], [s.to_json() for s in sorted(sim.sessions.values(), key=lambda s: s.id)]
        )
    return out
