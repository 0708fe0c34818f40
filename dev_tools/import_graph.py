"""The suite's package-level import graph and its layering rules.

    python -m dev_tools.import_graph        # prints every edge, the cycles and the violations

Layers, bottom to top; a package may import only packages of lower layers (and freqtrade):

    0 kernel      centaur
    1 layers      freqai_models, risk_protections, sor_exchange, llm_layer
    2 top         strategies, centaur_plugins
    3 research    research, bench, dev_tools      (never imported by runtime code)

Within a layer packages are independent, except where ``ALLOWED`` says so.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

LAYERS: dict[str, int] = {
    "centaur": 0,
    "freqai_models": 1, "risk_protections": 1, "sor_exchange": 1, "llm_layer": 1,
    "control_tower": 2,
    "strategies": 3, "centaur_plugins": 3,
    "research": 4, "bench": 4, "dev_tools": 4,
}
ALLOWED: set[tuple[str, str]] = {
    ("research", "bench"), ("research", "dev_tools"),
    ("bench", "dev_tools"),
}
ROOT = Path(__file__).resolve().parents[1]


def edges(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importer, imported) -> the files with such an import (absolute imports only)."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in LAYERS and top != package:
                        found[(package, top)].append(str(path.relative_to(root)))
    return dict(found)


def cycles(graph: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Every package cycle (strongly connected component of more than one package)."""
    nodes = sorted(LAYERS)
    out = defaultdict(set)
    for a, b in graph:
        out[a].add(b)
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(out[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def violations(graph: dict[tuple[str, str], list[str]]) -> list[str]:
    """Imports that go up or sideways without an ``ALLOWED`` entry."""
    bad = []
    for (a, b), files in sorted(graph.items()):
        if LAYERS[b] >= LAYERS[a] and (a, b) not in ALLOWED:
            bad.append(f"{a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]}): "
                       f"{', '.join(sorted(set(files)))}")
    return bad


def main() -> int:
    graph = edges()
    for (a, b), files in sorted(graph.items()):
        print(f"{a} -> {b}  ({len(files)} imports)")
    found, bad = cycles(graph), violations(graph)
    for cycle in found:
        print("cycle:", " <-> ".join(cycle))
    for line in bad:
        print("violation:", line)
    print(f"packages {len(LAYERS)}; edges {len(graph)}; cycles {len(found)}; "
          f"violations {len(bad)}")
    return 1 if found or bad else 0


if __name__ == "__main__":
    sys.exit(main())
