"""The multi-image queries answered from a catalog, on SQLite and a real PostgreSQL.

Ground truth: the same queries over the analyses themselves (anchore.query.fleet,
anchore.query.diff, anchore.query.run) of the real corpus images, and matching
against the real PyPA and Go advisory databases.
"""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path

import attrs
import pytest

from anchore import Analysis, analyze, query
from anchore.catalog import Catalog, affected, custody, diff, rematch, who_has
from anchore.catalog import query as catalog_query
from anchore.catalog.errors import CatalogConnectionError, ImageNotCataloguedError
from anchore.query import QueryParamError, UnanswerableQueryError
from anchore.query.diff import diff as analysis_diff
from anchore.query.diff import image_label
from anchore.query.fleet import advisory as fleet_advisory
from anchore.query.fleet import who_has as fleet_who_has
from anchore.vulns import LoadReport, Store, read_osv
from testdata import GO, PYPA

pytest_plugins = ["postgres_server"]

NAMES = ("debian-min", "debian-py", "debian-node")
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def analyses(corpus: Path) -> dict[str, Analysis]:
    return {name: analyze(corpus / f"{name}.docker.tar") for name in NAMES}


def _url(request: pytest.FixtureRequest, where: Path) -> str:
    if request.param == "sqlite":
        return str(where / "catalog.db")
    server = request.getfixturevalue("postgres_server")
    return server.url(server.create_database())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog(request, analyses, tmp_path_factory):
    with Catalog(_url(request, tmp_path_factory.mktemp("catalog"))) as cat:
        for a in analyses.values():
            cat.add(a)
        yield cat


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("db") / "vulns.sqlite", create=True)
    for path, source in ((PYPA, "osv-pypa"), (GO, "osv-go")):
        report = LoadReport()
        store.load(read_osv(path, report), source, report)
    return store


# ---------------------------------------------------------------- who-has
CASES = [
    ("libssl3", None, None),
    ("curl", None, ">=7.0,<8"),
    ("lib*", None, None),
    ("lib*", "deb", ">=2.0"),
    ("PyYAML", None, None),  # a plain name compared as PyPI compares names (pyyaml)
    ("*", "python", None),
    ("re:^python3", "deb", None),
    ("re:yaml", None, None),
    ("@*", "npm", ">=1.0.0"),
    ("*", None, ">=1"),  # every type: those without an ordering are in_range None
    ("golang.org/x/*", "go-module", "<0.20.0"),
    ("no-such-package", None, None),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "type", "version"), CASES)
def test_who_has_gives_the_rows_of_the_query_over_the_analyses(
    catalog, analyses, name, type, version
):
    ours = who_has(catalog, name, type, version)
    newest = [r.key for r in catalog.images()]  # the catalog's order
    by_key = {a.image.config_digest: a for a in analyses.values()}
    over_stored = fleet_who_has(list(catalog.analyses(newest)), name, type, version)
    over_originals = fleet_who_has([by_key[k] for k in newest], name, type, version)
    assert ours == over_stored == over_originals
    if name != "no-such-package":
        assert ours, name  # the case exercises something
    if version == ">=1":
        assert any(r.in_range is None and r.reason for r in ours)
        assert any(r.in_range is True for r in ours)
    if name == "PyYAML":
        assert {r.name for r in ours} == {"pyyaml"}


@pytest.mark.corpus
def test_who_has_over_some_images(catalog, analyses):
    py = analyses["debian-py"]
    ref = py.image.config_digest  # a docker-save archive is keyed by its config digest
    ours = who_has(catalog, "lib*", "deb", images=[ref[:16]])
    assert ours == fleet_who_has([py], "lib*", "deb")
    assert {r.image for r in ours} == {image_label(py)}


