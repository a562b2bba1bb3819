"""`SimHost`: one simulated Windows host, the object the front door talks to
(docs/simulator-model-api.md). Every public method takes the host's lock."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from vipctl import registry_map
from vipctl.executor.codec import PROTOCOL_VERSION
from vipctl.sim.model.binds import BindEnv, BindTable
from vipctl.sim.model.citrix import CitrixPolicy, CitrixPolicyStore, cache_on_vda
from vipctl.sim.model.errors import BY_KIND, AccessDenied, ModelError
from vipctl.sim.model.files import ORDINARY_USER, FileStore, parent_of
from vipctl.sim.model.hostspec import RDSH_ROLE, HostSpec
from vipctl.sim.model.network import LeasePool
from vipctl.sim.model.os_images import get_image
from vipctl.sim.model.processes import AppSpec, Process, exe_name
from vipctl.sim.model.registry import Registry
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.model.sessions import Session, listener_session, services_session
from vipctl.sim.model.tsvip import TsVip, TsVipSettings

# KB 4501072: only these builds ship the Winsock catalog entry that defeats RD IP Virtualization.
WINSOCK_AFFECTED_BUILDS = frozenset({17763, 20348})
SYSTEM_PID = 4
# What a failing Windows API says, by the error kind the executor maps it to.
API_FAULT_MESSAGES = {
    "access_denied": "Access is denied.",
    "not_available": "The RPC server is unavailable.",
    "failed": "The operation failed.",
}
LANGUAGE_MODES = ("FullLanguage", "ConstrainedLanguage")


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
        self.citrix_store = CitrixPolicyStore(spec.domain_gpos) if spec.citrix_controller else None
        self.lease_pool = (
            LeasePool.from_range(spec.vip_pool_start, spec.vip_pool_size)
            if spec.vip_pool_start
            else LeasePool()
        )
        self.sessions: dict[int, Session] = {}
        self.processes: dict[int, Process] = {}
        self.binds = BindTable()
        # Windows APIs made to fail (admin API and vectors): API name -> error kind.
        self.api_faults: dict[str, str] = {}
        # $ExecutionContext.SessionState.LanguageMode of a WinRM session on this host.
        self.language_mode = spec.language_mode
        self.boot_count = 0
        # Win32_OperatingSystem.LastBootUpTime (docs/windows-facts.md#lastbootuptime-is-the-boot-time)
        self.booted_at = datetime.now(UTC)
        self._down_until = 0.0
        self._logged_off: list[Session] = []
        self._next_pid = 1000
        self.executor_runs = 0  # requests the executor ran, so tests can prove nothing was resent
        self.reply_fault: str | None = None  # one of REPLY_FAULTS: how the executor's reply is spoiled
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
                if scope == "ad_gpo" and isinstance(gpo, str):
                    self.citrix_store.add_gpo(gpo)  # a GPO that holds policies exists
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

    def wts_sessions(self) -> list[Session]:
        """What WTSEnumerateSessions lists: the sessions, then the RDP listener WinStation.

        The listener has an id of 65536 or more, no user and state Listen
        (docs/windows-facts.md#wts-lists-listeners-from-id-65536)."""
        return [*sorted(self.sessions.values(), key=lambda s: s.id), listener_session()]

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
            self.booted_at = datetime.now(UTC)
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

    def deny_registry_write(self, path: str) -> None:
        with self._lock:
            self.registry.deny_write(path)

    def fail_api(self, api: str, kind: str) -> None:
        """Make `api` (e.g. `WTSEnumerateSessions`, `MSFT_NetTCPConnection`) fail with `kind`."""
        if kind not in API_FAULT_MESSAGES:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(API_FAULT_MESSAGES)}")
        with self._lock:
            self.api_faults[api] = kind

    def check_api(self, api: str) -> None:
        """Raise the error a faulted API gives (docs/windows-facts.md#typed-errors-from-windows-apis)."""
        kind = self.api_faults.get(api)
        if kind is not None:
            raise BY_KIND[kind](f"{api}: {API_FAULT_MESSAGES[kind]}")

    def set_language_mode(self, mode: str) -> None:
        if mode not in LANGUAGE_MODES:
            raise ValueError(f"unknown language mode {mode!r}; known: {', '.join(LANGUAGE_MODES)}")
        with self._lock:
            self.language_mode = mode

    def plant_file(self, path: str, data: bytes, user_sid: str = ORDINARY_USER) -> None:
        """An ordinary (non-admin) user writes `path`, creating missing folders as they go.

        Allowed only where the folders' ACLs let Users create files and folders, as NTFS decides;
        otherwise AccessDenied, and nothing is written."""
        with self._lock:
            folder = parent_of(path)
            if folder is None:
                raise AccessDenied(f"Access to the path '{path}' is denied.")
            missing: list[str] = []
            while not self.files.is_dir(folder):
                missing.append(folder)
                above = parent_of(folder)
                if above is None:
                    raise AccessDenied(f"Access to the path '{path}' is denied.")
                folder = above
            for new_folder in reversed(missing):
                if not self.files.may_create(parent_of(new_folder) or new_folder, user_sid):
                    raise AccessDenied(f"Access to the path '{new_folder}' is denied.")
                self.files.make_dir(new_folder, user_sid)
            if not self.files.may_create(parent_of(path) or path, user_sid):
                raise AccessDenied(f"Access to the path '{path}' is denied.")
            self.files.write(path, data)

    def grant_folder_access(self, path: str, sid: str, rights: str) -> None:
        """An administrator widens a folder's ACL (`icacls <path> /grant <sid>:(OI)(CI)<rights>`)."""
        with self._lock:
            self.files.grant(path, sid, rights)

    def set_reply_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in REPLY_FAULTS:
            raise ValueError(f"malformed_reply must be one of {', '.join(REPLY_FAULTS)} or null")
        with self._lock:
            self.reply_fault = fault

    def clear_faults(self) -> None:
        with self._lock:
            self.registry.clear_denials()
            self.api_faults.clear()
            self.reply_fault = None

    # -- facts ------------------------------------------------------------------------------------
    def pending_reboot(self) -> bool:
        return bool(self.pending_roles) or self._boot_config() != self.boot

    def net_endpoints(self, protocols: list[str]) -> list[dict[str, Any]]:
        """Rows as Get-NetTCPConnection / Get-NetUDPEndpoint joined to Win32_Process, in a stable order."""
        rows: list[dict[str, Any]] = []
        for e in self.binds.endpoints:
            if e.protocol not in protocols:
                continue
            proc = self.processes[e.pid]
            tcp = e.protocol == "tcp"
            listening = e.remote_address is None
            # A listening row's remote end is the unspecified address of its family, port 0
            # (docs/windows-facts.md#socket-table-rows-ipv6-udp-and-connected-tcp).
            unspecified = "::" if ipaddress.ip_address(e.local_address).version == 6 else "0.0.0.0"
            rows.append(
                {
                    "protocol": e.protocol,
                    "local_address": e.local_address,
                    "local_port": e.local_port,
                    "remote_address": (unspecified if listening else e.remote_address) if tcp else None,
                    "remote_port": (0 if listening else e.remote_port) if tcp else None,
                    "state": ("Listen" if listening else "Established") if tcp else None,
                    "pid": e.pid,
                    "process": proc.name,
                    "path": proc.path,
                    "session": proc.session,
                }
            )
        rows.sort(
            key=lambda r: (
                r["protocol"],
                ipaddress.ip_address(r["local_address"]).version,  # every IPv4 address first
                int(ipaddress.ip_address(r["local_address"])),
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
                "booted_at": self.booted_at.isoformat(),
                "executor_runs": self.executor_runs,
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
                "faults": {
                    "denied_registry_paths": self.registry.denied_paths(),
                    "read_only_registry_paths": self.registry.read_only_paths(),
                    "api_faults": dict(self.api_faults),
                },
                "language_mode": self.language_mode,
                "folder_acls": self.files.acls_json(),
            }


# How a reply can arrive spoiled, each after the request really ran on the host: cut off half-way,
# not JSON at all, far larger than any real reply, from another protocol version, or with other
# output (a profile's or a module's chatter) before the JSON.
REPLY_FAULTS = ("truncated", "not_json", "huge", "wrong_version", "noise_before")
HUGE_REPLY_BYTES = 8 * 1024 * 1024


def mangle_reply(fault: str | None, out: str) -> str:
    if fault is None:
        return out
    if fault == "truncated":
        return out[: len(out) // 2]
    if fault == "not_json":
        return "Access is denied.\r\nAt line:1 char:1\r\n+ vipctl\r\n"
    if fault == "huge":
        return "A" * HUGE_REPLY_BYTES
    if fault == "wrong_version":
        current = f'{{"v":{PROTOCOL_VERSION},'
        return out.replace(current, f'{{"v":{PROTOCOL_VERSION + 1},', 1)
    return "WARNING: the profile of this user printed a line\r\n" + out


def _names(value: RegValue | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value.data if isinstance(value.data, tuple) else (str(value.data),)
    return frozenset(exe_name(item) for item in items)
