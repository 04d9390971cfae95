"""anchore.report.render: one self-contained page of debian-py, its matches and its policy.

(The browser test, which loads the page in headless Chromium, is the CLI's: it sits
beside the ``anchore report`` command. This one reads the markup.)
"""

from __future__ import annotations

import html as htmllib
import re

import attrs
import pytest

import anchore
from anchore import display
from anchore.analysis import html as analysis_html
from anchore.policy import evaluate, load_bundle
from anchore.policy import html as policy_html
from anchore.report import render
from anchore.vulns import Store, load, match
from anchore.vulns import html as vulns_html
from test_policy import EXAMPLE
from testdata import PYPA

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def scan(corpus, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    analysis = anchore.analyze(corpus / "debian-py.oci.tar")
    matches = match(analysis, store)
    evaluation = evaluate(analysis, load_bundle(EXAMPLE), store=store)
    return analysis, matches, evaluation


def _text(page: str) -> str:
    """The page's text, tags removed and entities decoded (what a reader sees)."""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_page_is_self_contained(scan):
    analysis, matches, evaluation = scan
    page = render(analysis, matches=matches, evaluation=evaluation)
    assert page.startswith("<!DOCTYPE html>") and page.count("<html") == 1
    assert len(page) < 1_000_000
    lowered = page.lower()
    for external in ("<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import"):
        assert external not in lowered, external
    assert "<svg" in page and "</svg>" in page  # the size chart, inline
    assert "default-src 'none'" in page


def test_the_page_has_every_section_with_real_content(scan):
    analysis, matches, evaluation = scan
    text = _text(render(analysis, matches=matches, evaluation=evaluation))
    assert "anchore report: debian-py" in text
    # the decision, and every triggered item with its evidence (fewer than a table's cap)
    assert evaluation.final_action == "STOP" and f'badge {evaluation.final_action}"' in render(
        analysis, evaluation=evaluation
    )
    assert len(evaluation.items) < display.ROW_CAP
    for item in evaluation.items:
        assert item.message in text
        assert policy_html.evidence_text(item.evidence) in text
    # the summary and size per layer with what each layer added
    assert "Debian GNU/Linux 12 (bookworm)" in text and "334.3 MiB" in text
    assert "RUN pip install" in text and "162.1 MiB" in text
    # vulnerabilities by severity with fixes, and what could not be checked
    for m in matches:
        assert m.advisory_id in text and (m.fixed_in or "no fix") in text
    assert f"Unchecked packages ({len(matches.unchecked)}): no verdict" in text
    assert '<td class="high">high</td>' in render(analysis, matches=matches)  # coloured
    assert "the store has no advisory data for Debian:12" in text
    # packages by type and layer; secrets and setuid findings
    assert "Packages (434)" in text
    assert "/usr/bin/passwd" in text and "AWS access key" in text
    for absent in ("not checked", "not evaluated"):
        assert absent not in text


def test_parts_not_asked_for_say_so(scan):
    analysis, _, _ = scan
    text = _text(render(analysis))
    assert "vulnerabilities: not checked" in text
    assert "policy: not evaluated" in text
    assert "0 matches" not in text


def test_the_notebook_and_the_report_share_the_section_renderers(scan):
    analysis, matches, evaluation = scan
    page = render(analysis, matches=matches, evaluation=evaluation)
    for section in (
        analysis_html.summary(analysis),
        analysis_html.layers(analysis),
        analysis_html.packages(analysis),
        analysis_html.findings(analysis),
        vulns_html.matches(matches),
        policy_html.decision(evaluation),
    ):
        assert section in page
    assert analysis_html.sections(analysis) in analysis._repr_html_()
    assert vulns_html.matches(matches) in matches._repr_html_()
    assert policy_html.decision(evaluation) in evaluation._repr_html_()


def test_evaluation_to_html_is_the_report_of_what_it_evaluated(scan):
    analysis, _, evaluation = scan
    assert evaluation.analysis is analysis
    assert evaluation.to_html() == render(analysis, evaluation=evaluation)
    bare = attrs.evolve(evaluation, analysis=None, matches=None)
    text = _text(bare.to_html())
    assert "image analysis: not included" in text and "vulnerabilities: not checked" in text
    assert evaluation.items[0].message in text
    assert bare.to_dict() == evaluation.to_dict()  # the JSON never carried them
