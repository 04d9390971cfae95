"""Every declared dependency is used: a dependency nothing imports is a defect."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parent.parent


def _imported_top_levels() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def _declared() -> list[Requirement]:
    """pyproject.toml's dependencies: the file itself, so an edit counts before a reinstall."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the installed metadata says the same
        return [
            Requirement(text)
            for text in importlib.metadata.requires("anchore") or []
            if "extra ==" not in text
        ]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def test_every_declared_dependency_is_imported():
    declared = _declared()
    assert declared, "pyproject.toml declares no dependencies"
    imported = _imported_top_levels()
    by_distribution: dict[str, set[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            by_distribution.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    unused = []
    for requirement in declared:
        dist = requirement.name.lower().replace("_", "-")
        modules = by_distribution.get(dist)
        assert modules, f"{dist} is declared but not installed"
        if not modules & imported:
            unused.append(dist)
    assert unused == [], f"declared in pyproject.toml but imported nowhere in src/: {unused}"
