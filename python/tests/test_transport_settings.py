"""ConnectionSettings: validation, and host variables read the way ansible-core's plugins read them."""

from __future__ import annotations

from typing import Any

import pytest

from vipctl.transport.ansible_vars import settings_from_ansible_vars
from vipctl.transport.connection import ConnectionSettings, ConnectionSettingsError


def from_vars(**host_vars: Any) -> ConnectionSettings:
    return settings_from_ansible_vars("rdsh01", host_vars)


# ---------------------------------------------------------------- dataclass defaults and checks


def test_defaults_are_psrp_over_https_with_validation() -> None:
    settings = ConnectionSettings(host="127.0.0.11")
    assert (settings.connection, settings.scheme, settings.port) == ("psrp", "https", 5986)
    assert settings.auth == "negotiate"
    assert settings.cert_validation is True
    assert settings.name == "127.0.0.11"
    assert settings.endpoint == "https://127.0.0.11:5986/wsman"


def test_endpoint_brackets_ipv6_and_normalises_path() -> None:
    settings = ConnectionSettings(
        host="::1", scheme="http", port=5985, path="/wsman", connection="winrm", auth="ntlm"
    )
    assert settings.endpoint == "http://[::1]:5985/wsman"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"port": 0}, "port 0"),
        ({"scheme": "ftp"}, "scheme 'ftp'"),
        ({"auth": "certificate"}, "auth 'certificate'"),
        ({"read_timeout": 20.0, "operation_timeout": 20}, "read_timeout (20) must exceed operation_timeout"),
        ({"connection": "winrm", "auth": "negotiate"}, "ansible_winrm_transport"),
        ({"auth": "basic", "message_encryption": "always"}, "message_encryption 'always'"),
        ({"auth": "basic", "scheme": "http", "port": 5985}, "vipctl_allow_basic_over_http: true"),
        (
            {"auth": "basic", "scheme": "http", "port": 5985, "allow_basic_over_http": True},
            "ansible_psrp_message_encryption: never",
        ),
        ({"retries": -1}, "retries"),
        ({"host": ""}, "host is empty"),
    ],
)
def test_invalid_settings_name_the_field(changes: dict[str, Any], fragment: str) -> None:
    base: dict[str, Any] = {"host": "127.0.0.11", "name": "rdsh01"}
    with pytest.raises(ConnectionSettingsError) as caught:
        ConnectionSettings(**{**base, **changes})
    assert fragment in str(caught.value)
    assert caught.value.host in ("rdsh01", "")


def test_basic_over_http_is_allowed_with_encryption_explicitly_off() -> None:
    settings = ConnectionSettings(
        host="127.0.0.11",
        scheme="http",
        port=5985,
        auth="basic",
        message_encryption="never",
        allow_basic_over_http=True,
    )
    assert settings.scheme == "http"


# ---------------------------------------------------------------- ansible_connection


def test_connection_is_required_unless_a_default_is_given() -> None:
    with pytest.raises(ConnectionSettingsError, match="rdsh01: ansible_connection is not set"):
        from_vars()
    settings = settings_from_ansible_vars("rdsh01", {}, default_connection="winrm")
    assert settings.connection == "winrm"


@pytest.mark.parametrize("value", ["psrp", "ansible.builtin.psrp", "ansible.legacy.psrp", "PSRP"])
def test_connection_accepts_fqcn_forms(value: str) -> None:
    assert from_vars(ansible_connection=value).connection == "psrp"


def test_connection_other_than_winrm_or_psrp_is_refused() -> None:
    with pytest.raises(ConnectionSettingsError, match="ansible_connection 'ssh' is not supported"):
        from_vars(ansible_connection="ssh")


# ---------------------------------------------------------------- psrp


