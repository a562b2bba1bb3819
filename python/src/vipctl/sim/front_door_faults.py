"""Per-host faults owned by the front door (the model owns the rest, e.g. denied registry paths)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class FrontDoorFaults:
    latency_ms: int = 0  # added before every reply
    reset_after: int | None = None  # abort the connection once this many requests have been served
    http_500: bool = False  # every request answered 500 with an empty body
    http_401: bool = False  # every request answered 401 as if the credentials were wrong
    timeouts: bool = False  # every Receive ends in the OperationTimeout fault
    down: bool = False  # the listener is closed: connections are refused
    drip_bytes_per_s: int = 0  # every reply trickles out at this rate (0 = at once)
    oversize_reply_mb: int = 0  # every reply announces and streams this many MB of padding (0 = off)
    served_since_set: int = 0  # requests counted towards reset_after

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)} - {"served_since_set"}

    def update(self, values: dict[str, Any]) -> None:
        """Apply a JSON fault spec; unknown names or wrong types raise ValueError naming the field."""
        for name, value in values.items():
            if name not in self.names():
                raise ValueError(
                    f"unknown front-door fault {name!r}; known: {', '.join(sorted(self.names()))}"
                )
            if name in ("latency_ms", "reset_after", "drip_bytes_per_s", "oversize_reply_mb"):
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise ValueError(f"{name} must be a non-negative integer")
            elif not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            setattr(self, name, value)
        self.served_since_set = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
