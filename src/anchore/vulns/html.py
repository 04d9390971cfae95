"""Vulnerability matches as an HTML section: by severity, with fixes, and what was unchecked.

Fails closed on the page as in the API: packages the store could not check are listed
with the reason, and a result that checked nothing never reads as "0 vulnerabilities".
Shared by the notebook cell of a :class:`~anchore.vulns.match.MatchResult` and the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from anchore import display
from anchore.vulns.severity import rank

if TYPE_CHECKING:  # match.py imports this module for its _repr_html_
    from anchore.vulns.match import Match, MatchResult

__all__ = ["matches", "not_checked", "severity_class", "severity_key"]

#: unchecked packages listed by name in a notebook cell (the reasons above count them
#: all; the report page lists every one)
UNCHECKED_CAP = 20

#: the CSS class of each rating display.CSS colours (moderate is medium, as rank says)
_SEVERITY_CLASS = {"critical": "critical", "high": "high", "medium": "medium",
                   "moderate": "medium"}  # fmt: skip


def severity_key(rating: str) -> int:
    """Sort key of a rating, worst first: :func:`anchore.vulns.severity.rank` (the one
    ordering the policy gates and ``anchore vulns`` use), negated."""
    return -rank(rating or "")


def severity_class(rating: Any) -> str | None:
    """The CSS class of a severity cell (display.CSS colours critical, high, medium)."""
    return _SEVERITY_CLASS.get(str(rating).lower())


_STYLES = {"severity": severity_class}


def _sort_key(m: Match) -> tuple[int, float, str, str]:
    return (severity_key(m.rating), -(m.score or 0.0), m.package_name, m.advisory_id)


def _match_row(m: Match) -> tuple[object, ...]:
    where = m.locations[0] if m.locations else None
    return (
        m.rating,
        m.advisory_id,
        ", ".join(m.aliases),
        m.package_name,
        m.installed_version,
        m.fixed_in or "no fix",
        where.layer_index if where else "",
        where.path if where else "",
    )


def not_checked(title: str = "Vulnerabilities") -> str:
    """The section for a report that was not asked to match: says so, never "0"."""
    return display.section(title, "<p><strong>vulnerabilities: not checked</strong></p>")


def _coverage(result: MatchResult) -> str:
    checked, unchecked = len(result.checked), len(result.unchecked)
    parts = [f"{checked:,} packages checked", f"{unchecked:,} unchecked"]
    if result.declared:
        parts.append(f"{len(result.declared):,} declared only (not matched)")
    text = "; ".join(parts)
    if checked == 0:
        return (
            f"<p><strong>nothing was checked</strong>: {display.escape(text)}. The absence "
            "of matches below says nothing about this image.</p>"
        )
    return f"<p>{display.escape(text)}</p>"


def _unchecked(result: MatchResult, cap: int | None) -> str:
    rows = result.unchecked
    if not rows:
        return ""
    reasons = Counter((c.group, c.reason) for c in rows)
    table = display.table(
        ("ecosystem", "packages", "why unchecked"),
        ((group, f"{n:,}", why) for (group, why), n in reasons.most_common()),
        total=len(reasons),
        numeric=("packages",),
    )
    listing = display.table(
        ("type", "name", "version", "ecosystem"),
        ((c.package.type, c.package.name, c.package.version, c.group) for c in rows),
        total=len(rows),
        cap=None if cap is None else min(cap, UNCHECKED_CAP),
    )
    return display.section(
        f"Unchecked packages ({len(rows):,}): no verdict", table + listing, level=3
    )


def matches(
    result: MatchResult | Sequence[Match] | None,
    title: str = "Vulnerabilities",
    *,
    cap: int | None = display.ROW_CAP,
) -> str:
    """Counts by severity, the matches worst first with their fixes, and the unchecked.
    ``cap`` limits the listed rows (a notebook cell); the report page passes None.

    ``None`` is "not checked"; a plain sequence of matches (no :class:`MatchResult`)
    says nothing of coverage, and the section says that.
    """
    if result is None:
        return not_checked(title)
    found = sorted(result, key=_sort_key)
    # a MatchResult knows what it checked; match.py imports this module, so no isinstance
    full = cast("MatchResult", result) if hasattr(result, "unchecked") else None
    coverage = (
        _coverage(full)
        if full is not None
        else "<p>coverage not known: these matches came without the packages checked</p>"
    )
    counts = Counter(m.rating for m in found)
    summary = display.table(
        ("severity", "matches"),
        ((r, f"{n:,}") for r, n in sorted(counts.items(), key=lambda kv: severity_key(kv[0]))),
        total=len(counts),
        numeric=("matches",),
        styles=_STYLES,
    )
    fixable = sum(1 for m in found if m.fixed_in)
    body = coverage + f"<p>{len(found):,} matches, {fixable:,} with a fix</p>"
    if found:
        body += summary + display.table(
            ("severity", "advisory", "aliases", "package", "version", "fixed in", "layer", "path"),
            (_match_row(m) for m in found),
            total=len(found),
            cap=cap,
            numeric=("layer",),
            styles=_STYLES,
        )
    if full is not None:
        body += _unchecked(full, cap)
    return display.section(title, body)
