"""``export_store`` / ``import_store``: the whole store as one file, checked before it replaces one.

A real store (the OSV Go and PyPA databases, Alpine's secdb) goes out and comes
back with the same advisories, coverage and matches on a real image. Every
damaged or hostile export is written here by hand (tarfile and zstandard, not
our writer) and must be a StoreArchiveError naming the file, with the store it
would have replaced left byte for byte as it was and no temporary file behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import zstandard

import anchore
from anchore.vulns import Store, load, match
from anchore.vulns.archive import (
    FORMAT,
    HEADER_NAME,
    PAYLOAD_NAME,
    ArchiveInfo,
    export_store,
    import_store,
)
from anchore.vulns.errors import (
    StoreArchiveError,
    StoreBusyError,
    StoreEmptyError,
    StoreError,
)
from anchore.vulns.store import SCHEMA_VERSION
from imagebuilder import build, f, oci_archive
from testdata import GO_ZIP, PYPA_ZIP, SECDB

JINJA = ("usr/lib/python3/dist-packages/jinja2-2.11.2.dist-info/METADATA",
         "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\n")  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Store:
    """A store loaded from real feeds, as `anchore db load` loads them."""
    path = tmp_path_factory.mktemp("source") / "vulns.sqlite"
    store = Store(path, create=True)
    for feed in (GO_ZIP, PYPA_ZIP, SECDB / "v3.10"):
        load(store, feed)
    return store


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory) -> tuple[Path, ArchiveInfo]:
    path = tmp_path_factory.mktemp("export") / "vulns.tar.zst"
    return path, export_store(source, path)


@pytest.fixture
def target(tmp_path) -> Path:
    """An existing store (Alpine v3.9 only) that a failed import must leave as it was."""
    path = tmp_path / "store" / "vulns.sqlite"
    path.parent.mkdir()
    with Store(path, create=True) as store:
        load(store, SECDB / "v3.9")
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fails_cleanly(archive: Path, target: Path, *needles: str) -> StoreArchiveError:
    """Importing ``archive`` is a StoreArchiveError naming it; ``target`` is untouched."""
    before = _sha(target)
    with pytest.raises(StoreArchiveError) as caught:
        import_store(archive, target, wait=5)
    message = str(caught.value)
    assert message.startswith(f"{archive}: "), message
    for needle in needles:
        assert needle in message, message
    assert _sha(target) == before
    leftovers = sorted(p.name for p in target.parent.iterdir())
    assert leftovers in ([target.name], [target.name, target.name + ".lock"]), leftovers
    return caught.value


# ---------------------------------------------------------------- round trip
def test_round_trip_keeps_advisories_coverage_and_matches(source, exported, target, tmp_path):
    path, info = exported
    assert info.path == path and path.exists()
    assert (info.advisories, dict(info.coverage)) == (len(source), source.coverage())
    assert info.schema_version == SCHEMA_VERSION and info.anchore_version == anchore.__version__
    assert set(info.coverage) == {"Alpine:v3.10", "Go", "PyPI"}
    # the file is a plain tar.zst: GNU tar lists it, and its header is the header
    listed = subprocess.run(["tar", "--zstd", "-tf", str(path)], capture_output=True, text=True)
    assert listed.stdout.split() == [HEADER_NAME, PAYLOAD_NAME], listed.stderr
    shown = subprocess.run(["tar", "--zstd", "-xOf", str(path), HEADER_NAME],
                           capture_output=True, check=True)  # fmt: skip
    assert json.loads(shown.stdout) == info.to_header()
    # the export is compact: smaller than the store file
    assert path.stat().st_size < source.path.stat().st_size

    imported = import_store(path, target)
    assert imported == info
    with Store(target) as copy:
        assert (len(copy), copy.coverage()) == (len(source), source.coverage())
        assert copy.coverage_sources() == source.coverage_sources()
        assert copy.updated == source.updated
        assert copy.covers("Alpine:v3.10") and not copy.covers("Alpine:v3.9")  # replaced
        for ecosystem, name in (("PyPI", "jinja2"), ("Go", "stdlib"), ("Alpine:v3.10", "musl")):
            assert copy.for_package(ecosystem, name) == source.for_package(ecosystem, name)
        image = oci_archive(tmp_path / "jinja.oci.tar", build([[f(*JINJA)]]))
        analysis = anchore.analyze(anchore.open_image(image), analyzers=["python"])
        theirs, ours = match(analysis, source), match(analysis, copy)
        assert ours.to_dict() == theirs.to_dict()
        assert "PYSEC-2021-66" in {m.advisory_id for m in ours}


def test_import_creates_a_missing_store_and_its_directory(exported, tmp_path):
    path, info = exported
    target = tmp_path / "new" / "dir" / "vulns.sqlite"
    import_store(path, target)
    with Store(target) as store:
        assert len(store) == info.advisories


def test_export_is_consistent_while_another_connection_writes(source, tmp_path):
    """An uncommitted write in another connection is not in the export; the export works."""
    path = tmp_path / "busy.sqlite"
    import_store(export_store(source, tmp_path / "a.tar.zst").path, path)
    writer = sqlite3.connect(path)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM advisories WHERE id IN (SELECT id FROM advisories LIMIT 10)")
        info = export_store(path, tmp_path / "b.tar.zst")
    finally:
        writer.rollback()
        writer.close()
    assert info.advisories == len(source)


def test_an_empty_store_is_not_exported(tmp_path):
    empty = Store(tmp_path / "empty.sqlite", create=True)
    with pytest.raises(StoreEmptyError):
        export_store(empty, tmp_path / "out.tar.zst")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ---------------------------------------------------------------- hand-made exports
def _header(payload: bytes, **changes: object) -> dict[str, object]:
    with_payload = {"name": PAYLOAD_NAME, "size": len(payload),
                    "sha256": hashlib.sha256(payload).hexdigest()}  # fmt: skip
    header: dict[str, object] = {
        "format": FORMAT,
        "format_version": 1,
        "anchore_version": anchore.__version__,
        "schema_version": SCHEMA_VERSION,
        "exported": "2026-01-01T00:00:00+00:00",
        "advisories": 0,
        "coverage": {},
        "payload": with_payload,
    }
    header.update(changes)
    return header


def _write(
    path: Path, members: list[tuple[str, bytes]], *, trailer: bytes = b"", raw: bool = False
) -> Path:
    """A zstd-compressed tar of ``members`` (then ``trailer`` bytes after the tar's end)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue() + trailer
    path.write_bytes(data if raw else zstandard.ZstdCompressor(write_checksum=True).compress(data))
    return path


def _store_bytes(tmp_path: Path, feed: Path) -> tuple[bytes, int, dict[str, int]]:
    path = tmp_path / f"payload-{feed.name}.sqlite"
    with Store(path, create=True) as store:
        load(store, feed)
        counts = (len(store), store.coverage())
    return path.read_bytes(), *counts


def _good(tmp_path: Path, **changes: object) -> tuple[list[tuple[str, bytes]], bytes]:
    payload, advisories, coverage = _store_bytes(tmp_path, SECDB / "v3.8")
    header = _header(payload, advisories=advisories, coverage=coverage)
    header.update(changes)
    return [(HEADER_NAME, json.dumps(header).encode()), (PAYLOAD_NAME, payload)], payload


def test_a_hand_made_export_imports(tmp_path, target):
    """The layout documented is the whole contract: another writer's file imports too."""
    members, _ = _good(tmp_path)
    import_store(_write(tmp_path / "ok.tar.zst", members), target)
    with Store(target) as store:
        assert store.ecosystems() == {"Alpine:v3.8"}


def test_an_export_remade_with_gnu_tar_imports(exported, tmp_path, target):
    """The documented layout is the contract: unpacked and packed again with GNU tar and
    zstd (members in the same order), the file imports; in the other order it does not."""
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", str(exported[0]), "-C", str(unpacked)], check=True)
    remade = tmp_path / "remade.tar.zst"
    subprocess.run(["tar", "--zstd", "-cf", str(remade), "-C", str(unpacked),
                    HEADER_NAME, PAYLOAD_NAME], check=True)  # fmt: skip
    swapped = tmp_path / "swapped.tar.zst"
    subprocess.run(["tar", "--zstd", "-cf", str(swapped), "-C", str(unpacked),
                    PAYLOAD_NAME, HEADER_NAME], check=True)  # fmt: skip
    _fails_cleanly(swapped, target, "the first member is 'vulnerabilities.sqlite'")
    assert import_store(remade, target).advisories == exported[1].advisories
    with Store(target) as store:
        assert store.covers("Go")


def test_exporting_onto_the_store_itself_is_refused(source):
    before = _sha(source.path)
    with pytest.raises(StoreError, match="is the store itself"):
        export_store(source, source.path)
    assert _sha(source.path) == before


def test_truncated_exports(exported, tmp_path, target):
    whole = exported[0].read_bytes()
    for cut in (10, 400, len(whole) // 2, len(whole) - 5):
        short = tmp_path / f"short-{cut}.tar.zst"
        short.write_bytes(whole[:cut])
        _fails_cleanly(short, target, "truncated")


def test_a_corrupted_byte(exported, tmp_path, target):
    data = bytearray(exported[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "flipped.tar.zst"
    bad.write_bytes(bytes(data))
    _fails_cleanly(bad, target)


def test_a_wrong_checksum(tmp_path, target):
    members, payload = _good(tmp_path)
    header = json.loads(members[0][1])
    header["payload"]["sha256"] = hashlib.sha256(payload + b"x").hexdigest()
    members[0] = (HEADER_NAME, json.dumps(header).encode())
    _fails_cleanly(_write(tmp_path / "sum.tar.zst", members), target, "SHA-256")


def test_a_newer_schema_is_refused_from_the_header_and_from_the_store(tmp_path, target):
    members, _ = _good(tmp_path, schema_version=SCHEMA_VERSION + 1)
    _fails_cleanly(_write(tmp_path / "h.tar.zst", members), target, "newer anchore", "upgrade")
    # a header that says it is current, over a store that is newer
    path = tmp_path / "newer.sqlite"
    with Store(path, create=True) as store:
        load(store, SECDB / "v3.8")
        counts = {"advisories": len(store), "coverage": store.coverage()}
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    db.close()
    payload = path.read_bytes()
    members = [(HEADER_NAME, json.dumps(_header(payload, **counts)).encode()),
               (PAYLOAD_NAME, payload)]  # fmt: skip
    _fails_cleanly(_write(tmp_path / "s.tar.zst", members), target, "newer anchore")


def test_an_older_schema_is_imported_and_migrated(tmp_path, target):
    """A store export written by an older anchore (schema 3: before the feed_files table)."""
    path = tmp_path / "older.sqlite"
    with Store(path, create=True) as store:
        load(store, SECDB / "v3.8")
        counts = {"advisories": len(store), "coverage": store.coverage()}
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS feed_files")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    db.close()
    payload = path.read_bytes()
    header = _header(payload, schema_version=3, **counts)
    archive = _write(tmp_path / "old.tar.zst", [(HEADER_NAME, json.dumps(header).encode()),
                                                (PAYLOAD_NAME, payload)])  # fmt: skip
    assert import_store(archive, target).schema_version == 3
    with Store(target) as store:
        assert store.schema_version == SCHEMA_VERSION and store.ecosystems() == {"Alpine:v3.8"}


def test_a_newer_export_format_is_refused(tmp_path, target):
    members, _ = _good(tmp_path, format_version=2)
    _fails_cleanly(_write(tmp_path / "f.tar.zst", members), target, "export format 2", "upgrade")


def test_files_that_are_not_exports(tmp_path, target, source):
    text = tmp_path / "notes.txt"
    text.write_text("not an export\n")
    _fails_cleanly(text, target, "not an anchore store export")
    _fails_cleanly(source.path, target, "an SQLite file, not a store export")
    other = _write(tmp_path / "other.tar.zst", [("README", b"hello")])
    _fails_cleanly(other, target, "not an anchore store export", "'README'")
    plain = _write(tmp_path / "plain.tar", _good(tmp_path)[0], raw=True)  # not compressed
    _fails_cleanly(plain, target, "not zstd-compressed")
    _fails_cleanly(tmp_path / "missing.tar.zst", target, "no such export file")
    no_payload = _write(tmp_path / "header-only.tar.zst", _good(tmp_path)[0][:1])
    _fails_cleanly(no_payload, target, "truncated", PAYLOAD_NAME)
    extra = _write(tmp_path / "extra.tar.zst", [*_good(tmp_path)[0], ("more", b"x")])
    _fails_cleanly(extra, target, "holds more than")
    junk = b"x" * 4096  # the header's size and checksum are right, but it is no store
    members = [(HEADER_NAME, json.dumps(_header(junk)).encode()), (PAYLOAD_NAME, junk)]
    fake = _write(tmp_path / "fake.tar.zst", members)
    _fails_cleanly(fake, target, "its store cannot be used", "not an anchore vulnerability store")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"format": "something-else"}, "its header has no format"),
        ({"advisories": -1}, "'advisories'"),
        ({"advisories": "many"}, "'advisories'"),
        ({"coverage": ["PyPI"]}, "'coverage'"),
        ({"payload": {"name": "other.sqlite"}}, "'payload'"),
        ({"exported": "yesterday"}, "'exported'"),
        ({"schema_version": True}, "'schema_version'"),
        ({"advisories": 1}, "not the 1 and 1 its header says"),
    ],
)
def test_a_header_of_the_wrong_shape(tmp_path, target, change, needle):
    members, _ = _good(tmp_path, **change)
    _fails_cleanly(_write(tmp_path / "h.tar.zst", members), target, needle)


