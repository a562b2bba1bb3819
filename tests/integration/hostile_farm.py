"""The default farm with hostile program names: what a user can plant by naming an exe file.

Windows file names may hold U+0085, U+2028 and U+2029 (line breaks to `str.splitlines()`), bidi
overrides and zero-width characters. NTFS refuses characters 1-31 in file names, so ESC sequences
reach a real host's output through other strings (product names, policy descriptions); here an
ESC name rides on a process because that is the string the audit prints in its table. Each name
binds a port in several sessions, so it appears in the clash analysis and the recommendations.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from vipctl.sim.farm import build_farm, parse_farm
from vipctl.sim.relocate import block_for_this_process, relocate_farm

LINE_SEPARATOR_NAMES = {
    "crm": "crm\u2028client.exe",  # LINE SEPARATOR
    "softphone": "soft\u0085phone.exe",  # NEXT LINE (C1)
    "licclient": "lic\u2029client.exe",  # PARAGRAPH SEPARATOR
}
# Names an attacker would pick to fool whoever reads the audit.
ESCAPE_NAME = "\x1b]0;owned\x07\x1b[2J\x1b[31mtool.exe"  # sets the window title, clears the screen
BIDI_NAME = "invoice\u202egpj.exe"  # reads as "invoiceexe.jpg"
ZERO_WIDTH_NAME = "crm\u200bclient.exe"  # looks exactly like crmclient.exe
HOSTILE_NAMES = (*LINE_SEPARATOR_NAMES.values(), ESCAPE_NAME, BIDI_NAME, ZERO_WIDTH_NAME)


def _extra_app(exe: str, port: int) -> dict[str, Any]:
    bind = {"protocol": "tcp", "address": "127.0.0.1", "port": port}
    return {"exe": exe, "path": f"C:\\Tools\\{exe}", "binds": [bind]}


def hostile_farm_data() -> dict[str, Any]:
    text = resources.files("vipctl.sim").joinpath("farms/default.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    for app, exe in LINE_SEPARATOR_NAMES.items():
        data["apps"][app]["exe"] = exe
        data["apps"][app]["path"] = f"C:\\Program Files\\Contoso\\{exe}"
    data["apps"]["escape"] = _extra_app(ESCAPE_NAME, 9100)
    data["apps"]["bidi"] = _extra_app(BIDI_NAME, 9200)
    data["apps"]["zerowidth"] = _extra_app(ZERO_WIDTH_NAME, 9300)
    # The YAML anchor makes the three Server VDAs share one user list: alice and bob run them all.
    for user in data["hosts"]["vda2016-01"]["users"][:2]:
        user["apps"] = [*user["apps"], "escape", "bidi", "zerowidth"]
    return data


def hostile_farm() -> Any:
    """The hostile farm on this test worker's own address block."""
    return relocate_farm(build_farm(parse_farm(hostile_farm_data())), block_for_this_process())
