"""What an analyzer may ask of the image: file content, locations, layers, the distro.

Content goes through the image's public reading methods. Small files the
analyzers want are read once, in one forward pass per layer (:meth:`prefetch`),
and shared; the rest are read or streamed on demand and not kept.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import BinaryIO

from anchore.analysis import attribution
from anchore.analysis.analyzer import FileInput
from anchore.analysis.budget import Deadlines
from anchore.analysis.distro import RELEASE_FILES, detect_distro
from anchore.analysis.layers import DatabaseHistory
from anchore.analysis.model import Distro, Location
from anchore.errors import AnchoreError
from anchore.image.filetree import FileEntry
from anchore.image.image import Image, Layer
from anchore.limits import Limits

__all__ = ["PREFETCH_MAX_BYTES", "AnalysisContext"]

#: files up to this size are read in the shared prefetch pass; larger ones on demand
PREFETCH_MAX_BYTES = 4 * 1024 * 1024


class AnalysisContext:
    """What analyzers may ask of the image, beyond the files they were offered.

    One per analysis, shared by the analyzers running concurrently: what it
    keeps (prefetched content, layer attributions) is only ever added to.
    """

    def __init__(self, image: Image) -> None:
        self.image = image
        self._cache: dict[tuple[int, int], bytes] = {}
        self._cached_bytes = 0  # what the cache holds, within limits.max_prefetch_bytes
        self._introduced: dict[tuple[str, int], int] = {}
        self._deletions = attribution.Deletions(image.layers)
        #: when each analyzer must stop (``limits.max_analyzer_seconds`` from its start)
        self.deadlines = Deadlines(image.limits.max_analyzer_seconds)
        #: every package database's copies, layer by layer, as :meth:`first_layers` read
        #: them: what :func:`~anchore.analysis.layers.package_changes` is made of
        self.database_histories: list[DatabaseHistory] = []
        self._running = threading.local()

    @contextlib.contextmanager
    def running(self, analyzer: str) -> Iterator[None]:
        """Run ``analyzer`` on this thread: its clock starts (:attr:`deadlines`), and what
        it asks of the context (a database's history) is recorded under its name."""
        before = getattr(self._running, "analyzer", "")
        self._running.analyzer = analyzer
        try:
            with self.deadlines.running(analyzer):
                yield
        finally:
            self._running.analyzer = before

    @property
    def limits(self) -> Limits:
        """The image's limits: what the analysis of it may take."""
        return self.image.limits

    def check_time(self, analyzer: str, path: str | None = None) -> None:
        """Raise :class:`~anchore.errors.LimitExceededError` (``max_analyzer_seconds``)
        when ``analyzer`` has run past its time."""
        self.deadlines.check(analyzer, path)

    @functools.cached_property
    def distro(self) -> Distro | None:
        """The image's distro (from os-release and the like), computed once."""
        found = []
        for path in RELEASE_FILES:
            try:
                entry = self.image.stat(path)
            except AnchoreError:
                continue
            if entry.is_file:
                found.append(FileInput(entry, self))
        return detect_distro(found)

    # ---- content ----
    def prefetch(self, entries: Iterable[FileEntry]) -> None:
        """Read these files now, in one forward pass per layer, and keep them for the analysis.

        Within ``limits.max_prefetch_bytes`` in all: files past the budget are
        not read now, and are read on demand (and not kept) when an analyzer asks,
        so an image of a thousand 4 MiB ``package.json`` files holds at most the
        budget, never all of them.
        """
        budget = self.limits.max_prefetch_bytes - self._cached_bytes
        wanted: dict[tuple[int, int], FileEntry] = {}
        for e in entries:
            where = e.data_location
            if where in self._cache or where in wanted:
                continue
            if e.size > budget:
                continue  # a smaller one further on may still fit
            budget -= e.size
            wanted[where] = e
        for entry, data in self.image.read_many(wanted.values()):
            self._cache[entry.data_location] = data
            self._cached_bytes += len(data)

    def stream(self, entries: Iterable[FileEntry]) -> Iterator[tuple[FileEntry, bytes]]:
        """Contents of many files, one forward pass per layer, not kept afterwards.

        For analyzers that look at each file once (secrets, binaries): memory
        stays at one file, where ``prefetch`` would keep them all.
        """
        pending = []
        for entry in entries:
            cached = self._cache.get(entry.data_location)
            if cached is not None:
                yield entry, cached
            else:
                pending.append(entry)
        yield from self.image.read_many(pending)

    def read_heads(self, entries: Iterable[FileEntry], size: int) -> dict[str, bytes]:
        """The first ``size`` bytes of many files, in one pass: for sniffing file types."""
        return {e.path: data for e, data in self.image.read_many(entries, head=size)}

    def read(self, entry: FileEntry) -> bytes:
        """A file's whole content: prefetched if it was, else read now (and not kept)."""
        cached = self._cache.get(entry.data_location)
        if cached is not None:
            return cached
        return self.image.read_entry(entry)

    def open(self, entry: FileEntry) -> BinaryIO:
        """A seekable stream over a file's content, for large files read in parts."""
        return self.image.open_entry(entry)

    # ---- locations and layers ----
    def location(self, entry: FileEntry, layer_index: int | None = None) -> Location:
        """Where evidence is: ``entry``'s path, in ``layer_index`` (the layer that wrote
        this copy when not given), with that layer's digest."""
        index = entry.layer_index if layer_index is None else layer_index
        digest = self.image.layers[index].digest if 0 <= index < len(self.image.layers) else ""
        return Location(entry.path, index, digest)

    def introduced_in(self, entry: FileEntry) -> int:
        """The first layer of the unbroken run of layers that kept writing this path.

        A later layer that rewrites a file (``chmod -R``, a re-install) does not
        take the credit from the layer that first put it there, unless the path
        was deleted in between. Computed once per file and analysis.
        """
        key = (entry.path, entry.layer_index)
        found = self._introduced.get(key)
        if found is None:
            found = self._introduced[key] = attribution.introduced_in(
                self.image.layers, entry, self._deletions
            )
        return found

    def layer_copies(self, path: str) -> list[tuple[int, bytes]]:
        """Every layer's own copy of ``path``, oldest first: how a database grew."""
        return attribution.layer_copies(self.image.layers, path, self.read)

    def first_layers(
        self, path: str, keys: Callable[[bytes], Iterable[Hashable]]
    ) -> dict[Hashable, int]:
        """For each record of a package database: the first layer whose copy lists it.

        ``keys(data)`` gives the identities (name, version...) one copy lists. A
        record that disappears from a later copy and comes back counts from its
        return. A copy that ``keys`` cannot read is skipped (the current copy's
        own errors are the analyzer's to report).

        A layer that deletes the database (a whiteout, an opaque parent) and
        writes no copy takes every record away. What each copy listed is kept
        (:attr:`database_histories`, under the analyzer running on this
        thread), deletions included: the packages each layer added and removed.
        """
        copies: list[tuple[int, frozenset[Hashable] | None]] = []
        layers = self.image.layers
        first = attribution.first_layers(
            attribution.read_copies(layers, path, self.read),
            keys,
            seen=lambda layer, listed: copies.append((layer, listed)),
            deleted=[
                layer.index
                for layer in layers[1:]
                if self._deletions.deletes(layer.index, path) and not _holds(layer, path)
            ],
        )
        analyzer = getattr(self._running, "analyzer", "")
        self.database_histories.append(DatabaseHistory(analyzer, path, tuple(copies)))
        return first


def _holds(layer: Layer, path: str) -> bool:
    """Whether ``layer`` writes its own copy of ``path``."""
    try:
        layer.stat(path)
    except AnchoreError:
        return False
    return True