def test_psrp_defaults_match_the_plugin() -> None:
    settings = from_vars(ansible_connection="psrp", ansible_user="vip\\admin", ansible_password="pw")
    assert settings.name == "rdsh01"
    assert settings.host == "rdsh01"  # inventory_hostname when ansible_host is absent
    assert (settings.scheme, settings.port, settings.path) == ("https", 5986, "wsman")
    assert settings.auth == "negotiate"
    assert settings.cert_validation is True
    assert settings.ca_trust_path is None
    assert (settings.connect_timeout, settings.read_timeout, settings.operation_timeout) == (30.0, 30.0, 20)
    assert (settings.retries, settings.retry_backoff) == (0, 2.0)
    assert settings.message_encryption == "auto"
    assert settings.configuration_name == "Microsoft.PowerShell"
    assert settings.username == "vip\\admin"
    assert settings.password == "pw"


@pytest.mark.parametrize(
    ("host_vars", "scheme", "port"),
    [
        ({"ansible_port": 5985}, "http", 5985),
        ({"ansible_port": 15986}, "https", 15986),
        ({"ansible_psrp_protocol": "http"}, "http", 5985),
        ({"ansible_psrp_protocol": "https"}, "https", 5986),
        ({"ansible_psrp_protocol": "http", "ansible_port": 8080}, "http", 8080),
        # ansible_psrp_port is listed after ansible_port, so it wins.
        ({"ansible_port": 1, "ansible_psrp_port": "5985"}, "http", 5985),
    ],
)
def test_psrp_scheme_and_port_follow_each_other(host_vars: dict[str, Any], scheme: str, port: int) -> None:
    settings = from_vars(ansible_connection="psrp", ansible_psrp_auth="ntlm", **host_vars)
    assert (settings.scheme, settings.port) == (scheme, port)


def test_psrp_host_user_and_tls_options() -> None:
    settings = from_vars(
        ansible_connection="psrp",
        ansible_host="127.0.0.21",
        ansible_psrp_user="farm\\svc",
        ansible_user="ignored",
        ansible_winrm_password="from-winrm-var",
        ansible_psrp_auth="NTLM",
        ansible_psrp_cert_validation="ignore",
        ansible_psrp_cert_trust_path="/etc/first.pem",
        ansible_psrp_ca_cert="/etc/ca.pem",
        ansible_psrp_message_encryption="always",
        ansible_psrp_reconnection_retries="3",
        ansible_psrp_connection_backoff=1,
        ansible_psrp_ignore_proxy="yes",
        ansible_psrp_operation_timeout=5,
        ansible_psrp_read_timeout=9,
    )
    assert settings.host == "127.0.0.21"
    assert settings.username == "farm\\svc"
    assert settings.password == "from-winrm-var"
    assert settings.auth == "ntlm"
    assert settings.cert_validation is False
    assert settings.ca_trust_path == "/etc/ca.pem"  # ansible_psrp_ca_cert is listed last
    assert settings.message_encryption == "always"
    assert (settings.retries, settings.retry_backoff) == (3, 1.0)
    assert settings.ignore_proxy is True
    assert (settings.operation_timeout, settings.read_timeout) == (5, 9.0)


def test_psrp_rejects_auth_vipctl_does_not_drive() -> None:
    with pytest.raises(ConnectionSettingsError, match="ansible_psrp_auth 'certificate' is not one of"):
        from_vars(ansible_connection="psrp", ansible_psrp_auth="certificate")


def test_credssp_and_the_kerberos_options_are_read_for_both_plugins() -> None:
    psrp = from_vars(
        ansible_connection="psrp",
        ansible_psrp_auth="credssp",
        ansible_psrp_negotiate_hostname_override="vda01.corp.example",
        ansible_psrp_negotiate_delegate="yes",
        ansible_psrp_negotiate_send_cbt=False,
    )
    assert (psrp.auth, psrp.spn_hostname, psrp.delegate, psrp.send_cbt) == (
        "credssp",
        "vda01.corp.example",
        True,
        False,
    )
    winrm = from_vars(
        ansible_connection="winrm",
        ansible_winrm_transport="credssp",
        ansible_winrm_kerberos_hostname_override="vda01.corp.example",
        ansible_winrm_kerberos_delegation=True,
    )
    assert (winrm.auth, winrm.spn_hostname, winrm.delegate, winrm.send_cbt) == (
        "credssp",
        "vda01.corp.example",
        True,
        True,
    )


