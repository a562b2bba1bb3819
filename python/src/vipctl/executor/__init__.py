"""The PowerShell executor shipped with vipctl and the Python side of its protocol."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

SCRIPT_NAME = "vipctl.ps1"


@lru_cache(maxsize=1)
def script_bytes() -> bytes:
    """The executor exactly as shipped: what runs on hosts and what the simulator hash-checks."""
    return resources.files(__package__).joinpath(SCRIPT_NAME).read_bytes()


def script_text() -> str:
    return script_bytes().decode("utf-8")


def script_sha256() -> str:
    return hashlib.sha256(script_bytes()).hexdigest()
