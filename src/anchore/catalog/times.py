"""The catalog's one spelling of time: ISO 8601 UTC text with microseconds and ``Z``
(``2026-11-24T09:30:00.123456Z``), which sorts as time on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime

__all__ = ["from_text", "to_text"]


def to_text(at: datetime.datetime | None = None) -> str:
    """``at`` (None: now) as stored text; a naive time is taken as local time, as Python
    does."""
    when = at if at is not None else datetime.datetime.now(datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_text(text: str) -> datetime.datetime:
    """Stored text back as an aware UTC datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