@pytest.mark.corpus
def test_who_has_fails_closed_on_an_image_without_package_evidence(tmp_path, analyses):
    py = analyses["debian-py"]
    info = attrs.evolve(py.image, config_digest="sha256:" + "ab" * 32, source="broken.tar")
    broken = attrs.evolve(
        py,
        image=info,
        analyzers=tuple(a for a in py.analyzers if a != "python"),
        failed_analyzers=("npm",),
    )
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(analyses["debian-min"])
        cat.add(broken)
        for type in ("python", "npm", None):
            with pytest.raises(UnanswerableQueryError, match="broken.tar"):
                who_has(cat, "*", type)
            with pytest.raises(UnanswerableQueryError):
                fleet_who_has(list(cat.analyses()), "*", type)
        rows = who_has(cat, "libc6", "deb")  # what was looked for is answered
        newest = [r.key for r in cat.images()]
        assert rows == fleet_who_has(list(cat.analyses(newest)), "libc6", "deb")
        assert len({r.image for r in rows}) == 2
        with pytest.raises(QueryParamError, match="no package type"):
            who_has(cat, "*", "debs")


# ---------------------------------------------------------------- query, diff
@pytest.mark.corpus
def test_query_runs_registered_queries_over_stored_images(catalog, analyses, store):
    every = list(catalog.analyses([r.key for r in catalog.images()]))
    common = catalog_query(catalog, "common-packages")
    assert common.rows and common.rows == query.run("common-packages", every).rows
    rows = catalog_query(catalog, "who-has", {"name": "lib*", "version": ">=2"})
    assert rows.rows == query.run("who-has", every, {"name": "lib*", "version": ">=2"}).rows
    py, node = (
        analyses["debian-py"].image.config_digest,
        analyses["debian-node"].image.config_digest,
    )
    two = catalog_query(catalog, "diff", {"kind": "package"}, images=[py, node])
    assert two.rows == tuple(
        analysis_diff(analyses["debian-py"], analyses["debian-node"], "package")
    )
    one = catalog_query(catalog, "packages", {"type": "python"}, images=[py])
    assert one.rows == query.run("packages", analyses["debian-py"], {"type": "python"}).rows
    with pytest.raises(QueryParamError, match="advisory store"):
        catalog_query(catalog, "advisory", {"id": "CVE-2020-14343"})
    with pytest.raises(QueryParamError, match="takes two images"):
        catalog_query(catalog, "diff", images=[py])
    with pytest.raises(QueryParamError):
        catalog_query(catalog, "packages")
    found = catalog_query(catalog, "advisory", {"id": "CVE-2020-14343"}, store=store)
    assert found.rows == tuple(fleet_advisory(every, "CVE-2020-14343", store))


@pytest.mark.corpus
def test_diff_of_two_stored_images(catalog, analyses):
    a, b = analyses["debian-min"], analyses["debian-py"]
    ours = diff(catalog, a.image.config_digest, b.image.config_digest)
    assert ours and ours == analysis_diff(a, b)
    assert diff(catalog, a.image.config_digest, b.image.config_digest, "package") == (
        analysis_diff(a, b, "package")
    )


# ---------------------------------------------------------------- custody
@pytest.mark.corpus
def test_custody_counts_the_package_changes_at_each_move(catalog_url, analyses):
    t1 = datetime.datetime(2026, 11, 1, 8, tzinfo=UTC)
    t2 = datetime.datetime(2026, 11, 2, 8, tzinfo=UTC)
    a, b = analyses["debian-min"], analyses["debian-py"]
    with Catalog(catalog_url) as cat:
        cat.add(a, names=["app:latest"], seen_at=t1)
        cat.add(b, names=["app:latest"], seen_at=t2)
        links = custody(cat, "app:latest")
    assert [link.key for link in links] == [a.image.config_digest, b.image.config_digest]
    assert [link.previous for link in links] == [None, a.image.config_digest]
    assert (links[0].added, links[0].removed, links[0].changed) == (0, 0, 0)
    changes = Counter(row.change for row in analysis_diff(a, b, "package"))
    assert changes["added"] > 0
    assert (links[1].added, links[1].removed, links[1].changed) == (
        changes["added"],
        changes["removed"],
        changes["changed"],
    )
    assert links[1].image == image_label(b) and links[0].first_seen == t1
    assert links[1].first_seen == t2


