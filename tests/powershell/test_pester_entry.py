"""The Pester suite's inputs are the controller's: the same bootstrap command line, the same
stdin frames, and the suite runs them through a fresh powershell.exe, not by dot-sourcing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pester_entry import frame_for_request

from vipctl.executor import bootstrap, script_bytes
from vipctl.sim.winrs_command_line import is_bootstrap, powershell_script

HERE = Path(__file__).resolve().parent
ENTRY = HERE / "pester_entry.py"
PESTER = HERE / "vipctl.Tests.ps1"
VECTORS = sorted((HERE / "vectors").glob("*.json"))


def entry(*args: str) -> bytes:
    done = subprocess.run([sys.executable, str(ENTRY), *args], check=True, capture_output=True, timeout=60)
    return done.stdout


def test_the_command_line_is_the_controllers_bootstrap() -> None:
    line = entry("command").decode("ascii").strip()
    assert line == bootstrap.command_line()
    script = powershell_script(line)
    assert script is not None and is_bootstrap(script)
    # Windows PowerShell 5.1 itself, never a profile; the Pester suite splits the program from
    # its arguments at the first space.
    assert re.match(r"^powershell(\.exe)? ", line)
    assert "-NoProfile" in line.split()


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_each_vector_frame_carries_the_shipped_script_and_the_request(path: Path) -> None:
    frame = frame_for_request(json.loads(path.read_text(encoding="utf-8"))["request"])
    assert frame.endswith(b"\r\n") and frame.count(b"\r\n") == 2
    script, request_text = bootstrap.parse_stdin_frame(frame)
    assert script == script_bytes()
    request = json.loads(path.read_text(encoding="utf-8"))["request"]
    if isinstance(request, str):
        assert request_text == request
    else:
        assert json.loads(request_text) == request


def test_the_vector_command_writes_the_vectors_frame() -> None:
    path = HERE / "vectors" / "malformed_not_json.json"
    request = json.loads(path.read_text(encoding="utf-8"))["request"]
    assert entry("vector", str(path)) == frame_for_request(request)


def test_a_request_file_becomes_the_same_frame_as_the_transport_sends(tmp_path: Path) -> None:
    request = {
        "v": 1,
        "check": False,
        "backup_dir": None,
        "ops": [{"op": "registry_get", "path": "HKLM\\SOFTWARE\\Ünï"}],
    }
    file = tmp_path / "request.json"
    file.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    assert entry("frame", "--file", str(file)) == bootstrap.stdin_frame(request)


def test_raw_request_text_is_sent_as_it_is(tmp_path: Path) -> None:
    file = tmp_path / "request.txt"
    file.write_bytes("{not json ü".encode())
    request_text = bootstrap.parse_stdin_frame(entry("frame", "--raw", "--file", str(file)))[1]
    assert request_text == "{not json ü"


def test_the_pester_suite_runs_the_entry_path_not_the_script() -> None:
    text = PESTER.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    # Inputs from the controller's code ...
    assert "pester_entry.py" in code
    assert re.search(r"& \$script:Python \$script:Entry command", code)
    assert re.search(r"& \$script:Python \$script:Entry vector \$VectorFile", code)
    # ... run by a fresh process with stdin redirected ...
    assert "RedirectStandardInput = $true" in code
    assert "$info.FileName = $script:EntryFile" in code
    assert "$info.Arguments = $script:EntryArguments" in code
    # ... never the script itself, dot-sourced, called or given -RequestBase64.
    assert not re.search(r"(?im)^\s*\.\s+\S", code)
    assert "RequestBase64" not in code
    assert not re.search(r"(?i)vipctl\.ps1'|executor\\\\ps|\.ps1'\)", code)
    assert "Invoke-Executor $vector.request $File" in code
