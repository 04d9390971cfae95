"""How long to wait before the next attempt: exponential backoff with jitter, or what
the server asked for in ``Retry-After``."""

from __future__ import annotations

import datetime
import email.utils
import random
import re

__all__ = ["backoff_delay", "parse_decimal", "parse_retry_after"]

#: what a number in a header may be: ASCII digits only (str.isdigit() and ``\d`` also
#: take "²" and other scripts' digits, which int() and float() then refuse or misread)
_DECIMAL = re.compile(r"[0-9]{1,19}", re.ASCII)


def parse_decimal(value: str | None) -> int | None:
    """A header's non-negative integer (``Content-Length``, ``Retry-After`` seconds),
    surrounding blanks allowed; None when absent or anything but ASCII digits."""
    if value is None:
        return None
    value = value.strip(" \t")
    return int(value) if _DECIMAL.fullmatch(value) else None


def backoff_delay(attempt: int, first: float, longest: float, rand: float | None = None) -> float:
    """The wait before retry number ``attempt`` (0-based): ``first`` doubled each time,
    at most ``longest``, then scaled by a random factor in [0.5, 1) so that clients
    failing together do not retry together."""
    base = min(longest, first * (2.0 ** min(attempt, 32)))
    factor = random.random() if rand is None else rand
    return base * (0.5 + factor / 2.0)


def parse_retry_after(value: str | None, now: datetime.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (``120`` or an HTTP date), or None when absent or
    unreadable. A date in the past is 0."""
    if value is None:
        return None
    seconds = parse_decimal(value)
    if seconds is not None:
        return float(seconds)
    value = value.strip()
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())
