"""Fixtures for the Kerberos and CredSSP tests: one MIT realm per test session, one farm per module.

They run on one xdist worker (group `kerberos`), the molecule scenario on another
(`kerberos_molecule`), so a parallel test session builds at most two realms.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from krb_farm import FARM_PASSWORD, FARM_USER, NO_RIGHTS_PASSWORD, NO_RIGHTS_USER, kerberos_farm
from krb_realm import KerberosRealm, start_realm, why_no_realm

from vipctl.sim.front_door import SimServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if path.parent == here:
            # The long molecule run gets a worker (and a realm) of its own; the rest share one.
            group = "kerberos_molecule" if path.name == "test_kerberos_molecule.py" else "kerberos"
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def realm() -> Iterator[KerberosRealm]:
    reason = why_no_realm()
    if reason is not None:
        pytest.skip(f"Kerberos tests skipped: {reason}")
    from vipctl.sim.farm import load_farm

    hosts = list(load_farm(None).hosts)
    started = start_realm(hosts, {FARM_USER: FARM_PASSWORD, NO_RIGHTS_USER: NO_RIGHTS_PASSWORD})
    yield started
    started.stop()


@pytest.fixture(scope="session")
def ccache(realm: KerberosRealm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The farm admin's forwardable ticket, obtained once with kinit."""
    path = tmp_path_factory.mktemp("krb") / "ccache"
    realm.kinit(FARM_USER, path, "-f")
    return path


@pytest.fixture(autouse=True)
def kerberos_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this test (and the ansible it starts) at the realm: config, keytab, ticket cache."""
    if "realm" not in request.fixturenames:
        return
    realm: KerberosRealm = request.getfixturevalue("realm")
    ccache: Path = request.getfixturevalue("ccache")
    for name, value in realm.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KRB5_KTNAME", f"FILE:{realm.keytab}")
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")


@pytest.fixture(scope="module")
def krb_sim(realm: KerberosRealm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """The test farm, Kerberos-enabled, on HTTP and HTTPS."""
    # The acceptor reads KRB5_KTNAME when a security context starts: `kerberos_env` sets it per test.
    server = SimServer(max_receive_wait_s=0.2)
    server.start(kerberos_farm(), https=True, state_dir=tmp_path_factory.mktemp("krbsim"))
    try:
        yield server
    finally:
        server.stop()


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "kerberos: needs the test KDC")
