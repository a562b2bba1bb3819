"""Just enough HTTP/1.1 for WinRM clients: one request at a time per connection, keep-alive."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

MAX_BODY_BYTES = 16 * 1024 * 1024

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    411: "Length Required",
    500: "Internal Server Error",
}


class BadHttp(ValueError):
    """The peer sent something that is not an HTTP request we accept."""


@dataclass
class HttpRequest:
    method: str
    path: str
    version: str
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    # Bytes this request took on the connection (head and body), for the benchmarks' counters.
    wire_size: int = 0

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def keep_alive(self) -> bool:
        connection = self.header("connection").lower()
        return connection != "close" if self.version == "HTTP/1.1" else connection == "keep-alive"


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encode(self, keep_alive: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Status')}",
            "Server: Microsoft-HTTPAPI/2.0",
        ]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"Content-Length: {len(self.body)}")
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


async def read_body(reader: asyncio.StreamReader, head: HttpRequest) -> HttpRequest:
    """`head` with its body read (Content-Length bytes, already checked by `read_head`)."""
    length = int(head.header("content-length") or "0")
    if length > MAX_BODY_BYTES:
        raise BadHttp("body too large")
    head.body = await reader.readexactly(length) if length else b""
    head.wire_size += len(head.body)
    return head


async def drain_body(reader: asyncio.StreamReader, head: HttpRequest) -> None:
    """Read and discard `head`'s body, a block at a time."""
    remaining = int(head.header("content-length") or "0")
    while remaining > 0:
        block = await reader.readexactly(min(remaining, 64 * 1024))
        remaining -= len(block)


async def read_head(reader: asyncio.StreamReader) -> HttpRequest | None:
    """The request line and headers (body left on the wire), or None at a clean close."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise BadHttp("connection closed mid-request") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadHttp("headers too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadHttp(f"bad request line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadHttp(f"bad header line {line!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadHttp("chunked bodies are not accepted")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise BadHttp("bad Content-Length") from exc
    if length < 0:
        raise BadHttp("bad Content-Length")
    return HttpRequest(parts[0], parts[1], parts[2], headers, b"", len(head))
