"""Errors raised by the host model, each carrying the executor-protocol error kind it maps to.

The twin turns a `ModelError` into `{"ok": false, "error": {"kind", "message"}}` unchanged, so the
messages here are the ones a client sees; they follow the Windows wording where there is one."""

from __future__ import annotations


class ModelError(Exception):
    kind = "failed"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class BadArgument(ModelError):
    kind = "bad_request"


class NotFound(ModelError):
    kind = "not_found"


class WrongType(ModelError):
    kind = "wrong_type"


class AccessDenied(ModelError):
    kind = "access_denied"


class PolicyControlled(ModelError):
    kind = "policy_controlled"


class NotAvailable(ModelError):
    kind = "not_available"


class Conflict(ModelError):
    kind = "conflict"


class Failed(ModelError):
    kind = "failed"


class DelegationRequired(ModelError):
    """A write to an AD GPO from a WinRM session without delegated credentials (the second hop)."""

    kind = "delegation_required"
