"""The filters queries share: a version range compared in each ecosystem's own ordering,
and a name pattern (glob, or ``re:`` regex) compared as the ecosystem compares names.

A version that its scheme cannot parse is never silently in or out of a range:
:meth:`VersionRange.contains` raises :class:`~anchore.versions.VersionError`
(fail closed); the caller decides whether that is an error or an "unknown".
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import TypeVar

import attrs

from anchore import ecosystems
from anchore.query.errors import QueryParamError
from anchore.versions import VersionError, compare

__all__ = ["NameMatcher", "VersionError", "VersionRange", "checked", "name_matcher"]

T = TypeVar("T")

#: the operators of a constraint, longest first so ``>=`` is not read as ``>``
OPERATORS = (">=", "<=", "!=", "==", "=", ">", "<")
_CONSTRAINT = re.compile(r"^\s*(>=|<=|!=|==|=|>|<)?\s*(\S+)\s*$")
_HOLDS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
    ">=": lambda c: c >= 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    "<": lambda c: c < 0,
}


def scheme_of(package_type: str) -> str:
    """The version scheme of ``package_type``; a :class:`VersionError` when the
    ecosystem has none or is unknown (its versions cannot be ordered)."""
    row = ecosystems.find(package_type)
    if row is None or row.version_scheme is None:
        why = "is unknown" if row is None else "has no version ordering anchore knows"
        raise VersionError(
            f"the package type {package_type!r} {why}: its versions cannot be "
            "compared with a version range"
        )
    return row.version_scheme


@attrs.frozen
class VersionRange:
    """Constraints that must all hold (``>=1.2,<2.0``), each ``OP VERSION`` with OP one of
    ``= == != >= <= > <``; a bare version is ``=``. A version must not start with ``^``
    or ``~`` nor hold a ``*``: other tools' range syntax (``^1.2``, ``~1.2``, ``~=1.2``, ``~>1.2``,
    ``1.*``) is refused, not read as a version that matches nothing.

    The versions of the constraints are parsed only when compared, in the scheme of
    the package compared (a range applies to packages of any ecosystem).
    """

    #: (operator, version) pairs; ``==`` is kept as ``=``
    constraints: tuple[tuple[str, str], ...]
    #: the text parsed, for messages
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """``>=1.2,<2.0``; a ValueError naming the constraint that does not parse."""
        constraints = []
        for part in text.split(","):
            match = _CONSTRAINT.match(part)
            if match is None:
                raise ValueError(
                    f"version constraint {part.strip()!r} of {text!r} does not parse: "
                    f"expected OPERATOR VERSION with OPERATOR one of {' '.join(OPERATORS)}"
                )
            op, version = match.group(1) or "=", match.group(2)
            if version[0] in "<>=!":
                raise ValueError(
                    f"version constraint {part.strip()!r} of {text!r}: "
                    f"unknown operator before {version!r}"
                )
            if version[0] in "^~" or "*" in version:
                raise ValueError(
                    f"version constraint {part.strip()!r} of {text!r}: {version!r} is not a "
                    f"version; the operators are {' '.join(OPERATORS)} (npm's ^ and ~, "
                    "PEP 440's ~=, gem's ~> and * wildcards are not supported: write "
                    "the bounds, e.g. >=1.4,<2)"
                )
            constraints.append(("=" if op == "==" else op, version))
        return cls(tuple(constraints), text)

    def contains(self, version: str, package_type: str) -> bool:
        """Whether ``version`` of a package of ``package_type`` meets every constraint,
        compared in the ecosystem's ordering. A version (ours or a constraint's) that
        does not parse in that scheme, or a type without an ordering, raises
        :class:`VersionError`: never a silent in or out."""
        scheme = scheme_of(package_type)
        return all(_HOLDS[op](compare(scheme, version, bound)) for op, bound in self.constraints)

    def __str__(self) -> str:
        return ",".join(op + v for op, v in self.constraints)


def checked(query: str, param: str, value: T | None, parse: Callable[[str], object]) -> T | None:
    """``value`` (given to a query function directly) checked by the parse function its
    :class:`~anchore.query.model.Param` uses, so a direct call refuses what ``run``
    refuses: a :class:`QueryParamError` naming the query and parameter. None passes."""
    if value is not None:
        try:
            parse(str(value))
        except ValueError as exc:
            raise QueryParamError(f"query {query!r}: parameter {param}={value!r}: {exc}") from None
    return value


@attrs.frozen
class NameMatcher:
    """A name pattern: a case-sensitive glob (``lib*``), or a regex written ``re:PATTERN``
    (searched: anchor it with ``^...$`` to match whole names).

    Called with a package type whose ecosystem normalises names (PyPI's PEP 503), a
    glob matches the normalised name against the normalised pattern (``Foo_Bar``
    matches ``foo-bar``), and a regex matches either the name or its normalised form.
    """

    pattern: str
    regex: re.Pattern[str] | None = None

    def __call__(self, name: str, package_type: str | None = None) -> bool:
        row = ecosystems.find(package_type) if package_type else None
        if self.regex is not None:
            if self.regex.search(name):
                return True
            return row is not None and bool(self.regex.search(row.name_key(name)))
        if row is not None:
            return row.same_name(name, self.pattern)
        return fnmatch.fnmatchcase(name, self.pattern)


def name_matcher(pattern: str) -> NameMatcher:
    """The matcher of a pattern (see :class:`NameMatcher`); a ValueError for a bad regex."""
    if pattern.startswith("re:"):
        try:
            return NameMatcher(pattern, re.compile(pattern[3:]))
        except re.error as exc:
            raise ValueError(f"regex {pattern[3:]!r} does not compile: {exc}") from None
    return NameMatcher(pattern)
