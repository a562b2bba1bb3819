"""Print vipctl's import graph between its parts, with every import cycle.

    .venv/bin/python -m tools.import_graph [--src python/src]

A part is a subpackage or top-level module of `vipctl` (`vipctl.sim.model`, `vipctl.tasks`, ...);
the simulator's parts are one level deeper, because the simulator has layers of its own. Imports
under `if TYPE_CHECKING:` count too: they are what a reader follows. The `importlinter` contracts
in the repository's `.importlinter` file forbid the cycles and upward imports this shows;
`make test` checks them.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import grimp

PACKAGE = "vipctl"
DEEPER = ("vipctl.sim", "vipctl.executor")


def part_of(module: str) -> str:
    for parent in DEEPER:
        if module.startswith(parent + "."):
            return ".".join(module.split(".")[:3])
    return ".".join(module.split(".")[:2])


def part_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            source, target = part_of(importer), part_of(imported)
            if source != target and not target.startswith(source + ".") and source != PACKAGE:
                edges[source].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(set(edges) | {t for targets in edges.values() for t in targets}):
        if node not in index:
            visit(node)
    return found


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    return cycles(edges)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="python/src", help="the folder holding the vipctl package")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(args.src).resolve()))
    graph = grimp.build_graph(PACKAGE, include_external_packages=False)
    edges = part_edges(graph)
    count = sum(len(targets) for targets in edges.values())
    print(f"{len(graph.modules)} modules, {len(edges)} importing parts, {count} part-to-part imports")
    for source in sorted(edges):
        print(f"{source} -> {', '.join(sorted(edges[source]))}")
    part_groups = cycles(edges)
    print(f"cycles between parts: {len(part_groups)}")
    for group in part_groups:
        print("  " + " <-> ".join(group))
    groups = module_cycles(graph)
    print(f"cycles between modules: {len(groups)}")
    for group in groups:
        print("  " + " <-> ".join(group))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
