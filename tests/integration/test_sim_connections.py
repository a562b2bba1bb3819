"""The simulator's front door: credentials checked before a body is read, idle connections closed."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from cli_sim import free_ports

from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer

HOST = "vda2019-01"


def _served(tmp_path: Path, idle: float = 120.0) -> tuple[SimServer, tuple[str, int]]:
    server = SimServer(max_receive_wait_s=0.2, idle_connection_s=idle)
    server.start(free_ports(load_farm(None)), state_dir=tmp_path)
    address, port, _scheme = server.endpoint(HOST)
    return server, (address, port)


def test_a_request_without_credentials_is_refused_before_its_body_is_sent(tmp_path: Path) -> None:
    server, where = _served(tmp_path)
    try:
        with socket.create_connection(where, timeout=5) as conn:
            # Announce 100 MB but send none of it: the 401 must come back all the same.
            conn.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
            reply = conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 401"), reply[:80]
        assert b"WWW-Authenticate: Negotiate" in reply
    finally:
        server.stop()


def test_an_idle_connection_is_closed(tmp_path: Path) -> None:
    server, where = _served(tmp_path, idle=0.5)
    try:
        with socket.create_connection(where, timeout=5) as conn:
            started = time.monotonic()
            assert conn.recv(1) == b""  # the server hung up
            assert time.monotonic() - started < 4
    finally:
        server.stop()
