"""SBOM format (being written for issue 11)."""

from __future__ import annotations

from collections.abc import Sequence

from anchore.plugins import hookimpl
from anchore.sbom.format import SbomFormat


@hookimpl
def anchore_sbom_formats() -> Sequence[SbomFormat]:
    return []
