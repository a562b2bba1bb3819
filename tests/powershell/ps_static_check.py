"""A static checker for the executor's PowerShell, built on tree-sitter-powershell.

PowerShell is not installed here, so this reads the script the way Windows PowerShell 5.1 would
run it and reports what would fail there, or fail silently:

- `duplicate-function`: a function defined twice (names are case-insensitive; the last wins);
- `unknown-command`: a call to something the script does not define and that is not in the
  checked-in table of Windows PowerShell 5.1 cmdlets and native programs (ps51_cmdlets.json);
- `unknown-parameter`: a named argument the callee's `param` block (or the table) does not have,
  or that matches several parameters by prefix;
- `too-many-positional`: more positional arguments than the callee binds by position;
- `unassigned-variable`: a variable read before it is certainly assigned in its scope, which
  `Set-StrictMode -Version Latest` turns into a run-time error;
- `convertto-json`: `ConvertTo-Json` without both `-Depth` and `-Compress` (the default depth of
  2 silently truncates, and without -Compress a backup or reply is pretty-printed);
- `silenced-error`: `-ErrorAction SilentlyContinue`/`Ignore` (by name, number or enum),
  `$ErrorActionPreference` set to either, or the error stream redirected to `$null`, without a
  comment on the same line saying why;
- `empty-catch`: a `catch` with no statements, without a comment on its line (or in the block)
  saying why;
- `trailing-comment`: a comment after code on a line that is not one of the two above (shipping
  strips whole-line comments and only these trailing reasons), or a `<# #>` block comment.

The variable rule is a definite-assignment analysis over the syntax tree. Where it cannot decide
soundly it reports (a false positive is fixed in the script, or explained with `# allow: ...`
on the line), rather than staying silent. Functions see the script scope as it is when the top
level first calls a function (the dispatcher, at the end); they do not see their callers' locals
(PowerShell's dynamic scoping would allow it, but nothing here relies on it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

PARSER = Parser(Language(tree_sitter_powershell.language()))
CMDLET_TABLE = Path(__file__).with_name("ps51_cmdlets.json")

# Automatic and preference variables Windows PowerShell 5.1 defines in every scope
# (about_Automatic_Variables, about_Preference_Variables).
AUTOMATIC_VARIABLES = frozenset(
    {
        "_", "psitem", "input", "args", "matches", "null", "true", "false", "lastexitcode", "?", "^", "$",
        "psscriptroot", "pscommandpath", "myinvocation", "psboundparameters", "pscmdlet", "executioncontext",
        "host", "home", "pid", "pshome", "psversiontable", "psculture", "psuiculture", "shellid", "error",
        "this", "foreach", "switch", "stacktrace", "pwd", "ofs", "nestedpromptlevel",
        "psdefaultparametervalues",
        "erroractionpreference", "progresspreference", "verbosepreference", "warningpreference",
        "debugpreference", "informationpreference", "confirmpreference", "whatifpreference",
        "outputencoding", "maximumhistorycount", "psmoduleautoloadingpreference", "pssessionoption",
        "event", "eventargs", "eventsubscriber", "sender", "consolefilename",
    }
)  # fmt: skip
SCOPE_PREFIXES = ("script:", "global:", "local:", "private:")
# ActionPreference values that drop an error: by name, or by number (SilentlyContinue = 0, Ignore = 4).
SILENCING_ACTIONS = ("silentlycontinue", "ignore", "0", "4")
# The grammar reads `2>$null` (no space) as a bare word; PowerShell reads it as a redirection.
REDIRECTION_WORD = re.compile(r"^[1-6*]?>>?(?:&[1-6])?")
# Statements after which the current path never continues.
DIVERGING_KEYWORDS = frozenset({"return", "throw", "exit", "break", "continue"})


@dataclass(frozen=True, order=True)
class Finding:
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class Callee:
    """What a call is checked against: parameter names (lower case) -> switch?, and how many
    arguments bind by position (-1: any number)."""

    name: str
    parameters: dict[str, bool]
    aliases: dict[str, str] = field(default_factory=dict)
    positional: int = 0
    native: bool = False


# ---------------------------------------------------------------- tree helpers


def walk(node: Node) -> Iterator[Node]:
    """The node and its descendants in source order (iterative: the trees are deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def line_of(node: Node) -> int:
    return node.start_point[0] + 1


def child_of_type(node: Node, *types: str) -> Node | None:
    return next((child for child in node.children if child.type in types), None)


def variable_name(node: Node) -> str:
    """`$Foo`, `${Foo}`, `@Foo` and `$script:Foo` as lower-case `foo` / `script:foo`."""
    name = text_of(node).lstrip("$@")
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1]
    return name.lower()


