"""The one error of version parsing."""

from __future__ import annotations

from anchore.errors import AnchoreError


class VersionError(AnchoreError, ValueError):
    """A version (or range) that does not parse in its scheme."""

    def __init__(
        self, message: str, *, scheme: str | None = None, version: str | None = None
    ) -> None:
        AnchoreError.__init__(self, message, member=version)
        self.scheme = scheme
        self.version = version


def bad(scheme: str, version: str, why: str) -> VersionError:
    return VersionError(f"{scheme} version {version!r}: {why}", scheme=scheme, version=version)
