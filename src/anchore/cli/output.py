"""How every command prints: tables fitted to the terminal, colour, progress, ``-o``.

- Tables are aligned and never wrap: past the terminal's width the widest columns are
  cut first, a cut cell ending in ``…``; a piped table is not cut unless ``$COLUMNS``
  says how wide (``anchore packages IMG | grep`` sees whole names).
- Colour only when stdout (stderr, for progress) is a terminal, never with ``NO_COLOR``
  set (https://no-color.org); rich decides both and measures wide characters as a
  terminal draws them.
- Progress goes to stderr, as a bar that disappears when the work is done, and only when
  stderr is a terminal and ``-q`` was not given: a pipeline's logs stay clean.
- ``-o FORMAT`` picks the output of every command (``table`` for people, ``json`` for
  machines, and the formats that fit: SBOM formats, ``sarif``); ``--json`` is kept as
  the spelling of ``-o json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from anchore.cli.common import UsageError

if TYPE_CHECKING:  # rich is imported where it draws: ``--version`` and ``-o json`` skip it
    from rich.console import Console

__all__ = [
    "MIN_COLUMN",
    "Progress",
    "cell",
    "console",
    "cut",
    "output_arg",
    "output_format",
    "print_field",
    "print_line",
    "print_table",
    "printable",
    "progress",
    "table",
    "terminal_width",
]

#: a column is never cut narrower than this (or its own widest cell, if narrower)
MIN_COLUMN = 6
_GAP = "  "
#: what a command's progress callback is: ``progress(stage, done, total)`` as
#: :func:`anchore.analyze` calls it (``total`` None when unknown)
Progress = Callable[[str, int, "int | None"], None]


def terminal_width(stream: Any = None) -> int | None:
    """$COLUMNS, else the width of the terminal ``stream`` (stdout) is, else None: not a
    terminal, so no width to fit (nothing is cut)."""
    text = os.environ.get("COLUMNS", "")
    if text.isdigit() and int(text) > 0:
        return int(text)
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        pass
    return None


def console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): colour only on a terminal, never with
    ``NO_COLOR``; no highlighting of numbers or paths we did not ask for."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(
        file=stream,
        highlight=False,
        # NO_COLOR means no escape sequences at all: rich's no_color keeps bold
        # (https://no-color.org: set and not empty)
        color_system=None if os.environ.get("NO_COLOR") else "auto",
        width=terminal_width(stream) or 10_000,
        soft_wrap=True,
    )


def cell(value: Any) -> str:
    """One value as table text: a list joined with commas, None as ``-``, line breaks
    shown as ``\\n`` (a cell is one line)."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    return printable(str(value))


#: what a terminal would obey instead of showing, or what shows as something it is not:
#: Unicode's Cc, Cf, Zl and Zp (as of Unicode 14, Python 3.11's tables). C0 and C1
#: controls (ESC starts colour, cursor moves, title changes; CSI is \x9b) and DEL; the
#: bidirectional marks and overrides that make text read in another order than it is
#: (U+061C, U+200E/F, U+202A-E, U+2066-9); line and paragraph separators (U+2028/9: a
#: forged row); invisible format characters (U+00AD, U+200B-D, U+FEFF, tags U+E00xx)
_CONTROL_RANGES = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C),
    (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)  # fmt: skip
