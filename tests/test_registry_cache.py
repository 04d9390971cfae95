"""The blob cache: content-addressed, never a partial or wrong file under a digest's name,
one download per blob however many threads and processes pull it, LRU pruning."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from anchore.errors import DigestMismatchError
from anchore.registry import BlobCache, BlobCacheError


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def writer(data: bytes, calls: list[str] | None = None, delay: float = 0.0):
    """A download as HttpClient.download does it: into ``.partial``, renamed when whole."""

    def download(dest: Path) -> None:
        if calls is not None:
            calls.append(str(dest))
        partial = str(dest) + ".partial"
        with open(partial, "ab") as out:
            for i in range(0, len(data), 1000):
                out.write(data[i : i + 1000])
                out.flush()
                if delay:
                    time.sleep(delay)
        os.replace(partial, dest)

    return download


def test_fetch_downloads_once_then_serves_from_the_cache(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path / "c")
    data = os.urandom(5000)
    digest = digest_of(data)
    calls: list[str] = []
    path = cache.fetch(digest, writer(data, calls), size=len(data))
    assert path == tmp_path / "c" / "sha256" / digest.split(":")[1]
    assert path.read_bytes() == data
    os.utime(path, (1000, 1000))
    assert cache.fetch(digest, writer(b"never", calls), size=len(data)) == path
    assert len(calls) == 1
    assert path.stat().st_mtime > 1000  # touched: recently used
    assert cache.usage() == (1, 5000)
    assert not list(path.parent.glob("*.partial"))


def test_a_cached_blob_of_the_wrong_size_is_downloaded_again(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    data = b"x" * 3000
    digest = digest_of(data)
    cache.path(digest).parent.mkdir(parents=True)
    cache.path(digest).write_bytes(data[:100])  # truncated by hand
    calls: list[str] = []
    assert cache.fetch(digest, writer(data, calls), size=3000).read_bytes() == data
    assert len(calls) == 1


def test_a_download_of_the_wrong_size_is_removed_and_refused(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, reference="r/x:1")
    data = b"y" * 10
    with pytest.raises(DigestMismatchError, match="10 bytes downloaded"):
        cache.fetch(digest_of(data), writer(data), size=11)
    assert not cache.path(digest_of(data)).exists()


def test_threads_pulling_one_blob_download_it_once(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    data = os.urandom(50_000)
    digest = digest_of(data)
    calls: list[str] = []
    results: list[bytes] = []
    errors: list[BaseException] = []

    def pull() -> None:
        try:
            results.append(
                cache.fetch(digest, writer(data, calls, delay=0.002), size=len(data)).read_bytes()
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pull) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(calls) == 1
    assert results == [data] * 8


_RACER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from anchore.registry import BlobCache

    root, digest, blob, log, go = sys.argv[1:6]
    data = Path(blob).read_bytes()
    while not os.path.exists(go):
        time.sleep(0.001)

    def download(dest):
        with open(log, "a") as out:
            out.write(f"{os.getpid()}\\n")
        partial = str(dest) + ".partial"
        with open(partial, "ab") as out:
            for i in range(0, len(data), 4096):
                out.write(data[i : i + 4096])
                out.flush()
                time.sleep(0.01)
        os.replace(partial, dest)

    got = BlobCache(root).fetch(digest, download, size=len(data)).read_bytes()
    sys.exit(0 if got == data else 3)
    """
)


