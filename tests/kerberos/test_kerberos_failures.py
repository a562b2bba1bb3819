"""Each Kerberos failure the simulator produces, answered as Windows answers it (HTTP 401), and the
security rules: Basic over HTTP refused, NTLM refused on a Kerberos-only host, channel binding."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import time
from pathlib import Path

import pytest
import requests
import spnego
from cli_sim import vipctl
from krb_farm import DEFAULT_HOST, KERBEROS_ONLY, NO_RIGHTS_USER, host_vars, write_inventory
from krb_realm import KerberosRealm, spn_host
from spnego.channel_bindings import GssChannelBindings

from vipctl.sim.front_door import SimServer


def _status(
    sim: SimServer, tmp_path: Path, host: str, values: dict[str, object]
) -> tuple[int, dict[str, object]]:
    inventory = write_inventory(tmp_path / "inventory.yml", {host: values})
    code, out = vipctl("status", "-i", str(inventory), "--json")[:2]
    [record] = json.loads(out)["hosts"]
    return code, record


def _refusals(sim: SimServer, host: str) -> int:
    return int(sim.counters(host)["by_status"].get("401", 0))


def _assert_refused(sim: SimServer, tmp_path: Path, host: str, values: dict[str, object]) -> str:
    before = _refusals(sim, host)
    code, record = _status(sim, tmp_path, host, values)
    assert code != 0, record
    assert str(record["error"]).startswith("AuthenticationFailed"), record
    assert _refusals(sim, host) > before
    return str(record["error"])


def _token(ccache: Path, host: str, bindings: GssChannelBindings | None = None) -> str:
    """A Kerberos AP-REQ for HTTP/<host> made from `ccache`, as the Authorization header value."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KRB5CCNAME", f"FILE:{ccache}")
        context = spnego.client(
            hostname=spn_host(host), service="HTTP", protocol="kerberos", channel_bindings=bindings
        )
        token = context.step()
    assert token
    return "Negotiate " + base64.b64encode(token).decode()


def _post(sim: SimServer, host: str, scheme: str, authorization: str) -> requests.Response:
    address, port = {item[2]: item for item in sim.listeners(host)}[scheme][:2]
    return requests.post(
        f"{scheme}://{address}:{port}/wsman",
        headers={"Authorization": authorization, "Content-Length": "0"},
        verify=str(sim.ca_file),
        timeout=10,
    )


# -- the three Kerberos failures -------------------------------------------------------------


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_ticket_for_the_wrong_spn_is_refused(krb_sim: SimServer, tmp_path: Path, connection: str) -> None:
    values = host_vars(krb_sim, DEFAULT_HOST, connection, "kerberos", "http")
    # A valid ticket, but for another host's service: Windows cannot decrypt it.
    values["ansible_winrm_kerberos_hostname_override"] = spn_host("vda2016-01")
    values["ansible_psrp_negotiate_hostname_override"] = spn_host("vda2016-01")
    _assert_refused(krb_sim, tmp_path, DEFAULT_HOST, values)


