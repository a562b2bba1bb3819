"""Operating-system images a simulated host boots from.

Facts: docs/windows-facts.md#supported-operating-systems,
docs/windows-facts.md#the-winsock-catalog-entry-that-stops-rd-ip-virtualization and
docs/windows-facts.md#identifying-the-operating-system.

An image fills `HKLM\\...\\CurrentVersion` as Windows does and carries what `Win32_OperatingSystem`
reports (SKU, ProductType). Server 2019 and 2022 ship the Winsock AppId catalog entry that breaks
RD IP Virtualization (KB 4501072); the other images do not have it."""

from __future__ import annotations

from dataclasses import dataclass

from vipctl import registry_map
from vipctl.sim.model.registry import Registry
from vipctl.sim.model.regvalue import RegValue

# Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server.
WORKSTATION, DOMAIN_CONTROLLER, SERVER = 1, 2, 3


@dataclass(frozen=True)
class OsImage:
    key: str
    product_name: str
    edition_id: str
    installation_type: str
    build: int
    ubr: int
    display_version: str
    product_type: int
    sku: int
    winsock_appid: bool
    server_roles: bool = True  # Install-WindowsFeature exists (server OS and multi-session alike)

    def current_version_values(self) -> dict[str, RegValue]:
        values = {
            "ProductName": RegValue("REG_SZ", self.product_name),
            "EditionID": RegValue("REG_SZ", self.edition_id),
            "InstallationType": RegValue("REG_SZ", self.installation_type),
            "CurrentBuild": RegValue("REG_SZ", str(self.build)),
            "CurrentBuildNumber": RegValue("REG_SZ", str(self.build)),
            "CurrentVersion": RegValue("REG_SZ", "6.3"),
            "UBR": RegValue("REG_DWORD", self.ubr),
            "SystemRoot": RegValue("REG_SZ", r"C:\Windows"),
        }
        if self.build >= 10240:
            values["CurrentMajorVersionNumber"] = RegValue("REG_DWORD", 10)
            values["CurrentMinorVersionNumber"] = RegValue("REG_DWORD", 0)
        if self.display_version:
            values["DisplayVersion"] = RegValue("REG_SZ", self.display_version)
        return values

    def install(self, registry: Registry) -> None:
        for name, value in self.current_version_values().items():
            registry.set_value(registry_map.OS_VERSION_KEY, name, value)
        if self.winsock_appid:
            registry.set_value(
                registry_map.WINSOCK_FIX_KEY,
                "AppFullPath",
                RegValue("REG_SZ", r"C:\Windows\System32\svchost.exe"),
            )
            registry.set_value(
                registry_map.WINSOCK_FIX_KEY, "PermittedLspCategories", RegValue("REG_DWORD", 0x40000000)
            )


IMAGES: dict[str, OsImage] = {
    image.key: image
    for image in (
        OsImage(
            "server2012r2",
            "Windows Server 2012 R2 Datacenter",
            "ServerDatacenter",
            "Server",
            9600,
            21620,
            "",
            SERVER,
            8,
            False,
        ),
        OsImage(
            "server2016",
            "Windows Server 2016 Standard",
            "ServerStandard",
            "Server",
            14393,
            7428,
            "",
            SERVER,
            7,
            False,
        ),
        OsImage(
            "server2019",
            "Windows Server 2019 Datacenter",
            "ServerDatacenter",
            "Server",
            17763,
            6532,
            "",
            SERVER,
            8,
            True,
        ),
        OsImage(
            "server2022",
            "Windows Server 2022 Datacenter",
            "ServerDatacenter",
            "Server",
            20348,
            2849,
            "21H2",
            SERVER,
            8,
            True,
        ),
        OsImage(
            "server2025",
            "Windows Server 2025 Datacenter",
            "ServerDatacenter",
            "Server",
            26100,
            2314,
            "24H2",
            SERVER,
            8,
            False,
        ),
        # Multi-session reports ProductType 3 like a server: detection must check EditionID/SKU first.
        OsImage(
            "win10_ems",
            "Windows 10 Enterprise multi-session",
            "ServerRdsh",
            "Client",
            19045,
            5131,
            "22H2",
            SERVER,
            175,
            False,
        ),
        # Windows 11 multi-session still says "Windows 10" in ProductName; the build tells them apart.
        OsImage(
            "win11_ems",
            "Windows 10 Enterprise multi-session",
            "ServerRdsh",
            "Client",
            22631,
            4460,
            "23H2",
            SERVER,
            175,
            False,
        ),
        OsImage(
            "win10_pro",
            "Windows 10 Pro",
            "Professional",
            "Client",
            19045,
            5131,
            "22H2",
            WORKSTATION,
            48,
            False,
            server_roles=False,
        ),
        OsImage(
            "server2022_dc",
            "Windows Server 2022 Standard",
            "ServerStandard",
            "Server",
            20348,
            2849,
            "21H2",
            DOMAIN_CONTROLLER,
            7,
            True,
        ),
    )
}


def get_image(key: str) -> OsImage:
    try:
        return IMAGES[key]
    except KeyError:
        raise KeyError(f"unknown OS image {key!r}; known: {', '.join(IMAGES)}") from None
