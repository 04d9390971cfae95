"""The one HTML renderer: notebook cells and the HTML report are built from these parts.

Everything shown comes from images, SBOMs and feeds, which an attacker may write: every
value passes through :func:`escape` (a package named ``<script>`` is text, not markup),
tables stop at ``cap`` rows and say how many were left out, so a 40,000-file image
renders as fast as a 40-file one. The output is self-contained: inline CSS and inline
SVG, no script, no external asset, so a report opens offline and in a sandboxed viewer.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from anchore.errors import MissingExtraError

__all__ = [
    "CSS",
    "MORE_HINT",
    "ROW_CAP",
    "bar_chart",
    "dataframe",
    "definitions",
    "escape",
    "fragment",
    "human_size",
    "page",
    "section",
    "short_repr",
    "table",
]

#: rows a notebook cell's table shows before it says "and N more"; the report page
#: passes ``cap=None`` and shows every row (a reader of a static page cannot ask for more)
ROW_CAP = 50

#: what the "and N more rows" line tells a notebook user to do to see them all
MORE_HINT = "to_records() or to_dataframe() gives them all"

#: the styles every fragment carries, scoped under ``.anchore`` so a notebook's own
#: styles and ours do not meet; light and dark themes both read (currentColor, no fills
#: behind text)
CSS = """
.anchore { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 13px; }
.anchore table { border-collapse: collapse; margin: 0.3em 0 0.8em; }
.anchore th, .anchore td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top;
  border-bottom: 1px solid rgba(127,127,127,0.25); }
.anchore th { font-weight: 600; }
.anchore td.num, .anchore th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.anchore .more { opacity: 0.7; font-style: italic; }
.anchore dl { display: grid; grid-template-columns: max-content auto; gap: 2px 14px;
  margin: 0.3em 0; }
