"""``anchore db update / status / export / import``, end to end through the command line.

Updates run against the local feed server (tests/feedserver.py: the repository's
advisory data at each feed's published layout, on loopback): the first run
loads, the second transfers nothing, a failing feed leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from anchore.cli import main
from anchore.errors import ExitCode
from anchore.vulns import Store
from anchore.vulns.archive import import_store
from testdata import GO_ZIP, SECDB

ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def private_default_store(tmp_path, monkeypatch):
    """No test reads or writes the user's store, nor sees a mirror variable of the user's."""
    monkeypatch.setenv("ANCHORE_VULN_DB", str(tmp_path / "default" / "vulns.sqlite"))
    for name in ("ANCHORE_FEED_OSV_URL", "ANCHORE_FEED_DEBIAN_TRACKER_URL",
                 "ANCHORE_FEED_ALPINE_SECDB_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


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


# ---------------------------------------------------------------- status
def test_status_of_a_store_only_loaded_from_files(loaded, capsys):
    code, out, err = run(capsys, "db", "status", "--db", str(loaded))
    assert code == ExitCode.OK and err == ""
    assert out.startswith(f"{loaded}: ")
    blocks = dict(re.findall(r"^  (\S+)\n((?:    .*\n)+)", out, re.M))
    assert set(blocks) == {"osv", "alpine-secdb"}
    for block in blocks.values():
        assert "never updated: only loaded from files (anchore db load)" in block
        assert "(since loaded)" in block
    assert "covers       Go" in blocks["osv"]
    assert "covers       Alpine:v3.10" in blocks["alpine-secdb"]

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
    assert out.startswith(f"{archive}: 6153 advisories covering 2 ecosystems")
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
    assert info.advisories == 6153 and set(info.coverage) == {"Go", "Alpine:v3.10"}
