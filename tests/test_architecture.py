"""The package's import graph follows the layers of ``docs/architecture.md``.

Every ``alkit`` module belongs to one layer of the table in that page; a module imports only from
its own layer or lower ones (at module level or inside a function: a lazy import is still an
arrow), no group of modules imports itself round in a cycle, and no module outside the package
facade imports the facade (``alkit/__init__.py``), which imports everything.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "alkit"
DOC = ROOT / "docs" / "architecture.md"
MAX_LINES = 550  # "no module over about 500 lines"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _exists(name: str) -> bool:
    p = ROOT / Path(*name.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def internal_imports(path: Path) -> set[str]:
    """Every ``alkit`` module ``path`` imports, at any depth of the file."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "alkit"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "alkit":
                continue
            for alias in node.names:  # `from . import x` imports the submodule x
                sub = f"{target}.{alias.name}"
                out.add(sub if _exists(sub) else target)
    out.discard(me)
    return out


def layers() -> dict[str, int]:
    """``{module prefix: layer number}`` from the table of docs/architecture.md."""
    table = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|[^|]*\|([^|]*)\|", line)
        if m:
            for name in re.findall(r"`([\w.]+)`", m.group(2)):
                table[f"alkit.{name}"] = int(m.group(1))
    return table


def layer_of(module: str, table: dict[str, int]) -> int | None:
    best = None
    for prefix, layer in table.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return None if best is None else best[1]


MODULES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {module_name(p): internal_imports(p) for p in MODULES}


def test_every_module_has_a_layer():
    table = layers()
    assert table, "docs/architecture.md has no layer table"
    missing = [m for m in GRAPH if m != "alkit" and layer_of(m, table) is None]
    assert not missing, f"modules missing from the layer table of docs/architecture.md: {missing}"


def test_no_import_from_a_higher_layer():
    table = layers()
    bad = []
    for mod, targets in GRAPH.items():
        if mod == "alkit":
            continue  # the facade re-exports the public API of every layer
        for t in targets:
            if t == "alkit":
                bad.append(f"{mod} imports the package facade `alkit`")
            elif layer_of(t, table) > layer_of(mod, table):
                bad.append(
                    f"{mod} (layer {layer_of(mod, table)}) imports {t} (layer {layer_of(t, table)})"
                )
    assert not bad, "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    graph = {m: t for m, t in GRAPH.items() if m != "alkit"}
    assert not _cycles(graph), f"import cycles: {_cycles(graph)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_module_size(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines; split it by concept"
