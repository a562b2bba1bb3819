"""`ansible-test sanity` on the collection (tests/sanity/run-sanity.sh) and its ignore file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SANITY_DIR = REPO / "tests" / "sanity"
RUNNER = SANITY_DIR / "run-sanity.sh"


def ignore_entries() -> list[tuple[int, str, str, str]]:
    """(line number, path, test, justification) for every entry of every ignore file."""
    entries = []
    for ignore_file in sorted(SANITY_DIR.glob("ignore-*.txt")):
        for number, line in enumerate(ignore_file.read_text(encoding="utf-8").splitlines(), start=1):
            entry, _sep, why = line.partition(" #")
            path, _sep, test = entry.strip().partition(" ")
            entries.append((number, path, test.strip(), why.strip()))
    return entries


def test_every_ignore_entry_is_justified() -> None:
    for number, path, test, why in ignore_entries():
        assert path and test, f"line {number}: expected '<path> <test>[:<code>] # <why>'"
        assert len(why) >= 20, f"line {number} ({path} {test}) needs a comment saying why it is ignored"
        assert (REPO / path).exists(), f"line {number}: {path} does not exist"


@pytest.mark.xdist_group("ansible_test")
@pytest.mark.skipif(
    os.environ.get("VIPCTL_SKIP_ANSIBLE_SANITY") == "1",
    reason="`make test` has already run `make sanity`",
)
def test_ansible_test_sanity_passes() -> None:
    proc = subprocess.run([str(RUNNER)], cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
