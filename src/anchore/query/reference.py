"""The query reference of docs/queries.md, rendered from the built-in queries.

``python -m anchore.query.reference docs/queries.md`` rewrites the part of the
file between the markers; without an argument the part is printed. Each query's
name, image count, description, parameters and columns come from its
:class:`~anchore.query.model.Query` and the ``#:`` comments of its row class, so
a test keeping the committed file equal to this rendering keeps the documentation
from drifting from the code.
"""

from __future__ import annotations

import inspect
import re
import sys

import attrs

from anchore.plugins import Registry
from anchore.plugins.reference import main, replace_between
from anchore.query.model import Query

__all__ = ["BEGIN", "END", "QUERY_MODULES", "column_docs", "render", "replace_section"]

#: the modules whose ``anchore_queries`` hooks are the built-in queries
QUERY_MODULES = ("anchore.query.image", "anchore.query.layers", "anchore.query.compare")

BEGIN = (
    "<!-- BEGIN query reference: rendered from src/anchore/query/ by "
    "`python -m anchore.query.reference docs/queries.md`; do not edit by hand -->"
)
END = "<!-- END query reference -->"

_FIELD = re.compile(r"^\s*(\w+)\s*:")
_COUNTS = {"one": "one image", "two": "two images", "many": "one or more images"}


def column_docs(row: type) -> dict[str, str]:
    """Each field of an attrs class and the ``#:`` comment lines right above it."""
    try:
        lines = inspect.getsource(row).splitlines()
    except (OSError, TypeError):  # a class made at run time: no source
        return {}
    names = {f.name for f in attrs.fields(row)}
    docs: dict[str, str] = {}
    comment: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#:"):
            comment.append(stripped[2:].strip())
            continue
        match = _FIELD.match(line)
        if match and match.group(1) in names and comment:
            docs[match.group(1)] = " ".join(comment)
        comment = []
    return docs


def _md(text: str) -> str:
    """Sphinx's double backticks as markdown's single ones; a table cell's pipes escaped."""
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")


def _section(query: Query) -> str:
    doc = inspect.getdoc(query.function) or query.description
    lines = [
        f"### `{query.name}`",
        "",
        f"Over {_COUNTS[query.images]}"
        + ("; reads the advisory store (`--db`)." if query.needs_store else ".")
        + f" Python: `{query.function.__module__}.{query.function.__name__}`.",
        "",
        _md(doc),
        "",
    ]
    if query.params:
        lines += ["| parameter | description | default |", "|---|---|---|"]
        for p in query.params:
            default = "required" if p.required else ("" if p.default is None else f"`{p.default}`")
            lines.append(f"| `{p.name}` | {_md(p.description)} | {default} |")
        lines.append("")
    docs = column_docs(query.row)
    row_doc = inspect.getdoc(query.row)
    lines += [f"Rows (`{query.row.__name__}`): {_md(row_doc or '')}", ""]
    lines += ["| column | description |", "|---|---|"]
    lines += [f"| `{c}` | {_md(docs.get(c, ''))} |" for c in query.columns]
    return "\n".join(lines)


def builtin_queries() -> list[Query]:
    """The built-in queries, in registration order (no installed plugin's)."""
    registry = Registry.load(plugins=QUERY_MODULES, entry_points=False, environ={})
    return registry.queries()


def render() -> str:
    """The query reference section, markers included."""
    found = builtin_queries()
    index = ", ".join(f"[`{q.name}`](#{q.name})" for q in found)
    parts = [BEGIN, "## Query reference", f"Every built-in query: {index}."]
    parts += [_section(q) for q in found]
    parts.append(END)
    return "\n\n".join(parts) + "\n"


def replace_section(text: str) -> str:
    """``text`` (a markdown file) with its query reference section rendered anew."""
    return replace_between(text, BEGIN, END, render())


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv, replace_section, render)
