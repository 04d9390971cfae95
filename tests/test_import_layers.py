"""No import cycle between the parts of anchore, and each part imports only those below it.

A unit is a subpackage (``anchore.analysis``) or a top-level module
(``anchore.purls``) of anchore; the root ``anchore/__init__.py`` is left out, as
it gathers the public API and may import anything. Every ``import`` statement of
every module is read with ``ast``, including those inside functions (a
function-level import is still a dependency, only a hidden one). Imports in an
``if TYPE_CHECKING:`` block are left out: they exist for annotations only and
never run. Our built-ins reach the plugin registry by module name
(``anchore.plugins.DEFAULT_PLUGINS``), which is no import.
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

SRC = Path(__file__).parent.parent / "src"
PACKAGE = SRC / "anchore"

#: the target layering, lowest first: a unit may import units of its own level or below
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "errors",
        "limits",
        "documents",
        "ecosystems",
        "purls",
        "serialize",
        "plugins",
        "net",
        "display",
    ),
    ("registry",),
    ("image", "versions"),
    ("analysis",),
    ("analyzers", "vulns", "sbom"),
    ("policy", "query"),
    ("catalog", "report"),
    ("cli", "__main__"),
)
LEVEL = {f"anchore.{unit}": level for level, units in enumerate(LAYERS) for unit in units}

Edge = tuple[str, str, str]  # (target unit, file, line) for a source unit


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _unit(module: str) -> str | None:
    """``anchore.x`` for any module in ``anchore.x``; None for the root package."""
    parts = module.split(".")
    if parts[0] != "anchore" or len(parts) < 2:
        return None
    candidate = PACKAGE / parts[1]
    if candidate.is_dir() or candidate.with_suffix(".py").is_file():
        return f"anchore.{parts[1]}"
    return None  # a name defined in anchore/__init__.py (``from anchore import __version__``)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Every module ``tree`` imports at runtime, with its line."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:  # the else branch does run
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from anchore import errors`` imports the module anchore.errors
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
            found.append((base, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _edges() -> dict[str, set[Edge]]:
    edges: dict[str, set[Edge]] = collections.defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = _unit(module)
        if source is None:  # the root package
            continue
        tree = ast.parse(path.read_text(), str(path))
        for target_module, line in _imports(tree, module, path.name == "__init__.py"):
            target = _unit(target_module)
            if target is not None and target != source:
                edges[source].add((target, str(path.relative_to(SRC.parent)), line))
    return edges


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_no_import_cycle_between_units():
    edges = _edges()
    graph = {source: {t for t, _, _ in targets} for source, targets in edges.items()}
    report = []
    for component in _cycles(graph):
        report.append("cycle between " + ", ".join(component) + ":")
        for source in component:
            for target, path, line in sorted(edges[source]):
                if target in component:
                    report.append(f"  {path}:{line}: {source} imports {target}")
    assert not report, "\n" + "\n".join(report)


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {None}
    assert units <= set(LEVEL), f"add to LAYERS: {sorted(units - set(LEVEL))}"


def test_units_import_only_their_level_or_below():
    upward = [
        f"  {path}:{line}: {source} (level {LEVEL[source]}) imports {target} "
        f"(level {LEVEL[target]})"
        for source, targets in sorted(_edges().items())
        for target, path, line in sorted(targets)
        if source in LEVEL and target in LEVEL and LEVEL[target] > LEVEL[source]
    ]
    assert not upward, "\n" + "\n".join(upward)


def test_the_checker_sees_function_level_imports_and_skips_type_checking_blocks():
    code = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from anchore.policy import Gate\n"
        "def f():\n"
        "    from anchore.analysis import engine\n"
        "from . import sibling\n"
    )
    found = _imports(ast.parse(code), "anchore.vulns.load", is_package=False)
    modules = {m for m, _ in found}
    assert "anchore.analysis.engine" in modules
    assert "anchore.vulns.sibling" in modules
    assert not any(m.startswith("anchore.policy") for m in modules)


def test_no_function_level_import_of_anchore_below_the_cli():
    """A function-level import of our own modules dodges a cycle or hides a dependency; below
    the command line (which imports lazily to start fast) every import is at the top."""
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit(_module_name(path))
        if unit is None or LEVEL.get(unit, 0) >= LEVEL["anchore.cli"]:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden.extend(
                    f"  {path.relative_to(SRC.parent)}:{inner.lineno}: {ast.unparse(inner)}"
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Import | ast.ImportFrom)
                    and any(m == "anchore" or m.startswith("anchore.") for m in _names(inner))
                )
    assert not hidden, "\n" + "\n".join(hidden)


def _names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return ["anchore.relative" if node.level else node.module or ""]
