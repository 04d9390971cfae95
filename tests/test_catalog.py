"""The catalog's storage on SQLite and on a real PostgreSQL server, with analyses of the
real corpus images: round trips, cache hits, chains of custody, resolving, removal."""

from __future__ import annotations

import datetime
import io
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

import anchore
from anchore.catalog import (
    SCHEMA_VERSION,
    AmbiguousImageError,
    Catalog,
    CatalogConnectionError,
    CatalogError,
    CatalogNotFoundError,
    CatalogSchemaError,
    ImageNotCataloguedError,
    database,
    image_key,
    schema,
)
from anchore.policy import evaluate, load_bundle
from anchore.vulns import Store, load, match
from anchore.vulns.update import status
from testdata import PYPA

pytest_plugins = ["postgres_server"]

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "examples" / "policy" / "bundle.json"
T0 = datetime.datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)
TABLES = [schema.images, schema.aliases, schema.layers, schema.packages, schema.match_runs,
          schema.matches, schema.evaluations]  # fmt: skip


@pytest.fixture(scope="module")
def analyses(corpus):
    """debian-min and debian-py from OCI archives (keyed by manifest digest), debian-node
    from a docker-save archive (keyed by its config digest)."""
    return {
        "min": anchore.analyze(corpus / "debian-min.oci.tar"),
        "py": anchore.analyze(corpus / "debian-py.oci.tar"),
        "node": anchore.analyze(corpus / "debian-node.docker.tar"),
    }


@pytest.fixture(scope="module")
def vuln_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    return store


def _json(analysis):
    out = io.StringIO()
    attrs.evolve(analysis, timings={}).write_json(out)
    return json.loads(out.getvalue())


def _counts(catalog):
    with catalog.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in TABLES
        }


@pytest.mark.corpus
def test_round_trip_and_cache_hit(catalog_url, analyses):
    with Catalog(catalog_url) as catalog:
        for name, a in analyses.items():
            result = catalog.add(a, names=[f"corpus/{name}:1"], seen_at=T0)
            assert result.added and result.key == image_key(a) and result.moved == ()
        assert len(catalog) == 3
        assert catalog.keys() == {image_key(a) for a in analyses.values()}
        node = analyses["node"]
        assert node.image.manifest_digest is None and image_key(node) == node.image.config_digest
        for a in analyses.values():
            back = catalog.analysis(image_key(a))
            assert back == attrs.evolve(a, timings={})
            assert _json(back) == _json(a)
            # without the inventory: everything else equal, the files and layer changes
            # not known (so their queries are unanswerable), never empty-but-known
            light = catalog.analysis(image_key(a), files=False)
            assert light == attrs.evolve(
                a, timings={}, files=[], files_known=False, layer_changes=None
            )
            assert a.files and a.layer_changes
            with pytest.raises(anchore.query.UnanswerableQueryError):
                anchore.query.run("files", light)
            record = catalog.image(image_key(a))
            assert record.package_count == len(a.packages) > 0
            assert record.layer_count == len(a.image.layers)
            assert record.first_seen == record.last_seen == T0
            assert record.label == anchore.query.diff.image_label(a)
        # a re-scan is a cache hit; it only records the sighting
        later = T0 + datetime.timedelta(days=1)
        again = catalog.add(analyses["py"], names=["corpus/py:1"], seen_at=later)
        assert not again.added and again.moved == ()
        record = catalog.image("corpus/py:1")
        assert record.first_seen == T0 and record.last_seen == later
        assert [s.last_seen for s in catalog.history("corpus/py:1")] == [later]
        py_key = image_key(analyses["py"])
        with catalog.engine.connect() as conn:
            stored = conn.execute(
                sa.select(sa.func.count()).where(schema.packages.c.image_key == py_key)
            ).scalar_one()
        assert stored == len(analyses["py"].packages)  # not inserted twice


