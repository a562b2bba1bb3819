"""Session ID <-> per-session loopback address (Citrix 24-bit rule, Microsoft 127.0.0.(N+1))."""

from __future__ import annotations

import pytest

from vipctl.loopback import (
    MAX_SESSION_ID,
    LoopbackError,
    citrix_loopback_address,
    microsoft_loopback_address,
    session_for_loopback,
)

KNOWN = [
    (0, "127.0.0.1"),
    (1, "127.0.0.2"),
    (7, "127.0.0.8"),
    (254, "127.0.0.255"),
    (255, "127.0.1.0"),
    (256, "127.0.1.1"),
    (65535, "127.1.0.0"),
    (16777214, "127.255.255.255"),
]


@pytest.mark.parametrize(("session_id", "address"), KNOWN)
def test_citrix_address_for_session(session_id: int, address: str) -> None:
    assert citrix_loopback_address(session_id) == address


@pytest.mark.parametrize(("session_id", "address"), KNOWN)
def test_inverse_gives_the_session_back(session_id: int, address: str) -> None:
    assert session_for_loopback(address) == session_id


@pytest.mark.parametrize("session_id", [0, 1, 7, 253, 254])
def test_microsoft_rule_is_n_plus_one_in_the_last_octet(session_id: int) -> None:
    assert microsoft_loopback_address(session_id) == f"127.0.0.{session_id + 1}"


def test_round_trip_over_a_spread_of_sessions() -> None:
    for session_id in range(0, MAX_SESSION_ID + 1, 9973):
        assert session_for_loopback(citrix_loopback_address(session_id)) == session_id


def test_max_session_id_is_the_last_loopback_address() -> None:
    assert MAX_SESSION_ID == 16777214


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_session_rejected(bad: int) -> None:
    with pytest.raises(LoopbackError, match=r"between 0 and 16777214, got -"):
        citrix_loopback_address(bad)


@pytest.mark.parametrize("bad", [16777215, 2**32])
def test_too_large_session_rejected(bad: int) -> None:
    with pytest.raises(LoopbackError, match=str(bad)):
        citrix_loopback_address(bad)
    with pytest.raises(LoopbackError):
        microsoft_loopback_address(bad)


@pytest.mark.parametrize("bad", [1.0, "7", None, [7]])
def test_non_integer_rejected(bad: object) -> None:
    with pytest.raises(LoopbackError, match="must be an integer"):
        citrix_loopback_address(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [True, False])
def test_boolean_rejected_even_though_bool_is_an_int(bad: bool) -> None:
    with pytest.raises(LoopbackError, match="must be an integer, got bool"):
        citrix_loopback_address(bad)


@pytest.mark.parametrize("bad", ["127.0.0.0", "10.0.0.1", "128.0.0.1", "not-an-ip", "::1"])
def test_inverse_rejects_non_session_addresses(bad: str) -> None:
    with pytest.raises(LoopbackError):
        session_for_loopback(bad)
