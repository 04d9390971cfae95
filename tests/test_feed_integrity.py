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

import json
import os
import shutil
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from anchore.analysis.model import Analysis, Distro, Package
from anchore.vulns import feeds, load, match
from anchore.vulns.errors import FeedDownloadError, FeedError, MalformedRecordError, StoreError
from anchore.vulns.osv import LoadReport, parse_osv
from anchore.vulns.sources import OSV_MAX_BYTES, osv_files
from anchore.vulns.store import Store
from anchore.vulns.update import status, update
from feedserver import EPOCH, FeedServer, build_feeds
from test_vulns_update import LoopbackClient
from testdata import DEBIAN_TRACKER, SECDB


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


# ---------------------------------------------------------------- 2. OSV's own distro ids
def _osv_zip(path: Path, *records: dict[str, object]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for record in records:
            zf.writestr(f"{record['id']}.json", json.dumps(record))
    return path


#: osv.dev's own record of a CVE the tracker also has (its id is DEBIAN-CVE-<cve>,
#: its CVE in ``upstream``), naming one release only, and newer than the tracker
_OSV_DEBIAN = {
    "id": "DEBIAN-CVE-2008-7220",
    "modified": "2099-01-01T00:00:00.467217Z",
    "upstream": ["CVE-2008-7220"],
    "affected": [
        {
            "package": {"ecosystem": "Debian:10", "name": "prototypejs"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.6.0.2-1"}]}
            ],
        }
    ],
}


def test_an_osv_debian_record_does_not_replace_the_trackers(tmp_path):
    db = tmp_path / "vulns.sqlite"
    load(db, DEBIAN_TRACKER)
    sql = (
        "SELECT a.source, f.ecosystem, f.name FROM advisories a "
        "JOIN affected f ON f.advisory_id = a.id JOIN aliases x ON x.advisory_id = a.id "
        "WHERE x.alias = 'CVE-2008-7220'"
    )
    tracker = _rows(db, sql)
    assert {e for _, e, _ in tracker} >= {"Debian:9", "Debian:10", "Debian:unstable"}
    load(db, _osv_zip(tmp_path / "all.zip", _OSV_DEBIAN))
    assert _rows(db, sql) == tracker  # OSV's own record is kept beside it, not over it
    with Store(db) as store:
        assert store.get("DEBIAN-CVE-2008-7220") is not None


def test_one_cve_is_matched_once_with_both_debian_sources_preferring_the_tracker(tmp_path):
    db = tmp_path / "vulns.sqlite"
    load(db, DEBIAN_TRACKER)
    load(db, _osv_zip(tmp_path / "all.zip", _OSV_DEBIAN))
    pkg = Package(type="deb", name="libjs-prototype", version="1.5-1",
                  purl="pkg:deb/debian/libjs-prototype@1.5-1",
                  source_name="prototypejs", source_version="1.5-1")  # fmt: skip
    analysis = Analysis(image={}, distro=Distro(id="debian", version_id="10"), packages=[pkg],
                        findings=[], files=[], errors=[])  # fmt: skip
    hits = [m for m in match(analysis, db) if "CVE-2008-7220" in (m.advisory_id, *m.aliases)]
    assert [m.advisory_id for m in hits] == ["DEBIAN-TRACKER-CVE-2008-7220"]


def test_osv_distro_exports_are_not_fetched_by_default():
    """The publishers' own feeds are the source; OSV's Debian is derived from the tracker."""
    files = osv_files("https://m", lambda url: b"Alpine\nDebian\nDebian:12\nPyPI\n")
    assert {f.name: f.default for f in files} == {
        "Alpine/all.zip": False,
        "Debian/all.zip": False,
        "PyPI/all.zip": True,
    }


# ---------------------------------------------------------------- 3. modified times
def _record(modified: str, fixed: str) -> dict[str, object]:
    return {
        "id": "PYSEC-0000-1",
        "modified": modified,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "example"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000000Z"),
        ("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.500000Z"),
        ("2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.123456Z"),
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000000Z"),
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00.000000Z"),
    ],
)
def test_modified_is_one_utc_form(given, stored):
    assert parse_osv(_record(given, "1")).modified == stored


