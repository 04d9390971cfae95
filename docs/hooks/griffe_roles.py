"""Griffe extension: our docstrings use reST roles (:func:`x`, :class:`~a.b.C`).

Markdown does not know them, so each becomes inline code (``x()`` for functions and
methods, the last dotted part when the target starts with ``~``): readable, and no
cross-reference that could fail to resolve and break ``mkdocs build --strict``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|meth|class|mod|data|attr|exc|obj|const|term|ref):`([^`]+)`")


def plain(text: str) -> str:
    """The docstring with every role turned into inline code."""

    def one(match: re.Match[str]) -> str:
        kind, target = match.groups()
        if "<" in target and target.endswith(">"):  # :ref:`title <target>`
            target = target.split("<", 1)[0].strip()
        if target.startswith("~"):
            target = target[1:].rsplit(".", 1)[-1]
        if kind in ("func", "meth") and not target.endswith(")"):
            target += "()"
        return f"`{target}`"

    text = ROLE.sub(one, text)

    # reST's literal-block marker: "Start with x::" introduces the indented code below,
    # which Markdown shows as code already; "::" alone on its line introduces it silently
    def literal(match: re.Match[str]) -> str:
        before, space = match.groups()
        if not before.strip():
            return ""  # "::" alone
        return before if space else before + ":"  # "Or ::" -> "Or"; "Like this::" -> ":"

    text = re.sub(r"(?m)^(.*?)([ \t]*)::[ \t]*$", literal, text)
    return text


class ReSTRoles(griffe.Extension):
    """Rewrite the roles of every docstring as griffe loads it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)


class NamespaceAnalysis(griffe.Extension):
    """``anchore.analysis`` has no ``__init__.py`` (a namespace package), which griffe
    does not descend into: load its modules under the ``anchore`` package by hand."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.path != "anchore" or "analysis" in pkg.members:
            return
        directory = Path(str(pkg.filepath)).parent / "analysis"
        namespace = griffe.Module("analysis", filepath=directory, parent=pkg)
        pkg.set_member("analysis", namespace)
        for source in sorted(directory.glob("*.py")):
            module = griffe.visit(
                source.stem,
                filepath=source,
                code=source.read_text(),
                parent=namespace,
                extensions=loader.extensions,
                docstring_parser=loader.docstring_parser,
                docstring_options=loader.docstring_options,
            )
            namespace.set_member(source.stem, module)
            loader.modules_collection.set_member(module.path, module)