def test_expired_ticket_is_refused(
    krb_sim: SimServer, realm: KerberosRealm, ccache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = tmp_path / "short-ccache"
    realm.kinit("vipadmin", short, "-l", "3s")
    made_in_time = _token(short, DEFAULT_HOST)
    assert _post(krb_sim, DEFAULT_HOST, "http", _token(ccache, DEFAULT_HOST)).status_code == 200
    time.sleep(6.5)  # the 3 s ticket plus the realm's 2 s clock skew allowance, and a margin
    expired = _post(krb_sim, DEFAULT_HOST, "http", made_in_time)
    assert expired.status_code == 401
    assert "Negotiate" in expired.headers.get("WWW-Authenticate", "")

    # The client with only the expired ticket in its cache fails before sending, and says what to do.
    values = host_vars(krb_sim, DEFAULT_HOST, "psrp", "kerberos", "http")
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{short}")
    code, record = _status(krb_sim, tmp_path, DEFAULT_HOST, values)
    assert code != 0 and "kinit" in str(record["error"]), record


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_user_without_rights_is_refused(
    krb_sim: SimServer, realm: KerberosRealm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connection: str
) -> None:
    ccache = tmp_path / "norights-ccache"
    realm.kinit(NO_RIGHTS_USER, ccache)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    values = host_vars(krb_sim, DEFAULT_HOST, connection, "kerberos", "https", user=NO_RIGHTS_USER)
    _assert_refused(krb_sim, tmp_path, DEFAULT_HOST, values)


# -- security rules --------------------------------------------------------------------------


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_ntlm_refused_on_a_kerberos_only_host(krb_sim: SimServer, tmp_path: Path, connection: str) -> None:
    values = host_vars(krb_sim, KERBEROS_ONLY, connection, "ntlm", "http")
    _assert_refused(krb_sim, tmp_path, KERBEROS_ONLY, values)
    # The same host takes Kerberos.
    code, record = _status(
        krb_sim, tmp_path, KERBEROS_ONLY, host_vars(krb_sim, KERBEROS_ONLY, connection, "kerberos", "http")
    )
    assert code == 0, record


def test_negotiate_falling_back_to_ntlm_is_refused_on_a_kerberos_only_host(
    krb_sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'no-ticket'}")
    values = host_vars(krb_sim, KERBEROS_ONLY, "psrp", "negotiate", "http")
    values["ansible_user"] = "vipadmin"
    values["ansible_password"] = "Sim-Farm-Passw0rd!"
    values["ansible_psrp_negotiate_hostname_override"] = "no-such-host.farm.test"  # no ticket to get
    _assert_refused(krb_sim, tmp_path, KERBEROS_ONLY, values)


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_basic_over_http_is_refused(krb_sim: SimServer, tmp_path: Path, connection: str) -> None:
    values = host_vars(krb_sim, DEFAULT_HOST, connection, "basic", "http")
    values["ansible_winrm_message_encryption"] = values["ansible_psrp_message_encryption"] = "never"
    # vipctl itself refuses to send Basic over HTTP (exit 3, the host never asked) ...
    before = krb_sim.counters(DEFAULT_HOST)["requests"]
    inventory = write_inventory(tmp_path / "refused.yml", {DEFAULT_HOST: values})
    assert vipctl("status", "-i", str(inventory), "--json")[0] == 3
    assert krb_sim.counters(DEFAULT_HOST)["requests"] == before
    # ... and a host that does not allow it refuses it too, when a user opts in regardless.
    values["vipctl_allow_basic_over_http"] = True
    _assert_refused(krb_sim, tmp_path, DEFAULT_HOST, values)


def test_credssp_refused_where_not_enabled(krb_sim: SimServer, tmp_path: Path) -> None:
    _assert_refused(
        krb_sim, tmp_path, KERBEROS_ONLY, host_vars(krb_sim, KERBEROS_ONLY, "psrp", "credssp", "https")
    )


# -- channel binding on HTTPS ----------------------------------------------------------------


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_strict_channel_binding_needs_the_token(krb_sim: SimServer, tmp_path: Path, connection: str) -> None:
    values = host_vars(krb_sim, KERBEROS_ONLY, connection, "kerberos", "https")
    code, record = _status(krb_sim, tmp_path, KERBEROS_ONLY, values)
    assert code == 0, record  # both clients bind by default
    values["ansible_winrm_send_cbt"] = values["ansible_psrp_negotiate_send_cbt"] = False
    _assert_refused(krb_sim, tmp_path, KERBEROS_ONLY, values)
    # Relaxed (the Windows default) takes the same client without a binding.
    relaxed = host_vars(krb_sim, DEFAULT_HOST, connection, "kerberos", "https")
    relaxed["ansible_winrm_send_cbt"] = relaxed["ansible_psrp_negotiate_send_cbt"] = False
    code, record = _status(krb_sim, tmp_path, DEFAULT_HOST, relaxed)
    assert code == 0, record


def test_a_wrong_channel_binding_is_refused_even_when_relaxed(krb_sim: SimServer, ccache: Path) -> None:
    wrong = GssChannelBindings(application_data=b"tls-server-end-point:" + b"\x00" * 32)
    assert _post(krb_sim, DEFAULT_HOST, "https", _token(ccache, DEFAULT_HOST, wrong)).status_code == 401
    # The same request bound to the listener's real certificate (RFC 5929), and unbound: accepted.
    address, port = {item[2]: item for item in krb_sim.listeners(DEFAULT_HOST)}["https"][:2]
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((address, port)))
    right = GssChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())
    assert _post(krb_sim, DEFAULT_HOST, "https", _token(ccache, DEFAULT_HOST, right)).status_code == 200
    assert _post(krb_sim, DEFAULT_HOST, "https", _token(ccache, DEFAULT_HOST)).status_code == 200
