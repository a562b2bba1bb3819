"""Realistic `net_endpoints` / `sessions` data of one RDSH host, before and after the rollout.

Host 192.0.2.10. Session 0 runs services; alice, bob and carol work in sessions 1-3 (VIPs
192.0.2.101-103 once RD IP Virtualization is on); an administrator is in an /admin session 4.
Before: crm.exe wants 127.0.0.1:9000 in every session, so only alice's instance binds; the
softphone binds UDP 0.0.0.0:5060 and bob's copy fails; a licence client listens on the server IP.
After: Citrix virtual loopback lists crm.exe (127.0.0.2/3/4), RD IP Virtualization lists the
softphone and the licence client (session VIPs); the /admin session is untouched.
"""

from __future__ import annotations

from typing import Any

SERVER_IP = "192.0.2.10"
VIPS = {1: "192.0.2.101", 2: "192.0.2.102", 3: "192.0.2.103"}

_PATHS = {
    "System": None,
    "svchost.exe": r"C:\Windows\System32\svchost.exe",
    "lsass.exe": r"C:\Windows\System32\lsass.exe",
    "crm.exe": r"C:\Program Files\Contoso CRM\crm.exe",
    "softphone.exe": r"C:\Program Files\Fabrikam\softphone.exe",
    "licclient.exe": r"C:\Program Files (x86)\Litware\licclient.exe",
    "chrome.exe": r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    "explorer.exe": r"C:\Windows\explorer.exe",
}


def proc(pid: int, name: str, session: int) -> dict[str, Any]:
    return {
        "pid": pid,
        "name": name,
        "path": _PATHS[name.lower() if name != "System" else name],
        "session": session,
    }


def tcp(
    p: dict[str, Any], local: str, port: int, state: str = "Listen", remote: tuple[str, int] | None = None
) -> dict[str, Any]:
    remote_address, remote_port = remote if remote else ("0.0.0.0", 0)
    return {
        "protocol": "tcp",
        "local_address": local,
        "local_port": port,
        "remote_address": remote_address,
        "remote_port": remote_port,
        "state": state,
        "pid": p["pid"],
        "process": p["name"],
        "path": p["path"],
        "session": p["session"],
    }


def udp(p: dict[str, Any], local: str, port: int) -> dict[str, Any]:
    return {
        "protocol": "udp",
        "local_address": local,
        "local_port": port,
        "remote_address": None,
        "remote_port": None,
        "state": None,
        "pid": p["pid"],
        "process": p["name"],
        "path": p["path"],
        "session": p["session"],
    }


# Session 0: the noise every real table has.
SYSTEM = proc(4, "System", 0)
LSASS = proc(700, "lsass.exe", 0)
SVCHOST_RPC = proc(912, "svchost.exe", 0)
SVCHOST_RDP = proc(1040, "svchost.exe", 0)
SVCHOST_SSDP = proc(1288, "svchost.exe", 0)
SYSTEM_PROCS = [SYSTEM, LSASS, SVCHOST_RPC, SVCHOST_RDP, SVCHOST_SSDP]


def system_endpoints() -> list[dict[str, Any]]:
    return [
        tcp(SYSTEM, "0.0.0.0", 445),
        tcp(SYSTEM, SERVER_IP, 139),
        udp(SYSTEM, SERVER_IP, 137),
        tcp(SVCHOST_RPC, "0.0.0.0", 135),
        tcp(SVCHOST_RDP, "0.0.0.0", 3389),
        tcp(SVCHOST_RDP, SERVER_IP, 3389, "Established", ("198.51.100.77", 51812)),
        udp(SVCHOST_RDP, "0.0.0.0", 3389),
        tcp(LSASS, "0.0.0.0", 49664),
        udp(SVCHOST_SSDP, "127.0.0.1", 1900),
        tcp(SVCHOST_RPC, "::", 135),
    ]


def sessions_data() -> dict[str, Any]:
    return {
        "sessions": [
            {"id": 0, "user": None, "state": "Disconnected", "station": "Services", "virtual_ip": None},
            {
                "id": 1,
                "user": "CONTOSO\\alice",
                "state": "Active",
                "station": "RDP-Tcp#3",
                "virtual_ip": VIPS[1],
            },
            {
                "id": 2,
                "user": "CONTOSO\\bob",
                "state": "Active",
                "station": "RDP-Tcp#5",
                "virtual_ip": VIPS[2],
            },
            {
                "id": 3,
                "user": "CONTOSO\\carol",
                "state": "Active",
                "station": "RDP-Tcp#8",
                "virtual_ip": VIPS[3],
            },
            {
                "id": 4,
                "user": "CONTOSO\\admin",
                "state": "Active",
                "station": "RDP-Tcp#9",
                "virtual_ip": None,
                "admin": True,
            },
        ]
    }


# Users' processes (same pids before and after, for readable assertions).
CRM = {1: proc(1100, "crm.exe", 1), 2: proc(1200, "CRM.EXE", 2), 3: proc(1300, "crm.exe", 3)}
CRM_ADMIN = proc(1400, "crm.exe", 4)
PHONE = {1: proc(1101, "softphone.exe", 1), 2: proc(1201, "softphone.exe", 2)}
LICENCE = proc(1102, "licclient.exe", 1)
CHROME = proc(1203, "chrome.exe", 2)
EXPLORER = {s: proc(1000 + 100 * s + 99, "explorer.exe", s) for s in (1, 2, 3)}


def before_data() -> dict[str, Any]:
    """Nothing virtualized: bob's and carol's CRM and bob's softphone lost the race for the port."""
    user_procs = [*CRM.values(), *PHONE.values(), LICENCE, CHROME, *EXPLORER.values()]
    endpoints = [
        *system_endpoints(),
        tcp(CRM[1], "127.0.0.1", 9000),
        tcp(CRM[1], "127.0.0.1", 9000, "Established", ("127.0.0.1", 52001)),
        # carol's CRM still reaches its back end; it only lacks the listener.
        tcp(CRM[3], "192.0.2.10", 52114, "Established", ("198.51.100.5", 443)),
        udp(PHONE[1], "0.0.0.0", 5060),
        udp(PHONE[2], "0.0.0.0", 61022),  # its RTP probe: an ephemeral port, not a clash
        tcp(LICENCE, SERVER_IP, 27000),
        tcp(CHROME, "127.0.0.1", 51234),  # DevTools on whatever port it got
    ]
    return {"endpoints": endpoints, "processes": [*SYSTEM_PROCS, *user_procs]}


def after_data() -> dict[str, Any]:
    """After the rollout and a fresh logon: each session on its own address; /admin untouched."""
    user_procs = [*CRM.values(), CRM_ADMIN, *PHONE.values(), LICENCE, *EXPLORER.values()]
    endpoints = [
        *system_endpoints(),
        tcp(CRM[1], "127.0.0.2", 9000),
        tcp(CRM[2], "127.0.0.3", 9000),
        tcp(CRM[3], "127.0.0.4", 9000),
        tcp(CRM_ADMIN, "127.0.0.1", 9000),
        udp(PHONE[1], VIPS[1], 5060),
        udp(PHONE[2], VIPS[2], 5060),
        tcp(LICENCE, VIPS[1], 27000),
    ]
    return {"endpoints": endpoints, "processes": [*SYSTEM_PROCS, *user_procs]}
