"""anchore.report.render: one self-contained page of debian-py, its matches and its policy.

(The browser test, which loads the page in headless Chromium, is the CLI's: it sits
beside the ``anchore report`` command. This one reads the markup.)
"""

from __future__ import annotations

import html as htmllib
import re
import time

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
from anchore.vulns.severity import Severity
from test_policy import EXAMPLE
from testdata import DEBIAN_TRACKER, GO_ZIP, PYPA, PYPA_ZIP

#: the tag the example bundle maps to its vulnerability policy (as tests/test_policy.py)
TAG = "docker.io/corpus/debian-py:latest"

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def scan(corpus, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    analysis = anchore.analyze(corpus / "debian-py.oci.tar")
    matches = match(analysis, store)
    evaluation = evaluate(analysis, load_bundle(EXAMPLE), store=store)
    return analysis, matches, evaluation


@pytest.fixture(scope="module")
def full_scan(corpus, tmp_path_factory, scan):
    """debian-py against all the advisory data in tests/data, the example bundle mapped by
    tag: the browser test's page, with well over a notebook cell's rows of each kind."""
    analysis = scan[0]
    store = Store(tmp_path_factory.mktemp("full") / "db.sqlite", create=True)
    for feed in (PYPA_ZIP, GO_ZIP, DEBIAN_TRACKER):
        load(store, feed)
    matches = match(analysis, store)
    evaluation = evaluate(analysis, load_bundle(EXAMPLE), tag=TAG, matches=matches, store=store)
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
    # the decision, and every triggered item with its evidence
    assert evaluation.final_action == "STOP" and f'badge {evaluation.final_action}"' in render(
        analysis, evaluation=evaluation
    )
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
        analysis_html.packages(analysis, cap=None),  # the page has every row
        analysis_html.findings(analysis, cap=None),
        vulns_html.matches(matches, cap=None),
        policy_html.decision(evaluation, cap=None),
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
    assert "image analysis: not included" in text
    assert evaluation.coverage is None  # no vulnerability rule for this image's mapping
    assert "vulnerabilities: not checked" in text
    assert evaluation.items[0].message in text
    assert bare.to_dict() == evaluation.to_dict()  # the JSON never carried them


def test_an_evaluation_read_back_does_not_say_its_vulnerabilities_were_not_checked(full_scan):
    _, _, evaluation = full_scan
    bare = attrs.evolve(evaluation, analysis=None, matches=None)
    text = " ".join(_text(bare.to_html()).split())
    # it did check (the coverage line says how much); the matches are just not part of it
    checked = sum(evaluation.coverage["checked"].values())
    assert checked > 0
    assert "vulnerabilities: not checked" not in text
    assert (
        f"vulnerability matches: not included (the evaluation checked {checked:,} packages" in text
    )


def test_the_page_shows_every_item_match_and_package(full_scan):
    analysis, matches, evaluation = full_scan
    assert len(evaluation.items) > display.ROW_CAP and len(matches) > display.ROW_CAP
    start = time.perf_counter()
    page = render(analysis, matches=matches, evaluation=evaluation)
    elapsed = time.perf_counter() - start
    text = _text(page)
    assert "more rows" not in text and "to_records()" not in text
    for item in evaluation.items:
        assert item.message in text and policy_html.evidence_text(item.evidence) in text
    for m in matches:
        assert f"<td>{display.escape(m.advisory_id)}</td>" in page
    for c in matches.unchecked:
        assert f"<td>{display.escape(c.package.name)}</td>" in page
    for p in analysis.packages:
        assert f"<td>{display.escape(p.name)}</td><td>{display.escape(p.version)}</td>" in page
    # reasonable for a page of 434 packages, 141 matches, 158 items (findings file)
    assert len(page) < 1_000_000 and elapsed < 5


def test_standing_items_come_before_allowlisted_ones(scan):
    """60 allowlisted STOPs and one standing WARN decide WARN: the WARN is the first row,
    in the (capped) notebook cell too."""
    _, _, evaluation = scan
    base = evaluation.items[0]
    hidden = [
        attrs.evolve(base, action="STOP", allowlisted=True, allowlist_item="al-1",
                     message=f"allowlisted stop {n}")
        for n in range(60)
    ]  # fmt: skip
    warn = attrs.evolve(base, action="WARN", allowlisted=False, message="the standing warn")
    e = attrs.evolve(evaluation, items=(*hidden, warn), final_action="WARN")
    cell = e._repr_html_()
    assert "the standing warn" in cell
    rows = re.findall(r"<tr><td[^>]*>(STOP|WARN)</td>", cell)
    assert rows[0] == "WARN" and len(rows) == display.ROW_CAP
    assert "to_records() or to_dataframe() gives them all" in cell  # how to see the rest
    page = _text(e.to_html())
    assert "the standing warn" in page
    assert all(f"allowlisted stop {n}" in page for n in range(60))


def test_a_decision_that_checked_nothing_says_so(scan):
    _, _, evaluation = scan
    empty = attrs.evolve(
        evaluation, items=(), final_action="GO", coverage={"checked": {}, "unchecked": {}}
    )
    text = " ".join(_text(policy_html.decision(empty)).split())
    assert "nothing was checked by the vulnerability rules: this GO says nothing about" in text
    assert "<strong>nothing was checked</strong>" in empty._repr_html_()


def test_severities_follow_the_one_ordering(scan):
    """moderate is medium (as anchore.vulns.severity.rank has it) and coloured so;
    unimportant (Debian's word) is negligible, before an unknown word, as in the gates."""
    _, matches, _ = scan
    base = list(matches)[0]
    ratings = ["unimportant", "unknown", "negligible", "moderate", "low", "medium", "critical"]
    found = [
        attrs.evolve(base, severities=(Severity("distro", r, None, r),), advisory_id=f"TEST-{r}")
        for r in ratings
    ]
    html = vulns_html.matches(found)
    order = re.findall(r"<td>TEST-(\w+)</td>", html)
    assert order == [
        "critical",
        "medium",
        "moderate",
        "low",
        "negligible",
        "unimportant",
        "unknown",
    ]
    assert '<td class="medium">moderate</td>' in html


def test_feed_and_evidence_strings_are_text(scan):
    """Advisory ids, aliases, fixes and evidence come from feeds and images: markup in
    them reaches the page as text (the third untrusted source, after names and paths)."""
    _, matches, evaluation = scan
    script, img = "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"
    hostile = attrs.evolve(
        list(matches)[0], advisory_id=script, aliases=(img,), fixed_in=script, summary=img
    )
    item = attrs.evolve(evaluation.items[0], message=img, evidence={"package": script})
    e = attrs.evolve(evaluation, items=(item,), matches=None)
    for page in (
        render(e.analysis, matches=[hostile], evaluation=e),
        vulns_html.matches([hostile]),
        e._repr_html_(),
    ):
        assert "<script" not in page and "<img" not in page
    page = render(e.analysis, matches=[hostile], evaluation=e)
    assert display.escape(script) in page and display.escape(img) in page
