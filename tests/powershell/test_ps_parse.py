"""Every PowerShell file in the repository parses and stays within Windows PowerShell 5.1.

PowerShell itself is not installed here, so tree-sitter-powershell stands in for its parser.
The 5.1 check walks syntax nodes, so a string or comment that merely mentions `&&` or `??`
does not trip it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from vipctl import registry_map
from vipctl.executor import PARTS, bootstrap, codec, script_text

REPO = Path(__file__).resolve().parents[2]
PARSER = Parser(Language(tree_sitter_powershell.language()))

# Parameters that only PowerShell 7 has, per command (lower case; PowerShell accepts any
# unambiguous prefix, so a parameter is matched by prefix).
PS7_ONLY_PARAMETERS = {
    "foreach-object": ("-parallel", "-throttlelimit", "-timeoutseconds", "-asjob"),
    "%": ("-parallel", "-throttlelimit", "-timeoutseconds", "-asjob"),
    "convertfrom-json": ("-ashashtable", "-depth", "-noenumerate", "-datekind"),
    "convertto-json": ("-asarray", "-escapehandling", "-enumsasstrings"),
    "get-content": ("-asbytestream",),
    "set-content": ("-asbytestream",),
    "invoke-webrequest": ("-skipcertificatecheck",),
    "invoke-restmethod": ("-skipcertificatecheck",),
}
PS7_ONLY_COMMANDS = {"test-json", "join-string", "get-error", "convertfrom-markdown", "clean"}
PS7_ONLY_VARIABLES = {"$iswindows", "$islinux", "$ismacos", "$iscoreclr", "$psstyle"}


def repository_ps1_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.ps1"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    files = {REPO / name for name in listed if not name.startswith(".venv/")}
    return sorted(path for path in files if path.is_file())


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def parse_problems(source: str) -> list[str]:
    tree = PARSER.parse(source.encode("utf-8"))
    problems = []
    for node in walk(tree.root_node):
        if node.is_error or node.is_missing:
            kind = "missing" if node.is_missing else "syntax error"
            line = node.start_point[0] + 1
            problems.append(f"line {line}: {kind} near {text_of(node)[:60]!r}")
    return problems


def ps7_problems(source: str) -> list[str]:
    tree = PARSER.parse(source.encode("utf-8"))
    problems = []
    for node in walk(tree.root_node):
        line = node.start_point[0] + 1
        if node.type == "pipeline_chain_tail":
            problems.append(f"line {line}: pipeline chain operator {text_of(node).strip()!r} (PowerShell 7)")
        elif node.type == "ERROR" and "?" in text_of(node):
            # The 5.1 grammar has no `??`, `??=`, `?.`, `?[` or `a ? b : c`; they only show up as errors.
            problems.append(f"line {line}: null-conditional or ternary operator (PowerShell 7)")
        elif node.type == "ERROR" and re.search(r"\bclean\b", text_of(node), re.IGNORECASE):
            problems.append(f"line {line}: clean block (PowerShell 7.3)")
        elif node.type == "variable" and text_of(node).lower() in PS7_ONLY_VARIABLES:
            problems.append(f"line {line}: automatic variable {text_of(node)} (PowerShell 7)")
        elif node.type == "command":
            problems.extend(_command_problems(node, line))
    return problems


def _command_problems(command: Node, line: int) -> list[str]:
    name_node = command.child_by_field_name("command_name") or next(
        (child for child in command.children if child.type == "command_name"), None
    )
    if name_node is None:
        return []
    name = text_of(name_node).lower()
    if name in PS7_ONLY_COMMANDS:
        return [f"line {line}: command {text_of(name_node)} (PowerShell 7)"]
    forbidden = PS7_ONLY_PARAMETERS.get(name, ())
    problems = []
    for node in walk(command):
        if node.type == "command_parameter":
            parameter = text_of(node).lower().rstrip(":")
            if any(full.startswith(parameter) and len(parameter) > 2 for full in forbidden):
                problems.append(f"line {line}: {text_of(name_node)} {text_of(node)} (PowerShell 7)")
    return problems


PS1_FILES = repository_ps1_files()


def test_every_executor_part_is_among_the_checked_files() -> None:
    for name in PARTS:
        assert REPO / "python/src/vipctl/executor/ps" / name in PS1_FILES


def test_every_authored_part_is_shipped() -> None:
    on_disk = {path.name for path in (REPO / "python/src/vipctl/executor/ps").glob("*.ps1")}
    assert on_disk == set(PARTS)


def test_the_shipped_executor_parses_as_windows_powershell_51() -> None:
    assert parse_problems(script_text()) == []


@pytest.mark.parametrize("path", PS1_FILES, ids=[str(p.relative_to(REPO)) for p in PS1_FILES])
def test_ps1_file_parses(path: Path) -> None:
    assert parse_problems(path.read_text(encoding="utf-8-sig")) == []


@pytest.mark.parametrize("path", PS1_FILES, ids=[str(p.relative_to(REPO)) for p in PS1_FILES])
def test_ps1_file_uses_only_windows_powershell_51_syntax(path: Path) -> None:
    assert ps7_problems(path.read_text(encoding="utf-8-sig")) == []


def test_bootstrap_parses_and_stays_51() -> None:
    assert parse_problems(bootstrap.BOOTSTRAP_PS1) == []
    assert ps7_problems(bootstrap.BOOTSTRAP_PS1) == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("Get-Item a && Get-Item b", "pipeline chain"),
        ("Get-Item a || Get-Item b", "pipeline chain"),
        ("$a = $b ?? 1", "null-conditional"),
        ("$a ??= 1", "null-conditional"),
        ("$a = $b ? 1 : 2", "null-conditional"),
        ("$n = $o?.Name", "null-conditional"),
        ("1..3 | ForEach-Object -Parallel { $_ }", "-Parallel"),
        ("$j | ConvertFrom-Json -AsHashtable", "-AsHashtable"),
        ("$j | ConvertFrom-Json -Depth 5", "-Depth"),
        ("function f { process { 1 } clean { 2 } }", "clean block"),
        ("if ($IsWindows) { 1 }", "automatic variable"),
    ],
)
def test_ps7_syntax_is_detected(snippet: str, expected: str) -> None:
    assert any(expected in problem for problem in ps7_problems(snippet)), ps7_problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "$s = 'a && b ?? c'",
        '$s = "x ?. y || z"',
        "# ForEach-Object -Parallel is PowerShell 7 only\n$x = 1",
        "$o | ConvertTo-Json -Depth 20 -Compress",
        "$j | ConvertFrom-Json",
        "Get-ChildItem | Where-Object { $_.Name }",
    ],
)
def test_51_syntax_is_not_flagged(snippet: str) -> None:
    assert parse_problems(snippet) == []
    assert ps7_problems(snippet) == []


def test_parse_problems_reports_broken_syntax() -> None:
    assert parse_problems("if ($a) { 1") != []


def test_executor_handles_exactly_the_ops_the_codec_knows() -> None:
    table = re.search(r"\$OpHandlers = @\{(.*?)\n\}", script_text(), re.DOTALL)
    assert table is not None
    handled = set(re.findall(r"^\s*(\w+)\s*=", table.group(1), re.MULTILINE))
    # `require` is evaluated by the run loop itself, since it needs the earlier results.
    assert handled | {"require"} == set(codec.OP_SPECS)


def test_executor_never_names_the_tsvip_local_store() -> None:
    # The local store is written only through WMI
    # (docs/windows-facts.md#the-local-store-is-written-only-through-wmi), so the executor has no
    # reason to know its key (tsvip_set backs up WMI values, tsvip_restore puts them back by WMI).
    local = registry_map.RDS_LOCAL_KEY.split("\\", 1)[1].lower()
    assert local not in script_text().lower()


def test_executor_runs_no_request_text_as_code() -> None:
    tree = PARSER.parse(script_text().encode("utf-8"))
    names = {text_of(n).lower() for n in walk(tree.root_node) if n.type == "command_name"}
    assert not names & {"invoke-expression", "iex"}
    # The executor never builds a script block from text; only the bootstrap does, from the shipped file.
    assert "scriptblock]::create" not in script_text().lower()
