"""What each layer did: the paths it added, changed and removed, and the packages it
added and removed.

:func:`layer_changes` replays the layers' changesets, oldest first, on a tree of
its own (:class:`~anchore.image.filetree.FileTree`, the structure squashing
uses, with the same order: opaque directories, then whiteouts, then the
layer's entries), noting before each step what was visible: a path a layer
writes is ``added`` or ``changed``, and every visible path a whiteout or
opaque directory hides, or a file replacing a directory takes away, is
``removed`` with the size of the copy it hid. Each entry is put once and
removed at most once, so the cost is linear in the layers' entries (a deleted
directory's listing is sorted, as :meth:`FileTree.walk` does).

:func:`package_changes` turns the history of each package database (every
layer's copy, keyed by the analyzer: :class:`DatabaseHistory`, recorded by
:meth:`AnalysisContext.first_layers
<anchore.analysis.context.AnalysisContext.first_layers>`) into packages added
and removed per layer; a package with no database history (a language
package) is ``added`` by the layer that introduced it.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Hashable, Iterable, Sequence

import attrs

from anchore.analysis.model import FileChange, Package, PackageChange
from anchore.ecosystems import ECOSYSTEMS
from anchore.errors import PathNotFoundError
from anchore.image.filetree import FileEntry, FileTree, FileType, gc_paused
from anchore.image.image import Layer
from anchore.versions.rpm import evr

__all__ = [
    "ADDED",
    "CHANGED",
    "REMOVED",
    "DatabaseHistory",
    "layer_changes",
    "package_changes",
    "stored_bytes",
]

log = logging.getLogger(__name__)

#: FileChange.change and PackageChange.change values
ADDED, CHANGED, REMOVED = "added", "changed", "removed"

_by_path = operator.attrgetter("path")


def stored_bytes(entry: FileEntry) -> int:
    """The content bytes a layer's tar stores for ``entry``: a regular file's size; none
    for a directory, a link (a hard link's data is its target's member) or a device."""
    return entry.size if entry.type is FileType.FILE else 0


def layer_changes(layers: Sequence[Layer], max_follows: int = 40) -> list[FileChange]:
    """Every path each layer added, changed or removed, sorted by (layer, path).

    ``added``: no lower layer's copy was visible when the layer was applied;
    ``changed``: one was (a rewrite, a chmod, a directory listed again);
    ``removed``: a whiteout, an opaque directory or a file replacing a directory hid
    it (one change per visible path beneath a deleted directory). A path a layer
    deletes and writes again is one ``changed``. ``size`` is what the layer stored
    (:func:`stored_bytes`); for ``removed``, what the hidden copy had stored.
    Parents that are symlinks are followed as squashing does (``/bin/x`` under
    ``/bin -> usr/bin`` is ``/usr/bin/x``); the image root is never a change.
    """
    tree = FileTree()
    changes: list[FileChange] = []
    with gc_paused():  # changes and tree entries hold no cycles
        for layer in layers:
            changes.extend(sorted(_apply(tree, layer, max_follows), key=_by_path))
    return changes


def _apply(tree: FileTree, layer: Layer, follows: int) -> Iterable[FileChange]:
    """Apply one layer to ``tree``; the changes it made, by path (unsorted)."""
    index = layer.index
    removed: dict[str, FileChange] = {}

    def hide(entry: FileEntry) -> None:
        """``entry`` and, for a directory, everything visible below it, removed."""
        removed[entry.path] = _change(index, entry, REMOVED)
        if entry.type is FileType.DIRECTORY:
            for below in tree.walk(entry.path):
                removed[below.path] = _change(index, below, REMOVED)

    for directory in layer.opaque_dirs:
        target = _existing(tree, directory, follows)
        if target is None:
            continue
        for below in tree.walk(target):
            removed[below.path] = _change(index, below, REMOVED)
        tree.clear_directory(target)
    for path in layer.whiteouts:
        parent, _, name = path.rpartition("/")
        resolved = _existing(tree, parent or "/", follows)
        if resolved is None:
            continue
        full = resolved.rstrip("/") + "/" + name
        hidden = tree.get(full)
        if hidden is None or full == "/":
            continue
        hide(hidden)
        tree.remove(full)
    written: dict[str, FileChange] = {}
    get, directory, regular = tree.get, FileType.DIRECTORY, FileType.FILE
    for entry in layer.files():
        path = entry.path
        if path == "/":
            continue  # the root stays the root, whatever a layer says of it
        kind = entry.type
        above = get(path.rpartition("/")[0] or "/")
        if above is None or above.type is not directory:
            where = tree.ensure_parent(path, index, follows)
            if where != path:
                path = where
                entry = attrs.evolve(entry, path=where)
        old = get(path)
        if old is not None and old.type is directory and kind is not directory:
            for below in tree.walk(path):  # a file replacing a directory: its subtree goes
                removed[below.path] = _change(index, below, REMOVED)
        tree.add(entry, index, follows)  # its parent is a directory: stored at ``path``
        again = old is not None or removed.pop(path, None) is not None
        written[path] = FileChange(
            index, path, CHANGED if again else ADDED, _TYPE_NAMES[kind],
            entry.size if kind is regular else 0,
        )  # fmt: skip
    for path in written:
        removed.pop(path, None)  # deleted and written again by one layer: changed
    return [*removed.values(), *written.values()]


#: FileChange.type of each entry type (its value, without the enum's lookup each time)
_TYPE_NAMES = {kind: kind.value for kind in FileType}


def _change(index: int, entry: FileEntry, change: str) -> FileChange:
    return FileChange(index, entry.path, change, _TYPE_NAMES[entry.type], stored_bytes(entry))


def _existing(tree: FileTree, path: str, follows: int) -> str | None:
    """Where ``path`` leads in ``tree`` (links followed), or None when nothing is there."""
    try:
        return tree.resolve(path, follow_last=True, max_follows=follows)
    except PathNotFoundError:
        return None


@attrs.frozen
class DatabaseHistory:
    """How one package database changed, layer by layer: what each copy listed.

    Recorded once per database an analyzer attributes (see
    :meth:`~anchore.analysis.context.AnalysisContext.first_layers`).
    """

    #: the analyzer that read it ('' when not known)
    analyzer: str
    #: the database's path
    path: str
    #: (layer, keys its copy lists), oldest first; keys are None when that copy could
    #: not be read (its changes are then seen at the next copy that could), and empty
    #: for a layer that deleted the database
    copies: tuple[tuple[int, frozenset[Hashable] | None], ...]


def _rpm_version(key: tuple[str, ...]) -> tuple[str, str]:
    """An rpm key (name, epoch, version, release) as the rpm analyzer names its version."""
    name, epoch, version, release = key
    return name, evr(epoch, version, release)


def _name_version(analyzer: str, key: Hashable) -> tuple[str, str] | None:
    """A database key as (name, version): keys are tuples whose first items are the
    name and version (dpkg's and apk's), except rpm's (name, epoch, version, release)."""
    if not isinstance(key, tuple) or len(key) < 2:
        return None
    if not all(isinstance(part, str) for part in key):
        return None
    if analyzer == "rpm" and len(key) == 4:
        return _rpm_version(key)
    return key[0], key[1]