@pytest.mark.corpus
def test_tag_move_history_and_resolve(catalog_url, analyses):
    a, b = analyses["min"], analyses["py"]
    ka, kb = image_key(a), image_key(b)
    with Catalog(catalog_url) as catalog:
        catalog.add(a, names=["app:latest"], seen_at=T0)
        catalog.add(b, names=["other:1"], seen_at=T0)
        moved = catalog.add(b, names=["app:latest"], seen_at=T0 + datetime.timedelta(hours=1))
        assert not moved.added and moved.moved == (("app:latest", ka),)
        back = catalog.add(a, names=["app:latest"], seen_at=T0 + datetime.timedelta(hours=2))
        assert back.moved == (("app:latest", kb),)
        assert [s.key for s in catalog.history("app:latest")] == [ka, kb, ka]
        assert catalog.resolve("app:latest") == ka
        assert catalog.image(ka).names == tuple(sorted({"app:latest", *a.image.tags}))
        assert "app:latest" not in catalog.image(kb).names
        assert catalog.names() == sorted({"app:latest", "other:1", *a.image.tags, *b.image.tags})
        # digests: whole, prefix, bare hex, name@digest
        assert catalog.resolve(ka) == ka
        assert catalog.resolve(ka[:11]) == ka
        assert catalog.resolve(ka[7:15]) == ka
        assert catalog.resolve(f"other:1@{kb}") == kb
        assert ka in catalog and "sha256:00" not in catalog
        with pytest.raises(
            ImageNotCataloguedError, match=r"'app:latset'.*did you mean 'app:latest'"
        ):
            catalog.resolve("app:latset")
        with pytest.raises(ImageNotCataloguedError, match="sha256:0000"):
            catalog.resolve("sha256:0000")
        catalog.add(analyses["node"], seen_at=T0)
        with pytest.raises(ImageNotCataloguedError):
            catalog.resolve("sha256:")  # fewer than 4 digits is no prefix
        # two keys sharing a prefix (a copy of a's row under a made-up key)
        twin = ka[:11] + "0" * (len(ka) - 11)
        with catalog.engine.begin() as conn:
            row = conn.execute(sa.select(schema.images).where(schema.images.c.key == ka)).one()
            conn.execute(schema.images.insert().values({**row._asdict(), "key": twin}))
        with pytest.raises(AmbiguousImageError, match=f"{ka}.*{twin}|{twin}.*{ka}"):
            catalog.resolve(ka[:11])
        catalog.remove(twin)
        # images(name=glob): what a matching name ever pointed at, most recent first
        assert [r.key for r in catalog.images(name="app:*")] == [ka, kb]
        assert [r.key for r in catalog.images(name="other:*")] == [kb]
        assert catalog.images(name="nothing*") == []
        assert len(catalog.images()) == 3


@pytest.mark.corpus
def test_matches_evaluations_and_remove_cascades(catalog_url, analyses, vuln_store):
    with Catalog(catalog_url) as catalog:
        for a in analyses.values():
            catalog.add(a, names=["x:1"], seen_at=T0)
        py = analyses["py"]
        result = match(py, vuln_store)
        run = catalog.record_matches("sha256:" + image_key(py)[7:20], result, vuln_store, at=T0)
        assert len(result.matches) > 0
        assert (run.checked, run.unchecked, run.declared) == (
            len(result.checked), len(result.unchecked), len(result.declared))  # fmt: skip
        feeds = status(vuln_store)
        assert set(run.feeds) == {f.feed for f in feeds} != set()
        assert all("PyPI" in run.feeds[f.feed]["covers"] for f in feeds)
        assert catalog.match_runs(image_key(py)) == [run]
        stored = catalog.matches(image_key(py))
        assert [(m.advisory_id, m.package_name, m.version) for m in stored] == [
            (m.advisory_id, m.package_name, m.installed_version) for m in result.matches
        ]
        assert catalog.matches(image_key(analyses["min"])) == []
        evaluation = evaluate(py, load_bundle(BUNDLE), store=vuln_store,
                              now=datetime.date(2026, 11, 23))  # fmt: skip
        record = catalog.record_evaluation(image_key(py), evaluation, at=T0)
        assert record.final_action == evaluation.final_action
        assert record.bundle == evaluation.bundle_id
        assert catalog.evaluations(image_key(py)) == [record]
        assert catalog.evaluation(record.id) == json.loads(json.dumps(evaluation.to_dict()))
        before = _counts(catalog)
        assert all(before[t.name] > 0 for t in TABLES)
        gone = catalog.remove(image_key(py))
        assert gone.key == image_key(py)
        after = _counts(catalog)
        with catalog.engine.connect() as conn:
            for t in TABLES:
                column = t.c.key if t is schema.images else t.c.image_key
                left = conn.execute(
                    sa.select(sa.func.count()).select_from(t).where(column == image_key(py))
                ).scalar_one()
                assert left == 0, t.name
        assert after["match_runs"] == after["matches"] == after["evaluations"] == 0
        assert after["images"] == 2
        assert after["packages"] == before["packages"] - len(py.packages)
        with pytest.raises(ImageNotCataloguedError):
            catalog.image(image_key(py))


