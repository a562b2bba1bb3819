"""Issue 9's smaller points, each pinned: compact JSON backups (executor and twin alike), the
Winsock fix as KB 4501072 prescribes it, and no stale UNCONFIRMED on a documented WMI method."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vector_support import build_host, load

from vipctl import executor
from vipctl.executor import PARTS, part_text
from vipctl.sim.twin.dispatch import run_request

REPO = Path(__file__).resolve().parents[2]
FACTS = REPO / "docs" / "windows-facts.md"
VECTORS = Path(__file__).with_name("vectors")


def github_anchor(heading: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def fact_anchors() -> set[str]:
    headings = re.findall(r"^### (.+)$", FACTS.read_text(encoding="utf-8"), re.MULTILINE)
    return {github_anchor(h) for h in headings}


def test_every_json_backup_the_executor_writes_is_compressed() -> None:
    for name in PARTS:
        for line in part_text(name).splitlines():
            if "WriteAllText" in line and "ConvertTo-Json" in line:
                assert "-Compress" in line, f"{name}: {line.strip()}"


def test_the_twin_writes_json_backups_on_one_line_as_convertto_json_compress_does() -> None:
    vector = load(VECTORS / "tsvip_set_with_backup.json")
    host = build_host(vector)
    run_request(host, json.dumps(vector["request"]))
    saved = host.files.read("C:\\ProgramData\\vipctl\\backups\\20261126T120000Z-0001\\tsvip.json")
    assert saved is not None
    text = saved.decode("utf-8")
    assert "\n" not in text and ": " not in text and ", " not in text
    assert json.loads(text) == {"properties": {"VirtualIPActive": 0, "VirtualIPMode": 1,
                                               "VirtualizeLoopbackAddressesEnabled": 0}}  # fmt: skip


def test_no_unconfirmed_remark_next_to_the_documented_loopback_method() -> None:
    lines = part_text("30_tsvip.ps1").splitlines()
    for index, line in enumerate(lines):
        if "SetVirtualizeLoopbackAddressesEnabled" in line:
            nearby = "\n".join(lines[max(0, index - 3) : index + 1])
            assert "UNCONFIRMED" not in nearby
            assert (
                "docs/windows-facts.md#win32_tsvirtualip-set-methods-name-their-parameter-after-the-property"
                in nearby
            )


def test_the_winsock_fix_says_what_kb_4501072_prescribes() -> None:
    source = (REPO / "python" / "src" / "vipctl" / "registry_map.py").read_text(encoding="utf-8")
    assert "as KB 4501072 itself prescribes" in source
    assert "kb-4501072-renames-the-winsock-catalog-entry-2c69d9f1" in fact_anchors()


def test_facts_cited_by_the_executor_twin_and_model_exist() -> None:
    roots = [REPO / "python" / "src" / "vipctl" / sub for sub in ("executor", "sim/twin", "sim/model")]
    files = [p for root in roots for p in root.rglob("*") if p.suffix in (".ps1", ".py")]
    files.append(REPO / "python" / "src" / "vipctl" / "registry_map.py")
    files.append(Path(__file__).with_name("ps51_cmdlets.json"))
    anchors = fact_anchors()
    cited = {
        (path.name, anchor)
        for path in files
        for anchor in re.findall(r"docs/windows-facts\.md#([\w\-]+)", path.read_text(encoding="utf-8"))
    }
    assert cited, "nothing cites a fact yet"
    assert sorted(c for c in cited if c[1] not in anchors) == []


def test_the_shipped_script_never_writes_a_backup_with_indentation() -> None:
    # The joined, shipped form: what runs on a host.
    for line in executor.script_text().splitlines():
        if "ConvertTo-Json" in line:
            assert "-Compress" in line, line
