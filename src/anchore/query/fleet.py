"""Queries over many images: base images and what was built on them, packages they share,
which carry a package or an advisory, and how they spread over distros and sizes.

Each image is named in rows by :func:`~anchore.query.diff.image_label` (its
reference, tag or path, and the start of its manifest digest).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from anchore import ecosystems
from anchore.analysis.model import Analysis, Package
from anchore.query.diff import DiffRow, diff, image_label, package_key
from anchore.query.errors import QueryParamError, UnanswerableQueryError
from anchore.query.evidence import require_packages
from anchore.query.filters import NameMatcher, VersionRange, name_matcher
from anchore.serialize import FrozenMap, frozen_map
from anchore.versions import VersionError
from anchore.vulns.match import UNCHECKED, match, package_coordinates
from anchore.vulns.osv import Advisory
from anchore.vulns.store import Store

__all__ = [
    "AdvisoryRow",
    "BaseDiffRow",
    "BaseRow",
    "CommonPackageRow",
    "DistroRow",
    "SizeRow",
    "WhoHasRow",
    "advisory",
    "base",
    "base_diff",
    "common_packages",
    "distros",
    "find_bases",
    "parse_sizes",
    "sizes",
    "who_has",
    "who_has_row",
]


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


# ---------------------------------------------------------------- base images
@attrs.frozen
class BaseRow:
    """An image and the image among those given that it was built on."""

    #: the image
    image: str
    #: the given image whose layers are the longest proper prefix of its layers (None:
    #: no image given is its base)
    base: str | None
    #: how many layers, bottom first, the two share (0 without a base)
    shared_layers: int
    #: the image's layer count
    layers: int


def _layers(analysis: Analysis) -> tuple[str, ...]:
    layers = analysis.image.layers
    if layers is None:
        raise UnanswerableQueryError(
            f"{image_label(analysis)} ({analysis.origin}): its layers are not known "
            "(an SBOM records none), so no base image can be found for or in it"
        )
    return tuple(layer.diff_id for layer in layers)


def find_bases(analyses: Sequence[Analysis]) -> list[Analysis | None]:
    """For each analysis, the given analysis whose layer diff_ids are the longest proper
    prefix of its own (the first given, when several have the same layers), or None."""
    ids = [_layers(a) for a in analyses]
    found: list[Analysis | None] = []
    for mine in ids:
        best: int | None = None
        for j, theirs in enumerate(ids):
            prefix = theirs and len(theirs) < len(mine) and mine[: len(theirs)] == theirs
            if prefix and (best is None or len(theirs) > len(ids[best])):
                best = j
        found.append(None if best is None else analyses[best])
    return found


def base(analyses: Sequence[Analysis]) -> list[BaseRow]:
    """Each image's base among the images given: the one whose layers (by diff_id) are
    the longest proper prefix of its layers. An analysis whose layers are not known
    raises :class:`UnanswerableQueryError` naming it."""
    rows = []
    for a, b in zip(analyses, find_bases(analyses), strict=True):
        shared = len(_layers(b)) if b is not None else 0
        label = image_label(b) if b is not None else None
        rows.append(BaseRow(image_label(a), label, shared, len(_layers(a))))
    return rows


@attrs.frozen
class BaseDiffRow:
    """One difference between an image and its base (what was built on top of it); the
    columns after ``base`` are :class:`~anchore.query.diff.DiffRow`'s."""

    #: the image
    image: str
    #: its base among the images given
    base: str
    #: as in ``diff(base, image)``: ``package``, ``file``, ``setuid`` or ``config``
    kind: str
    #: ``added`` (only in the image), ``removed`` (only in the base) or ``changed``
    change: str
    #: the package name, the file's path, or the config item
    name: str
    #: the package type, the file's type, the bit; None for config
    type: str | None = None
    #: the version or value in the base (None: absent there)
    before: str | None = None
    #: the version or value in the image (None: absent there)
    after: str | None = None
    #: a changed package's version move: ``upgrade``, ``downgrade``, ``same`` or ``unknown``
    direction: str | None = None
    #: what changed, in words
    detail: str = ""
    #: the layer of the image (of the base, for a removal) holding the evidence
    layer_index: int | None = None

    @classmethod
    def of(cls, image: str, base: str, row: DiffRow) -> BaseDiffRow:
        return cls(image, base, **attrs.asdict(row, recurse=False))