# ---------------------------------------------------------------- the cmdlet table


@lru_cache(maxsize=1)
def cmdlet_table() -> tuple[dict[str, Callee], dict[str, str]]:
    """Callees by lower-case name, and command aliases (lower case -> lower-case target)."""
    raw = json.loads(CMDLET_TABLE.read_text(encoding="utf-8"))
    common = raw["common_parameters"]
    common_parameters = {name.lower(): kind == "switch" for name, kind in common["parameters"].items()}
    common_aliases = {alias.lower(): target.lower() for alias, target in common["aliases"].items()}
    callees: dict[str, Callee] = {}
    for name, entry in raw["commands"].items():
        parameters = {p.lower(): kind == "switch" for p, kind in entry["parameters"].items()}
        aliases = {a.lower(): t.lower() for a, t in entry.get("aliases", {}).items()}
        callees[name.lower()] = Callee(
            name=name,
            parameters={**common_parameters, **parameters},
            aliases={**common_aliases, **aliases},
            positional=int(entry["positional"]),
        )
    for name in raw["native_programs"]:
        callees[name.lower()] = Callee(name=name, parameters={}, native=True)
    command_aliases = {alias.lower(): target.lower() for alias, target in raw["command_aliases"].items()}
    return callees, command_aliases


# ---------------------------------------------------------------- script functions


@dataclass
class FunctionInfo:
    name: str
    node: Node
    parameters: list[tuple[str, bool]]  # (lower-case name, is switch) in declared order
    advanced: bool
    reads_args: bool


def _parameter_nodes(function: Node) -> tuple[list[Node], bool]:
    """The script_parameter nodes of `function F(...)` or of the body's `param(...)`, and whether
    the param block makes it an advanced function ([CmdletBinding()] or [Parameter()])."""
    declaration = child_of_type(function, "function_parameter_declaration")
    body = child_of_type(function, "script_block")
    param_block = child_of_type(body, "param_block") if body is not None else None
    holder = declaration if declaration is not None else param_block
    if holder is None:
        return [], False
    parameter_list = child_of_type(holder, "parameter_list")
    parameters = (
        [] if parameter_list is None else [c for c in parameter_list.children if c.type == "script_parameter"]
    )
    attributes = " ".join(text_of(n).lower() for n in walk(holder) if n.type == "attribute")
    advanced = "cmdletbinding" in attributes or "[parameter" in attributes or "parameter(" in attributes
    return parameters, advanced


def _is_switch(parameter: Node) -> bool:
    for node in walk(parameter):
        if node.type == "type_literal" and text_of(node).lower().replace(" ", "") in (
            "[switch]",
            "[system.management.automation.switchparameter]",
        ):
            return True
    return False


def functions_of(root: Node) -> dict[str, list[FunctionInfo]]:
    found: dict[str, list[FunctionInfo]] = {}
    for node in walk(root):
        if node.type != "function_statement":
            continue
        name_node = child_of_type(node, "function_name")
        if name_node is None:
            continue
        parameter_nodes, advanced = _parameter_nodes(node)
        parameters = []
        for parameter in parameter_nodes:
            variable = child_of_type(parameter, "variable")
            if variable is not None:
                parameters.append((variable_name(variable), _is_switch(parameter)))
        reads_args = re.search(r"\$args\b", text_of(node), re.IGNORECASE) is not None
        info = FunctionInfo(text_of(name_node), node, parameters, advanced, reads_args)
        found.setdefault(text_of(name_node).lower(), []).append(info)
    return found


def callee_for_function(info: FunctionInfo) -> Callee:
    parameters = dict(info.parameters)
    aliases: dict[str, str] = {}
    if info.advanced:
        # Advanced functions ([CmdletBinding()], [Parameter()]) take the common parameters too.
        common = json.loads(CMDLET_TABLE.read_text(encoding="utf-8"))["common_parameters"]
        parameters.update({name.lower(): kind == "switch" for name, kind in common["parameters"].items()})
        aliases = {alias.lower(): target.lower() for alias, target in common["aliases"].items()}
    positional = sum(1 for _name, switch in info.parameters if not switch)
    if info.reads_args and not info.advanced:
        # A simple function's extra positional arguments land in $args, which it reads.
        positional = -1
    return Callee(name=info.name, parameters=parameters, aliases=aliases, positional=positional)