# ---------------------------------------------------------------- affected
@pytest.mark.corpus
def test_affected_names_the_images_a_real_advisory_affects(catalog_url, analyses, store):
    every = list(analyses.values())
    with Catalog(catalog_url) as cat:
        for a in every:
            cat.add(a)
        with pytest.raises(UnanswerableQueryError, match="never matched"):
            affected(cat, "CVE-2020-14343")
        for a in every:
            cat.record_matches(a.image.config_digest, anchore_match(a, store), store)
        for wanted in ("CVE-2020-14343", "PYSEC-2021-142"):
            truth = {
                r.image for r in fleet_advisory(every, wanted, store) if r.status == "affected"
            }
            rows = [r for r in affected(cat, wanted) if r.status == "affected"]
            assert truth == {image_label(analyses["debian-py"])}
            assert {r.image for r in rows} == truth
            assert all(wanted == r.advisory_id or wanted in r.aliases for r in rows)
            assert {r.package_name for r in rows} == {"pyyaml"}
            # the others' Debian packages went unchecked (no Debian feed): not "unaffected"
            unknown = [r for r in affected(cat, wanted) if r.status == "unchecked"]
            by_key = {a.image.config_digest: a for a in every}
            rest = [by_key[r.key] for r in cat.images() if r.label not in truth]
            assert [r.key for r in unknown] == [a.image.config_digest for a in rest]
            assert [r.unchecked for r in unknown] == [
                len(anchore_match(a, store).unchecked) for a in rest
            ]
        for miss in ("CVE-2020-1434", "CVE-2020-1434%"):  # a prefix of an alias is not it
            assert {r.status for r in affected(cat, miss)} == {"unchecked"}


def anchore_match(analysis, store):
    from anchore.vulns.match import match

    return match(analysis, store)


@pytest.mark.corpus
def test_affected_lists_an_image_whose_latest_run_left_packages_unchecked(tmp_path, analyses):
    """The reviewer's case: matched against PyPA + Go, then against Go only. The latest
    run checked no python package, so whether PYSEC-2023-57 affects debian-py is
    unknown: an ``unchecked`` row, never absent."""
    py = analyses["debian-py"]
    full = Store(tmp_path / "full.sqlite", create=True)
    go = Store(tmp_path / "go.sqlite", create=True)
    for where, sources in ((full, ((PYPA, "osv-pypa"), (GO, "osv-go"))), (go, ((GO, "osv-go"),))):
        for path, source in sources:
            report = LoadReport()
            where.load(read_osv(path, report), source, report)
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(py)
        rematch(cat, full)
        [hit] = affected(cat, "PYSEC-2023-57")
        assert (hit.status, hit.package_name, hit.version) == ("affected", "werkzeug", "2.0.1")
        rematch(cat, go)
        left = len(anchore_match(py, go).unchecked)
        [row] = affected(cat, "PYSEC-2023-57")
        assert (row.status, row.key, row.image) == ("unchecked", py.image.config_digest, hit.image)
        assert row.unchecked == left > 0
        assert f"{left} package" in row.reason


# ---------------------------------------------------------------- empty, missing, lost
def test_a_query_over_an_empty_catalog_is_unanswerable(tmp_path):
    """No image stored: "nobody has it" would be a clean bill over nothing."""
    with Catalog(tmp_path / "empty.db") as cat:
        for ask in (
            lambda: catalog_query(cat, "who-has", {"name": "openssl"}),
            lambda: catalog_query(cat, "common-packages"),
            lambda: who_has(cat, "openssl"),
            lambda: affected(cat, "CVE-2020-14343"),
        ):
            with pytest.raises(UnanswerableQueryError, match=r"empty\.db holds no image"):
                ask()


@pytest.mark.corpus
def test_custody_of_a_name_never_seen_is_an_error_with_the_closest(tmp_path, analyses):
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(analyses["debian-min"], names=["app:latest"])
        with pytest.raises(ImageNotCataloguedError, match="did you mean 'app:latest'"):
            custody(cat, "app:latets")


@pytest.mark.corpus
def test_custody_keeps_a_link_whose_change_cannot_be_counted(tmp_path, analyses):
    """A link whose image lacks package evidence: its counts are None with the reason,
    the rest of the chain is still given (never zeros, never the whole chain lost)."""
    a, py = analyses["debian-min"], analyses["debian-py"]
    info = attrs.evolve(py.image, config_digest="sha256:" + "cd" * 32, source="broken.tar")
    broken = attrs.evolve(py, image=info, analyzers=tuple(x for x in py.analyzers if x != "python"))
    t = [datetime.datetime(2026, 11, d, 8, tzinfo=UTC) for d in (1, 2, 3)]
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(a, names=["app:latest"], seen_at=t[0])
        cat.add(broken, names=["app:latest"], seen_at=t[1])
        cat.add(py, names=["app:latest"], seen_at=t[2])
        links = custody(cat, "app:latest")
    assert [link.key for link in links] == [
        a.image.config_digest,
        info.config_digest,
        py.image.config_digest,
    ]
    assert (links[0].added, links[0].removed, links[0].changed, links[0].reason) == (0, 0, 0, "")
    for link in links[1:]:  # both moves touch the broken image
        assert (link.added, link.removed, link.changed) == (None, None, None)
        assert "broken.tar" in link.reason


