"""Errors raised around the executor: bad requests, unreadable responses, failed ops.

Messages name the host (never a credential) so a fleet run can say which machine went wrong.
"""

from __future__ import annotations

from typing import Final

# Error kinds of the backup store (executor part 15_backup_store.ps1) and what a person should
# know next to the host's message: the kind alone says why, this says what was (not) done.
INSECURE_BACKUP_ROOT: Final = "insecure_backup_root"
BACKUP_TAMPERED: Final = "backup_tampered"
KIND_ADVICE: Final = {
    INSECURE_BACKUP_ROOT: (
        "users other than Administrators and SYSTEM could write to the backup folder, so vipctl "
        "neither keeps backups there nor restores from it; nothing was changed"
    ),
    BACKUP_TAMPERED: (
        "the backup set holds a file vipctl did not write, or one changed since, or a key vipctl "
        "does not manage; nothing from that set was restored: find out who wrote to the backup folder"
    ),
}


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
        super().__init__(f"{label} failed [{kind}]: {message}", host=host)
