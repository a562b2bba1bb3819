"""Errors raised around the executor: bad requests, unreadable responses, failed ops.

Messages name the host (never a credential) so a fleet run can say which machine went wrong.
"""

from __future__ import annotations

from typing import Final

# Error kinds of the backup store (executor part 15_backup_store.ps1).
INSECURE_BACKUP_ROOT: Final = "insecure_backup_root"
BACKUP_TAMPERED: Final = "backup_tampered"
# Error kinds whose cause is the connection or the host's policy, not the request: the fix to
# name wherever such an error reaches a person (CLI, Ansible, exceptions).
ERROR_KIND_FIXES: Final = {
    "delegation_required": (
        "writing an AD GPO from a WinRM session is a second hop: connect with CredSSP "
        "(Ansible: ansible_winrm_transport=credssp, or ansible_psrp_auth=credssp) or with Kerberos "
        "delegation (a forwardable ticket to a host trusted for delegation), or write the GPO on "
        "a domain controller's own session"
    ),
    "constrained_language": (
        "an AppLocker or WDAC policy puts PowerShell in ConstrainedLanguage mode on this host: allow "
        "the vipctl executor in that policy, or manage the host from a session that policy does not cover"
    ),
    # What a person can do about the common kinds (docs/executor-protocol.md lists them all).
    "access_denied": "connect as an account in the host's local Administrators group",
    "not_available": "the host lacks what this op needs (see the message); check the role or product",
    "policy_controlled": "a group policy sets this value; change it in the GPO or use method: policy",
    "not_found": "check the name in the message against the host",
    "bad_request": "a bug in vipctl's request: report it with the message",
    INSECURE_BACKUP_ROOT: (
        "users other than Administrators and SYSTEM could write to the backup folder, so vipctl "
        "neither keeps backups there nor restores from it; nothing was changed"
    ),
    BACKUP_TAMPERED: (
        "the backup set holds a file vipctl did not write, or one changed since, or a key vipctl "
        "does not manage; nothing from that set was restored: find out who wrote to the backup folder"
    ),
}


def with_fix(kind: str, message: str) -> str:
    """`message`, followed by the fix for `kind` when there is one."""
    fix = ERROR_KIND_FIXES.get(kind)
    return message if fix is None else f"{message}. Fix: {fix}"


class ExecutorError(Exception):
    """Base class. `host` is None only for errors found before any host was involved."""

    def __init__(self, message: str, *, host: str | None = None) -> None:
        self.host = host
        self.detail = message
        super().__init__(f"{host}: {message}" if host else message)


class RequestError(ExecutorError):
    """A request that must not be sent: `field` names the offending part, e.g. `ops[2].path`."""

    def __init__(self, field: str, message: str, *, host: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}", host=host)


class MalformedResponse(ExecutorError):
    """The executor's output is not one well-formed v1 response."""


class OpFailed(ExecutorError):
    """An op reported `ok: false`; `kind` is the protocol's error kind."""

    def __init__(self, *, kind: str, message: str, op: str, op_id: str | None, host: str | None) -> None:
        self.kind = kind
        self.message = message
        self.op = op
        self.op_id = op_id
        label = f"{op} ({op_id})" if op_id else op
        super().__init__(f"{label} failed [{kind}]: {with_fix(kind, message)}", host=host)
