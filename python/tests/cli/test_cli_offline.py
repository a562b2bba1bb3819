"""CLI commands that need no host: script, loopback, and bad input exiting 3 before any contact."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from vipctl.cli import main
from vipctl.executor import script_text

PARSER = Parser(Language(tree_sitter_powershell.language()))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err, stdin=io.StringIO()), out.getvalue(), err.getvalue()


def _errors(node: Node) -> list[Node]:
    found = [node] if node.is_error or node.is_missing else []
    for child in node.children:
        found += _errors(child)
    return found


def test_script_embeds_the_executor_and_the_request_as_data(tmp_path: Path) -> None:
    desired = tmp_path / "d.yml"
    hostile = "x'; Remove-Item C:\\ -Recurse; '.exe"
    desired.write_text(
        "vipctl_rds_ip_virtualization: {mode: per_program, programs: [crm.exe]}\n"
        f'vipctl_citrix_virtual_loopback: {{programs: [crm.exe], description: "{hostile}"}}\n',
        encoding="utf-8",
    )
    code, out, _ = run("script", "rds_ip_virtualization", "-d", str(desired), "--check")
    assert code == 0
    assert script_text().rstrip("\n") in out
    assert _errors(PARSER.parse(out.encode("utf-8")).root_node) == []
    encoded = re.search(r"RequestBase64 = '([A-Za-z0-9+/=]+)'", out)
    assert encoded is not None
    request = json.loads(base64.b64decode(encoded.group(1)))
    assert request["check"] is True
    assert any(op["op"] == "registry_set" for op in request["ops"])
    code, out, _ = run("script", "citrix_virtual_loopback", "-d", str(desired))
    assert code == 0 and hostile not in out  # the description travels only inside the base64 request
    assert _errors(PARSER.parse(out.encode("utf-8")).root_node) == []


def test_loopback_both_directions() -> None:
    code, out, _ = run("loopback", "5", "127.0.0.3", "--json")
    assert code == 0
    mappings = json.loads(out)["mappings"]
    assert mappings[0]["citrix_loopback"] == "127.0.0.6"
    assert mappings[1]["session_id"] == 2
    assert run("loopback", "10.0.0.1")[0] == 3


def test_bad_input_exits_3_and_says_why(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    vda01: {ansible_host: 127.0.0.1, ansible_user: u}\n")
    code, _, err = run("status", "-i", str(inventory))
    assert code == 3 and "VIPCTL_PASSWORD" in err
    assert run("status", "-i", str(tmp_path / "none.yml"))[0] == 3
    assert run("status", "-i", str(inventory), "-l", "nosuch")[0] == 3
    assert run("frobnicate")[0] == 3
    desired = tmp_path / "d.yml"
    desired.write_text("vipctl_prefer_loopback: {processes: [a/b.exe]}\n")
    code, _, err = run("apply", "-i", str(inventory), "-d", str(desired), "--check")
    assert code == 3 and "processes" in err


def test_rollback_with_a_bad_since_is_bad_input_before_any_host(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[rdsh]\nvda01 ansible_host=127.0.0.1 ansible_user=u ansible_password=p\n")
    code, _, err = run("rollback", "-i", str(inventory), "--since", "yesterday-ish")
    assert code == 3
    assert "since" in err
