"""What analyzer work may cost, and how its failures are said: the kit's guards.

An image chooses the content analyzers parse, so every parser is bounded and
isolated the same way, built-in or third-party:

- text: :func:`split_lines` splits a file into lines within ``max_text_lines``
  and ``max_line_bytes`` (every line break ``str.splitlines`` honours is
  counted in C before anything is split);
- records: :func:`each` builds one record at a time, a record that raises
  costing only itself, within ``max_db_records`` and the analyzer's deadline;
- time: :class:`Deadlines` gives each analyzer ``max_analyzer_seconds`` from
  its start. A Python thread cannot be stopped from outside, so the bound is
  cooperative: it is checked between files, records and layer copies
  (:func:`each`, :func:`check_current`,
  :meth:`anchore.analysis.analyzer.FileInput.check_time`), and every built-in
  loop over a count the image controls checks it; an analyzer that never
  checks is stopped by the engine at its next result;
- words: :func:`problem` says what an exception means for the file it came
  from, so an error entry reads "``/lib/apk/db/installed: package '/': ...``",
  not "``TypeError: 'int' object is not subscriptable``".
"""

from __future__ import annotations

import contextlib
import json
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from anchore.errors import AnchoreError, LimitExceededError
from anchore.limits import Limits

if TYPE_CHECKING:
    from anchore.analysis.analyzer import FileInput, Result

__all__ = ["OVERRUN", "Deadlines", "about", "check_current", "each", "problem", "split_lines"]

R = TypeVar("R")

#: what every error entry of an analyzer that ran out of time says
OVERRUN = "ran past Limits.max_analyzer_seconds"

#: what ``str.splitlines`` splits on besides ``\n`` and ``\r``, as UTF-8: the single-byte
#: controls, and NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR (these three byte sequences
#: decode to their character wherever they occur, whatever bytes surround them)
_OTHER_BREAKS = (
    b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9",
)  # fmt: skip


def problem(exc: BaseException) -> str:
    """Plain words for what ``exc`` says about the file being parsed.

    An :class:`~anchore.errors.AnchoreError` already names its problem; Python's
    own exceptions, raised by a parser meeting content it did not expect, are
    said as what they mean for the file (a missing field, an unexpected
    structure, bytes that are not UTF-8), never as a bare class name.
    """
    if isinstance(exc, AnchoreError):
        return exc.message
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {exc.start}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    if isinstance(exc, (TypeError, AttributeError, IndexError)):
        return f"unexpected structure ({_short(exc)})"
    if isinstance(exc, OverflowError):
        return f"a number out of range ({_short(exc)})"
    if isinstance(exc, MemoryError):
        return "too large to hold in memory"
    if isinstance(exc, struct.error):
        return f"truncated or malformed binary data ({_short(exc)})"
    if isinstance(exc, zlib.error):
        return f"corrupt compressed data ({_short(exc)})"
    text = _short(exc)
    return text if text else f"unexpected {type(exc).__name__}"


def about(path: str | None, exc: BaseException) -> str:
    """``"<path>: <problem>"``, the path said once (our own errors already name it)."""
    return f"{path}: {_unprefixed(path, exc)}" if path else problem(exc)


def _unprefixed(path: str | None, exc: BaseException) -> str:
    """:func:`problem` without a leading ``"<path>: "`` (to be said once, before a record)."""
    text = problem(exc)
    return text[len(path) + 2 :] if path and text.startswith(f"{path}: ") else text


def _short(exc: BaseException, limit: int = 300) -> str:
    """The exception's message, cut to ``limit`` characters (it may quote image content)."""
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def split_lines(data: bytes, path: str, limits: Limits, errors: str = "replace") -> list[str]:
    """``data`` decoded as UTF-8 and split into lines (as ``str.splitlines``), within limits.

    Every line break ``str.splitlines`` honours is counted in C before
    anything is split (:func:`line_breaks`), so a file of a billion newlines,
    or of a billion ``\x1c`` or U+2028, is refused without building a billion
    strings; the longest line is measured in C too.
    """
    most = limits.max_text_lines
    if line_breaks(data, errors, most) > most:
        raise _too_many_lines(path, most)
    lines = data.decode("utf-8", errors).splitlines()
    if len(lines) > most:
        raise _too_many_lines(path, most)
    longest = limits.max_line_bytes
    # a character is at most 4 bytes: only lines longer than a quarter of the bound
    # may be over it, and are measured in bytes
    if lines and len(data) > longest and len(max(lines, key=len)) > longest // 4:
        for number, line in enumerate(lines, 1):
            if len(line) > longest // 4 and len(line.encode("utf-8", "surrogateescape")) > longest:
                raise LimitExceededError(
                    f"{path}: line {number} is longer than Limits.max_line_bytes ({longest} bytes)",
                    limit="max_line_bytes",
                    member=path,
                )
    return lines


