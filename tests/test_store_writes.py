"""Writing the advisory store safely: one writer at a time across processes, the
swapped-in file keeps the store's permissions and link, what a crash leaves is
cleaned, a hostile export cannot exhaust memory, and a full disk is a StoreError.
"""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import zstandard

from anchore.vulns import Store, load
from anchore.vulns.archive import HEADER_NAME, export_store, import_store
from anchore.vulns.errors import StoreArchiveError, StoreBusyError, StoreError, StoreFormatError
from anchore.vulns.store import staged
from testdata import GO_ZIP, PYPA_ZIP, SECDB

#: holds the store's lock as ``db update`` does, having loaded argv[2] into the stage
HOLD_STAGED = """
import sys
from anchore.vulns.load import load
from anchore.vulns.store import staged
with staged(sys.argv[1]) as stage:
    load(stage, sys.argv[2])
    print("locked", flush=True)
    sys.stdin.read()
print("swapped", flush=True)
"""


def _holder(db: Path, feed: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STAGED, str(db), str(feed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "vulns.sqlite"
    load(path, SECDB / "v3.10")
    return path


def _covers(db: Path) -> set[str]:
    with Store(db) as store:
        return {e for e in ("PyPI", "Go", "Alpine:v3.10") if store.covers(e)}


# ---------------------------------------------------------------- the lock
def test_a_load_during_an_update_waits_for_its_swap_and_is_kept(db):
    holder = _holder(db, GO_ZIP)
    try:
        done: list[object] = []
        loader = threading.Thread(target=lambda: done.append(load(db, PYPA_ZIP)))
        loader.start()
        time.sleep(1.0)
        assert loader.is_alive() and not done, "db load wrote while an update held the store"
        # readers take no lock: the store reads as it was while the update runs
        with Store(db) as store:
            assert store.covers("Alpine:v3.10") and not store.covers("Go")
    finally:
        out, _ = holder.communicate("", timeout=60)
    assert out == "swapped\n"
    loader.join(timeout=120)
    assert done, "db load never finished"
    # the update's swap did not discard the load: it ran after it, on the new file
    assert _covers(db) == {"PyPI", "Go", "Alpine:v3.10"}


def test_a_store_opened_before_an_update_writes_to_the_new_file(db):
    with Store(db, create=True) as store:  # a long `db load A B C` opened it before
        assert store.covers("Alpine:v3.10")
        holder = _holder(db, GO_ZIP)
        out, _ = holder.communicate("", timeout=60)
        assert out == "swapped\n"
        load(store, PYPA_ZIP)
        assert store.covers("PyPI") and store.covers("Go")
    assert _covers(db) == {"PyPI", "Go", "Alpine:v3.10"}


def test_a_load_is_busy_after_its_wait(db):
    before = db.read_bytes()
    holder = _holder(db, GO_ZIP)
    try:
        with Store(db, lock_wait=0.3) as store:
            started = time.monotonic()
            with pytest.raises(StoreBusyError, match=r"\.lock"):
                load(store, PYPA_ZIP)
            assert time.monotonic() - started < 30
    finally:
        holder.communicate("", timeout=60)
    assert before != db.read_bytes()  # the update swapped in Go
    assert _covers(db) == {"Go", "Alpine:v3.10"}


def test_cli_db_load_in_two_processes_during_an_update(db):
    """Two ``anchore db load`` processes and an update: every one's data is kept."""
    holder = _holder(db, GO_ZIP)
    loads = [
        subprocess.Popen(
            [sys.executable, "-m", "anchore", "db", "--db", str(db), "load", str(feed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for feed in (PYPA_ZIP, SECDB / "v3.11")
    ]
    try:
        time.sleep(1.0)
        assert all(p.poll() is None for p in loads)
    finally:
        holder.communicate("", timeout=60)
        results = [p.communicate(timeout=120) for p in loads]
    assert [p.returncode for p in loads] == [0, 0], results
    with Store(db) as store:
        assert all(store.covers(e) for e in ("PyPI", "Go", "Alpine:v3.10", "Alpine:v3.11"))


def test_a_load_creates_a_new_store_in_a_new_directory(tmp_path):
    db = tmp_path / "new" / "dir" / "vulns.sqlite"
    assert load(db, SECDB / "v3.10").loaded > 0
    assert _covers(db) == {"Alpine:v3.10"}


# ---------------------------------------------------------------- the swapped file
def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_an_update_keeps_the_store_mode(db, umask022):
    os.chmod(db, 0o640)
    with staged(db) as stage:
        load(stage, GO_ZIP)
    assert _mode(db) == 0o640
    new = db.with_name("new.sqlite")
    with staged(new) as stage:
        load(stage, GO_ZIP)
    assert _mode(new) == 0o644  # a new store as open() makes files, not private


def test_export_and_import_files_are_not_private(db, tmp_path, umask022):
    out = tmp_path / "out" / "vulns.tar.zst"
    export_store(db, out)
    assert _mode(out) == 0o644
    target = tmp_path / "target.sqlite"
    load(target, GO_ZIP)
    os.chmod(target, 0o664)
    import_store(out, target)
    assert _mode(target) == 0o664
    assert _covers(target) == {"Alpine:v3.10"}


def test_a_symlinked_store_is_updated_where_it_lives(db, tmp_path):
    link = tmp_path / "links" / "vulns.sqlite"
    link.parent.mkdir()
    link.symlink_to(db)
    with staged(link) as stage:
        load(stage, GO_ZIP)
    assert link.is_symlink() and os.readlink(link) == str(db)
    assert _covers(db) == {"Go", "Alpine:v3.10"}
    exported = tmp_path / "e.tar.zst"
    export_store(db, exported)
    load(db, PYPA_ZIP)
    import_store(exported, link)
    assert link.is_symlink() and _covers(db) == {"Go", "Alpine:v3.10"}
    assert sorted(p.name for p in link.parent.iterdir()) == ["vulns.sqlite"]


def test_the_new_store_is_flushed_before_and_after_the_swap(db, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    with staged(db) as stage:
        load(stage, GO_ZIP)
    assert len(synced) >= 2  # the file, then its directory


def test_what_a_killed_writer_left_is_removed_under_the_lock(db):
    left = [db.with_name(f".{db.name}.dead{suffix}") for suffix in (".staged", ".staged-journal")]
    old_import = db.with_name(f".{db.name}.old.import")
    new_import = db.with_name(f".{db.name}.new.import")  # another import being extracted
    other = db.with_name(".other.sqlite.x.staged")  # another store's
    for path in (*left, old_import, new_import, other):
        path.write_bytes(b"x" * 100)
    hours_ago = time.time() - 2 * 3600
    os.utime(old_import, (hours_ago, hours_ago))
    with staged(db):
        pass
    assert not any(p.exists() for p in (*left, old_import))
    assert new_import.exists() and other.exists()


def test_staged_without_copy_starts_empty_and_still_refuses_a_foreign_file(db, tmp_path):
    with staged(db, copy=False) as stage:
        assert len(stage) == 0 and not stage.covers("Alpine:v3.10")
        load(stage, GO_ZIP)
    assert _covers(db) == {"Go"}
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a store\n" * 200)
    with pytest.raises(StoreFormatError), staged(foreign, copy=False):
        pass
    assert foreign.read_text() == "not a store\n" * 200


def test_import_does_not_copy_the_store_it_replaces(db, tmp_path, monkeypatch):
    exported = tmp_path / "e.tar.zst"
    export_store(db, exported)
    load(db, GO_ZIP)
    copies: list[object] = []
    real_backup = sqlite3.Connection.backup

    class Counting(sqlite3.Connection):
        def backup(self, *args, **kwargs):  # type: ignore[override]
            copies.append(args)
            return real_backup(self, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", _factory(sqlite3.connect, Counting))
    with staged(db):  # the counting works: an update copies the store once
        pass
    assert len(copies) == 1
    copies.clear()
    import_store(exported, db)
    assert copies == []
    assert _covers(db) == {"Alpine:v3.10"}


def _factory(connect, cls):
    def wrapped(*args, **kwargs):
        kwargs.setdefault("factory", cls)
        return connect(*args, **kwargs)

    return wrapped


# ---------------------------------------------------------------- hostile exports
def _ustar(name: bytes, size: int, kind: bytes) -> bytes:
    """One tar header block, by hand: tarfile would not write a lying size."""
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = b"0000644\0"
    block[108:116] = block[116:124] = b"0000000\0"
    block[124:136] = b"%011o\0" % size
    block[136:148] = b"00000000000\0"
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[148:156] = b"        "
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def _bomb(path: Path, kind: bytes, size: int) -> Path:
    """A tiny .tar.zst whose first tar header declares ``size`` bytes of pax or long name."""
    with open(path, "wb") as fh, zstandard.ZstdCompressor(level=3).stream_writer(fh) as out:
        out.write(_ustar(b"././@PaxHeader" if kind == b"x" else b"././@LongLink", size, kind))
        record = b"%d comment=" % size if kind == b"x" else b""
        out.write(record)
        chunk, left = b"a" * (1 << 20), size - len(record)
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        out.write(b"\0" * (-size % 512) + b"\0" * 1024)
    return path


@pytest.mark.parametrize("kind", [b"x", b"L"], ids=["pax", "gnu-longname"])
def test_an_oversized_tar_header_is_refused_in_bounded_memory(db, tmp_path, kind):
    bomb = _bomb(tmp_path / "bomb.tar.zst", kind, 64 << 20)
    assert bomb.stat().st_size < 64 << 10  # a few KiB on disk
    before = db.read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(StoreArchiveError) as raised:
            import_store(bomb, db)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # before this bound, tarfile read the whole declared header into memory
    assert peak < 16 << 20, f"{peak} bytes allocated for a {bomb.stat().st_size}-byte file"
    assert str(raised.value).startswith(f"{bomb}: more than ")
    assert "oversized tar headers" in str(raised.value)
    assert db.read_bytes() == before
    assert not [p for p in db.parent.iterdir() if p.name.startswith(".")]


def test_a_small_pax_header_is_still_read(db, tmp_path):
    """GNU tar writes pax headers (long mtimes...): small ones stay accepted."""
    exported = tmp_path / "e.tar.zst"
    export_store(db, exported)
    with zstandard.ZstdDecompressor().stream_reader(open(exported, "rb")) as r:
        raw = r.read()
    members = []
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for m in tar:
            data = tar.extractfile(m)
            assert data is not None
            members.append((m, data.read()))
    remade = tmp_path / "remade.tar.zst"
    with (
        open(remade, "wb") as fh,
        zstandard.ZstdCompressor().stream_writer(fh) as out,
        tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for m, data in members:
            m.pax_headers = {"comment": "x" * 4000}
            tar.addfile(m, io.BytesIO(data))
    assert members[0][0].name == HEADER_NAME
    assert import_store(remade, tmp_path / "new.sqlite").advisories == len(Store(db))


# ---------------------------------------------------------------- a full disk
#: runs argv[1] with files limited to argv[2] bytes (EFBIG: what a full disk gives SQLite)
FULL_DISK = """
import resource, signal, sys
from anchore.vulns.archive import import_store
from anchore.vulns.load import load
from anchore.vulns.store import staged
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
what, db, feed, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    if what == "load":
        load(db, feed)
    elif what == "stage":
        with staged(db):
            pass
    else:
        import_store(feed, db)
except Exception as exc:
    print(type(exc).__module__, type(exc).__name__, exc)
else:
    print("no error")
"""


@pytest.mark.parametrize("what", ["load", "stage", "import"])
def test_a_full_disk_is_a_store_error_naming_the_store(db, tmp_path, what):
    if what == "import":
        feed = tmp_path / "e.tar.zst"
        load(db, PYPA_ZIP)
        export_store(db, feed)
        db.unlink()
        load(db, SECDB / "v3.10")
    else:
        feed = PYPA_ZIP
        if what == "stage":
            load(db, PYPA_ZIP)  # a store larger than the limit to copy
    with Store(db) as store:
        before = (len(store), store.coverage())
    limit = db.stat().st_size + 64 * 1024 if what == "load" else 256 * 1024
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, what, str(db), str(feed), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    module, name, message = done.stdout.split(" ", 2)
    assert module.startswith("anchore.") and name == "StoreError", done.stdout + done.stderr
    assert message.startswith(f"{db}: cannot "), message
    with Store(db) as store:  # SQLite rolled back what it wrote (the store as it was)
        assert (len(store), store.coverage()) == before
    assert not [p for p in db.parent.iterdir() if p.name.startswith(".")]
    assert name == StoreError.__name__
