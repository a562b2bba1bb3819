"""JSON field names as the executor sees them: PowerShell looks names up case-insensitively.

`ConvertFrom-Json` objects (`PSObject.Properties[...]`) and PowerShell's own hashtables and
`[ordered]` tables all ignore case (docs/windows-facts.md#field-names-and-op-ids-are-case-insensitive),
so `{"Path": ...}` is the executor's `path`, and an op id `"Facts"` is the `ref` `"facts"`. Two
names that differ only in case cannot both be read, and Windows PowerShell 5.1's `ConvertFrom-Json`
refuses such an object outright."""

from __future__ import annotations

from typing import Any


def reject_case_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads` object hook: a dict, or ValueError for names that differ only in case."""
    seen: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, value in pairs:
        first = seen.setdefault(name.lower(), name)
        if first != name:
            raise ValueError(
                "Cannot convert the JSON string because a dictionary that was converted from the "
                f"string contains the duplicated keys '{first}' and '{name}'."
            )
        out[name] = value
    return out


def folded(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with lower-case field names: for objects whose fields are all protocol names."""
    return {name.lower(): value for name, value in obj.items()}


def field(obj: dict[str, Any], name: str) -> Any:
    """`Get-Field`: the value of `name` in any case, else None."""
    if name in obj:
        return obj[name]
    lowered = name.lower()
    return next((value for key, value in obj.items() if key.lower() == lowered), None)


def canonical(name: str, known: list[str] | tuple[str, ...] | dict[str, Any]) -> str:
    """`name` spelled as in `known` when it matches one of them in any case, else unchanged."""
    return next((k for k in known if k.lower() == name.lower()), name)
