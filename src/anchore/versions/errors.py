"""The one error of version parsing, and the bound every scheme checks first.

Versions come from images (package databases, lock files), so they are hostile
input: every scheme refuses a non-string or a string longer than
:data:`MAX_LENGTH` before it parses anything, and parses in time linear in
what is left, without recursion and without converting digit runs long enough
to be slow (Python refuses ``int()`` of more than 4300 digits outright).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from anchore.errors import AnchoreError

T = TypeVar("T")

#: The longest version any scheme reads. No ecosystem's real versions come near
#: it (npm's own semver refuses more than 256 characters; the longest in the
#: dpkg, rpm, apk, PyPI, RubyGems, Maven and Go ordering corpora are under 100).
MAX_LENGTH = 1024

_SHOWN = 80


def shown(version: object) -> str:
    """``version`` for a message: its repr, cut short (with its length) past 80 characters."""
    if isinstance(version, str) and len(version) > _SHOWN:
        return f"{version[:_SHOWN]!r}... ({len(version)} characters)"
    return repr(version)


class VersionError(AnchoreError, ValueError):
    """A version (or range) that does not parse in its scheme."""

    def __init__(
        self, message: str, *, scheme: str | None = None, version: str | None = None
    ) -> None:
        AnchoreError.__init__(self, message, member=version)
        self.scheme = scheme
        self.version = version


def bad(scheme: str, version: str, why: str) -> VersionError:
    return VersionError(f"{scheme} version {shown(version)}: {why}", scheme=scheme, version=version)


def bounded(scheme: str, version: object) -> str:
    """``version`` itself when it is a string of at most :data:`MAX_LENGTH` characters;
    otherwise a :class:`VersionError` (an image's package may carry any JSON value)."""
    if not isinstance(version, str):
        raise VersionError(
            f"{scheme} version {shown(version)}: a {type(version).__name__}, not a string",
            scheme=scheme,
        )
    if len(version) > MAX_LENGTH:
        raise bad(scheme, version, f"longer than {MAX_LENGTH} characters")
    return version


def parser(scheme: str) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """A scheme's parse function, checked by :func:`bounded` and then cached.

    The check comes first: a cache would fail on an unhashable value with a
    TypeError, and would otherwise keep 4096 strings of any length alive.
    """

    def decorate(parse: Callable[[str], T]) -> Callable[[str], T]:
        cached = functools.lru_cache(maxsize=4096)(parse)

        @functools.wraps(parse)
        def checked(version: str) -> T:
            return cached(bounded(scheme, version))

        return checked

    return decorate
