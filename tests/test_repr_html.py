"""Notebook reprs: short plain reprs, escaped, row-capped and cheap HTML, on real images.

debian-py is the real corpus image (434 packages, 11,675 files); the hostile image is
built here with a Python package named ``<script>alert(1)</script>`` and a setuid file
whose name is an ``<img onerror>`` tag: both must reach the page as text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs
import pytest

import anchore
import imagebuilder as ib
from anchore import display, query, sbom
from anchore.policy import evaluate, load_bundle
from anchore.policy import html as policy_html
from anchore.vulns import Store, load, match, read_osv
from test_policy import EXAMPLE, bundle_with
from testdata import PYPA

BUSYBOX = Path(__file__).resolve().parent.parent / "examples" / "busybox" / "busybox.oci.tar"
#: a CycloneDX SBOM another tool wrote: packages without locations (no layer known)
FOREIGN = (
    Path(__file__).parent
    / "data/syft-testdata/syft/pkg/cataloger/java/testdata/graalvm-sbom/micronaut.json"
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    return store


@pytest.fixture(scope="module")
def debian_py(corpus):
    return anchore.analyze(corpus / "debian-py.oci.tar")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    site = "usr/lib/python3/dist-packages"
    built = ib.build(
        [
            [
                ib.d("usr"), ib.d("usr/lib"), ib.d("usr/lib/python3"), ib.d(site),
                ib.d(f"{site}/x-1.0.dist-info"),
                ib.f(f"{site}/x-1.0.dist-info/METADATA",
                     f"Metadata-Version: 2.1\nName: {SCRIPT}\nVersion: 1.0\n"),
                ib.d("bin"), ib.f(f"bin/{IMG}", b"x", mode=0o4755),
            ]
        ],
        history=[{"created_by": f"RUN echo '{SCRIPT}'"}],
    )  # fmt: skip
    path = ib.write_all_formats(tmp_path_factory.mktemp("hostile"), built)["oci-tar"]
    return path, anchore.analyze(path)


@pytest.mark.corpus
def test_plain_reprs_are_short_and_say_what_it_is(corpus, debian_py, store):
    evaluation = evaluate(debian_py, load_bundle(EXAMPLE), store=store)
    matches = match(debian_py, store)
    with anchore.open_image(corpus / "debian-py.oci.tar") as image:
        image_repr = repr(image)
    reprs = {
        "analysis": repr(debian_py),
        "evaluation": repr(evaluation),
        "matches": repr(matches),
        "image": image_repr,
        "query": repr(query.run("files", debian_py)),
        "diff": repr(query.run("diff", [debian_py, debian_py])),
    }
    for name, text in reprs.items():
        assert len(text) < 300, (name, text)
    # the elements a notebook user lists: every one a line
    for many in (debian_py.packages, debian_py.findings, matches, matches.packages):
        assert max(len(repr(x)) for x in many) < 300, many[0]
    pyyaml = next(m for m in matches if m.advisory_id == "PYSEC-2021-142")
    assert repr(pyyaml).startswith("Match('PYSEC-2021-142', python 'pyyaml' '5.3.1'")
    assert repr(pyyaml).endswith("fixed in '5.4')")
    assert "434 packages" in reprs["analysis"] and "11,675 files" in reprs["analysis"]
    assert reprs["evaluation"].startswith(f"<Evaluation {evaluation.final_action}:")
    assert f"{len(matches)} matches" in reprs["matches"]
    assert f"{len(matches.unchecked)} unchecked" in reprs["matches"]
    assert "11,675 rows" in reprs["query"]
    assert "'debian-py'" in reprs["image"] and "4 layers" in reprs["image"]


class _NoWalk(list):
    """A file inventory that fails the test if a renderer walks it."""

    def __iter__(self):
        raise AssertionError("the file inventory was walked")

    def __getitem__(self, index):
        raise AssertionError("the file inventory was read")


@pytest.mark.corpus
def test_analysis_html_is_bounded_and_does_not_walk_the_files(debian_py):
    files = debian_py.files
    debian_py.files = _NoWalk(files)
    try:
        html = debian_py._repr_html_()
    finally:
        debian_py.files = files
    assert len(html) < 100_000
    assert html.startswith('<div class="anchore"><style>')
    assert "<svg" in html and "11,675" in html  # the chart; the count from len()
    shown = display.ROW_CAP
    more = len(debian_py.packages) - shown
    # a notebook cell stays capped, and tells its reader how to see every row
    assert f"… and {more:,} more rows (to_records() or to_dataframe() gives them all)" in html


@pytest.mark.corpus
def test_query_html_converts_only_the_rows_shown(debian_py):
    result = query.run("files", debian_py)
    html = result._repr_html_()
    assert len(html) < 100_000
    assert html.count("<tr>") == 1 + display.ROW_CAP + 1  # header, rows, "and N more"
    assert f"… and {len(result) - display.ROW_CAP:,} more rows" in html


@pytest.mark.corpus
def test_image_html_summarises_the_layers(corpus):
    with anchore.open_image(corpus / "debian-py.oci.tar") as image:
        html = image._repr_html_()
    assert len(html) < 100_000 and "<svg" in html
    assert "debootstrap --variant=minbase bookworm" in html
    assert "RUN pip install" in html


def _assert_escaped(html: str) -> None:
    assert "<script" not in html and "<img" not in html
    assert display.escape(SCRIPT) in html or display.escape(IMG) in html


def test_hostile_names_are_text_in_every_cell(hostile):
    path, analysis = hostile
    assert [p.name for p in analysis.packages] == [SCRIPT]
    html = analysis._repr_html_()
    _assert_escaped(html)
    assert display.escape(SCRIPT) in html and display.escape(f"/bin/{IMG}") in html
    # the name does not make a valid purl: an analyzer error quoting it, shown too
    assert any(SCRIPT in e.message for e in analysis.errors)
    setuid = {"id": "setuid", "gate": "files", "trigger": "suid_or_guid_set", "action": "WARN"}
    evaluation = evaluate(analysis, bundle_with(setuid))
    assert any(IMG in i.message for i in evaluation.items)  # the setuid rule fired
    for html in (
        evaluation._repr_html_(),
        evaluation.to_html(),
        query.run("packages", analysis)._repr_html_(),
        query.run("setuid", analysis)._repr_html_(),
    ):
        _assert_escaped(html)
    assert display.escape(f"/bin/{IMG}") in evaluation._repr_html_()
    with anchore.open_image(path) as image:
        _assert_escaped(image._repr_html_())
        assert display.escape(SCRIPT) in image._repr_html_()  # the history step
    assert SCRIPT in repr(analysis.packages[0])  # plain repr: text, quoted


def test_a_match_result_that_checked_nothing_never_reads_clean(tmp_path, hostile):
    _, analysis = hostile
    record = {"id": "GO-TEST-1", "modified": "2024-01-01T00:00:00Z",
              "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
                            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}  # fmt: skip
    (tmp_path / "go.json").write_text(json.dumps(record))
    store = Store(tmp_path / "go-only.sqlite", create=True)
    store.load(read_osv(tmp_path / "go.json"), "one-go-record")
    result = match(analysis, store)  # a Python package, and no PyPI data at all
    assert len(result) == 0 and not result.checked and len(result.unchecked) == 1
    html = result._repr_html_()
    assert "nothing was checked" in html
    assert "Unchecked packages (1): no verdict" in html
    assert "the store has no advisory data for PyPI" in html
    _assert_escaped(html)
    assert display.escape(SCRIPT) in html  # the unchecked package, by name
    assert "0 checked, 1 unchecked" in repr(result)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_findings_not_looked_for_never_read_as_none(tmp_path):
    """An SBOM carries no secret or setuid scan: the summary's "findings 0" and the
    section's "none" would read as clean."""
    path = tmp_path / "busybox.cdx.json"
    path.write_bytes(sbom.dumps(anchore.analyze(BUSYBOX), "cyclonedx-json"))
    read_back = sbom.read(path)
    html = read_back._repr_html_()
    assert "<dt>findings</dt><dd>0 (secrets, setuid/setgid files not checked)</dd>" in html
    section = _text(html.split("<h2>Findings</h2>")[1])
    assert section.startswith("secrets: not checked")
    assert "none" not in section.split("(")[0]
    # both scans ran on the image itself: then, and only then, "none found"
    analysis = anchore.analyze(BUSYBOX)
    assert analysis.ran("secrets") and analysis.ran("file-permissions")
    if not analysis.findings:
        assert "<p>none found</p>" in analysis._repr_html_()
    assert "not checked" not in _text(analysis._repr_html_().split("<h2>Findings</h2>")[1])


