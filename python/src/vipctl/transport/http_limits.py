"""Bounds on each HTTP exchange with a host: an overall deadline and a reply size cap.

requests only has a per-read timeout: a host that sends one byte every second never trips it, and
a reply body is read whole into memory whatever its size. `guard_session` wraps a session's
`send` (pywinrm and pypsrp both go through it, NTLM handshake legs included) so that each
exchange ends by its deadline, and a reply larger than the cap is refused while it is read.

The deadline is kept by a watchdog that shuts the exchange's socket down: the connection object
in use is recorded per thread when urllib3 sends the request, so the watchdog finds it whether
the host stalls in the headers or in the body.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Final

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# A vipctl reply (one executor response) is a few hundred KB on a busy host; 64 MiB is far above
# any honest reply and far below what would hurt the controller.
MAX_REPLY_BYTES: Final = 64 * 1024 * 1024
_CHUNK: Final = 64 * 1024

# The urllib3 connection each thread is using right now, for the watchdog.
_ACTIVE: dict[int, HTTPConnection] = {}


class ReplyTooSlow(requests.exceptions.Timeout):
    """The host did not finish its reply within the exchange's deadline."""


class ReplyTooLarge(requests.exceptions.RequestException):
    """The host's reply is larger than MAX_REPLY_BYTES."""


class _Tracked:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        _ACTIVE[threading.get_ident()] = self  # type: ignore[assignment]
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _TrackedHTTPConnection(_Tracked, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


def _track_connections(session: requests.Session) -> None:
    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


def _abort(thread_id: int, fired: threading.Event) -> None:
    fired.set()
    connection = _ACTIVE.get(thread_id)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        # Already closed means the exchange is over anyway.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _read_capped(response: requests.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        response.close()
        raise ReplyTooLarge(f"the reply announces {int(declared)} bytes, more than the {limit} allowed")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise ReplyTooLarge(f"the reply exceeds the {limit} bytes allowed")
        chunks.append(chunk)
    return b"".join(chunks)


def guard_session(
    session: requests.Session, *, deadline: float, max_reply_bytes: int = MAX_REPLY_BYTES
) -> None:
    """Make every `session.send` end within `deadline` seconds and refuse replies over the cap.

    Idempotent: a session already guarded is left as it is."""
    if getattr(session, "_vipctl_guarded", False):
        return
    session._vipctl_guarded = True  # type: ignore[attr-defined]
    _track_connections(session)
    original = session.send

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        stream = bool(kwargs.pop("stream", False))
        thread_id = threading.get_ident()
        fired = threading.Event()
        watchdog = threading.Timer(deadline, _abort, (thread_id, fired))
        watchdog.daemon = True
        started = time.monotonic()
        watchdog.start()
        try:
            response = original(request, stream=True, **kwargs)
            if not stream:
                response._content = _read_capped(response, max_reply_bytes)
                response._content_consumed = True  # type: ignore[attr-defined]
            if fired.is_set():  # the socket was shut while the body ended without a framing error
                raise requests.exceptions.ConnectionError("the exchange was cut off")
            return response
        except Exception as error:  # an auth hook may fail on a cut-off reply in its own way
            if fired.is_set() or time.monotonic() - started >= deadline:
                raise ReplyTooSlow(
                    f"the host's reply did not complete within {deadline:g} s (the per-request deadline)"
                ) from error
            raise
        finally:
            watchdog.cancel()
            _ACTIVE.pop(thread_id, None)

    session.send = send  # type: ignore[method-assign]
