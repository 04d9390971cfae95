"""Which layer put a file, or a package database record, into the image.

A file's copy in the squashed image was written by its last layer, but a later
layer that rewrites it (``chmod -R``, a re-install) did not introduce it:
:func:`introduced_in` gives the first layer of the unbroken run that kept
writing the path. A package database is one file listing many packages:
:func:`first_layers` reads every layer's copy and gives each record the first
layer that listed it.

Both are bounded for hostile images: whether a layer deletes a path is a few
set lookups (:class:`Deletions`, built once per layer and analysis), not a scan
of the layer's whiteouts, so 200k whiteouts below thousands of package files
stay linear; and the copies of a database are read one at a time, each blob
once (layers naming the same blob share its content and its keys), never held
together. Reading every copy is the analyzer's time: the deadline of the
analyzer running on the thread is checked before each copy is read and keyed
(:func:`~anchore.analysis.budget.check_current`), and past it attribution
stops with that analyzer's ``max_analyzer_seconds`` error.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence

from anchore.analysis.budget import check_current
from anchore.errors import AnchoreError, LimitExceededError
from anchore.image.filetree import FileEntry
from anchore.image.image import Layer

__all__ = [
    "Deletions",
    "deleted_by",
    "first_layers",
    "introduced_in",
    "layer_copies",
    "read_copies",
]

log = logging.getLogger(__name__)


def deleted_by(whiteouts: Sequence[str], opaque: Sequence[str], path: str) -> bool:
    """Whether a layer with these whiteouts and opaque directories deletes ``path``.

    For one question; :class:`Deletions` answers many in O(depth of the path) each.
    """
    return _LayerDeletions(whiteouts, opaque).deletes(path)


class _LayerDeletions:
    """One layer's whiteouts and opaque directories, as sets."""

    __slots__ = ("gone", "opaque")

    def __init__(self, whiteouts: Iterable[str], opaque: Iterable[str]) -> None:
        self.gone = frozenset(whiteouts)
        self.opaque = frozenset(d.rstrip("/") or "/" for d in opaque)

    def deletes(self, path: str) -> bool:
        """A whiteout names ``path`` or an ancestor, or an ancestor is opaque."""
        gone, opaque = self.gone, self.opaque
        if not gone and not opaque:
            return False
        if path in gone:
            return True
        head = path
        while head not in ("/", ""):
            head = head.rpartition("/")[0] or "/"
            if head in gone or head in opaque:
                return True
        return False


