"""``anchore db update / status / export / import``, end to end through the command line.

Updates run against the local feed server (tests/feedserver.py: the repository's
advisory data at each feed's published layout, on loopback): the first run
loads, the second transfers nothing, a failing feed leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from anchore import plugins
from anchore.cli import main
from anchore.errors import ExitCode
from anchore.vulns import Store, load
from anchore.vulns.archive import import_store
from anchore.vulns.sources import PUBLISHED
from feedserver import FeedServer, build_feeds
from testdata import DEBIAN_TRACKER, GO_ZIP, PYPA_ZIP, SECDB
from tlsca import TestCA

ROOT = Path(__file__).parent.parent


#: a proxy nothing listens on: a request that would leave the machine fails there
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def private_default_store(tmp_path, monkeypatch):
    """No test reads or writes the user's store, sees the user's mirror variables, or
    reaches the network: every request but those to loopback goes to a dead proxy."""
    monkeypatch.setenv("ANCHORE_VULN_DB", str(tmp_path / "default" / "vulns.sqlite"))
    for p in PUBLISHED:
        monkeypatch.delenv(p.mirror_env, raising=False)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", DEAD_PROXY)
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def feed_tree(tmp_path_factory) -> Path:
    """The repository's advisory data in each feed's published layout (tests/feedserver.py)."""
    return build_feeds(tmp_path_factory.mktemp("feeds") / "feeds")


@pytest.fixture
def server(feed_tree, tmp_path):
    """The local feed server, on this test's own copy of the feeds; stopped at the end."""
    root = tmp_path / "served"
    shutil.copytree(feed_tree, root)
    with FeedServer(root) as running:
        yield running


@pytest.fixture
def mirrored(server, monkeypatch) -> FeedServer:
    """Every built-in feed pointed at the local server by its documented variable."""
    bases = server.mirrors()
    for p in PUBLISHED:
        monkeypatch.setenv(p.mirror_env, bases[p.feed])
    return server


