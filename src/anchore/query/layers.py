"""The layer queries: what each layer added, changed and removed (files and packages),
and the bytes layers store that the image never shows (layer efficiency, like dive).

All read :attr:`Analysis.layer_changes <anchore.analysis.model.Analysis.layer_changes>`
(and ``package_changes`` for packages): an analysis without them (an SBOM read
back) makes each an :class:`UnanswerableQueryError`, never an empty answer.

**Wasted bytes.** A layer stores the content of every regular file it writes
(:attr:`FileChange.size <anchore.analysis.model.FileChange.size>`: a file's
size; nothing for directories, links and devices). A stored copy is *wasted*
when the final filesystem does not show it: a later layer wrote the same path
again (a rewrite, or only a ``chmod``: the whole copy is stored again) or
deleted it (a whiteout, an opaque directory, a file replacing its directory).
``total_bytes`` is every layer's stored bytes, ``wasted_bytes`` the wasted
copies', and the efficiency ``1 - wasted_bytes / total_bytes`` (1.0 for an
image that stores nothing): the share of the stored bytes the image shows.
The bytes counted are file contents, not tar headers or compressed sizes.

**Against dive** (as its ``filetree/efficiency.go`` and image analysis read):
dive visits the leaves of each layer's tree and, for every path met in two
layers or more, counts the sizes of *all* its copies as wasted, the one still
shown included (a 1 MiB file rewritten once is 2 MiB wasted there, 1 MiB here;
a file deleted by a whiteout counts its one copy, as here). A whiteout of a
directory is one path of its own there, met once, so the files beneath a
deleted directory are not counted as wasted at all (``rm -rf
/usr/share/doc/*`` in debian-py's last layer: here each hidden file is
wasted). Its score is ``sum(smallest copy per path) / sum(all copies per
path)`` over every path (a deleted file's smallest copy is its whiteout's 0
bytes; a file rewritten larger needs only its smaller copy), where ours is the
share of stored bytes the image shows. Ours answers "how many stored bytes
does nobody see".

**Hard links.** A hard link's tar member stores no bytes: its content is the
target's member (in its own layer, or a lower layer's file when the link is
bound on squashing). A stored copy is wasted only when no name shows it any
more: deleting or rewriting the target's *name* while a hard link that the
final filesystem shows still points at that copy wastes nothing (``/opt/b``
still shows it). The links come from the final file inventory (a hard link's
``link_target``, as written): a link to a path that showed no copy when its
layer was applied keeps nothing. The changes are replayed layer by layer,
whatever order ``layer_changes`` lists them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

import attrs

from anchore.analysis.layers import REMOVED
from anchore.analysis.model import Analysis, FileChange, PackageChange
from anchore.plugins import hookimpl
from anchore.query.errors import QueryParamError, UnanswerableQueryError
from anchore.query.evidence import describe, require_files, require_packages
from anchore.query.filters import checked
from anchore.query.model import Param, Query

__all__ = [
    "EfficiencyRow",
    "LayerChangeRow",
    "LayerRow",
    "WastedFileRow",
    "efficiency",
    "layer",
    "layers",
    "wasted_files",
]


# ---------------------------------------------------------------- evidence
_by_layer = attrgetter("layer_index")


def _changes(analysis: Analysis, query: str) -> list[FileChange]:
    """The analysis's file changes, by layer (a stable sort: the list is public, and an
    imported or hand-made analysis may order it otherwise); unanswerable when it has
    none recorded."""
    if analysis.layer_changes is None:
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis of {describe(analysis)} "
            f"({analysis.origin}) records no layer changes (an SBOM carries none): "
            "what each layer did is unknown"
        )
    return sorted(analysis.layer_changes, key=_by_layer)


def _package_changes(analysis: Analysis, query: str) -> list[PackageChange]:
    """The packages each layer added and removed. They are made from what the package
    analyzers found: every ecosystem's analyzer must have run and none failed, else a
    layer "adding no packages" would be a guess."""
    if analysis.package_changes is None:
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis of {describe(analysis)} "
            f"({analysis.origin}) records no package changes: what each layer did to the "
            "packages is unknown"
        )
    require_packages(analysis, None, query)
    return analysis.package_changes


def _hard_links(analysis: Analysis, query: str) -> dict[int, list[str]]:
    """layer -> targets of the hard links it wrote that the final filesystem shows."""
    require_files(analysis, query)
    links: dict[int, list[str]] = {}
    for record in analysis.files:
        if record.type == "hardlink" and record.link_target:
            links.setdefault(record.layer_index, []).append(record.link_target)
    return links


def _layer_count(analysis: Analysis, changes: list[FileChange], query: str) -> int:
    """How many layers the image has: its metadata's, which must cover every change."""
    infos = analysis.image.layers
    if infos is None:
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis of {describe(analysis)} "
            "does not know the image's layers"
        )
    least = min((c.layer_index for c in changes), default=0)
    if least < 0:
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis records changes of layer {least}: the analysis "
            "is inconsistent"
        )
    most = max((c.layer_index for c in changes), default=-1)
    if most >= len(infos):
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis records changes of layer {most} but the image "
            f"has {len(infos)} layers: the analysis is inconsistent"
        )
    return len(infos)


