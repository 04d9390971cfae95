"""The opened image: metadata, layers, squashed views and file content.

:func:`open_image` verifies and indexes every layer once (layers in parallel:
decompression and hashing release the GIL); squashed views are built when
first asked for, and file content is read only when a caller reads it.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, BinaryIO, SupportsIndex, overload

import attrs

from anchore import display
from anchore.errors import (
    AnchoreError,
    DigestMismatchError,
    FileDecodeError,
    ImageError,
    ImageFormatError,
    ImageNotFoundError,
    ImageReadError,
    LayerNotFoundError,
    LimitExceededError,
    NotAFileError,
    PathNotFoundError,
    PlatformNotFoundError,
    TruncatedBlobError,
)
from anchore.image.blobs import BlobRef
from anchore.image.compression import (
    Checkpoint,
    Compression,
    LayerStream,
    open_member,
    restart_point,
    stream_from,
)
from anchore.image.filetree import (
    FileEntry,
    FileTree,
    FileType,
    gc_paused,
    normalize_path,
    relabeled,
)
from anchore.image.formats import (
    ImageParts,
    LayerBlob,
    read_docker_archive,
    read_oci_layout,
    sniff_format,
)
from anchore.image.layer_index import LayerIndex, index_layer
from anchore.image.model import (
    ContainerConfig,
    HistoryEntry,
    ImageInfo,
    LayerInfo,
    Platform,
    parse_created,
    platform_of,
)
from anchore.image.remote import RegistrySource, host_platform
from anchore.image.sources import Source, open_source
from anchore.image.spool import LayerSpool
from anchore.limits import Limits
from anchore.registry import (
    InvalidReferenceError,
    RegistryOptions,
    looks_like_reference,
    parse_reference,
)

__all__ = ["LAYER_COLUMNS", "FileSystemView", "Image", "Layer", "Layers", "open_image"]

#: the columns of :meth:`Image.to_records` (one row per layer), in order; stable: new
#: columns go at the end
LAYER_COLUMNS = (
    "layer", "digest", "diff_id", "media_type", "compression", "size", "uncompressed_size",
    "files", "whiteouts", "created_by",
)  # fmt: skip


class _Content:
    """Opens entries' content from the layer blobs, wherever their data lives."""

    def __init__(
        self,
        blobs: list[BlobRef],
        indexes: list[LayerIndex],
        limits: Limits,
        spooled: list[BlobRef | None] | None = None,
        spool: LayerSpool | None = None,
    ) -> None:
        self._blobs = blobs
        self._indexes = indexes
        self.limits = limits
        #: per layer, its verified inflated bytes on disk (see :mod:`anchore.image.spool`);
        #: the spool is held here so that it lives as long as any view or layer reading it
        self._spooled = spooled or [None] * len(blobs)
        self._spool = spool

    def unspool(self) -> None:
        """Remove the spool; every layer is read from its blob again."""
        self._spooled = [None] * len(self._blobs)
        if self._spool is not None:
            self._spool.close()

    def open(self, entry: FileEntry) -> BinaryIO:
        self._check_readable(entry)
        layer, offset = entry.data_location
        spooled = self._spooled[layer]
        if spooled is not None:
            return open_member(spooled, Compression.NONE, [], offset, entry.size)
        index = self._indexes[layer]
        return open_member(
            self._blobs[layer], index.compression, index.checkpoints, offset, entry.size
        )

    def _check_readable(self, entry: FileEntry) -> None:
        if not entry.is_file:
            raise NotAFileError(
                f"{entry.path}: is a {entry.type.value}, not a file", member=entry.path
            )
        layer = entry.data_location[0]
        if layer < 0:
            raise NotAFileError(
                f"{entry.path}: hard link to {entry.link_target}, which the image does not hold",
                member=entry.path,
            )
        if entry.sparse:
            raise NotAFileError(
                f"{entry.path}: stored as a GNU sparse member, which we do not read",
                member=entry.path,
            )

    def read_many(
        self, entries: Iterable[FileEntry], head: int | None = None
    ) -> Iterator[tuple[FileEntry, bytes]]:
        """Read many files in one forward pass per layer (the order is the layers').

        With ``head``, only the first ``head`` bytes of each file.
        """
        by_layer: dict[int, list[FileEntry]] = {}
        for entry in entries:
            self._check_readable(entry)
            if head is None:
                self._check_size(entry)
            by_layer.setdefault(entry.data_location[0], []).append(entry)
        for layer, items in sorted(by_layer.items()):
            items.sort(key=lambda e: e.data_location[1])
            index, blob = self._indexes[layer], self._blobs[layer]
            spooled = self._spooled[layer]
            if spooled is not None:
                yield from _read_in_place(spooled, items, head)
                continue
            if index.compression is Compression.NONE:
                yield from _read_in_place(blob, items, head)
                continue
            cursor: _Cursor | None = None
            for entry in items:
                offset = entry.data_location[1]
                restart = restart_point(index.checkpoints, offset).uncompressed_offset
                if cursor is None or offset < cursor.position or restart > cursor.position:
                    chunks = stream_from(blob, index.compression, index.checkpoints, offset)
                    cursor = _Cursor(chunks, offset)
                cursor.skip(offset - cursor.position)
                want = entry.size if head is None else min(head, entry.size)
                data = cursor.read(want)
                if len(data) != want:
                    raise TruncatedBlobError(
                        f"{blob.name}: ends inside {entry.path}", member=entry.path
                    )
                yield entry, data

    def _check_size(self, entry: FileEntry) -> None:
        if entry.size > self.limits.max_read_bytes:
            raise LimitExceededError(
                f"{entry.path}: {entry.size} bytes exceeds max_read_bytes="
                f"{self.limits.max_read_bytes}; use open() to stream it",
                limit="max_read_bytes",
                member=entry.path,
            )

    def read_bytes(self, entry: FileEntry) -> bytes:
        self._check_size(entry)
        with self.open(entry) as fh:
            data = fh.read()
        if len(data) != entry.size:
            raise PathNotFoundError(
                f"{entry.path}: read {len(data)} of {entry.size} bytes", member=entry.path
            )
        return data


