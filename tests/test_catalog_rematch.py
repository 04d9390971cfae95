"""Re-match without re-pulling, on the real corpus and the real PyPA and Go advisories.

Yesterday's store holds the PyPA advisories published before 2023; the morning brings
the rest of PyPA and the Go database. What rematch reports new must be exactly what a
fresh match against the whole store finds that a match against yesterday's did not,
computed here with anchore.vulns.match.match on its own.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import attrs
import pytest

from anchore import Analysis, analyze
from anchore.catalog import Catalog, rematch
from anchore.vulns import LoadReport, Store, read_osv
from anchore.vulns.match import match
from testdata import GO, PYPA

pytest_plugins = ["postgres_server"]

NAMES = ("debian-min", "debian-py", "debian-node")
CUTOFF = "2023-01-01"
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def analyses(corpus: Path) -> dict[str, Analysis]:
    return {name: analyze(corpus / f"{name}.docker.tar") for name in NAMES}


def _yesterday(path: Path) -> Store:
    """A store with the PyPA advisories published before CUTOFF (PyPA's coverage too)."""
    store = Store(path, create=True)
    report = LoadReport()
    old = (a for a in read_osv(PYPA, report) if (a.published or "") < CUTOFF)
    store.load(old, "osv-pypa", report)
    return store


def _morning(store: Store) -> None:
    """The rest: every PyPA advisory (the old ones unchanged) and the Go database."""
    for path, source in ((PYPA, "osv-pypa"), (GO, "osv-go")):
        report = LoadReport()
        store.load(read_osv(path, report), source, report)


def _found(analysis: Analysis, store: Store) -> set[tuple[str, str, str]]:
    key = analysis.image.config_digest
    return {(key, m.advisory_id, m.purl) for m in match(analysis, store)}


def _rows(report, change: str) -> set[tuple[str, str, str]]:
    rows = [r for r in report.rows if r.change == change]
    shown = {(r.key, r.advisory_id, r.purl) for r in rows}
    assert len(shown) == len(rows)  # each reported once
    return shown


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "catalog.db")
    server = request.getfixturevalue("postgres_server")
    return server.url(server.create_database())


@pytest.mark.corpus
def test_rematch_reports_what_the_mornings_advisories_did(url, tmp_path, analyses):
    every = list(analyses.values())
    store = _yesterday(tmp_path / "vulns.sqlite")
    before = set().union(*(_found(a, store) for a in every))
    calls = []
    with Catalog(url) as cat:
        for a in every:
            cat.add(a)
        first = rematch(cat, store, progress=lambda *c: calls.append(c))
        assert calls == [("rematch", n, 3) for n in (1, 2, 3)]
        assert set(first.first_runs) == {a.image.config_digest for a in every}
        assert _rows(first, "new") == before and before
        assert _rows(first, "gone") == set()
        assert first.unchecked == sum(len(match(a, store).unchecked) for a in every)
        assert first.checked == sum(len(match(a, store).checked) for a in every) > 0
        assert first.unchecked_images == tuple(  # Debian packages: no Debian advisories
            (key, n)
            for key in [r.key for r in cat.images()]
            for a in every
            if a.image.config_digest == key and (n := len(match(a, store).unchecked))
        )
        assert len(first.unchecked_images) == 3

        _morning(store)
        full = Store(tmp_path / "full.sqlite", create=True)
        _morning(full)
        after = set().union(*(_found(a, full) for a in every))
        assert after - before  # the morning brought something
        second = rematch(cat, store)
        assert second.first_runs == () and second.images == 3
        assert _rows(second, "new") == after - before
        assert _rows(second, "gone") == set()
        assert {r.key for r in second.rows} == {analyses["debian-py"].image.config_digest}

        third = rematch(cat, store)
        assert third.rows == () and third.first_runs == ()
        for a in every:  # every run was recorded: the latest is the full store's
            key = a.image.config_digest
            assert len(cat.match_runs(key)) == 3
            assert {(key, m.advisory_id, m.purl) for m in cat.matches(key)} == _found(a, full)

        fewer = _yesterday(tmp_path / "fewer.sqlite")  # advisories withdrawn
        fourth = rematch(cat, fewer, images=[analyses["debian-py"].image.config_digest])
        assert fourth.images == 1
        # the PyPA ones are gone; the Go ones unchecked (that store has no Go feed)
        lost = {c.package.purl for c in match(analyses["debian-py"], fewer).unchecked}
        assert _rows(fourth, "gone") == {f for f in after - before if f[2] not in lost}
        assert _rows(fourth, "unchecked") == {f for f in after - before if f[2] in lost}
        assert _rows(fourth, "unchecked") and _rows(fourth, "gone")
        assert _rows(fourth, "new") == set()