def test_a_header_that_is_not_json(tmp_path, target):
    members, _ = _good(tmp_path)
    members[0] = (HEADER_NAME, b"{not json")
    _fails_cleanly(_write(tmp_path / "h.tar.zst", members), target, "not JSON")


def test_decompression_bombs_are_bounded_by_the_declared_size(tmp_path, target):
    members, payload = _good(tmp_path)
    # the tar member is 64 MiB of zeros (a few KiB compressed); the header declares less:
    # refused before any of it is written
    big = b"\0" * (64 << 20)
    bomb = _write(tmp_path / "member.tar.zst", [members[0], (PAYLOAD_NAME, big)])
    started = time.monotonic()
    _fails_cleanly(bomb, target, f"{len(big)} bytes in the tar but {len(payload)} in the header")
    assert time.monotonic() - started < 5
    # a header declaring a huge store in a small file: refused from the header alone
    huge = _header(payload)
    huge["payload"] = {"name": PAYLOAD_NAME, "size": 1 << 40, "sha256": "0" * 64}
    small = _write(tmp_path / "huge.tar.zst", [(HEADER_NAME, json.dumps(huge).encode())])
    _fails_cleanly(small, target, "Limits.max_compression_ratio", "decompression bomb")
    # the declared store, then endless zeros after the tar's end
    tail = _write(tmp_path / "tail.tar.zst", members, trailer=b"\0" * (64 << 20))
    _fails_cleanly(tail, target, "more data follows")


def test_an_interrupted_import_leaves_the_store(exported, target, monkeypatch):
    import anchore.vulns.archive as archive

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    before = _sha(target)
    monkeypatch.setattr(archive, "_check_store", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_store(exported[0], target)
    assert _sha(target) == before
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


HOLD_LOCK = """
import sys
from anchore.vulns.store import staged
with staged(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_import_waits_for_the_lock_then_is_busy(exported, target):
    before = _sha(target)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="another update holds"):
            import_store(exported[0], target, wait=0.5)
        assert 0.4 < time.monotonic() - started < 30
        assert _sha(target) == before
    finally:
        holder.communicate(timeout=30)
    # once the lock is free, the same import goes through
    import_store(exported[0], target, wait=5)
    with Store(target) as store:
        assert store.covers("Go")
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