def test_modified_that_is_no_time_is_a_malformed_record():
    with pytest.raises(MalformedRecordError, match="modified"):
        parse_osv(_record("yesterday", "1"))


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        # the same second, a fraction later: newer (as text, '.' sorts before 'Z')
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5Z", "2"),
        # 02:00+02:00 is 00:00Z, before 01:00Z (as text it sorts after)
        ("2024-05-01T01:00:00Z", "2024-05-01T02:00:00+02:00", "1"),
    ],
)
def test_the_newer_record_wins_whatever_its_time_form(tmp_path, first, second, kept):
    db = tmp_path / "vulns.sqlite"
    load(db, _osv_zip(tmp_path / "a.zip", _record(first, "1")))
    load(db, _osv_zip(tmp_path / "b.zip", _record(second, "2")))
    with Store(db) as store:
        advisory = store.get("PYSEC-0000-1")
        assert advisory is not None
        assert advisory.affected[0].ranges[0]["events"][1] == {"fixed": kept}


# ---------------------------------------------------------------- 4. hostile indexes
@pytest.mark.parametrize("line", ["../../../escaped", "..", "a/../../../escaped", "x\\..\\y"])
def test_a_hostile_ecosystems_txt_writes_nothing_outside_the_download_directory(
    server, client, tmp_path, line
):
    (server.root / "osv" / "ecosystems.txt").write_text(f"Go\n{line}\n")
    db = tmp_path / "s" / "vulns.sqlite"
    with pytest.raises(FeedDownloadError, match="not an ecosystem name"):
        update(db, feeds=["osv:*"], mirrors=server.mirrors(), client=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
    assert not list(tmp_path.rglob("escaped*")) and not list(tmp_path.rglob("all.zip"))


def test_an_ecosystem_with_a_space_is_fetched_by_its_quoted_url(server, client, tmp_path):
    """OSV lists ``GitHub Actions``: its URL has ``%20``, its name stays as listed."""
    shutil.copytree(server.root / "osv" / "Go", server.root / "osv" / "GitHub Actions")
    (server.root / "osv" / "ecosystems.txt").write_text("GitHub Actions\nGo\ncrates.io\n")
    db = tmp_path / "vulns.sqlite"
    report = update(db, feeds=["osv:GitHub Actions"], mirrors=server.mirrors(), client=client)
    (file,) = report.files
    assert file.outcome == "loaded" and file.name == "GitHub Actions/all.zip"
    assert file.url.endswith("/osv/GitHub%20Actions/all.zip")


def test_the_alpine_index_gives_a_bounded_number_of_releases(server, client, tmp_path):
    links = "".join(f'<a href="v3.{i}/">v3.{i}/</a>\n' for i in range(5000))
    (server.root / "alpine" / "index.html").write_text(f"<html><pre>{links}</pre></html>")
    with pytest.raises(FeedDownloadError, match="releases"):
        update(tmp_path / "v.sqlite", feeds=["alpine-secdb"], mirrors=server.mirrors(),
               client=client)  # fmt: skip
    assert len(server.log) == 1  # the index, and no release's file


# ---------------------------------------------------------------- 5. a feed's age
def test_a_feed_is_as_old_as_its_oldest_file(server, client, tmp_path):
    """Review B's stale.py: PyPI failing for weeks while Go succeeds (``--keep-going``,
    or a cron job of ``--feed osv:Go``) must not read as a fresh ``osv``."""
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["osv"], mirrors=server.mirrors(), client=client)
    long_ago = "2020-01-01T00:00:00+00:00"
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE feed_files SET checked = ? WHERE name = 'PyPI/all.zip'", (long_ago,))
    con.close()
    update(db, feeds=["osv:Go"], mirrors=server.mirrors(), client=client)
    (osv,) = [s for s in status(db) if s.feed == "osv"]
    assert osv.checked is not None and osv.checked.isoformat() == long_ago
    assert osv.oldest == "PyPI/all.zip"


