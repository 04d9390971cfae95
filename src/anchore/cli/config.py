"""Configuration: ``anchore.yaml``, ``ANCHORE_*`` variables and flags; ``anchore config``."""

from __future__ import annotations

import argparse
from typing import Any


def apply(parser: argparse.ArgumentParser) -> None:
    """Set the defaults the configuration gives (being written for issue 14)."""


def add_parsers(sub: Any) -> None:
    """Register ``config`` and ``completion`` (being written for issue 14)."""
