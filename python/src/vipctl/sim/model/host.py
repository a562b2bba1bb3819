"""`SimHost`: one simulated Windows host, the object the front door talks to
(docs/simulator-model-api.md). Every public method takes the host's lock."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from vipctl import registry_map
from vipctl.sim.model.binds import BindEnv, BindTable
from vipctl.sim.model.citrix import CitrixPolicy, CitrixPolicyStore, cache_on_vda
from vipctl.sim.model.errors import ModelError
from vipctl.sim.model.files import FileStore
from vipctl.sim.model.hostspec import RDSH_ROLE, HostSpec
from vipctl.sim.model.network import LeasePool
from vipctl.sim.model.os_images import get_image
from vipctl.sim.model.processes import AppSpec, Process, exe_name
from vipctl.sim.model.registry import Registry
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.model.sessions import Session, services_session
from vipctl.sim.model.tsvip import TsVip, TsVipSettings

# KB 4501072: only these builds ship the Winsock catalog entry that defeats RD IP Virtualization.
WINSOCK_AFFECTED_BUILDS = frozenset({17763, 20348})
SYSTEM_PID = 4


@dataclass(frozen=True)
class BootConfig:
    """What RD IP Virtualization settings the running kernel took at its last boot."""

    rdsh_active: bool
    ip_virt: TsVipSettings
    winsock_blocked: bool

    @property
    def ip_virt_on(self) -> bool:
        return self.rdsh_active and self.ip_virt.active and not self.winsock_blocked


class SimHost:
    def __init__(
        self, spec: HostSpec, controller_lookup: Callable[[str], SimHost | None] | None = None
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.groups = list(spec.groups)
        self.winrm = spec.winrm
        self.image = get_image(spec.image)
        self.computer_name = (spec.computer_name or spec.name).upper()
        self.adapter = spec.adapter
        self._lock = threading.RLock()
        self._controller_lookup = controller_lookup
        self.registry = Registry()
        self.files = FileStore()
        self.roles: set[str] = set(spec.roles)
        self.pending_roles: set[str] = set()
        self.tsvip = TsVip(self.registry, [self.adapter], lambda: RDSH_ROLE in self.roles)
        self.citrix_store = CitrixPolicyStore() if spec.citrix_controller else None
        self.lease_pool = (
            LeasePool.from_range(spec.vip_pool_start, spec.vip_pool_size)
            if spec.vip_pool_start
            else LeasePool()
        )
        self.sessions: dict[int, Session] = {}
        self.processes: dict[int, Process] = {}
        self.binds = BindTable()
        self.boot_count = 0
        self._down_until = 0.0
        self._logged_off: list[Session] = []
        self._next_pid = 1000
        self._next_session = 1
        self._next_station = 1
        self._install_image()
        self.boot = self._boot_config()
        self._refresh_policy()  # a VDA boots with its controller's policy already applied
        self._start_services()
        for user in spec.users:
            self._logon(user.name, list(user.apps), user.admin)

    # -- construction -------------------------------------------------------------------------
    def _install_image(self) -> None:
        self.image.install(self.registry)
        vda = self.spec.citrix_vda
        if vda is not None:
            self.registry.set_value(
                registry_map.CITRIX_VDA_KEY, "ListOfDDCs", RegValue("REG_SZ", " ".join(vda.controllers))
            )
            self.registry.set_value(
                registry_map.CITRIX_VDA_KEY, "ProductVersion", RegValue("REG_SZ", vda.version)
            )
        for path, values in self.spec.registry.items():
            if values is None:
                self.registry.delete_key(path)
                continue
            self.registry.ensure_key(path)
            for name, value in values.items():
                self.registry.set_value(path, name, value)
        if self.spec.tsvip:
            self.tsvip.set_local(self.spec.tsvip)
        if self.citrix_store is not None:
            for scope, gpo, name, policy in self.spec.citrix_policies:
                self.citrix_store.put(scope, gpo, name, CitrixPolicy.from_json(name, policy))

    def _boot_config(self) -> BootConfig:
        # Windows reads these as SYSTEM at boot: injected access faults are for the executor only.
        with self.registry.as_system():
            return BootConfig(
                rdsh_active=RDSH_ROLE in self.roles,
                ip_virt=self.tsvip.effective(),
                winsock_blocked=self.image.build in WINSOCK_AFFECTED_BUILDS
                and self.registry.exists(registry_map.WINSOCK_FIX_KEY),
            )

    def _start_services(self) -> None:
        self.sessions[0] = services_session()
        for app in self.spec.services:
            pid = SYSTEM_PID if app.name == "System" else None
            self._start_process(self.sessions[0], app, pid)

    # -- sessions and processes ---------------------------------------------------------------
    def _alloc_pid(self) -> int:
        pid = self._next_pid
        self._next_pid += 4  # Windows hands out multiples of 4
        return pid

    def add_session(self, session_id: int | None, user: str, admin: bool = False) -> Session:
        """Log a user on: a new session, a VIP leased if RD IP Virtualization is in effect."""
        with self._lock:
            return self._add_session(session_id, user, admin)

    def _add_session(self, session_id: int | None, user: str, admin: bool) -> Session:
        sid = session_id if session_id is not None else self._next_session
        while sid in self.sessions:
            sid += 1
        self._next_session = max(self._next_session, sid + 1)
        session = Session(sid, user, f"RDP-Tcp#{self._next_station}", admin=admin)
        self._next_station += 1
        if session.virtualizable and self.boot.ip_virt_on:
            session.virtual_ip = self.lease_pool.lease(f"session {sid}")
        self.sessions[sid] = session
        return session

    def _logon(self, user: str, apps: list[AppSpec], admin: bool, session_id: int | None = None) -> Session:
        session = self.add_session(session_id, user, admin)
        session.apps = list(apps)
        for app in apps:
            self._start_process(session, app)
        return session

    def start_process(self, session_id: int, app: AppSpec, pid: int | None = None) -> Process:
        with self._lock:
            return self._start_process(self.sessions[session_id], app, pid)

    def _start_process(self, session: Session, app: AppSpec, pid: int | None = None) -> Process:
        process = Process(
            pid if pid is not None else self._alloc_pid(),
            app.name,
            app.path,
            session.id,
            session.user,
            app.binds,
        )
        self._next_pid = max(self._next_pid, process.pid + 4)
        self.processes[process.pid] = process
        self.binds.open(process, session, self._bind_env())
        return process

    def _read(self, path: str, name: str) -> RegValue | None:
        try:
            return self.registry.get_value(path, name)
        except ModelError:
            return None  # a key the LSP cannot read behaves as unset

    def _bind_env(self) -> BindEnv:
        """RD IP Virtualization as booted; Citrix loopback and PreferLoopback as the registry says now."""
        boot = self.boot
        support = self._read(
            registry_map.CITRIX_APPLIED_VIP_KEY, registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name
        )
        programs = self._read(
            registry_map.CITRIX_APPLIED_VIP_KEY, registry_map.CITRIX_APPLIED_LOOPBACK_PROGRAMS.name
        )
        prefer = self._read(registry_map.PREFER_LOOPBACK_KEY, registry_map.PREFER_LOOPBACK.name)
        prefer_list = self._read(
            registry_map.PREFER_LOOPBACK_KEY, registry_map.PREFER_LOOPBACK_PROCESSES.name
        )
        return BindEnv(
            server_ip=self.adapter.ip,
            ip_virt_active=boot.ip_virt_on,
            ip_virt_per_program=boot.ip_virt.per_program,
            ip_virt_programs=frozenset(exe_name(p) for p in boot.ip_virt.programs),
            ms_loopback=boot.ip_virt_on and boot.ip_virt.loopback,
            prompt_on_lease_fail=boot.ip_virt.prompt_on_lease_fail,
            citrix_support=self.spec.citrix_vda is not None and support is not None and support.data == 1,
            citrix_programs=_names(programs),
            prefer_loopback=prefer is not None and prefer.data == 1,
            prefer_processes=_names(prefer_list),
        )

    def _end_session(self, session: Session) -> None:
        for pid in [p.pid for p in self.processes.values() if p.session == session.id]:
            self.binds.close(pid)
            del self.processes[pid]
        self.lease_pool.release(session.virtual_ip)
        del self.sessions[session.id]

    # -- the API the front door and the admin API use ---------------------------------------------
    @property
    def lock(self) -> threading.RLock:
        """Held while one request runs (`vipctl.sim.twin.backend`) and by every method below."""
        return self._lock

    def logoff_sessions(self, session_ids: list[int] | None = None) -> list[int]:
        with self._lock:
            targets = [
                s
                for s in self.sessions.values()
                if s.id != 0 and (session_ids is None or s.id in session_ids)
            ]
            for session in targets:
                self._logged_off.append(session)
                self._end_session(session)
            return [s.id for s in targets]

    def logon_sessions(self) -> list[int]:
        """The users logged off come back in new sessions and start their apps again."""
        with self._lock:
            returning, self._logged_off = self._logged_off, []
            new_ids: list[int] = []
            for old in returning:
                new_ids.append(self._logon(old.user or "", old.apps, old.admin).id)
            return new_ids

    def reboot(self) -> None:
        with self._lock:
            for session in [s for s in self.sessions.values() if s.id != 0]:
                self._logged_off.append(session)
            self.processes.clear()
            self.sessions.clear()
            self.binds.clear()
            self.lease_pool.release_all()
            self.roles |= self.pending_roles
            self.pending_roles.clear()
            self.boot = self._boot_config()
            self.boot_count += 1
            self._next_session = 1
            self._down_until = time.monotonic() + self.spec.reboot_seconds
            self._start_services()

    def is_up(self) -> bool:
        return time.monotonic() >= self._down_until

    def policy_refresh(self) -> bool:
        """`gpupdate` on a VDA: pull the resultant Citrix policy from its controller.

        False when no controller answered (the VDA keeps what it had)."""
        with self._lock:
            return self._refresh_policy()

    def _refresh_policy(self) -> bool:
        vda = self.spec.citrix_vda
        if vda is None or self._controller_lookup is None:
            return False
        for controller_name in vda.controllers:
            controller = self._controller_lookup(controller_name)
            if controller is None or controller.citrix_store is None:
                continue
            cache_on_vda(self.registry, controller.resultant_policy(vda.delivery_group))
            return True
        return False

    def resultant_policy(self, delivery_group: str | None) -> dict[str, dict[str, Any]]:
        with self._lock:
            assert self.citrix_store is not None
            return self.citrix_store.resultant(delivery_group)

    def deny_registry_path(self, path: str) -> None:
        with self._lock:
            self.registry.deny(path)

    def clear_faults(self) -> None:
        with self._lock:
            self.registry.clear_denials()

    # -- facts ------------------------------------------------------------------------------------
    def pending_reboot(self) -> bool:
        return bool(self.pending_roles) or self._boot_config() != self.boot

    def net_endpoints(self, protocols: list[str]) -> list[dict[str, Any]]:
        """Rows as Get-NetTCPConnection / Get-NetUDPEndpoint joined to Win32_Process, in a stable order."""
        rows = []
        for e in self.binds.endpoints:
            if e.protocol not in protocols:
                continue
            proc = self.processes[e.pid]
            tcp = e.protocol == "tcp"
            rows.append(
                {
                    "protocol": e.protocol,
                    "local_address": e.local_address,
                    "local_port": e.local_port,
                    "remote_address": "0.0.0.0" if tcp else None,
                    "remote_port": 0 if tcp else None,
                    "state": "Listen" if tcp else None,
                    "pid": e.pid,
                    "process": proc.name,
                    "path": proc.path,
                    "session": proc.session,
                }
            )
        rows.sort(
            key=lambda r: (
                r["protocol"],
                int(ipaddress.IPv4Address(r["local_address"])),
                r["local_port"],
                r["pid"],
            )
        )
        return rows

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            try:
                tsvip: dict[str, Any] | None = self.tsvip.properties()
            except ModelError:
                tsvip = None
            vda = self.spec.citrix_vda
            return {
                "name": self.name,
                "computer_name": self.computer_name,
                "groups": list(self.groups),
                "up": self.is_up(),
                "boot_count": self.boot_count,
                "pending_reboot": self.pending_reboot(),
                "os": {
                    "image": self.image.key,
                    "product_name": self.image.product_name,
                    "edition_id": self.image.edition_id,
                    "build": self.image.build,
                    "product_type": self.image.product_type,
                    "sku": self.image.sku,
                },
                "roles": sorted(self.roles),
                "pending_roles": sorted(self.pending_roles),
                "network": {
                    **asdict(self.adapter),
                    "vip_pool": list(self.lease_pool.addresses),
                    "leases": dict(self.lease_pool.leased),
                },
                "boot_config": {
                    "rdsh_active": self.boot.rdsh_active,
                    "ip_virt_on": self.boot.ip_virt_on,
                    "winsock_blocked": self.boot.winsock_blocked,
                    "ip_virt": {
                        **asdict(self.boot.ip_virt),
                        "adapter": self.boot.ip_virt.adapter.mac if self.boot.ip_virt.adapter else None,
                    },
                },
                "registry": self.registry.to_json(),
                "tsvip": tsvip,
                "citrix": {
                    "vda": None if vda is None else {**asdict(vda)},
                    "controller": None if self.citrix_store is None else self.citrix_store.to_json(),
                },
                "sessions": [s.describe() for s in sorted(self.sessions.values(), key=lambda s: s.id)],
                "processes": [
                    {**p.to_json(), "user": p.user, "binds": [b.to_json() for b in p.binds]}
                    for p in sorted(self.processes.values(), key=lambda p: p.pid)
                ],
                "endpoints": self.net_endpoints(["tcp", "udp"]),
                "failed_binds": [f.to_json() for f in self.binds.failed],
                "files": self.files.to_json(),
                "faults": {"denied_registry_paths": self.registry.denied_paths()},
            }


def _names(value: RegValue | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value.data if isinstance(value.data, tuple) else (str(value.data),)
    return frozenset(exe_name(item) for item in items)
