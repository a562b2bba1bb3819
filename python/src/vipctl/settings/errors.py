"""The one error type for bad desired-state input."""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting with a bad value: names the field, shows the value and says how to fix it."""

    def __init__(self, field: str, value: object, fix: str) -> None:
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(f"{field}: invalid value {value!r}: {fix}")