def base_diff(
    analyses: Sequence[Analysis], kind: Iterable[str] | str | None = None
) -> list[BaseDiffRow]:
    """For each image with a base among those given, :func:`~anchore.query.diff.diff`
    of the base against it: what its own layers added, removed and changed."""
    rows: list[BaseDiffRow] = []
    for a, b in zip(analyses, find_bases(analyses), strict=True):
        if b is None:
            continue
        image, under = image_label(a), image_label(b)
        rows.extend(BaseDiffRow.of(image, under, row) for row in diff(b, a, kind))
    return rows


# ---------------------------------------------------------------- packages across images
def _versions_map(value: Mapping[str, Iterable[str]]) -> FrozenMap[str, tuple[str, ...]]:
    return frozen_map({k: tuple(v) for k, v in value.items()})


@attrs.frozen
class CommonPackageRow:
    """A package (type and name) present in every image given."""

    #: the package type (``deb``, ``python``...)
    type: str
    #: its name
    name: str
    #: image label -> the versions that image carries
    versions: Mapping[str, tuple[str, ...]] = attrs.field(converter=_versions_map)
    #: whether every image carries the same versions
    same: bool = True


def common_packages(analyses: Sequence[Analysis]) -> list[CommonPackageRow]:
    """Packages (by :func:`~anchore.query.diff.package_key`: type, and name as the
    ecosystem compares names, shown as the last image spells it) that every image
    carries, with each image's versions. Every image needs its package evidence (every
    ecosystem's analyzer ran and none failed): else :class:`UnanswerableQueryError`."""
    per_image = []
    spelled: dict[tuple[str, str], str] = {}
    for a in analyses:
        require_packages(a, None, "common-packages")
        found: dict[tuple[str, str], set[str]] = {}
        for p in a.packages:
            key = package_key(p)
            found.setdefault(key, set()).add(p.version)
            spelled[key] = p.name
        per_image.append((image_label(a), found))
    keys = set.intersection(*(set(found) for _, found in per_image)) if per_image else set()
    rows = []
    for key in sorted(keys):
        versions = {label: tuple(sorted(found[key])) for label, found in per_image}
        same = len({v for v in versions.values()}) == 1
        rows.append(CommonPackageRow(key[0], spelled[key], versions, same))
    return rows


@attrs.frozen
class WhoHasRow:
    """One copy of a package an image carries."""

    #: the image carrying it
    image: str
    #: the package's type
    type: str
    #: its name
    name: str
    #: its version
    version: str
    #: True: in the version range (or none was given); None: its version cannot be
    #: compared in its ecosystem's ordering (listed, neither in nor out)
    in_range: bool | None
    #: the layer that introduced it (None: not known)
    layer_index: int | None
    #: the path of its evidence (None: not known)
    path: str | None
    #: why ``in_range`` is unknown
    reason: str = ""


def who_has(
    analyses: Sequence[Analysis],
    name: NameMatcher | str,
    type: str | None = None,
    version: VersionRange | str | None = None,
) -> list[WhoHasRow]:
    """Which images carry a package named ``name`` (a glob, or ``re:REGEX``), optionally of
    one ``type`` and in a ``version`` range (``>=7.0,<8``, in the ecosystem's ordering);
    in which layer of each and at which path. A copy whose version cannot be compared
    is listed with ``in_range`` None, not dropped. An image lacking the package evidence
    (the type's analyzer, or without a type every ecosystem's, failed or did not run)
    raises :class:`UnanswerableQueryError`; an unknown type :class:`QueryParamError`."""
    matcher = name_matcher(name) if isinstance(name, str) else name
    wanted = VersionRange.parse(version) if isinstance(version, str) else version
    for a in analyses:
        require_packages(a, type, "who-has")
    rows = []
    for a in analyses:
        label = image_label(a)
        for p in a.packages:
            if (type is not None and p.type != type) or not matcher(p.name, p.type):
                continue
            where = p.locations[0] if p.locations else None
            row = who_has_row(
                label,
                p.type,
                p.name,
                p.version,
                wanted,
                where.layer_index if where else None,
                where.path if where else None,
            )
            if row is not None:
                rows.append(row)
    return rows


def who_has_row(
    image: str,
    type: str,
    name: str,
    version: str,
    wanted: VersionRange | None,
    layer_index: int | None,
    path: str | None,
) -> WhoHasRow | None:
    """The row of one copy of a package whose name matched, or None when its version is
    outside ``wanted``; a version the ecosystem cannot compare is listed with
    ``in_range`` None and why. The one rule of who-has, over analyses or a catalog."""
    inside: bool | None = True
    reason = ""
    if wanted is not None:
        try:
            inside = wanted.contains(version, type)
        except VersionError as exc:
            inside, reason = None, str(exc)
        if inside is False:
            return None
    return WhoHasRow(image, type, name, version, inside, layer_index, path, reason)