@attrs.frozen
class _Waste:
    """What one pass over the changes finds: each path's wasted copies."""

    #: bytes every layer stored
    total: int
    #: path -> (wasted bytes, copies stored, layers that wrote or removed it, shown at the end)
    paths: dict[str, tuple[int, int, tuple[int, ...], bool]]
    #: layer -> bytes of its copies later layers hid
    by_layer: dict[int, int]


def _waste(changes: Sequence[FileChange], links: dict[int, list[str]]) -> _Waste:
    """Replay the changes, sorted by layer: a copy is wasted when a later change of its
    path (a rewrite or a removal) hides it, unless a hard link the image shows (``links``:
    layer -> targets) points at it."""
    total = 0
    shown: dict[str, tuple[int, int]] = {}  # path -> (layer, bytes) of its visible copy
    kept: set[tuple[str, int]] = set()  # (path, layer) of copies a shown hard link keeps
    wasted: dict[str, int] = {}
    by_layer: dict[int, int] = {}
    count = len(changes)
    i = 0
    while i < count:
        index = changes[i].layer_index
        while i < count and changes[i].layer_index == index:
            c = changes[i]
            i += 1
            before = shown.pop(c.path, None)
            if before is not None and before[1] and (c.path, before[0]) not in kept:
                wasted[c.path] = wasted.get(c.path, 0) + before[1]
                by_layer[before[0]] = by_layer.get(before[0], 0) + before[1]
            if c.change != REMOVED:
                total += c.size
                shown[c.path] = (c.layer_index, c.size)
        for target in links.get(index, ()):  # the copy each link of this layer names
            copy = shown.get(target)
            if copy is not None:
                kept.add((target, copy[0]))
    copies: dict[str, int] = dict.fromkeys(wasted, 0)
    touched: dict[str, list[int]] = {path: [] for path in wasted}
    for c in changes:  # the wasted paths' layers and copies
        layers_of = touched.get(c.path)
        if layers_of is not None:
            layers_of.append(c.layer_index)
            if c.change != REMOVED and c.size:
                copies[c.path] += 1
    paths = {
        path: (amount, copies[path], tuple(touched[path]), path in shown)
        for path, amount in wasted.items()
    }
    return _Waste(total, paths, by_layer)


