"""Ansible host variables -> ConnectionSettings, mirroring ansible-core's winrm and psrp plugins.

Names, defaults and precedence follow those plugins (ansible-core 2.19): when several variables
feed one option, the last one in the plugin's list wins (`ansible_winrm_port` over `ansible_port`).
Additions of ours: `vipctl_connection_retries`, `vipctl_command_timeout`,
`vipctl_request_deadline` and `vipctl_allow_basic_over_http`; and one default of ours: with no
`ansible_winrm_transport`, http means NTLM with message encryption, never Basic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from vipctl.transport.connection import (
    AUTHS,
    CONNECTIONS,
    ENCRYPTIONS,
    HTTP_PORT,
    HTTPS_PORT,
    Auth,
    Connection,
    ConnectionSettings,
    ConnectionSettingsError,
    MessageEncryption,
    Scheme,
    coerce_choice,
    winrm_auth,
)

_TRUE = {"y", "yes", "on", "1", "true", "t"}
_FALSE = {"n", "no", "off", "0", "false", "f"}
_PASSWORD_VARS = ("ansible_password", "ansible_winrm_pass", "ansible_winrm_password")


def _pick(host_vars: Mapping[str, Any], *names: str) -> Any:
    """Ansible's rule: the last listed variable that is set (not None) wins."""
    value = None
    for name in names:
        if host_vars.get(name) is not None:
            value = host_vars[name]
    return value


