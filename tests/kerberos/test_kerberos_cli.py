"""`vipctl status --auth ...` over both connections, against the simulator as a Kerberos acceptor.

Each auth the CLI offers, on each connection the inventory can name: Kerberos and Negotiate with
the ticket from kinit (no password anywhere), message encryption over HTTP, channel binding over
HTTPS, CredSSP over HTTPS, NTLM, and Basic where Windows allows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_sim import vipctl
from krb_farm import DEFAULT_HOST, FARM_PASSWORD, host_vars, write_inventory

from vipctl.sim.front_door import SimServer

# (connection, auth, scheme): every cell the CLI must serve.
MATRIX = [
    ("winrm", "kerberos", "http"),
    ("winrm", "kerberos", "https"),
    ("winrm", "credssp", "https"),
    ("winrm", "ntlm", "http"),
    ("winrm", "ntlm", "https"),
    ("winrm", "basic", "https"),
    ("psrp", "kerberos", "http"),
    ("psrp", "kerberos", "https"),
    ("psrp", "negotiate", "http"),
    ("psrp", "negotiate", "https"),
    ("psrp", "credssp", "https"),
    ("psrp", "ntlm", "http"),
    ("psrp", "ntlm", "https"),
    ("psrp", "basic", "https"),
]


def _status(inventory: Path, *extra: str) -> tuple[int, str, str]:
    return vipctl("status", "-i", str(inventory), "--json", *extra)


@pytest.mark.parametrize(("connection", "auth", "scheme"), MATRIX)
def test_cli_status_over_each_auth(
    krb_sim: SimServer, tmp_path: Path, connection: str, auth: str, scheme: str
) -> None:
    # The inventory says NTLM; --auth overrides it for every host.
    values = host_vars(krb_sim, DEFAULT_HOST, connection, auth, scheme)
    values["ansible_winrm_transport"] = values["ansible_psrp_auth"] = "ntlm"
    inventory = write_inventory(tmp_path / "inventory.yml", {DEFAULT_HOST: values})
    before = krb_sim.counters(DEFAULT_HOST)["by_status"].get("200", 0)
    code, out, err = _status(inventory, "--auth", auth)
    assert code == 0, out + err
    document = json.loads(out)
    [host] = document["hosts"]
    assert host["host"] == DEFAULT_HOST and host["results"][0]["data"]["support"]["supported"] is True
    assert krb_sim.counters(DEFAULT_HOST)["by_status"].get("200", 0) > before
    assert FARM_PASSWORD not in out + err


def test_cli_negotiate_over_winrm_is_bad_input(krb_sim: SimServer, tmp_path: Path) -> None:
    """pywinrm has no Negotiate: refused before any host is contacted, naming the variable."""
    values = host_vars(krb_sim, DEFAULT_HOST, "winrm", "kerberos")
    inventory = write_inventory(tmp_path / "inventory.yml", {DEFAULT_HOST: values})
    before = krb_sim.counters(DEFAULT_HOST)["requests"]
    code, out, err = _status(inventory, "--auth", "negotiate")
    assert code == 3, out + err
    assert "ansible_winrm_transport" in out + err
    assert krb_sim.counters(DEFAULT_HOST)["requests"] == before


def test_cli_kerberos_without_a_ticket_fails_clearly(
    krb_sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty-ccache'}")
    values = host_vars(krb_sim, DEFAULT_HOST, "psrp", "kerberos")
    inventory = write_inventory(tmp_path / "inventory.yml", {DEFAULT_HOST: values})
    code, out = _status(inventory)[:2]
    assert code != 0
    [host] = json.loads(out)["hosts"]
    assert host["error"].startswith("AuthenticationFailed"), host
    assert "kinit" in host["error"]