# ---------------------------------------------------------------- layers
@attrs.frozen
class LayerRow:
    """One layer: where it came from and what it did."""

    #: its index, 0 the bottom layer
    index: int
    #: digest of the blob as stored
    digest: str
    #: bytes of the blob as stored (compressed, if it is); None when not recorded
    size: int | None
    #: the history step that made it (``RUN apt-get install ...``), None when not recorded
    created_by: str | None
    #: paths it added (no lower layer showed them), changed (rewrote) and removed
    files_added: int
    files_changed: int
    files_removed: int
    #: bytes of file content it stores
    bytes: int
    #: packages it added and removed (None: the analysis does not know: it records no
    #: package changes, or a package analyzer failed or did not run); removals are seen
    #: in package databases only (dpkg, rpm, apk): a deleted language package is not
    #: counted
    packages_added: int | None
    packages_removed: int | None
    #: bytes it stores that later layers overwrote or deleted
    wasted_bytes: int


def layers(analysis: Analysis) -> list[LayerRow]:
    """Every layer with its history command, the files it added, changed and removed, the
    packages it added and removed, and the bytes it stores that later layers hide."""
    changes = _changes(analysis, "layers")
    count = _layer_count(analysis, changes, "layers")
    counts = [{"added": 0, "changed": 0, "removed": 0} for _ in range(count)]
    stored = [0] * count
    for c in changes:
        counts[c.layer_index][c.change] += 1
        if c.change != REMOVED:
            stored[c.layer_index] += c.size
    pkgs: list[dict[str, int]] | None = None
    try:
        package_changes = _package_changes(analysis, "layers")
    except UnanswerableQueryError:  # the files are known, the packages not: None
        package_changes = None
    if package_changes is not None:
        pkgs = [{"added": 0, "removed": 0} for _ in range(count)]
        for p in package_changes:
            if 0 <= p.layer_index < count:
                pkgs[p.layer_index][p.change] += 1
    waste = _waste(changes, _hard_links(analysis, "layers")).by_layer
    infos = analysis.image.layers or ()
    return [
        LayerRow(
            index=i,
            digest=info.digest,
            size=info.size,
            created_by=info.created_by,
            files_added=counts[i]["added"],
            files_changed=counts[i]["changed"],
            files_removed=counts[i]["removed"],
            bytes=stored[i],
            packages_added=pkgs[i]["added"] if pkgs is not None else None,
            packages_removed=pkgs[i]["removed"] if pkgs is not None else None,
            wasted_bytes=waste.get(i, 0),
        )
        for i, info in enumerate(infos)
    ]


# ---------------------------------------------------------------- one layer
@attrs.frozen
class LayerChangeRow:
    """One thing a layer did: to a file (``kind`` file) or to a package (``kind`` package)."""

    #: ``file`` or ``package``
    kind: str
    #: ``added``, ``changed`` (files only) or ``removed``
    change: str
    #: a file's type (``file``, ``directory``, ``symlink``...) or a package's (``deb``...)
    type: str
    #: a file's path, or a package's name
    name: str
    #: a package's version (None for a file)
    version: str | None
    #: bytes the layer stored for a file, or those of the copy it removed (None for a package)
    size: int | None


_KINDS = ("files", "packages")


def _kind(text: str) -> str:
    if text not in _KINDS:
        raise ValueError(f"{text!r} is not one of: {', '.join(_KINDS)}")
    return text


def layer(analysis: Analysis, *, index: int, kind: str | None = None) -> list[LayerChangeRow]:
    """What the layer of this index did: the files it added, changed and removed, then
    the packages it added and removed (``kind`` files or packages: only those).

    A negative index counts from the last layer. Unanswerable when the analysis does
    not record the changes asked for, or, for packages, when a package analyzer failed
    or did not run (``kind`` files still answers).
    """
    checked("layer", "kind", kind, _kind)
    checked("layer", "index", index, _index)
    changes = _changes(analysis, "layer")
    count = _layer_count(analysis, changes, "layer")
    which = index if index >= 0 else count + index
    if not 0 <= which < count:
        raise QueryParamError(
            f"query 'layer': no layer {index}; the image has {count} layers: 0 to {count - 1}"
            + (f" (or -{count} to -1, from the last)" if count else "")
        )
    rows: list[LayerChangeRow] = []
    if kind in (None, "files"):
        rows += [
            LayerChangeRow("file", c.change, c.type, c.path, None, c.size)
            for c in changes
            if c.layer_index == which
        ]
    if kind in (None, "packages"):
        rows += [
            LayerChangeRow("package", p.change, p.type, p.name, p.version, None)
            for p in _package_changes(analysis, "layer")
            if p.layer_index == which
        ]
    return rows


