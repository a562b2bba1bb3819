"""Admin API: JSON over HTTP on its own loopback port, guarded by a bearer token.

GET    /hosts                          names
GET    /hosts/{name}                   ground truth (`SimHost.snapshot()`)
GET    /hosts/{name}/counters          front-door request counters
GET    /hosts/{name}/faults            current front-door faults
POST   /hosts/{name}/actions/{action}  logoff (body: {"session_ids": [...]}) | logon | reboot | policy_refresh
                                     | language_mode (body: {"mode": "ConstrainedLanguage" | "FullLanguage"})
                                     | plant_file (body: {"path", "content"}: an ordinary user writes
                                       the file, if the folders' ACLs let Users; 403 otherwise)
                                     | grant_access (body: {"path", "sid", "rights"}: an admin widens
                                       a folder's ACL, as icacls /grant does)
POST   /hosts/{name}/faults            front-door faults and/or {"deny_registry_path": "HKLM\\..."},
                                     {"read_only_registry_path": "HKLM\\..."},
                                     {"api_faults": {"<API>": "<kind>"}},
                                     and/or {"malformed_reply": "truncated" | "not_json" | "huge" |
                                     "wrong_version" | "noise_before" | null}: the executor runs,
                                     then its reply is spoiled that way
DELETE /hosts/{name}/faults            clear every fault of the host
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vipctl.sim.front_door import SimServer
from vipctl.sim.loopback_bind import require_loopback
from vipctl.sim.model.errors import AccessDenied
from vipctl.sim.model.files import encode

_ACTIONS = ("logoff", "logon", "reboot", "policy_refresh", "language_mode", "plant_file", "grant_access")


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AdminApi:
    """Runs the admin HTTP server in a background thread."""

    def __init__(
        self, sim: SimServer, address: str = "127.0.0.1", port: int = 0, token: str | None = None
    ) -> None:
        self.sim = sim
        self.token = token or secrets.token_urlsafe(24)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests and the demo read the API, not its access log

            def do_GET(self) -> None:
                api._handle(self, "GET")

            def do_POST(self) -> None:
                api._handle(self, "POST")

            def do_DELETE(self) -> None:
                api._handle(self, "DELETE")

        self._httpd = ThreadingHTTPServer((require_loopback(address), port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="vipctl-sim-admin", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- request handling ---------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        try:
            given = handler.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                raise _ApiError(401, "missing or wrong bearer token")
            length = int(handler.headers.get("Content-Length") or 0)
            raw = handler.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError as exc:
                raise _ApiError(400, f"the body is not JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise _ApiError(400, "the body must be a JSON object")
            status, payload = 200, self._route(method, handler.path.split("?")[0].strip("/").split("/"), body)
        except _ApiError as exc:
            status, payload = exc.status, {"error": str(exc)}
        except KeyError as exc:
            status, payload = 404, {"error": str(exc.args[0]) if exc.args else "not found"}
        except ValueError as exc:
            status, payload = 400, {"error": str(exc)}
        except Exception as exc:  # a model error must reach the caller, not kill the connection
            status, payload = 500, {"error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(payload, default=str).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, parts: list[str], body: dict[str, Any]) -> Any:
        if parts == ["hosts"] and method == "GET":
            return {"hosts": self.sim.host_names}
        if len(parts) < 2 or parts[0] != "hosts":
            raise _ApiError(404, "unknown path")
        name, rest = parts[1], parts[2:]
        host: Any = self.sim.host(name)
        if rest == [] and method == "GET":
            return host.snapshot()
        if rest == ["counters"] and method == "GET":
            return self.sim.counters(name)
        if rest == ["faults"]:
            return self._faults(method, name, host, body)
        if len(rest) == 2 and rest[0] == "actions" and method == "POST":
            return self._action(rest[1], host, body)
        raise _ApiError(404, f"unknown path or method {method} /{'/'.join(parts)}")

    def _faults(self, method: str, name: str, host: Any, body: dict[str, Any]) -> Any:
        if method == "GET":
            return self.sim.faults(name)
        if method == "DELETE":
            host.clear_faults()
            return self.sim.clear_faults(name)
        if method != "POST":
            raise _ApiError(405, "faults takes GET, POST or DELETE")
        front = dict(body)
        if "malformed_reply" in front:
            host.set_reply_fault(front.pop("malformed_reply"))
        denied = front.pop("deny_registry_path", None)
        if denied is not None:
            if not isinstance(denied, str) or not denied:
                raise ValueError("deny_registry_path must be a registry path string")
            host.deny_registry_path(denied)
        read_only = front.pop("read_only_registry_path", None)
        if read_only is not None:
            if not isinstance(read_only, str) or not read_only:
                raise ValueError("read_only_registry_path must be a registry path string")
            host.deny_registry_write(read_only)
        api_faults = front.pop("api_faults", None)
        if api_faults is not None:
            if not isinstance(api_faults, dict) or not all(isinstance(v, str) for v in api_faults.values()):
                raise ValueError('api_faults must be {"<API or CIM class>": "<error kind>"}')
            for api, kind in api_faults.items():
                host.fail_api(api, kind)
        return self.sim.set_faults(name, front) if front else self.sim.faults(name)

    @staticmethod
    def _action(action: str, host: Any, body: dict[str, Any]) -> Any:
        if action not in _ACTIONS:
            raise _ApiError(404, f"unknown action {action!r}; known: {', '.join(_ACTIONS)}")
        if action == "logoff":
            ids = body.get("session_ids")
            if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
                raise ValueError("session_ids must be a list of integers")
            host.logoff_sessions(ids)
        elif action == "logon":
            host.logon_sessions()
        elif action == "reboot":
            host.reboot()
        elif action == "language_mode":
            # AppLocker / WDAC enforcement puts every new PowerShell session in ConstrainedLanguage.
            mode = body.get("mode")
            if not isinstance(mode, str):
                raise ValueError('language_mode needs {"mode": "ConstrainedLanguage" | "FullLanguage"}')
            host.set_language_mode(mode)
        elif action == "plant_file":
            path, content = body.get("path"), body.get("content")
            if not isinstance(path, str) or not path or not isinstance(content, str):
                raise ValueError("plant_file needs a string path and a string content")
            try:
                # .reg text is stored as reg.exe writes it (UTF-16LE with a BOM), like vector files.
                host.plant_file(path, encode(path, content))
            except AccessDenied as exc:
                raise _ApiError(403, exc.message) from exc
        elif action == "grant_access":
            path, sid, rights = body.get("path"), body.get("sid"), body.get("rights")
            if not all(isinstance(v, str) and v for v in (path, sid, rights)):
                raise ValueError("grant_access needs string path, sid and rights")
            host.grant_folder_access(str(path), str(sid), str(rights))
        else:
            host.policy_refresh()
        return {"ok": True, "action": action}
