"""What every host command needs: the selected targets, the desired state, redaction, output streams."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from vipctl.cli.credentials import Redactor
from vipctl.cli.jobs import HostWork, run_on_hosts
from vipctl.cli.session import SessionPool
from vipctl.cli.targets import Target
from vipctl.desired_state import DesiredState
from vipctl.progress import ProgressBar


@dataclass
class Outcome:
    """A command's result: the JSON document, the human text, the exit code."""

    document: dict[str, Any]
    text: str
    exit_code: int


@dataclass
class Context:
    targets: list[Target]
    desired: DesiredState | None
    redactor: Redactor
    forks: int
    check: bool = False
    assume_yes: bool = False
    backup_set: str | None = None
    since: str | None = None
    # The --limit pattern as given; None when the command runs on the whole inventory.
    limit: str | None = None
    # JSON mode: stdout carries only the one document, so interim text is not printed.
    json: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    # Each host's session stays open across the phases of one command (closed by `close`).
    sessions: SessionPool = field(default_factory=SessionPool)

    def __post_init__(self) -> None:
        self.sessions.forks = self.forks

    def close(self) -> None:
        self.sessions.close()

    def run(
        self, work: HostWork, targets: list[Target] | None = None, label: str = "hosts"
    ) -> list[dict[str, Any]]:
        chosen = self.targets if targets is None else targets
        if not chosen:
            return []
        # The bar draws only on a terminal and only when there is more than one host to wait for.
        bar = ProgressBar(self.err, label=label) if len(chosen) > 1 else None
        try:
            return run_on_hosts(chosen, work, forks=self.forks, sessions=self.sessions, progress=bar)
        finally:
            if bar is not None:
                bar.close()