class Deletions:
    """What each layer of an image deletes from the layers below: sets built once per
    layer (lazily, on first use) and shared by every question of one analysis."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self._layers = layers
        self._built: dict[int, _LayerDeletions] = {}
        self._lock = threading.Lock()

    def deletes(self, index: int, path: str) -> bool:
        """Whether layer ``index`` deletes ``path`` (or an ancestor of it)."""
        found = self._built.get(index)
        if found is None:
            with self._lock:
                found = self._built.get(index)
                if found is None:
                    layer = self._layers[index]
                    found = self._built[index] = _LayerDeletions(layer.whiteouts, layer.opaque_dirs)
        return found.deletes(path)


def introduced_in(
    layers: Sequence[Layer], entry: FileEntry, deletions: Deletions | None = None
) -> int:
    """The first layer of the unbroken run of layers that kept writing ``entry.path``.

    A later layer that rewrites a file does not take the credit from the layer
    that first put it there, unless the path was deleted in between. Pass the
    analysis' ``deletions`` when asking about many files.
    """
    deletions = deletions or Deletions(layers)
    path = entry.path
    first = entry.layer_index
    for index in range(entry.layer_index - 1, -1, -1):
        if deletions.deletes(index + 1, path):
            break
        try:
            layers[index].stat(path)
        except AnchoreError:
            continue
        first = index
    return first


def read_copies(
    layers: Sequence[Layer], path: str, read: Callable[[FileEntry], bytes]
) -> Iterator[tuple[int, tuple[int, int], bytes]]:
    """Every layer's own copy of ``path``, oldest first, one at a time, each with where its
    content is (``data_location``): layers naming the same blob name the same place.

    A copy that cannot be read is left out (and logged). Only the copy being
    looked at is held: a database of 100 MiB in a thousand layers costs 100 MiB.
    """
    for layer in layers:
        check_current(path)
        try:
            entry = layer.stat(path)
        except AnchoreError:
            continue
        if entry.is_file:
            try:
                data = read(entry)
            except AnchoreError as exc:
                log.warning("cannot read layer %d copy of %s: %s", layer.index, path, exc)
                continue
            yield layer.index, entry.data_location, data
            del data  # not held while the next copy is read


def layer_copies(
    layers: Sequence[Layer], path: str, read: Callable[[FileEntry], bytes]
) -> list[tuple[int, bytes]]:
    """Every layer's own copy of ``path``, oldest first: how a database grew.

    Copies at the same place (layers naming one blob) are one bytes object.
    A copy that cannot be read is left out (and logged).
    """
    seen: dict[tuple[int, int], bytes] = {}
    copies = []
    for index, where, data in read_copies(layers, path, read):
        copies.append((index, seen.setdefault(where, data)))
    return copies


def first_layers(
    copies: Iterable[tuple[int, bytes]] | Iterable[tuple[int, tuple[int, int], bytes]],
    keys: Callable[[bytes], Iterable[Hashable]],
    seen: Callable[[int, frozenset[Hashable] | None], object] | None = None,
    deleted: Iterable[int] = (),
) -> dict[Hashable, int]:
    """For each record of a package database: the first layer whose copy lists it.

    ``copies`` are (layer, content) or (layer, place, content) oldest first
    (:func:`read_copies`: the keys of a place are computed once); ``keys(data)``
    gives the identities (name, version...) one copy lists. A record that
    disappears from a later copy and comes back counts from its return, as does
    one listed again after a layer of ``deleted`` (layers that delete the
    database and write no copy of it) took the whole database away. A copy
    that ``keys`` cannot read is skipped (the current copy's own errors are the
    analyzer's to report). Past the running analyzer's deadline (checked before
    each copy is keyed, and by ``keys`` if it checks) the
    :class:`~anchore.errors.LimitExceededError` is raised, not skipped.
    ``seen(layer, keys)``, when given, is told what each copy listed (None for a
    copy skipped, nothing for a deleting layer after the first copy): the
    database's history, for the packages each layer changed.
    """
    first: dict[Hashable, int] = {}
    known: dict[object, frozenset[Hashable] | None] = {}
    gone = sorted(deleted, reverse=True)  # popped oldest first
    nothing: frozenset[Hashable] = frozenset()
    started = [False]  # whether a copy came yet: deletions before it take nothing

    def deletions_before(layer: int) -> None:
        while gone and gone[-1] < layer:
            at = gone.pop()
            if started[0]:
                first.clear()
                if seen is not None:
                    seen(at, nothing)

    for copy in copies:
        check_current()
        layer: int = copy[0]
        data: bytes = copy[-1]
        where: object = copy[1] if len(copy) == 3 else None
        deletions_before(layer)
        present = known.get(where) if where is not None else None
        if where is None or where not in known:
            try:
                present = frozenset(keys(data))
            except LimitExceededError as exc:
                if exc.limit == "max_analyzer_seconds":  # out of time: attribution stops
                    raise
                log.debug("layer %d copy not read for attribution: %s", layer, exc)
                present = None
            except Exception as exc:  # an unreadable older copy: skipped, not fatal
                log.debug("layer %d copy not read for attribution: %s", layer, exc)
                present = None
            if where is not None:
                known[where] = present
        del copy, data
        started[0] = True
        if seen is not None:
            seen(layer, present)
        if present is None:
            continue
        for key in present:
            first.setdefault(key, layer)
        for key in [k for k in first if k not in present]:
            del first[key]
    deletions_before(sys.maxsize)
    return first