.anchore dt { font-weight: 600; }
.anchore dd { margin: 0; }
.anchore h2 { font-size: 1.25em; margin: 1.1em 0 0.3em; }
.anchore h3 { font-size: 1.05em; margin: 0.9em 0 0.2em; }
.anchore .badge { display: inline-block; padding: 1px 8px; border-radius: 4px; font-weight: 700;
  color: #fff; }
.anchore .GO { background: #2e7d32; } .anchore .WARN { background: #b26a00; }
.anchore .STOP { background: #c62828; }
.anchore .critical, .anchore .high { color: #c62828; font-weight: 600; }
.anchore .medium { color: #b26a00; }
.anchore svg text { fill: currentColor; font-size: 11px; }
"""


def escape(value: Any) -> str:
    """``value`` as HTML text: markup in names and paths from an image stays text."""
    return html.escape("" if value is None else str(value), quote=True)


def human_size(size: int | float | None) -> str:
    """``1.5 MiB``: bytes for people, in binary units up to TiB (``-`` for unknown)."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis: one field of a repr."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: Any, numeric: bool, style: Callable[[Any], str | None] | None = None) -> str:
    names = ["num"] if numeric else []
    extra = style(value) if style is not None else None
    if extra:
        names.append(extra)
    css = f' class="{escape(" ".join(names))}"' if names else ""
    return f"<td{css}>{escape(value)}</td>"


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    cap: int | None = ROW_CAP,
    total: int | None = None,
    numeric: Iterable[str] = (),
    caption: str | None = None,
    styles: Mapping[str, Callable[[Any], str | None]] | None = None,
    more_hint: str = MORE_HINT,
) -> str:
    """An HTML table of at most ``cap`` rows (``None``: every row); past them one row says
    how many more there are and ``more_hint`` (how to get them).

    ``rows`` is consumed only up to ``cap + 1`` items unless ``total`` is not given and the
    count is needed: pass ``total`` (``len`` of a sequence) to keep a generator lazy.
    ``numeric`` names the columns aligned right. ``styles`` maps a column to a function
    giving a cell's CSS class from its value (``high`` for a severity; None for none).
    """
    right = set(numeric)
    flags = [name in right for name in columns]
    cell_styles = [(styles or {}).get(name) for name in columns]
    head = "".join(
        f'<th class="num">{escape(c)}</th>' if f else f"<th>{escape(c)}</th>"
        for c, f in zip(columns, flags, strict=True)
    )
    body: list[str] = []
    shown = 0
    extra = 0
    for row in rows:
        if cap is None or shown < cap:
            cells = "".join(
                _cell(v, f, st) for v, f, st in zip(row, flags, cell_styles, strict=False)
            )
            body.append(f"<tr>{cells}</tr>")
            shown += 1
        elif total is None:
            extra += 1
        else:
            break
    more = (total - shown) if total is not None else extra
    if more > 0:
        body.append(
            f'<tr><td class="more" colspan="{len(columns)}">… and {more:,} more '
            f"row{'s' if more != 1 else ''} ({escape(more_hint)})</td></tr>"
        )
    cap_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap_html}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def definitions(pairs: Iterable[tuple[str, Any]]) -> str:
    """A list of ``term: value`` pairs (an image's summary), values escaped."""
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>"


def section(title: str, body_html: str, *, level: int = 2) -> str:
    """A titled section: ``body_html`` is markup already built by these functions."""
    return f"<section><h{level}>{escape(title)}</h{level}>{body_html}</section>"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str = "",
    value_label: Any = human_size,
    width: int = 640,
    bar_height: int = 18,
) -> str:
    """A horizontal bar chart as inline SVG (size per layer): no plotting library, no script.

    ``value_label`` writes each value beside its bar (default: as a size in bytes). A
    value that is not a finite number (None, NaN from a pandas column, inf) is not
    known: no bar, "not known" beside it, and it does not set the scale.
    """
    if len(labels) != len(values):
        raise ValueError("bar_chart: one label per value")
    known = [_finite(v) for v in values]
    label_width = min(260, 7 * max((len(str(s)) for s in labels), default=4) + 10)
    chart_width = max(width - label_width - 90, 50)
    top = max((v for v in known if v is not None and v > 0), default=0) or 1
    height = bar_height * len(labels) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i, (label, value) in enumerate(zip(labels, known, strict=True)):
        y = i * bar_height + 3
        w = 0 if value is None or value <= 0 else max(1, math.floor(chart_width * value / top))
        shown = "not known" if value is None else value_label(value)
        text = str(label)
        text = text if len(text) <= 36 else text[:35] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 6}" text-anchor="end">'
            f"{escape(text)}</text>"
            f'<rect x="{label_width}" y="{y + 2}" width="{w}" height="{bar_height - 5}" '
            f'fill="#4c78a8"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_width + w + 5}" y="{y + bar_height - 6}">'
            f"{escape(shown)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is not a finite number (not known)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fragment(body_html: str) -> str:
    """Markup for a notebook cell: ``body_html`` inside the scoped styles."""
    return f'<div class="anchore"><style>{CSS}</style>{body_html}</div>'


def page(title: str, body_html: str) -> str:
    """One self-contained HTML document (the report): no script, no external asset."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{CSS}\nbody {{ margin: 1.5em auto; "
        "max-width: 1100px; padding: 0 1em; }</style></head>"
        f'<body class="anchore">{body_html}</body></html>\n'
    )


def dataframe(records: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Any:
    """``pandas.DataFrame(records)`` when pandas is installed (``anchore[pandas]``).

    ``columns`` fixes the columns (and their order) even when there are no records.
    """
    try:
        import pandas as pd
    except ImportError:
        raise MissingExtraError(
            "to_dataframe() needs pandas: pip install 'anchore[pandas]' "
            "(to_records() gives the same rows as plain dicts)",
            extra="pandas",
        ) from None
    return pd.DataFrame.from_records(list(records), columns=columns)
