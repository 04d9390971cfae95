"""File entries and the trees that hold them: per layer, and squashed.

A :class:`FileTree` maps absolute paths to :class:`FileEntry` values and keeps
each directory's children, so that whiteouts, opaque directories and a file
replacing a directory remove whole subtrees without scanning every path. Paths
are resolved inside the tree only: symlinks are followed against the image
root, ``..`` stops at ``/``, and the host filesystem is never consulted.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import operator
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import ClassVar, cast

import attrs

from anchore.errors import PathNotFoundError, SymlinkLoopError, UnsafeImageError
from anchore.serialize import as_json, to_dict

__all__ = ["FileEntry", "FileTree", "FileType", "gc_paused", "normalize_path", "relabeled"]


class FileType(str, enum.Enum):
    """What kind of file an entry is."""

    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    #: a hard link to another file; its content is the target's
    HARDLINK = "hardlink"
    CHAR_DEVICE = "char-device"
    BLOCK_DEVICE = "block-device"
    FIFO = "fifo"


_MODE_TYPE_BITS = {
    FileType.FILE: stat.S_IFREG,
    FileType.HARDLINK: stat.S_IFREG,
    FileType.DIRECTORY: stat.S_IFDIR,
    FileType.SYMLINK: stat.S_IFLNK,
    FileType.CHAR_DEVICE: stat.S_IFCHR,
    FileType.BLOCK_DEVICE: stat.S_IFBLK,
    FileType.FIFO: stat.S_IFIFO,
}


def octal_mode(mode: int) -> str:
    """Permission bits as JSON writes them: ``"0644"``, ``"4755"``."""
    return f"{mode:04o}"


def _hex(xattrs: Mapping[str, bytes] | None) -> dict[str, str]:
    return {k: v.hex() for k, v in xattrs.items()} if xattrs else {}


_NOT_JSON = as_json(omit=True)


@attrs.frozen(repr=False, weakref_slot=False)
class FileEntry:
    """One file as a layer's tar records it (or as the squashed view shows it)."""

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "path", "type", "mode", "permissions", "uid", "gid", "user", "group", "size",
        "mtime", "link_target", "layer_index", "xattrs",
    )  # fmt: skip

    #: absolute, normalised path inside the image, like ``/etc/os-release``
    path: str
    type: FileType
    #: permission bits, setuid/setgid/sticky included (``mode & 0o7777``)
    mode: int = attrs.field(metadata=as_json(convert=octal_mode))
    uid: int
    gid: int
    #: user and group names as the tar records them ('' when it does not)
    user: str
    group: str
    #: content length in bytes (0 for directories, links, devices)
    size: int
    #: modification time, seconds since the epoch
    mtime: float
    #: the target of a symlink (as written) or a hard link (absolute path), else None
    link_target: str | None
    #: index of the layer that last wrote this path
    layer_index: int
    devmajor: int = attrs.field(default=0, metadata=_NOT_JSON)
    devminor: int = attrs.field(default=0, metadata=_NOT_JSON)
    #: extended attributes (``security.capability`` and the like), or None
    xattrs: dict[str, bytes] | None = attrs.field(default=None, metadata=as_json(convert=_hex))
    #: where the content is: layer index and offset in its uncompressed tar (-1: none)
    _data_layer: int = attrs.field(default=-1, metadata=_NOT_JSON)
    _data_offset: int = attrs.field(default=-1, metadata=_NOT_JSON)
    #: stored as a GNU sparse member (content reads are refused)
    sparse: bool = attrs.field(default=False, metadata=_NOT_JSON)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_file(self) -> bool:
        """A regular file (hard links to one included)."""
        return self.type is FileType.FILE or self.type is FileType.HARDLINK

    @property
    def is_dir(self) -> bool:
        return self.type is FileType.DIRECTORY

    @property
    def is_symlink(self) -> bool:
        return self.type is FileType.SYMLINK

    @property
    def is_setuid(self) -> bool:
        return bool(self.mode & stat.S_ISUID)

    @property
    def is_setgid(self) -> bool:
        return bool(self.mode & stat.S_ISGID)

    @property
    def is_sticky(self) -> bool:
        return bool(self.mode & stat.S_ISVTX)

    @property
    def st_mode(self) -> int:
        """The mode as ``os.stat`` gives it: type bits and permission bits."""
        return _MODE_TYPE_BITS[self.type] | self.mode

    @property
    def permissions(self) -> str:
        """``ls -l`` style, e.g. ``-rwsr-xr-x``."""
        return stat.filemode(self.st_mode)

    @property
    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.mtime, tz=timezone.utc)

    @property
    def data_location(self) -> tuple[int, int]:
        """(layer index, offset in that layer's uncompressed tar) of the content."""
        return self._data_layer, self._data_offset

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (stable keys; xattr values hex-encoded)."""
        return to_dict(self)

    def __repr__(self) -> str:
        link = f" -> {self.link_target}" if self.link_target is not None else ""
        owner = f"{self.uid}:{self.gid}"
        return (
            f"<FileEntry {self.permissions} {owner} {self.size:>8} {self.path}{link}"
            f" [layer {self.layer_index}]>"
        )


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of entries are made.

    Entries hold no cycles, but each one counts towards the collector's
    thresholds, and its full passes over every live entry cost a tenth of the
    time of indexing a big layer. Nested and concurrent users (one thread per
    layer) share one pause; the collector runs again, if it ran before, when
    the last of them is done.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


class _Unfrozen:
    """FileEntry's slots without its frozen ``__setattr__``: the layer index makes
    millions of entries, and attrs' frozen ``__init__`` sets each field through
    ``object.__setattr__`` at four times the cost of a plain store."""

    __slots__ = tuple(field.name for field in attrs.fields(FileEntry))

    def __init__(
        self,
        path: str,
        type: FileType,
        mode: int,
        uid: int,
        gid: int,
        user: str,
        group: str,
        size: int,
        mtime: float,
        link_target: str | None,
        layer_index: int,
        devmajor: int,
        devminor: int,
        xattrs: dict[str, bytes] | None,
        data_layer: int,
        data_offset: int,
        sparse: bool,
    ) -> None:
        self.path = path
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.user = user
        self.group = group
        self.size = size
        self.mtime = mtime
        self.link_target = link_target
        self.layer_index = layer_index
        self.devmajor = devmajor
        self.devminor = devminor
        self.xattrs = xattrs
        self._data_layer = data_layer
        self._data_offset = data_offset
        self.sparse = sparse
        # the same slots: the entry becomes a (frozen) FileEntry
        self.__class__ = FileEntry  # type: ignore[assignment]


def _fast_entries() -> bool:
    """Whether ``_Unfrozen`` makes entries equal to FileEntry's own (same layout)."""
    args = ("/x", FileType.FILE, 0o644, 0, 0, "", "", 0, 0.0, None, 0, 0, 0, None, 0, 0, False)
    try:
        made: object = _Unfrozen(*args)
    except TypeError:  # a layout attrs no longer shares with a plain slotted class
        return False
    return type(made) is FileEntry and made == FileEntry(*args)


