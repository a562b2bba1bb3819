"""The PowerShell static checker over what vipctl ships, and proof that it finds each defect class.

The rules that need comments (a reason next to a silenced error or an empty catch, no other
trailing comments) run on the authored parts; shipping strips comments, so the shipped form is
checked with every other rule, and checked to contain no comment at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ps_static_check import CMDLET_TABLE, PARSER, Finding, check, functions_of, text_of, walk

from vipctl.executor import PARTS, generated_lines, part_text, script_text, strip_for_shipping
from vipctl.executor.bootstrap import BOOTSTRAP_PS1


def _authored_pieces() -> list[tuple[str, str]]:
    """(name, text) in shipping order: the parts as written, and after the header the lines the
    Python side writes into the shipped script (`generated_lines`)."""
    pieces = [(name, part_text(name)) for name in PARTS]
    pieces.insert(1, ("(generated)", generated_lines()))
    return [(name, text if text.endswith("\n") else text + "\n") for name, text in pieces]


def authored_script() -> str:
    """The parts joined as written, comments and all (line numbers map back to the parts)."""
    return "".join(text for _name, text in _authored_pieces())


def where(line: int) -> str:
    start = 1
    for name, text in _authored_pieces():
        count = text.count("\n")
        if line < start + count:
            return f"{name}:{line - start + 1}"
        start += count
    return f"line {line}"


def described(findings: list[Finding]) -> list[str]:
    return [f"{where(f.line)}: {f.rule}: {f.message}" for f in findings]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def seeded(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"seed anchor not found: {old!r}"
    return text.replace(old, new, 1)


# ---------------------------------------------------------------- what ships is clean


def test_the_authored_parts_are_clean() -> None:
    assert described(check(authored_script())) == []


def test_the_shipped_script_is_clean() -> None:
    assert [str(f) for f in check(script_text(), comments=False)] == []


def test_the_bootstrap_is_clean() -> None:
    assert [str(f) for f in check(BOOTSTRAP_PS1)] == []


@pytest.mark.parametrize("name", PARTS)
def test_each_part_has_no_comment_finding(name: str) -> None:
    # Per part as well, so a reason comment cannot sit in a different part from its line.
    found = [
        f for f in check(part_text(name)) if f.rule in ("silenced-error", "empty-catch", "trailing-comment")
    ]
    assert [str(f) for f in found] == []


def test_the_shipped_script_has_no_comments_and_parses() -> None:
    tree = PARSER.parse(script_text().encode("utf-8"))
    kinds = {node.type for node in walk(tree.root_node)}
    assert "comment" not in kinds
    assert not tree.root_node.has_error


def _without_comments_by_tree(text: str) -> str:
    """What shipping must produce, computed from tree-sitter's comment nodes: every comment
    removed, trailing blanks and then blank lines dropped (here-string bodies are kept as they are)."""
    data = text.encode("utf-8")
    tree = PARSER.parse(data)
    pieces: list[bytes] = []
    last = 0
    for node in walk(tree.root_node):
        if node.type == "comment":
            pieces.append(data[last : node.start_byte])
            last = node.end_byte
    pieces.append(data[last:])
    kept = []
    inside_here_string = False
    for line in b"".join(pieces).decode("utf-8").splitlines():
        if inside_here_string:
            kept.append(line)
            inside_here_string = not line.startswith(("'@", '"@'))
            continue
        if line.strip():
            kept.append(line.rstrip())
            inside_here_string = line.rstrip().endswith(("@'", '@"'))
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("name", PARTS)
def test_shipping_removes_exactly_the_comments_tree_sitter_finds(name: str) -> None:
    assert strip_for_shipping(part_text(name)) == _without_comments_by_tree(part_text(name))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Get-Item -ErrorAction SilentlyContinue # why", "Get-Item -ErrorAction SilentlyContinue"),
        ("$s = 'a # b'", "$s = 'a # b'"),
        ('$s = "a # b" # why', '$s = "a # b"'),
        ("$s = 'it''s # data'", "$s = 'it''s # data'"),
        ("$n = $a#b", "$n = $a#b"),
        ('$s = "say `" # still the string" # why', '$s = "say `" # still the string"'),
        ("$s = 'a `' # b' # why", "$s = 'a `'"),
    ],
)
def test_trailing_comment_stripping(line: str, expected: str) -> None:
    assert strip_for_shipping(line + "\n") == expected + "\n"


# ---------------------------------------------------------------- the cmdlet table


def test_every_cmdlet_in_the_table_names_its_reference_page() -> None:
    table = json.loads(CMDLET_TABLE.read_text(encoding="utf-8"))
    for name, entry in table["commands"].items():
        assert entry["source"].startswith("https://learn.microsoft.com/en-us/powershell/module/"), name
        if "/microsoft.powershell." in entry["source"] or "/cimcmdlets/" in entry["source"]:
            assert "view=powershell-5.1" in entry["source"], name
    for name, url in table["native_programs"].items():
        assert url.startswith("https://learn.microsoft.com/"), name


def test_every_command_the_scripts_call_is_in_the_table_or_defined() -> None:
    # The table is the list of what is used: nothing in it goes unused for long unnoticed.
    table = json.loads(CMDLET_TABLE.read_text(encoding="utf-8"))
    tree = PARSER.parse((script_text() + "\n" + BOOTSTRAP_PS1).encode("utf-8"))
    called = {text_of(n).lower() for n in walk(tree.root_node) if n.type == "command_name"}
    listed = {name.lower() for name in table["commands"]} | {
        name.lower() for name in table["native_programs"]
    }
    assert sorted(name for name in listed if name not in called) == []


# ---------------------------------------------------------------- each defect class is found


def test_the_old_duplicate_invoke_tsvipset_is_found() -> None:
    # The executor before this fix: the WMI writer and the tsvip_set handler shared one name.
    old = script_text().replace("Invoke-TsVipMethod", "Invoke-TsVipSet")
    found = [f for f in check(old, comments=False) if f.rule == "duplicate-function"]
    assert len(found) == 1 and "Invoke-TsVipSet" in found[0].message


def test_a_duplicate_function_differing_in_case_is_found() -> None:
    text = seeded(
        authored_script(),
        "function Test-IsList($Value) {",
        "function test-islist { 1 }\nfunction Test-IsList($Value) {",
    )
    assert "duplicate-function" in rules(check(text))


def test_a_call_to_an_undefined_command_is_found() -> None:
    text = seeded(
        authored_script(),
        "Get-CimInstance -ClassName Win32_OperatingSystem",
        "Get-CimInstanse -ClassName Win32_OperatingSystem",
    )
    found = [f for f in check(text) if f.rule == "unknown-command"]
    assert len(found) == 1 and "Get-CimInstanse" in found[0].message


def test_a_call_to_an_undefined_script_function_is_found() -> None:
    text = seeded(
        authored_script(), "$wanted = Get-Field $Op 'properties'", "$wanted = Get-Feld $Op 'properties'"
    )
    assert "unknown-command" in rules(check(text))


def test_a_named_argument_a_function_does_not_declare_is_found() -> None:
    text = seeded(
        authored_script(),
        "$file = Get-RequiredString $Op 'file'",
        "$file = Get-RequiredString -Op $Op -Field 'file'",
    )
    found = [f for f in check(text) if f.rule == "unknown-parameter"]
    assert len(found) == 1 and "-field" in found[0].message


def test_a_named_argument_a_cmdlet_does_not_have_is_found() -> None:
    text = seeded(authored_script(), "Test-Path -LiteralPath", "Test-Path -FullPath")
    found = [f for f in check(text) if f.rule == "unknown-parameter"]
    assert len(found) == 1 and "Test-Path -fullpath" in found[0].message


def test_a_powershell_7_only_parameter_is_an_unknown_parameter() -> None:
    text = seeded(
        authored_script(),
        "ConvertTo-Json -Depth 20 -Compress)",
        "ConvertTo-Json -Depth 20 -Compress -AsArray)",
    )
    assert "unknown-parameter" in rules(check(text))


def test_too_many_positional_arguments_to_a_function_are_found() -> None:
    text = seeded(
        authored_script(),
        "Invoke-TsVipMethod $Instance 'VirtualIPMode' 1",
        "Invoke-TsVipMethod $Instance 'VirtualIPMode' 1 $true",
    )
    found = [f for f in check(text) if f.rule == "too-many-positional"]
    assert len(found) == 1 and "Invoke-TsVipMethod takes 3" in found[0].message


def test_too_many_positional_arguments_to_a_cmdlet_are_found() -> None:
    text = seeded(authored_script(), "Test-Path -LiteralPath $root)", "Test-Path $root $root)")
    assert "too-many-positional" in rules(check(text))


def test_a_variable_read_before_assignment_is_found() -> None:
    text = seeded(
        authored_script(), "$file = Get-RequiredString $Op 'file'", "$path = Get-RequiredString $Op 'file'"
    )
    found = [f for f in check(text) if f.rule == "unassigned-variable"]
    assert found and all("$file" in f.message or "${file}" in f.message for f in found)


def test_a_variable_assigned_on_one_branch_only_is_found() -> None:
    # Test-Condition assigns $list on both branches; without the else, StrictMode stops on $hasIn false.
    text = seeded(
        authored_script(),
        "    else {\n        $list = Get-Field $Condition 'not_in'\n    }\n",
        "",
    )
    found = [f for f in check(text) if f.rule == "unassigned-variable"]
    assert found and all("$list" in f.message for f in found)


def test_a_variable_assigned_only_in_a_try_whose_catch_goes_on_is_found() -> None:
    # Invoke-TsVipRestore's catch stops the op; if it went on, $saved could be unassigned.
    text = seeded(
        authored_script(),
        "        Stop-Op 'bad_request' \"not a vipctl tsvip backup (not JSON): $file\"",
        "        $null = $_",
    )
    found = [f for f in check(text) if f.rule == "unassigned-variable"]
    assert found and all("$saved" in f.message for f in found)


def test_a_script_variable_set_only_after_the_first_call_is_found() -> None:
    # Functions run from the dispatcher's call at the end; a script variable first assigned
    # after that call (or only inside another function) is not there yet when they read it.
    text = seeded(
        authored_script(), "    $file = Get-RequiredString $Op 'file'\n", "    $file = $script:Late\n"
    )
    text += "$script:Late = 'x'\n"
    found = [f for f in check(text) if f.rule == "unassigned-variable"]
    assert found and all("$script:Late" in f.message for f in found)


def test_the_handler_table_names_functions_defined_once_that_take_the_op() -> None:
    # The dispatcher calls `& $OpHandlers[$name] $Op`: each name must be one function with one
    # parameter, or a second definition (as Invoke-TsVipSet once had) silently takes its place.
    table = re.search(r"\$OpHandlers = @\{(.*?)\n\}", script_text(), re.DOTALL)
    assert table is not None
    handlers = re.findall(r"=\s*'([\w-]+)'", table.group(1))
    assert len(handlers) >= 10
    functions = functions_of(PARSER.parse(script_text().encode("utf-8")).root_node)
    for name in handlers:
        infos = functions.get(name.lower(), [])
        assert len(infos) == 1, f"{name} is defined {len(infos)} time(s)"
        assert [p for p, _switch in infos[0].parameters] == ["op"], f"{name} takes {infos[0].parameters}"


def test_convertto_json_without_compress_is_found() -> None:
    text = seeded(
        authored_script(),
        "($saved | ConvertTo-Json -Depth 20 -Compress)",
        "($saved | ConvertTo-Json -Depth 20)",
    )
    found = [f for f in check(text) if f.rule == "convertto-json"]
    assert len(found) == 1 and "-Compress" in found[0].message


def test_convertto_json_without_depth_is_found() -> None:
    text = seeded(authored_script(), "ConvertTo-Json -Depth 20 -Compress)", "ConvertTo-Json -Compress)")
    found = [f for f in check(text) if f.rule == "convertto-json"]
    assert len(found) == 1 and "-Depth" in found[0].message


def test_silently_continue_without_a_reason_is_found() -> None:
    text = re.sub(r" # absent on a client OS, answered below", "", part_text("50_features.ps1"))
    found = [f for f in check(text) if f.rule == "silenced-error"]
    assert len(found) == 1


@pytest.mark.parametrize(
    "silencing",
    [
        "-ErrorAction Ignore",
        "-ea:0",
        "-ErrorAction ([System.Management.Automation.ActionPreference]::SilentlyContinue)",
        "2>$null",
        "2> $null",
        "*>$null",
        "2>&1 > $null",
    ],
)
def test_every_spelling_of_a_silenced_error_is_found(silencing: str) -> None:
    text = seeded(
        authored_script(),
        "if (-not (Test-Path -LiteralPath $root)) {",
        f"if (-not (Test-Path -LiteralPath $root {silencing})) {{",
    )
    found = [f for f in check(text) if f.rule == "silenced-error"]
    assert len(found) == 1, found


def test_silenced_error_preference_without_a_reason_is_found() -> None:
    text = seeded(
        part_text("20_registry.ps1"),
        "$ErrorActionPreference = 'Continue'",
        "$ErrorActionPreference = 'SilentlyContinue'",
    )
    assert "silenced-error" in rules(check(text))


def test_an_empty_catch_without_a_reason_is_found() -> None:
    text = seeded(
        authored_script(),
        "    catch {\n        Stop-Op 'bad_request' \"not a vipctl tsvip backup (not JSON): $file\"\n    }",
        "    catch {\n    }",
    )
    assert "empty-catch" in rules(check(text))


def test_an_empty_catch_with_a_reason_on_its_line_is_accepted() -> None:
    assert check("try { Get-Item -LiteralPath 'a' } catch { } # best effort: the key may be gone\n") == []


def test_an_empty_catch_with_a_reason_inside_is_accepted() -> None:
    assert (
        check("try { Get-Item -LiteralPath 'a' } catch {\n    # best effort: the key may be gone\n}\n") == []
    )


def test_a_trailing_comment_that_is_not_a_reason_is_found() -> None:
    text = seeded(
        part_text("90_dispatch.ps1"), "    $index = -1\n", "    $index = -1 # before the first op\n"
    )
    assert "trailing-comment" in rules(check(text))


def test_a_block_comment_is_found() -> None:
    text = "<#\n  shipping would keep this\n#>\n" + part_text("50_features.ps1")
    assert "trailing-comment" in rules(check(text))


def test_the_checker_sees_no_defect_in_ordinary_51_code() -> None:
    # Control: the patterns the executor relies on are not flagged.
    snippet = """
function Get-Thing([string]$Name, [switch]$Force) {
    if ($Force) { $value = 1 } else { $value = 2 }
    foreach ($item in @(1, 2)) { $value += $item }
    try { $read = Get-Item -LiteralPath $Name } catch { throw }
    $list = @($read | ForEach-Object { $_.Name } | Where-Object { $_ -match 'x' })
    for ($i = 0; $i -lt $list.Count; $i++) { $value += $i }
    return "$Name $value $($list.Count) $env:COMPUTERNAME $script:Global"
}
$script:Global = 1
Write-Output (Get-Thing -Name 'a' -Force | ConvertTo-Json -Depth 3 -Compress)
"""
    assert [str(f) for f in check(snippet)] == []


def test_the_table_path_is_next_to_the_checker() -> None:
    assert Path(__file__).with_name("ps51_cmdlets.json") == CMDLET_TABLE
