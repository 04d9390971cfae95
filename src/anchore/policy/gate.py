"""What a gate is: named triggers with typed parameters, evaluated against a context.

Gates are plugins (``anchore_gates``); ours are in :mod:`anchore.policy.gates`.
Parameters are declared, so bundles are validated before evaluation and the
JSON Schema in ``docs/`` is generated from the same declarations.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from anchore.policy.evaluate import EvaluationContext

__all__ = ["Gate", "Hit", "Param", "Trigger", "did_you_mean"]


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""``: typos name their fix."""
    if not isinstance(word, str):
        return ""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


#: parameter types: how bundles spell them, and how JSON Schema does
PARAM_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "regex": {"type": "string", "format": "regex"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "strings": {"type": "array", "items": {"type": "string"}},
    "integers": {"type": "array", "items": {"type": "integer"}},
}


@attrs.frozen
class Param:
    """A trigger parameter, declared so bundles are checked before anything runs.

    Strings and lists must not be empty unless ``empty_ok``: an empty value
    would silently make a rule check nothing (or everything); leave the
    parameter out to get its default. ``pattern`` (a regex each string must
    match in full) is in the JSON Schema too; ``validator`` adds checks JSON
    Schema cannot say (a real calendar date, say) and returns the problem or None.
    """

    name: str
    type: str
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    empty_ok: bool = False
    pattern: str | None = None
    validator: Callable[[Any], str | None] | None = attrs.field(default=None, eq=False, repr=False)

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        kind = self.type
        ok = {
            "string": isinstance(value, str),
            "regex": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "strings": isinstance(value, list) and all(isinstance(v, str) for v in value),
            "integers": isinstance(value, list)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value),
        }[kind]
        if not ok:
            return f"must be of type {kind}, not {type(value).__name__} {value!r}"
        values = value if isinstance(value, list) else [value]
        if not self.empty_ok and (value in ("", []) or "" in values):
            what = "list" if value == [] else "string"
            return (
                f"must not be empty (an empty {what} would make the rule check nothing "
                "or everything); leave the parameter out for its default"
            )
        if kind == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                return f"is not a valid regular expression ({exc})"
        if self.choices:
            bad = [v for v in values if v not in self.choices]
            if bad:
                hint = did_you_mean(bad[0], self.choices)
                return f"{bad[0]!r} is not one of {', '.join(self.choices)}{hint}"
        if self.pattern is not None:
            bad = [v for v in values if not re.fullmatch(self.pattern, v)]
            if bad:
                return f"{bad[0]!r} does not match {self.pattern!r}: expected {self.description}"
        return self.validator(value) if self.validator is not None else None


@attrs.frozen
class Hit:
    """A trigger firing: what it says, and the evidence for it."""

    message: str
    #: what makes this hit the same across rebuilds (package name, path, advisory...)
    key: str
    package: str | None = None
    path: str | None = None
    layer_index: int | None = None
    advisory: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)


Check = Callable[["EvaluationContext", Mapping[str, Any]], Iterable[Hit]]


@attrs.frozen
class Trigger:
    name: str
    description: str
    check: Check = attrs.field(repr=False)
    params: tuple[Param, ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@attrs.frozen
class Gate:
    name: str
    description: str
    triggers: tuple[Trigger, ...]

    def trigger(self, name: str) -> Trigger | None:
        return next((t for t in self.triggers if t.name == name), None)


def gates_by_name(gates: Sequence[Gate]) -> dict[str, Gate]:
    return {g.name: g for g in gates}
