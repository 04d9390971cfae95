"""The ``query`` command (being written for issue 11)."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    pass
