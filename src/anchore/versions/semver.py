"""Semantic versions (semver 2.0) and npm range expressions, as node's ``semver`` reads them.

``compare`` orders versions (build metadata ignored). ``satisfies(version,
range)`` understands comparators (``>=1.2.3``), ``||``, hyphen ranges
(``1.2 - 2.3.4``), x-ranges (``1.x``, ``*``), tilde (``~1.2``) and caret
(``^0.2.3``), with npm's rule that a pre-release only satisfies a range whose
comparator names a pre-release of the same major.minor.patch.
"""

from __future__ import annotations

import re

from anchore.versions.errors import bad, bounded, parser

__all__ = ["Version", "compare", "parse", "satisfies"]

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$",
    re.ASCII,  # node's semver reads ASCII digits only; int() would take any Unicode digit
)

Version = tuple[int, int, int, tuple[int | str, ...]]


@parser("semver")
def parse(version: str) -> Version:
    match = _SEMVER.match(version.strip())
    if not match:
        raise bad("semver", version, "not a semantic version")
    pre = match.group(4)
    ids: tuple[int | str, ...] = ()
    if pre:
        ids = tuple(int(p) if p.isdigit() else p for p in pre.split("."))
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), ids


def _cmp_pre(a: tuple[int | str, ...], b: tuple[int | str, ...]) -> int:
    if a == b:
        return 0
    if not a:
        return 1  # a release sorts after its pre-releases
    if not b:
        return -1
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int):
            return -1  # numeric identifiers sort before alphanumeric ones
        if isinstance(y, int):
            return 1
        return -1 if x < y else 1
    return -1 if len(a) < len(b) else (1 if len(a) > len(b) else 0)


def _cmp(a: Version, b: Version) -> int:
    if a[:3] != b[:3]:
        return -1 if a[:3] < b[:3] else 1
    return _cmp_pre(a[3], b[3])


def compare(a: str, b: str) -> int:
    return _cmp(parse(a), parse(b))


# ---- ranges ----
_XR = (
    r"(?:[vV=\s]*)(\d+|[xX*])(?:\.(\d+|[xX*])(?:\.(\d+|[xX*])"
    r"(?:-?([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?"
)
_PART = re.compile(r"^\s*(<=|>=|<|>|=|~>|~|\^)?\s*" + _XR + r"\s*$", re.ASCII)
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")

Comparator = tuple[str, Version]


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _expand(op: str, groups: tuple[str | None, ...], text: str) -> list[Comparator]:
    """One range token (``^1.2``, ``>=1.x``, ``~1``) as plain comparators."""
    major, minor, patch, pre = groups
    pre_ids: tuple[int | str, ...] = (
        tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else ()
    )
    if _is_x(major):
        return [] if op in ("", "=", ">=", "<=", "^", "~", "~>") else [("<", (0, 0, 0, ()))]
    M = int(major or 0)
    if _is_x(minor):
        lo, hi = (M, 0, 0, ()), (M + 1, 0, 0, (0,))
    elif _is_x(patch):
        m = int(minor)  # type: ignore[arg-type]
        lo, hi = (M, m, 0, ()), (M, m + 1, 0, (0,))
    else:
        m, p = int(minor), int(patch)  # type: ignore[arg-type]
        v = (M, m, p, pre_ids)
        if op == "^":
            if M:
                return [(">=", v), ("<", (M + 1, 0, 0, (0,)))]
            if m:
                return [(">=", v), ("<", (0, m + 1, 0, (0,)))]
            return [(">=", v), ("<", (0, 0, p + 1, (0,)))]
        if op in ("~", "~>"):
            return [(">=", v), ("<", (M, m + 1, 0, (0,)))]
        return [(op or "=", v)]
    # a partial version: an x-range
    if op in ("", "="):
        return [(">=", lo), ("<", hi)]
    if op == "^":
        if M or _is_x(minor):
            return [(">=", lo), ("<", (M + 1, 0, 0, (0,)))]
        m = int(minor)  # type: ignore[arg-type]
        return (
            [(">=", lo), ("<", (0, m + 1, 0, (0,)))] if m else [(">=", lo), ("<", (0, 1, 0, (0,)))]
        )
    if op in ("~", "~>"):
        return [(">=", lo), ("<", hi)]
    if op == ">":
        return [(">=", hi)]
    if op == ">=":
        return [(">=", lo)]
    if op == "<":
        return [("<", lo if lo[3] else (*lo[:3], (0,)))]
    if op == "<=":
        return [("<", hi)]
    raise bad("semver", text, f"unknown operator {op!r}")


def _comparators(text: str) -> list[Comparator]:
    hyphen = _HYPHEN.match(text)
    if hyphen:
        low = _PART.match(bounded("semver", hyphen.group(1)))
        high = _PART.match(bounded("semver", hyphen.group(2)))
        if not low or not high or low.group(1) or high.group(1):
            raise bad("semver", text, "malformed hyphen range")
        lows = _expand(">=", low.groups()[1:], text)
        highs = _expand("<=", high.groups()[1:], text)
        return lows + highs
    out: list[Comparator] = []
    # operators may be separated from their versions by spaces: glue them first
    tokens = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", text.strip()).split()
    for token in tokens:
        match = _PART.match(bounded("semver", token))
        if not match:
            raise bad("semver", text, f"cannot read {token!r}")
        out += _expand(match.group(1) or "", match.groups()[1:], text)
    return out


def _test(version: Version, comparators: list[Comparator]) -> bool:
    for op, bound in comparators:
        c = _cmp(version, bound)
        ok = {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0, "=": c == 0}[op]
        if not ok:
            return False
    if version[3]:
        # a pre-release satisfies only if some comparator names a pre-release of its tuple
        return any(bound[3] and bound[:3] == version[:3] and bound[3] != (0,)
                   for _, bound in comparators)  # fmt: skip
    return True


def satisfies(version: str, range_expr: str) -> bool:
    """Whether ``version`` is in the npm range ``range_expr``."""
    v = parse(version)
    if not isinstance(range_expr, str):
        raise bad("semver", str(range_expr), "a range is a string")
    return any(_test(v, _comparators(part)) for part in range_expr.split("||"))
