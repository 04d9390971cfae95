"""A policy decision as an HTML section: the GO/WARN/STOP badge, every triggered rule
with its evidence, and what the vulnerability rules could not check.

Shared by the notebook cell of an :class:`~anchore.policy.evaluate.Evaluation` and the
report; built from :mod:`anchore.display`, so messages and evidence (package names,
paths from the image) are escaped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from anchore import display
from anchore.analysis import html as analysis_html
from anchore.serialize import plain
from anchore.vulns import html as vulns_html

if TYPE_CHECKING:  # evaluate.py imports this module for its _repr_html_
    from anchore.analysis.model import Analysis
    from anchore.policy.evaluate import Evaluation, TriggeredItem
    from anchore.vulns.match import Match, MatchResult

__all__ = ["ACTION_ORDER", "badge", "decision", "evidence_text", "not_evaluated", "page"]

#: actions, most severe first
ACTION_ORDER = ("STOP", "WARN", "GO")

#: characters of evidence shown per item (to_records() has all of it); a cut says how
#: much was left out, so a list of packages never looks complete when it is not
EVIDENCE_CHARS = 300


def evidence_text(evidence: dict[str, Any], limit: int | None = EVIDENCE_CHARS) -> str:
    """``key=value; ...`` of an item's evidence, cut at ``limit`` characters with
    "… (N more characters)"."""
    parts = []
    for key, value in evidence.items():
        shown = value if isinstance(value, (str, int, float)) else json.dumps(value, default=plain)
        parts.append(f"{key}={shown}")
    text = "; ".join(parts)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit:,} more characters)"
    return text


#: the CSS class of an action cell: STOP and WARN in the colours of high and medium
_ACTION_CLASS = {"STOP": "high", "WARN": "medium"}


def _rank(action: str) -> int:
    return ACTION_ORDER.index(action) if action in ACTION_ORDER else len(ACTION_ORDER)


def _item_row(i: TriggeredItem) -> tuple[object, ...]:
    allowlisted = f"yes ({i.allowlist_item})" if i.allowlisted else ""
    return (i.action, i.gate, i.trigger, i.message, evidence_text(i.evidence), allowlisted)


def badge(action: str) -> str:
    """The decision as a coloured badge (the class is one of the three actions only)."""
    css = action if action in ACTION_ORDER else ""
    return f'<span class="badge {css}">{display.escape(action)}</span>'


def not_evaluated(title: str = "Policy") -> str:
    """The section for a report that was not asked to evaluate: says so."""
    return display.section(title, "<p><strong>policy: not evaluated</strong></p>")


def _checked(evaluation: Evaluation) -> int | None:
    """Packages the vulnerability rules checked (None: no rule asked the store)."""
    if evaluation.coverage is None:
        return None
    return sum(evaluation.coverage.get("checked", {}).values())


def _coverage(evaluation: Evaluation) -> str:
    line = evaluation.coverage_line()
    if line is None:
        return "<p>vulnerability rules: none asked the store</p>"
    if _checked(evaluation) == 0:
        # fail closed on the page: a GO over nothing checked must not read as clean
        return (
            "<p><strong>nothing was checked</strong> by the vulnerability rules: this "
            f"{display.escape(evaluation.final_action)} says nothing about "
            f"vulnerabilities ({display.escape(line)})</p>"
        )
    unchecked = sum((evaluation.coverage or {}).get("unchecked", {}).values())
    strong = "<strong>" if unchecked else ""
    return f"<p>{strong}{display.escape(line)}{'</strong>' if strong else ''}</p>"


def _item_key(i: TriggeredItem) -> tuple[bool, int, str, str]:
    # standing items first: an allowlisted STOP never hides the WARN that decided
    return (i.allowlisted, _rank(i.action), i.gate, i.trigger_id)


def decision(
    evaluation: Evaluation | None, title: str = "Policy", *, cap: int | None = display.ROW_CAP
) -> str:
    """The badge and reason, the bundle and mapping, then the triggered items: standing
    ones first, STOP before WARN. ``cap`` limits the rows (a notebook cell); the report
    page passes None and lists every item."""
    if evaluation is None:
        return not_evaluated(title)
    e = evaluation
    head = (
        f"<p>{badge(e.final_action)} {display.escape(e.reason)}</p>"
        + display.definitions(
            [
                ("bundle", e.bundle_id),
                ("mapping", e.mapping or "-"),
                ("policies", ", ".join(e.policy_ids) or "-"),
                ("allowlists", ", ".join(e.allowlist_ids) or "-"),
                ("image", e.tag or e.image_digest or "-"),
                ("evaluated at", e.evaluated_at),
            ]
        )
        + _coverage(e)
    )
    items = sorted(e.items, key=_item_key)
    counts = Counter(i.action for i in e.items if not i.allowlisted)
    allowlisted = sum(1 for i in e.items if i.allowlisted)
    tally = ", ".join(f"{counts[a]} {a}" for a in ACTION_ORDER if counts[a]) or "none standing"
    body = head + f"<p>{len(items):,} triggered items: {display.escape(tally)}"
    body += f", {allowlisted:,} allowlisted</p>" if allowlisted else "</p>"
    if items:
        body += display.table(
            ("action", "gate", "trigger", "message", "evidence", "allowlisted"),
            (_item_row(i) for i in items),
            total=len(items),
            cap=cap,
            styles={"action": _ACTION_CLASS.get},
        )
    return display.section(title, body)


def page(
    analysis: Analysis | None,
    *,
    matches: MatchResult | Sequence[Match] | None = None,
    evaluation: Evaluation | None = None,
    title: str | None = None,
) -> str:
    """The whole report page (what :func:`anchore.report.render` and
    ``Evaluation.to_html()`` return): the decision, the image summary, size per layer,
    vulnerabilities, packages, findings. ``matches`` defaults to the evaluation's own;
    without an analysis the page says the image's sections are not included.
    """
    if matches is None and evaluation is not None:
        matches = evaluation.matches
    if title is None:
        image = analysis.image if analysis is not None else None
        name = (image.reference or image.source) if image is not None else None
        name = name or (evaluation.tag or evaluation.image_digest if evaluation else None)
        title = f"anchore report: {name or 'image'}"
    # a static page cannot be asked for more rows: every item, match and package is on it
    body = f"<h1>{display.escape(title)}</h1>" + decision(evaluation, cap=None)
    vulns = _vulns(matches, evaluation)
    if analysis is None:
        body += display.section("Image", "<p><strong>image analysis: not included</strong></p>")
        body += vulns
    else:
        body += (
            analysis_html.summary(analysis)
            + analysis_html.layers(analysis)
            + vulns
            + analysis_html.packages(analysis, cap=None)
            + analysis_html.findings(analysis, cap=None)
        )
    return display.page(title, body)


def _vulns(matches: MatchResult | Sequence[Match] | None, evaluation: Evaluation | None) -> str:
    """The vulnerabilities section of a page: every match, or why there are none shown."""
    if matches is None and evaluation is not None and evaluation.coverage is not None:
        # the evaluation did check (its coverage says how much), the matches just are
        # not part of it (read back from JSON, or built by hand): not "not checked"
        checked = _checked(evaluation) or 0
        return display.section(
            "Vulnerabilities",
            "<p><strong>vulnerability matches: not included</strong> (the evaluation "
            f"checked {checked:,} packages; see the policy section's coverage)</p>",
        )
    return vulns_html.matches(matches, cap=None)
