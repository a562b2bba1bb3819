"""Write the Ansible inventory (YAML) for a running simulated farm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from vipctl.sim.front_door import SimServer

CONNECTIONS = ("winrm", "psrp")


def _host_vars(sim: SimServer, name: str, connection: str) -> dict[str, Any]:
    cfg = sim.host(name).winrm
    address, port, scheme = sim.endpoint(name)
    # Over HTTPS Basic is enough (TLS protects it); over HTTP only NTLM seals the messages.
    auth = "basic" if scheme == "https" or cfg.allow_unencrypted else "ntlm"
    values: dict[str, Any] = {
        "ansible_host": address,
        "ansible_port": port,
        "ansible_user": cfg.username,
        "ansible_password": cfg.password,
        "ansible_connection": connection,
    }
    # Both plugins' variables are written, so `-e ansible_connection=psrp` switches a whole play.
    values |= {"ansible_winrm_scheme": scheme, "ansible_winrm_transport": auth}
    values |= {"ansible_psrp_protocol": scheme, "ansible_psrp_auth": auth}
    if scheme == "https":
        values |= {
            "ansible_winrm_server_cert_validation": "validate",
            "ansible_winrm_ca_trust_path": str(sim.ca_file),
            "ansible_psrp_cert_validation": "validate",
            "ansible_psrp_ca_cert": str(sim.ca_file),
        }
    elif auth == "basic":
        values |= {"ansible_winrm_message_encryption": "never", "ansible_psrp_message_encryption": "never"}
        # A simulated host set to AllowUnencrypted: vipctl sends Basic over http only when told to.
        values |= {"vipctl_allow_basic_over_http": True}
    return values


def build_inventory(sim: SimServer, connection: str = "winrm") -> dict[str, Any]:
    """Groups from `SimHost.groups`, every host listed under `all` with its connection vars."""
    if connection not in CONNECTIONS:
        raise ValueError(f"connection must be one of {', '.join(CONNECTIONS)}, not {connection!r}")
    hosts = {name: _host_vars(sim, name, connection) for name in sim.host_names}
    groups: dict[str, dict[str, Any]] = {}
    for name in sim.host_names:
        for group in sim.host(name).groups:
            groups.setdefault(group, {"hosts": {}})["hosts"][name] = None
    return {"all": {"hosts": hosts, "children": groups}}


def write_inventory(sim: SimServer, path: str | Path, connection: str = "winrm") -> Path:
    target = Path(path)
    text = yaml.safe_dump(build_inventory(sim, connection), sort_keys=False, default_flow_style=False)
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)  # it holds passwords
    return target