def test_an_unknown_layer_is_not_a_number():
    read_back = sbom.read(FOREIGN)
    assert read_back.packages and not any(p.locations for p in read_back.packages)
    html = read_back._repr_html_()
    assert "-1" not in _text(html)
    assert re.search(r"<p>layers: not known \(read from a [\w-]+ SBOM\)</p>", html)
    package = read_back.packages[0]
    assert '<td class="num">-</td><td>installed</td>' in html  # the layer cell, then installed
    assert "layer=?" in repr(package) and "layer=-1" not in repr(package)


def test_declared_only_packages_are_marked_apart():
    analysis = anchore.analyze(BUSYBOX)
    first, *rest = analysis.packages
    declared = attrs.evolve(analysis, packages=[attrs.evolve(first, declared=True), *rest])
    html = declared._repr_html_()
    assert "1 declared only: named by a lock or requirements file" in _text(html)
    assert (
        f"<td>{display.escape(first.name)}</td><td>{display.escape(first.version)}</td>"
        f'<td class="num">{first.layer_index}</td><td>declared only</td>'
    ) in html
    assert "declared only" not in analysis._repr_html_()


def test_a_chart_with_a_missing_value_draws_the_rest():
    svg = display.bar_chart(
        ["a", "b", "c", "d"], [float("nan"), 2048, float("inf"), None]
    )  # a pandas column with a missing size gives NaN
    assert svg.count("not known") == 3 * 2  # the bar's title and the label beside it
    assert "2.0 KiB" in svg
    assert 'width="0"' in svg


def test_cut_evidence_says_how_much_was_cut():
    evidence = {"packages": [f"pkg-{n:03d}" for n in range(100)]}
    full = policy_html.evidence_text(evidence, limit=None)
    cut = policy_html.evidence_text(evidence)
    assert len(full) > policy_html.EVIDENCE_CHARS
    more = len(full) - policy_html.EVIDENCE_CHARS
    assert cut == f"{full[: policy_html.EVIDENCE_CHARS]}… ({more:,} more characters)"
    assert policy_html.evidence_text({"a": "short"}) == "a=short"