_CONTROL = re.compile(
    "[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _CONTROL_RANGES) + "]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: every control character shown as an escape
    (``\\x1b``, ``\\n``). Names, paths, labels and history come from images an attacker
    may write; printed raw, an escape sequence would recolour, move or rewrite the
    screen (or the window title), and a line break would forge a row."""
    return _CONTROL.sub(_escape_char, text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal cells, ending in ``…`` when cut."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)).rstrip() + "…" if width > 0 else ""


def _widths(
    columns: Sequence[str], rows: Sequence[Sequence[str]], width: int | None, keep: Sequence[int]
) -> list[int]:
    from rich.cells import cell_len

    natural = [max([cell_len(c)] + [cell_len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    if width is None:
        return natural
    room = width - len(_GAP) * (len(columns) - 1) - sum(natural[i] for i in keep)
    free = [w for i, w in enumerate(natural) if i not in keep]
    if not free or sum(free) <= room:
        return natural
    # the largest cap such that every column cut to it fits: the widest give way first
    lo, hi = min(MIN_COLUMN, max(free)), max(free)
    while lo < hi:
        cap = (lo + hi + 1) // 2
        if sum(min(w, cap) for w in free) <= room:
            lo = cap
        else:
            hi = cap - 1
    return [w if i in keep else min(w, lo) for i, w in enumerate(natural)]


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None,
    keep: Sequence[int] = (),
) -> list[str]:
    """Lines of an aligned table at most ``width`` cells wide (None: as wide as it is),
    while each column can keep :data:`MIN_COLUMN` cells: the widest columns are cut
    first, a cut cell ending in ``…``. The columns at the indexes ``keep`` (a key one
    copies: a digest, a CVE id) are never cut: the others give way."""
    widths = _widths(columns, rows, width, keep)
    lines = []
    for values in [list(columns), *rows]:
        parts = [_pad(cut(v, w), w) for v, w in zip(values, widths, strict=True)]
        line = _GAP.join(parts).rstrip()
        # last resort, on a terminal narrower than the kept columns and the others'
        # minimum: the line itself is cut (a wrapped row would be worse)
        lines.append(line if width is None else cut(line, width))
    return lines


def _pad(text: str, width: int) -> str:
    from rich.cells import cell_len

    return text + " " * (width - cell_len(text))


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keep: Sequence[int] = (),
    styles: Mapping[int, Callable[[str], str | None]] | None = None,
    out: Console | None = None,
) -> None:
    """Print a table fitted to the terminal (see :func:`table`), the header in bold and a
    cell in the rich style ``styles[column](text)`` gives (a severity in red) when colour
    is on. Values go through :func:`cell`."""
    from rich.cells import cell_len
    from rich.text import Text

    out = out or console()
    texts = [[cell(v) for v in row] for row in rows]
    widths = _widths(columns, texts, out.width if terminal_width(out.file) else None, keep)
    styles = styles or {}
    heads = (_pad(cut(c, w), w) for c, w in zip(columns, widths, strict=True))
    width = out.width if terminal_width(out.file) else None
    header = Text(_GAP.join(heads).rstrip())
    header.stylize("bold")
    out.print(_fitted(header, width), overflow="ignore", crop=False)
    for values in texts:
        line = Text()
        for i, (value, w) in enumerate(zip(values, widths, strict=True)):
            if i:
                line.append(_GAP)
            shown = cut(value, w)
            style = styles[i](value) if i in styles else None
            line.append(shown, style=style or "")
            if i < len(widths) - 1:
                line.append(" " * (w - cell_len(shown)))
        line.rstrip()
        out.print(_fitted(line, width), overflow="ignore", crop=False)


def _fitted(line: Any, width: int | None) -> Any:
    """A rich Text cut to ``width`` with ``…`` (its styles kept): the last resort of
    :func:`print_table`, as of :func:`table`, when even the minimum widths do not fit."""
    if width is None or line.cell_len <= width:
        return line
    line.truncate(max(width - 1, 0))
    line.rstrip()
    line.append("…")
    return line


def print_line(text: str) -> None:
    """One line of a summary, shown :func:`printable` and cut with ``…`` to the
    terminal's width as table rows are (whole when piped without ``$COLUMNS``): a summary
    never wraps either, and never carries an image's escape sequences."""
    text = printable(text)
    width = terminal_width()
    print(cut(text, width) if width is not None else text)


def print_field(label: str, value: str, *, whole: bool = False) -> None:
    """``label      value``, one line fitted as :func:`print_line`; a ``whole`` value (a
    digest, a path: something people copy) too wide for the terminal goes on a line of
    its own instead of being cut."""
    from rich.cells import cell_len

    text = f"{label:10} {printable(value)}"
    width = terminal_width()
    if whole and width is not None and cell_len(text) > width:
        print(label)
        print(f"  {printable(value)}")
        return
    print_line(text)


def output_arg(
    p: argparse.ArgumentParser, choices: Sequence[str] = ("table", "json"), default: str = "table"
) -> None:
    """``-o/--output FORMAT`` (and ``--json``, the same as ``-o json``) on a command."""
    p.add_argument(
        "-o",
        "--output",
        choices=list(choices),
        default=None,
        metavar="FORMAT",
        help=f"output format: {', '.join(choices)} (default: {default})",
    )
    p.add_argument("--json", action="store_true", help="the same as -o json")
    p.set_defaults(output_default=default)


def output_format(args: argparse.Namespace) -> str:
    """The format ``-o``/``--json`` asked for (their conflict is a usage error)."""
    chosen: str | None = getattr(args, "output", None)
    if getattr(args, "json", False):
        if chosen not in (None, "json"):
            raise UsageError(f"--json and -o {chosen} ask for two formats; give one")
        return "json"
    return chosen or str(getattr(args, "output_default", "table"))


@contextlib.contextmanager
def progress(quiet: bool = False, description: str = "") -> Iterator[Progress | None]:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on stderr,
    gone when the block ends; None (draw nothing) with ``-q`` or when stderr is not a
    terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    bars = Bars(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        label = f"{description} {stage}".strip()
        if stage not in tasks:
            tasks[stage] = bars.add_task(label, total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield update