@pytest.mark.corpus
def test_sqlite_cascades_through_foreign_keys(tmp_path, analyses):
    """The cascade itself (not remove()'s own deletes): SQLite's foreign_keys is on."""
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.add(analyses["min"], names=["a:1"])
        with catalog.engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            conn.execute(schema.images.delete())
        assert all(n == 0 for n in _counts(catalog).values())


def test_default_catalog(monkeypatch, tmp_path):
    monkeypatch.delenv("ANCHORE_CATALOG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert anchore.catalog.default_catalog() == str(tmp_path / "xdg/anchore/catalog.db")
    with Catalog() as catalog:
        assert catalog.url == str(tmp_path / "xdg/anchore/catalog.db") and len(catalog) == 0
    monkeypatch.setenv("ANCHORE_CATALOG", "postgresql://u:pw@h/db")
    assert anchore.catalog.default_catalog() == "postgresql://u:pw@h/db"


def test_missing_file_not_created(tmp_path):
    with pytest.raises(CatalogNotFoundError, match="nope.db"):
        Catalog(tmp_path / "nope.db", create=False)
    assert not (tmp_path / "nope.db").exists()
    Catalog(f"sqlite:///{tmp_path}/new/dir/c.db").close()
    assert (tmp_path / "new/dir/c.db").exists()
    Catalog(tmp_path / "new/dir/c.db", create=False).close()


def test_not_a_database_or_not_a_catalog(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CatalogConnectionError, match="junk.db"):
        Catalog(junk)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(CatalogSchemaError, match="not an anchore catalog"):
        Catalog(foreign)
    other = tmp_path / "other.db"
    Catalog(other).close()
    conn = sqlite3.connect(other)
    conn.execute("UPDATE catalog_meta SET value = 'grype' WHERE key = 'application'")
    conn.commit()
    with pytest.raises(CatalogSchemaError, match="'grype'"):
        Catalog(other)


def test_newer_schema_refused_older_migrated(catalog_url, monkeypatch):
    Catalog(catalog_url).close()
    engine = sa.create_engine(catalog_url.replace("postgresql://", "postgresql+psycopg://")
                              if "://" in catalog_url else f"sqlite:///{catalog_url}")  # fmt: skip
    with engine.begin() as conn:
        conn.execute(schema.meta.update().where(schema.meta.c.key == "schema_version")
                     .values(value=str(SCHEMA_VERSION + 1)))  # fmt: skip
    with pytest.raises(CatalogSchemaError, match="upgrade anchore"):
        Catalog(catalog_url)
    with engine.begin() as conn:
        conn.execute(schema.meta.update().where(schema.meta.c.key == "schema_version")
                     .values(value=str(SCHEMA_VERSION)))  # fmt: skip
    # a v2 schema: its migration from v1 runs in the opening transaction, once
    ran = []

    def to_v2(conn):
        ran.append(1)
        conn.execute(sa.text("CREATE TABLE extra (x INTEGER)"))

    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(database.MIGRATIONS, SCHEMA_VERSION, to_v2)
    Catalog(catalog_url).close()
    Catalog(catalog_url).close()
    assert ran == [1]
    with engine.connect() as conn:
        version = conn.execute(sa.select(schema.meta.c.value)
                               .where(schema.meta.c.key == "schema_version")).scalar_one()  # fmt: skip
        assert version == str(SCHEMA_VERSION + 1)
        assert "extra" in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "c.db"
    Catalog(path).close()

    def broken(conn):
        conn.execute(sa.text("CREATE TABLE extra (x INTEGER)"))
        raise RuntimeError("migration broke")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(database.MIGRATIONS, SCHEMA_VERSION, broken)
    with pytest.raises(RuntimeError):
        Catalog(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM catalog_meta WHERE key='schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchone() is None


@pytest.mark.corpus
def test_damaged_analysis_is_an_error(tmp_path, analyses):
    with Catalog(tmp_path / "c.db") as catalog:
        key = catalog.add(analyses["min"]).key
        with catalog.engine.begin() as conn:
            conn.execute(schema.images.update().values(analysis_sha256="sha256:" + "0" * 64))
        with pytest.raises(CatalogError, match=f"c.db: the stored analysis of {key} is damaged"):
            catalog.analysis(key)
        catalog.analysis(key, files=False)  # the summary is checked against its own digest
        with catalog.engine.begin() as conn:
            conn.execute(schema.images.update().values(summary_sha256="sha256:" + "0" * 64))
        with pytest.raises(CatalogError, match=f"c.db: the stored analysis of {key} is damaged"):
            catalog.analysis(key, files=False)


@pytest.mark.corpus
def test_custody_is_ordered_by_time_not_arrival(catalog_url, analyses):
    """A back-dated sighting (a backfill of older scans) is history put in its place in
    time, never the current image; equal times keep the order they arrived in."""
    a, b, c = analyses["min"], analyses["py"], analyses["node"]
    ka, kb, kc = image_key(a), image_key(b), image_key(c)
    hour = datetime.timedelta(hours=1)
    with Catalog(catalog_url) as catalog:
        catalog.add(a, names=["x"], seen_at=T0 + 10 * hour)
        old = catalog.add(b, names=["x"], seen_at=T0 + 5 * hour)
        assert old.added and old.moved == ()  # x did not move: it still points at a
        assert catalog.resolve("x") == ka and "x" in catalog.image(ka).names
        assert "x" not in catalog.image(kb).names
        assert [(s.key, s.first_seen) for s in catalog.history("x")] == [
            (kb, T0 + 5 * hour),
            (ka, T0 + 10 * hour),
        ]
        # an older sighting of the current image lowers its link's first_seen
        catalog.add(a, names=["x"], seen_at=T0 + 7 * hour)
        assert [(s.key, s.first_seen, s.last_seen) for s in catalog.history("x")] == [
            (kb, T0 + 5 * hour, T0 + 5 * hour),
            (ka, T0 + 7 * hour, T0 + 10 * hour),
        ]
        # two sightings in the same microsecond: the later to arrive is the current one
        same = T0 + 20 * hour
        catalog.add(c, names=["y"], seen_at=same)
        moved = catalog.add(b, names=["y"], seen_at=same)
        assert moved.moved == (("y", kc),)
        assert catalog.resolve("y") == kb
        assert [s.key for s in catalog.history("y")] == [kc, kb]
        assert "y" in catalog.image(kb).names and "y" not in catalog.image(kc).names


@pytest.mark.corpus
def test_back_dated_sighting_inside_a_link_splits_it(catalog_url, analyses):
    """x: a seen at 10:00 and 10:45, b at 11:00, then c back-dated to 10:30. a's link
    cannot still span 10:30: it splits into its two recorded sightings, so custody stays
    one sequence in time (a, c, a, b) and x still points at b."""
    a, b, c = analyses["min"], analyses["py"], analyses["node"]
    ka, kb, kc = image_key(a), image_key(b), image_key(c)
    minute = datetime.timedelta(minutes=1)
    ten = T0.replace(hour=10, minute=0)
    with Catalog(catalog_url) as catalog:
        catalog.add(a, names=["x"], seen_at=ten)
        catalog.add(a, names=["x"], seen_at=ten + 45 * minute)
        catalog.add(b, names=["x"], seen_at=ten + 60 * minute)
        late = catalog.add(c, names=["x"], seen_at=ten + 30 * minute)
        assert late.moved == ()
        assert catalog.resolve("x") == kb
        history = [(s.key, s.first_seen, s.last_seen) for s in catalog.history("x")]
        assert history == [
            (ka, ten, ten),
            (kc, ten + 30 * minute, ten + 30 * minute),
            (ka, ten + 45 * minute, ten + 45 * minute),
            (kb, ten + 60 * minute, ten + 60 * minute),
        ]
        # a later sighting of a at 10:40 joins the link that starts at 10:45
        catalog.add(a, names=["x"], seen_at=ten + 40 * minute)
        assert [(s.key, s.first_seen) for s in catalog.history("x")][2] == (ka, ten + 40 * minute)


@pytest.mark.corpus
def test_sighting_time_is_taken_once_the_write_lock_is_held(tmp_path, analyses):
    """Without seen_at, the time is taken inside the write transaction: an add that
    waited for another writer is not dated before the writer it waited for."""
    path = tmp_path / "c.db"
    catalog = Catalog(path)  # opened first: the add alone waits for the lock
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    errors: list[BaseException] = []

    def add() -> None:
        try:
            catalog.add(analyses["min"], names=["x"])
        except BaseException as e:  # reported below
            errors.append(e)

    thread = threading.Thread(target=add)
    thread.start()
    thread.join(1.0)  # it is waiting for the lock now
    assert thread.is_alive()
    released = datetime.datetime.now(datetime.timezone.utc)
    holder.execute("COMMIT")
    holder.close()
    thread.join()
    assert errors == []
    with catalog:
        (link,) = catalog.history("x")
    assert link.first_seen >= released


@pytest.mark.corpus
def test_degraded_analysis_is_no_complete_key_and_is_replaced(catalog_url, analyses, vuln_store):
    """An analysis whose analyzers failed as a whole (crashed, timed out) is stored but
    is not among the complete keys, so a re-scan analyzes it again; add(replace=True)
    swaps analysis, packages and layers and drops the matches and evaluations made
    against the old analysis, in one transaction."""
    full = analyses["py"]
    key = image_key(full)
    dpkg = [p for p in full.packages if p.type == "deb"]
    degraded = attrs.evolve(
        full,
        packages=[p for p in full.packages if p.type != "deb"],
        failed_analyzers=("dpkg",),
        timings={},
    )
    assert dpkg and "dpkg" in full.analyzers
    with Catalog(catalog_url) as catalog:
        catalog.add(analyses["min"], seen_at=T0)
        catalog.add(degraded, names=["py:1"], seen_at=T0 + datetime.timedelta(hours=2))
        assert catalog.image(key).failed_analyzers == ("dpkg",)
        assert catalog.image(image_key(analyses["min"])).failed_analyzers == ()
        assert catalog.keys() == {key, image_key(analyses["min"])}
        assert catalog.keys(complete=True) == {image_key(analyses["min"])}
        run = catalog.record_matches(key, match(degraded, vuln_store), vuln_store)
        evaluation = evaluate(full, load_bundle(BUNDLE), store=vuln_store,
                              now=datetime.date(2026, 11, 23))  # fmt: skip
        catalog.record_evaluation(key, evaluation)
        # the re-scan, dated before the stored one's last sighting
        result = catalog.add(full, names=["py:1"], seen_at=T0 + datetime.timedelta(hours=1),
                             replace=True)  # fmt: skip
        assert result.added
        assert catalog.analysis(key) == attrs.evolve(full, timings={})
        record = catalog.image(key)
        assert record.failed_analyzers == () and record.package_count == len(full.packages)
        assert record.last_seen == T0 + datetime.timedelta(hours=2)  # never moves back
        assert catalog.keys(complete=True) == catalog.keys()
        assert catalog.match_runs(key) == [] and catalog.evaluations(key) == []
        with pytest.raises(CatalogError, match=f"no match run {run.id}"):
            catalog.matches(key, run.id)
        counts = _counts(catalog)
        assert counts["packages"] == len(full.packages) + len(analyses["min"].packages)
        assert counts["layers"] == len(full.image.layers) + len(analyses["min"].image.layers)
        assert counts["matches"] == counts["match_runs"] == counts["evaluations"] == 0


@pytest.mark.corpus
def test_an_analysis_read_from_an_sbom_is_no_complete_key(tmp_path, analyses):
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.add(attrs.evolve(analyses["min"], origin="sbom:spdx-json"), seen_at=T0)
        assert catalog.keys(complete=True) == frozenset()
        assert catalog.keys() == {image_key(analyses["min"])}


@pytest.mark.corpus
def test_name_at_digest_and_names_that_look_like_digests(catalog_url, analyses):
    """name@digest is the digest, and the name must have pointed at it once; a name
    spelled like a digest's start resolves as the name (names before prefixes: write
    sha256:... for the prefix)."""
    a, b = analyses["min"], analyses["py"]
    ka, kb = image_key(a), image_key(b)
    hexname = ka[7:15]
    with Catalog(catalog_url) as catalog:
        catalog.add(a, names=["app:1"], seen_at=T0)
        catalog.add(b, names=["app:1", hexname], seen_at=T0 + datetime.timedelta(hours=1))
        assert catalog.resolve(f"app:1@{ka}") == ka  # history counts: it pointed at a once
        assert catalog.resolve(f"app:1@{kb[:15]}") == kb
        with pytest.raises(ImageNotCataloguedError, match=f"'busybox' was never seen on {kb}"):
            catalog.resolve(f"busybox@{kb}")
        with pytest.raises(ImageNotCataloguedError, match="busybox@sha256:0000"):
            catalog.resolve("busybox@sha256:0000")
        assert catalog.resolve(hexname) == kb
        assert catalog.resolve("sha256:" + hexname) == ka
        assert hexname in catalog.image(kb).names


def test_import_anchore_does_not_load_the_catalog():
    """The catalog pulls in SQLAlchemy (about 100 ms): ``import anchore`` in every command
    and every analysis worker must not pay for it; ``anchore.Catalog`` still works."""
    code = (
        "import sys, anchore\n"
        "print('sqlalchemy' in sys.modules)\n"
        "print(anchore.Catalog.__name__, anchore.catalog.scan.__name__)\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "Catalog", "scan", "True"]
    assert {"Catalog", "catalog"} <= set(anchore.__all__)
    # nor does the command line, which builds every subcommand's parser on each run
    code = "import sys\nfrom anchore.cli import build_parser\nbuild_parser()\n"
    code += "print('sqlalchemy' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
