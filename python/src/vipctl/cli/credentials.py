"""Credentials: inventory, then VIPCTL_USER / VIPCTL_PASSWORD, then a prompt; `--auth`; redaction.

Precedence follows what the admin did last: a typed password (`--ask-pass`) beats the
environment, which beats the inventory. Every secret in use is registered with a `Redactor` so
that no message, JSON document or report can carry it, whatever path it takes there.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

USER_ENV: Final = "VIPCTL_USER"
PASSWORD_ENV: Final = "VIPCTL_PASSWORD"
MASK: Final = "********"
# The variables ansible's winrm / psrp plugins read a user name and a password from.
USER_VARS: Final = ("ansible_user", "ansible_winrm_user", "ansible_psrp_user")
PASSWORD_VARS: Final = (
    "ansible_password",
    "ansible_winrm_pass",
    "ansible_winrm_password",
    "ansible_psrp_pass",
)
# `--auth`: one choice for both connection plugins (pywinrm has no `negotiate`; the settings say so).
AUTH_CHOICES: Final = ("kerberos", "negotiate", "credssp", "ntlm", "basic")


@dataclass(frozen=True)
class Credentials:
    """Overrides for every host; None leaves the inventory's value in place."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str | None = None

    def apply(self, host_vars: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(host_vars)
        if self.auth is not None:
            values["ansible_winrm_transport"] = self.auth
            values["ansible_psrp_auth"] = self.auth
        if self.user is not None:
            for name in USER_VARS:
                values.pop(name, None)
            values["ansible_user"] = self.user
        if self.password is not None:
            for name in PASSWORD_VARS:
                values.pop(name, None)
            values["ansible_password"] = self.password
        return values


def resolve_credentials(
    *,
    ask_pass: bool,
    auth: str | None = None,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> Credentials:
    env = os.environ if environ is None else environ
    user = env.get(USER_ENV) or None
    password = env.get(PASSWORD_ENV) or None
    if ask_pass:
        # getpass reads from the terminal with echo off.
        password = prompt("WinRM password: ")
    return Credentials(user=user, password=password, auth=auth)


class Redactor:
    """Replaces every registered secret with a mask in text and in nested data.

    Applied once, at the output boundary (`vipctl.cli.main`): every document, table and message a
    command produces passes through it there, so nothing upstream needs to redact on its own."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        # Longest first, so a secret containing another is masked whole; rebuilt only on `add`.
        self._ordered: tuple[str, ...] = ()
        self._json_ordered: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        # Very short values would mask ordinary words; real passwords are longer than three characters.
        fresh = {s for s in secrets if s and len(s) > 3} - self._secrets
        if fresh:
            self._secrets.update(fresh)
            self._ordered = tuple(sorted(self._secrets, key=len, reverse=True))
            # JSON escapes character by character, so a secret inside a JSON string is its escaped form.
            escaped = {json.dumps(secret)[1:-1] for secret in self._secrets}
            self._json_ordered = tuple(sorted(escaped, key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self._ordered:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def json_text(self, value: str) -> str:
        """Redact serialized JSON (as `json.dumps` writes it) in one pass over the text."""
        for secret in self._json_ordered:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def secrets_in(host_vars: Mapping[str, Any]) -> list[str]:
    return [str(host_vars[name]) for name in PASSWORD_VARS if host_vars.get(name)]