#: ``new_entry(path, type, mode, uid, gid, user, group, size, mtime, link_target,
#: layer_index, devmajor, devminor, xattrs, data_layer, data_offset, sparse)``: a
#: FileEntry, made the fast way when the layouts allow it
new_entry: Callable[..., FileEntry] = cast(
    "Callable[..., FileEntry]", _Unfrozen if _fast_entries() else FileEntry
)


#: every field of an entry but the layer that wrote it
_content = operator.attrgetter(
    *(field.name for field in attrs.fields(FileEntry) if field.name != "layer_index")
)


def relabeled(entry: FileEntry, layer_index: int) -> FileEntry:
    """``entry`` as written by layer ``layer_index`` (its content stays where it is):
    layers naming one blob share its entries, which name the first such layer."""
    e = entry
    return new_entry(
        e.path, e.type, e.mode, e.uid, e.gid, e.user, e.group, e.size, e.mtime, e.link_target,
        layer_index, e.devmajor, e.devminor, e.xattrs, e._data_layer, e._data_offset, e.sparse,
    )  # fmt: skip


def normalize_path(name: str) -> str:
    """Make a member name absolute and canonical: ``./a//b/`` -> ``/a/b``.

    ``..`` is resolved lexically; one that would climb above the root raises
    :class:`UnsafeImageError` (the caller adds which file it came from).
    """
    if (
        name
        and name[0] not in "./"
        and "//" not in name
        and "/." not in name
        and not name.endswith("/")
    ):
        return "/" + name  # the common case, without splitting
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UnsafeImageError(f"path {name!r} climbs above the image root")
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def _parent(path: str) -> str:
    head = path.rpartition("/")[0]
    return head or "/"


def _join(directory: str, name: str) -> str:
    return directory + name if directory == "/" else f"{directory}/{name}"


