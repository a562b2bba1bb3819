"""Farm files: a YAML description of simulated hosts, validated with errors naming host and field.

```yaml
version: 1
defaults: {winrm: {username: vipadmin, password: ...}, reboot_seconds: 0.2}
apps:
  crm: {exe: crmclient.exe, path: 'C:\\...', binds: [{protocol: tcp, address: 127.0.0.1, port: 9000}]}
services: [system, rpcss]            # session-0 programs every host runs (names from `apps`)
hosts:
  vda01: {image: server2019, address: 127.0.10.11, ip: 10.0.0.21, groups: [rdsh], roles: [RDS-RD-Server],
          vip_pool: {start: 10.0.1.10, size: 16}, citrix_vda: {version: ..., controllers: [ddc01]},
          users: [{name: alice, apps: [crm]}, {name: ops, admin: true}]}
```
Each host listens on its own loopback address; see the embedded `farms/default.yml`.

Per-host authentication lives under `winrm` (defaults as Windows ships them, except Basic):
`basic`, `ntlm`, `kerberos` (needs `HTTP/<spn_host>` in the keytab named by `KRB5_KTNAME`),
`credssp`, `allow_unencrypted`, `cbt_hardening_level` (none/relaxed/strict) and `spn_host`, e.g.
`winrm: {ntlm: false, basic: false, spn_host: vda01.corp.test, cbt_hardening_level: strict}` for a
Kerberos-only host."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vipctl.sim.errors import FarmFileError
from vipctl.sim.model.errors import ModelError
from vipctl.sim.model.host import LANGUAGE_MODES, SimHost
from vipctl.sim.model.hostspec import HostSpec, UserSpec, VdaSpec, WinRMEndpoint
from vipctl.sim.model.network import Adapter
from vipctl.sim.model.os_images import IMAGES
from vipctl.sim.model.processes import PROTOCOLS, AppSpec, BindSpec
from vipctl.sim.model.regvalue import RegValue

HOST_FIELDS = frozenset(
    {
        "image",
        "address",
        "ip",
        "mac",
        "prefix",
        "groups",
        "roles",
        "computer_name",
        "winrm",
        "vip_pool",
        "services",
        "users",
        "citrix_vda",
        "citrix_controller",
        "registry",
        "tsvip",
        "citrix_policies",
        "domain_gpos",
        "gpo_needs_delegation",
        "language_mode",
    }
)
WINRM_FIELDS = frozenset(
    {
        "username",
        "password",
        "http_port",
        "https_port",
        "allow_unencrypted",
        "basic",
        "ntlm",
        "kerberos",
        "credssp",
        "cbt_hardening_level",
        "spn_host",
    }
)
CBT_LEVELS = ("none", "relaxed", "strict")


@dataclass
class Farm:
    hosts: dict[str, SimHost] = field(default_factory=dict)

    @property
    def controllers(self) -> list[str]:
        return [name for name, host in self.hosts.items() if host.citrix_store is not None]

    def lookup(self, name: str) -> SimHost | None:
        """A host by inventory name or computer name, case-insensitively (how VDAs find their DDC)."""
        wanted = name.lower().split(".")[0]
        for host_name, host in self.hosts.items():
            if wanted in (host_name.lower(), host.computer_name.lower()):
                return host
        return None

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, host in self.hosts.items():
            for group in host.groups:
                out.setdefault(group, []).append(name)
        return out


class _Reader:
    """Typed access to one mapping of the farm file, raising FarmFileError with host and field."""

    def __init__(self, data: object, host: str | None, where: str = "") -> None:
        if not isinstance(data, dict):
            raise FarmFileError("must be a mapping", host, where or None)
        self.data, self.host, self.where = data, host, where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> FarmFileError:
        return FarmFileError(message, self.host, self._name(key))

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False
    ) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind in (int, float):
            raise self.fail(key, f"must be {getattr(kind, '__name__', kind)}, got a boolean")
        if not isinstance(value, kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.fail(key, f"must be {names}, got {type(value).__name__} {value!r}")
        return value

    def only(self, allowed: frozenset[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"unknown field; allowed: {', '.join(sorted(allowed))}")


def _apps(data: object) -> dict[str, AppSpec]:
    apps: dict[str, AppSpec] = {}
    for name, raw in _Reader(data, None, "apps").data.items():
        app = _Reader(raw, None, f"apps.{name}")
        app.only(frozenset({"exe", "path", "binds"}))
        binds = []
        for i, raw_bind in enumerate(app.get("binds", list, [])):
            bind = _Reader(raw_bind, None, f"apps.{name}.binds[{i}]")
            protocol = bind.get("protocol", str, required=True)
            if protocol not in PROTOCOLS:
                raise bind.fail("protocol", "must be tcp or udp")
            bind.only(frozenset({"protocol", "address", "port", "remote_address", "remote_port"}))
            address = bind.get("address", str, required=True)
            if address != "server":
                try:
                    ipaddress.ip_address(address)
                except ValueError:
                    raise bind.fail("address", "must be an IPv4 or IPv6 address or 'server'") from None
            port = bind.get("port", int, required=True)
            if not 0 < port < 65536:
                raise bind.fail("port", "must be between 1 and 65535")
            # A TCP socket connected to a peer (an Established row) names the peer.
            remote = bind.get("remote_address", str)
            remote_port = bind.get("remote_port", int)
            if (remote is None) != (remote_port is None) or (remote is not None and protocol != "tcp"):
                raise bind.fail(
                    "remote_address", "a connected tcp bind needs both remote_address and remote_port"
                )
            if remote is not None:
                try:
                    ipaddress.ip_address(remote)
                except ValueError:
                    raise bind.fail("remote_address", "must be an IPv4 or IPv6 address") from None
            binds.append(BindSpec(protocol, address, port, remote, remote_port))
        apps[str(name)] = AppSpec(app.get("exe", str, required=True), app.get("path", str), tuple(binds))
    return apps


def _app_list(reader: _Reader, key: str, apps: dict[str, AppSpec]) -> list[AppSpec]:
    names = reader.get(key, list, [])
    missing = [n for n in names if n not in apps]
    if missing:
        raise reader.fail(key, f"unknown app {missing[0]!r}; define it under the top-level 'apps'")
    return [apps[n] for n in names]


def _registry(reader: _Reader) -> dict[str, dict[str, RegValue] | None]:
    out: dict[str, dict[str, RegValue] | None] = {}
    for path, values in reader.get("registry", dict, {}).items():
        if values is None:
            out[path] = None
            continue
        key = _Reader(values, reader.host, f"registry.{path}")
        typed: dict[str, RegValue] = {}
        for name, raw in key.data.items():
            val = _Reader(raw, reader.host, f"registry.{path}.{name}")
            try:
                typed[str(name)] = RegValue.from_json(
                    val.get("type", str, required=True), val.data.get("value")
                )
            except ModelError as exc:
                raise val.fail("value", exc.message) from None
        out[path] = typed
    return out


def _language_mode(host: _Reader) -> str:
    mode = host.get("language_mode", str, "FullLanguage")
    if mode not in LANGUAGE_MODES:
        raise host.fail("language_mode", f"must be one of {', '.join(LANGUAGE_MODES)}, got {mode!r}")
    return str(mode)


def _host(
    name: str, data: object, defaults: _Reader, apps: dict[str, AppSpec], services: list[AppSpec]
) -> HostSpec:
    host = _Reader(data, name)
    host.only(HOST_FIELDS)
    image = host.get("image", str, required=True)
    if image not in IMAGES:
        raise host.fail("image", f"unknown image {image!r}; known: {', '.join(IMAGES)}")
    address = host.get("address", str, required=True)
    try:
        loopback = ipaddress.IPv4Address(address).is_loopback
    except ValueError:
        raise host.fail("address", f"not an IPv4 address: {address!r}") from None
    if not loopback:
        raise host.fail("address", "must be a 127.x.y.z loopback address")
    winrm_raw = {**defaults.get("winrm", dict, {}), **host.get("winrm", dict, {})}
    winrm = _Reader(winrm_raw, name, "winrm")
    winrm.only(WINRM_FIELDS)
    endpoint = WinRMEndpoint(
        address=address,
        username=winrm.get("username", str, required=True),
        password=winrm.get("password", str, required=True),
        http_port=winrm.get("http_port", int, 5985),
        https_port=winrm.get("https_port", int, 5986),
        allow_unencrypted=winrm.get("allow_unencrypted", bool, False),
        basic=winrm.get("basic", bool, True),
        ntlm=winrm.get("ntlm", bool, True),
        kerberos=winrm.get("kerberos", bool, True),
        credssp=winrm.get("credssp", bool, False),
        cbt_hardening_level=winrm.get("cbt_hardening_level", str, "relaxed").lower(),
        spn_host=winrm.get("spn_host", str, "").lower(),
    )
    if endpoint.cbt_hardening_level not in CBT_LEVELS:
        raise winrm.fail("cbt_hardening_level", f"must be one of {', '.join(CBT_LEVELS)}")
    octets = ipaddress.IPv4Address(address).packed
    mac = host.get("mac", str, "00:15:5D:" + ":".join(f"{b:02X}" for b in octets[1:]))
    ip = host.get("ip", str, required=True)
    pool = host.get("vip_pool", dict)
    pool_reader = _Reader(pool, name, "vip_pool") if pool is not None else None
    vda_raw = host.get("citrix_vda", dict)
    vda = None
    if vda_raw is not None:
        vda_reader = _Reader(vda_raw, name, "citrix_vda")
        vda_reader.only(frozenset({"version", "controllers", "delivery_group"}))
        vda = VdaSpec(
            vda_reader.get("version", str, required=True),
            [str(c) for c in vda_reader.get("controllers", list, required=True)],
            vda_reader.get("delivery_group", str),
        )
    users = []
    for i, raw_user in enumerate(host.get("users", list, [])):
        user = _Reader(raw_user, name, f"users[{i}]")
        user.only(frozenset({"name", "apps", "admin"}))
        users.append(
            UserSpec(
                user.get("name", str, required=True),
                _app_list(user, "apps", apps),
                user.get("admin", bool, False),
            )
        )
    policies = []
    for i, raw_policy in enumerate(host.get("citrix_policies", list, [])):
        policy = _Reader(raw_policy, name, f"citrix_policies[{i}]")
        spec = {k: v for k, v in policy.data.items() if k not in ("name", "scope", "gpo")}
        policies.append(
            (
                policy.get("scope", str, "site"),
                policy.get("gpo", str),
                policy.get("name", str, required=True),
                spec,
            )
        )
    return HostSpec(
        name=name,
        image=image,
        winrm=endpoint,
        adapter=Adapter("Ethernet", mac, ip, host.get("prefix", int, 24)),
        groups=[str(g) for g in host.get("groups", list, [])],
        roles=[str(r) for r in host.get("roles", list, [])],
        computer_name=host.get("computer_name", str),
        vip_pool_start=None if pool_reader is None else pool_reader.get("start", str, required=True),
        vip_pool_size=0 if pool_reader is None else pool_reader.get("size", int, required=True),
        services=services + _app_list(host, "services", apps),
        users=users,
        citrix_vda=vda,
        citrix_controller=host.get("citrix_controller", bool, False),
        registry=_registry(host),
        tsvip=host.get("tsvip", dict, {}),
        citrix_policies=policies,
        domain_gpos=[str(g) for g in host.get("domain_gpos", list, [])],
        gpo_needs_delegation=host.get("gpo_needs_delegation", bool, True),
        language_mode=_language_mode(host),
        reboot_seconds=defaults.get("reboot_seconds", (int, float), 0.2),
    )


def build_farm(specs: list[HostSpec]) -> Farm:
    """SimHosts from specs; controllers first, so that VDAs boot with their policy applied."""
    farm = Farm()
    built: dict[str, SimHost] = {}
    for spec in sorted(specs, key=lambda s: not s.citrix_controller):
        farm.hosts = built
        built[spec.name] = SimHost(spec, farm.lookup)
    farm.hosts = {spec.name: built[spec.name] for spec in specs}
    return farm


def parse_farm(data: object) -> list[HostSpec]:
    top = _Reader(data, None)
    top.only(frozenset({"version", "defaults", "apps", "services", "hosts"}))
    if top.get("version", int, 1) != 1:
        raise top.fail("version", "only version 1 is supported")
    defaults = _Reader(top.get("defaults", dict, {}), None, "defaults")
    defaults.only(frozenset({"winrm", "reboot_seconds"}))
    apps = _apps(top.get("apps", dict, {}))
    services = _app_list(top, "services", apps)
    hosts = top.get("hosts", dict, required=True)
    specs = [_host(str(name), raw, defaults, apps, services) for name, raw in hosts.items()]
    _check_farm(specs)
    return specs


def _check_farm(specs: list[HostSpec]) -> None:
    seen: dict[tuple[str, int], str] = {}
    names = {s.name.lower() for s in specs}
    for spec in specs:
        for port in (spec.winrm.http_port, spec.winrm.https_port):
            other = seen.setdefault((spec.winrm.address, port), spec.name)
            if other != spec.name:
                raise FarmFileError(
                    f"{spec.winrm.address}:{port} is already used by host {other!r}", spec.name, "address"
                )
        if spec.citrix_vda is not None:
            for controller in spec.citrix_vda.controllers:
                if controller.lower().split(".")[0] not in names:
                    raise FarmFileError(
                        f"controller {controller!r} is not a host in this farm",
                        spec.name,
                        "citrix_vda.controllers",
                    )


def load_farm(path: str | Path | None = None) -> Farm:
    """Load a farm file; None loads the embedded default farm."""
    if path is None:
        text = resources.files("vipctl.sim").joinpath("farms/default.yml").read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise FarmFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FarmFileError(f"not valid YAML: {exc}") from exc
    return build_farm(parse_farm(data))


_SCALED_IMAGES = ("server2016", "server2019", "server2022")


def scaled_farm(n_hosts: int) -> Farm:
    """A synthetic farm: one controller and n_hosts - 1 VDAs with the default farm's app mix."""
    if n_hosts < 1:
        raise ValueError("a farm needs at least one host")
    base = parse_farm(
        yaml.safe_load(resources.files("vipctl.sim").joinpath("farms/default.yml").read_text("utf-8"))
    )
    controller = next(s for s in base if s.citrix_controller)
    template = next(s for s in base if s.citrix_vda is not None and s.image == "server2019")
    specs: list[HostSpec] = []
    first = int(ipaddress.IPv4Address("127.0.20.1"))
    for i in range(n_hosts):
        source = controller if i == 0 else template
        address = str(ipaddress.IPv4Address(first + i + (i // 250) * 6))  # stay clear of .0 and .255
        name = "ddc01" if i == 0 else f"vda{i:04d}"
        mac = "00:15:5D:" + ":".join(f"{b:02X}" for b in ipaddress.IPv4Address(address).packed[1:])
        specs.append(
            HostSpec(
                name=name,
                image=source.image if i == 0 else _SCALED_IMAGES[i % 3],
                winrm=WinRMEndpoint(address, source.winrm.username, source.winrm.password),
                adapter=Adapter(
                    "Ethernet",
                    mac,
                    str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.1.0.0")) + i + 1)),
                    16,
                ),
                groups=list(source.groups),
                roles=list(source.roles),
                vip_pool_start=None
                if i == 0
                else str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.2.0.0")) + i * 16)),
                vip_pool_size=0 if i == 0 else 16,
                services=list(source.services),
                users=list(source.users),
                citrix_vda=None
                if i == 0
                else VdaSpec(
                    template.citrix_vda.version if template.citrix_vda else "",
                    ["ddc01"],
                    template.citrix_vda.delivery_group if template.citrix_vda else None,
                ),
                citrix_controller=i == 0,
                citrix_policies=list(source.citrix_policies),
                reboot_seconds=source.reboot_seconds,
            )
        )
    return build_farm(specs)
