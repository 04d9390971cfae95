"""The content-addressed blob cache: pulled manifests, configs and layers, by digest.

A blob lives at ``<root>/<algorithm>/<hex>`` only once it is complete and
verified: downloads write ``<hex>.partial`` (continued with ``Range`` after an
interruption) and are renamed onto the final name by the HTTP client after the
digest and size are checked. Each blob has a lock file (``<hex>.lock``, an
``flock``), so two threads or two processes pulling the same blob never write it
at once: the second waits, then finds it complete. Using a blob touches its
modification time, and :meth:`BlobCache.prune` removes the least recently used
ones first. Layers are read in place from here (nothing is copied), so an open
image holds a shared lock on each blob's lock file (:meth:`BlobCache.hold`) and
prune, which needs the exclusive lock, leaves those blobs alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from anchore.errors import AnchoreError, DigestMismatchError
from anchore.registry.digests import ALGORITHMS, digest_of, is_digest, parse_digest
from anchore.registry.errors import BlobCacheError

__all__ = ["BlobCache"]

#: .partial, .lock and .tmp files untouched this long are left-overs of dead pulls
STALE_SECONDS = 24 * 3600
#: how long a pull waits for another pull of the same blob that makes no progress (a
#: download in retry backoff may pause for max_retry_after, 120 s by default)
STALL_SECONDS = 600.0


class _Arrived(Exception):
    """The blob a pull waited for is in the cache now (another pull downloaded it)."""


class BlobCache:
    """Blobs by digest under ``root`` (``RegistryOptions.cache_path()``).

    Every failure to use the directory (permissions, a full disk) is a
    :class:`BlobCacheError` naming it; ``registry`` and ``reference`` name the
    pull it served, for that message.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        registry: str | None = None,
        reference: str | None = None,
        stall_timeout: float = STALL_SECONDS,
    ) -> None:
        self.root = Path(root)
        self.registry = registry
        self.reference = reference
        #: how long to wait for another pull of the same blob that makes no progress
        self.stall_timeout = stall_timeout

    def _error(self, exc: OSError, doing: str) -> BlobCacheError:
        return BlobCacheError(
            f"blob cache {self.root}: cannot {doing}: {exc.strerror or exc}",
            registry=self.registry,
            reference=self.reference,
            source=str(self.root),
        )

    def path(self, digest: str) -> Path:
        """Where the blob ``digest`` lives once complete (whether or not it is there)."""
        algorithm, hexdigest = parse_digest(digest)
        return self.root / algorithm / hexdigest

    def lookup(self, digest: str, size: int | None = None) -> Path | None:
        """The complete blob, touched as used, or None when absent (or not ``size`` bytes)."""
        path = self.path(digest)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(exc, f"read {path}") from exc
        if size is not None and st.st_size != size:
            return None
        self._touch(path)
        return path

    def _touch(self, path: Path) -> None:
        # gone meanwhile, or a shared read-only cache (recency is then not recorded)
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.utime(path)

    @contextlib.contextmanager
    def _locked(self, digest: str, *, unless_present: bool = False) -> Iterator[Path]:
        """Hold the blob's lock (waiting for another thread or process holding it).

        With ``unless_present``, stop waiting once the blob is there (:class:`_Arrived`):
        the pull that downloaded it may hold it shared at once (an open image reads it),
        and waiting for the exclusive lock then would deadlock two pulls of one image."""
        path = self.path(digest)
        lock = path.with_name(path.name + ".lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(exc, f"create {lock}") from exc
        fd = self._lock_file(lock, lambda fd: self._wait_for(fd, path, unless_present))
        try:
            os.utime(fd)  # a lock in use is not stale
            yield path
        finally:
            os.close(fd)  # releases the lock

    def _lock_file(self, lock: Path, take: Callable[[int], None]) -> int:
        """``lock`` opened and locked by ``take(fd)``; the descriptor.

        A prune may unlink a stale lock file between our open and our lock: the lock
        taken is then on a file nobody else will open, and a second pull would lock the
        new one as well. So once locked, the descriptor must still be the file at
        ``lock``; if not, open the new one and lock again (the usual lock-file idiom).
        """
        while True:
            try:
                fd = self._open_lock(lock)
            except OSError as exc:
                raise self._error(exc, f"create {lock}") from exc
            try:
                take(fd)
                held, now = os.fstat(fd), os.stat(lock)
                if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                    return fd
            except FileNotFoundError:
                pass  # unlinked after we opened it: try the new one
            except BaseException as exc:
                os.close(fd)
                if isinstance(exc, OSError) and not isinstance(
                    exc, (AnchoreError, BlockingIOError)
                ):
                    raise self._error(exc, f"lock {lock}") from exc
                raise
            os.close(fd)

    def hold(self, digest: str) -> int | None:
        """A shared lock on the blob ``digest`` for a reader: prune leaves the blob alone
        until :meth:`release` of the descriptor returned. None when the blob is gone (a
        prune won the race: fetch it again)."""
        path = self.path(digest)
        lock = path.with_name(path.name + ".lock")
        if not lock.exists() and not os.access(path.parent, os.W_OK):
            # a cache shared read-only, without the lock file: hold the blob open
            try:
                return os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise self._error(exc, f"open {path}") from exc
        # exclusive holders (prune, a download, a discard) hold it briefly
        fd = self._lock_file(lock, lambda fd: fcntl.flock(fd, fcntl.LOCK_SH))
        if path.exists():
            return fd
        os.close(fd)
        return None

    @staticmethod
    def _open_lock(lock: Path) -> int:
        """The lock file, created when absent; read-only in a cache shared read-only
        (``flock`` works on a read-only descriptor)."""
        try:
            return os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if not isinstance(exc, PermissionError) and exc.errno != errno.EROFS:
                raise
            return os.open(lock, os.O_RDONLY)

    @staticmethod
    def release(fd: int | None) -> None:
        """Let prune remove the blob :meth:`hold` returned ``fd`` for."""
        if fd is not None:
            os.close(fd)

    def _wait_for(self, fd: int, path: Path, unless_present: bool = False) -> None:
        """Take the lock on ``fd``, waiting while whoever holds it makes progress.

        Another pull downloading the blob grows its ``.partial``; one that has not
        grown for ``stall_timeout`` seconds (a stopped or hung process) is given up
        on with a :class:`BlobCacheError`, instead of waiting forever.
        """
        partial = path.with_name(path.name + ".partial")
        seen: tuple[int, float] | None = None
        progress = time.monotonic()
        pause = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise self._error(exc, f"lock {path}") from exc
            if unless_present and path.exists():  # only ever renamed there complete
                raise _Arrived
            try:
                st = partial.stat()
                now_seen: tuple[int, float] | None = (st.st_size, st.st_mtime)
            except OSError:
                now_seen = None
            if now_seen != seen:
                seen, progress = now_seen, time.monotonic()
            elif time.monotonic() - progress > self.stall_timeout:
                raise BlobCacheError(
                    f"blob cache {self.root}: another pull holds {path.name} and has made "
                    f"no progress for {self.stall_timeout:.0f} s (a stopped process?); "
                    "try again once it ends",
                    registry=self.registry,
                    reference=self.reference,
                    source=str(self.root),
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

    def fetch(
        self, digest: str, download: Callable[[Path], object], *, size: int | None = None
    ) -> Path:
        """The blob ``digest``, downloading it first when absent.

        ``download(dest)`` must leave the complete, verified blob at ``dest``
        (``HttpClient.download`` does: it writes ``dest + ".partial"``, resumes
        one left by an interrupted pull, and renames it onto ``dest`` once its
        digest and size are right). Only one thread or process downloads a blob
        at a time; the others wait and then find it here.
        """
        while True:
            found = self.lookup(digest, size)
            if found is not None:
                return found
            try:
                return self._download(digest, download, size)
            except _Arrived:  # another pull finished it while we waited: look again
                time.sleep(0.01)  # (a blob of the wrong size there waits for its holder)

    def _download(self, digest: str, download: Callable[[Path], object], size: int | None) -> Path:
        with self._locked(digest, unless_present=True) as path:
            found = self.lookup(digest, size)
            if found is not None:
                return found
            self._remove(path)  # a blob of the wrong size
            try:
                download(path)
            except OSError as exc:
                if isinstance(exc, AnchoreError):
                    raise
                raise self._error(exc, f"write {path}") from exc  # a full disk, permissions
            try:
                st = path.stat()
            except OSError as exc:
                raise self._error(exc, f"read the downloaded {path}") from exc
            if size is not None and st.st_size != size:
                self._remove(path)
                raise DigestMismatchError(
                    f"{path}: {st.st_size} bytes downloaded for {digest}, which has {size}",
                    expected=digest,
                    actual=f"(a blob of {st.st_size} bytes)",
                    source=self.reference,
                )
            return path

    def store(self, digest: str, data: bytes) -> Path:
        """Keep ``data`` (a manifest read whole) as the blob ``digest``, which it must hash to."""
        algorithm, hexdigest = parse_digest(digest)
        actual = digest_of(data, algorithm)
        if actual != digest:
            raise DigestMismatchError(
                f"{self.reference or self.root}: content hashes to {actual}, not {digest}",
                expected=digest,
                actual=actual,
                source=self.reference,
            )
        path = self.path(digest)
        tmp = path.with_name(f"{hexdigest}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # atomic: readers see the whole blob or none
        except OSError as exc:
            self._remove(tmp)
            raise self._error(exc, f"write {path}") from exc
        return path

    def discard(self, digest: str) -> None:
        """Remove a blob found corrupt, so that the next use downloads it again."""
        with self._locked(digest) as path:
            self._remove(path)

    def _remove(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise self._error(exc, f"remove {path}") from exc

    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        """Every file in the cache's digest directories, with its status."""
        found = []
        try:
            dirs = [self.root / a for a in ALGORITHMS if (self.root / a).is_dir()]
            for directory in dirs:
                with os.scandir(directory) as it:
                    for entry in it:
                        with contextlib.suppress(FileNotFoundError):
                            if entry.is_file(follow_symlinks=False):
                                found.append((Path(entry.path), entry.stat(follow_symlinks=False)))
        except OSError as exc:
            raise self._error(exc, "list the cache") from exc
        return found

    def _is_blob(self, path: Path) -> bool:
        return is_digest(f"{path.parent.name}:{path.name}")

    def usage(self) -> tuple[int, int]:
        """How many complete blobs the cache holds, and their bytes."""
        blobs = [st.st_size for path, st in self._entries() if self._is_blob(path)]
        return len(blobs), sum(blobs)

    def prune(self, max_bytes: int, *, keep: Collection[str] = ()) -> tuple[int, int]:
        """Remove least recently used blobs until at most ``max_bytes`` remain.

        Blobs whose digest is in ``keep`` (the image just pulled), blobs an open image
        reads (:meth:`hold`) and blobs being downloaded are left alone; ``.partial``,
        ``.lock`` and temporary files untouched for a day (a pull that died) go too.
        Returns the blobs removed and their bytes.
        """
        now = time.time()
        entries = self._entries()
        kept = {self.path(d) for d in keep}
        blobs = sorted(
            ((p, st) for p, st in entries if self._is_blob(p)), key=lambda e: e[1].st_mtime
        )
        total = sum(st.st_size for _, st in blobs)
        removed = freed = 0
        for path, st in blobs:
            if total <= max_bytes:
                break
            if path in kept:
                continue
            if self._unlink_unless_busy(path, f"{path.parent.name}:{path.name}"):
                total -= st.st_size
                removed += 1
                freed += st.st_size
        for path, st in entries:
            if self._is_blob(path) or now - st.st_mtime < STALE_SECONDS:
                continue
            stem = path.name.split(".", 1)[0]
            digest = f"{path.parent.name}:{stem}"
            if is_digest(digest) and path.suffix in (".partial", ".tmp"):
                self._unlink_unless_busy(path, digest)
            elif path.suffix == ".lock" and not path.with_name(stem).exists():
                self._unlink_unless_busy(path, None, lock=path)
        return removed, freed

    def _unlink_unless_busy(self, path: Path, digest: str | None, lock: Path | None = None) -> bool:
        """Remove ``path`` unless a pull holds its blob's lock; whether it was removed."""
        if lock is None and digest is not None:
            with contextlib.suppress(ValueError):
                lock = self.path(digest).with_name(self.path(digest).name + ".lock")
        fd = None
        if lock is not None:
            try:
                fd = self._lock_file(
                    lock, lambda fd: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                )
            except BlockingIOError:
                return False  # a pull writes it or an open image reads it
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error(exc, f"remove {path}") from exc
        finally:
            if fd is not None:
                os.close(fd)
        return True