# ---------------------------------------------------------------- 6. size bounds
def test_every_feed_file_has_a_size_bound(server, client, tmp_path):
    files = osv_files("https://m", lambda url: b"PyPI\n")
    assert files[0].max_bytes == OSV_MAX_BYTES
    db = tmp_path / "vulns.sqlite"
    environ = {"ANCHORE_FEED_MAX_BYTES": "1000"}  # smaller than the tracker slice (7 KB)
    with pytest.raises(FeedDownloadError, match=r"debian-tracker: .*tracker/data/json.*1000"):
        update(db, feeds=["debian-tracker"], mirrors=server.mirrors(), client=client,
               environ=environ)  # fmt: skip
    assert not db.exists()
    report = update(db, feeds=["debian-tracker"], mirrors=server.mirrors(), client=client,
                    environ={})  # fmt: skip
    assert report.swapped


def test_the_tracker_reader_refuses_a_file_past_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(feeds, "TRACKER_MAX_BYTES", 1000)
    report = LoadReport()
    assert list(feeds.read_debian_tracker(DEBIAN_TRACKER, report)) == []
    assert "larger than" in report.skipped[0][1]


# ---------------------------------------------------------------- 7. failures
def test_a_mirror_with_a_query_string_is_refused(server, client, tmp_path):
    """``https://m/osv?sig=...`` would become ``...?sig=.../ecosystems.txt``."""
    mirrors = {"osv": f"{server.url}/osv?sig=abc"}
    with pytest.raises(FeedError, match=r"osv: .*/osv has a query"):
        update(tmp_path / "v.sqlite", feeds=["osv"], mirrors=mirrors, client=client)
    assert server.log == []


def test_a_mirror_with_credentials_is_refused_without_printing_them(server, client, tmp_path):
    """The client never sends userinfo: such a mirror could only fail, echoing the secret."""
    mirrors = {"osv": server.url.replace("://", "://ci:s3cret@") + "/osv"}
    with pytest.raises(FeedError, match=r"osv: the base URL names a user") as raised:
        update(tmp_path / "v.sqlite", feeds=["osv"], mirrors=mirrors, client=client)
    assert "s3cret" not in str(raised.value)
    assert server.log == []


def test_keep_going_past_a_part_the_feed_does_not_publish(server, client, tmp_path):
    """``alpine-secdb:v9.99`` fails that feed like a failed file; the others are swapped in."""
    db = tmp_path / "vulns.sqlite"
    report = update(db, feeds=["debian-tracker", "alpine-secdb:v9.99"], keep_going=True,
                    mirrors=server.mirrors(), client=client)  # fmt: skip
    assert report.swapped
    assert [(f.feed, f.outcome) for f in report.files] == [
        ("debian-tracker", "loaded"),
        ("alpine-secdb", "failed"),
    ]
    assert "publishes no 'v9.99'" in (report.failed[0].error or "")
    with Store(db) as store:
        assert any(e.startswith("Debian:") for e in store.ecosystems())


def test_a_full_disk_in_the_store_is_a_store_error_naming_it(server, client, tmp_path, monkeypatch):
    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "load_read", full)
    db = tmp_path / "vulns.sqlite"
    with pytest.raises(StoreError, match=r"vulns.sqlite.*disk is full"):
        update(db, feeds=["osv:Go"], mirrors=server.mirrors(), client=client)
    assert not db.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".anchore-feeds-")]


def test_an_interrupted_update_leaves_no_download_directory(server, client, tmp_path):
    """Checked, not a fix: the temporary directory is removed on KeyboardInterrupt too
    (only SIGKILL or a power loss leaves one: see docs/vulns.md)."""

    def interrupt(done: object) -> None:
        raise KeyboardInterrupt

    db = tmp_path / "vulns.sqlite"
    with pytest.raises(KeyboardInterrupt):
        update(db, feeds=["osv"], mirrors=server.mirrors(), client=client, on_file=interrupt)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".anchore-feeds-")]
    assert not db.exists()
