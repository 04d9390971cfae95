"""Advisory feeds must never lose or mix up each other's data (issue 12, review B).

Each test here was first seen failing on the code before its fix: loading one
Alpine release (by ``db update --feed alpine-secdb:v3.10`` or ``db load`` of one
secdb file) dropped every other release's fixes; the Debian tracker's ids were
OSV's own ``DEBIAN-CVE-*``; ``modified`` times were compared as text; a hostile
``ecosystems.txt`` wrote outside the download directory; ``--max-age`` read a
feed's newest file. The feeds come from the local feed server (tests/feedserver.py)
that serves the repository's real advisory data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from anchore.vulns import load
from anchore.vulns.store import Store
from anchore.vulns.update import update
from feedserver import EPOCH, FeedServer, build_feeds
from test_vulns_update import LoopbackClient
from testdata import SECDB


@pytest.fixture(scope="module")
def feed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_feeds(tmp_path_factory.mktemp("feeds"))


@pytest.fixture
def server(feed_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("served") / "feeds"
    shutil.copytree(feed_tree, root)
    with FeedServer(root) as running:
        yield running


@pytest.fixture
def client(server: FeedServer):
    with LoopbackClient(server.url) as c:
        yield c


def _rows(path: Path, sql: str) -> set[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return set(db.execute(sql).fetchall())
    finally:
        db.close()


def _affected(path: Path) -> set[tuple[object, ...]]:
    """Each (CVE, ecosystem, package) the store holds, whatever advisory carries it."""
    return _rows(
        path,
        "SELECT x.alias, f.ecosystem, f.name FROM affected f "
        "JOIN aliases x ON x.advisory_id = f.advisory_id",
    )


def _per_release(rows: set[tuple[object, ...]]) -> dict[object, int]:
    counts: dict[object, int] = {}
    for _, ecosystem, _ in rows:
        counts[ecosystem] = counts.get(ecosystem, 0) + 1
    return counts


# ---------------------------------------------------------------- 1. Alpine releases
def test_updating_one_alpine_release_keeps_every_other_release(server, client, tmp_path):
    """Review B's alpine2.py: a full update, upstream changes v3.10, then
    ``update(feeds=["alpine-secdb:v3.10"])`` and a full update again."""
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["alpine-secdb"], mirrors=server.mirrors(), client=client)
    before = _affected(db)
    assert len(_per_release(before)) >= 8  # every release of tests/data
    changed = server.root / "alpine" / "v3.10" / "main.json"
    changed.write_text(changed.read_text().replace('"distroversion"', '"x": "1", "distroversion"'))
    os.utime(changed, (EPOCH + 86400, EPOCH + 86400))

    report = update(db, feeds=["alpine-secdb:v3.10"], mirrors=server.mirrors(), client=client)
    assert {(f.name, f.outcome) for f in report.files} == {
        ("v3.10/main.json", "loaded"),
        ("v3.10/community.json", "not-modified"),
    }
    assert _per_release(_affected(db)) == _per_release(before)
    assert _affected(db) == before
    report = update(db, feeds=["alpine-secdb"], mirrors=server.mirrors(), client=client)
    assert _affected(db) == before


def test_db_load_of_one_secdb_file_keeps_every_other_release(tmp_path):
    """Review B's alpine1.py: the whole secdb, then a fresh copy of one file."""
    db = tmp_path / "vulns.sqlite"
    load(db, SECDB)
    before = _affected(db)
    one = tmp_path / "main.yaml"
    shutil.copyfile(SECDB / "v3.10" / "main.yaml", one)
    os.utime(one, (time.time() + 60, time.time() + 60))  # newer than anything loaded
    load(db, one)
    assert _per_release(_affected(db)) == _per_release(before)
    assert _affected(db) == before


def test_alpine_advisories_are_per_release_and_repository_and_keep_the_cve(tmp_path):
    db = tmp_path / "vulns.sqlite"
    load(db, SECDB)
    with Store(db) as store:
        ids = {row[0] for row in _rows(db, "SELECT id FROM advisories")}
        assert ids and all(i.startswith("ALPINE-v3.") for i in ids)
        some = sorted(ids)[0]
        release, repo, cve = some.split("-", 3)[1:4]
        assert repo in ("main", "community") and cve.startswith(("CVE-", "CVE"))
        advisory = store.get(some)
        assert advisory is not None and advisory.aliases == (cve,)
        assert {a.ecosystem for a in advisory.affected} <= {f"Alpine:{release}"}
