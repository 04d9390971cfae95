"""``anchore.vulns.update``: the feeds downloaded from a local server that serves the
repository's advisory data in each feed's published format at the real URL layout
(tests/feedserver.py). No request leaves the machine: the client refuses any URL
that is not the local server's, and the published URLs are reached only through
mirrors (the environment variables, or ``mirrors=``).

The oracle is ``anchore.vulns.load`` of the same data from tests/data directly,
which does not go through the download path at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from anchore import plugins
from anchore.net import ClientOptions, ConnectionFailedError, HttpClient
from anchore.vulns import load
from anchore.vulns.errors import FeedDownloadError, FeedError, UnknownFeedError
from anchore.vulns.sources import PUBLISHED, markdown_table, matched_osv_ecosystems
from anchore.vulns.store import SCHEMA_VERSION, Store
from anchore.vulns.update import UrlFeed, status, update
from feedserver import EPOCH, FeedServer, build_feeds
from testdata import DEBIAN_TRACKER, GO_ZIP, PYPA_ZIP, SECDB

DOCS = Path(__file__).parent.parent / "docs"


class LoopbackClient(HttpClient):
    """The real client, refusing every URL but the local server's (as a network error,
    so that the updater reports it), and remembering the URLs asked for."""

    def __init__(self, allowed: str) -> None:
        super().__init__(ClientOptions(retries=1, backoff=0.01, max_backoff=0.05, environ={}))
        self.allowed = allowed
        self.asked: list[str] = []

    def _guard(self, url: str) -> None:
        self.asked.append(url)
        if not url.startswith(self.allowed + "/"):
            raise ConnectionFailedError(
                f"{url}: refused by the test: not the local server", url=url
            )

    def request(self, method, url, **kwargs):  # type: ignore[no-untyped-def]
        self._guard(url)
        return super().request(method, url, **kwargs)

    def download(self, url, dest, **kwargs):  # type: ignore[no-untyped-def]
        self._guard(url)
        return super().download(url, dest, **kwargs)


@pytest.fixture(scope="session")
def feed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's data in the published layouts, built once per session."""
    return build_feeds(tmp_path_factory.mktemp("feeds"))


