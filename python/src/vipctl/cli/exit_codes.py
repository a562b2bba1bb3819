"""The CLI's documented exit codes (`vipctl --help` prints them)."""

from __future__ import annotations

from typing import Final

OK: Final = 0  # in compliance / success
ERRORS: Final = 1  # at least one host failed (unreachable, refused, an op failed)
DRIFT: Final = 2  # --check found changes to make, or verification failed
BAD_INPUT: Final = 3  # bad arguments, inventory or desired-state file; nothing was contacted

HELP: Final = (
    "exit codes: 0 in compliance / success; 2 drift found in --check or verification failed; "
    "1 errors on at least one host (outranks 2); 3 bad input (nothing contacted)"
)


def combine(*, errors: bool, drift: bool) -> int:
    """Errors outrank drift: a partial picture must not pass for a complete one."""
    if errors:
        return ERRORS
    return DRIFT if drift else OK
