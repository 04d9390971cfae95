"""An image in a registry, read as if it were an OCI image layout.

:class:`RegistrySource` resolves a reference to its manifest (or index) and
offers it to :func:`~anchore.image.formats.read_oci_layout` behind a
synthesized ``index.json`` naming that one manifest, so that the platform
choice, nested indexes, digest checks and config parsing are the layout's own.
Each ``blobs/<algorithm>/<hex>`` it is asked for comes from the blob cache,
downloaded first when absent: manifests named by an index it has read through
the manifests endpoint, everything else through the blobs endpoint. The config
and manifests are fetched as they are read; the layers all at once, in
parallel, once the reader knows which ones it needs (:meth:`Source.fetch`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform as host
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from anchore.errors import LimitExceededError, MissingBlobError
from anchore.image.blobs import BlobRef
from anchore.image.formats import REF_NAME
from anchore.image.model import Platform
from anchore.image.sources import Source
from anchore.limits import Limits
from anchore.registry.cache import BlobCache
from anchore.registry.client import INDEX_TYPES, OCI_INDEX, RegistryClient
from anchore.registry.digests import is_digest, parse_digest
from anchore.registry.options import RegistryOptions
from anchore.registry.reference import Reference

__all__ = ["RegistrySource", "host_platform"]

#: ``platform.machine()`` spellings as OCI names them (architecture, variant)
_MACHINES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv8l": ("arm", "v7"),  # a 32-bit userland on a 64-bit arm core
    "armv7l": ("arm", "v7"),
    "armv7": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
    "i386": ("386", None),
    "i486": ("386", None),
    "i586": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
    "mips64": ("mips64", None),
    "loongarch64": ("loong64", None),
}


def host_platform(machine: str | None = None) -> Platform:
    """The platform of this machine as OCI names it (linux: images are Linux images)."""
    name = (machine if machine is not None else host.machine()).lower()
    architecture, variant = _MACHINES.get(name, (name or "unknown", None))
    return Platform("linux", architecture, variant)


def _blob_digest(name: str) -> str | None:
    """``sha256:<hex>`` for a layout name ``blobs/sha256/<hex>`` (None for other names)."""
    parts = name.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "blobs":
        return None
    digest = f"{parts[1]}:{parts[2]}"
    return digest if is_digest(digest) else None  # else not a blob name: missing


def _children(data: bytes) -> tuple[dict[str, int | None], dict[str, int | None]]:
    """The manifests an index names and the blobs a manifest names, with their sizes.

    Tolerant of anything malformed: the layout reader checks shapes when it
    parses the document, and a digest learned here only decides which endpoint
    (manifests or blobs) a name is fetched from.
    """
    manifests: dict[str, int | None] = {}
    blobs: dict[str, int | None] = {}
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return manifests, blobs
    if not isinstance(doc, dict):
        return manifests, blobs

    def add(into: dict[str, int | None], descriptor: Any) -> None:
        if isinstance(descriptor, dict) and isinstance(descriptor.get("digest"), str):
            size = descriptor.get("size")
            ok = isinstance(size, int) and not isinstance(size, bool) and size >= 0
            into[descriptor["digest"]] = size if ok else None

    for key, into in (("manifests", manifests), ("layers", blobs)):
        listed = doc.get(key)
        for descriptor in listed if isinstance(listed, list) else []:
            add(into, descriptor)
    add(blobs, doc.get("config"))
    return manifests, blobs


def _release_all(cache: BlobCache, holds: dict[str, int]) -> None:
    """Release the blobs an image held (on close, or when it is garbage collected)."""
    for held in holds.values():
        cache.release(held)
    holds.clear()


class RegistrySource(Source):
    """The image ``reference`` names, as a :class:`Source` holding an OCI layout.

    ``label`` is the reference as the user wrote it, so every message names it.
    Resolving it (in the constructor) fetches the manifest or index the reference
    names and checks its digest and media type; blobs follow as they are asked
    for. :meth:`close` removes the synthesized ``index.json`` and releases the
    connections; the blobs stay in the cache, where the layers are read in place.
    """

    def __init__(
        self,
        reference: Reference,
        limits: Limits,
        *,
        options: RegistryOptions | None = None,
        client: RegistryClient | None = None,
    ) -> None:
        self.reference = reference
        self.label = reference.original or str(reference)
        self.limits = limits
        self.options = options or (client.options if client else RegistryOptions())
        self._owns_client = client is None
        self._closed = False
        self.client = client or RegistryClient(self.options)
        self.cache: BlobCache = self.client.cache(reference)
        self._lock = threading.Lock()
        #: digest -> size (None: unknown) of the manifests an index read so far names
        self._manifests: dict[str, int | None] = {}
        #: digest -> size of the blobs (configs, layers) the manifests read so far name
        self._blobs: dict[str, int | None] = {}
        #: every digest served, and those served as found in the cache (not fetched now)
        self.used: set[str] = set()
        self._from_cache: set[str] = set()
        #: digest -> the shared lock held on it while the image is open (prune skips it)
        self._holds: dict[str, int] = {}
        self._unhold = weakref.finalize(self, _release_all, self.cache, self._holds)
        self._tmpdir = tempfile.mkdtemp(prefix="anchore-registry-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        try:
            self._index = self._resolve()
        except BaseException:
            self.close()
            raise

    def _resolve(self) -> str:
        """Fetch the manifest the reference names; write the index.json naming it."""
        bound = self.limits.max_json_bytes
        top = self.client.cached_manifest(self.reference, max_bytes=bound)
        if top is None:
            top = self.client.get_manifest(self.reference, max_bytes=bound)
            self.cache.store(top.digest, top.data)
        self._learn(top.data)
        self.used.add(top.digest)
        self._manifests[top.digest] = len(top.data)
        descriptor = {
            "mediaType": top.media_type,
            "digest": top.digest,
            "size": len(top.data),
            "annotations": {REF_NAME: str(self.reference)},
        }
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
        path = os.path.join(self._tmpdir, "index.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump(index, out)
        #: the digest of the manifest or index the reference resolved to
        self.digest = top.digest
        self.is_index = top.media_type in INDEX_TYPES
        return path

    def _learn(self, data: bytes) -> None:
        manifests, blobs = _children(data)
        with self._lock:
            for digest, size in manifests.items():
                self._manifests.setdefault(digest, size)
            for digest, size in blobs.items():
                self._blobs.setdefault(digest, size)

    def exists(self, name: str) -> bool:
        if name.strip("/") == "index.json":
            return True
        digest = _blob_digest(name)
        if digest is None:
            return False
        with self._lock:
            known = digest in self._manifests or digest in self._blobs
        return known or self.cache.lookup(digest) is not None

    def blob(self, name: str) -> BlobRef:
        if name.strip("/") == "index.json":
            return BlobRef(self._index, 0, os.path.getsize(self._index), f"{self.label}!index.json")
        digest = _blob_digest(name)
        if digest is None:
            raise MissingBlobError(
                f"{self.label}: {name} is not in a registry image", source=self.label, member=name
            )
        path = self._get(digest)
        return BlobRef(str(path), 0, path.stat().st_size, f"{self.label}!{name}")

    def _get(self, digest: str) -> Path:
        """The blob ``digest`` in the cache (fetched when absent), held for the image's
        lifetime so that no prune removes it while it is read in place."""
        for _ in range(3):
            path = self._find_or_fetch(digest)
            with self._lock:
                if digest in self._holds:
                    return path
            held = self.cache.hold(digest)
            if held is None:  # pruned between the fetch and the hold: fetch it again
                continue
            with self._lock:
                if digest in self._holds:  # another thread held it meanwhile
                    self.cache.release(held)
                else:
                    self._holds[digest] = held
            return path
        raise MissingBlobError(
            f"{self.label}: blobs/{digest.replace(':', '/')} was removed from the blob cache "
            f"{self.cache.root} each time it was fetched (is something pruning it?)",
            source=self.label,
            member=digest,
        )

    def _release(self, digest: str) -> None:
        with self._lock:
            held = self._holds.pop(digest, None)
        self.cache.release(held)

    def _find_or_fetch(self, digest: str) -> Path:
        with self._lock:
            is_manifest = digest in self._manifests
            size = self._manifests.get(digest) if is_manifest else self._blobs.get(digest)
        found = self.cache.lookup(digest, size)
        if found is not None:
            with self._lock:
                if digest not in self.used:
                    self._from_cache.add(digest)
                self.used.add(digest)
            if is_manifest:
                self._learn_file(found)
            return found
        if is_manifest:
            manifest = self.client.get_manifest(
                self.reference, digest, max_bytes=self.limits.max_json_bytes
            )
            path = self.cache.store(digest, manifest.data)
            self._learn(manifest.data)
        else:
            path = self.client.fetch_blob(self.reference, digest, size)
        with self._lock:
            self.used.add(digest)
        return path

    def _learn_file(self, path: Path) -> None:
        if path.stat().st_size <= self.limits.max_json_bytes:
            self._learn(path.read_bytes())

    def fetch(self, names: Sequence[str]) -> None:
        """Download the blobs ``names`` (the layers) now, ``parallel_downloads`` at a time."""
        digests = list(dict.fromkeys(d for d in map(_blob_digest, names) if d is not None))
        for digest in digests:
            with self._lock:
                size = self._blobs.get(digest)
            if size is not None and size > self.limits.max_layer_bytes:
                raise LimitExceededError(
                    f"{self.label}!blobs/{digest.replace(':', '/')}: {size} bytes exceeds "
                    f"max_layer_bytes={self.limits.max_layer_bytes}; not downloaded",
                    limit="max_layer_bytes",
                    source=self.label,
                )
        workers = max(1, min(self.options.parallel_downloads, len(digests)))
        report = self.options.progress
        done = 0
        done_lock = threading.Lock()

        def get(digest: str) -> None:
            nonlocal done
            self._get(digest)
            if report is not None:
                with done_lock:
                    done += 1
                    report("pull", done, len(digests))

        if report is not None:
            report("pull", 0, len(digests))
        if len(digests) <= 1 or workers == 1:
            for digest in digests:
                get(digest)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="anchore-pull") as pool:
            futures = [pool.submit(get, digest) for digest in digests]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def recheck(self) -> bool:
        """After a failed read: hash every blob served from the cache as found there, and
        remove those that no longer match their digest (a disk error, a hand edit), so
        that reading again downloads them. Whether any was removed."""
        with self._lock:
            suspects = sorted(self._from_cache)
        removed = False
        for digest in suspects:
            algorithm, _ = parse_digest(digest)
            hasher = hashlib.new(algorithm)
            path = self.cache.path(digest)
            try:
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        hasher.update(chunk)
            except FileNotFoundError:
                continue
            with self._lock:
                self._from_cache.discard(digest)
            if f"{algorithm}:{hasher.hexdigest()}" != digest:
                self._release(digest)  # discard takes the exclusive lock
                self.cache.discard(digest)
                with self._lock:
                    self.used.discard(digest)
                removed = True
        return removed

    def finish(self) -> None:
        """The image is read: bound the cache to ``cache_max_bytes`` (keeping every blob
        of this image) and release the connections and the synthesized index. The
        blobs stay held until :meth:`close` (the image's)."""
        try:
            if self.options.cache_max_bytes > 0:
                self.cache.prune(self.options.cache_max_bytes, keep=set(self.used))
        finally:
            self._disconnect()

    def _disconnect(self) -> None:
        self._cleanup()
        if self._owns_client and not self._closed:
            self._closed = True
            self.client.close()

    def close(self) -> None:
        """Release the connections, the synthesized index and the blobs held."""
        self._disconnect()
        with self._lock:
            self._unhold()