# ---------------------------------------------------------------- calls and arguments


@dataclass
class Call:
    node: Node
    name: str
    named: list[tuple[Node, str, Node | None]]  # (parameter node, lower-case name without '-', value)
    positional: list[Node]
    splatted: bool


def command_name_of(command: Node) -> str | None:
    """The literal name a command calls, or None for `& $variable` and other computed calls."""
    name = child_of_type(command, "command_name")
    if name is None:
        expression = child_of_type(command, "command_name_expr")
        if expression is not None:
            name = child_of_type(expression, "command_name")
            if name is None and expression.children and expression.children[0].type == "string_literal":
                literal = text_of(expression.children[0])
                if literal[:1] in "'\"" and "$" not in literal:
                    return literal[1:-1]
    return None if name is None else text_of(name)


def parse_call(command: Node, callee: Callee | None) -> Call | None:
    name = command_name_of(command)
    if name is None:
        return None
    elements_node = child_of_type(command, "command_elements")
    elements = [] if elements_node is None else _arguments(elements_node)
    separators = [] if elements_node is None else list(elements_node.children)
    named: list[tuple[Node, str, Node | None]] = []
    positional: list[Node] = []
    splatted = False
    index = 0
    while index < len(elements):
        element = elements[index]
        index += 1
        if element.type == "command_parameter":
            parameter = text_of(element).lstrip("-").rstrip(":").lower()
            value: Node | None = None
            colon = text_of(element).endswith(":") or _followed_by_colon(element, separators)
            is_switch = callee is not None and _resolve(callee, parameter)[1] is True
            if (
                index < len(elements)
                and elements[index].type != "command_parameter"
                and (colon or not is_switch)
            ):
                value = elements[index]
                index += 1
            named.append((element, parameter, value))
            continue
        if text_of(element).startswith("@") and not text_of(element).startswith(("@(", "@{", "@'", '@"')):
            # Splatting (`@parameters`): what it binds is only known at run time.
            splatted = True
            continue
        positional.append(element)
    return Call(command, name, named, positional, splatted)


def _arguments(elements_node: Node) -> list[Node]:
    """The arguments of a command. `$list.ToArray()` is one argument to PowerShell; the grammar
    gives the `()` as a separate argument_list, which is folded back here."""
    arguments: list[Node] = []
    previous: Node | None = None
    for child in elements_node.children:
        if child.type == "argument_list" and previous is not None and previous.type != "command_argument_sep":
            previous = child
            continue
        previous = child
        if child.type == "generic_token" and REDIRECTION_WORD.match(text_of(child)):
            continue
        if child.type not in ("command_argument_sep", "redirection"):
            arguments.append(child)
    return arguments


def _followed_by_colon(element: Node, siblings: list[Node]) -> bool:
    for position, sibling in enumerate(siblings):
        if sibling == element and position + 1 < len(siblings):
            following = siblings[position + 1]
            return following.type == "command_argument_sep" and text_of(following).strip() == ":"
    return False


def _resolve(callee: Callee, parameter: str) -> tuple[str | None, bool | None, str]:
    """(full parameter name, is switch, problem) as PowerShell binds `-parameter`: an exact name or
    alias, else a unique prefix."""
    if parameter in callee.parameters:
        return parameter, callee.parameters[parameter], ""
    if parameter in callee.aliases:
        target = callee.aliases[parameter]
        return target, callee.parameters.get(target), ""
    matches = sorted(
        {name for name in callee.parameters if name.startswith(parameter)}
        | {target for alias, target in callee.aliases.items() if alias.startswith(parameter)}
    )
    if len(matches) == 1:
        return matches[0], callee.parameters.get(matches[0]), ""
    if not matches:
        return None, None, "no such parameter"
    return None, None, "ambiguous: " + ", ".join(matches)


# ---------------------------------------------------------------- the checker


class Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tree = PARSER.parse(source.encode("utf-8"))
        self.root = self.tree.root_node
        self.findings: list[Finding] = []
        self.nodes = list(walk(self.root))
        self.functions = functions_of(self.root)
        self.comment_lines = self._comment_lines()

    def report(self, node: Node, rule: str, message: str) -> None:
        self.findings.append(Finding(line_of(node), rule, message))

    def _comment_lines(self) -> dict[int, str]:
        lines: dict[int, str] = {}
        for node in self.nodes:
            if node.type == "comment":
                lines[line_of(node)] = text_of(node)
        return lines

    def has_reason(self, line: int) -> bool:
        comment = self.comment_lines.get(line, "")
        return len(comment.lstrip("#").strip()) >= 3

    # ------------------------------------------------------------ rules

    def check_duplicates(self) -> None:
        for infos in self.functions.values():
            for duplicate in infos[1:]:
                first = line_of(infos[0].node)
                self.report(
                    duplicate.node,
                    "duplicate-function",
                    f"function {duplicate.name} is already defined on line {first}; "
                    "PowerShell keeps only the last",
                )

    def callee(self, name: str) -> Callee | None:
        lowered = name.lower()
        infos = self.functions.get(lowered)
        if infos:
            return callee_for_function(infos[-1])
        table, command_aliases = cmdlet_table()
        lowered = command_aliases.get(lowered, lowered)
        return table.get(lowered)

    def check_calls(self) -> None:
        for node in self.nodes:
            if node.type != "command":
                continue
            name = command_name_of(node)
            if name is None:
                continue
            callee = self.callee(name)
            if callee is None:
                self.report(
                    node,
                    "unknown-command",
                    f"{name} is not defined in the script and is not a Windows PowerShell 5.1 cmdlet "
                    "in tests/powershell/ps51_cmdlets.json",
                )
                continue
            if callee.native:
                continue
            call = parse_call(node, callee)
            if call is None:
                continue
            bound_by_name: set[str] = set()
            for parameter_node, parameter, _value in call.named:
                full, _switch, problem = _resolve(callee, parameter)
                if full is None:
                    self.report(parameter_node, "unknown-parameter", f"{name} -{parameter}: {problem}")
                else:
                    bound_by_name.add(full)
            if call.splatted or callee.positional < 0:
                continue
            free = callee.positional
            infos = self.functions.get(name.lower())
            if infos:
                positional_names = [p for p, switch in infos[-1].parameters if not switch]
                free = len([p for p in positional_names if p not in bound_by_name])
            if len(call.positional) > free:
                self.report(
                    node,
                    "too-many-positional",
                    f"{name} takes {free} positional argument(s) here, given {len(call.positional)}",
                )

    def check_convertto_json(self) -> None:
        table = cmdlet_table()[0]
        callee = table["convertto-json"]
        for node in self.nodes:
            if node.type != "command" or (command_name_of(node) or "").lower() != "convertto-json":
                continue
            call = parse_call(node, callee)
            given = {_resolve(callee, named[1])[0] for named in (call.named if call else [])}
            missing = [f"-{p.capitalize()}" for p in ("depth", "compress") if p not in given]
            if missing:
                self.report(node, "convertto-json", "ConvertTo-Json without " + " and ".join(missing))

    def silencing(self, node: Node) -> str | None:
        """What `node` silences, if it is `-ErrorAction SilentlyContinue|Ignore` or an assignment of
        either to $ErrorActionPreference."""
        if node.type == "command_parameter":
            parameter = text_of(node).lstrip("-").rstrip(":").lower()
            if parameter != "ea" and not (len(parameter) >= 6 and "erroraction".startswith(parameter)):
                return None
            value = node.next_named_sibling
            while value is not None and value.type == "command_argument_sep":
                value = value.next_named_sibling
            if value is not None and _silencing_value(text_of(value)):
                return f"-ErrorAction {text_of(value)}"
        elif node.type == "assignment_expression":
            target = text_of(node.children[0]).lower().replace("$script:", "$").replace("$global:", "$")
            if target.strip() == "$erroractionpreference" and _silencing_value(text_of(node.children[-1])):
                return f"$ErrorActionPreference = {text_of(node.children[-1]).strip()}"
        elif node.type == "command":
            redirections = _redirections(node)
            to_null = [target for op, target in redirections if target == "$null"]
            errors_to_null = any(op[:1] in "2*" for op, target in redirections if target == "$null")
            merged = any(op == "2>&1" for op, _target in redirections)
            if errors_to_null or (merged and to_null):
                return "error stream redirected to $null"
        return None

    def check_silenced_errors(self) -> None:
        for node in self.nodes:
            silenced = self.silencing(node)
            if silenced is not None and not self.has_reason(line_of(node)):
                self.report(node, "silenced-error", f"{silenced} without a comment on the line saying why")

    def check_empty_catch(self) -> None:
        for node in self.nodes:
            if node.type != "catch_clause":
                continue
            block = child_of_type(node, "statement_block")
            statements = child_of_type(block, "statement_list") if block is not None else None
            has_code = statements is not None and any(c.type != "comment" for c in statements.children)
            # The reason may sit on the catch line or inside the empty block.
            inside = block is not None and any(
                n.type == "comment" and len(text_of(n).lstrip("#").strip()) >= 3 for n in walk(block)
            )
            if not has_code and not inside and not self.has_reason(line_of(node)):
                self.report(node, "empty-catch", "empty catch block without a comment on its line saying why")

    def check_comments(self) -> None:
        # A trailing comment may only give the reason for a silenced error or a catch, or allow a
        # variable finding (`# allow: ...`).
        reason_lines = {
            line_of(node)
            for node in self.nodes
            if node.type == "catch_clause" or self.silencing(node) is not None
        }
        reason_lines |= {line for line, text in self.comment_lines.items() if _is_allow(text)}
        lines = self.source.splitlines()
        for node in self.nodes:
            if node.type != "comment":
                continue
            text = text_of(node)
            if text.startswith("<#"):
                self.report(
                    node, "trailing-comment", "block comment <# #>: use # lines (shipping strips only those)"
                )
                continue
            before = lines[node.start_point[0]][: node.start_point[1]]
            if before.strip() and line_of(node) not in reason_lines:
                self.report(
                    node,
                    "trailing-comment",
                    "comment after code: put it on its own line "
                    "(only the reason for a silenced error may trail)",
                )

    # ------------------------------------------------------------ variables

    def check_variables(self) -> None:
        diverging = self._diverging_functions()
        flow = _Flow(self, frozenset(), diverging)
        assigned: frozenset[str] = frozenset()
        param_block = child_of_type(self.root, "param_block")
        if param_block is not None:
            flow.expression(param_block, frozenset(), parameters_only=True)
            assigned = frozenset(
                variable_name(v) for v in walk(param_block) if v.type == "variable" and v.parent is not None
                and v.parent.type == "script_parameter"
            )  # fmt: skip
        # Functions see the script scope as it is when the script first calls one of them: what
        # the top level has certainly assigned by then (a later assignment, or one a function
        # makes with $script:, may not have happened yet when another function reads it).
        at_first_call: frozenset[str] | None = None
        for statement in self._top_statements():
            if at_first_call is None and self._calls_a_function(statement):
                at_first_call = assigned
            assigned, ends = flow.statement(statement, assigned)
            if ends:
                break
        script_level = assigned if at_first_call is None else at_first_call
        flow.script_level = script_level
        flow.top_level = False
        for infos in self.functions.values():
            for info in infos:
                initial = frozenset(name for name, _switch in info.parameters) | script_level
                body = child_of_type(info.node, "script_block")
                if body is None:
                    continue
                declaration = child_of_type(info.node, "function_parameter_declaration")
                holder = declaration if declaration is not None else child_of_type(body, "param_block")
                if holder is not None:
                    flow.expression(holder, script_level, parameters_only=True)
                flow.block_statements(_statements_of(body), initial)

    def _calls_a_function(self, statement: Node) -> bool:
        """Whether a top-level statement may run a script function: a call by name, or a
        computed call (`& $table[$name]`)."""
        for node in walk(statement):
            if node.type == "function_statement":
                return False
            if node.type == "command":
                name = command_name_of(node)
                if name is None or name.lower() in self.functions:
                    return True
        return False

    def _top_statements(self) -> list[Node]:
        statement_list = child_of_type(self.root, "statement_list")
        return [] if statement_list is None else list(statement_list.children)

    def _diverging_functions(self) -> frozenset[str]:
        """Functions whose body always ends by throwing (such as Stop-Op)."""
        diverging: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, infos in self.functions.items():
                body = child_of_type(infos[-1].node, "script_block")
                if name in diverging or body is None:
                    continue
                statements = [s for s in _statements_of(body) if s.type != "comment"]
                if statements and _ends_by_throwing(statements[-1], diverging):
                    diverging.add(name)
                    changed = True
        return frozenset(diverging)

    def run(self) -> list[Finding]:
        self.check_duplicates()
        self.check_calls()
        self.check_convertto_json()
        self.check_silenced_errors()
        self.check_empty_catch()
        self.check_variables()
        return sorted(set(self.findings))