# ---------------------------------------------------------------- advisories
@attrs.frozen
class AdvisoryRow:
    """Whether one image carries a package an advisory affects."""

    #: the image
    image: str
    #: ``affected`` (a package's version is in the advisory's ranges), ``unchecked``
    #: (a package the advisory names that could not be matched: see ``reason``),
    #: ``not-affected`` (the package is there, its version is outside the ranges) or
    #: ``absent`` (the image carries no package the advisory names)
    status: str
    #: the advisory's id as stored (the id asked for may be one of its aliases)
    advisory: str
    #: the package's type (None for an ``absent`` row)
    type: str | None = None
    #: its name
    name: str | None = None
    #: its version
    version: str | None = None
    #: the first version the advisory says is fixed, for an affected package
    fixed_in: str | None = None
    #: the layer that introduced the package
    layer_index: int | None = None
    #: the path of its evidence
    path: str | None = None
    #: why it is unchecked
    reason: str = ""


def _advisories(store: Store, wanted: str) -> list[Advisory]:
    """The stored advisory ``wanted``; else the stored advisories that name it as an alias
    (:meth:`Store.by_alias`), whether or not any image is affected."""
    direct = store.get(wanted)
    if direct is not None:
        return [direct]
    return store.by_alias(wanted)


def _families(package_type: str) -> set[str]:
    """The advisory ecosystems (without a release) a package type's advisories use."""
    row = ecosystems.find(package_type)
    if row is None:
        return set()
    found = {d.osv_ecosystem.lower() for d in row.distros}
    if row.osv_ecosystem:
        found.add(row.osv_ecosystem.lower())
    return found


def _types_of(advisory_ecosystems: Iterable[str]) -> list[str]:
    """The package types whose advisories use these ecosystems (``pypi``, ``debian:12``)."""
    families = {e.partition(":")[0] for e in advisory_ecosystems}
    return [r.package_type for r in ecosystems.ECOSYSTEMS if _families(r.package_type) & families]


def _named(pkg: Package, analysis: Analysis, names: set[tuple[str, str]]) -> bool:
    """Whether ``pkg`` is one the advisory names: its (ecosystem, name) as matching computes
    them. A package with no coordinates (no distro release known...) counts when its
    ecosystem family and its name (or source name) are named: it is then reported
    unchecked, since we cannot say it is not the one."""
    coords = package_coordinates(pkg, analysis.distro)
    if coords is not None:
        return (coords[0].lower(), coords[1]) in names
    families = _families(pkg.type)
    spelled = {pkg.name, pkg.source_name or pkg.name}
    return any(e.partition(":")[0] in families and n in spelled for e, n in names)


def advisory(analyses: Sequence[Analysis], id: str, store: Store) -> list[AdvisoryRow]:
    """Which images carry a package affected by the advisory ``id`` (its OSV, GHSA or CVE id,
    or an alias of a stored advisory): one row per package it names in each image, and
    one ``absent`` row for an image carrying none of them.

    A package it names that matching could not check (no feed covers its ecosystem,
    its version does not parse, no distro release) is ``unchecked`` with the reason,
    never ``not-affected``. An image whose analyzer for a package type the advisory
    names failed or did not run raises :class:`UnanswerableQueryError` (it is not
    ``absent``). An id the store does not hold raises
    :class:`UnanswerableQueryError`: the store cannot say whom it affects.
    """
    store.require_data()
    found = _advisories(store, id)
    if not found:
        raise UnanswerableQueryError(
            f"the vulnerability store {store.path} holds no advisory {id!r}, nor one with that "
            "alias: whom it affects cannot be answered; load the feed that publishes it "
            "(anchore db load)"
        )
    ids = {a.id for a in found}
    #: a match may be reported under another record of the same vulnerability (matching
    #: reports one of a set of aliased records): any of these names is this advisory
    known = ids | {id} | {alias for a in found for alias in a.aliases}
    names = {(x.ecosystem.lower(), x.name) for a in found for x in a.affected}
    types = _types_of({e for e, _ in names})
    shown = ",".join(sorted(ids))
    rows: list[AdvisoryRow] = []
    for analysis in analyses:
        for t in types:
            require_packages(analysis, t, "advisory")
        label = image_label(analysis)
        named = [p for p in analysis.packages if _named(p, analysis, names)]
        result = match(analysis, store, packages=named, include_declared=True)
        hits = {
            (m.package_type, m.package_name, m.purl): m
            for m in result.matches
            if {m.advisory_id, *m.aliases} & known
        }
        for check in result.packages:
            p = check.package
            where = p.locations[0] if p.locations else None
            hit = hits.get((p.type, p.name, p.purl))
            if hit is not None:
                status, fixed, reason = "affected", hit.fixed_in, ""
            elif check.status == UNCHECKED:
                status, fixed, reason = "unchecked", None, check.reason
            else:
                status, fixed, reason = "not-affected", None, ""
            rows.append(
                AdvisoryRow(
                    label,
                    status,
                    shown,
                    p.type,
                    p.name,
                    p.version,
                    fixed,
                    where.layer_index if where else None,
                    where.path if where else None,
                    reason,
                )
            )
        if not named:
            rows.append(AdvisoryRow(label, "absent", shown))
    return rows


