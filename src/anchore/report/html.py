"""``render()``: one self-contained HTML page of an image, its vulnerabilities and its policy.

The page is :func:`anchore.display.page` of the same section renderers a notebook
shows (:mod:`anchore.analysis.html`, :mod:`anchore.vulns.html`,
:mod:`anchore.policy.html`): no external asset, no script, the size chart as inline
SVG. A part not asked for says so ("vulnerabilities: not checked"), never nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from anchore import display
from anchore.analysis import html as analysis_html
from anchore.analysis.model import Analysis
from anchore.policy import html as policy_html
from anchore.policy.evaluate import Evaluation
from anchore.vulns import html as vulns_html
from anchore.vulns.match import Match, MatchResult

__all__ = ["render", "title_of"]


def title_of(analysis: Analysis) -> str:
    """The page's default title: the image's reference, else its source."""
    image = analysis.image
    return f"anchore report: {image.reference or image.source or image.config_digest or 'image'}"


def render(
    analysis: Analysis,
    *,
    matches: MatchResult | Sequence[Match] | None = None,
    evaluation: Evaluation | None = None,
    title: str | None = None,
) -> str:
    """The report as one HTML document (a ``str``; write it with ``encoding="utf-8"``).

    Sections, in order: the decision (when ``evaluation`` is given), the image summary,
    size per layer and what each layer added, vulnerabilities by severity with fixes
    (``matches``: a :class:`~anchore.vulns.match.MatchResult` also lists what it could
    not check), packages by type and layer, findings (secrets, setuid files).
    """
    title = title or title_of(analysis)
    body = (
        f"<h1>{display.escape(title)}</h1>"
        + policy_html.decision(evaluation)
        + analysis_html.summary(analysis)
        + analysis_html.layers(analysis)
        + vulns_html.matches(matches)
        + analysis_html.packages(analysis)
        + analysis_html.findings(analysis)
    )
    return display.page(title, body)