def _statements_of(node: Node) -> list[Node]:
    """The statements of a script_block / statement_block / script_block_body."""
    if node.type == "script_block":
        body = child_of_type(node, "script_block_body")
        return [] if body is None else _statements_of(body)
    statement_list = child_of_type(node, "statement_list")
    return [] if statement_list is None else list(statement_list.children)


def _ends_by_throwing(statement: Node, diverging: set[str]) -> bool:
    if statement.type == "flow_control_statement":
        return statement.children[0].type == "throw"
    if statement.type == "pipeline":
        commands = [c for c in walk(statement) if c.type == "command"]
        return len(commands) == 1 and (command_name_of(commands[0]) or "").lower() in diverging
    return False


def _assigned_names(assignment: Node) -> list[str]:
    """Plain variables a simple `=` assigns (`$a = `, `[int]$a = `, `$a, $b = `)."""
    operator = child_of_type(assignment, "assignement_operator")
    if operator is None or text_of(operator).strip() != "=":
        return []
    target = assignment.children[0]
    names = []
    for node in walk(target):
        if node.type in ("member_access", "element_access", "invokation_expression"):
            return []
        if node.type == "variable":
            names.append(variable_name(node))
    return names


class _Flow:
    """Definite assignment: which variables are certainly assigned at each point of a scope."""

    def __init__(self, checker: Checker, script_level: frozenset[str], diverging: frozenset[str]) -> None:
        self.checker = checker
        self.script_level = script_level
        self.diverging = diverging
        self.top_level = True
        self.reported: set[tuple[int, int]] = set()

    # A statement returns (assigned after it, whether the path ends there).
    def block_statements(
        self, statements: list[Node], assigned: frozenset[str]
    ) -> tuple[frozenset[str], bool]:
        for statement in statements:
            assigned, ends = self.statement(statement, assigned)
            if ends:
                return assigned, True
        return assigned, False

    def block(self, node: Node | None, assigned: frozenset[str]) -> tuple[frozenset[str], bool]:
        if node is None:
            return assigned, False
        return self.block_statements(_statements_of(node), assigned)

    def statement(self, node: Node, assigned: frozenset[str]) -> tuple[frozenset[str], bool]:
        kind = node.type
        if kind in ("comment", "empty_statement", "function_statement", "{", "}", ";"):
            return assigned, False
        if kind == "if_statement":
            return self.if_statement(node, assigned)
        if kind == "foreach_statement":
            collection = child_of_type(node, "pipeline")
            if collection is not None:
                assigned = self.expression(collection, assigned)
            variable = child_of_type(node, "variable")
            inner = assigned | {variable_name(variable)} if variable is not None else assigned
            self.block(child_of_type(node, "statement_block"), inner)
            return assigned, False
        if kind == "for_statement":
            for part in ("for_initializer", "for_condition"):
                piece = child_of_type(node, part)
                if piece is not None:
                    assigned = self.expression(piece, assigned)
            body_after = self.block(child_of_type(node, "statement_block"), assigned)[0]
            iterator = child_of_type(node, "for_iterator")
            if iterator is not None:
                self.expression(iterator, body_after)
            return assigned, False
        if kind == "while_statement":
            condition = child_of_type(node, "while_condition")
            if condition is not None:
                assigned = self.expression(condition, assigned)
            self.block(child_of_type(node, "statement_block"), assigned)
            return assigned, False
        if kind == "do_statement":
            body_after = self.block(child_of_type(node, "statement_block"), assigned)[0]
            condition = child_of_type(node, "while_condition")
            if condition is not None:
                self.expression(condition, body_after)
            return assigned, False
        if kind == "try_statement":
            return self.try_statement(node, assigned)
        if kind == "switch_statement":
            condition = child_of_type(node, "switch_condition")
            if condition is not None:
                assigned = self.expression(condition, assigned)
            body = child_of_type(node, "switch_body")
            if body is not None:
                for clause in walk(body):
                    if clause.type == "switch_clause":
                        for part in clause.children:
                            if part.type == "statement_block":
                                self.block(part, assigned)
                            else:
                                self.expression(part, assigned)
            return assigned, False
        if kind == "flow_control_statement":
            for child in node.children[1:]:
                assigned = self.expression(child, assigned)
            return assigned, node.children[0].type in DIVERGING_KEYWORDS
        if kind == "trap_statement":
            return assigned, False
        if kind in ("statement_block", "script_block"):
            return self.block(node, assigned)
        after = self.expression(node, assigned)
        ends = kind == "pipeline" and _ends_by_throwing(node, set(self.diverging))
        return after, ends

    def if_statement(self, node: Node, assigned: frozenset[str]) -> tuple[frozenset[str], bool]:
        outcomes: list[frozenset[str]] = []
        has_else = False
        condition = child_of_type(node, "pipeline")
        current = self.expression(condition, assigned) if condition is not None else assigned
        after, ends = self.block(child_of_type(node, "statement_block"), current)
        if not ends:
            outcomes.append(after)
        clauses = child_of_type(node, "elseif_clauses")
        for clause in [] if clauses is None else [c for c in clauses.children if c.type == "elseif_clause"]:
            condition = child_of_type(clause, "pipeline")
            if condition is not None:
                current = self.expression(condition, current)
            after, ends = self.block(child_of_type(clause, "statement_block"), current)
            if not ends:
                outcomes.append(after)
        else_clause = child_of_type(node, "else_clause")
        if else_clause is not None:
            has_else = True
            after, ends = self.block(child_of_type(else_clause, "statement_block"), current)
            if not ends:
                outcomes.append(after)
        if not has_else:
            outcomes.append(current)
        if not outcomes:
            return current, True
        return frozenset.intersection(*outcomes), False

    def try_statement(self, node: Node, assigned: frozenset[str]) -> tuple[frozenset[str], bool]:
        outcomes: list[frozenset[str]] = []
        after, ends = self.block(child_of_type(node, "statement_block"), assigned)
        if not ends:
            outcomes.append(after)
        clauses = child_of_type(node, "catch_clauses")
        for clause in [] if clauses is None else [c for c in clauses.children if c.type == "catch_clause"]:
            # The try block may have stopped anywhere: the catch starts from what was assigned before it.
            after, ends = self.block(child_of_type(clause, "statement_block"), assigned)
            if not ends:
                outcomes.append(after)
        finally_clause = child_of_type(node, "finally_clause")
        finally_assigned: frozenset[str] = frozenset()
        if finally_clause is not None:
            after = self.block(child_of_type(finally_clause, "statement_block"), assigned)[0]
            finally_assigned = after - assigned
        if clauses is None and finally_clause is not None:
            # try/finally without catch: an exception leaves the scope, so only the try path goes on.
            pass
        if not outcomes:
            return assigned | finally_assigned, True
        return frozenset.intersection(*outcomes) | finally_assigned, False

    def expression(
        self, node: Node, assigned: frozenset[str], parameters_only: bool = False
    ) -> frozenset[str]:
        """Reads and assignments inside an expression, in evaluation order."""
        kind = node.type
        if kind == "assignment_expression":
            operator = child_of_type(node, "assignement_operator")
            value = node.children[-1]
            if value.type in ("if_statement", "foreach_statement", "switch_statement", "try_statement"):
                assigned = self.statement(value, assigned)[0]
            else:
                assigned = self.expression(value, assigned)
            names = _assigned_names(node)
            if names:
                # The target's own cast (`[int]$a = `) reads nothing; member and index targets read.
                for target in walk(node.children[0]):
                    if target.type in ("sub_expression", "parenthesized_expression"):
                        assigned = self.expression(target, assigned)
                return assigned | {_unscoped(name) for name in names}
            if operator is not None and text_of(operator).strip() != "=":
                assigned = self.expression(node.children[0], assigned)
                return assigned | set(_unscoped(n) for n in self._plain_targets(node.children[0]))
            return self.expression(node.children[0], assigned)
        if kind == "variable":
            self.read(node, assigned)
            return assigned
        if kind in ("script_block_expression", "script_block"):
            self.script_block(node, assigned)
            return assigned
        if kind == "function_statement":
            return assigned
        if kind in ("if_statement", "foreach_statement", "while_statement", "for_statement", "try_statement",
                    "switch_statement", "do_statement"):  # fmt: skip
            # Statements inside $( ) run in order too.
            after = self.statement(node, assigned)[0]
            return after
        if kind == "statement_list":
            after = self.block_statements(list(node.children), assigned)[0]
            return after
        if kind == "command":
            assigned = self.command(node, assigned)
            return assigned
        if kind == "script_parameter" and parameters_only:
            # A default value is evaluated with what the caller's scope has; the parameter itself is bound.
            for child in node.children:
                if child.type != "variable":
                    assigned = self.expression(child, assigned)
            return assigned
        for child in node.children:
            assigned = self.expression(child, assigned, parameters_only)
        return assigned

    def command(self, node: Node, assigned: frozenset[str]) -> frozenset[str]:
        # Script-block arguments (ForEach-Object, Where-Object) are analysed where they appear,
        # from what is assigned there; what they assign does not count after the command, since
        # they may run zero times.
        named_variables: set[str] = set()
        for child in node.children:
            if child.type != "command_elements":
                assigned = self.expression(child, assigned)
                continue
            elements = [c for c in child.children if c.type != "command_argument_sep"]
            for position, element in enumerate(elements):
                if element.type == "command_parameter" and position + 1 < len(elements):
                    parameter = text_of(element).lstrip("-").rstrip(":").lower()
                    if parameter in ("outvariable", "ov", "errorvariable", "ev", "pipelinevariable", "pv"):
                        named_variables.add(text_of(elements[position + 1]).strip("'\"").lstrip("+").lower())
                assigned = self.expression(element, assigned)
        return assigned | named_variables

    def script_block(self, node: Node, assigned: frozenset[str]) -> None:
        parameters = {variable_name(v) for v in walk(node) if v.type == "variable" and v.parent is not None
                      and v.parent.type == "script_parameter"}  # fmt: skip
        body = child_of_type(node, "script_block") if node.type == "script_block_expression" else node
        if body is None:
            return
        self.block(body, assigned | parameters)

    def _plain_targets(self, target: Node) -> list[str]:
        return [variable_name(n) for n in walk(target) if n.type == "variable"]

    def read(self, node: Node, assigned: frozenset[str]) -> None:
        name = variable_name(node)
        if ":" in name:
            scope, bare = name.split(":", 1)
            if scope in ("script", "global"):
                if (
                    bare in self.script_level
                    or bare in AUTOMATIC_VARIABLES
                    or (self.top_level and bare in assigned)
                ):
                    return
                name = bare
            elif scope in ("local", "private"):
                name = bare
            else:
                return  # $env:, $function:, $variable: and other provider paths
        if name in AUTOMATIC_VARIABLES or name in assigned:
            return
        key = (node.start_byte, node.end_byte)
        if key in self.reported:
            return
        self.reported.add(key)
        if self.checker.has_reason(line_of(node)) and "allow" in self.checker.comment_lines.get(
            line_of(node), ""
        ):
            return
        self.checker.report(
            node,
            "unassigned-variable",
            f"{text_of(node)} may be read before it is assigned in this scope "
            "(Set-StrictMode -Version Latest stops here)",
        )


