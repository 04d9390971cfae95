"""Retrieved files (being written for issue 11)."""

from __future__ import annotations

from collections.abc import Sequence

from anchore.analysis.analyzer import Analyzer
from anchore.plugins import hookimpl


@hookimpl
def anchore_analyzers() -> Sequence[Analyzer]:
    return []
