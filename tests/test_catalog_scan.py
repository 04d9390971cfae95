"""catalog.scan: the real corpus analyzed into a SQLite catalog, cache hits, moved tags,
matches and evaluations recorded, failures as outcomes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

import anchore
import anchore.analysis.many
from anchore.catalog import Catalog, image_key
from anchore.catalog.errors import CatalogConnectionError
from anchore.catalog.scan import scan
from anchore.policy import load_bundle
from anchore.vulns import Store, load, match
from testdata import PYPA

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "examples" / "policy" / "bundle.json"


@pytest.fixture(scope="module")
def vuln_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    return store


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "catalog.db") as opened:
        yield opened


def _no_analysis(*args, **kwargs):
    raise AssertionError("a cache hit was analyzed again")


def test_scan_adds_then_hits_the_cache(corpus, catalog, tmp_path, monkeypatch):
    oci = corpus / "debian-min.oci.tar"
    docker = corpus / "debian-py.docker.tar"
    missing = tmp_path / "missing.oci.tar"
    outcomes = {o.source: o for o in scan(catalog, [oci, missing, docker], workers=2)}

    assert sorted(outcomes) == sorted(str(p) for p in (oci, docker, missing))
    assert outcomes[str(missing)].failure is not None
    assert outcomes[str(missing)].failure.error == "ImageNotFoundError"
    assert str(missing) in outcomes[str(missing)].failure.message
    assert outcomes[str(missing)].key is None and not outcomes[str(missing)].added
    for path in (oci, docker):
        outcome = outcomes[str(path)]
        assert outcome.ok and outcome.added
        with anchore.open_image(path) as image:
            info = anchore.analysis.many.ImageInfo.from_image(image)
        assert outcome.key == image_key(info)
        assert catalog.image(outcome.key).source == str(path)
    assert catalog.keys() == {outcomes[str(oci)].key, outcomes[str(docker)].key}
    first_seen = catalog.image(outcomes[str(oci)].key).last_seen

    # a re-scan of unchanged images: cache hits, nothing analyzed (in this process's threads)
    monkeypatch.setattr(anchore.analysis.many, "analyze", _no_analysis)
    again = list(scan(catalog, [oci, docker], executor=ThreadPoolExecutor(2)))
    assert {o.source for o in again} == {str(oci), str(docker)}
    assert all(o.ok and not o.added for o in again), [o.failure for o in again]
    assert len(catalog) == 2
    assert catalog.image(outcomes[str(oci)].key).last_seen > first_seen

    # rescan analyzes again, which the patch refuses: the image's failure, not an exception
    forced = list(scan(catalog, [oci], executor=ThreadPoolExecutor(1), rescan=True))
    assert [o.failure.error if o.failure else None for o in forced] == ["AssertionError"]


def test_a_name_given_to_another_image_moves(corpus, catalog):
    pool = ThreadPoolExecutor(2)
    first = list(scan(catalog, [corpus / "debian-min.oci.tar"], executor=pool, names=["app:prod"]))
    second = list(scan(catalog, [corpus / "debian-py.oci.tar"], executor=pool, names=["app:prod"]))
    assert first[0].moved == ()
    assert second[0].moved == (("app:prod", first[0].key),)
    assert [s.key for s in catalog.history("app:prod")] == [first[0].key, second[0].key]
    assert catalog.resolve("app:prod") == second[0].key

    # a cache hit named again: seen as the name and as its own reference
    back = list(scan(catalog, [corpus / "debian-min.oci.tar"], executor=pool, names=["app:prod"]))
    assert not back[0].added and back[0].moved == (("app:prod", second[0].key),)
    assert catalog.resolve("app:prod") == first[0].key
    pool.shutdown()


def test_matches_and_evaluations_are_recorded(corpus, catalog, vuln_store):
    path = corpus / "debian-py.oci.tar"
    bundle = load_bundle(BUNDLE)
    pool = ThreadPoolExecutor(1)
    [outcome] = scan(catalog, [path], executor=pool, store=vuln_store, bundle=bundle)
    expected = match(anchore.analyze(path), vuln_store)
    assert outcome.ok and outcome.added
    assert outcome.matches == len(expected.matches) > 0
    assert [m.advisory_id for m in catalog.matches(outcome.key)] == [
        m.advisory_id for m in expected.matches
    ]
    assert (outcome.checked, outcome.unchecked) == (len(expected.checked), len(expected.unchecked))
    [record] = catalog.evaluations(outcome.key)
    assert outcome.final_action == record.final_action

    # a cache hit is matched and evaluated on its stored analysis
    [hit] = scan(catalog, [path], executor=pool, store=vuln_store, bundle=bundle)
    assert hit.ok and not hit.added and hit.matches == outcome.matches
    assert len(catalog.match_runs(outcome.key)) == 2
    assert len(catalog.evaluations(outcome.key)) == 2
    pool.shutdown()


def test_an_empty_store_is_that_images_failure(corpus, catalog, tmp_path):
    empty = Store(tmp_path / "empty.sqlite", create=True)
    sources = [corpus / "debian-min.oci.tar", corpus / "debian-py.oci.tar"]
    outcomes = list(scan(catalog, sources, executor=ThreadPoolExecutor(2), store=empty))
    assert len(outcomes) == 2
    for outcome in outcomes:
        assert outcome.added  # stored before matching was tried
        assert outcome.failure is not None and outcome.failure.error == "StoreEmptyError"
        assert outcome.failure.exit_code == anchore.errors.ExitCode.INPUT_ERROR
        assert outcome.matches is None
    assert len(catalog) == 2


def test_packages_the_store_cannot_check_are_counted(corpus, catalog, vuln_store):
    """A PyPA-only store checks none of debian-min's Debian packages: 0 matches is no clean
    bill, and the outcome says how many went unchecked (the CLI exits UNCHECKED on it)."""
    path = corpus / "debian-min.oci.tar"
    pool = ThreadPoolExecutor(1)
    [outcome] = scan(catalog, [path], executor=pool, store=vuln_store)
    expected = match(anchore.analyze(path), vuln_store)
    assert outcome.ok and outcome.matches == 0
    assert outcome.checked == len(expected.checked) == 0
    assert outcome.unchecked == len(expected.unchecked) > 0
    [plain] = scan(catalog, [path], executor=pool)  # no store: nothing said either way
    assert plain.checked is None and plain.unchecked is None
    pool.shutdown()


def test_a_lost_catalog_stops_the_scan(corpus, tmp_path, monkeypatch):
    """The catalog's database goes away mid-scan: the error is raised, and the sources not
    yet started are not analyzed only to be thrown away."""
    analyzed = []
    real = anchore.analysis.many.analyze

    def counting(*args, **kwargs):
        analyzed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(anchore.analysis.many, "analyze", counting)
    path = tmp_path / "catalog.db"
    catalog = Catalog(path)

    def lose_the_database(stage, done, total):  # before the first result is written
        if done == 1:
            catalog.engine.dispose()
            for lost in tmp_path.glob("catalog.db*"):
                lost.unlink()

    sources = [corpus / "debian-min.docker.tar"] * 6
    pool = ThreadPoolExecutor(1)
    with pytest.raises(CatalogConnectionError, match="catalog.db"):
        list(scan(catalog, sources, executor=pool, progress=lose_the_database, rescan=True))
    assert len(analyzed) < len(sources)
    pool.shutdown()
    catalog.close()


def test_a_degraded_analysis_is_analyzed_again_and_replaced(corpus, catalog):
    """A stored analysis whose dpkg analyzer failed (crashed or timed out) is no cache hit:
    the next scan analyzes the image again and replaces it."""
    path = corpus / "debian-min.oci.tar"
    full = anchore.analyze(path)
    key = image_key(full)
    degraded = attrs.evolve(
        full,
        packages=[p for p in full.packages if p.type != "deb"],
        failed_analyzers=("dpkg",),
    )
    catalog.add(degraded)
    assert catalog.image(key).failed_analyzers == ("dpkg",)

    pool = ThreadPoolExecutor(1)
    [outcome] = scan(catalog, [path], executor=pool)
    assert outcome.ok and outcome.added and outcome.key == key
    assert outcome.failed_analyzers == ()
    record = catalog.image(key)
    assert record.failed_analyzers == () and record.package_count == len(full.packages)
    assert catalog.analysis(key) == attrs.evolve(full, timings={})
    [again] = scan(catalog, [path], executor=pool)  # complete now: a cache hit
    assert again.ok and not again.added
    pool.shutdown()


def test_the_catalog_keys_are_read_once(corpus, catalog, monkeypatch):
    """The skip set and the keys to replace come from one read of each (complete, and
    all): not three full reads with room for another writer between them."""
    path = corpus / "debian-min.oci.tar"
    catalog.add(anchore.analyze(path))
    reads = []
    keys = Catalog.keys

    def counting(self, *, complete=False):
        reads.append(complete)
        return keys(self, complete=complete)

    monkeypatch.setattr(Catalog, "keys", counting)
    pool = ThreadPoolExecutor(1)
    [outcome] = scan(catalog, [path], executor=pool)
    pool.shutdown()
    assert outcome.ok and not outcome.added  # still a cache hit
    assert sorted(reads) == [False, True]
