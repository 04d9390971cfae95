"""What reading or writing an SBOM can fail with."""

from __future__ import annotations

from anchore.errors import AnchoreError

__all__ = ["SbomError", "SbomFormatError", "UnknownSbomFormatError"]


class SbomError(AnchoreError):
    """An SBOM that cannot be read or written."""


class SbomFormatError(SbomError, ValueError):
    """A file that is not an SBOM we read, or one malformed for its format; the message
    names the file and the place in it."""


class UnknownSbomFormatError(SbomError, KeyError):
    """No SBOM format by that name (``-o cyclonedx-jsn``); names the known ones."""

    def __str__(self) -> str:
        return self.message
