"""Errors the simulator raises towards its front door and its farm-file loader."""

from __future__ import annotations


class ScriptRejected(Exception):
    """A client asked the simulator to run a script that is not the shipped executor.

    The simulator runs nothing but the executor; the front door turns this into a
    PowerShell-style error naming the first line of what it received."""

    def __init__(self, first_line: str) -> None:
        self.first_line = first_line
        super().__init__(
            f"the simulator only runs the shipped vipctl executor; got a script starting {first_line!r}"
        )


class FarmFileError(ValueError):
    """A farm file that cannot be loaded; the message names the host and the field."""

    def __init__(self, message: str, host: str | None = None, field: str | None = None) -> None:
        self.host = host
        self.field = field
        where = ""
        if host is not None:
            where = f"host {host!r}"
            if field is not None:
                where += f", field {field!r}"
        elif field is not None:
            where = f"field {field!r}"
        super().__init__(f"farm file: {where}: {message}" if where else f"farm file: {message}")
