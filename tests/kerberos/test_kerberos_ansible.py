"""Ansible's winrm and psrp connections with Kerberos and CredSSP, and the `ad_gpo` double hop.

`ansible -m vip_status` per (connection, auth); the Citrix policy write to an AD GPO fails with
`delegation_required` without delegated credentials and succeeds with a delegated Kerberos ticket
or with CredSSP; at -vvvv nothing of the password or the ticket appears in any output.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from krb_farm import CONTROLLER, DEFAULT_HOST, FARM_PASSWORD, host_vars, write_inventory
from krb_realm import KerberosRealm
from simfarm import Record, SimFarm

from vipctl.sim.front_door import SimServer

TOKEN = re.compile(r"(?:Negotiate|Kerberos|CredSSP)\s+[A-Za-z0-9+/]{24,}")
ADHOC = [
    ("winrm", "kerberos", "http"),
    ("winrm", "kerberos", "https"),
    ("winrm", "credssp", "https"),
    ("psrp", "kerberos", "http"),
    ("psrp", "kerberos", "https"),
    ("psrp", "credssp", "https"),
]


def _farm(sim: SimServer, tmp_path: Path, hosts: dict[str, dict[str, Any]], connection: str) -> SimFarm:
    inventory = write_inventory(tmp_path / "inventory.yml", hosts)
    return SimFarm(sim, None, inventory, tmp_path, connection)  # type: ignore[arg-type]


@pytest.mark.parametrize(("connection", "auth", "scheme"), ADHOC)
def test_ansible_vip_status(
    krb_sim: SimServer, tmp_path: Path, connection: str, auth: str, scheme: str
) -> None:
    farm = _farm(
        krb_sim,
        tmp_path,
        {DEFAULT_HOST: host_vars(krb_sim, DEFAULT_HOST, connection, auth, scheme)},
        connection,
    )
    record = farm.adhoc(DEFAULT_HOST, "vip_status")
    assert record.rc == 0, record.stdout + record.stderr
    assert record.results("vip_status")[DEFAULT_HOST]["support"]["supported"] is True


def _gpo_task(policy_name: str) -> dict[str, Any]:
    """A Citrix policy written into an AD GPO; a fresh name per call, so a write always happens."""
    return {
        "name": "gpo",
        "citrix_virtual_loopback": {
            "programs": ["crmclient.exe"],
            "scope": "ad_gpo",
            "gpo": "Citrix VDA policy",
            "policy_name": policy_name,
        },
    }


def _gpo_write(sim: SimServer, tmp_path: Path, connection: str, auth: str, delegate: bool) -> Record:
    tmp_path.mkdir(parents=True, exist_ok=True)
    values = host_vars(sim, CONTROLLER, connection, auth, "https", delegate=delegate)
    farm = _farm(sim, tmp_path, {CONTROLLER: values}, connection)
    name = f"vipctl loopback {connection} {auth} {'delegated' if delegate else 'plain'}"
    return farm.play([_gpo_task(name)], CONTROLLER, name="gpo")


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_ad_gpo_write_needs_delegation(krb_sim: SimServer, tmp_path: Path, connection: str) -> None:
    refused = _gpo_write(krb_sim, tmp_path / "plain", connection, "kerberos", delegate=False)
    assert refused.rc != 0
    result = refused.results("gpo")[CONTROLLER]
    assert result["_status"] == "failed"
    assert "delegation_required" in result["msg"] and "CredSSP" in result["msg"], result["msg"]

    delegated = _gpo_write(krb_sim, tmp_path / "delegated", connection, "kerberos", delegate=True)
    assert delegated.rc == 0, delegated.stdout + delegated.stderr
    assert delegated.results("gpo")[CONTROLLER]["_status"] in ("changed", "ok")


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_ad_gpo_write_over_credssp(krb_sim: SimServer, tmp_path: Path, connection: str) -> None:
    record = _gpo_write(krb_sim, tmp_path, connection, "credssp", delegate=False)
    assert record.rc == 0, record.stdout + record.stderr
    assert record.results("gpo")[CONTROLLER]["_status"] in ("changed", "ok")


def _ticket_material(ccache: Path) -> list[str]:
    """Pieces of the cached ticket as they could leak: base64 of 24-byte windows of the cache."""
    raw = ccache.read_bytes()
    pieces = [base64.b64encode(raw[i : i + 24]).decode() for i in range(0, len(raw) - 24, 24)]
    return [piece for piece in pieces if len(set(piece)) > 8]


@pytest.mark.parametrize(
    ("connection", "auth"),
    [("winrm", "kerberos"), ("psrp", "kerberos"), ("winrm", "credssp"), ("psrp", "credssp")],
)
def test_no_password_or_ticket_at_vvvv(
    krb_sim: SimServer, realm: KerberosRealm, ccache: Path, tmp_path: Path, connection: str, auth: str
) -> None:
    farm = _farm(
        krb_sim,
        tmp_path,
        {DEFAULT_HOST: host_vars(krb_sim, DEFAULT_HOST, connection, auth, "https")},
        connection,
    )
    record = farm.adhoc(DEFAULT_HOST, "vip_status", "", "-vvvv")
    assert record.rc == 0, record.stdout + record.stderr
    output = record.stdout + record.stderr + (tmp_path / "adhoc.jsonl").read_text(encoding="utf-8")
    assert FARM_PASSWORD not in output
    for password in realm.passwords.values():
        assert password not in output
    leaked = [piece for piece in _ticket_material(ccache) if piece in output]
    assert not leaked, leaked
    # No security token either: an Authorization header or its token would carry the ticket.
    assert not TOKEN.search(output), TOKEN.search(output)
