"""The Kerberos test farm and its inventories, one per (connection, auth, scheme)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from krb_realm import REALM, spn_host
from sim_farms import load_test_farm

from vipctl.sim.front_door import SimServer

FARM_USER = "vipadmin"
FARM_PASSWORD = "Sim-Farm-Passw0rd!"  # the embedded farm's password, also the user's Kerberos password
NO_RIGHTS_USER = "norights"
NO_RIGHTS_PASSWORD = "No-Rights-Passw0rd!"
CONTROLLER = "ddc01"
DEFAULT_HOST = "vda2022-01"  # Windows defaults plus CredSSP
KERBEROS_ONLY = "vda2019-01"  # no NTLM, no Basic, no CredSSP, CbtHardeningLevel Strict


def kerberos_farm() -> Any:
    """The test farm with SPNs under farm.test; CredSSP where the tests use it; one Kerberos-only host."""
    farm = load_test_farm()
    for name, host in farm.hosts.items():
        host.winrm.spn_host = spn_host(name)
    for name in (CONTROLLER, DEFAULT_HOST):
        farm.hosts[name].winrm.credssp = True
    strict = farm.hosts[KERBEROS_ONLY].winrm
    strict.ntlm = strict.basic = strict.credssp = False
    strict.cbt_hardening_level = "strict"
    return farm


def host_vars(
    sim: SimServer,
    name: str,
    connection: str,
    auth: str,
    scheme: str = "https",
    *,
    delegate: bool = False,
    user: str = FARM_USER,
) -> dict[str, Any]:
    """One host's Ansible variables. Kerberos and Negotiate carry no password: the ticket comes from
    kinit (`KRB5CCNAME`), and the SPN names the host's farm.test name while the client dials the IP."""
    listeners = {item[2]: item for item in sim.listeners(name)}
    address, port = listeners[scheme][:2]
    ticket_auth = auth in ("kerberos", "negotiate")
    values: dict[str, Any] = {
        "ansible_connection": connection,
        "ansible_host": address,
        "ansible_port": port,
        "ansible_user": f"{user}@{REALM}" if ticket_auth else user,
        "ansible_winrm_scheme": scheme,
        "ansible_winrm_transport": auth,
        "ansible_winrm_kerberos_hostname_override": spn_host(name),
        "ansible_winrm_kerberos_delegation": delegate,
        "ansible_psrp_protocol": scheme,
        "ansible_psrp_auth": auth,
        "ansible_psrp_negotiate_hostname_override": spn_host(name),
        "ansible_psrp_negotiate_delegate": delegate,
    }
    if not ticket_auth:
        values["ansible_password"] = FARM_PASSWORD if user == FARM_USER else NO_RIGHTS_PASSWORD
    if scheme == "https":
        values |= {
            "ansible_winrm_server_cert_validation": "validate",
            "ansible_winrm_ca_trust_path": str(sim.ca_file),
            "ansible_psrp_cert_validation": "validate",
            "ansible_psrp_ca_cert": str(sim.ca_file),
        }
    return values


def write_inventory(path: Path, hosts: dict[str, dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path
