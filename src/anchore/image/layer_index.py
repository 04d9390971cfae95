"""Index one layer in one pass: its entries, whiteouts and opaque directories.

The pass reads the blob front to back once (see :class:`LayerStream`), keeps
every member's metadata and the offset of its data, and none of the data. Hard
links to files of the same layer are bound to their target's data here, so a
later layer deleting the target cannot break them.
"""

from __future__ import annotations

import sys

import attrs

from anchore.errors import LimitExceededError, UnsafeImageError
from anchore.image.compression import Checkpoint, Compression, LayerStream
from anchore.image.filetree import FileEntry, FileType, gc_paused, new_entry, normalize_path
from anchore.image.tarstream import ChunkSource, FileSource, iter_headers
from anchore.limits import Limits

__all__ = ["LayerIndex", "index_layer"]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

_TYPES = {
    "0": FileType.FILE,
    "\0": FileType.FILE,
    "7": FileType.FILE,
    "S": FileType.FILE,
    "1": FileType.HARDLINK,
    "2": FileType.SYMLINK,
    "3": FileType.CHAR_DEVICE,
    "4": FileType.BLOCK_DEVICE,
    "5": FileType.DIRECTORY,
    "6": FileType.FIFO,
    "D": FileType.DIRECTORY,  # GNU dumpdir: a directory with a listing as data
}


@attrs.define
class LayerIndex:
    """What one pass over a layer learnt."""

    #: entries by normalised path, in archive order (a later duplicate replaces an earlier)
    entries: dict[str, FileEntry]
    #: paths deleted from lower layers (``.wh.name`` markers), in archive order
    whiteouts: list[str]
    #: directories whose lower-layer content is hidden (``.wh..wh..opq`` markers)
    opaque_dirs: list[str]
    #: hard links whose target is not in this layer: bound when the layers are squashed
    external_hardlinks: list[str]
    compression: Compression
    digest: str
    diff_id: str
    size: int
    uncompressed_size: int
    checkpoints: list[Checkpoint]
    _deleted: tuple[frozenset[str], frozenset[str]] | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def deletes(self, path: str) -> bool:
        """Whether this layer deletes ``path`` (a normalised path) from the layers below.

        True when a whiteout names ``path`` or one of its ancestors, or an opaque
        marker hides an ancestor directory. O(depth of ``path``): the sets are
        built once, so a layer of many whiteouts over many files stays linear.
        """
        if self._deleted is None:
            self._deleted = (frozenset(self.whiteouts), frozenset(self.opaque_dirs))
        gone, opaque = self._deleted
        if not gone and not opaque:
            return False
        if path in gone:
            return True
        head = path
        while head != "/":
            head = head.rpartition("/")[0] or "/"
            if head in opaque or head in gone:
                return True
        return False


def index_layer(
    stream: LayerStream,
    layer_index: int,
    limits: Limits,
    *,
    trusted_digest: str | None = None,
) -> LayerIndex:
    """Read ``stream`` once and index its tar members.

    With ``trusted_digest`` (the known digest of an uncompressed layer that the
    caller chose not to verify), member data is skipped by seeking instead of
    being read and hashed, and the layer's digests are reported as that one.
    """
    entries: dict[str, FileEntry] = {}
    whiteouts: list[str] = []
    opaque: list[str] = []
    external: list[str] = []
    uncompressed = stream.compression is Compression.NONE
    skip_data = trusted_digest is not None and uncompressed
    blob = stream.blob
    if not skip_data:
        # the blob's digest on a thread that reads it for itself; an uncompressed layer's
        # headers are then found by seeking, its member data left to that thread
        stream.hash_apart()
    try:
        with gc_paused():  # entries hold no cycles: no collector passes over them
            if uncompressed:
                if blob.size > limits.max_layer_bytes:
                    raise LimitExceededError(
                        f"{blob.name}: layer decompresses to more than "
                        f"max_layer_bytes={limits.max_layer_bytes}",
                        limit="max_layer_bytes",
                        member=blob.name,
                    )
                with FileSource(blob.path, blob.offset, blob.size) as files:
                    _index_members(
                        files, stream, layer_index, limits, entries, whiteouts, opaque, external
                    )
                stream.size = stream.uncompressed_size = blob.size
            else:
                chunks = ChunkSource(iter(stream))
                _index_members(
                    chunks, stream, layer_index, limits, entries, whiteouts, opaque, external
                )
                chunks.drain()
    except BaseException:
        stream.cancel()
        raise
    digest = trusted_digest if skip_data and trusted_digest else stream.digest
    diff_id = trusted_digest if skip_data and trusted_digest else stream.diff_id
    return LayerIndex(
        entries=entries,
        whiteouts=whiteouts,
        opaque_dirs=opaque,
        external_hardlinks=external,
        compression=stream.compression,
        digest=digest,
        diff_id=diff_id,
        size=stream.size,
        uncompressed_size=stream.uncompressed_size,
        checkpoints=stream.checkpoints,
    )


