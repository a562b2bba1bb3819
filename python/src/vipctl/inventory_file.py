"""Read the Ansible inventories the collection uses (YAML or INI) without needing Ansible.

Supports group `hosts`/`vars`/`children`, numeric host ranges (`vda[01:20]`), and `host_vars/`
and `group_vars/` beside the inventory file. Variables merge in Ansible's order: inventory-file
group vars (shallow groups first, then `ansible_group_priority`, then name), `group_vars/all`,
`group_vars/<group>`, inventory-file host vars, `host_vars/<host>`. Jinja expressions and vault
values are not evaluated: the CLI needs only plain connection settings.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ALL = "all"
# libyaml's safe loader where PyYAML was built with it: the same documents, about nine times
# faster, which for a thousand-host inventory is two seconds of start-up.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
UNGROUPED = "ungrouped"
_RANGE = re.compile(r"^(.*?)\[(\d+):(\d+)\](.*)$")
_VAR_SUFFIXES = ("", ".yml", ".yaml", ".json")


class InventoryError(ValueError):
    """The inventory cannot be read; the message names the file and what is wrong."""


@dataclass
class _Group:
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Inventory:
    """Hosts in inventory order with their merged variables, and every group's transitive members."""

    hosts: dict[str, dict[str, Any]]
    groups: dict[str, list[str]]

    def groups_of(self, host: str) -> list[str]:
        return sorted(g for g, members in self.groups.items() if host in members and g != ALL)

    def select(self, limit: str | None) -> list[str]:
        """Hosts matching an Ansible-style pattern: `a,b` or `a:b` union, `&g` and, `!g` not, `*` glob."""
        if not limit:
            return list(self.hosts)
        chosen: set[str] = set()
        parts = [p.strip() for p in re.split(r"[,:]", limit) if p.strip()]
        unions = [p for p in parts if p[0] not in "!&"]
        for part in unions:
            chosen |= self._match(part, limit)
        if not unions:
            chosen = set(self.hosts)
        for part in parts:
            if part.startswith("&"):
                chosen &= self._match(part[1:], limit)
            elif part.startswith("!"):
                chosen -= self._match(part[1:], limit)
        return [h for h in self.hosts if h in chosen]

    def _match(self, pattern: str, limit: str) -> set[str]:
        if pattern in self.groups:
            return set(self.groups[pattern])
        if pattern in self.hosts:
            return {pattern}
        found = {h for h in self.hosts if fnmatch.fnmatchcase(h, pattern)}
        for group, members in self.groups.items():
            if fnmatch.fnmatchcase(group, pattern):
                found |= set(members)
        if not found:
            raise InventoryError(f"--limit {limit!r}: {pattern!r} matches no host or group")
        return found


def expand_hosts(pattern: str) -> list[str]:
    """`vda[01:03]` -> vda01, vda02, vda03 (zero padding kept, as Ansible does)."""
    match = _RANGE.match(pattern)
    if not match:
        return [pattern]
    head, start, end, tail = match.groups()
    width = len(start) if start.startswith("0") else 0
    return [
        name
        for n in range(int(start), int(end) + 1)
        for name in expand_hosts(f"{head}{str(n).zfill(width)}{tail}")
    ]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryError(f"{where} must be a mapping, not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.groups: dict[str, _Group] = {ALL: _Group(ALL)}
        self.host_vars: dict[str, dict[str, Any]] = {}

    def group(self, name: str) -> _Group:
        return self.groups.setdefault(name, _Group(name))

    def add_host(self, group: str, host: str, values: dict[str, Any]) -> None:
        self.host_vars.setdefault(host, {}).update(values)
        members = self.group(group).hosts
        if host not in members:
            members.append(host)

    def add_child(self, parent: str, child: str) -> None:
        self.group(child)
        if child not in self.group(parent).children:
            self.group(parent).children.append(child)

    # -- YAML ----------------------------------------------------------------------------------

    def yaml_group(self, name: str, body: Any) -> None:
        where = f"{self.source}: group {name!r}"
        spec = _mapping(body, where)
        unknown = set(spec) - {"hosts", "vars", "children"}
        if unknown:
            raise InventoryError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use hosts, vars, children"
            )
        group = self.group(name)
        group.vars.update(_mapping(spec.get("vars"), f"{where} vars"))
        for pattern, values in _mapping(spec.get("hosts"), f"{where} hosts").items():
            for host in expand_hosts(pattern):
                self.add_host(name, host, _mapping(values, f"{where} host {host!r}"))
        for child, child_body in _mapping(spec.get("children"), f"{where} children").items():
            self.add_child(name, child)
            self.yaml_group(child, child_body)

    # -- INI -----------------------------------------------------------------------------------

    def ini(self, text: str) -> None:
        section, kind = UNGROUPED, "hosts"
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            where = f"{self.source}:{number}"
            if line.startswith("["):
                if not line.endswith("]"):
                    raise InventoryError(f"{where}: unclosed section header {line!r}")
                section, _, kind = line[1:-1].partition(":")
                kind = kind or "hosts"
                if kind not in ("hosts", "vars", "children"):
                    raise InventoryError(f"{where}: unknown section kind {kind!r}; use :vars or :children")
                self.group(section)
                continue
            if kind == "children":
                self.add_child(section, line.split()[0])
            elif kind == "vars":
                key, sep, value = line.partition("=")
                if not sep:
                    raise InventoryError(f"{where}: expected key=value in [{section}:vars]")
                # Ansible keeps [group:vars] values as strings.
                self.group(section).vars[key.strip()] = value.strip()
            else:
                self._ini_host(section, line, where)

    def _ini_host(self, group: str, line: str, where: str) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise InventoryError(f"{where}: {exc}") from None
        values: dict[str, Any] = {}
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            if not sep:
                raise InventoryError(f"{where}: expected key=value after the host name, got {token!r}")
            values[key] = _ini_literal(value)
        for host in expand_hosts(tokens[0]):
            self.add_host(group, host, values)


