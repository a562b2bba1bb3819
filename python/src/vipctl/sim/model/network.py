"""A host's network adapter and the DHCP scope its virtual IPs are leased from."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Adapter:
    name: str
    mac: str  # as Win32_NetworkAdapter.MACAddress shows it: "00:15:5D:0A:00:0C"
    ip: str
    prefix: int

    def in_cidr(self, cidr: str) -> bool:
        try:
            return ipaddress.IPv4Address(self.ip) in ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            return False


@dataclass
class LeasePool:
    """The DHCP scope for RD IP Virtualization: first free address wins, released on logoff."""

    addresses: list[str] = field(default_factory=list)
    leased: dict[str, str] = field(default_factory=dict)  # address -> owner ("session 3")

    @classmethod
    def from_range(cls, start: str, size: int) -> LeasePool:
        first = int(ipaddress.IPv4Address(start))
        return cls([str(ipaddress.IPv4Address(first + i)) for i in range(size)])

    def lease(self, owner: str) -> str | None:
        for address in self.addresses:
            if address not in self.leased:
                self.leased[address] = owner
                return address
        return None

    def release(self, address: str | None) -> None:
        if address is not None:
            self.leased.pop(address, None)

    def release_all(self) -> None:
        self.leased.clear()