def _analyzer_types() -> dict[str, str]:
    """The package type each built-in analyzer reports (the first row naming it first)."""
    types: dict[str, str] = {}
    for row in ECOSYSTEMS:
        if row.analyzers:
            types.setdefault(row.analyzers[0], row.package_type)
    return types


def package_changes(
    packages: Sequence[Package], histories: Iterable[DatabaseHistory]
) -> list[PackageChange]:
    """The packages each layer added and removed, sorted.

    From each database's history: what a copy lists and the copy before it did not
    is ``added`` by that copy's layer, and the other way round ``removed`` (an
    upgrade is both). Every package of ``packages`` not accounted for that way (a
    language package, a package of a database whose history could not be read) is
    ``added`` by its own layer (:attr:`Package.layer_index`). Removals of packages
    without a database (a pip dist-info deleted) are not seen.
    """
    types = _analyzer_types()
    changes: set[PackageChange] = set()
    present: set[tuple[str, str, str]] = set()  # (type, name, version) the databases end with
    covered: set[tuple[str, str]] = set()  # (analyzer, path) of the databases read
    for history in histories:
        ptype = types.get(history.analyzer) or _type_from(packages, history)
        if ptype is None:
            log.warning(
                "%s: no package type known for analyzer %r: its layer history is left out",
                history.path,
                history.analyzer,
            )
            continue
        covered.add((history.analyzer, history.path))
        before: set[tuple[str, str]] = set()
        for layer, keys in history.copies:
            if keys is None:
                continue
            now = {nv for k in keys if (nv := _name_version(history.analyzer, k)) is not None}
            for name, version in now - before:
                changes.add(PackageChange(layer, ptype, name, version, ADDED))
            for name, version in before - now:
                changes.add(PackageChange(layer, ptype, name, version, REMOVED))
            before = now
        present.update((ptype, name, version) for name, version in before)
    for pkg in packages:
        origin = (pkg.found_by, pkg.locations[0].path if pkg.locations else "")
        if origin in covered and pkg.key in present:
            continue
        changes.add(PackageChange(pkg.layer_index, pkg.type, pkg.name, pkg.version, ADDED))
    return sorted(changes)


def _type_from(packages: Sequence[Package], history: DatabaseHistory) -> str | None:
    """The type of the packages an analyzer found in this database (a plugin's)."""
    for pkg in packages:
        if (
            pkg.found_by == history.analyzer
            and pkg.locations
            and (pkg.locations[0].path == history.path)
        ):
            return pkg.type
    return None
