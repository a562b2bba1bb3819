"""The password never shows in a repr, a str, or an error message."""

from __future__ import annotations

import pytest

from vipctl.transport import ConnectionSettingsError, open_transport
from vipctl.transport.ansible_vars import settings_from_ansible_vars
from vipctl.transport.connection import ConnectionSettings
from vipctl.transport.psrp import PsrpTransport
from vipctl.transport.winrm import WinrmTransport

PASSWORD = "Tr0ub4dor&3-unique"


def settings(**changes: object) -> ConnectionSettings:
    base: dict[str, object] = {
        "host": "127.0.0.31",
        "name": "rdsh31",
        "username": "farm\\admin",
        "password": PASSWORD,
        "auth": "ntlm",
    }
    return ConnectionSettings(**{**base, **changes})  # type: ignore[arg-type]


def test_settings_repr_and_str_hide_the_password() -> None:
    value = settings()
    assert PASSWORD not in repr(value)
    assert PASSWORD not in str(value)
    assert "farm\\\\admin" in repr(value)  # the rest stays visible for debugging
    assert value.password == PASSWORD


def test_transport_repr_hides_the_password() -> None:
    assert PASSWORD not in repr(PsrpTransport(settings()))
    assert PASSWORD not in repr(WinrmTransport(settings(connection="winrm")))


def test_settings_errors_from_ansible_vars_leave_the_password_out() -> None:
    host_vars = {"ansible_connection": "psrp", "ansible_password": PASSWORD, "ansible_psrp_auth": PASSWORD}
    with pytest.raises(ConnectionSettingsError) as caught:
        settings_from_ansible_vars("rdsh31", host_vars)
    # The bad value is echoed (it is the auth name the user typed), never the password variable.
    assert "ansible_psrp_auth" in str(caught.value)
    bad_port = {"ansible_connection": "winrm", "ansible_password": PASSWORD, "ansible_port": "x"}
    with pytest.raises(ConnectionSettingsError) as caught_port:
        settings_from_ansible_vars("rdsh31", bad_port)
    assert PASSWORD not in str(caught_port.value)


def test_open_transport_picks_the_client_and_connects_lazily() -> None:
    psrp = open_transport(settings())
    winrm = open_transport(settings(connection="winrm"))
    assert isinstance(psrp, PsrpTransport)
    assert isinstance(winrm, WinrmTransport)
    # Nothing listens on 127.0.0.31; creating and closing must not have tried to connect.
    psrp.close()
    winrm.close()


def test_transports_refuse_settings_for_the_other_client() -> None:
    with pytest.raises(ValueError, match="rdsh31: PsrpTransport needs connection 'psrp'"):
        PsrpTransport(settings(connection="winrm"))
    with pytest.raises(ValueError, match="rdsh31: WinrmTransport needs connection 'winrm'"):
        WinrmTransport(settings())
