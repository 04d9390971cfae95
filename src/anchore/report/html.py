"""``render()``: one self-contained HTML page of an image, its vulnerabilities and its policy.

The page is :func:`anchore.display.page` of the same section renderers a notebook
shows (:mod:`anchore.analysis.html`, :mod:`anchore.vulns.html`,
:mod:`anchore.policy.html`), put together by :func:`anchore.policy.html.page`, which
``Evaluation.to_html()`` uses too (policy sits below report). No external asset, no
script, the size chart as inline SVG. A part not asked for says so
("vulnerabilities: not checked", "policy: not evaluated"), never nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from anchore.analysis.model import Analysis
from anchore.policy import html as policy_html
from anchore.policy.evaluate import Evaluation
from anchore.vulns.match import Match, MatchResult

__all__ = ["render"]


def render(
    analysis: Analysis,
    *,
    matches: MatchResult | Sequence[Match] | None = None,
    evaluation: Evaluation | None = None,
    title: str | None = None,
) -> str:
    """The report as one HTML document (a ``str``; write it with ``encoding="utf-8"``).

    Sections, in order: the policy decision with every triggered rule and its evidence
    (``evaluation``), the image summary, size per layer and what each layer added,
    vulnerabilities by severity with fixes (``matches``, else the evaluation's own; a
    :class:`~anchore.vulns.match.MatchResult` also lists what it could not check),
    packages by type and layer, findings (secrets, setuid files). ``title`` defaults to
    ``anchore report: <the image's reference or source>``.
    """
    return policy_html.page(analysis, matches=matches, evaluation=evaluation, title=title)