def _osv(path: Path, id: str, alias: str, name: str, fixed: str) -> Path:
    doc = {
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [alias],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{id}.json").write_text(json.dumps(doc))
    return path


@pytest.mark.corpus
def test_a_vulnerability_reported_under_another_of_its_records_is_not_news(tmp_path, analyses):
    """The same CVE reported through another record (a second feed's) is neither new
    nor gone; a keying by advisory id alone would report both."""
    py = analyses["debian-py"]
    pyyaml = next(p for p in py.packages if p.name == "pyyaml")
    one = Store(tmp_path / "one.sqlite", create=True)
    one.load(read_osv(_osv(tmp_path / "a", "TEST-1", "CVE-2099-1", "pyyaml", "99")), "t")
    two = Store(tmp_path / "two.sqlite", create=True)
    two.load(read_osv(_osv(tmp_path / "b", "OTHER-1", "CVE-2099-1", "pyyaml", "99")), "t")
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(py)
        first = rematch(cat, one)
        assert [(r.change, r.advisory_id, r.package_name) for r in first.rows] == [
            ("new", "TEST-1", "pyyaml")
        ]
        assert first.rows[0].version == pyyaml.version
        assert rematch(cat, two).rows == ()
        assert [m.advisory_id for m in cat.matches(py.image.config_digest)] == ["OTHER-1"]


def _store(path: Path, *sources: tuple[Path, str]) -> Store:
    store = Store(path, create=True)
    for where, source in sources:
        report = LoadReport()
        store.load(read_osv(where, report), source, report)
    return store


@pytest.mark.corpus
def test_a_match_whose_package_went_unchecked_is_not_gone(tmp_path, analyses):
    """A store that lost an ecosystem (here PyPA: Go only) cannot say a python package's
    advisory is fixed: its previous matches are ``unchecked``, never ``gone``."""
    py = analyses["debian-py"]
    key = py.image.config_digest
    full = _store(tmp_path / "full.sqlite", (PYPA, "osv-pypa"), (GO, "osv-go"))
    go = _store(tmp_path / "go.sqlite", (GO, "osv-go"))
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(py)
        rematch(cat, full)
        python = {
            (key, m.advisory_id, m.purl) for m in cat.matches(key) if m.package_type == "python"
        }
        assert python  # werkzeug, pyyaml... (and Go's stdlib, checked both times)
        report = rematch(cat, go)
        assert _rows(report, "gone") == set()
        assert _rows(report, "unchecked") == python
        assert _rows(report, "new") == set()
        row = next(r for r in report.rows if r.advisory_id == "PYSEC-2023-57")
        assert (row.package_name, row.version) == ("werkzeug", "2.0.1")
        assert report.checked == len(match(py, go).checked)
        assert report.unchecked_images == ((key, len(match(py, go).unchecked)),)


@pytest.mark.corpus
def test_packages_without_a_purl_are_told_apart(tmp_path, analyses):
    """Two packages without a purl are two packages: one matching an advisory the other
    matched before is new (pooling purl-less matches under "" hid it)."""
    py = analyses["debian-py"]
    names = ("pyyaml", "werkzeug")
    bare = attrs.evolve(
        py,
        packages=[attrs.evolve(p, purl="") if p.name in names else p for p in py.packages],
    )
    one = Store(tmp_path / "one.sqlite", create=True)
    one.load(read_osv(_osv(tmp_path / "a", "TEST-1", "CVE-2099-1", "pyyaml", "99")), "t")
    both = tmp_path / "b"
    _osv(both, "TEST-1", "CVE-2099-1", "pyyaml", "99")
    doc = json.loads((both / "TEST-1.json").read_text())
    doc["affected"].append(
        {**doc["affected"][0], "package": {"ecosystem": "PyPI", "name": "werkzeug"}}
    )
    (both / "TEST-1.json").write_text(json.dumps(doc))
    two = Store(tmp_path / "two.sqlite", create=True)
    two.load(read_osv(both), "t")
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(bare)
        first = rematch(cat, one)
        assert [(r.change, r.package_name, r.purl) for r in first.rows] == [("new", "pyyaml", "")]
        second = rematch(cat, two)
        assert [(r.change, r.advisory_id, r.package_name) for r in second.rows] == [
            ("new", "TEST-1", "werkzeug")
        ]
        # werkzeug's match is no longer found (pooled, pyyaml's would have hidden it);
        # single records are no PyPI feed, so it is unchecked rather than gone
        third = rematch(cat, one)
        assert [(r.change, r.advisory_id, r.package_name) for r in third.rows] == [
            ("unchecked", "TEST-1", "werkzeug")
        ]


@pytest.mark.corpus
def test_an_image_with_a_failed_package_analyzer_is_not_fully_checked(tmp_path, analyses):
    """The reviewer's case: a python-only image whose python analyzer failed (no
    packages). Its run checks nothing: listed in ``nothing_checked`` and, with the
    analyzer named, in ``incomplete_images``."""
    broken = attrs.evolve(analyses["debian-py"], packages=(), failed_analyzers=("python",))
    pypa = _store(tmp_path / "pypa.sqlite", (PYPA, "osv-pypa"))
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(broken)
        report = rematch(cat, pypa)
    key = broken.image.config_digest
    assert (report.checked, report.unchecked, report.rows) == (0, 0, ())
    assert report.nothing_checked == (key,)
    assert report.incomplete_images == ((key, ("python failed",)),)


@pytest.mark.corpus
def test_an_image_removed_during_a_rematch_is_skipped_not_fatal(tmp_path, analyses):
    """Another process removing an image between the listing and its turn: the rematch
    goes on with the others and names it in ``removed``."""
    pypa = _store(tmp_path / "pypa.sqlite", (PYPA, "osv-pypa"))
    with Catalog(tmp_path / "c.db") as cat:
        for name in ("debian-min", "debian-py"):
            cat.add(analyses[name], seen_at=datetime.datetime(2026, 1, 1, tzinfo=UTC))
        order = [record.key for record in cat.images()]

        def remove_the_next(stage: str, done: int, total: int) -> None:
            if done == 1:
                with Catalog(tmp_path / "c.db") as other:
                    other.remove(order[1])

        report = rematch(cat, pypa, progress=remove_the_next)
        assert report.removed == (order[1],)
        assert report.images == 1 and len(cat.match_runs(order[0])) == 1
        assert order[1] not in cat
