"""Progress of fleet runs on stderr: a one-line bar on an interactive terminal, and where stderr is
piped or redirected (AWX, CI, `2>&1 | tee`) one plain line per finished host, so a long run is never
silent and a log shows which host finished when. stdout (tables, JSON, reports) is never touched.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class ProgressBar:
    """Callable as a fleet progress callback: `bar(done, total, host, ok)`."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 30, label: str = "hosts") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = max(width, 1)
        self.label = label
        self.failed = 0
        self.enabled = _is_tty(self.stream)
        self._drawn = False
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, host: str, ok: bool) -> None:
        with self._lock:
            if not ok:
                self.failed += 1
            if not self.enabled:
                state = "ok" if ok else "FAILED"
                self.stream.write(f"{done}/{total} {self.label}: {host} {state}\n")
                self.stream.flush()
                return
            self.stream.write("\r" + self.render(done, total, host))
            self.stream.flush()
            self._drawn = True

    def render(self, done: int, total: int, host: str) -> str:
        """The bar as text, e.g. `[#######-------]  7/14 hosts, 1 failed  last: rdsh07`."""
        filled = self.width if total <= 0 else min(self.width, done * self.width // total)
        bar = "#" * filled + "-" * (self.width - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        # Pad so a shorter line fully overwrites a longer previous one.
        return f"[{bar}] {done}/{total} {self.label}{failed}  last: {host}".ljust(self.width + 50)

    def close(self) -> None:
        """End the bar's line so later output starts on a fresh one."""
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        # Closed or file-like objects without a terminal behind them.
        return False