def test_psrp_cert_validation_takes_booleans_too() -> None:
    assert from_vars(ansible_connection="psrp", ansible_psrp_cert_validation=False).cert_validation is False
    with pytest.raises(ConnectionSettingsError, match="ansible_psrp_cert_validation 'maybe'"):
        from_vars(ansible_connection="psrp", ansible_psrp_cert_validation="maybe")


# ---------------------------------------------------------------- winrm


def test_winrm_defaults_match_the_plugin() -> None:
    settings = from_vars(ansible_connection="winrm", ansible_user="admin", ansible_password="pw")
    assert (settings.scheme, settings.port, settings.path) == ("https", 5986, "/wsman")
    assert settings.endpoint == "https://rdsh01:5986/wsman"
    assert settings.auth == "basic"  # no UPN user and no transport: the plugin picks ssl = Basic
    assert settings.cert_validation is True
    assert (settings.read_timeout, settings.operation_timeout) == (30.0, 20)
    assert settings.message_encryption == "auto"


def test_winrm_upn_user_defaults_to_kerberos() -> None:
    assert from_vars(ansible_connection="winrm", ansible_user="admin@FARM.TEST").auth == "kerberos"


@pytest.mark.parametrize(
    ("transport", "auth"),
    [
        ("ntlm", "ntlm"),
        (["ntlm", "kerberos"], "ntlm"),
        ("kerberos,ntlm", "kerberos"),
        ("ssl", "basic"),
        ("plaintext", "basic"),
    ],
)
def test_winrm_transport_first_entry_wins(transport: Any, auth: str) -> None:
    assert from_vars(ansible_connection="winrm", ansible_winrm_transport=transport).auth == auth


def test_winrm_transport_unknown_is_refused() -> None:
    with pytest.raises(ConnectionSettingsError, match="ansible_winrm_transport 'certificate'"):
        from_vars(ansible_connection="winrm", ansible_winrm_transport="certificate")


def test_winrm_port_5985_means_http_unless_scheme_given() -> None:
    assert (
        from_vars(ansible_connection="winrm", ansible_port=5985, ansible_winrm_transport="ntlm").scheme
        == "http"
    )
    explicit = from_vars(
        ansible_connection="winrm",
        ansible_winrm_port=5985,
        ansible_winrm_scheme="https",
        ansible_winrm_transport="ntlm",
    )
    assert (explicit.scheme, explicit.port) == ("https", 5985)


def test_winrm_tls_timeouts_and_encryption() -> None:
    settings = from_vars(
        ansible_connection="winrm",
        ansible_host="127.0.0.22",
        ansible_winrm_transport="ntlm",
        ansible_winrm_server_cert_validation="ignore",
        ansible_winrm_ca_trust_path="/etc/farm-ca.pem",
        ansible_winrm_connection_timeout=40,
        ansible_winrm_message_encryption="never",
        ansible_winrm_path="/custom",
        vipctl_connection_retries=2,
        vipctl_command_timeout=90,
    )
    assert settings.cert_validation is False
    assert settings.ca_trust_path == "/etc/farm-ca.pem"
    # connection_timeout sets the operation timeout and reads 10 s beyond it, as the plugin does.
    assert (settings.operation_timeout, settings.read_timeout, settings.connect_timeout) == (40, 50.0, 50.0)
    assert settings.message_encryption == "never"
    assert settings.endpoint == "https://127.0.0.22:5986/custom"
    assert (settings.retries, settings.command_timeout) == (2, 90.0)


def test_winrm_explicit_pywinrm_timeouts() -> None:
    settings = from_vars(
        ansible_connection="winrm", ansible_winrm_read_timeout_sec=12, ansible_winrm_operation_timeout_sec=7
    )
    assert (settings.read_timeout, settings.operation_timeout) == (12.0, 7)


def test_non_integer_port_names_the_variable() -> None:
    with pytest.raises(ConnectionSettingsError, match="rdsh01: ansible_winrm_port 'https' is not an integer"):
        from_vars(ansible_connection="winrm", ansible_winrm_port="https")