# ---------------------------------------------------------------- efficiency
@attrs.frozen
class EfficiencyRow:
    """How much of what the layers store the image shows (see the module's definition)."""

    #: number of layers
    layers: int
    #: bytes of file content all layers store
    total_bytes: int
    #: bytes of the copies the final filesystem shows (``total_bytes - wasted_bytes``)
    final_bytes: int
    #: bytes of copies a later layer overwrote or deleted
    wasted_bytes: int
    #: paths with at least one wasted copy
    wasted_files: int
    #: ``1 - wasted_bytes / total_bytes`` (1.0 when nothing is stored)
    efficiency: float


def efficiency(analysis: Analysis) -> list[EfficiencyRow]:
    """The image's layer efficiency, like dive's: bytes stored, bytes wasted by files
    later overwritten or deleted, and the share of the stored bytes the image shows."""
    changes = _changes(analysis, "efficiency")
    count = _layer_count(analysis, changes, "efficiency")
    waste = _waste(changes, _hard_links(analysis, "efficiency"))
    wasted = sum(amount for amount, *_ in waste.paths.values())
    score = 1.0 - wasted / waste.total if waste.total else 1.0
    return [
        EfficiencyRow(
            layers=count,
            total_bytes=waste.total,
            final_bytes=waste.total - wasted,
            wasted_bytes=wasted,
            wasted_files=sum(1 for amount, *_ in waste.paths.values() if amount),
            efficiency=score,
        )
    ]


@attrs.frozen
class WastedFileRow:
    """A path whose stored copies the image does not all show."""

    path: str
    #: how many layers stored a copy of it (with content)
    copies: int
    #: bytes of its copies a later layer overwrote or deleted
    wasted_bytes: int
    #: the layers that wrote or removed it, oldest first
    layers: tuple[int, ...]
    #: whether the final filesystem shows it (False: a layer deleted it)
    in_image: bool


def _top(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{value} is negative; give how many rows (0: all)")
    return value


def wasted_files(analysis: Analysis, *, top: int = 20) -> list[WastedFileRow]:
    """The biggest offenders: paths whose stored copies later layers overwrote or
    deleted, the most wasted bytes first (``top`` of them; 0 for all)."""
    checked("wasted-files", "top", top, _top)
    changes = _changes(analysis, "wasted-files")
    _layer_count(analysis, changes, "wasted-files")
    waste = _waste(changes, _hard_links(analysis, "wasted-files"))
    rows = [
        WastedFileRow(path, copies, amount, touched, shown)
        for path, (amount, copies, touched, shown) in waste.paths.items()
        if amount
    ]
    rows.sort(key=lambda r: (-r.wasted_bytes, r.path))
    return rows[:top] if top else rows


# ---------------------------------------------------------------- registration
def _index(text: str) -> int:
    return int(text)


QUERIES: tuple[Query, ...] = (
    Query.from_function("layers", layers, LayerRow),
    Query.from_function(
        "layer", layer, LayerChangeRow,
        Param("index", "the layer's index (0 the bottom; -1 the last)", parse=_index,
              required=True),
        Param("kind", "only files, or only packages", parse=_kind),
    ),
    Query.from_function("efficiency", efficiency, EfficiencyRow),
    Query.from_function(
        "wasted-files", wasted_files, WastedFileRow,
        Param("top", "how many paths, the most wasted first (0: all)", parse=_top, default=20),
    ),
)  # fmt: skip


@hookimpl
def anchore_queries() -> Sequence[Query]:
    """The layer queries, registered as a built-in plugin."""
    return QUERIES