@pytest.fixture
def server(feed_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    """A server of this test's own copy of the feeds (tests may change their files)."""
    root = tmp_path_factory.mktemp("served") / "feeds"
    shutil.copytree(feed_tree, root)
    with FeedServer(root) as running:
        yield running


@pytest.fixture
def client(server: FeedServer):
    with LoopbackClient(server.url) as c:
        yield c


@pytest.fixture
def environ(server: FeedServer) -> dict[str, str]:
    """Every built-in feed pointed at the local server by its documented variable."""
    bases = server.mirrors()
    return {p.mirror_env: bases[p.feed] for p in PUBLISHED}


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same data loaded with ``anchore.vulns.load`` straight from tests/data."""
    path = tmp_path_factory.mktemp("oracle") / "oracle.sqlite"
    for feed in (PYPA_ZIP, GO_ZIP, DEBIAN_TRACKER, SECDB):
        load(path, feed)
    return path


def _rows(path: Path, sql: str) -> set[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return set(db.execute(sql).fetchall())
    finally:
        db.close()


def _advisories(path: Path) -> set[tuple[object, ...]]:
    """What matching reads: each advisory's id and source, and what it affects."""
    return _rows(
        path,
        "SELECT a.id, a.source, f.ecosystem, f.name FROM advisories a "
        "LEFT JOIN affected f ON f.advisory_id = a.id",
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file_requests(server: FeedServer) -> list:
    """The logged requests for feed files (not the indexes read each time)."""
    return [r for r in server.log if not r.path.endswith(("/ecosystems.txt", "/alpine/"))]


# ---------------------------------------------------------------- first and second run
def test_first_update_loads_everything_and_the_second_transfers_nothing(
    server, client, environ, oracle, tmp_path
):
    db = tmp_path / "vulns.sqlite"
    first = update(db, client=client, environ=environ)
    assert first.swapped and not first.failed
    loaded = {(f.feed, f.name) for f in first.files if f.outcome == "loaded"}
    releases = sorted(p.name for p in SECDB.iterdir() if p.is_dir())
    assert loaded == {("osv", "Go/all.zip"), ("osv", "PyPI/all.zip"),
                      ("debian-tracker", "tracker/data/json")} | {
        ("alpine-secdb", f"{r}/{repo}.json") for r in releases for repo in ("main", "community")
    }  # fmt: skip
    # the same advisories, affecting the same packages, covering the same ecosystems
    assert _advisories(db) == _advisories(oracle)
    with Store(db) as store, Store(oracle) as expected:
        assert len(store) == len(expected) > 7000
        assert store.ecosystems() == expected.ecosystems()
        assert store.schema_version == SCHEMA_VERSION
        # coverage is recorded as db load records it, with the URL as the feed
        feeds = {c.reader: c.feed for c in store.coverage_sources()}
        assert feeds["osv"].startswith(f"{server.url}/osv/")
        assert feeds["debian-tracker"] == f"{server.url}/debian/tracker/data/json"
    # the index was read, only the ecosystems we match fetched, sub-ecosystems skipped
    paths = [r.path for r in server.log]
    assert "/osv/ecosystems.txt" in paths and "/alpine/" in paths
    assert not any("Hex" in p or "Debian" in p for p in paths)
    assert first.transferred == sum(r.sent for r in _file_requests(server)) > 6_000_000
    # no copy of a downloaded file is kept
    assert sorted(os.listdir(tmp_path)) == ["vulns.sqlite", "vulns.sqlite.lock"]

    server.clear_log()
    before = _advisories(db)
    second = update(db, client=client, environ=environ)
    assert second.swapped and second.transferred == 0
    assert {f.outcome for f in second.files} == {"not-modified"}
    assert len(second.files) == len(first.files)
    requests = _file_requests(server)
    assert requests and {r.status for r in requests} == {304}
    assert all("If-None-Match" in r.headers for r in requests)
    assert _advisories(db) == before


def test_status_says_where_each_feed_came_from_and_how_old_it_is(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["osv:Go", "debian-tracker"], client=client, environ=environ)
    first = {s.feed: s for s in status(db)}
    assert set(first) == {"osv", "debian-tracker"}
    osv = first["osv"]
    assert osv.base_url == f"{server.url}/osv" and osv.files == 1
    assert osv.covers == ("Go",) and osv.advisories > 4000
    assert osv.checked is not None and osv.changed is not None and osv.changed <= osv.checked
    assert first["debian-tracker"].covers and first["debian-tracker"].advisories > 0

    update(db, feeds=["osv:Go"], client=client, environ=environ)  # 304: checked, not changed
    again = {s.feed: s for s in status(db)}["osv"]
    assert again.changed == osv.changed and again.checked is not None
    assert again.checked >= osv.checked

    # a feed only ever loaded from a file is listed too, with its load time
    load(db, SECDB)
    alpine = {s.feed: s for s in status(db)}["alpine-secdb"]
    assert alpine.base_url == "" and alpine.checked is None and alpine.changed is not None
    assert alpine.files == 0 and "Alpine:v3.10" in alpine.covers


# ---------------------------------------------------------------- failures
@pytest.mark.parametrize("failure", ["500", "drop"])
def test_a_file_failing_midway_leaves_the_store_as_it_was(
    server, client, environ, tmp_path, failure
):
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["debian-tracker"], client=client, environ=environ)
    digest, before = _digest(db), _advisories(db)
    server.fail["/osv/PyPI/all.zip"] = failure  # Go/all.zip comes first and loads
    with pytest.raises(FeedDownloadError) as raised:
        update(db, feeds=["osv"], client=client, environ=environ)
    assert f"osv: {server.url}/osv/PyPI/all.zip" in str(raised.value)
    assert _digest(db) == digest and _advisories(db) == before
    assert sorted(os.listdir(tmp_path)) == ["vulns.sqlite", "vulns.sqlite.lock"]
    assert any(r.path == "/osv/Go/all.zip" and r.status == 200 for r in server.log)
    if failure == "drop":  # the client continued the partial body with Range, in vain
        assert any(
            r.path == "/osv/PyPI/all.zip" and r.status == 206 and r.headers.get("Range")
            for r in server.log
        )

    # Go's validators were not kept: the next run loads it, not "not modified"
    del server.fail["/osv/PyPI/all.zip"]
    again = update(db, feeds=["osv"], client=client, environ=environ)
    assert {f.name: f.outcome for f in again.files} == {
        "Go/all.zip": "loaded",
        "PyPI/all.zip": "loaded",
    }


def test_keep_going_swaps_in_what_succeeded_and_reports_the_rest(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    server.fail["/osv/PyPI/all.zip"] = "500"
    seen = []
    report = update(
        db, feeds=["osv"], keep_going=True, client=client, environ=environ, on_file=seen.append
    )
    assert report.swapped and seen == list(report.files)
    assert [(f.name, f.outcome) for f in report.files] == [
        ("Go/all.zip", "loaded"),
        ("PyPI/all.zip", "failed"),
    ]
    assert "500" in (report.failed[0].error or "")
    with Store(db) as store:
        assert store.ecosystems() == {"Go"}
    # PyPI was never recorded: fixed, it is fetched whole; Go is not modified
    del server.fail["/osv/PyPI/all.zip"]
    again = update(db, feeds=["osv"], client=client, environ=environ)
    assert {f.name: f.outcome for f in again.files} == {
        "Go/all.zip": "not-modified",
        "PyPI/all.zip": "loaded",
    }


def test_keep_going_with_every_file_failing_swaps_nothing(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    server.fail["/debian/tracker/data/json"] = "500"
    report = update(db, feeds=["debian-tracker"], keep_going=True, client=client, environ=environ)
    assert not report.swapped and len(report.failed) == 1
    assert not db.exists()


def test_an_md5_that_does_not_match_the_published_one_is_refused(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    server.fail["/osv/Go/all.zip"] = "bad-md5"
    with pytest.raises(FeedDownloadError, match=r"osv: .*/osv/Go/all.zip: the file's MD5"):
        update(db, feeds=["osv:Go"], client=client, environ=environ)
    assert not db.exists()


def test_a_file_that_failed_is_fetched_whole_next_time_even_if_others_were_swapped_in(
    server, client, environ, tmp_path
):
    """Validators are kept only with the content they describe: had Go's been recorded
    before its checksum failed, the next run's 304 would skip Go's advisories for good."""
    db = tmp_path / "vulns.sqlite"
    server.fail["/osv/Go/all.zip"] = "bad-md5"
    report = update(db, feeds=["osv"], keep_going=True, client=client, environ=environ)
    assert report.swapped and [f.name for f in report.failed] == ["Go/all.zip"]
    with Store(db) as store:
        assert store.ecosystems() == {"PyPI"}
        assert [f.name for f in store.feed_files()] == ["PyPI/all.zip"]
    del server.fail["/osv/Go/all.zip"]
    again = update(db, feeds=["osv"], client=client, environ=environ)
    assert {f.name: f.outcome for f in again.files} == {
        "Go/all.zip": "loaded",
        "PyPI/all.zip": "not-modified",
    }
    with Store(db) as store:
        assert store.ecosystems() == {"Go", "PyPI"}


def test_an_interrupted_update_leaves_the_previous_store(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["debian-tracker"], client=client, environ=environ)
    digest = _digest(db)

    def interrupt(done):
        if done.name == "Go/all.zip":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        update(db, feeds=["osv"], client=client, environ=environ, on_file=interrupt)
    assert _digest(db) == digest
    assert sorted(os.listdir(tmp_path)) == ["vulns.sqlite", "vulns.sqlite.lock"]


@pytest.mark.parametrize(
    ("path", "content", "why"),
    [
        ("/osv/Go/all.zip", b"this is not a zip archive", "zip"),
        ("/debian/tracker/data/json", b"{}", "no advisory records"),
        ("/debian/tracker/data/json", b"{not json", "no advisory records"),
    ],
)
def test_a_downloaded_file_the_reader_cannot_use_is_an_error_not_zero(
    server, client, environ, tmp_path, path, content, why
):
    db = tmp_path / "vulns.sqlite"
    served = server.root / path.lstrip("/")
    good = served.read_bytes()
    served.write_bytes(content)
    feed = "osv:Go" if path.startswith("/osv") else "debian-tracker"
    with pytest.raises(FeedDownloadError, match=why):
        update(db, feeds=[feed], client=client, environ=environ)
    assert not db.exists()
    # and nothing was remembered: the good file, same Last-Modified, is loaded next time
    served.write_bytes(good)
    os.utime(served, (EPOCH, EPOCH))
    report = update(db, feeds=[feed], client=client, environ=environ)
    assert [f.outcome for f in report.files] == ["loaded"]


def test_an_optional_file_the_publisher_does_not_have_is_absent(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    (server.root / "alpine" / "v3.3" / "community.json").unlink()
    report = update(db, feeds=["alpine-secdb:v3.3"], client=client, environ=environ)
    assert [(f.name, f.outcome) for f in report.files] == [
        ("v3.3/main.json", "loaded"),
        ("v3.3/community.json", "absent"),
    ]
    with Store(db) as store:
        assert store.ecosystems() == {"Alpine:v3.3"}


def test_a_missing_required_file_is_an_error(server, client, environ, tmp_path):
    (server.root / "alpine" / "v3.3" / "main.json").unlink()
    with pytest.raises(FeedDownloadError, match=r"alpine-secdb: .*/alpine/v3.3/main.json"):
        update(tmp_path / "v.sqlite", feeds=["alpine-secdb"], client=client, environ=environ)


# ---------------------------------------------------------------- changes
def test_a_changed_file_is_fetched_again_and_loaded_incrementally(
    server, client, environ, tmp_path
):
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["osv:Go"], client=client, environ=environ)
    with Store(db) as store:
        count = len(store)
    served = server.root / "osv" / "Go" / "all.zip"
    with zipfile.ZipFile(served) as zf:
        records = {name: zf.read(name) for name in zf.namelist()}
    name = sorted(records)[0]
    changed = json.loads(records[name])
    changed["modified"] = "2099-01-01T00:00:00Z"
    records[name] = json.dumps(changed).encode()
    added = dict(changed, id="GO-2099-0001", aliases=[])
    records["GO-2099-0001.json"] = json.dumps(added).encode()
    with zipfile.ZipFile(served, "w") as zf:
        for member, data in records.items():
            zf.writestr(member, data)

    report = update(db, feeds=["osv:Go"], client=client, environ=environ)
    (go,) = report.files
    assert go.outcome == "loaded" and go.transferred > 0 and go.report is not None
    assert (go.report.loaded, go.report.unchanged) == (2, count - 1)
    with Store(db) as store:
        assert len(store) == count + 1
        assert store.get(changed["id"]).modified.startswith("2099-01-01")


def test_one_changed_alpine_release_is_loaded_alone_and_keeps_the_others(
    server, client, environ, oracle, tmp_path
):
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["alpine-secdb"], client=client, environ=environ)
    before = _advisories(db)
    assert before == {r for r in _advisories(oracle) if r[1] == "alpine-secdb"}
    newer = server.root / "alpine" / "v3.10" / "main.json"
    newer.write_text(newer.read_text() + "\n")
    report = update(db, feeds=["alpine-secdb"], client=client, environ=environ)
    outcomes = {f.name: f.outcome for f in report.files}
    assert outcomes["v3.10/main.json"] == "loaded"
    assert {o for n, o in outcomes.items() if n != "v3.10/main.json"} == {"not-modified"}
    assert [f.name for f in report.files if f.transferred] == ["v3.10/main.json"]
    # a CVE fixed in several releases kept every release's entry
    assert _advisories(db) == before


# ---------------------------------------------------------------- mirrors and the table
def test_mirrors_argument_wins_over_the_environment(server, client, tmp_path):
    db = tmp_path / "vulns.sqlite"
    environ = {"ANCHORE_FEED_DEBIAN_TRACKER_URL": "http://127.0.0.1:9/nothing-here"}
    report = update(
        db,
        feeds=["debian-tracker"],
        mirrors={"debian-tracker": f"{server.url}/debian/"},
        client=client,
        environ=environ,
    )
    assert [f.url for f in report.files] == [f"{server.url}/debian/tracker/data/json"]
    assert client.asked == [f"{server.url}/debian/tracker/data/json"]


def test_without_mirrors_the_published_urls_of_the_table_are_asked_for(client, tmp_path):
    """The client refuses them (nothing leaves the machine): what was asked is the table's."""
    report = update(tmp_path / "v.sqlite", keep_going=True, client=client, environ={})
    assert not report.swapped
    assert sorted(client.asked) == sorted(
        [
            "https://security-tracker.debian.org/tracker/data/json",
            "https://secdb.alpinelinux.org/",
            "https://osv-vulnerabilities.storage.googleapis.com/ecosystems.txt",
        ]
    )
    assert all("refused by the test" in (f.error or "") for f in report.failed)


def test_the_published_url_table_is_the_documented_one():
    assert markdown_table() in (DOCS / "vulns.md").read_text(), (
        "docs/vulns.md must show anchore.vulns.sources.markdown_table() as it is"
    )
    for row in PUBLISHED:
        assert row.base_url.startswith("https://") and row.mirror_env.startswith("ANCHORE_FEED_")
    built_in = {r.name: r for r in load_readers()}
    for row in PUBLISHED:
        assert built_in[row.feed].base_url == row.base_url
        assert built_in[row.feed].mirror_env == row.mirror_env


def load_readers():
    from anchore.vulns.load import readers

    return readers(plugins.Registry.load(entry_points=False, environ={}))


def test_the_default_osv_ecosystems_are_those_we_match():
    assert matched_osv_ecosystems() == {
        "PyPI", "npm", "Maven", "Go", "RubyGems", "Packagist", "crates.io", "NuGet",
        "Debian", "Alpine",
    }  # fmt: skip


# ---------------------------------------------------------------- selection
def test_unknown_feeds_and_parts_are_named(server, client, environ, tmp_path):
    with pytest.raises(UnknownFeedError, match="'osvv'.*did you mean 'osv'"):
        update(tmp_path / "v.sqlite", feeds=["osvv"], client=client, environ=environ)
    with pytest.raises(FeedError, match="osv: publishes no 'Nope'; it publishes: Go, Hex, PyPI"):
        update(tmp_path / "v.sqlite", feeds=["osv:Nope"], client=client, environ=environ)


def test_an_ecosystem_we_do_not_match_is_fetched_only_when_named(server, client, environ, tmp_path):
    (server.root / "osv" / "Hex").mkdir()
    shutil.copy(server.root / "osv" / "Go" / "all.zip", server.root / "osv" / "Hex" / "all.zip")
    default = update(tmp_path / "a.sqlite", feeds=["osv"], client=client, environ=environ)
    assert [f.name for f in default.files] == ["Go/all.zip", "PyPI/all.zip"]
    every = update(tmp_path / "b.sqlite", feeds=["osv:*"], client=client, environ=environ)
    assert [f.name for f in every.files] == ["Go/all.zip", "Hex/all.zip", "PyPI/all.zip"]


# ---------------------------------------------------------------- a plugin's URL feed
def test_a_url_feed_row_of_a_plugin_is_downloaded_and_read(server, client, tmp_path):
    url = f"{server.url}/osv/Go/all.zip"

    class MyCorp:
        @plugins.hookimpl
        def anchore_vulnerability_feeds(self):
            return [UrlFeed("mycorp", url, reader="osv", mirror_env="MYCORP_FEED_URL")]

    registry = plugins.Registry.load(entry_points=False, environ={})
    registry.register(MyCorp(), "mycorp")
    db = tmp_path / "vulns.sqlite"
    report = update(db, feeds=["mycorp"], registry=registry, client=client, environ={})
    assert [(f.feed, f.name, f.outcome) for f in report.files] == [("mycorp", "all.zip", "loaded")]
    direct = load(tmp_path / "direct.sqlite", GO_ZIP)
    with Store(db) as store:
        assert store.source_counts() == {"mycorp": direct.loaded}
    (mine,) = status(db)
    assert (mine.feed, mine.base_url, mine.files, mine.covers) == ("mycorp", url, 1, ("Go",))
    # its mirror variable replaces the whole URL
    report = update(
        tmp_path / "other.sqlite",
        feeds=["mycorp"],
        registry=registry,
        client=client,
        environ={"MYCORP_FEED_URL": f"{server.url}/osv/PyPI/all.zip"},
    )
    assert report.files[0].url == f"{server.url}/osv/PyPI/all.zip"
    # and the row reads a file by name, as db load --feed does, with its reader
    other = load(tmp_path / "loaded.sqlite", GO_ZIP, feed="mycorp", registry=registry)
    assert other.loaded == direct.loaded
    with Store(tmp_path / "loaded.sqlite") as store:
        assert store.source_counts() == {"mycorp": direct.loaded}


# ---------------------------------------------------------------- the store's schema
def test_a_schema_3_store_gains_the_feed_files_table(tmp_path):
    db = tmp_path / "old.sqlite"
    load(db, DEBIAN_TRACKER)
    raw = sqlite3.connect(db)
    raw.execute("DROP TABLE feed_files")
    raw.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    raw.commit()
    raw.close()
    with Store(db) as store:
        assert store.schema_version == SCHEMA_VERSION and store.feed_files() == []
        assert len(store) > 0


def test_an_open_store_given_is_reopened_on_the_new_file(server, client, environ, tmp_path):
    db = tmp_path / "vulns.sqlite"
    update(db, feeds=["debian-tracker"], client=client, environ=environ)
    with Store(db) as store:
        update(store, feeds=["osv:Go"], client=client, environ=environ)
        assert "Go" in store.ecosystems()
