"""A small client for the simulator's admin API (tests and the demo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests


class AdminClient:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.trust_env = False  # the admin API is on loopback; never go through a proxy
        self._timeout = timeout

    @classmethod
    def from_state_dir(cls, state_dir: str | Path) -> AdminClient:
        info = json.loads((Path(state_dir) / "sim.json").read_text(encoding="utf-8"))
        return cls(info["admin_url"], info["token"])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = self._session.request(method, f"{self.url}{path}", json=body, timeout=self._timeout)
        payload = reply.json()
        if reply.status_code != 200:
            raise RuntimeError(f"admin API {method} {path}: {reply.status_code} {payload.get('error')}")
        return payload

    def hosts(self) -> list[str]:
        return list(self._call("GET", "/hosts")["hosts"])

    def snapshot(self, host: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/hosts/{quote(host)}"))

    def counters(self, host: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/hosts/{quote(host)}/counters"))

    def action(self, host: str, action: str, **body: Any) -> dict[str, Any]:
        return dict(self._call("POST", f"/hosts/{quote(host)}/actions/{action}", body))

    def set_faults(self, host: str, **faults: Any) -> dict[str, Any]:
        return dict(self._call("POST", f"/hosts/{quote(host)}/faults", faults))

    def clear_faults(self, host: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/hosts/{quote(host)}/faults"))

    def plant_file(self, host: str, path: str, content: str) -> dict[str, Any]:
        """An ordinary user writes `path` on the host; RuntimeError (403) where the ACL forbids it."""
        return self.action(host, "plant_file", path=path, content=content)

    def grant_access(self, host: str, path: str, sid: str, rights: str = "modify") -> dict[str, Any]:
        return self.action(host, "grant_access", path=path, sid=sid, rights=rights)
