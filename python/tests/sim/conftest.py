"""Helpers for the sans-I/O WS-Man tests: the real pywinrm Protocol wired straight to an endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from winrm.exceptions import WinRMTransportError
from winrm.protocol import Protocol

from vipctl.executor import script_text
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.shell_api import Shell
from vipctl.sim.winrs_shell import WinrsShell
from vipctl.sim.wsman import Outcome, PendingReceive, WsmanEndpoint, ns


class RecordingBackend:
    """Answers every executor request with a fixed response and remembers what it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def run_executor(self, script_text_: str, request_json: str) -> tuple[str, int]:
        if script_text_ != script_text():
            raise ScriptRejected(script_text_.splitlines()[0] if script_text_ else "")
        self.calls.append((script_text_, request_json))
        request = json.loads(request_json)
        results = [{"op": op["op"], "ok": True, "data": {}} for op in request["ops"]]
        return json.dumps({"v": 1, "results": results}), 0


class DirectTransport:
    """Stands in for pywinrm's HTTP transport: hands the bytes to the endpoint, no socket."""

    def __init__(self, endpoint: WsmanEndpoint) -> None:
        self.endpoint = endpoint
        self.sent: list[bytes] = []

    def send_message(self, message: str | bytes) -> bytes:
        data = message.encode("utf-8") if isinstance(message, str) else message
        self.sent.append(data)
        outcome = self.endpoint.handle(data)
        if isinstance(outcome, PendingReceive):
            outcome = outcome.poll() or outcome.timed_out()
        assert isinstance(outcome, Outcome)
        if outcome.status != 200:
            raise WinRMTransportError("http", outcome.status, outcome.body.decode("utf-8"))
        return outcome.body

    def build_session(self) -> requests.Session:
        # The WinRM transport tunes the session it would send through; here nothing is sent by it.
        return requests.Session()

    def close_session(self) -> None:
        pass


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture
def endpoint(backend: RecordingBackend) -> WsmanEndpoint:
    def factory(resource_uri: str) -> Shell | None:
        return WinrsShell(backend) if resource_uri == ns.RESOURCE_CMD else None

    return WsmanEndpoint("VDA01", factory, max_wait_s=0.01)


@pytest.fixture
def protocol(endpoint: WsmanEndpoint) -> Any:
    proto = Protocol("http://127.0.0.1:5985/wsman", username="u", password="p", transport="plaintext")
    proto.transport = DirectTransport(endpoint)  # type: ignore[assignment]
    return proto
