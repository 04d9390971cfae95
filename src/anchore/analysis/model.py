"""What an analysis finds: packages, findings, the distro, the files.

Plain attrs values with stable ``to_dict()`` output (documented in
``docs/analysis.md``). Every package and finding carries :class:`Location`
values: the path of its evidence and the layer that introduced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "Analysis",
    "AnalyzerError",
    "Dataset",
    "Distro",
    "FileRecord",
    "Finding",
    "Location",
    "Package",
    "Relationship",
]


@attrs.frozen(order=True)
class Location:
    """Where evidence is: a path, and the layer that introduced what it says."""

    path: str
    layer_index: int
    layer_digest: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "layer_index": self.layer_index,
            "layer_digest": self.layer_digest,
        }


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if value is not None else ()


@attrs.frozen
class Package:
    """A package, as one or more pieces of evidence in the image describe it."""

    #: ecosystem: deb, rpm, apk, python, npm, java-archive, go-module, gem, php-composer,
    #: rust-crate, dotnet, binary (see docs/analysis.md)
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
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "version": self.version,
            "purl": self.purl,
            "licenses": list(self.licenses),
            "cpes": list(self.cpes),
            "source_name": self.source_name,
            "source_version": self.source_version,
            "architecture": self.architecture,
            "locations": [loc.to_dict() for loc in self.locations],
            "files": list(self.files),
            "metadata": dict(self.metadata),
            "found_by": self.found_by,
            "declared": self.declared,
        }


@attrs.frozen
class Finding:
    """Something worth knowing that is not a package: a secret, a setuid file..."""

    #: setuid, setgid, world-writable, secret, content-match, package-db-orphan...
    kind: str
    #: the rule that fired (``aws-access-key``...) or the analyzer's own name
    rule: str
    message: str
    locations: tuple[Location, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: the line, for content matches (1-based), else None
    line: int | None = None
    severity: str = "info"
    data: Mapping[str, Any] = attrs.field(factory=dict)
    found_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity,
            "line": self.line,
            "locations": [loc.to_dict() for loc in self.locations],
            "data": dict(self.data),
            "found_by": self.found_by,
        }


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
        return {
            "id": self.id,
            "version_id": self.version_id,
            "version_codename": self.version_codename,
            "pretty_name": self.pretty_name,
            "id_like": list(self.id_like),
            "cpe_name": self.cpe_name,
            "cpe": self.cpe,
            "locations": [loc.to_dict() for loc in self.locations],
        }


@attrs.frozen
class FileRecord:
    """One file of the squashed filesystem, for the inventory."""

    path: str
    type: str
    mode: int
    uid: int
    gid: int
    size: int
    layer_index: int
    link_target: str | None = None
    #: purls of the packages whose databases list this file
    owners: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    digests: Mapping[str, str] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "mode": f"{self.mode:04o}",
            "uid": self.uid,
            "gid": self.gid,
            "size": self.size,
            "layer_index": self.layer_index,
            "link_target": self.link_target,
            "owners": list(self.owners),
            "digests": dict(self.digests),
        }


@attrs.frozen
class Dataset:
    """Structured data an analyzer read from the image (``/etc/passwd`` entries, a config file)."""

    name: str
    value: Any
    locations: tuple[Location, ...] = attrs.field(converter=_tuple, factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value,
                "locations": [loc.to_dict() for loc in self.locations]}  # fmt: skip


@attrs.frozen
class Relationship:
    """``parent`` (a purl) relates to ``child`` (a purl): ``owns-evidence`` means the
    parent OS package installed the file that is the child's evidence."""

    parent: str
    child: str
    kind: str = "owns-evidence"

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "child": self.child, "kind": self.kind}


@attrs.frozen
class AnalyzerError:
    """One analyzer failed on one piece of evidence; the rest of the analysis stands."""

    analyzer: str
    message: str
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"analyzer": self.analyzer, "path": self.path, "message": self.message}


@attrs.define
class Analysis:
    """Everything analyzers found in one image."""

    image: dict[str, Any]
    distro: Distro | None
    packages: list[Package]
    findings: list[Finding]
    files: list[FileRecord]
    errors: list[AnalyzerError]
    #: OS packages that ship language packages' evidence (a pip dist-info from a deb...)
    relationships: list[Relationship] = attrs.field(factory=list)
    #: structured data by name: "passwd", "group", "config:/etc/ssh/sshd_config"...
    datasets: dict[str, Dataset] = attrs.field(factory=dict)
    #: analyzer name -> seconds it took
    timings: dict[str, float] = attrs.field(factory=dict)
    #: the analyzers that ran, in order: evidence an analyzer not named here collects was
    #: never looked for, so a policy rule that needs it cannot be evaluated
    analyzers: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)
    #: those of them that failed as a whole (raised; their results are one error entry):
    #: they ran, but their evidence is missing all the same
    failed_analyzers: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple)

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
        return {
            "schema": "anchore.analysis/1",
            "image": self.image,
            "distro": self.distro.to_dict() if self.distro else None,
            "packages": [p.to_dict() for p in self.packages],
            "findings": [f.to_dict() for f in self.findings],
            "files": [f.to_dict() for f in self.files],
            "relationships": [r.to_dict() for r in self.relationships],
            "datasets": {k: d.to_dict() for k, d in sorted(self.datasets.items())},
            "analyzers": list(self.analyzers),
            "failed_analyzers": list(self.failed_analyzers),
            "errors": [e.to_dict() for e in self.errors],
        }