def _silencing_value(text: str) -> bool:
    value = text.strip().strip("()").strip().strip("'\"").lower()
    return value in SILENCING_ACTIONS or value.endswith(("::silentlycontinue", "::ignore"))


def _redirections(command: Node) -> list[tuple[str, str]]:
    """(operator, target) of a command's redirections, e.g. ("2>", "$null"), ("2>&1", "")."""
    found: list[tuple[str, str]] = []
    elements = child_of_type(command, "command_elements")
    for node in [] if elements is None else elements.children:
        if node.type == "redirection":
            operator = node.children[0]
            target = child_of_type(node, "redirected_file_name")
            found.append(
                (text_of(operator).strip(), "" if target is None else text_of(target).strip().lower())
            )
        elif node.type == "generic_token":
            match = REDIRECTION_WORD.match(text_of(node))
            if match:
                found.append((match.group(0), text_of(node)[match.end() :].strip().lower()))
    return found


def _is_allow(comment: str) -> bool:
    """`# allow: <reason>`: a finding on this line was judged and the reason is given."""
    body = comment.lstrip("#").strip()
    return body.lower().startswith("allow:") and len(body) > len("allow:") + 3


def _unscoped(name: str) -> str:
    for prefix in SCOPE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def check(source: str, *, comments: bool = True) -> list[Finding]:
    """Every finding in `source`. With `comments=False` the comment rules are skipped, for the
    shipped form, whose comments were stripped (the authored parts carry the reasons)."""
    checker = Checker(source)
    findings = checker.run()
    if comments:
        checker.findings = list(findings)
        checker.check_comments()
        return sorted(set(checker.findings))
    return [f for f in findings if f.rule not in ("silenced-error", "empty-catch", "trailing-comment")]