# ---------------------------------------------------------------- distros and sizes
@attrs.frozen
class DistroRow:
    """A distro release and the images built on it."""

    #: ``debian 12``; None for images whose distro was not identified
    distro: str | None
    #: how many images
    count: int
    #: the images' labels
    images: tuple[str, ...] = attrs.field(converter=_tuple)


def distros(analyses: Sequence[Analysis]) -> list[DistroRow]:
    """Images binned by distro id and version (images with none identified: ``None``)."""
    bins: dict[str | None, list[str]] = {}
    for a in analyses:
        d = a.distro
        key = None if d is None else f"{d.id} {d.version_id}" if d.version_id else d.id
        bins.setdefault(key, []).append(image_label(a))
    order = sorted(bins, key=lambda k: (k is None, -len(bins[k]), k or ""))
    return [DistroRow(k, len(bins[k]), bins[k]) for k in order]


_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6,
          "G": 10**9, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_sizes(text: str) -> tuple[int, ...]:
    """``50MB,200MB,1GB`` -> the bins' boundaries in bytes, increasing; a
    :class:`QueryParamError` (a ValueError) else."""
    bounds = []
    for part in text.split(","):
        m = _SIZE.match(part)
        unit = m.group(2).upper() if m else ""
        if m is None or unit not in _UNITS:
            raise QueryParamError(
                f"size {part.strip()!r} of {text!r} is not a number with an optional unit "
                "(B, KB, MB, GB, KiB, MiB, GiB)"
            )
        bounds.append(int(float(m.group(1)) * _UNITS[unit]))
    if any(x >= y for x, y in itertools.pairwise(bounds)):
        raise QueryParamError(f"size bins {text!r} must increase")
    return tuple(bounds)


#: the bins when none are given: under 10 MB, 10-100 MB, 100 MB-1 GB, 1 GB and over
DEFAULT_BINS = (10**7, 10**8, 10**9)


@attrs.frozen
class SizeRow:
    """One size bin: images whose layers' uncompressed bytes are in ``[low, high)``."""

    #: ``10 MB-100 MB``, ``under 10 MB``, ``1 GB and over``
    range: str
    #: the lower bound in bytes (included)
    low: int
    #: the upper bound in bytes (excluded; None: no upper bound)
    high: int | None
    #: how many images
    count: int
    #: the images' labels
    images: tuple[str, ...] = attrs.field(converter=_tuple)


def _human(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def image_size(analysis: Analysis) -> int:
    """The image's size: its layers' uncompressed tar bytes; an
    :class:`UnanswerableQueryError` naming it when they are not known."""
    size = analysis.image.size
    if size is None:
        raise UnanswerableQueryError(
            f"{image_label(analysis)} ({analysis.origin}): the sizes of its layers are not "
            "known, so its size cannot be binned"
        )
    return size


def sizes(analyses: Sequence[Analysis], bins: Sequence[int] | None = None) -> list[SizeRow]:
    """Images binned by size (their layers' uncompressed bytes) at the ``bins`` boundaries
    (bytes, increasing; default 10 MB, 100 MB, 1 GB); every bin is listed, empty ones too."""
    bounds = tuple(bins) if bins is not None else DEFAULT_BINS
    if any(x >= y for x, y in itertools.pairwise(bounds)):
        raise QueryParamError(f"size bins {bounds} must increase")
    edges = [0, *bounds]
    measured = [(image_label(a), image_size(a)) for a in analyses]
    rows = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        inside = [lab for lab, s in measured if s >= low and (high is None or s < high)]
        if high is None:
            text = f"{_human(low)} and over"
        elif low == 0:
            text = f"under {_human(high)}"
        else:
            text = f"{_human(low)}-{_human(high)}"
        rows.append(SizeRow(text, low, high, len(inside), inside))
    return rows