def _ini_literal(value: str) -> Any:
    # Host-line values are Python literals when they parse as one (Ansible's rule), else strings.
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _vars_file(directory: Path, name: str) -> dict[str, Any]:
    """`<dir>/<name>[.yml|.yaml|.json]` or every file in `<dir>/<name>/`, merged in name order."""
    merged: dict[str, Any] = {}
    files: list[Path] = [directory / f"{name}{suffix}" for suffix in _VAR_SUFFIXES]
    folder = directory / name
    if folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.suffix in _VAR_SUFFIXES)
    for path in files:
        if path.is_file():
            try:
                document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
                merged.update(_mapping(document, str(path)))
            except yaml.YAMLError as exc:
                raise InventoryError(f"{path}: not valid YAML: {exc}") from None
            except UnicodeDecodeError as exc:
                raise InventoryError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    return merged


def _depths(groups: dict[str, _Group]) -> dict[str, int]:
    depth = {ALL: 0}

    def visit(name: str, level: int, path: tuple[str, ...]) -> None:
        if name in path:
            raise InventoryError(f"group {name!r} is its own descendant ({' > '.join((*path, name))})")
        depth[name] = max(depth.get(name, 0), level)
        for child in groups[name].children:
            visit(child, level + 1, (*path, name))

    for name in groups:
        if name != ALL:
            visit(name, 1, ())
    return depth


def _members(groups: dict[str, _Group], name: str) -> Iterator[str]:
    yield from groups[name].hosts
    for child in groups[name].children:
        yield from _members(groups, child)


def _finish(builder: _Builder, base: Path) -> Inventory:
    groups = builder.groups
    depth = _depths(groups)
    order = sorted(groups, key=lambda g: (depth[g], int(groups[g].vars.get("ansible_group_priority", 1)), g))
    hosts_in_order = list(builder.host_vars)
    membership = {g: list(dict.fromkeys(_members(groups, g))) for g in groups}
    membership[ALL] = hosts_in_order
    group_dir_vars = {g: _vars_file(base / "group_vars", g) for g in groups}
    merged: dict[str, dict[str, Any]] = {}
    for host in hosts_in_order:
        mine = [g for g in order if host in membership[g]]
        values: dict[str, Any] = {}
        for g in mine:
            values.update(groups[g].vars)
        values.update(group_dir_vars[ALL])
        for g in mine:
            if g != ALL:
                values.update(group_dir_vars[g])
        values.update(builder.host_vars[host])
        values.update(_vars_file(base / "host_vars", host))
        merged[host] = values
    return Inventory(hosts=merged, groups=membership)


def load_inventory(path: str | Path) -> Inventory:
    """Parse a YAML or INI inventory file (YAML when it parses as a mapping, else INI)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"cannot read inventory {source}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InventoryError(f"{source}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except ValueError:
        # A path holding NUL or a lone surrogate names no file the system can open.
        raise InventoryError(f"cannot read inventory {str(source)!r}: not a usable file name") from None
    builder = _Builder(str(source))
    data: Any = None
    if source.suffix.lower() not in (".ini", ".cfg"):
        try:
            data = yaml.load(text, Loader=SAFE_LOADER)
        except yaml.YAMLError:
            data = None
    if isinstance(data, dict):
        for name, body in data.items():
            if str(name) != ALL:
                builder.add_child(ALL, str(name))
            builder.yaml_group(str(name), body)
    else:
        builder.ini(text)
    if not builder.host_vars:
        raise InventoryError(f"{source}: the inventory lists no hosts")
    return _finish(builder, source.parent)