def test_processes_pulling_one_blob_download_it_once(tmp_path: Path) -> None:
    data = os.urandom(200_000)
    digest = digest_of(data)
    blob = tmp_path / "blob"
    blob.write_bytes(data)
    log, go = tmp_path / "log", tmp_path / "go"
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    args = [sys.executable, str(script), str(tmp_path / "c"), digest, str(blob), str(log), str(go)]
    procs = [subprocess.Popen(args) for _ in range(3)]
    try:
        time.sleep(0.5)  # let them start and wait for the signal
        go.touch()
        codes = [p.wait(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert codes == [0, 0, 0]
    assert len(log.read_text().split()) == 1  # one process downloaded, two waited
    assert BlobCache(tmp_path / "c").path(digest).read_bytes() == data


def test_store_keeps_only_bytes_that_match_their_digest(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, registry="localhost:5000", reference="localhost:5000/a:1")
    data = b'{"schemaVersion": 2}'
    path = cache.store(digest_of(data), data)
    assert path.read_bytes() == data
    with pytest.raises(DigestMismatchError, match="localhost:5000/a:1"):
        cache.store(digest_of(b"other"), data)
    assert not cache.path(digest_of(b"other")).exists()
    with pytest.raises(ValueError, match="not a sha256"):
        cache.path("sha256:../../etc/passwd")


def test_prune_removes_least_recently_used_first(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    blobs = [bytes([i]) * 1000 for i in range(5)]
    for age, data in enumerate(blobs):
        path = cache.store(digest_of(data), data)
        os.utime(path, (10_000 + age, 10_000 + age))  # blobs[0] the least recently used
    # blobs[0] is in use by this pull: kept whatever its age
    removed = cache.prune(2500, keep={digest_of(blobs[0])})
    assert removed == (3, 3000)
    left = {data for data in blobs if cache.path(digest_of(data)).exists()}
    assert left == {blobs[0], blobs[4]}
    assert cache.usage() == (2, 2000)
    assert cache.prune(0) == (2, 2000)
    assert cache.usage() == (0, 0)


def test_prune_spares_a_blob_being_pulled_and_clears_dead_pulls(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    busy, idle = b"b" * 100, b"i" * 100
    for data in (busy, idle):
        os.utime(cache.store(digest_of(data), data), (1, 1))
    lock = Path(str(cache.path(digest_of(busy))) + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another pull holds it
    directory = cache.path(digest_of(busy)).parent
    dead = directory / (("d" * 64) + ".partial")
    dead.write_bytes(b"half")
    os.utime(dead, (1, 1))
    fresh = directory / (("e" * 64) + ".partial")
    fresh.write_bytes(b"in progress")
    try:
        assert cache.prune(0) == (1, 100)
    finally:
        os.close(fd)
    assert cache.path(digest_of(busy)).exists()
    assert not cache.path(digest_of(idle)).exists()
    assert not dead.exists()
    assert fresh.exists()


def test_a_held_blob_is_spared_by_prune_until_released(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    data = b"r" * 100
    digest = digest_of(data)
    cache.store(digest, data)
    held = cache.hold(digest)
    assert held is not None
    try:
        assert cache.prune(0) == (0, 0)  # an open image reads it
        assert cache.path(digest).exists()
    finally:
        cache.release(held)
    assert cache.prune(0) == (1, 100)
    assert cache.hold(digest) is None  # gone: the reader fetches it again


def test_a_lock_file_pruned_while_a_pull_opens_it_gives_no_second_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pull C opens the .lock a dead pull left two days ago; a prune removes it (stale, no
    # blob) before C locks it. C must not count the lock on the unlinked file as held.
    cache = BlobCache(tmp_path)
    digest = digest_of(b"never downloaded")
    path = cache.path(digest)
    path.parent.mkdir(parents=True)
    lock = Path(str(path) + ".lock")
    lock.touch()
    os.utime(lock, (1, 1))
    real_flock = fcntl.flock
    pruned: list[tuple[int, int]] = []

    def flock_after_a_prune(fd: int, op: int) -> None:
        if not pruned:  # C has opened the lock file; the prune runs now
            pruned.append((0, 0))
            monkeypatch.setattr(fcntl, "flock", real_flock)
            pruned[0] = cache.prune(0)
            assert not lock.exists()
        real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock_after_a_prune)
    with cache._locked(digest):  # C
        assert pruned == [(0, 0)]
        assert lock.exists()  # C holds the lock file that is there now
        d = BlobCache(tmp_path, stall_timeout=0.3)  # pull D
        with pytest.raises(BlobCacheError, match="another pull holds"), d._locked(digest):
            pass


def test_only_exact_digests_name_cache_paths(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    good = "sha256:" + "a" * 64
    assert cache.path(good) == tmp_path / "sha256" / ("a" * 64)
    for bad in (
        good + "\n",  # a line end after the hex: `$` takes it, the registry's parser must not
        good.upper(),
        "sha256:" + "a" * 63,
        "sha256:../../etc/passwd",
        "md5:" + "a" * 32,
        None,
    ):
        with pytest.raises(ValueError):
            cache.path(bad)  # type: ignore[arg-type]


def test_a_cache_that_cannot_be_made_is_a_blob_cache_error(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_text("not a directory")
    cache = BlobCache(root, registry="localhost:5000", reference="localhost:5000/a:1")
    with pytest.raises(BlobCacheError, match=str(root)) as info:
        cache.fetch(digest_of(b"z"), writer(b"z"))
    assert info.value.registry == "localhost:5000"
    with pytest.raises(BlobCacheError, match=str(root)):
        cache.store(digest_of(b"z"), b"z")


def test_discard_removes_a_blob_so_it_is_fetched_again(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    data = b"q" * 10
    cache.store(digest_of(data), data)
    cache.discard(digest_of(data))
    assert cache.lookup(digest_of(data)) is None
    calls: list[str] = []
    cache.fetch(digest_of(data), writer(data, calls))
    assert len(calls) == 1


def test_a_disk_error_while_downloading_is_a_blob_cache_error(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, registry="localhost:5000", reference="localhost:5000/a:1")

    def full(dest: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(BlobCacheError, match="No space left on device") as info:
        cache.fetch(digest_of(b"z"), full)
    assert str(tmp_path) in str(info.value)


def _hold(cache: BlobCache, digest: str) -> int:
    """Take the blob's lock as another pull would (another open file description)."""
    lock = Path(str(cache.path(digest)) + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_pull_waits_for_another_that_makes_progress(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, stall_timeout=0.4)
    data = b"p" * 4000
    digest = digest_of(data)
    fd = _hold(cache, digest)

    def other_pull() -> None:  # slower than the stall timeout, but growing
        try:
            writer(data, delay=0.3)(cache.path(digest))
        finally:
            os.close(fd)

    thread = threading.Thread(target=other_pull)
    thread.start()
    calls: list[str] = []
    try:
        assert cache.fetch(digest, writer(data, calls), size=len(data)).read_bytes() == data
    finally:
        thread.join(30)
    assert calls == []  # it found the other pull's blob


def test_a_pull_gives_up_on_another_that_is_stuck(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, reference="localhost:5000/a:1", stall_timeout=0.3)
    digest = digest_of(b"s")
    fd = _hold(cache, digest)
    try:
        started = time.monotonic()
        with pytest.raises(BlobCacheError, match="no progress") as info:
            cache.fetch(digest, writer(b"s"))
        assert time.monotonic() - started < 10
        assert info.value.reference == "localhost:5000/a:1"
    finally:
        os.close(fd)


def test_a_pull_waiting_on_a_blob_another_pull_finished_and_now_reads_gets_it(tmp_path):
    """Two pulls of one image: the first downloads a blob and at once holds it shared (its
    open image reads it); the second, waiting for the download lock, must take the blob
    now there instead of waiting for an exclusive lock it will never get (it hung CI)."""
    cache = BlobCache(tmp_path)
    data = b"layer" * 100
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    downloading, finish = threading.Event(), threading.Event()
    held: list[int | None] = []

    def slow(dest: Path) -> None:
        downloading.set()
        finish.wait(10)
        dest.write_bytes(data)

    def first() -> None:
        cache.fetch(digest, slow, size=len(data))
        held.append(cache.hold(digest))  # the reader's shared lock, kept

    def never(dest: Path) -> None:
        raise AssertionError("downloaded twice")

    got: list[Path] = []
    one = threading.Thread(target=first)
    one.start()
    assert downloading.wait(10)
    two = threading.Thread(target=lambda: got.append(cache.fetch(digest, never, size=len(data))))
    two.start()
    time.sleep(0.3)  # the second is waiting for the download lock now
    finish.set()
    one.join(10)
    two.join(20)
    try:
        assert not two.is_alive(), "the second pull waited forever for the exclusive lock"
        assert got == [cache.path(digest)] and got[0].read_bytes() == data
    finally:
        BlobCache.release(held[0] if held else None)
        finish.set()
