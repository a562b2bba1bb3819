"""The simulator's front door: one asyncio loop serving every host's WinRM listeners.

Each host listens on its own 127.x address (HTTP, plus HTTPS when asked) with keep-alive
connections. A request passes the host's front-door faults, then authentication (Basic, or
Negotiate/Kerberos/NTLM/CredSSP with message encryption and, on HTTPS, channel binding), then
the host's sans-I/O `WsmanEndpoint`, which runs in a worker thread so a slow executor call never
stalls the other hosts. A shell runs in the logon that created it, so whether that logon holds
delegated credentials (the second hop) reaches the executor's twin.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vipctl.sim.front_door_faults import FrontDoorFaults
from vipctl.sim.gss_acceptor import AcceptPolicy, AuthFailed, Logon, SecurityConnection
from vipctl.sim.host_protocols import FarmLike, SimHostLike
from vipctl.sim.http_auth import (
    challenge_headers,
    check_basic,
    open_encrypted,
    seal,
    write_ntlm_user_file,
)
from vipctl.sim.http_wire import BadHttp, HttpRequest, HttpResponse, drain_body, read_body, read_head
from vipctl.sim.loopback_bind import require_loopback
from vipctl.sim.model.host import SimHost
from vipctl.sim.shell_api import Shell
from vipctl.sim.tls import CertificateAuthority
from vipctl.sim.twin.backend import TwinExecutor
from vipctl.sim.winrs_shell import WinrsShell
from vipctl.sim.wsman import Outcome, PendingReceive, WsmanEndpoint, ns

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
_POLL_S = 0.005
T = TypeVar("T")


# The logon of the request being handled, read when that request creates a shell.
_CURRENT_LOGON: contextvars.ContextVar[Logon | None] = contextvars.ContextVar("logon", default=None)


@dataclass(frozen=True)
class _LogonBackend:
    """A host's twin executor as seen from one shell: it runs with the shell's logon."""

    twin: TwinExecutor
    logon: Logon | None

    def run_executor(self, script_text: str, request_json: str) -> tuple[str, int]:
        delegated = self.logon is not None and self.logon.delegated
        return self.twin.run_executor(script_text, request_json, delegated)


def _shell_factory(host: SimHostLike) -> Any:
    # The shells reach the host model only through its twin executor.
    if not isinstance(host, SimHost):
        raise TypeError(f"the simulator serves model hosts only, not {type(host).__name__}")
    twin = TwinExecutor(host)

    def factory(resource_uri: str) -> Shell | None:
        backend = _LogonBackend(twin, _CURRENT_LOGON.get())
        if resource_uri == ns.RESOURCE_CMD:
            return WinrsShell(backend)
        if resource_uri == ns.RESOURCE_PSRP:
            try:
                from vipctl.sim.psrp import PsrpShell  # imported late: the PSRP shell is optional
            except ImportError:
                return None
            shell: Shell = PsrpShell(backend)
            return shell
        return None

    return factory


def _accept_policy(host: SimHostLike, tls_binding: bytes | None) -> AcceptPolicy:
    winrm = host.winrm
    return AcceptPolicy(
        username=winrm.username,
        kerberos=winrm.kerberos,
        ntlm=winrm.ntlm,
        credssp=winrm.credssp,
        spn_host=winrm.spn_host or host.name.lower(),
        cbt_level=winrm.cbt_hardening_level,
        tls_binding=tls_binding,
    )


@dataclass
class _Listener:
    scheme: str
    port: int
    ssl_context: Any
    policy: AcceptPolicy
    server: asyncio.Server | None = None


@dataclass
class _HostState:
    host: SimHostLike
    endpoint: WsmanEndpoint
    faults: FrontDoorFaults = field(default_factory=FrontDoorFaults)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    # HTTP bytes (head and body, inside TLS where there is TLS) received and sent.
    request_bytes: int = 0
    response_bytes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    listeners: list[_Listener] = field(default_factory=list)


class SimServer:
    """Serve a farm on loopback. Usable in-process (a background thread runs the loop) or as a process."""

    def __init__(
        self, max_receive_wait_s: float = 1.0, workers: int = 32, idle_connection_s: float = 120.0
    ) -> None:
        self.max_receive_wait_s = max_receive_wait_s
        self.idle_connection_s = idle_connection_s
        self.ca_file: Path | None = None
        self.https = False
        self._workers = workers
        self._hosts: dict[str, _HostState] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, farm: FarmLike, https: bool = False, state_dir: str | Path | None = None) -> None:
        """Bind every host's listeners; returns once all are accepting connections."""
        if self._loop is not None:
            raise RuntimeError("the simulator is already running")
        state = Path(state_dir) if state_dir is not None else Path.cwd() / ".vipctl-sim"
        state.mkdir(parents=True, exist_ok=True)
        hosts = dict(farm.hosts)
        for host in hosts.values():
            require_loopback(host.winrm.address)
        write_ntlm_user_file(
            state / "ntlm_users", [(h.winrm.username, h.winrm.password) for h in hosts.values()]
        )
        authority = CertificateAuthority(state) if https else None
        self.https = https
        self.ca_file = authority.ca_file if authority else None
        for name, host in hosts.items():
            endpoint = WsmanEndpoint(name.upper(), _shell_factory(host), self.max_receive_wait_s)
            entry = _HostState(host, endpoint)
            entry.listeners.append(_Listener("http", host.winrm.http_port, None, _accept_policy(host, None)))
            if authority is not None:
                context = authority.server_context(name, host.winrm.address)
                policy = _accept_policy(host, authority.channel_bindings[name])
                entry.listeners.append(_Listener("https", host.winrm.https_port, context, policy))
            self._hosts[name] = entry
        self._pool = concurrent.futures.ThreadPoolExecutor(self._workers, thread_name_prefix="vipctl-sim")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vipctl-sim-loop", daemon=True)
        self._thread.start()
        try:
            self._call(self._open_all())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_all(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for entry in self._hosts.values():
            entry.endpoint.close_all()
        self._hosts.clear()

    def __enter__(self) -> SimServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- queries ------------------------------------------------------------------------------

    @property
    def host_names(self) -> list[str]:
        return list(self._hosts)

    def host(self, host_name: str) -> SimHostLike:
        return self._state(host_name).host

    def endpoint(self, host_name: str) -> tuple[str, int, str]:
        """(address, port, scheme) clients should use: HTTPS when the server runs with TLS."""
        entry = self._state(host_name)
        listener = entry.listeners[-1]
        return entry.host.winrm.address, listener.port, listener.scheme

    def listeners(self, host_name: str) -> list[tuple[str, int, str]]:
        entry = self._state(host_name)
        return [(entry.host.winrm.address, item.port, item.scheme) for item in entry.listeners]

    def counters(self, host_name: str) -> dict[str, Any]:
        entry = self._state(host_name)
        with entry.lock:
            return {
                "requests": entry.requests,
                "request_bytes": entry.request_bytes,
                "response_bytes": entry.response_bytes,
                "by_status": {str(code): count for code, count in sorted(entry.by_status.items())},
                "open_shells": len(entry.endpoint._shells),
            }

    def faults(self, host_name: str) -> dict[str, Any]:
        return self._state(host_name).faults.as_dict()

    # -- front-door faults --------------------------------------------------------------------

    def set_faults(self, host_name: str, values: dict[str, Any]) -> dict[str, Any]:
        """Apply front-door faults (see `FrontDoorFaults`); raises ValueError naming a bad field."""
        entry = self._state(host_name)
        was_down = entry.faults.down
        probe = FrontDoorFaults(**{**entry.faults.as_dict()})
        probe.update(values)  # validate fully before changing anything
        entry.faults.update(values)
        entry.endpoint.force_timeouts = entry.faults.timeouts
        if entry.faults.down != was_down:
            self._call(self._close_host(entry) if entry.faults.down else self._open_host(entry))
        return entry.faults.as_dict()

    def clear_faults(self, host_name: str) -> dict[str, Any]:
        return self.set_faults(
            host_name, {k: v for k, v in FrontDoorFaults().as_dict().items() if k != "served_since_set"}
        )

    # -- internals ----------------------------------------------------------------------------

    def _state(self, host_name: str) -> _HostState:
        try:
            return self._hosts[host_name]
        except KeyError:
            raise KeyError(f"no host {host_name!r} in the running farm") from None

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the simulator is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    async def _open_all(self) -> None:
        await asyncio.gather(*(self._open_host(entry) for entry in self._hosts.values()))

    async def _close_all(self) -> None:
        await asyncio.gather(*(self._close_host(entry) for entry in self._hosts.values()))
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _open_host(self, entry: _HostState) -> None:
        for listener in entry.listeners:
            if listener.server is not None:
                continue

            async def on_connect(
                reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter,
                listener: _Listener = listener,
            ) -> None:
                await self._connection(entry, listener, reader, writer)

            listener.server = await asyncio.start_server(
                on_connect,
                host=require_loopback(entry.host.winrm.address),
                port=listener.port,
                ssl=listener.ssl_context,
                reuse_address=True,
                backlog=64,
            )

    async def _close_host(self, entry: _HostState) -> None:
        for listener in entry.listeners:
            server, listener.server = listener.server, None
            if server is not None:
                server.close()
                # Not awaiting wait_closed: open keep-alive connections end with their clients.

    async def _connection(
        self,
        entry: _HostState,
        listener: _Listener,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        scheme = listener.scheme
        security = SecurityConnection(listener.policy)
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        try:
            while True:
                if not entry.host.is_up():
                    return  # a rebooting host drops its connections
                try:
                    # HTTP.sys drops a connection idle for IdleConnection, or whose request takes
                    # longer than HeaderWait to arrive
                    # (docs/windows-facts.md#httpsys-drops-idle-and-slow-connections).
                    request = await asyncio.wait_for(read_head(reader), self.idle_connection_s)
                    if request is not None and self._unauthenticated(entry, security, request):
                        # Refused before its body is read: the body is drained, never buffered, so
                        # a stranger cannot make the host hold a large body in memory.
                        self._count(entry, 401)
                        small = int(request.header("content-length")) <= _DRAINED_BODY_BYTES
                        writer.write(_challenge(entry).encode(request.keep_alive and small))
                        await writer.drain()
                        if not (request.keep_alive and small):
                            return
                        await asyncio.wait_for(drain_body(reader, request), self.idle_connection_s)
                        continue
                    if request is not None:
                        request = await asyncio.wait_for(read_body(reader, request), self.idle_connection_s)
                except BadHttp:
                    writer.write(HttpResponse(400).encode(keep_alive=False))
                    await writer.drain()
                    return
                except TimeoutError:
                    return
                if request is None:
                    return
                response = await self._serve(entry, scheme, security, request)
                if response is None:
                    writer.transport.abort()  # the reset_after fault: drop the connection mid-exchange
                    return
                encoded = response.encode(request.keep_alive)
                with entry.lock:
                    entry.request_bytes += request.wire_size
                    entry.response_bytes += len(encoded)
                if entry.faults.oversize_reply_mb and response.status == 200 and response.body:
                    await _send_oversize(writer, entry.faults.oversize_reply_mb)
                    return
                await _send(writer, encoded, entry.faults.drip_bytes_per_s)
                if not request.keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                # Wait for the socket to really close: stop() ends the loop right after, and an
                # unawaited close would leave the socket to the garbage collector.
                await asyncio.wait_for(writer.wait_closed(), timeout=1)

    @staticmethod
    def _unauthenticated(entry: _HostState, security: SecurityConnection, request: HttpRequest) -> bool:
        """A request with a body that carries no credentials on a connection not yet authenticated."""
        if entry.faults.http_500 or entry.faults.http_401:
            return False  # those faults answer whatever comes
        has_body = (request.header("content-length") or "0") != "0"
        return has_body and not request.header("authorization") and not security.complete

    def _count(self, entry: _HostState, status: int) -> None:
        with entry.lock:
            entry.by_status[status] = entry.by_status.get(status, 0) + 1

    async def _serve(
        self, entry: _HostState, scheme: str, security: SecurityConnection, request: HttpRequest
    ) -> HttpResponse | None:
        with entry.lock:
            entry.requests += 1
        faults = entry.faults
        faults.served_since_set += 1
        if faults.reset_after is not None and faults.served_since_set > faults.reset_after:
            return None
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        response = await self._respond(entry, scheme, security, request)
        self._count(entry, response.status)
        return response

    async def _respond(
        self, entry: _HostState, scheme: str, security: SecurityConnection, request: HttpRequest
    ) -> HttpResponse:
        winrm = entry.host.winrm
        challenge = HttpResponse(
            401, headers=challenge_headers(winrm.basic, winrm.ntlm, winrm.kerberos, winrm.credssp)
        )
        if entry.faults.http_500:
            return HttpResponse(500)
        if entry.faults.http_401:
            return challenge
        if request.method != "POST" or request.path.split("?")[0].lower() != "/wsman":
            return HttpResponse(400)
        auth = request.header("authorization")
        scheme_name = auth.split(" ", 1)[0].lower()
        mutual: str | None = None
        basic_logon: Logon | None = None
        if scheme_name == "basic":
            # Windows refuses Basic over plain HTTP unless AllowUnencrypted is set.
            if not winrm.basic or (scheme == "http" and not winrm.allow_unencrypted):
                return challenge
            if not check_basic(auth, winrm.username, winrm.password):
                return challenge
            basic_logon = Logon(winrm.username.lower(), "basic", delegated=False)
        elif scheme_name in ("negotiate", "ntlm", "kerberos", "credssp"):
            if not (winrm.ntlm or winrm.kerberos or (scheme_name == "credssp" and winrm.credssp)):
                return challenge
            try:
                out = security.step(auth)
            except AuthFailed:
                # Wrong SPN, expired ticket, bad password, a user without rights, a disabled
                # mechanism: all end in a bare 401 (docs/windows-facts.md#kerberos-failures-answer-http-401).
                return challenge
            if not security.complete:
                return HttpResponse(401, headers=[("WWW-Authenticate", out)] if out else challenge.headers)
            mutual = out
        elif not security.complete:
            return challenge
        logon = basic_logon or security.logon
        encrypted = request.header("content-type").lower().startswith("multipart/")
        try:
            body = open_encrypted(security, request.body) if encrypted else request.body
        except AuthFailed:
            return HttpResponse(400)
        headers = [("WWW-Authenticate", mutual)] if mutual else []
        if not body:
            return HttpResponse(200, headers=headers)  # the empty POST that sets up message sealing
        if not encrypted and basic_logon is None and scheme == "http" and not winrm.allow_unencrypted:
            return challenge  # Negotiate/Kerberos over HTTP without sealing is refused, as on Windows
        outcome = await self._dispatch(entry, body, logon)
        if encrypted:
            sealed, content_type = seal(security, outcome.body)
            return HttpResponse(outcome.status, sealed, [*headers, ("Content-Type", content_type)])
        return HttpResponse(outcome.status, outcome.body, [*headers, ("Content-Type", SOAP_CONTENT_TYPE)])

    async def _dispatch(self, entry: _HostState, body: bytes, logon: Logon | None) -> Outcome:
        loop = asyncio.get_running_loop()

        def locked(func: Any, *args: Any) -> Any:
            with entry.lock:
                token = _CURRENT_LOGON.set(logon)
                try:
                    return func(*args)
                finally:
                    _CURRENT_LOGON.reset(token)

        result: Outcome | PendingReceive = await loop.run_in_executor(
            self._pool, locked, entry.endpoint.handle, body
        )
        if isinstance(result, Outcome):
            return result
        deadline = time.monotonic() + result.wait_s
        while time.monotonic() < deadline:
            await asyncio.sleep(_POLL_S)
            ready: Outcome | None = await loop.run_in_executor(self._pool, locked, result.poll)
            if ready is not None:
                return ready
        return result.timed_out()


async def _send(writer: asyncio.StreamWriter, data: bytes, drip_bytes_per_s: int) -> None:
    """The reply at once, or (the drip fault) a byte at a time, as a stalling host would send it."""
    if not drip_bytes_per_s:
        writer.write(data)
        await writer.drain()
        return
    for index in range(len(data)):
        writer.write(data[index : index + 1])
        await writer.drain()
        await asyncio.sleep(1 / drip_bytes_per_s)


async def _send_oversize(writer: asyncio.StreamWriter, megabytes: int) -> None:
    """The oversize fault: a 200 that announces `megabytes` MB and streams zeros until the client
    hangs up, so a client that reads it all runs out of memory and one that caps it does not."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: {megabytes << 20}\r\n"
    head += "\r\n"
    writer.write(head.encode("latin-1"))
    block = bytes(1 << 20)
    for _ in range(megabytes):
        writer.write(block)
        await writer.drain()


# An unauthenticated body up to this size is drained to keep the connection; a larger one closes it.
_DRAINED_BODY_BYTES = 1 << 20


def _challenge(entry: _HostState) -> HttpResponse:
    winrm = entry.host.winrm
    return HttpResponse(
        401, headers=challenge_headers(winrm.basic, winrm.ntlm, winrm.kerberos, winrm.credssp)
    )