#: in an uncompressed layer, files closer than this are read together in one span
#: (one system call, the gap read and dropped); farther ones each with a read of their own
_DENSE_GAP = 64 * 1024
#: a span read together stops growing past this many bytes
_SPAN_MAX = 4 * 1024 * 1024


def _read_in_place(
    blob: BlobRef, items: list[FileEntry], head: int | None
) -> Iterator[tuple[FileEntry, bytes]]:
    """Files of an uncompressed layer, sorted by offset, read where they lie.

    Neighbours are read in one span; a file far from the previous one costs one
    positioned read, not a read of every byte between them.
    """

    def want(entry: FileEntry) -> int:
        return entry.size if head is None else min(head, entry.size)

    fd = os.open(blob.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        i = 0
        while i < len(items):
            start = items[i].data_location[1]
            end = start + want(items[i])
            j = i + 1
            while j < len(items):
                offset = items[j].data_location[1]
                stop = max(end, offset + want(items[j]))
                if offset - end > _DENSE_GAP or stop - start > _SPAN_MAX:
                    break
                end = stop
                j += 1
            length = max(0, min(end, blob.size) - start)
            span = _pread_all(fd, length, blob.offset + start)
            view = memoryview(span)
            for entry in items[i:j]:
                offset = entry.data_location[1] - start
                size = want(entry)
                data = span if j == i + 1 and size == len(span) else bytes(view[offset:][:size])
                if len(data) != size:
                    raise TruncatedBlobError(
                        f"{blob.name}: ends inside {entry.path}", member=entry.path
                    )
                yield entry, data
            i = j
    finally:
        os.close(fd)


def _seek_read(fd: int, length: int, position: int) -> bytes:
    os.lseek(fd, position, os.SEEK_SET)
    return os.read(fd, length)


_pread = getattr(os, "pread", _seek_read)  # no pread on Windows; the fd is ours alone


def _pread_all(fd: int, length: int, position: int) -> bytes:
    """``length`` bytes at ``position`` (fewer only at the end of the file)."""
    data = _pread(fd, length, position)
    if len(data) == length or not data:
        return data
    parts = [data]
    got = len(data)
    while got < length:
        more = _pread(fd, length - got, position + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class _Cursor:
    """A forward-only position in a layer's uncompressed stream."""

    def __init__(self, chunks: Iterator[bytes], position: int) -> None:
        self._chunks = chunks
        self._buf = b""
        self.position = position

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buf = chunk
                return True
        return False

    def skip(self, n: int) -> None:
        while n > 0 and (self._buf or self._fill()):
            step = min(n, len(self._buf))
            self._buf = self._buf[step:]
            self.position += step
            n -= step

    def read(self, n: int) -> bytes:
        parts = []
        while n > 0 and (self._buf or self._fill()):
            piece = self._buf[:n]
            self._buf = self._buf[len(piece) :]
            parts.append(piece)
            self.position += len(piece)
            n -= len(piece)
        return b"".join(parts)


class FileSystemView:
    """A read-only filesystem: a :class:`FileTree` whose files can be opened.

    ``Image`` is the view after its last layer; ``image.squashed(i)`` gives the
    view after layer ``i``. Paths are absolute inside the image; symlinks are
    followed inside it.
    """

    def __init__(self, tree: FileTree | None, content: _Content) -> None:
        self._tree = tree
        self._content = content

    @property
    def tree(self) -> FileTree:
        """The paths and entries of this view (built on first use for an image)."""
        if self._tree is None:
            self._tree = self._build_tree()
        return self._tree

    def _build_tree(self) -> FileTree:
        raise NotImplementedError  # pragma: no cover - views are built with their tree

    def __len__(self) -> int:
        return len(self.tree)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.exists(path)

    def files(self) -> Iterator[FileEntry]:
        """Every entry (directories, links and all), sorted by path; the root is left out."""
        return self.tree.files()

    def _lookup(self, path: str, follow: bool) -> FileEntry:
        limit = self._content.limits.max_symlink_follows
        tree = self.tree
        resolved = tree.resolve(path, follow_last=follow, max_follows=limit)
        entry = tree.get(resolved)
        if entry is None:  # pragma: no cover - resolve() only returns stored paths
            raise PathNotFoundError(f"{path}: no such file or directory", member=path)
        return entry

    def stat(self, path: str, *, follow_symlinks: bool = True) -> FileEntry:
        """The entry at ``path``; like ``os.stat``, symlinks are followed unless told not to."""
        return self._lookup(path, follow_symlinks)

    def lstat(self, path: str) -> FileEntry:
        """The entry at ``path`` itself, a symlink included."""
        return self._lookup(path, False)

    def exists(self, path: str) -> bool:
        try:
            self._lookup(path, True)
        except PathNotFoundError:
            return False
        return True

    def listdir(self, path: str = "/") -> list[str]:
        return self.tree.listdir(path)

    def walk(self, top: str = "/") -> Iterator[FileEntry]:
        """Entries below ``top``, depth first, sorted by name."""
        return self.tree.walk(top)

    def realpath(self, path: str) -> str:
        """Where ``path`` leads inside the image, every symlink followed."""
        limit = self._content.limits.max_symlink_follows
        return self.tree.resolve(path, follow_last=True, max_follows=limit)

    def open(self, path: str) -> BinaryIO:
        """A binary file object over the file's content, read lazily from its layer."""
        return self._content.open(self._lookup(path, True))

    def read_bytes(self, path: str) -> bytes:
        return self._content.read_bytes(self._lookup(path, True))

    def read_many(
        self, paths: Iterable[str | FileEntry], *, head: int | None = None
    ) -> Iterator[tuple[FileEntry, bytes]]:
        """Read many files at once: one forward pass per layer, not one seek per file.

        Yields (entry, content) in layer and archive order, not in the order asked.
        Symlinks among ``paths`` are followed; entries are taken as they are (an
        entry of any layer or view of this image: its bytes are found through its
        ``data_location``). With ``head``, only the first ``head`` bytes of each
        file, for sniffing types without reading whole files (no size limit then).
        """
        entries = [p if isinstance(p, FileEntry) else self._lookup(p, True) for p in paths]
        return self._content.read_many(entries, head=head)

    def open_entry(self, entry: FileEntry) -> BinaryIO:
        """A binary file object over an entry already looked up (no path resolution).

        The analysis engine walks entries once and hands them to analyzers; this
        opens one of them without resolving its path again, which would also
        follow a symlink the entry itself may be.
        """
        return self._content.open(entry)

    def read_entry(self, entry: FileEntry) -> bytes:
        """An entry's whole content (within ``limits.max_read_bytes``), as :meth:`open_entry`."""
        return self._content.read_bytes(entry)

    @property
    def limits(self) -> Limits:
        """The limits this image was opened with: how much one read may take, how many
        symlinks a lookup follows. Readers choose between reading and streaming by them."""
        return self._content.limits

    def read_text(self, path: str, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The file decoded; content not in ``encoding`` raises FileDecodeError naming it."""
        data = self.read_bytes(path)
        try:
            return data.decode(encoding, errors)
        except UnicodeDecodeError as exc:
            raise FileDecodeError(
                f"{path}: not {encoding} text (byte {exc.start}: {exc.reason}); "
                "read_bytes() gives the raw content, or pass errors='replace'",
                exc,
                member=path,
            ) from None


def _no_layer(source: str, layer: object, count: int) -> LayerNotFoundError:
    if count == 0:
        valid = "it has no layers"
    elif count == 1:
        valid = "it has 1 layer: 0 (or -1, counting from the last)"
    else:
        valid = f"it has {count} layers: 0 to {count - 1} (or -{count} to -1, from the last)"
    return LayerNotFoundError(
        f"{source}: no layer {layer}; {valid}",
        available=[str(i) for i in range(count)],
        source=source,
    )


@attrs.define(eq=False)
class Layer:
    """One layer: its blob, digests, history step, and what it adds and deletes."""

    index: int
    #: digest of the blob as stored (compressed, if it is)
    digest: str
    #: digest of the uncompressed tar (the config's rootfs.diff_ids entry)
    diff_id: str
    media_type: str | None
    compression: Compression
    #: bytes of the blob as stored, and of its uncompressed tar
    size: int
    uncompressed_size: int
    #: the history step that made this layer, when the config records it
    history: HistoryEntry | None
    _tar_index: LayerIndex = attrs.field(repr=False)
    _content: _Content = attrs.field(repr=False)

    def files(self) -> Iterator[FileEntry]:
        """What this layer adds or changes, sorted by path (deletions: see ``whiteouts``)."""
        entries = self._tar_index.entries
        for path in sorted(entries):
            yield self._own(entries[path])

    def _own(self, entry: FileEntry) -> FileEntry:
        """The entry as this layer's: a layer reusing another's blob shares its index, whose
        entries name the first layer with that blob (their content is the same bytes)."""
        if entry.layer_index == self.index:
            return entry
        return relabeled(entry, self.index)

    def __len__(self) -> int:
        return len(self._tar_index.entries)

    @property
    def whiteouts(self) -> tuple[str, ...]:
        """Paths this layer deletes from the layers below it."""
        return tuple(self._tar_index.whiteouts)

    @property
    def opaque_dirs(self) -> tuple[str, ...]:
        """Directories whose content from lower layers this layer hides."""
        return tuple(self._tar_index.opaque_dirs)

    def stat(self, path: str) -> FileEntry:
        """The entry this layer's tar holds at ``path`` (no links followed)."""
        entry = self._tar_index.entries.get(normalize_path(path))
        if entry is None:
            raise PathNotFoundError(f"{path}: not in layer {self.index}", member=path)
        return self._own(entry)

    def open(self, path: str) -> BinaryIO:
        """This layer's own copy of a file, even if a later layer replaced or deleted it."""
        return self._content.open(self.stat(path))

    def read_bytes(self, path: str) -> bytes:
        return self._content.read_bytes(self.stat(path))

    def to_dict(self) -> dict[str, Any]:
        """The layer's metadata as JSON-ready data (its :class:`LayerInfo`)."""
        return LayerInfo.from_layer(self).to_dict()


class Layers(tuple[Layer, ...]):
    """An image's layers: a tuple whose out-of-range index names the image and the range."""

    source: str

    def __new__(cls, layers: Iterable[Layer], source: str) -> Layers:
        self = super().__new__(cls, layers)
        self.source = source
        return self

    @overload
    def __getitem__(self, index: SupportsIndex) -> Layer: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Layer, ...]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Layer | tuple[Layer, ...]:
        try:
            return super().__getitem__(index)
        except IndexError:
            raise _no_layer(self.source, index, len(self)) from None


class Image(FileSystemView):
    """An opened container image. Use :func:`open_image` to make one.

    As a :class:`FileSystemView` it is the squashed filesystem after the last
    layer: ``image.files()``, ``image.stat(path)``, ``image.open(path)``.
    """

    def __init__(
        self,
        *,
        source: str,
        parts: ImageParts,
        layers: list[Layer],
        content: _Content,
        owned: Source,
        spool: LayerSpool | None = None,
    ) -> None:
        self.source = source
        #: ``docker-archive``, ``oci-layout``, ``oci-archive`` or ``registry``
        self.format = parts.format
        #: the tag this image was chosen by (or its first tag), if any
        self.reference = parts.reference
        self.tags = parts.tags
        #: digest of the image manifest (None for docker-save archives, which keep none)
        self.manifest_digest = parts.manifest_digest
        self.config_digest = parts.config_digest
        #: the config and manifest JSON as parsed, for anything not modelled here
        self.raw_config = parts.config
        self.raw_manifest = parts.manifest
        where = f"{source} config {parts.config_digest}"
        raw = parts.config
        platform = platform_of(raw, where)
        self.architecture: str = platform.architecture
        self.os: str = platform.os
        self.variant: str | None = platform.variant
        self.created: datetime | None = parse_created(raw.get("created"), where)
        author = raw.get("author")
        if author is not None and not isinstance(author, str):
            raise ImageFormatError(f"{where}: 'author' is {author!r}, not a string")
        self.author: str | None = author or None
        self.config = ContainerConfig.parse(raw.get("config"), where)
        #: the layers, bottom first; an index past the end raises LayerNotFoundError
        self.layers: Layers = Layers(layers, source)
        self.history: tuple[HistoryEntry, ...] = tuple(
            HistoryEntry.parse_all(raw.get("history"), len(layers), where)
        )
        super().__init__(None, content)  # the squashed tree is built on first use
        self._owned = owned
        self._spool = spool
        self._views: dict[int, FileSystemView] = {}
        for step in self.history:
            if step.layer_index is not None:
                layers[step.layer_index].history = step

    def _build_tree(self) -> FileTree:
        return self.squashed().tree

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)

    def squashed(self, layer: int | None = None) -> FileSystemView:
        """The filesystem as seen after layer ``layer`` (default: the last one).

        Negative indexes count from the last layer, as in a list; one past
        either end raises :class:`~anchore.errors.LayerNotFoundError`.
        """
        last = len(self.layers) - 1
        if layer is None:
            upto = last
        else:
            layer = operator.index(layer)  # TypeError for a str or float, as a list does
            upto = layer if layer >= 0 else last + 1 + layer
            if not 0 <= upto <= last:
                raise _no_layer(self.source, layer, len(self.layers))
        if upto not in self._views:
            indexes = [lay._tar_index for lay in self.layers[: upto + 1]]
            tree = squash(indexes, self._content.limits, self.source)
            if upto != last:
                self._views = {k: v for k, v in self._views.items() if k == last}
            self._views[upto] = FileSystemView(tree, self._content)
        return self._views[upto]

    def close(self) -> None:
        """Remove the temporary files the image made (a decompressed outer archive, inflated
        layers); later reads inflate the layers from their blobs again."""
        self._content.unspool()
        self._owned.close()

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_dict(self) -> dict[str, Any]:
        """The image's metadata as JSON-ready data (its :class:`ImageInfo`; no file listings)."""
        return ImageInfo.from_image(self).to_dict()

    def __repr__(self) -> str:
        name = display.short_repr(self.reference or self.config_digest[:19], 60)
        source = display.short_repr(self.source, 80)
        return f"<Image {name} {self.platform} {len(self.layers)} layers from {source}>"

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per layer, bottom first, :data:`LAYER_COLUMNS` in order."""
        rows = []
        for layer in self.layers:
            info = LayerInfo.from_layer(layer)
            row = {"layer": info.index, **info.to_dict()}
            rows.append({column: row.get(column) for column in LAYER_COLUMNS})
        return rows

    def to_dataframe(self) -> Any:
        """:meth:`to_records` as a ``pandas.DataFrame`` (``pip install 'anchore[pandas]'``)."""
        return display.dataframe(self.to_records(), LAYER_COLUMNS)

    def _repr_html_(self) -> str:
        # layer metadata only: the squashed tree is not built for a notebook cell
        config = self.config
        sizes = [layer.uncompressed_size for layer in self.layers]
        summary = display.definitions(
            [
                ("source", self.source),
                ("format", self.format),
                ("reference", self.reference or "-"),
                ("tags", ", ".join(self.tags) or "-"),
                ("digest", self.manifest_digest or self.config_digest),
                ("platform", str(self.platform)),
                ("created", self.created.isoformat() if self.created else "-"),
                ("size", display.human_size(sum(sizes))),
                ("user", config.user or "(root)"),
                ("entrypoint", " ".join(config.entrypoint) or "-"),
                ("cmd", " ".join(config.cmd) or "-"),
            ]
        )
        labels = [
            f"#{layer.index} {layer.history.created_by if layer.history else ''}".strip()
            for layer in self.layers
        ]
        chart = display.bar_chart(labels, sizes, title="uncompressed size per layer")
        rows = [
            (r["layer"], display.human_size(r["uncompressed_size"]), f"{r['files']:,}",
             f"{r['whiteouts']:,}", r["created_by"] or "")
            for r in self.to_records()
        ]  # fmt: skip
        table = display.table(
            ("layer", "size", "files added or changed", "deleted", "created by"),
            rows,
            total=len(rows),
            numeric=("layer", "size", "files added or changed", "deleted"),
        )
        return display.fragment(
            display.section("Image", summary) + display.section("Layers", chart + table)
        )


def squash(indexes: list[LayerIndex], limits: Limits, source: object = None) -> FileTree:
    """Apply layers in order, as the OCI spec's changeset rules say.

    Every member of every layer is a put, a layer named twice counted twice:
    more than ``limits.max_image_entries`` is a LimitExceededError before any
    work. Consecutive layers naming one blob are applied once when applying it
    again would change nothing (see :func:`_apply_run`).
    """
    members = sum(len(ix.entries) + len(ix.whiteouts) + len(ix.opaque_dirs) for ix in indexes)
    if members > limits.max_image_entries:
        raise LimitExceededError(
            f"{source}: {len(indexes)} layers hold {members} members to squash, more than "
            f"max_image_entries={limits.max_image_entries}",
            limit="max_image_entries",
            source=source,
        )
    with gc_paused():
        return _squash(indexes, limits)


def _squash(indexes: list[LayerIndex], limits: Limits) -> FileTree:
    tree = FileTree()
    follows = limits.max_symlink_follows
    first = 0
    while first < len(indexes):
        index = indexes[first]
        last = first
        while last + 1 < len(indexes) and indexes[last + 1] is index:
            last += 1
        _apply_run(tree, index, first, last, follows)
        first = last + 1
    return tree


def _apply_run(tree: FileTree, index: LayerIndex, first: int, last: int, follows: int) -> None:
    """Apply layers ``first``..``last``, which all name the blob of ``index``.

    Applying a changeset that deletes nothing (no whiteouts, opaque markers or
    hard links bound to lower files) again, right after itself, changes nothing
    when the first application left each of its entries standing at its own path:
    each put lands on its own copy. Then the run is one application whose entries
    are credited to its last layer (directories it had to make stay the first's,
    as they would); otherwise every layer of the run is applied, as the spec says.
    """
    bound = _apply(tree, index, first, follows)
    if first == last:
        return
    if (
        not bound
        and not index.whiteouts
        and not index.opaque_dirs
        and tree.holds(index.entries, first)
    ):
        tree.relabel(index.entries, last)
        return
    for i in range(first + 1, last + 1):
        _apply(tree, index, i, follows)


def _apply(tree: FileTree, index: LayerIndex, i: int, follows: int) -> bool:
    """Apply one layer's changeset as layer ``i``; whether a hard link took a lower file's
    content. Entries of a blob shared by several layers name the first of them: each is
    credited to layer ``i`` as it goes in (one int compare for an entry of its own)."""
    for directory in index.opaque_dirs:
        target = _existing(tree, directory, follows)
        if target is not None:
            tree.clear_directory(target)
    for path in index.whiteouts:
        parent, _, name = path.rpartition("/")
        resolved_parent = _existing(tree, parent or "/", follows)
        if resolved_parent is not None:
            tree.remove(resolved_parent.rstrip("/") + "/" + name)
    external = set(index.external_hardlinks)
    hardlink = FileType.HARDLINK
    add = tree.add
    bound = False
    for entry in index.entries.values():
        if entry.layer_index != i:
            entry = relabeled(entry, i)
        if entry.type is not hardlink:
            add(entry, i, follows)
            continue
        path = tree.ensure_parent(entry.path, i, follows) if entry.path != "/" else "/"
        if path != entry.path:
            entry = attrs.evolve(entry, path=path)
        if entry.path in external or entry.data_location[0] < 0:
            entry = _bind_hardlink(tree, entry, follows)
            bound = True
        tree.put(entry)
    return bound


def _existing(tree: FileTree, path: str, follows: int) -> str | None:
    try:
        return tree.resolve(path, follow_last=True, max_follows=follows)
    except PathNotFoundError:
        return None


def _bind_hardlink(tree: FileTree, entry: FileEntry, follows: int) -> FileEntry:
    """A hard link to a lower layer's file takes that file's content."""
    target_path = _existing(tree, entry.link_target or "/", follows)
    target = tree.get(target_path) if target_path else None
    if target is None or not target.is_file:
        return entry
    layer, offset = target.data_location
    return attrs.evolve(entry, size=target.size, data_layer=layer, data_offset=offset)


def _index_one(
    layer: LayerBlob, i: int, limits: Limits, source_label: str, verify: bool, spool: LayerSpool
) -> tuple[LayerIndex, BlobRef | None]:
    """Index and verify one layer; a compressed one is also inflated into the spool."""
    stream = LayerStream(
        layer.blob, limits, digest_algorithm=layer.digest, diff_id_algorithm=layer.diff_id
    )
    writer = None
    if stream.compression is not Compression.NONE:
        writer = spool.writer(layer.blob.name)
        if writer is not None:
            stream.sink = writer.write
    try:
        index = _verified_index(stream, layer, i, limits, source_label, verify)
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    spooled = writer.finish(index.uncompressed_size) if writer is not None else None
    if spooled is not None:
        index.checkpoints = _sparse(index.checkpoints)
    return index, spooled


#: a spooled layer keeps one inflater state in this many (reads after close() only)
_SPOOLED_CHECKPOINT_STRIDE = 64


def _sparse(checkpoints: list[Checkpoint]) -> list[Checkpoint]:
    """The restart points a spooled layer keeps: its reads are positioned reads of the
    spool, so an inflater copy (32 KiB window and more) per interval would only serve
    reads after close(), which inflate from the blob again; they keep one in 64 (and
    every gzip member start, which holds no state)."""
    kept = []
    stateful = 0
    for point in checkpoints:
        if point.state is not None:
            stateful += 1
            if stateful % _SPOOLED_CHECKPOINT_STRIDE:
                continue
        kept.append(point)
    return kept


def _verified_index(
    stream: LayerStream,
    layer: LayerBlob,
    i: int,
    limits: Limits,
    source_label: str,
    verify: bool,
) -> LayerIndex:
    """Index ``stream`` and compare its digest and diff_id with what the image names."""

    def mismatch(problem: str, expected: str, actual: str) -> DigestMismatchError:
        return DigestMismatchError(
            f"{layer.blob.name}: {problem}",
            expected=expected,
            actual=actual,
            source=source_label,
            member=layer.blob.name,
        )

    trusted = None
    if not verify and stream.compression is Compression.NONE:
        # an uncompressed blob's digest is its diff_id: both names must agree
        if layer.digest is not None and layer.digest != layer.diff_id:
            raise mismatch(
                f"an uncompressed layer named {layer.digest} but listed with diff_id "
                f"{layer.diff_id}",
                layer.diff_id,
                layer.digest,
            )
        trusted = layer.diff_id
    index = index_layer(stream, i, limits, trusted_digest=trusted)
    if layer.digest is not None and index.digest != layer.digest:
        raise mismatch(
            f"layer blob hashes to {index.digest}, not {layer.digest}", layer.digest, index.digest
        )
    if index.diff_id != layer.diff_id:
        raise mismatch(
            f"uncompressed layer hashes to {index.diff_id}, not the config's diff_id "
            f"{layer.diff_id}",
            layer.diff_id,
            index.diff_id,
        )
    return index


def _index_layers(
    blobs: tuple[LayerBlob, ...],
    limits: Limits,
    source_label: str,
    verify: bool,
    spool: LayerSpool,
    workers: int | None,
) -> list[tuple[LayerIndex, BlobRef | None]]:
    """Index and verify every layer; a blob named by several layers is read once.

    Layers naming the same bytes (the same member or file range) share one
    index and one spooled copy: a blob listed as a thousand layers costs one
    inflate and one hash, not a thousand. Each layer's digests are still
    compared with the shared index's. On the first failure, layers not yet
    started are not started.
    """
    first: dict[tuple[str, int, int], int] = {}
    for i, layer in enumerate(blobs):
        first.setdefault((layer.blob.path, layer.blob.offset, layer.blob.size), i)
    unique = sorted(first.values())
    jobs = max(1, min(workers or os.cpu_count() or 1, len(unique)))
    results: dict[int, tuple[LayerIndex, BlobRef | None]] = {}
    if jobs == 1:
        for i in unique:
            results[i] = _index_one(blobs[i], i, limits, source_label, verify, spool)
    else:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="anchore-layer") as pool:
            futures = {
                i: pool.submit(_index_one, blobs[i], i, limits, source_label, verify, spool)
                for i in unique
            }
            try:
                results = {i: future.result() for i, future in futures.items()}
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise
    done = []
    for i, layer in enumerate(blobs):
        shared = first[(layer.blob.path, layer.blob.offset, layer.blob.size)]
        if shared != i:
            _check_shared(layer, results[shared][0], source_label)
        done.append(results[shared])
    return done


def _check_shared(layer: LayerBlob, index: LayerIndex, source_label: str) -> None:
    """A layer reusing another's blob must name the digests that blob was verified to have."""
    for what, named, actual in (
        ("the config's diff_id", layer.diff_id, index.diff_id),
        ("its digest", layer.digest, index.digest),
    ):
        if named is not None and named != actual:
            raise DigestMismatchError(
                f"{layer.blob.name}: a layer reusing this blob names {what} {named}, "
                f"but the blob verified as {actual}",
                expected=named,
                actual=actual,
                source=source_label,
                member=layer.blob.name,
            )


def _split_reference(source: str) -> tuple[str, str | None]:
    """Split ``path:tag`` (skopeo's ``oci:path:tag``) when ``path`` exists and ``source`` not."""
    if os.path.exists(source) or ":" not in source:
        return source, None
    path, _, tag = source.rpartition(":")
    while path and not os.path.exists(path) and ":" in path:
        path, _, more = path.rpartition(":")
        tag = f"{more}:{tag}"
    if path and os.path.exists(path):
        return path, tag
    return source, None


def open_image(
    source: str | os.PathLike[str],
    *,
    platform: str | Platform | None = None,
    tag: str | None = None,
    limits: Limits | None = None,
    workers: int | None = None,
    verify: bool = True,
    registry: RegistryOptions | None = None,
) -> Image:
    """Open a docker-save archive, an OCI image layout, an OCI archive, or an image in a
    registry.

    The format is sniffed. ``tag`` chooses among several images in one source
    (``source`` may also be written ``path:tag``); ``platform`` (like
    ``"linux/arm64"``) chooses in a multi-platform index, linux/amd64 by
    default. Every blob's digest and every layer's diff_id are verified, and
    every layer indexed, before this returns. ``verify=False`` trusts the
    source for uncompressed layers: their data is skipped by seeking rather
    than read and hashed (manifests, configs and compressed layers are still
    checked, since reading them costs the same either way).

    When ``source`` is a str naming no file or directory and it reads as an image
    reference (``registry.example.com/team/app:1.2``, ``python:3.12``,
    ``...@sha256:...``; ``docker://...`` always), the image is pulled from its
    registry as ``registry`` says (None: :class:`RegistryOptions` defaults):
    manifests and config first, then the layers in parallel into the blob
    cache, where they are read in place. The platform then defaults to this
    machine's (checked against the config); a reference carries its own tag,
    so ``tag=`` with one is an :class:`InvalidReferenceError`.
    """
    limits = Limits() if limits is None else limits
    # wrong argument types are the caller's mistake: TypeError, never an AnchoreError
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be an anchore.Limits, not {type(limits).__name__}")
    if not isinstance(platform, str | Platform | None):
        raise TypeError(f"platform must be a str or a Platform, not {type(platform).__name__}")
    if not isinstance(tag, str | None):
        raise TypeError(f"tag must be a str, not {type(tag).__name__}")
    if not isinstance(registry, RegistryOptions | None):
        raise TypeError(
            f"registry must be an anchore.registry.RegistryOptions, not {type(registry).__name__}"
        )
    path = os.fspath(source)
    wanted = Platform.parse(platform) if isinstance(platform, str) else platform
    # a reference is text; a Path object always means a file
    if isinstance(source, str) and (
        path.startswith("docker://")
        or (not os.path.exists(_split_reference(path)[0]) and looks_like_reference(path))
    ):
        return _open_registry(path, tag, wanted, limits, workers, verify, registry)
    path, path_tag = _split_reference(path)
    tag = tag or path_tag
    if not os.path.exists(path):
        raise ImageNotFoundError(f"{path}: no such file or directory", source=path)
    try:
        return _open(path, tag, wanted, limits, workers, verify)
    except AnchoreError:
        raise
    except OSError as exc:  # permissions, I/O errors: the input, not a bug
        raise ImageReadError(f"{path}: cannot be read: {exc.strerror or exc}", source=path) from exc


def _open(
    path: str,
    tag: str | None,
    wanted: Platform | None,
    limits: Limits,
    workers: int | None,
    verify: bool,
) -> Image:
    src = open_source(path, limits)
    try:
        fmt = sniff_format(src)
        reader = read_docker_archive if fmt == "docker-archive" else read_oci_layout
        return _read(src, path, reader(src, tag, wanted, limits), limits, workers, verify)
    except BaseException:
        src.close()
        raise


#: times a registry pull is read again after removing blobs found corrupt in the cache
_REREADS = 5


def _open_registry(
    text: str,
    tag: str | None,
    wanted: Platform | None,
    limits: Limits,
    workers: int | None,
    verify: bool,
    options: RegistryOptions | None,
) -> Image:
    """Pull ``text`` from its registry (see :mod:`anchore.image.remote`)."""
    reference = parse_reference(text)
    if tag is not None:
        raise InvalidReferenceError(
            f"{text}: a registry reference carries its own tag; tag={tag!r} chooses among "
            "the images of an archive or layout (write the reference as repository:tag)",
            registry=reference.registry,
            reference=text,
        )
    src: RegistrySource | None = None
    try:
        src = RegistrySource(reference, limits, options=options)
        for attempt in range(_REREADS, -1, -1):
            try:
                target = wanted or host_platform()
                parts = read_oci_layout(src, None, target, limits)
                _check_config_platform(parts, target, src.label)
                image = _read(
                    src, src.label, attrs.evolve(parts, format="registry"), limits, workers, verify
                )
                break
            except ImageError:
                # blobs gone bad in the cache are removed and fetched again: each read
                # meets the bad ones of one stage (manifests, config, layers)
                if not attempt or not src.recheck():
                    raise
        src.finish()
        return image
    except BaseException as exc:
        if src is not None:
            src.close()
        if isinstance(exc, OSError) and not isinstance(exc, AnchoreError):
            raise ImageReadError(
                f"{text}: cannot be pulled into the blob cache: {exc.strerror or exc}",
                source=text,
            ) from exc
        raise


def _check_config_platform(parts: ImageParts, wanted: Platform, label: str) -> None:
    """The config must be for the platform chosen: an index entry's platform is the
    publisher's claim, the config is what the image is."""
    where = f"{label} config {parts.config_digest}"
    have = platform_of(parts.config, where)
    if not have.matches(wanted):
        raise PlatformNotFoundError(
            f"{where}: the image chosen for {wanted} is for {have} by its config",
            available=[str(have)],
            source=label,
        )


def _read(
    src: Source,
    label: str,
    parts: ImageParts,
    limits: Limits,
    workers: int | None,
    verify: bool,
) -> Image:
    """Index and verify the layers ``parts`` names; the image owns ``src`` from here."""
    spool = LayerSpool(limits.max_spool_bytes)
    try:
        done = _index_layers(parts.layers, limits, label, verify, spool, workers)
        indexes = [index for index, _ in done]
        spooled = [blob for _, blob in done]
        content = _Content([b.blob for b in parts.layers], indexes, limits, spooled, spool)
        layers = [
            Layer(
                index=i,
                digest=index.digest,
                diff_id=index.diff_id,
                media_type=blob.media_type,
                compression=index.compression,
                size=index.size,
                uncompressed_size=index.uncompressed_size,
                history=None,
                tar_index=index,
                content=content,
            )
            for i, (blob, index) in enumerate(zip(parts.layers, indexes, strict=True))
        ]
        return Image(
            source=label, parts=parts, layers=layers, content=content, owned=src, spool=spool
        )
    except BaseException:
        spool.close()
        raise
