"""Configuration: ``anchore.yaml``, ``ANCHORE_*`` variables and flags; ``anchore config``."""

from __future__ import annotations

import argparse
from typing import Any


def apply(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Set the defaults the configuration gives (being written for issue 14); ``argv`` is
    the command line about to be parsed (for ``--config FILE``)."""


def add_parsers(sub: Any) -> None:
    """Register ``config`` and ``completion`` (being written for issue 14)."""