@pytest.fixture(scope="module")
def oracle(tmp_path_factory) -> Store:
    """The same data loaded with `anchore.vulns.load` straight from tests/data."""
    path = tmp_path_factory.mktemp("oracle") / "oracle.sqlite"
    for feed in (PYPA_ZIP, GO_ZIP, DEBIAN_TRACKER, SECDB):
        load(path, feed)
    return Store(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded(tmp_path, capsys) -> Path:
    """A store filled by `db load` only: never updated from a server."""
    db = tmp_path / "loaded.sqlite"
    code, _, err = run(capsys, "db", "--db", str(db), "load", str(GO_ZIP), str(SECDB / "v3.10"))
    assert code == ExitCode.OK, err
    return db


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- update
FEED_FILES = 21  # Go and PyPI all.zip, the tracker JSON, main and community of 9 releases


def _lines(out: str) -> tuple[list[str], str]:
    lines = out.splitlines()
    return lines[:-1], lines[-1]


def test_update_loads_everything_then_transfers_nothing(mirrored, oracle, tmp_path, capsys):
    db = tmp_path / "vulns.sqlite"
    code, out, err = run(capsys, "db", "update", "--db", str(db))
    assert code == ExitCode.OK and err == "", err
    files, summary = _lines(out)
    assert len(files) == FEED_FILES and all(line.startswith("loaded ") for line in files), out
    assert any(re.match(r"loaded +osv PyPI/all\.zip +[\d.]+ MiB +\(2661 loaded, 0 unchanged", line)
               for line in files), out  # fmt: skip
    assert summary.startswith(f"{FEED_FILES} files: {FEED_FILES} loaded; ")
    assert summary.endswith(f"{db} updated ({len(oracle)} advisories)")
    with Store(db) as store:  # what `db load` of the same data gives
        assert (len(store), store.coverage()) == (len(oracle), oracle.coverage())

    mirrored.clear_log()
    code, out, err = run(capsys, "db", "update", "--db", str(db))
    assert code == ExitCode.OK and err == "", err
    files, summary = _lines(out)
    assert all(re.match(r"not modified +\S+ \S+ +0 B$", line) for line in files), out
    assert summary == (f"{FEED_FILES} files: {FEED_FILES} not modified; 0 B transferred; "
                       f"{db} checked, nothing changed ({len(oracle)} advisories)")  # fmt: skip
    # conditional requests: every feed file was answered 304; only the indexes came again
    sent = {entry.path: (entry.status, entry.sent) for entry in mirrored.log}
    assert sent["/osv/PyPI/all.zip"] == (304, 0) and sent["/debian/tracker/data/json"] == (304, 0)
    assert {path for path, (status, _) in sent.items() if status == 200} == {
        "/osv/ecosystems.txt", "/alpine/"}  # fmt: skip

    code, out, err = run(capsys, "db", "status", "--db", str(db), "--max-age", "1")
    assert code == ExitCode.OK and err == "", err
    rows = _status_rows(out)
    assert rows["osv"][-1] == f"{mirrored.url}/osv" and "STALE" not in out
    assert "never" not in rows["osv"] and "only loaded from files" not in out


def test_a_failed_feed_leaves_the_store_as_it_was(mirrored, tmp_path, capsys):
    db = tmp_path / "vulns.sqlite"
    assert run(capsys, "db", "update", "--db", str(db), "--feed", "alpine-secdb")[0] == 0
    before = _sha(db)
    mirrored.fail["/osv/PyPI/all.zip"] = "bad-md5"
    code, out, err = run(capsys, "db", "update", "--db", str(db))
    assert code == ExitCode.INPUT_ERROR and out == ""  # nothing that reads as loaded
    (line,) = err.splitlines()
    assert line.startswith("anchore: error: osv: ") and "/osv/PyPI/all.zip" in line
    assert f"{db} was left as it was" in line and "--keep-going" in line
    assert _sha(db) == before
    with Store(db) as store:
        assert not store.covers("Go") and store.covers("Alpine:v3.10")

    # --keep-going: the rest is swapped in, the failure reported, and still exit 5
    code, out, err = run(capsys, "db", "update", "--db", str(db), "--keep-going")
    assert code == ExitCode.INPUT_ERROR
    assert re.search(r"^failed +osv PyPI/all\.zip: .*md5", out, re.M | re.I), out
    assert out.splitlines()[-1].endswith(f"{db} updated ({_count(db)} advisories)")
    (line,) = err.splitlines()
    assert line.startswith(f"anchore: error: 1 of {FEED_FILES} files failed (first: osv PyPI")
    assert f"the other files were loaded into {db}" in line
    with Store(db) as store:
        assert store.covers("Go") and store.covers("Debian:12") and not store.covers("PyPI")


def _count(db: Path) -> int:
    with Store(db) as store:
        return len(store)


def test_mirror_option_before_the_variable(mirrored, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANCHORE_FEED_OSV_URL", f"{mirrored.url}/nowhere")  # 404s
    db = tmp_path / "vulns.sqlite"
    code, out, err = run(capsys, "db", "update", "--db", str(db), "--feed", "osv:Go",
                         "--mirror", f"osv={mirrored.url}/osv/")  # fmt: skip
    assert code == ExitCode.OK, err
    assert [line.split()[:3] for line in out.splitlines()[:-1]] == [["loaded", "osv", "Go/all.zip"]]
    code, out, _ = run(capsys, "db", "status", "--db", str(db), "--json")
    (osv,) = json.loads(out)["feeds"]
    assert osv["base_url"] == f"{mirrored.url}/osv" and osv["covers"] == ["Go"]
    assert osv["updated"] is True and osv["files"] == 1 and osv["age_days"] < 1


def test_a_tls_mirror_with_an_internal_ca(server, tmp_path, capsys):
    """An https mirror signed by a site's own CA: refused until --ca-bundle names it."""
    ca = TestCA(tmp_path / "ca")
    pem = ca.server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem.cert, pem.key)
    served = server._server  # the feed server's socket, wrapped: the same files over TLS
    served.socket = context.wrap_socket(served.socket, server_side=True)
    mirror = f"osv={server.url.replace('http://', 'https://')}/osv"
    db = tmp_path / "vulns.sqlite"
    argv = ["db", "update", "--db", str(db), "--feed", "osv:Go", "--mirror", mirror]
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.INPUT_ERROR and out == "" and not db.exists()
    assert "certificate" in err.lower() and "was left as it was" in err, err
    code, out, err = run(capsys, *argv, "--ca-bundle", str(ca.pem.cert))
    assert code == ExitCode.OK, err
    assert out.startswith("loaded        osv Go/all.zip")
    code, _, err = run(capsys, *argv, "--ca-bundle", str(tmp_path / "missing.pem"))
    assert code == ExitCode.USAGE_ERROR and "--ca-bundle" in err and "no such file" in err


def test_a_part_the_feed_does_not_publish(mirrored, tmp_path, capsys):
    db = tmp_path / "vulns.sqlite"
    code, out, err = run(capsys, "db", "update", "--db", str(db), "--feed", "osv:Nope")
    assert code == ExitCode.INPUT_ERROR and out == "" and "'Nope'" in err and "PyPI" in err
    assert not db.exists()


def test_update_export_import_status_in_processes(mirrored, tmp_path):
    """The CI story, as separate `anchore` processes: one runner downloads and exports,
    another imports, and sees the feeds' real ages (not "never updated")."""
    env = {k: v for k, v in os.environ.items() if k != "ANCHORE_VULN_DB"}

    def anchore(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "anchore", *argv], capture_output=True,
                              text=True, env={**env, **extra}, timeout=300)  # fmt: skip

    first, second = tmp_path / "first.sqlite", tmp_path / "second.sqlite"
    archive = tmp_path / "vulns.tar.zst"
    done = anchore("db", "update", "--feed", "osv", "--feed", "debian-tracker",
                   ANCHORE_VULN_DB=str(first))  # fmt: skip
    assert done.returncode == 0 and "updated" in done.stdout, done.stderr
    done = anchore("db", "export", str(archive), ANCHORE_VULN_DB=str(first))
    assert done.returncode == 0, done.stderr
    clean = {k: v for k, v in env.items() if not k.startswith("ANCHORE_FEED_")}
    done = subprocess.run([sys.executable, "-m", "anchore", "db", "import", str(archive),
                           "--db", str(second)], capture_output=True, text=True, env=clean,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = anchore("db", "status", "--json", "--max-age", "1", ANCHORE_VULN_DB=str(second))
    assert done.returncode == 0, done.stderr
    feeds = {f["feed"]: f for f in json.loads(done.stdout)["feeds"]}
    assert set(feeds) == {"osv", "debian-tracker"} and json.loads(done.stdout)["stale"] == []
    assert feeds["osv"]["base_url"] == f"{mirrored.url}/osv" and feeds["osv"]["updated"]


# ---------------------------------------------------------------- status
def _status_rows(out: str) -> dict[str, list[str]]:
    """``db status``'s table: each feed's cells (split on the two-space column gap)."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("FEED "))
    assert lines[header].split() == [
        "FEED", "CHECKED", "CHANGED", "AGE", "ADVISORIES", "FILES", "COVERS", "FROM"]  # fmt: skip
    rows = {}
    for line in lines[header + 1 :]:
        if not line or line.startswith("a feed never checked"):
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells
    return rows


def test_status_of_a_store_only_loaded_from_files(loaded, capsys):
    code, out, err = run(capsys, "db", "status", "--db", str(loaded))
    assert code == ExitCode.OK and err == ""
    assert out.startswith(f"{loaded}: ")
    rows = _status_rows(out)
    assert set(rows) == {"osv", "alpine-secdb"}
    for row in rows.values():  # never checked with a server; no base URL
        assert row[1] == "never" and row[-1] == "-"
    assert "only loaded from files (anchore db load): its age is since then" in out
    assert rows["osv"][-2] == "Go" and rows["alpine-secdb"][-2] == "Alpine:v3.10"

    code, out, _ = run(capsys, "db", "--db", str(loaded), "status", "--json")
    data = json.loads(out)
    assert code == ExitCode.OK and data["store"]["path"] == str(loaded)
    feeds = {f["feed"]: f for f in data["feeds"]}
    assert feeds["osv"]["updated"] is False and feeds["osv"]["checked"] is None
    assert feeds["osv"]["base_url"] is None and feeds["osv"]["covers"] == ["Go"]
    assert feeds["osv"]["advisories"] == 4291 and feeds["osv"]["stale"] is None


def test_max_age_fails_a_store_never_updated(loaded, capsys):
    """A feed only loaded from files has no known age: --max-age counts it stale (exit 1)."""
    code, out, err = run(capsys, "db", "status", "--db", str(loaded), "--max-age", "30")
    assert code == ExitCode.FAILED
    assert out.count("STALE") == 2  # the whole answer is still printed
    assert err.startswith("anchore: 2 of 2 feeds not checked within 30 days: ")
    assert "osv (never updated, only loaded from files)" in err
    code, out, _ = run(capsys, "db", "status", "--db", str(loaded), "--max-age", "1", "--json")
    assert code == ExitCode.FAILED and sorted(json.loads(out)["stale"]) == ["alpine-secdb", "osv"]


def test_status_of_an_empty_store_and_a_missing_one(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    Store(empty, create=True).close()
    empty.touch()  # an empty SQLite file: a store nothing was loaded into
    code, out, _ = run(capsys, "db", "status", "--db", str(empty))
    assert code == ExitCode.OK and "no feed: nothing was downloaded or loaded" in out
    code, _, err = run(capsys, "db", "status", "--db", str(empty), "--max-age", "7")
    assert code == ExitCode.FAILED and "holds no feed" in err
    missing = tmp_path / "missing.sqlite"
    code, out, err = run(capsys, "db", "status", "--db", str(missing))
    assert code == ExitCode.INPUT_ERROR and out == ""
    assert str(missing) in err and "anchore db update" in err and not missing.exists()


# ---------------------------------------------------------------- export / import
def test_export_then_import_on_another_machine(loaded, tmp_path, capsys):
    archive = tmp_path / "share" / "vulns.tar.zst"
    code, out, err = run(capsys, "db", "--db", str(loaded), "export", str(archive))
    assert code == ExitCode.OK, err
    with Store(loaded) as store:  # what db load stored, whatever the readers' ids
        held = len(store)
    assert held > 6000
    assert out.startswith(f"{archive}: {held} advisories covering 2 ecosystems")
    other = tmp_path / "runner" / "vulns.sqlite"
    code, out, err = run(capsys, "db", "import", str(archive), "--db", str(other))
    assert code == ExitCode.OK, err
    assert out.startswith(f"{other}: replaced by {archive} (exported ")
    assert "Go " in out and "Alpine:v3.10" in out  # db info of the new store
    with Store(other) as a, Store(loaded) as b:
        assert (len(a), a.coverage()) == (len(b), b.coverage())
    # the default store, as a CI runner would use it
    code, _, err = run(capsys, "db", "import", str(archive))
    assert code == ExitCode.OK, err
    code, out, _ = run(capsys, "db", "info")
    assert code == ExitCode.OK and "Alpine:v3.10" in out


def test_import_of_a_bad_file_leaves_the_store(loaded, tmp_path, capsys):
    before = _sha(loaded)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an export\n")
    for bad, needle in ((notes, "not an anchore store export"),
                        (loaded, "an SQLite file, not a store export"),
                        (tmp_path / "missing.tar.zst", "no such export file")):  # fmt: skip
        code, out, err = run(capsys, "db", "--db", str(loaded), "import", str(bad))
        assert code == ExitCode.INPUT_ERROR and out == ""
        assert err.startswith(f"anchore: error: {bad}: ") and needle in err
        assert len(err.splitlines()) == 1
    assert _sha(loaded) == before


def test_export_of_a_missing_store_is_an_input_error(tmp_path, capsys):
    missing = tmp_path / "missing.sqlite"
    code, out, err = run(capsys, "db", "--db", str(missing), "export", str(tmp_path / "x.tar.zst"))
    assert code == ExitCode.INPUT_ERROR and out == "" and str(missing) in err
    assert not (tmp_path / "x.tar.zst").exists()


# ---------------------------------------------------------------- usage errors
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["db", "update", "--mirror", "osv"], "give NAME=URL"),
        (["db", "update", "--mirror", "=http://x"], "give NAME=URL"),
        (["db", "update", "--mirror", "osvv=http://127.0.0.1:1"], "no feed named 'osvv'"),
        (["db", "update", "--mirror", "osv=ftp://mirror"], "http:// or https://"),
        (["db", "update", "--mirror", "osv=http://m/osv?token=s3cret"], "without ? or #"),
        (["db", "update", "--mirror", "osv=http://u:s3cret@m/osv"], "user@"),
        (["db", "update", "--mirror", "osv=http://a", "--mirror", "osv=http://b"], "twice"),
        (["db", "update", "--feed", "osvv"], "did you mean 'osv'"),
        (["db", "status", "--max-age", "0"], "above 0"),
        (["db", "status", "--max-age", "soon"], "--max-age"),
        (["db", "export"], "file"),
        (["db", "import"], "file"),
    ],
)
def test_usage_errors(argv, needle, tmp_path, capsys):
    db = tmp_path / "never.sqlite"
    code, out, err = run(capsys, *argv, "--db", str(db))
    assert code == ExitCode.USAGE_ERROR and out == ""
    assert err.startswith("usage: anchore") and needle in err.splitlines()[-1]
    assert "s3cret" not in err  # a token in a mirror URL is never echoed
    assert not db.exists()  # refused before anything was done


# ---------------------------------------------------------------- docs
def test_docs_show_the_code_s_table_of_published_urls():
    """The one table of feed URLs in docs/vulns.md is the code's (never drifts)."""
    from anchore.vulns.sources import markdown_table

    assert markdown_table() in (ROOT / "docs" / "vulns.md").read_text()


def test_import_store_is_what_db_import_runs(loaded, tmp_path, capsys):
    """The Python API and the command line write the same file format."""
    archive = tmp_path / "vulns.tar.zst"
    assert run(capsys, "db", "--db", str(loaded), "export", str(archive))[0] == ExitCode.OK
    info = import_store(archive, tmp_path / "api.sqlite")
    with Store(loaded) as store:
        assert info.advisories == len(store) > 6000
    assert set(info.coverage) == {"Go", "Alpine:v3.10"}


class _HalfFeed:
    """A plugin reader with a base URL but no ``files``: update() cannot download it."""

    name = "half"
    base_url = "https://feeds.example/half"

    def detect(self, path):
        return False

    def read(self, path, report):
        return iter(())


class _HalfPlugin:
    @plugins.hookimpl
    def anchore_vulnerability_feeds(self):
        return [_HalfFeed()]


def test_mirror_names_only_feeds_update_downloads(tmp_path, capsys, monkeypatch):
    """The CLI asks update's own test of a downloadable feed: a --mirror for a feed
    update() would skip is a usage error, not silently ignored."""
    registry = plugins.Registry.load(entry_points=False)
    registry.register(_HalfPlugin(), "half")
    monkeypatch.setattr(plugins.registry, "_default", registry)
    called: list[object] = []
    engine = importlib.import_module("anchore.vulns.update")  # the package exports update()
    monkeypatch.setattr(engine, "update", lambda *a, **k: called.append(k))
    db = str(tmp_path / "s.sqlite")
    code, out, err = run(capsys, "db", "update", "--db", db, "--mirror", "half=http://m/half")
    assert (code, out, called) == (ExitCode.USAGE_ERROR, "", [])
    assert "--mirror 'half=http://m/half': no feed named 'half'" in err
    assert "osv" in err and "half," not in err
