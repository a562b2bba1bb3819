"""One protocol layer: requests are built and checked by the codec, one version constant serves
the Python side, the shipped executor, the bootstrap and the simulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vipctl.executor import bootstrap, script_text
from vipctl.executor.codec import PROTOCOL_VERSION
from vipctl.executor.errors import RequestError
from vipctl.host_requests.common import new_request

SRC = Path(__file__).resolve().parents[1] / "src" / "vipctl"
# `"v": 1` in Python, `v = 1` in PowerShell hashtables, `-ne 1` next to a version check.
LITERAL_VERSION = re.compile(r"""(["']v["']\s*:\s*\d)|(\bv\s*=\s*\d)|(\$version\s+-ne\s+\d)""")


def test_new_request_is_checked_by_the_codec_before_any_host_is_contacted() -> None:
    with pytest.raises(RequestError) as caught:
        new_request(
            [{"op": "registry_get", "id": "r", "path": r"HKCU\Software"}], check=True, backup_dir=None
        )
    assert caught.value.field == "ops[0].path" and "only HKLM" in str(caught.value)
    with pytest.raises(RequestError, match="backup folder is required"):
        new_request(
            [{"op": "registry_set", "id": "w", "path": r"HKLM\SOFTWARE\x", "values": []}],
            check=False,
            backup_dir=None,
        )


def test_new_request_carries_the_one_protocol_version() -> None:
    assert (
        new_request([{"op": "host_facts", "id": "facts"}], check=True, backup_dir=None)["v"]
        == PROTOCOL_VERSION
    )


def test_the_shipped_executor_and_the_bootstrap_take_the_version_from_the_codec() -> None:
    assert f"$ProtocolVersion = {PROTOCOL_VERSION}\n" in script_text()
    assert f'"v":{PROTOCOL_VERSION},"ok":false' in bootstrap.BOOTSTRAP_PS1


def test_no_source_file_spells_the_version_as_a_literal() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".py", ".ps1") or path.name == "codec.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if LITERAL_VERSION.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []
