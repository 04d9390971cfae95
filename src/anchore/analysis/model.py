"""What an analysis finds: packages, findings, the distro, the files.

Plain attrs values with stable ``to_dict()`` output (documented in
``docs/analysis.md``; written by :func:`anchore.serialize.to_dict`). Every
package and finding carries :class:`Location` values: the path of its evidence
and the layer that introduced it. The values are immutable and hashable:
metadata, finding data, digests and dataset values are frozen deeply (dicts as
:class:`~anchore.serialize.FrozenMap`, lists as
:class:`~anchore.serialize.FrozenList`), so packages, findings, locations,
distros and datasets can go in sets. A FrozenMap is not a dict: for plain JSON
data use ``to_dict()``, :func:`anchore.serialize.plain`, or
``json.dumps(value, default=plain)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, TextIO

import attrs

from anchore import display
from anchore.analysis import html
from anchore.errors import AnchoreError
from anchore.image.filetree import octal_mode
from anchore.image.model import ImageInfo, image_info
from anchore.serialize import FrozenMap, as_json, freeze, frozen_map, to_dict, write_json

__all__ = [
    "RECORD_COLUMNS",
    "Analysis",
    "AnalyzerError",
    "Dataset",
    "Distro",
    "FileChange",
    "FileRecord",
    "Finding",
    "ImageInfo",
    "Location",
    "Package",
    "PackageChange",
    "Relationship",
]


@attrs.frozen(order=True)
class Location:
    """Where evidence is: a path, and the layer that introduced what it says."""

    path: str
    layer_index: int
    layer_digest: str

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if value is not None else ()


@attrs.frozen
class Package:
    """A package, as one or more pieces of evidence in the image describe it."""

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "type", "name", "version", "purl", "licenses", "cpes", "source_name",
        "source_version", "architecture", "locations", "files", "metadata", "found_by",
        "declared",
    )  # fmt: skip

    #: its ecosystem: a package type of :mod:`anchore.ecosystems` (``deb``, ``python``...,
    #: one row each), or a plugin's own (``binary``)
    type: str
    name: str
    version: str
    purl: str
    locations: tuple[Location, ...] = attrs.field(converter=_tuple, factory=tuple)
    licenses: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    cpes: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: the source package it was built from (dpkg Source, rpm sourcerpm, apk origin)
    source_name: str | None = None
    source_version: str | None = None
    architecture: str | None = None
    #: files the package's own database says it installed
    files: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: ecosystem-specific details (maintainer, groupId, module sums...)
    metadata: Mapping[str, Any] = attrs.field(factory=FrozenMap, converter=frozen_map)
    #: which analyzer found it
    found_by: str = ""
    #: True when only a lock or requirements file names it (an application tree
    #: whose installed form is absent): declared, not installed. Vulnerability
    #: matching skips declared packages unless asked to include them.
    declared: bool = False

    @property
    def layer_index(self) -> int:
        """The layer that introduced the package (its first location's)."""
        return self.locations[0].layer_index if self.locations else -1

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.name, self.version)

    def __repr__(self) -> str:
        # the generated repr writes every file and the metadata (11,500 characters for
        # a deb): one line, names cut, says what it is and where
        return (
            f"Package({self.type}, {display.short_repr(self.name, 60)}, "
            f"{display.short_repr(self.version, 40)}, "
            f"layer={self.locations[0].layer_index if self.locations else '?'}, "
            f"{len(self.files)} files)"
        )

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class Finding:
    """Something worth knowing that is not a package: a secret, a setuid file..."""

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "kind", "rule", "message", "severity", "line", "locations", "data", "found_by",
    )  # fmt: skip

    #: setuid, setgid, world-writable, secret, content-match, package-db-orphan...
    kind: str
    #: the rule that fired (``aws-access-key``...) or the analyzer's own name
    rule: str
    message: str
    locations: tuple[Location, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: the line, for content matches (1-based), else None
    line: int | None = None
    severity: str = "info"
    data: Mapping[str, Any] = attrs.field(factory=FrozenMap, converter=frozen_map)
    found_by: str = ""

    def __repr__(self) -> str:
        # the generated repr wrote all of ``data`` (38,500 characters for one finding
        # of debian-py listing removed files)
        where = self.locations[0] if self.locations else None
        at = f"{display.short_repr(where.path, 60)}, layer={where.layer_index}" if where else "-"
        return (
            f"Finding({self.kind}, {display.short_repr(self.rule, 40)}, {self.severity}, {at}, "
            f"{display.short_repr(self.message, 80)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


#: NVD's vendor:product for distro ids: a fixed table, not a guess
DISTRO_CPE_PRODUCTS = {
    "debian": "debian:debian_linux",
    "ubuntu": "canonical:ubuntu_linux",
    "alpine": "alpinelinux:alpine_linux",
    "rhel": "redhat:enterprise_linux",
    "centos": "centos:centos",
    "fedora": "fedoraproject:fedora",
    "rocky": "rocky:rocky",
    "almalinux": "almalinux:almalinux",
    "amzn": "amazon:amazon_linux",
    "ol": "oracle:linux",
    "sles": "suse:linux_enterprise_server",
    "opensuse-leap": "opensuse:leap",
    "photon": "vmware:photon_os",
    "wolfi": "chainguard:wolfi",
}


@attrs.frozen
class Distro:
    """The operating system the image is built on."""

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "id", "version_id", "version_codename", "pretty_name", "id_like", "cpe_name", "cpe",
        "locations",
    )  # fmt: skip

    id: str
    version_id: str | None = None
    version_codename: str | None = None
    pretty_name: str | None = None
    id_like: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    cpe_name: str | None = None
    locations: tuple[Location, ...] = attrs.field(converter=_tuple, factory=tuple)

    @property
    def cpe(self) -> str | None:
        """The distro's CPE: its own ``CPE_NAME``, or NVD's name for a known distro id."""
        if self.cpe_name:
            return self.cpe_name
        product = DISTRO_CPE_PRODUCTS.get(self.id)
        if product is None or not self.version_id:
            return None
        return f"cpe:2.3:o:{product}:{self.version_id}:*:*:*:*:*:*:*"

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class FileRecord:
    """One file of the squashed filesystem, for the inventory."""

    path: str
    type: str
    #: permission bits; JSON writes them in octal (``"0644"``)
    mode: int = attrs.field(metadata=as_json(convert=octal_mode))
    uid: int
    gid: int
    size: int
    layer_index: int
    link_target: str | None = None
    #: purls of the packages whose databases list this file
    owners: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    digests: Mapping[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen(order=True)
class FileChange:
    """What one layer did to one path: ``added`` it, ``changed`` it (a layer below had
    it), or ``removed`` it (a whiteout or opaque directory hid it; a deleted directory
    is one change per path beneath it)."""

    layer_index: int
    path: str
    #: ``added``, ``changed`` or ``removed``
    change: str
    #: the entry's type as FileRecord has it (``file``, ``directory``, ``symlink``, ``hardlink``...)
    type: str
    #: bytes this layer stored for the path; for ``removed``, bytes of the copy it hid
    size: int

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen(order=True)
class PackageChange:
    """What one layer did to one package: ``added`` (first listed by this layer) or
    ``removed`` (listed below, not by this layer's package database). An upgrade is the
    old version removed and the new one added in the same layer."""

    layer_index: int
    type: str
    name: str
    version: str
    #: ``added`` or ``removed``
    change: str

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class Dataset:
    """Structured data an analyzer read from the image (``/etc/passwd`` entries, a config file)."""

    name: str
    #: JSON-like data, frozen deeply: dicts become FrozenMaps, lists FrozenLists
    #: (equal to the dicts and lists given), so a dataset is hashable like the rest
    value: Any = attrs.field(converter=freeze)
    locations: tuple[Location, ...] = attrs.field(converter=_tuple, factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class Relationship:
    """``parent`` (a purl) relates to ``child`` (a purl): ``owns-evidence`` means the
    parent OS package installed the file that is the child's evidence."""

    parent: str
    child: str
    kind: str = "owns-evidence"

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class AnalyzerError:
    """One analyzer failed on one piece of evidence; the rest of the analysis stands."""

    __json_keys__: ClassVar[tuple[str, ...]] = ("analyzer", "path", "message")

    analyzer: str
    message: str
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def _sorted(datasets: Mapping[str, Dataset]) -> dict[str, Dataset]:
    return dict(sorted(datasets.items()))


@attrs.define
class Analysis:
    """Everything analyzers found in one image."""

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "schema", "origin", "image", "distro", "packages", "findings", "files_known", "files",
        "relationships", "datasets", "analyzers", "failed_analyzers", "errors",
        "layer_changes", "package_changes",
    )  # fmt: skip
    #: the JSON's ``schema``: the version of its shape
    schema: ClassVar[str] = "anchore.analysis/1"

    #: the image's metadata (a mapping given here is read as the JSON of one: a
    #: hand-made analysis may say ``image={}``)
    image: ImageInfo = attrs.field(converter=image_info)
    distro: Distro | None
    packages: list[Package]
    findings: list[Finding]
    files: list[FileRecord]
    errors: list[AnalyzerError]
    #: OS packages that ship language packages' evidence (a pip dist-info from a deb...)
    relationships: list[Relationship] = attrs.field(factory=list)
    #: structured data by name: "passwd", "group", "config:/etc/ssh/sshd_config"...
    datasets: dict[str, Dataset] = attrs.field(factory=dict, metadata=as_json(convert=_sorted))
    #: analyzer name -> seconds it took (not part of the JSON: it differs run to run)
    timings: dict[str, float] = attrs.field(factory=dict, metadata=as_json(omit=True))
    #: the analyzers that ran, in order: evidence an analyzer not named here collects was
    #: never looked for, so a policy rule that needs it cannot be evaluated
    analyzers: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: those of them that failed as a whole (raised; their results are one error entry):
    #: they ran, but their evidence is missing all the same
    failed_analyzers: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: where the analysis came from: ``image`` (analyzed here), or ``sbom:FORMAT`` for
    #: one read back from an SBOM (``sbom:cyclonedx-json``, ``sbom:anchore-json``...)
    origin: str = "image"
    #: whether ``files`` is the image's whole file inventory; False for an SBOM that
    #: lists no files: file queries are then unanswerable, not empty
    files_known: bool = True
    #: what each layer added, changed and removed, oldest layer first (None: not known,
    #: as for an SBOM); see :class:`FileChange`
    layer_changes: list[FileChange] | None = None
    #: packages each layer added and removed (None: not known); see :class:`PackageChange`
    package_changes: list[PackageChange] | None = None

    def ran(self, analyzer: str) -> bool:
        """Whether ``analyzer`` ran and did not fail as a whole: its evidence is here."""
        return analyzer in self.analyzers and analyzer not in self.failed_analyzers

    def unowned_files(self) -> list[FileRecord]:
        """Regular files no package database lists: what was added by hand."""
        return [f for f in self.files if f.type in ("file", "hardlink") and not f.owners]

    def packages_of(self, type_: str) -> list[Package]:
        return [p for p in self.packages if p.type == type_]

    def find(self, name: str, type_: str | None = None) -> list[Package]:
        return [p for p in self.packages if p.name == name and (type_ is None or p.type == type_)]

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def __repr__(self) -> str:
        # the generated repr wrote every file (4.3 million characters for debian-py)
        image = self.image
        name = display.short_repr(image.reference or image.source or image.config_digest or "?", 60)
        distro = f"{self.distro.id} {self.distro.version_id or ''}".strip() if self.distro else ""
        distro = f" {distro[:40]}" if distro else ""
        layers = len(image.layers) if image.layers is not None else "?"
        files = f"{len(self.files):,} files" if self.files_known else "files not known"
        failed = f", {len(self.failed_analyzers)} FAILED analyzers" if self.failed_analyzers else ""
        return (
            f"<Analysis {name} {image.platform}{distro}: "
            f"{len(self.packages):,} packages, {len(self.findings):,} findings, {files}, "
            f"{layers} layers, {len(self.errors):,} errors{failed}>"
        )

    def _repr_html_(self) -> str:
        return display.fragment(html.sections(self))

    def to_records(self, kind: str = "packages") -> list[dict[str, Any]]:
        """Flat rows for a table or a DataFrame: ``packages``, ``files``, ``layers``,
        ``findings`` or ``errors``, one dict each with the keys of
        :data:`RECORD_COLUMNS` ``[kind]`` in that order (docs/notebooks.md)."""
        if kind not in _RECORDS:
            raise ValueError(f"to_records: kind is one of {', '.join(_RECORDS)}, not {kind!r}")
        unknown = (kind == "files" and not self.files_known) or (
            kind == "layers" and self.image.layers is None
        )
        if unknown:
            # an empty list would read as "no files": no answer instead (an AnchoreError;
            # a class of its own needs a line in docs/errors.md, asked of its owner)
            raise AnchoreError(
                f"{self.image.source or 'the analysis'} ({self.origin}): its {kind} are not "
                "known (an SBOM that lists none), so there are no rows to give; analyze the "
                "image itself for them"
            )
        return list(_RECORDS[kind](self))

    def to_dataframe(self, kind: str = "packages") -> Any:
        """:meth:`to_records` as a ``pandas.DataFrame`` (``pip install 'anchore[pandas]'``)."""
        return display.dataframe(self.to_records(kind), RECORD_COLUMNS[kind])

    def write_json(self, fp: TextIO, *, indent: int | None = None, files: bool = True) -> None:
        """Write ``json.dumps(self.to_dict(), indent=indent)`` to ``fp`` (without the file
        inventory when ``files`` is False), one inventory record and one layer change at a
        time: the JSON of a large image is never held whole in memory."""
        stream = ["files"]
        stream += [key for key in _STREAMED_CHANGES if getattr(self, key) is not None]
        write_json(self, fp, indent=indent, stream=stream, omit=() if files else ("files",))


#: the lists of changes written one record at a time, when known (None is written as null)
_STREAMED_CHANGES = ("layer_changes", "package_changes")


def _first(locations: tuple[Location, ...]) -> Location | None:
    return locations[0] if locations else None


def _package_records(analysis: Analysis) -> Iterator[dict[str, Any]]:
    for p in analysis.packages:
        where = _first(p.locations)
        yield {
            "type": p.type, "name": p.name, "version": p.version,
            "layer": where.layer_index if where else None, "path": where.path if where else None,
            "purl": p.purl, "licenses": ", ".join(p.licenses), "source_name": p.source_name,
            "source_version": p.source_version, "architecture": p.architecture,
            "declared": p.declared, "found_by": p.found_by, "locations": len(p.locations),
        }  # fmt: skip


def _file_records(analysis: Analysis) -> Iterator[dict[str, Any]]:
    for f in analysis.files:
        yield {
            "path": f.path, "type": f.type, "mode": octal_mode(f.mode), "uid": f.uid,
            "gid": f.gid, "size": f.size, "layer": f.layer_index, "link_target": f.link_target,
            "owners": ", ".join(f.owners), "sha256": f.digests.get("sha256"),
        }  # fmt: skip


def _layer_records(analysis: Analysis) -> Iterator[dict[str, Any]]:
    changes = analysis.package_changes
    added: dict[int, int] = {}
    removed: dict[int, int] = {}
    for c in changes or ():
        counts = added if c.change == "added" else removed
        counts[c.layer_index] = counts.get(c.layer_index, 0) + 1
    for i in analysis.image.layers or ():
        yield {
            "layer": i.index, "digest": i.digest, "diff_id": i.diff_id, "size": i.size,
            "uncompressed_size": i.uncompressed_size, "files": i.files, "whiteouts": i.whiteouts,
            "packages_added": added.get(i.index, 0) if changes is not None else None,
            "packages_removed": removed.get(i.index, 0) if changes is not None else None,
            "created_by": i.created_by,
        }  # fmt: skip


def _finding_records(analysis: Analysis) -> Iterator[dict[str, Any]]:
    for f in analysis.findings:
        where = _first(f.locations)
        yield {
            "kind": f.kind, "rule": f.rule, "severity": f.severity, "message": f.message,
            "layer": where.layer_index if where else None, "path": where.path if where else None,
            "line": f.line, "found_by": f.found_by,
        }  # fmt: skip


def _error_records(analysis: Analysis) -> Iterator[dict[str, Any]]:
    for e in analysis.errors:
        yield {"analyzer": e.analyzer, "path": e.path, "message": e.message}


_RECORDS: dict[str, Callable[[Analysis], Iterator[dict[str, Any]]]] = {
    "packages": _package_records,
    "files": _file_records,
    "layers": _layer_records,
    "findings": _finding_records,
    "errors": _error_records,
}

#: the columns of :meth:`Analysis.to_records` by kind, in order (a stable contract:
#: columns are added at the end, never renamed or moved)
RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "packages": (
        "type", "name", "version", "layer", "path", "purl", "licenses", "source_name",
        "source_version", "architecture", "declared", "found_by", "locations",
    ),
    "files": (
        "path", "type", "mode", "uid", "gid", "size", "layer", "link_target", "owners", "sha256",
    ),
    "layers": (
        "layer", "digest", "diff_id", "size", "uncompressed_size", "files", "whiteouts",
        "packages_added", "packages_removed", "created_by",
    ),
    "findings": ("kind", "rule", "severity", "message", "layer", "path", "line", "found_by"),
    "errors": ("analyzer", "path", "message"),
}  # fmt: skip