@pytest.mark.corpus
def test_a_lost_database_is_a_catalog_error_naming_it(tmp_path, analyses):
    where = tmp_path / "lost.db"
    cat = Catalog(where)
    cat.add(analyses["debian-min"], names=["app:latest"])
    where.unlink()
    for ask in (
        lambda: who_has(cat, "libc6"),
        lambda: affected(cat, "CVE-2020-14343"),
        lambda: custody(cat, "app:latest"),
        lambda: catalog_query(cat, "common-packages"),
    ):
        with pytest.raises(CatalogConnectionError, match=r"lost\.db"):
            ask()
    cat.close()


# ---------------------------------------------------------------- order
@pytest.mark.corpus
def test_results_come_in_one_order(tmp_path, analyses, store):
    """The images given, in that order; else catalog.images() (most recently seen first),
    whether the query is answered from the index (who-has) or the analyses."""
    every = list(analyses.values())
    t = [datetime.datetime(2026, 11, d, 8, tzinfo=UTC) for d in (1, 2, 3)]
    with Catalog(tmp_path / "c.db") as cat:
        for a, when in zip(every, t, strict=True):
            cat.add(a, seen_at=when)
        for a in every:
            cat.record_matches(a.image.config_digest, anchore_match(a, store), store)
        newest = [r.key for r in cat.images()]
        assert newest == [a.image.config_digest for a in reversed(every)]
        assert newest != sorted(newest)  # key order would differ
        ordered = [next(a for a in every if a.image.config_digest == k) for k in newest]
        params = {"name": "lib*", "version": ">=2"}
        want = fleet_who_has(ordered, "lib*", None, ">=2")
        assert who_has(cat, "lib*", version=">=2") == want
        assert list(catalog_query(cat, "who-has", params).rows) == want
        found = catalog_query(cat, "advisory", {"id": "CVE-2020-14343"}, store=store)
        assert list(found.rows) == fleet_advisory(ordered, "CVE-2020-14343", store)
        assert [r.key for r in affected(cat, "CVE-2020-14343")] == newest
        given = [every[1], every[0], every[2]]  # the refs' order
        refs = [a.image.config_digest for a in given]
        assert who_has(cat, "lib*", images=refs) == fleet_who_has(given, "lib*")
        found = catalog_query(cat, "advisory", {"id": "CVE-2020-14343"}, images=refs, store=store)
        assert list(found.rows) == fleet_advisory(given, "CVE-2020-14343", store)


@pytest.mark.corpus
def test_affected_is_unchecked_for_an_image_whose_package_analyzer_failed(tmp_path, analyses):
    """The reviewer's case: debian-py's analysis made that of a python-only image whose
    python analyzer failed (no packages). Its match run checks nothing and finds nothing;
    whether PYSEC-2023-57 affects it is unknown (fleet.advisory refuses to answer), so it
    is an ``unchecked`` row naming the failed analyzer, never absent."""
    broken = attrs.evolve(analyses["debian-py"], packages=(), failed_analyzers=("python",))
    pypa = Store(tmp_path / "pypa.sqlite", create=True)
    report = LoadReport()
    pypa.load(read_osv(PYPA, report), "osv-pypa", report)
    with pytest.raises(UnanswerableQueryError):
        fleet_advisory([broken], "PYSEC-2023-57", pypa)
    with Catalog(tmp_path / "c.db") as cat:
        cat.add(broken)
        rematch(cat, pypa)
        [row] = affected(cat, "PYSEC-2023-57")
    assert (row.status, row.key) == ("unchecked", broken.image.config_digest)
    assert "python analyzer failed" in row.reason
