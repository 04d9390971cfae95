"""A policy decision as an HTML section: the GO/WARN/STOP badge, every triggered rule
with its evidence, and what the vulnerability rules could not check.

Shared by the notebook cell of an :class:`~anchore.policy.evaluate.Evaluation` and the
report; built from :mod:`anchore.display`, so messages and evidence (package names,
paths from the image) are escaped.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from anchore import display
from anchore.serialize import plain

if TYPE_CHECKING:  # evaluate.py imports this module for its _repr_html_
    from anchore.policy.evaluate import Evaluation, TriggeredItem

__all__ = ["ACTION_ORDER", "badge", "decision", "evidence_text", "not_evaluated"]

#: actions, most severe first
ACTION_ORDER = ("STOP", "WARN", "GO")

#: characters of evidence shown per item in the page (to_records() has all of it)
EVIDENCE_CHARS = 300


def evidence_text(evidence: dict[str, Any], limit: int | None = EVIDENCE_CHARS) -> str:
    """``key=value; ...`` of an item's evidence, cut at ``limit`` characters."""
    parts = []
    for key, value in evidence.items():
        shown = value if isinstance(value, (str, int, float)) else json.dumps(value, default=plain)
        parts.append(f"{key}={shown}")
    text = "; ".join(parts)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


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


def _coverage(evaluation: Evaluation) -> str:
    line = evaluation.coverage_line()
    if line is None:
        return "<p>vulnerability rules: none asked the store</p>"
    unchecked = sum((evaluation.coverage or {}).get("unchecked", {}).values())
    strong = "<strong>" if unchecked else ""
    return f"<p>{strong}{display.escape(line)}{'</strong>' if strong else ''}</p>"


def decision(evaluation: Evaluation | None, title: str = "Policy") -> str:
    """The badge and reason, the bundle and mapping, then every triggered item, STOP first."""
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
    items = sorted(e.items, key=lambda i: (_rank(i.action), i.allowlisted, i.gate, i.trigger_id))
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
        )
    return display.section(title, body)
