"""``anchore report IMAGE -o report.html``: one self-contained HTML page of an image."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    """Register ``report`` (being written for issue 14)."""