def line_breaks(data: bytes, errors: str = "replace", most: int | None = None) -> int:
    """At least how many line breaks ``str.splitlines`` finds in ``data`` decoded as
    UTF-8 with ``errors``, counted in C; counting stops once past ``most``.

    A break is never part of an invalid sequence, so each is decoded as itself;
    only ``errors="ignore"`` can join a ``\r`` and a ``\n`` that bytes stood
    between, so then a ``\r`` counts only where it cannot be such a pair. The
    lines are at least as many.
    """
    newlines = data.count(b"\n")
    if most is not None and newlines > most:
        return newlines
    returns = data.count(b"\r")
    if errors == "ignore":
        breaks = max(newlines, returns)
    else:
        breaks = newlines + returns - (data.count(b"\r\n") if returns and newlines else 0)
    for other in _OTHER_BREAKS:
        if most is not None and breaks > most:
            break
        breaks += data.count(other)
    return breaks


def _too_many_lines(path: str, most: int) -> LimitExceededError:
    return LimitExceededError(
        f"{path}: more than Limits.max_text_lines ({most}) lines",
        limit="max_text_lines",
        member=path,
    )


class Deadlines:
    """When each analyzer of one analysis must stop (``max_analyzer_seconds`` from its start).

    The engine starts an analyzer's clock when it calls it; an analyzer whose
    clock was never started (a file read outside the engine) starts it at its
    first check. Which analyzers ran out of time is kept here, as a fact
    (:meth:`overran`), not read back from error messages an image may quote.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends: dict[str, float] = {}
        self._overran: set[str] = set()
        self._lock = threading.Lock()

    def start(self, analyzer: str) -> None:
        with self._lock:
            self._ends[analyzer] = time.monotonic() + self.seconds

    @contextlib.contextmanager
    def running(self, analyzer: str) -> Iterator[None]:
        """Start ``analyzer``'s clock, and let code it calls on this thread (layer
        attribution) check its deadline with :func:`check_current`."""
        self.start(analyzer)
        before = getattr(_current, "running", None)
        _current.running = (self, analyzer)
        try:
            yield
        finally:
            _current.running = before

    def overran(self, analyzer: str) -> bool:
        """Whether the kit stopped ``analyzer`` (or said it stopped) at its deadline."""
        return analyzer in self._overran

    def end(self, analyzer: str) -> float:
        found = self._ends.get(analyzer)
        if found is None:
            with self._lock:
                found = self._ends.setdefault(analyzer, time.monotonic() + self.seconds)
        return found

    def expired(self, analyzer: str, grace: float = 0.0) -> bool:
        """Whether ``analyzer`` is past its deadline (by more than ``grace`` seconds)."""
        end = self.end(analyzer) + grace  # first: a clock started now has 0 s behind it
        return time.monotonic() >= end

    def check(self, analyzer: str, path: str | None = None) -> None:
        """Raise past the analyzer's deadline."""
        if self.expired(analyzer):
            raise self.exceeded(analyzer, path)

    def exceeded(self, analyzer: str, path: str | None = None) -> LimitExceededError:
        """The error for ``analyzer``'s overrun (which records that it overran)."""
        if self.expired(analyzer):
            with self._lock:
                self._overran.add(analyzer)
        where = f"{path}: " if path else ""
        return LimitExceededError(
            f"{where}analyzer {analyzer or '(unnamed)'} {OVERRUN} "
            f"({self.seconds:g} s); the rest of its work was not done",
            limit="max_analyzer_seconds",
            member=path,
        )


#: the analyzer the engine runs on this thread, and its deadlines (:meth:`Deadlines.running`)
_current = threading.local()


def check_current(path: str | None = None) -> None:
    """Raise :class:`~anchore.errors.LimitExceededError` (``max_analyzer_seconds``) when
    the analyzer running on this thread is past its deadline; nothing outside one.

    For loops in the analysis' own code that an analyzer calls without naming
    itself (layer attribution reading every layer's copy of a database).
    """
    running = getattr(_current, "running", None)
    if running is not None:
        deadlines, analyzer = running
        deadlines.check(analyzer, path)


def each(
    file: FileInput,
    records: Iterable[R],
    build: Callable[[R], Result | Iterable[Result] | None],
    describe: Callable[[R], str] | None,
) -> Iterator[Result]:
    """:meth:`FileInput.each <anchore.analysis.analyzer.FileInput.each>`: per-record isolation."""
    context = file.context
    deadlines = context.deadlines
    most = file.limits.max_db_records
    number = 0
    iterator = iter(records)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # the records themselves cannot be read further
            where = f"after record {number}" if number else "reading its records"
            yield file.error(f"{where}: {_unprefixed(file.path, exc)}; the rest was not read")
            return
        number += 1
        if number > most:
            yield file.error(
                f"more than Limits.max_db_records ({most}) records; the rest were not read"
            )
            return
        if deadlines.expired(file.analyzer):
            yield file.error(problem(deadlines.exceeded(file.analyzer)))
            return
        try:
            built: Any = build(record)
            results: list[Any] = (
                [] if built is None else list(built) if _is_many(built) else [built]
            )
        except Exception as exc:
            what = _describe(describe, record, number)
            yield file.error(f"{what}: {_unprefixed(file.path, exc)}")
            continue
        yield from results


def _is_many(value: object) -> bool:
    """Whether ``build`` gave several results (an iterable) rather than one result value."""
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict))


def _describe(describe: Callable[[Any], str] | None, record: object, number: int) -> str:
    if describe is not None:
        try:
            return str(describe(record))
        except Exception:  # a record too broken to name is named by its number
            pass
    return f"record {number}"
