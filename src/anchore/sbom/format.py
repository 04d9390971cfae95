"""What an SBOM format plugin provides (the ``anchore_sbom_formats`` hook)."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis
    from anchore.limits import Limits

__all__ = ["HEAD_BYTES", "SbomFormat"]

#: how much of a file ``detect`` is shown
HEAD_BYTES = 1 << 20


@runtime_checkable
class SbomFormat(Protocol):
    """One SBOM format, written and read."""

    #: what ``-o`` takes: ``cyclonedx-json``, ``spdx-json``...
    name: str
    #: one line, for listings
    description: str
    #: the IANA media type, for files and HTTP
    media_type: str
    #: the conventional file ending (``.cdx.json``)
    extension: str

    def write(self, analysis: Analysis, fp: BinaryIO) -> None:
        """Write ``analysis`` to the binary file ``fp``."""

    def detect(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (up to :data:`HEAD_BYTES`) is in this format."""

    def read(self, path: str, fp: BinaryIO, limits: Limits) -> Analysis:
        """The analysis the SBOM in ``fp`` describes (``path`` names it in errors)."""
