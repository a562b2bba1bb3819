"""One host's WS-Man service: owns shell ids and dispatches Action + ResourceURI to shells.

`handle()` is sans-I/O. A Receive with nothing ready comes back as `PendingReceive`: the I/O
layer polls it and, once the wait runs out, sends `timed_out()` (the OperationTimeout fault), so
no thread ever blocks inside this module.
"""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from vipctl.sim.shell_api import ReceiveResult, Shell
from vipctl.sim.wsman import ns, reply
from vipctl.sim.wsman.request import (
    MalformedRequest,
    UnknownCommand,
    WsmanRequest,
    parse_duration,
    parse_request,
)

# Maps a ResourceURI to a new shell, or None when this host does not serve that resource.
ShellFactory = Callable[[str], Shell | None]

HTTP_OK = 200
HTTP_FAULT = 500
# A shell's IdleTimeOut when the client asks for none: the WinRM service default (2 hours).
DEFAULT_IDLE_TIMEOUT_S = 7200.0


@dataclass(frozen=True)
class Outcome:
    """A finished reply: HTTP status (200, or 500 for faults, as Windows) and the envelope bytes."""

    status: int
    body: bytes


@dataclass
class PendingReceive:
    """A Receive waiting for output. Call `poll()` until it returns an Outcome or `wait_s` passes,
    then send `timed_out()`."""

    poll: Callable[[], Outcome | None]
    timed_out: Callable[[], Outcome]
    wait_s: float


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _new_id() -> str:
    # Windows hands out upper-case GUIDs for shells and commands.
    return str(uuid.uuid4()).upper()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode((text or "").strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedRequest(f"{what} is not valid base64") from exc


class WsmanEndpoint:
    """The WS-Man service of one simulated host.

    `max_wait_s` caps how long a Receive waits before the OperationTimeout fault, whatever the
    client asked for, so tests that exercise the timeout stay fast. `force_timeouts` makes every
    Receive time out (the front-door "operation timeouts" fault).
    """

    def __init__(self, machine: str, shell_factory: ShellFactory, max_wait_s: float = 1.0) -> None:
        self.machine = machine
        self.max_wait_s = max_wait_s
        self.force_timeouts = False
        # Stands in for the wsmprovhost.exe process id Windows reports for a PowerShell shell.
        self.process_id = 4000 + sum(machine.encode("utf-8")) % 4000
        self._factory = shell_factory
        self._shells: dict[str, tuple[str, Shell]] = {}
        self._lock = threading.Lock()

    def close_all(self) -> None:
        """Drop every shell (a reboot or a server stop ends them)."""
        with self._lock:
            shells = list(self._shells.values())
            self._shells.clear()
        for _, shell in shells:
            shell.close()

    def handle(self, data: bytes) -> Outcome | PendingReceive:
        if len(data) > reply.MAX_ENVELOPE_BYTES:
            # Refused whole, as Windows does, before anything in it is acted on.
            return self._fault(
                reply.envelope_too_large(len(data)), "uuid:00000000-0000-0000-0000-000000000000"
            )
        try:
            request = parse_request(data)
        except MalformedRequest as exc:
            return self._fault(reply.malformed(str(exc)), "uuid:00000000-0000-0000-0000-000000000000")
        try:
            return self._dispatch(request)
        except UnknownCommand:
            return self._fault(reply.command_not_found(), request.message_id)
        except ValueError as exc:  # MalformedRequest, or a shell refusing its payload
            return self._fault(reply.malformed(str(exc)), request.message_id)

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, request: WsmanRequest) -> Outcome | PendingReceive:
        if request.resource_uri not in (ns.RESOURCE_CMD, ns.RESOURCE_PSRP):
            return self._fault(reply.not_supported(request.action, request.resource_uri), request.message_id)
        if request.action == ns.ACTION_CREATE:
            return self._create(request)
        handlers: dict[str, Callable[[WsmanRequest, Shell], Outcome | PendingReceive]] = {
            ns.ACTION_COMMAND: self._command,
            ns.ACTION_SEND: self._send,
            ns.ACTION_RECEIVE: self._receive,
            ns.ACTION_SIGNAL: self._signal,
            ns.ACTION_DELETE: self._delete,
        }
        handler = handlers.get(request.action)
        if handler is None:
            return self._fault(reply.not_supported(request.action, request.resource_uri), request.message_id)
        shell_id = request.shell_id or ""
        with self._lock:
            found = self._shells.get(shell_id.upper())
        if found is None or found[0] != request.resource_uri:
            return self._fault(reply.shell_not_found(shell_id), request.message_id)
        return handler(request, found[1])

    def _body_child(self, request: WsmanRequest, namespace: str, tag: str) -> Element:
        node = request.body.find(_q(namespace, tag)) if request.body is not None else None
        if node is None:
            raise MalformedRequest(f"the Body lacks {tag}")
        return node

    def _create(self, request: WsmanRequest) -> Outcome:
        shell_xml = self._body_child(request, ns.SHELL, "Shell")
        creation = shell_xml.find(_q(ns.POWERSHELL, "creationXml"))
        payload = _unb64(creation.text, "creationXml") if creation is not None else None
        shell = self._factory(request.resource_uri)
        if shell is None:
            return self._fault(reply.not_supported(request.action, request.resource_uri), request.message_id)
        # PSRP clients choose the shell id (the runspace pool id); WinRS lets the server pick.
        shell_id = (shell_xml.get("ShellId") or _new_id()).upper()
        echoed = shell.create(payload)
        with self._lock:
            self._shells[shell_id] = (request.resource_uri, shell)
        extra = ""
        if echoed is not None:
            extra = f'<creationXml xmlns="{ns.POWERSHELL}">{_b64(echoed)}</creationXml>'
        uri = escape(request.resource_uri)
        body = (
            f"<x:ResourceCreated><a:Address>{escape(request.to or ns.ANONYMOUS)}</a:Address>"
            f"<a:ReferenceParameters><w:ResourceURI>{uri}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
            f"</a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell>{self._shell_info(request, shell_xml, shell_id)}{extra}</rsp:Shell>"
        )
        return self._ok(request, body)

    def _shell_info(self, request: WsmanRequest, shell_xml: Element, shell_id: str) -> str:
        """The rsp:Shell children Windows returns from Create, in its order.

        A cmd shell gets the short list; a PowerShell shell also names its host process and
        session settings and reports State. pypsrp copies ShellRunTime, ShellInactivity and
        IdleTimeOut onto its shell object, so those are always present."""
        psrp = request.resource_uri == ns.RESOURCE_PSRP
        # Windows echoes the requested IdleTimeOut (PT60S comes back as PT60.000S).
        idle_node = shell_xml.find(_q(ns.SHELL, "IdleTimeOut"))
        idle_s = parse_duration(idle_node.text if idle_node is not None else None)
        idle = f"PT{idle_s if idle_s is not None else DEFAULT_IDLE_TIMEOUT_S:.3f}S"
        fields: list[tuple[str, str]] = [
            ("ShellId", shell_id),
            ("ResourceUri", request.resource_uri),
            ("Owner", f"{self.machine}\\Administrator"),
            ("ClientIP", "127.0.0.1"),
        ]
        if psrp:
            fields.append(("ProcessId", str(self.process_id)))
        fields += [
            ("IdleTimeOut", idle),
            ("InputStreams", "stdin pr" if psrp else "stdin"),
            ("OutputStreams", "stdout" if psrp else "stdout stderr"),
        ]
        if psrp:
            fields += [
                ("MaxIdleTimeOut", "PT2147483.647S"),
                ("Locale", "en-US"),
                ("DataLocale", "en-US"),
                ("CompressionMode", "NoCompression"),
                ("ProfileLoaded", "Yes"),
                ("Encoding", "UTF8"),
                ("BufferMode", "Block"),
                ("State", "Connected"),
            ]
        fields += [("ShellRunTime", "P0DT0H0M0S"), ("ShellInactivity", "P0DT0H0M0S")]
        return "".join(f"<rsp:{tag}>{escape(value)}</rsp:{tag}>" for tag, value in fields)

    def _command(self, request: WsmanRequest, shell: Shell) -> Outcome:
        line = self._body_child(request, ns.SHELL, "CommandLine")
        command_node = line.find(_q(ns.SHELL, "Command"))
        command = (command_node.text or "") if command_node is not None else ""
        raw_args = [node.text or "" for node in line.iterfind(_q(ns.SHELL, "Arguments"))]
        if request.resource_uri == ns.RESOURCE_PSRP:
            arguments = [_unb64(arg, "Arguments") for arg in raw_args]
        else:
            arguments = [arg.encode("utf-8") for arg in raw_args]
        command_id = (line.get("CommandId") or _new_id()).upper()
        shell.command(command_id, command, arguments, request.options)
        body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        return self._ok(request, body)

    def _send(self, request: WsmanRequest, shell: Shell) -> Outcome:
        send = self._body_child(request, ns.SHELL, "Send")
        for stream in send.iterfind(_q(ns.SHELL, "Stream")):
            command_id = stream.get("CommandId")
            end = stream.get("End", "false").lower() == "true"
            data = _unb64(stream.text, "Send stream")
            shell.send(command_id.upper() if command_id else None, stream.get("Name", "stdin"), data, end)
        return self._ok(request, "<rsp:SendResponse/>")

    def _receive(self, request: WsmanRequest, shell: Shell) -> Outcome | PendingReceive:
        desired = self._body_child(request, ns.SHELL, "Receive").find(_q(ns.SHELL, "DesiredStream"))
        raw_id = desired.get("CommandId") if desired is not None else None
        command_id = raw_id.upper() if raw_id else None

        def poll() -> Outcome | None:
            if self.force_timeouts:
                return None
            result = shell.receive(command_id)
            return None if result is None else self._ok(request, self._receive_body(result, command_id))

        def timed_out() -> Outcome:
            return self._fault(reply.operation_timeout(), request.message_id)

        first = poll()
        if first is not None:
            return first
        asked = request.operation_timeout_s if request.operation_timeout_s is not None else self.max_wait_s
        return PendingReceive(poll=poll, timed_out=timed_out, wait_s=min(asked, self.max_wait_s))

    @staticmethod
    def _receive_body(result: ReceiveResult, command_id: str | None) -> str:
        parts = ["<rsp:ReceiveResponse>"]
        # Windows sends the output first, then each finished stream again as an empty element
        # carrying End="true" (never End on an element with data), then CommandState.
        ends: list[str] = []
        for chunk in result.chunks:
            chunk_id = chunk.command_id or command_id
            attrs = f"Name={quoteattr(chunk.name)}"
            if chunk_id:
                attrs += f" CommandId={quoteattr(chunk_id)}"
            if chunk.data:
                parts.append(f"<rsp:Stream {attrs}>{_b64(chunk.data)}</rsp:Stream>")
            if chunk.end:
                ends.append(f'<rsp:Stream {attrs} End="true"></rsp:Stream>')
        parts += ends
        # CommandState only belongs to a command's Receive; the PSRP pool's Receive has none.
        if command_id:
            if result.done:
                code = "" if result.exit_code is None else f"<rsp:ExitCode>{result.exit_code}</rsp:ExitCode>"
                state = f'CommandId="{command_id}" State="{ns.COMMAND_STATE_DONE}"'
                parts.append(f"<rsp:CommandState {state}>{code}</rsp:CommandState>")
            else:
                state = f'CommandId="{command_id}" State="{ns.COMMAND_STATE_RUNNING}"'
                parts.append(f"<rsp:CommandState {state}/>")
        parts.append("</rsp:ReceiveResponse>")
        return "".join(parts)

    def _signal(self, request: WsmanRequest, shell: Shell) -> Outcome:
        signal = self._body_child(request, ns.SHELL, "Signal")
        code_node = signal.find(_q(ns.SHELL, "Code"))
        code = (code_node.text or "").strip() if code_node is not None else ""
        command_id = signal.get("CommandId")
        shell.signal(command_id.upper() if command_id else None, code)
        return self._ok(request, "<rsp:SignalResponse/>")

    def _delete(self, request: WsmanRequest, shell: Shell) -> Outcome:
        with self._lock:
            self._shells.pop((request.shell_id or "").upper(), None)
        shell.close()
        return self._ok(request, "")

    # -- replies ------------------------------------------------------------------------------

    @staticmethod
    def _ok(request: WsmanRequest, body: str) -> Outcome:
        return Outcome(HTTP_OK, reply.envelope(request.action + ns.RESPONSE_SUFFIX, request.message_id, body))

    def _fault(self, fault: reply.Fault, relates_to: str) -> Outcome:
        return Outcome(HTTP_FAULT, fault.render(relates_to, self.machine))
