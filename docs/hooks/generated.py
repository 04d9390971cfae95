"""MkDocs hook: the pages generated from the code, so they never drift from it.

A page holds a marker comment where the generated text goes:

- ``<!-- generated: policy-gates -->``: every gate, trigger and parameter, and the
  evidence each trigger reads (from the gate declarations, :mod:`anchore.policy.gates`);
- ``<!-- generated: analyzers -->``: every built-in analyzer, what it is and the files
  it reads (from the registry of built-in plugins, without installed entry points).

The same functions are tested (tests/test_docs.py): every gate, trigger, parameter
and analyzer appears.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from typing import Any

from anchore.ecosystems import ECOSYSTEMS
from anchore.plugins import DEFAULT_PLUGINS, Registry
from anchore.policy.gate import Gate, Need, Trigger


def _cell(text: Any) -> str:
    """Prose safe in a Markdown table cell (a pipe would split it)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    """Inline code in a table cell: Python-Markdown's tables keep a pipe inside
    backticks in its cell, and an escape there would be shown as a backslash."""
    return f"`{value}`"


def builtin_registry() -> Registry:
    """Our plugins only: the docs describe what anchore ships, not what this machine has."""
    return Registry.load(DEFAULT_PLUGINS, entry_points=False, environ={})


#: a neutral value for a required parameter, to ask what a trigger needs without a bundle
_NEUTRAL = {"string": "", "regex": "", "integer": 0, "number": 0, "boolean": False,
            "strings": [], "integers": []}  # fmt: skip


def _default_params(trigger: Trigger) -> dict[str, Any]:
    """The parameters as evaluate fills them in (defaults), required ones neutral."""
    params = {p.name: _NEUTRAL[p.type] for p in trigger.params if p.required}
    params.update({p.name: p.default for p in trigger.params if p.default is not None})
    return params


def _evidence(trigger: Trigger) -> str:
    """What the trigger reads with its default parameters, as evaluate checks it."""
    needs: Iterable[Need] = trigger.needed(_default_params(trigger))
    packages: list[str] = []
    parts: list[str] = []
    base = False
    for need in needs:
        base = base or need.in_base
        if need.evidence.endswith(" packages"):
            packages.append(f"`{need.analyzer}`")
        else:
            parts.append(f"{need.evidence} (`{need.analyzer}` analyzer)")
    if packages:
        parts.insert(0, f"the packages, from the package analyzers ({', '.join(packages)})")
    if not parts:
        return "the image metadata (no analyzer needed)"
    text = "; ".join(parts)
    if base:
        text += "; the base image's analysis must have them too"
    if trigger.param("package_types") or trigger.param("types"):
        text += "; with the types parameter given, only those types' analyzers"
    return text


def _param_row(param: Any) -> str:
    kind = param.type + (f" (one of {', '.join(param.choices)})" if param.choices else "")
    if param.pattern:
        kind += f", matching {_code(param.pattern)}"
    if param.required:
        default = "required"
    elif param.default is None:
        default = "none"
    else:
        default = _code(json.dumps(param.default))
    return f"| `{param.name}` | {kind} | {default} | {_cell(param.description)} |"


def policy_gates(gates: Iterable[Gate]) -> str:
    """The policy reference: a section per gate, a subsection per trigger."""
    out: list[str] = []
    for gate in gates:
        out += [f"## `{gate.name}`", "", gate.description, ""]
        for trigger in gate.triggers:
            out += [f"### `{gate.name}` / `{trigger.name}`", "", trigger.description, ""]
            out += [f"**Evidence:** {_evidence(trigger)}.", ""]
            if trigger.params:
                out += ["| parameter | type | default | meaning |", "|---|---|---|---|"]
                out += [_param_row(p) for p in trigger.params]
            else:
                out.append("No parameters.")
            out.append("")
    return "\n".join(out)


def _module_summary(obj: object) -> str:
    """The first sentence of the module docstring of the analyzer's class."""
    module = inspect.getmodule(type(obj))
    doc = inspect.getdoc(module) or ""
    first = doc.split("\n\n")[0].replace("\n", " ")
    return first.replace("``", "`")


def analyzers(registry: Registry) -> str:
    """The analyzer table: name, what it is (the package types it reports, from the
    ecosystem table, and its module's summary), and the file patterns it reads."""
    types: dict[str, list[str]] = {}
    for row in ECOSYSTEMS:
        for name in row.analyzers:
            types.setdefault(name, []).append(row.package_type)
    out = ["| analyzer | what | reads |", "|---|---|---|"]
    for analyzer in registry.analyzers():
        patterns = list(getattr(analyzer, "patterns", ()) or ())
        reads = ", ".join(_code(p) for p in patterns) if patterns else "called on every image"
        if patterns == ["**"]:
            reads = "`**` (every file; see below)"
        what = _cell(_module_summary(analyzer))
        if analyzer.name in types:
            what = f"Packages: {', '.join(f'`{t}`' for t in types[analyzer.name])}. {what}"
        out.append(f"| `{analyzer.name}` | {what} | {reads} |")
    return "\n".join(out)


def render(markdown: str) -> str:
    """``markdown`` with each marker replaced by what it stands for."""
    if "<!-- generated: policy-gates -->" in markdown:
        markdown = markdown.replace(
            "<!-- generated: policy-gates -->", policy_gates(builtin_registry().gates())
        )
    if "<!-- generated: analyzers -->" in markdown:
        markdown = markdown.replace("<!-- generated: analyzers -->", analyzers(builtin_registry()))
    return markdown


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """The MkDocs event: generate before the Markdown is rendered."""
    return render(markdown)


__all__ = ["analyzers", "on_page_markdown", "policy_gates", "render"]