class FileTree:
    """Paths to entries, with children per directory, resolved inside the tree only."""

    def __init__(self, root: FileEntry | None = None) -> None:
        root = root or _implicit_dir("/", -1)
        self._entries: dict[str, FileEntry] = {"/": root}
        #: each directory's children as full paths: the same str objects as the keys of
        #: ``_entries``, so that a child costs a set slot and no string of its own
        self._children: dict[str, set[str]] = {"/": set()}

    def holds(self, entries: Mapping[str, FileEntry], layer_index: int) -> bool:
        """Whether each of ``entries`` is stored at its path as written by layer
        ``layer_index``: the same entry in all but its layer index."""
        stored = self._entries
        for path, entry in entries.items():
            held = stored.get(path)
            if held is None or held.layer_index != layer_index or _content(held) != _content(entry):
                return False
        return True

    def relabel(self, paths: Iterable[str], layer_index: int) -> None:
        """Credit the entries stored at ``paths`` to layer ``layer_index`` (see :meth:`holds`)."""
        entries = self._entries
        for path in paths:
            entries[path] = relabeled(entries[path], layer_index)

    # ---- reading ----
    def __len__(self) -> int:
        """Number of entries, the root excluded."""
        return len(self._entries) - 1

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def lstat(self, path: str) -> FileEntry:
        """The entry at ``path`` itself; intermediate symlinks are followed, the last is not."""
        return self._entries[self.resolve(path, follow_last=False)]

    def stat(self, path: str) -> FileEntry:
        """The entry at ``path`` after following every symlink (like ``os.stat``)."""
        return self._entries[self.resolve(path, follow_last=True)]

    def get(self, path: str) -> FileEntry | None:
        """The entry stored at exactly this normalised path, without resolving links."""
        return self._entries.get(path)

    def files(self) -> Iterator[FileEntry]:
        """Every entry but the root, sorted by path (code points: ``LC_ALL=C sort`` for UTF-8)."""
        entries = self._entries
        for path in sorted(entries):
            if path != "/":
                yield entries[path]

    def listdir(self, path: str) -> list[str]:
        """The names in a directory, sorted (symlinks on the way are followed)."""
        resolved = self.resolve(path, follow_last=True)
        if resolved not in self._children:
            raise PathNotFoundError(f"{path}: not a directory", member=path)
        return sorted(child.rpartition("/")[2] for child in self._children[resolved])

    def walk(self, top: str = "/") -> Iterator[FileEntry]:
        """Entries below ``top`` (not followed through symlinks), depth first, sorted."""
        start = self.resolve(top, follow_last=True)
        stack = [start]
        while stack:
            directory = stack.pop()
            stack.extend(sorted(self._children.get(directory, ()), reverse=True))
            if directory != start:
                yield self._entries[directory]

    def resolve(self, path: str, *, follow_last: bool = True, max_follows: int = 40) -> str:
        """The path where ``path`` leads inside this tree, following symlinks.

        Absolute link targets restart at the image root, ``..`` never climbs
        above it, and the host is never consulted. Raises
        :class:`PathNotFoundError` when a component is missing and
        :class:`SymlinkLoopError` after ``max_follows`` links.
        """
        if not path.startswith("/"):
            path = "/" + path
        entry = self._entries.get(path)
        if entry is not None and (entry.type is not FileType.SYMLINK or not follow_last):
            return path  # stored paths are canonical and their parents real directories
        pending = [p for p in reversed(path.split("/")) if p]
        current = "/"
        follows = 0
        while pending:
            part = pending.pop()
            if part == ".":
                continue
            if part == "..":
                current = _parent(current)
                continue
            candidate = _join(current, part)
            entry = self._entries.get(candidate)
            if entry is None:
                raise PathNotFoundError(f"{path}: no such file or directory", member=path)
            is_last = not pending
            if entry.type is FileType.SYMLINK and (follow_last or not is_last):
                follows += 1
                if follows > max_follows:
                    raise SymlinkLoopError(
                        f"{path}: more than {max_follows} symlinks to follow (a loop?)", member=path
                    )
                target = entry.link_target or ""
                if target.startswith("/"):
                    current = "/"
                pending.extend(p for p in reversed(target.split("/")) if p)
                continue
            # a file used as a directory is fine only if what follows is '.' or '..'
            if not is_last and entry.type is not FileType.DIRECTORY:  # noqa: SIM102
                if any(p not in (".", "..") for p in pending):
                    raise PathNotFoundError(f"{path}: {candidate} is not a directory", member=path)
            current = candidate
        return current

    # ---- building ----
    def copy(self) -> FileTree:
        tree = FileTree.__new__(FileTree)
        tree._entries = dict(self._entries)
        tree._children = {k: set(v) for k, v in self._children.items()}
        return tree

    def remove(self, path: str) -> None:
        """Remove ``path`` and, for a directory, everything below it."""
        entries, children = self._entries, self._children
        if path == "/" or path not in entries:
            return
        children[_parent(path)].discard(path)
        stack = [path]
        while stack:
            p = stack.pop()
            del entries[p]
            kids = children.pop(p, None)
            if kids:
                stack.extend(kids)

    def clear_directory(self, path: str) -> None:
        """Remove everything below ``path`` but keep the directory (an opaque whiteout)."""
        for child in list(self._children.get(path, ())):
            self.remove(child)

    def put(self, entry: FileEntry) -> None:
        """Insert ``entry`` at its path, whose parent must already be a directory here."""
        path = entry.path
        entries = self._entries
        if path == "/" and entry.type is not FileType.DIRECTORY:
            raise UnsafeImageError(
                f"/: a {entry.type.value} cannot replace the image root", member=path
            )
        if _parent(path) not in self._children:
            raise PathNotFoundError(
                f"{path}: its parent is not a directory in this tree (ensure_parent() makes it)",
                member=path,
            )
        old = entries.get(path)
        if old is not None and old.type is FileType.DIRECTORY:
            if entry.type is not FileType.DIRECTORY:
                self.remove(path)  # a file replaces a directory: the subtree goes
                self._children[_parent(path)].add(path)
        elif old is None:
            self._children[_parent(path)].add(path)
        entries[path] = entry
        if entry.type is FileType.DIRECTORY:
            self._children.setdefault(path, set())
        elif old is not None and old.type is FileType.DIRECTORY:
            self._children.pop(path, None)

    def add(self, entry: FileEntry, layer_index: int, max_follows: int) -> FileEntry:
        """Put ``entry`` where a runtime unpacking its layer would (see :meth:`ensure_parent`).

        Returns the entry as stored (its path moved when a parent is a symlink).
        The common cases, a new path under an existing directory or a path replaced
        by one of the same kind (directory or not), take one pass.
        """
        path = entry.path
        entries = self._entries
        old = entries.get(path)
        if old is None:
            kids = self._children.get(path.rpartition("/")[0] or "/")
            if kids is not None:  # only directories have children sets: the parent is one
                kids.add(path)
                entries[path] = entry
                if entry.type is FileType.DIRECTORY:
                    self._children[path] = set()
                return entry
        elif (old.type is FileType.DIRECTORY) is (entry.type is FileType.DIRECTORY):
            entries[path] = entry  # stored, so its parent is a directory; no subtree changes
            return entry
        where = self.ensure_parent(path, layer_index, max_follows) if path != "/" else "/"
        if where != path:
            entry = attrs.evolve(entry, path=where)
        self.put(entry)
        return entry

    def ensure_parent(self, path: str, layer_index: int, max_follows: int) -> str:
        """Make ``path``'s parent an existing directory; return the path to write to.

        Like container runtimes unpacking a layer, symlinks among the parents
        are followed inside the tree (``/bin -> usr/bin`` puts ``bin/sh`` at
        ``/usr/bin/sh``), and missing parents are created as plain directories.
        """
        parent = _parent(path)
        entry = self._entries.get(parent)
        if entry is not None and entry.type is FileType.DIRECTORY:
            return path  # stored directories have real directories above them
        # slow path: walk the components, following symlinks, creating what is missing
        current = "/"
        pending = [p for p in reversed(parent.split("/")) if p]
        follows = 0
        while pending:
            part = pending.pop()
            if part == "..":
                current = _parent(current)
                continue
            if part == ".":
                continue
            candidate = _join(current, part)
            existing = self._entries.get(candidate)
            if existing is not None and existing.type is FileType.SYMLINK:
                follows += 1
                if follows > max_follows:
                    raise SymlinkLoopError(
                        f"{path}: more than {max_follows} symlinks among its parents (a loop?)",
                        member=path,
                    )
                target = existing.link_target or ""
                if target.startswith("/"):
                    current = "/"
                pending.extend(p for p in reversed(target.split("/")) if p)
                continue
            if existing is None or existing.type is not FileType.DIRECTORY:
                self.put(_implicit_dir(candidate, layer_index))
            current = candidate
        return _join(current, path.rpartition("/")[2])


def _implicit_dir(path: str, layer_index: int) -> FileEntry:
    """A directory the tar never listed but a member needs (``mkdir -p``)."""
    return FileEntry(path, FileType.DIRECTORY, 0o755, 0, 0, "", "", 0, 0, None, layer_index)
