"""Every contract vector through both transports against a running simulator.

tests/powershell/test_vectors_twin.py runs each vector through the executor's Python twin in
process; this runs the same vectors through `PsrpTransport` and `WinrmTransport`, over HTTPS to a
SimServer serving the vector's host, and judges them with the same helpers. What this adds is
everything between the caller and the twin: request encoding and framing, the WinRS and PSRP
shells, exit codes (WinRS's exit code, PSRP's SetShouldExit) and `decode_response`.

No vector is skipped. Its `requires` describe what a real host must provide; the simulator
builds the host from the vector exactly as the twin test does (roles, Citrix, injected
registry faults, sessions and processes), so every requirement is met over the wire as well.

The one vector whose request is not JSON (`"request"` is a string) goes through the transports
too: they take a dict and encode it in `bootstrap.request_base64`, so the test swaps that one
function for one returning the raw text's base64. Everything else stays real, including the
WinRS stdin frame and the PSRP `-RequestBase64` parameter the raw text travels in.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import wire_hosts
from vector_support import VECTORS, build_host, differences, load, state_differences

import vipctl.transport.psrp as psrp_transport
import vipctl.transport.winrm as winrm_transport
from vipctl.executor import bootstrap
from vipctl.executor.codec import Response, decode_response
from vipctl.transport import open_transport

# One address per (vector, connection), so no two servers of a run ever share a listener.
_INDEX = {path.stem: i for i, path in enumerate(VECTORS)}


@dataclass
class Received:
    """What reached the client, as the transport handed it to `decode_response`."""

    stdout: str | None = None
    exit_code: int | None = None


def record_replies(monkeypatch: pytest.MonkeyPatch, connection: wire_hosts.Connection) -> Received:
    """Let the test see the executor's JSON as it came off the wire, next to the decoded Response:
    the vectors pin exact keys, which the typed Response no longer shows."""
    received = Received()

    def recording(stdout: str, exit_code: int, *, host: str) -> Response:
        received.stdout, received.exit_code = stdout, exit_code
        return decode_response(stdout, exit_code, host=host)

    module = psrp_transport if connection == "psrp" else winrm_transport
    monkeypatch.setattr(module, "decode_response", recording)
    return received


def send_raw_text(monkeypatch: pytest.MonkeyPatch, text: str) -> list[dict[str, Any]]:
    """Make both transports send `text` where the request's JSON would go; returns the requests
    the swapped encoder was given, so the test can tell the raw text really went out."""
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    seen: list[dict[str, Any]] = []

    def raw(request: dict[str, Any]) -> str:
        seen.append(request)
        return encoded

    monkeypatch.setattr(bootstrap, "request_base64", raw)
    return seen


def typed_differences(response: Response, raw: dict[str, Any]) -> list[str]:
    """Where the typed Response disagrees with the JSON it was decoded from, on what callers act on."""
    out: list[str] = []
    error = raw.get("error")
    if response.ok != raw["ok"] or response.backups != raw["backups"]:
        out.append(f"ok/backups: {response.ok}/{response.backups} vs {raw['ok']}/{raw['backups']}")
    if (response.error and response.error.kind) != (error and error["kind"]):
        out.append(f"error: {response.error} vs {error}")
    if len(response.results) != len(raw["results"]):
        return [*out, f"results: {len(response.results)} decoded vs {len(raw['results'])} sent"]
    for index, (result, item) in enumerate(zip(response.results, raw["results"], strict=True)):
        decoded = (result.op, result.id, result.ok, result.error.kind if result.error else None)
        sent = (item["op"], item.get("id"), item["ok"], item["error"]["kind"] if "error" in item else None)
        if decoded != sent or (result.ok and result.data != item["data"]):
            out.append(f"results[{index}]: {decoded} vs {sent}")
    return out


@pytest.mark.parametrize("connection", wire_hosts.CONNECTIONS)
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector_over_wire(
    path: Path, connection: wire_hosts.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    vector = load(path)
    index = 2 * _INDEX[path.stem] + wire_hosts.CONNECTIONS.index(connection)
    sim = build_host(vector, wire_hosts.endpoint(index))
    request = vector["request"]
    raw_sent: list[dict[str, Any]] | None = None
    if isinstance(request, str):
        raw_sent = send_raw_text(monkeypatch, request)
        request = {}
    received = record_replies(monkeypatch, connection)

    with (
        wire_hosts.serve(sim.name, sim, tmp_path) as server,
        open_transport(wire_hosts.settings(server, sim.name, connection)) as transport,
    ):
        response = transport.run(request)

    assert raw_sent is None or len(raw_sent) == 1
    assert received.stdout is not None
    raw = json.loads(received.stdout)
    assert received.exit_code == (1 if "error" in vector["response"] else 0)
    assert differences(vector["response"], raw) == [], json.dumps(raw, indent=1)
    assert typed_differences(response, raw) == []
    assert response.host == sim.name
    assert state_differences(sim, vector.get("state_after") or {}) == []
