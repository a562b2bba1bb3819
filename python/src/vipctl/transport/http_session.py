"""What both WinRM clients' HTTP sessions (requests) need from vipctl once they are built."""

from __future__ import annotations

import requests


def freeze_environment(session: requests.Session) -> None:
    """Stop requests re-reading the environment's proxy variables on every request.

    pywinrm and pypsrp merge them into the session once, for its one endpoint, when they build it;
    with `trust_env` on, requests also walks os.environ several times per request (a third of
    the client's CPU per host in a fleet profile). Off after the build, nothing else changes."""
    session.trust_env = False
