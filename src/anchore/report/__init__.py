"""Reports of an analysis: one self-contained HTML page (:func:`render`).

SARIF output for CI sits beside it (``anchore.report.sarif``).
"""

from __future__ import annotations

from anchore.report.html import render

__all__ = ["render"]