def _index_members(
    source: ChunkSource | FileSource,
    stream: LayerStream,
    layer_index: int,
    limits: Limits,
    entries: dict[str, FileEntry],
    whiteouts: list[str],
    opaque: list[str],
    external: list[str],
) -> None:
    where = stream.blob.name
    max_path = limits.max_path_bytes
    max_entries = limits.max_layer_entries
    max_whiteouts = limits.max_whiteouts_per_layer
    intern = sys.intern
    count = 0
    for h in iter_headers(source, where, limits):
        count += 1
        if count > max_entries:
            raise LimitExceededError(
                f"{where}: layer has more than max_layer_entries={max_entries} members",
                limit="max_layer_entries",
                member=where,
            )
        name = h.name
        if len(name) > max_path or len(h.linkname) > max_path:
            raise LimitExceededError(
                f"{where}: member name or link target longer than max_path_bytes={max_path}: "
                f"{name[:80]!r}...",
                limit="max_path_bytes",
                member=name[:200],
            )
        try:
            path = normalize_path(name)
        except UnsafeImageError as exc:
            raise UnsafeImageError(f"{where}: member {name!r}: {exc}", member=name) from None
        base = path.rpartition("/")[2]
        if base.startswith(WHITEOUT_PREFIX) and base != WHITEOUT_PREFIX:
            if len(whiteouts) + len(opaque) >= max_whiteouts:
                raise LimitExceededError(
                    f"{where}: layer has more than max_whiteouts_per_layer={max_whiteouts} "
                    f"whiteouts (at {name[:200]!r})",
                    limit="max_whiteouts_per_layer",
                    member=where,
                )
            parent = path.rpartition("/")[0] or "/"
            if base == OPAQUE_MARKER:
                opaque.append(parent)
            else:
                target = base[len(WHITEOUT_PREFIX) :]
                if target in (".", ".."):
                    raise UnsafeImageError(
                        f"{where}: whiteout {name!r} names {target!r}", member=name
                    )
                whiteouts.append(parent + "/" + target if parent != "/" else "/" + target)
            continue
        ftype = _TYPES.get(h.typeflag, FileType.FILE)  # POSIX: unknown types read as files
        if path == "/" and ftype is not FileType.DIRECTORY:
            # ./, /, . or an empty pax path: the root stays a directory, whatever a layer says
            raise UnsafeImageError(
                f"{where}: member {name!r} would replace the image root with a {ftype.value}",
                member=name or "/",
            )
        link_target: str | None = None
        data_layer, data_offset, size = layer_index, h.data_offset, h.size
        if ftype is FileType.SYMLINK:
            link_target = h.linkname
            data_layer, data_offset, size = -1, -1, 0
        elif ftype is FileType.HARDLINK:
            try:
                link_target = normalize_path(h.linkname)
            except UnsafeImageError as exc:
                raise UnsafeImageError(f"{where}: hard link {name!r}: {exc}", member=name) from None
            linked = entries.get(link_target)
            if linked is not None and linked.is_file:
                data_layer, data_offset = linked.data_location
                size = linked.size
            else:
                data_layer, data_offset, size = -1, -1, 0
                external.append(path)
        elif ftype is not FileType.FILE:
            data_layer, data_offset, size = -1, -1, 0
        entries.pop(path, None)  # keep archive order: the later copy goes to the end
        entries[path] = new_entry(
            path,
            ftype,
            h.mode,
            h.uid,
            h.gid,
            intern(h.uname),
            intern(h.gname),
            size,
            h.mtime,
            link_target,
            layer_index,
            h.devmajor,
            h.devminor,
            h.xattrs,
            data_layer,
            data_offset,
            h.sparse,
        )
