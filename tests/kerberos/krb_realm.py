"""A throw-away MIT Kerberos realm (k5test) holding the simulated farm's principals.

Names: every host's SPNs use `<inventory name>.farm.test`; the clients dial the host's loopback
address and name the SPN host explicitly (pywinrm `kerberos_hostname_override`, pypsrp
`negotiate_hostname_override`), and the realm's krb5.conf turns off reverse DNS and host name
canonicalisation, so nothing is ever looked up in DNS and the machine's resolver is never touched.
Everything Kerberos reads (`KRB5_CONFIG`, `KRB5_KTNAME`, `KRB5CCNAME`) points into the realm's
temporary directory. Passwords reach `kinit` and `kadmin.local` on stdin, never on a command line.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REALM = "KRBTEST.COM"
SPN_DOMAIN = "farm.test"
KDC_BINARIES = ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local")
DEBIAN_PACKAGES = "krb5-kdc krb5-admin-server krb5-user libkrb5-dev"


def why_no_realm() -> str | None:
    """None when a realm can be built here, else exactly what is missing and how to get it."""
    missing = [path for path in KDC_BINARIES if not os.access(path, os.X_OK)]
    if not shutil.which("kinit"):
        missing.append("kinit")
    if missing:
        return (
            f"the MIT Kerberos KDC tools are missing ({', '.join(missing)}): install the Debian packages"
            f" {DEBIAN_PACKAGES} (`make test` does so when run as root with apt-get)"
        )
    for module in ("k5test", "gssapi", "krb5", "kerberos"):
        try:
            __import__(module)
        except ImportError as exc:
            return (
                f"the Python module {module!r} is not importable ({exc}): requirements-kerberos.txt is not"
                f" installed in .venv (it builds against libkrb5-dev; rerun `make venv` as root)"
            )
    return None


def spn_host(name: str) -> str:
    return f"{name.lower()}.{SPN_DOMAIN}"


def _free_portbase() -> int:
    """A base port with the ten ports k5test may use free on TCP and the KDC's free on UDP."""
    for _attempt in range(200):
        base = random.randrange(20000, 60000, 10)
        try:
            for offset in range(10):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", base + offset))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind(("127.0.0.1", base))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range for the test KDC")


@dataclass
class KerberosRealm:
    """The running realm: its k5test object, the service keytab and the users' passwords."""

    k5: Any
    keytab: Path
    passwords: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        return dict(self.k5.env)

    def principal(self, user: str) -> str:
        return f"{user}@{REALM}"

    def kinit(self, user: str, ccache: Path, *flags: str) -> None:
        """A ticket for `user` in `ccache`; the password goes to kinit on stdin (k5test's `kinit`)."""
        self.k5.kinit(self.principal(user), self.passwords[user], flags=["-c", str(ccache), *flags])

    def stop(self) -> None:
        self.k5.stop()


def _kadmin(k5: Any, query: str, stdin: str | None = None) -> None:
    subprocess.run(
        [k5.kadmin_local, "-q", query],
        env=k5.env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def start_realm(hosts: list[str], users: dict[str, str]) -> KerberosRealm:
    """A KDC with `HTTP/`, `host/` and `WSMAN/` for each host (in one keytab) and a principal per user."""
    import k5test

    k5 = k5test.K5Realm(
        realm=REALM,
        portbase=_free_portbase(),
        create_user=False,
        create_host=False,
        get_creds=False,
        krb5_conf={
            "libdefaults": {
                "rdns": "false",
                "dns_canonicalize_hostname": "false",
                "dns_lookup_realm": "false",
                # The expired-ticket test waits for a short ticket to run out; keep the grace short.
                "clockskew": "2",
            },
            "realms": {"$realm": {"kdc": "127.0.0.1:$port0"}},
            "domain_realm": {f".{SPN_DOMAIN}": "$realm", SPN_DOMAIN: "$realm"},
        },
    )
    keytab = Path(k5.tmpdir) / "farm.keytab"
    for host in hosts:
        # WSMAN/ too: Ansible's psrp connection asks for it by default (negotiate_service: WSMAN).
        for service in ("HTTP", "host", "WSMAN"):
            principal = f"{service}/{spn_host(host)}@{REALM}"
            _kadmin(k5, f"addprinc -randkey {principal}")
            _kadmin(k5, f"ktadd -k {keytab} -norandkey {principal}")
    for user, password in users.items():
        # kadmin.local asks for the new password twice, on stdin.
        _kadmin(k5, f"addprinc {user}@{REALM}", stdin=f"{password}\n{password}\n")
    return KerberosRealm(k5, keytab, dict(users))
