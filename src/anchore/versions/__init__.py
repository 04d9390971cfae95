"""Version ordering per ecosystem: ``compare(scheme, a, b)`` returns -1, 0 or 1.

Schemes: ``dpkg``, ``rpm``, ``apk``, ``pep440``, ``semver``, ``maven``, ``gem``,
``go``, and ``pypi`` (PEP 440, with pre-PEP 440 releases ordered as packaging
did before 22.0, as PyPI's history needs). Each module parses its own syntax;
a version that does not parse is a :class:`VersionError` naming the scheme and
the string, never a silent guess.
``in_range`` answers OSV-style range questions (introduced / fixed /
last_affected) for any scheme; npm range expressions live in
:func:`anchore.versions.semver.satisfies`.
"""

from __future__ import annotations

from collections.abc import Callable

from anchore.versions import apk, dpkg, gem, golang, maven, pep440, rpm, semver
from anchore.versions.errors import VersionError

__all__ = ["SCHEMES", "VersionError", "compare", "in_range", "key"]

SCHEMES: dict[str, Callable[[str, str], int]] = {
    "dpkg": dpkg.compare,
    "rpm": rpm.compare,
    "apk": apk.compare,
    "pep440": pep440.compare,
    "pypi": pep440.compare_pypi,
    "semver": semver.compare,
    "maven": maven.compare,
    "gem": gem.compare,
    "go": golang.compare,
}


def compare(scheme: str, a: str, b: str) -> int:
    """-1 if ``a`` sorts before ``b``, 0 if they are equal, 1 if after."""
    try:
        fn = SCHEMES[scheme]
    except KeyError:
        raise VersionError(
            f"unknown version scheme {scheme!r}; known: {', '.join(SCHEMES)}"
        ) from None
    return fn(a, b)


def key(scheme: str) -> Callable[[str], object]:
    """A sort key for ``sorted(versions, key=key("dpkg"))``."""
    import functools

    return functools.cmp_to_key(lambda a, b: compare(scheme, a, b))


def in_range(
    scheme: str,
    version: str,
    *,
    introduced: str | None = None,
    fixed: str | None = None,
    last_affected: str | None = None,
) -> bool:
    """Whether ``version`` is in ``[introduced, fixed)`` (or ``[introduced, last_affected]``).

    ``introduced`` of None or ``"0"`` means from the beginning.
    """
    if introduced not in (None, "0") and compare(scheme, version, introduced) < 0:
        return False
    if fixed is not None and compare(scheme, version, fixed) >= 0:
        return False
    return not (last_affected is not None and compare(scheme, version, last_affected) > 0)
