"""The hook reference of docs/plugins.md, rendered from the hook specifications.

``python -m anchore.plugins.reference docs/plugins.md`` rewrites the part of the
file between the markers; without an argument the part is printed. A test
keeps the committed file equal to what this renders, so the documentation
cannot drift from ``hookspecs``. :func:`replace_between` and :func:`main` serve
every rendered reference (the query reference's too).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence

from anchore.plugins import hookspecs

__all__ = ["BEGIN", "END", "main", "render", "replace_between", "replace_section"]

BEGIN = (
    "<!-- BEGIN hook reference: rendered from src/anchore/plugins/hookspecs.py by "
    "`python -m anchore.plugins.reference docs/plugins.md`; do not edit by hand -->"
)
END = "<!-- END hook reference -->"


def _signature(name: str) -> str:
    spec = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in spec.parameters.values())
    return f"{name}({params}) -> {spec.return_annotation}"


def _members(name: str) -> str:
    required = hookspecs.REQUIRED_MEMBERS.get(name)
    if not required:
        return ""
    listed = ", ".join(f"`{member}` ({kind})" for member, kind in required.items())
    return (
        f"\n\nChecked as collected: each item must have {listed}; an item that does not "
        "is refused with a `PluginError` naming the plugin, and so is one whose `name` "
        "an earlier item has (of this plugin, or of another: then naming both)."
    )


def render() -> str:
    """The hook reference section, markers included."""
    hooks = sorted(  # in the order hookspecs.py declares them
        (n for n in hookspecs.__all__ if n.startswith("anchore_")),
        key=lambda n: getattr(hookspecs, n).__code__.co_firstlineno,
    )
    parts = [
        BEGIN,
        "## Hooks",
        "Every hook returns a sequence, collected from every plugin, ours first. "
        "The annotations name `anchore.analysis.analyzer.Analyzer`, "
        "`anchore.policy.gate.Gate` and `anchore.vulns.load.Feed`.",
    ]
    for name in hooks:
        doc = (inspect.getdoc(getattr(hookspecs, name)) or "").replace("``", "`")  # markdown
        parts.append(f"### `{_signature(name)}`\n\n{doc}{_members(name)}")
    parts.append(END)
    return "\n\n".join(parts) + "\n"


def replace_between(text: str, begin: str, end: str, rendered: str) -> str:
    """``text`` with the part from the line ``begin`` through ``end`` replaced by
    ``rendered`` (which carries the markers again); a ValueError when they are missing."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"no {begin!r} ... {end!r} markers in the text")
    return text[:start] + rendered + text[stop + len(end) :].removeprefix("\n")


def main(argv: Sequence[str], replace: Callable[[str], str], render: Callable[[], str]) -> None:
    """A reference module's command line: rewrite the file named by ``argv[1]`` with
    ``replace``, or print ``render()`` when no file is named."""
    if len(argv) > 1:
        with open(argv[1], encoding="utf-8") as fh:
            text = fh.read()
        with open(argv[1], "w", encoding="utf-8") as fh:
            fh.write(replace(text))
    else:
        sys.stdout.write(render())


def replace_section(text: str) -> str:
    """``text`` (a markdown file) with its hook reference section rendered anew."""
    return replace_between(text, BEGIN, END, render())


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv, replace_section, render)
