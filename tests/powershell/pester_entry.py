"""What the Pester suite sends to powershell.exe, made by the controller's own code.

The Pester suite (vipctl.Tests.ps1) runs the executor the way vipctl and Ansible do: a fresh
`powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <bootstrap>`
with the stdin frame (shipped script, request) redirected in. So that it can never drift from
the controller, it asks this script for both:

    python tests/powershell/pester_entry.py command         # the command line, one line
    python tests/powershell/pester_entry.py frame --file req.json   # the stdin frame of a request object
    python tests/powershell/pester_entry.py frame --raw --file req.txt  # ... of request text sent as is
    python tests/powershell/pester_entry.py vector <file>   # the stdin frame for a contract vector

Frames are written to stdout as ASCII (base64 lines with CRLF), exactly the bytes a transport
sends. Needs the vipctl package importable (pip install -e python/).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from vipctl.executor import bootstrap


def frame_for_text(text: str) -> bytes:
    """A frame whose request line carries `text` byte for byte (malformed-request vectors)."""
    script_line = bootstrap.stdin_frame({}).split(b"\r\n", 1)[0]
    request_line = base64.b64encode(text.encode("utf-8"))
    return script_line + b"\r\n" + request_line + b"\r\n"


def frame_for_request(request: Any) -> bytes:
    if isinstance(request, str):
        return frame_for_text(request)
    return bootstrap.stdin_frame(request)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="what", required=True)
    commands.add_parser("command", help="print the powershell.exe command line")
    frame = commands.add_parser("frame", help="write the stdin frame of a request (UTF-8 JSON file)")
    frame.add_argument("--raw", action="store_true", help="the file is the request text itself")
    frame.add_argument("--file", type=Path, required=True)
    vector = commands.add_parser("vector", help="write the stdin frame of a contract vector's request")
    vector.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.what == "command":
        sys.stdout.write(bootstrap.command_line() + "\n")
        return 0
    if args.what == "frame":
        # A file, not a pipe: Windows PowerShell 5.1 pipes text to a program as ASCII by default.
        text = args.file.read_bytes().decode("utf-8-sig")
        data = frame_for_text(text) if args.raw else frame_for_request(json.loads(text))
    else:
        data = frame_for_request(json.loads(args.file.read_text(encoding="utf-8"))["request"])
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
