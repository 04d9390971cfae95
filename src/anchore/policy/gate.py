"""What a gate is: named triggers with typed parameters, evaluated against a context.

Gates are plugins (``anchore_gates``); ours are in :mod:`anchore.policy.gates`.
Parameters are declared, so bundles are validated before evaluation and the
JSON Schema in ``docs/`` is generated from the same declarations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from anchore.policy.evaluate import EvaluationContext

__all__ = ["Gate", "Hit", "Param", "Trigger"]

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
    name: str
    type: str
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None

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
        if kind == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                return f"is not a valid regular expression ({exc})"
        if self.choices:
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if v not in self.choices]
            if bad:
                return f"{bad[0]!r} is not one of {', '.join(self.choices)}"
        return None


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