def _int(name: str, var: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConnectionSettingsError(name, f"{var} {value!r} is not an integer") from None


def _bool(name: str, var: str, value: Any) -> bool:
    """Ansible's `boolean()` truth table, so `yes`/`off`/`1` mean what they mean in a playbook."""
    text = str(value).strip().lower()
    if isinstance(value, bool):
        return value
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConnectionSettingsError(name, f"{var} {value!r} is not a boolean")


def _cert_validation(name: str, var: str, value: Any) -> bool:
    """`validate` / `ignore` as in the plugins; a plain boolean is accepted too."""
    if value is None:
        return True
    text = str(value).strip().lower()
    if text in ("validate", "ignore"):
        return text == "validate"
    try:
        return _bool(name, var, value)
    except ConnectionSettingsError:
        raise ConnectionSettingsError(name, f"{var} {value!r} is not validate or ignore") from None


def connection_of(name: str, host_vars: Mapping[str, Any], default: Connection | None) -> Connection:
    raw = host_vars.get("ansible_connection", default)
    if raw is None:
        raise ConnectionSettingsError(
            name, "ansible_connection is not set; vipctl connects with winrm or psrp"
        )
    short = str(raw).strip().lower().removeprefix("ansible.builtin.").removeprefix("ansible.legacy.")
    if short not in CONNECTIONS:
        raise ConnectionSettingsError(
            name, f"ansible_connection {raw!r} is not supported; vipctl connects with winrm or psrp"
        )
    return cast(Connection, short)


def _common(name: str, host_vars: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    retries = host_vars.get("vipctl_connection_retries")
    allow_basic = host_vars.get("vipctl_allow_basic_over_http")
    command_timeout = host_vars.get("vipctl_command_timeout")
    common: dict[str, Any] = {
        "name": name,
        "host": str(_pick(host_vars, "ansible_host", f"ansible_{prefix}_host") or name),
        "username": _pick(host_vars, "ansible_user", f"ansible_{prefix}_user"),
        "password": _pick(host_vars, *_PASSWORD_VARS),
    }
    request_deadline = host_vars.get("vipctl_request_deadline")
    if request_deadline is not None:
        common["request_deadline"] = float(_int(name, "vipctl_request_deadline", request_deadline))
    if allow_basic is not None:
        common["allow_basic_over_http"] = _bool(name, "vipctl_allow_basic_over_http", allow_basic)
    if retries is not None:
        common["retries"] = _int(name, "vipctl_connection_retries", retries)
    if command_timeout is not None:
        common["command_timeout"] = float(_int(name, "vipctl_command_timeout", command_timeout))
    return common


def winrm_kwargs(name: str, host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The winrm plugin's options (its `_build_winrm_kwargs`) as ConnectionSettings fields."""
    kwargs = _common(name, host_vars, "winrm")
    raw_port = _pick(host_vars, "ansible_port", "ansible_winrm_port")
    port = HTTPS_PORT if raw_port is None else _int(name, "ansible_winrm_port", raw_port)
    raw_scheme = host_vars.get("ansible_winrm_scheme")
    # The plugin's rule: no scheme means http only on 5985, https otherwise.
    scheme = ("http" if port == HTTP_PORT else "https") if raw_scheme is None else raw_scheme
    transport = host_vars.get("ansible_winrm_transport")
    user = kwargs["username"]
    if transport is None:
        # The plugin's rule is kerberos for user@REALM, else Basic ("plaintext"), even over http.
        # Over http ours is NTLM, which seals every message: with Windows' default AllowUnencrypted
        # = false it is the one method http accepts, and the password never crosses in clear.
        transport = (
            "kerberos"
            if user and "@" in str(user)
            else ("ntlm" if str(scheme).strip().lower() == "http" else "basic")
        )
    read_timeout: float = float(
        _int(name, "ansible_winrm_read_timeout_sec", host_vars.get("ansible_winrm_read_timeout_sec", 30))
    )
    operation_timeout = _int(
        name, "ansible_winrm_operation_timeout_sec", host_vars.get("ansible_winrm_operation_timeout_sec", 20)
    )
    if host_vars.get("ansible_winrm_connection_timeout"):
        # The plugin sets both from this one value, read 10 s above operation.
        operation_timeout = _int(
            name, "ansible_winrm_connection_timeout", host_vars["ansible_winrm_connection_timeout"]
        )
        read_timeout = float(operation_timeout + 10)
    proxy = host_vars.get("ansible_winrm_proxy")
    kwargs.update(
        connection="winrm",
        port=port,
        scheme=cast(Scheme, coerce_choice(name, "ansible_winrm_scheme", scheme, ("http", "https"))),
        path=str(host_vars.get("ansible_winrm_path") or "/wsman"),
        auth=winrm_auth(name, transport),
        cert_validation=_cert_validation(
            name,
            "ansible_winrm_server_cert_validation",
            host_vars.get("ansible_winrm_server_cert_validation"),
        ),
        ca_trust_path=host_vars.get("ansible_winrm_ca_trust_path"),
        # pywinrm has one HTTP timeout for connect and read.
        connect_timeout=read_timeout,
        read_timeout=read_timeout,
        operation_timeout=operation_timeout,
        message_encryption=cast(
            MessageEncryption,
            coerce_choice(
                name,
                "ansible_winrm_message_encryption",
                host_vars.get("ansible_winrm_message_encryption", "auto"),
                ENCRYPTIONS,
            ),
        ),
        proxy=None if proxy is None else str(proxy),
        spn_hostname=_text_or_none(host_vars.get("ansible_winrm_kerberos_hostname_override")),
        delegate=_bool(
            name,
            "ansible_winrm_kerberos_delegation",
            host_vars.get("ansible_winrm_kerberos_delegation", False),
        ),
        send_cbt=_bool(name, "ansible_winrm_send_cbt", host_vars.get("ansible_winrm_send_cbt", True)),
    )
    return kwargs


def _text_or_none(value: Any) -> str | None:
    return None if value is None or str(value) == "" else str(value)


def psrp_kwargs(name: str, host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The psrp plugin's options (its `_build_kwargs`) as ConnectionSettings fields."""
    kwargs = _common(name, host_vars, "psrp")
    protocol = host_vars.get("ansible_psrp_protocol")
    raw_port = _pick(host_vars, "ansible_port", "ansible_psrp_port")
    # The plugin's rule: nothing set -> https:5986; one set -> the other follows from it.
    if protocol is None and raw_port is None:
        protocol, port = "https", HTTPS_PORT
    elif protocol is None:
        port = _int(name, "ansible_psrp_port", raw_port)
        protocol = "http" if port == HTTP_PORT else "https"
    elif raw_port is None:
        protocol = coerce_choice(name, "ansible_psrp_protocol", protocol, ("http", "https"))
        port = HTTPS_PORT if protocol == "https" else HTTP_PORT
    else:
        port = _int(name, "ansible_psrp_port", raw_port)
    backoff = _pick(host_vars, "ansible_psrp_connection_backoff", "ansible_psrp_reconnection_backoff")
    proxy = host_vars.get("ansible_psrp_proxy")
    kwargs.update(
        connection="psrp",
        port=port,
        scheme=cast(Scheme, coerce_choice(name, "ansible_psrp_protocol", protocol, ("http", "https"))),
        path=str(host_vars.get("ansible_psrp_path") or "wsman"),
        auth=cast(
            Auth,
            coerce_choice(name, "ansible_psrp_auth", host_vars.get("ansible_psrp_auth", "negotiate"), AUTHS),
        ),
        cert_validation=_cert_validation(
            name, "ansible_psrp_cert_validation", host_vars.get("ansible_psrp_cert_validation")
        ),
        ca_trust_path=_pick(host_vars, "ansible_psrp_cert_trust_path", "ansible_psrp_ca_cert"),
        connect_timeout=float(
            _int(
                name, "ansible_psrp_connection_timeout", host_vars.get("ansible_psrp_connection_timeout", 30)
            )
        ),
        read_timeout=float(
            _int(name, "ansible_psrp_read_timeout", host_vars.get("ansible_psrp_read_timeout", 30))
        ),
        operation_timeout=_int(
            name, "ansible_psrp_operation_timeout", host_vars.get("ansible_psrp_operation_timeout", 20)
        ),
        retry_backoff=float(
            _int(name, "ansible_psrp_reconnection_backoff", 2 if backoff is None else backoff)
        ),
        message_encryption=cast(
            MessageEncryption,
            coerce_choice(
                name,
                "ansible_psrp_message_encryption",
                host_vars.get("ansible_psrp_message_encryption", "auto"),
                ENCRYPTIONS,
            ),
        ),
        configuration_name=str(host_vars.get("ansible_psrp_configuration_name") or "Microsoft.PowerShell"),
        proxy=None if proxy is None else str(proxy),
        ignore_proxy=_bool(
            name, "ansible_psrp_ignore_proxy", host_vars.get("ansible_psrp_ignore_proxy", False)
        ),
        spn_hostname=_text_or_none(host_vars.get("ansible_psrp_negotiate_hostname_override")),
        delegate=_bool(
            name, "ansible_psrp_negotiate_delegate", host_vars.get("ansible_psrp_negotiate_delegate", False)
        ),
        send_cbt=_bool(
            name, "ansible_psrp_negotiate_send_cbt", host_vars.get("ansible_psrp_negotiate_send_cbt", True)
        ),
    )
    if "retries" not in kwargs:
        kwargs["retries"] = _int(
            name, "ansible_psrp_reconnection_retries", host_vars.get("ansible_psrp_reconnection_retries", 0)
        )
    return kwargs


def settings_from_ansible_vars(
    name: str,
    host_vars: Mapping[str, Any],
    *,
    default_connection: Connection | None = None,
) -> ConnectionSettings:
    connection = connection_of(name, host_vars, default_connection)
    kwargs = winrm_kwargs(name, host_vars) if connection == "winrm" else psrp_kwargs(name, host_vars)
    if kwargs["password"] is not None:
        kwargs["password"] = str(kwargs["password"])
    if kwargs["username"] is not None:
        kwargs["username"] = str(kwargs["username"])
    if kwargs["ca_trust_path"] is not None:
        kwargs["ca_trust_path"] = str(kwargs["ca_trust_path"])
    return ConnectionSettings(**kwargs)
