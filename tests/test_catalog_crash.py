"""A writer killed midway through ``add`` leaves the catalog as it was; several writer
processes at once all succeed (SQLite: WAL, busy timeout, BEGIN IMMEDIATE)."""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import sqlalchemy as sa

import anchore
from anchore.catalog import Catalog, database, image_key, schema

pytest_plugins = ["postgres_server"]

TABLES = [schema.images, schema.aliases, schema.layers, schema.packages]

# the child: add the analysis, but stop for good right after the packages are inserted
# (inside the write transaction), telling the parent it got there
CHILD = textwrap.dedent(
    """
    import os, pickle, sys, time
    import sqlalchemy as sa
    from anchore.catalog import Catalog, schema
    url, analysis_file, flag = sys.argv[1:4]
    analysis = pickle.load(open(analysis_file, "rb"))
    real = sa.engine.Connection.execute
    def execute(self, statement, *args, **kwargs):
        result = real(self, statement, *args, **kwargs)
        if getattr(statement, "table", None) is schema.packages and statement.is_insert:
            open(flag, "w").write("inserted")
            time.sleep(600)
        return result
    sa.engine.Connection.execute = execute
    Catalog(url).add(analysis, names=["app:latest"])
    """
)


@pytest.fixture(scope="module")
def analyses(corpus):
    return [anchore.analyze(corpus / f"{n}.oci.tar") for n in ("debian-min", "debian-node")]


def _snapshot(catalog):
    with catalog.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all())) for t in TABLES}


@pytest.mark.corpus
def test_writer_killed_midway_leaves_previous_contents(catalog_url, analyses, tmp_path):
    small, large = analyses
    with Catalog(catalog_url) as catalog:
        catalog.add(small, names=["app:latest"])
        before = _snapshot(catalog)
    pickled = tmp_path / "analysis.pickle"
    pickled.write_bytes(pickle.dumps(large))
    flag = tmp_path / "flag"
    child = subprocess.Popen([sys.executable, "-c", CHILD, catalog_url, str(pickled), str(flag)])
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert child.poll() is None, "the writer ended before reaching its packages"
            assert time.monotonic() < deadline, "the writer never reached its packages"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    with Catalog(catalog_url) as catalog:
        assert _snapshot(catalog) == before
        assert catalog.keys() == {image_key(small)}
        assert catalog.resolve("app:latest") == image_key(small)
        assert catalog.analysis(image_key(small)).packages == small.packages
        result = catalog.add(large, names=["app:latest"])  # and the catalog still takes writes
        assert result.added and result.moved == (("app:latest", image_key(small)),)
        assert len(catalog) == 2


WRITER = textwrap.dedent(
    """
    import pickle, sys
    from anchore.catalog import Catalog
    url, analysis_file, name = sys.argv[1:4]
    with Catalog(url) as catalog:
        for analysis in pickle.load(open(analysis_file, "rb")):
            catalog.add(analysis, names=[name, "fleet:latest"])
    """
)


@pytest.mark.corpus
def test_several_writer_processes(catalog_url, corpus, tmp_path):
    # four processes: each adds its own image and the shared one, at the same time
    shared = anchore.analyze(corpus / "debian-min.oci.tar")
    own = [
        anchore.analyze(corpus / "debian-py.oci.tar"),
        anchore.analyze(corpus / "debian-node.oci.tar"),
        anchore.analyze(corpus / "debian-py.docker.tar"),
        anchore.analyze(corpus / "debian-node.docker.tar"),
    ]
    procs = []  # the catalog is new: the writers' opens create it, at once
    for i, mine in enumerate(own):
        path = tmp_path / f"batch{i}.pickle"
        path.write_bytes(pickle.dumps([shared, mine, shared]))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, catalog_url, str(path), f"writer{i}:1"],
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with Catalog(catalog_url) as catalog:
        expected = {image_key(a) for a in [shared, *own]}
        assert catalog.keys() == expected
        for a in [shared, *own]:
            assert catalog.image(image_key(a)).package_count == len(a.packages)
            with catalog.engine.connect() as conn:
                n = conn.execute(
                    sa.select(sa.func.count()).where(schema.packages.c.image_key == image_key(a))
                ).scalar_one()
            assert n == len(a.packages)  # stored once, however many writers added it
        for i, mine in enumerate(own):
            # each writer's name: shared, then its own, then shared again
            assert [s.key for s in catalog.history(f"writer{i}:1")] == [
                image_key(shared),
                image_key(mine),
                image_key(shared),
            ]
        # one name all writers moved at once: a chain in time order, current at its end
        fleet = catalog.history("fleet:latest")
        assert [s.first_seen for s in fleet] == sorted(s.first_seen for s in fleet)
        assert all(a.key != b.key for a, b in itertools.pairwise(fleet))
        assert catalog.resolve("fleet:latest") == fleet[-1].key
        assert "fleet:latest" in catalog.image(fleet[-1].key).names


def _open_at_once(url: str, count: int) -> list[BaseException]:
    """``count`` threads open the (new) catalog at ``url`` at the same moment."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Catalog(url).close()
        except BaseException as e:  # reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize("round_", range(3))
def test_openers_of_a_new_catalog_at_once_all_succeed(catalog_url, round_):
    """The schema is created once, whoever comes first; the others find it made
    (PostgreSQL: a transaction advisory lock around creating and migrating)."""
    assert _open_at_once(catalog_url, 4) == []
    with Catalog(catalog_url) as catalog, catalog.engine.connect() as conn:
        meta = conn.execute(sa.select(schema.meta.c.key)).scalars().all()
        assert sorted(meta) == ["application", "created", "schema_version"]


def test_opening_a_current_sqlite_catalog_takes_no_write_lock(tmp_path, monkeypatch):
    """Only creating or migrating takes the write lock: a reader opens a catalog while
    a writer holds it (the busy timeout made short, so a wait would fail at once)."""
    path = tmp_path / "c.db"
    Catalog(path).close()
    monkeypatch.setattr(database, "BUSY_TIMEOUT", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with Catalog(path, create=False) as catalog:
            assert len(catalog) == 0
    finally:
        holder.close()
