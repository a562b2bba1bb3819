"""Argument specs derived from each module's DOCUMENTATION, so docs and validation cannot drift.

The docs stub in plugins/modules/<name>.py is the single source: option names, types, defaults,
choices and sub-options are read from it and handed to Ansible's ArgumentSpecValidator.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# libyaml where PyYAML has it: the docs are parsed once per controller, but still in its start-up.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SPEC_KEYS = ("type", "required", "default", "choices", "elements", "aliases", "no_log")


def documentation_of(module_file: Path) -> dict[str, Any]:
    """The parsed DOCUMENTATION of a docs-only module file (read as text, never imported)."""
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "DOCUMENTATION" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            doc = yaml.load(value, Loader=SAFE_LOADER)
            if isinstance(doc, dict):
                return doc
    raise ValueError(f"{module_file} has no DOCUMENTATION")


def options_to_spec(options: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for name, option in (options or {}).items():
        entry = {key: option[key] for key in _SPEC_KEYS if key in option}
        entry.setdefault("type", "str")
        if "suboptions" in option:
            entry["options"] = options_to_spec(option["suboptions"])
        spec[name] = entry
    return spec


@cache
def argument_spec_for(module_file: str) -> dict[str, Any]:
    return options_to_spec(documentation_of(Path(module_file)).get("options") or {})
