"""The single-image queries: what one analysis says about its packages, files, findings,
distro, image attributes, config and retrieved files.

Each is a plain function over an :class:`~anchore.Analysis` returning rows (attrs
values whose fields are the documented columns), registered as a
:class:`~anchore.query.model.Query` through ``anchore_queries``. A query whose
evidence the analysis lacks (an analyzer that did not run or failed, an SBOM
without a file inventory) raises :class:`UnanswerableQueryError` instead of
answering with nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

import attrs

from anchore.analysis.model import Analysis, FileRecord, Finding, Package
from anchore.analyzers.retrieve import DATASET_PREFIX, RETRIEVED_FILES
from anchore.documents import did_you_mean
from anchore.image.filetree import FileType, octal_mode
from anchore.plugins import hookimpl
from anchore.query.errors import UnanswerableQueryError
from anchore.query.evidence import (
    require,
    require_config,
    require_files,
    require_owners,
    require_packages,
)
from anchore.query.filters import (
    NameMatcher,
    VersionError,
    VersionRange,
    checked,
    name_matcher,
)
from anchore.query.model import Param, Query

__all__ = [
    "ConfigRow",
    "DistroRow",
    "FileRow",
    "FindingRow",
    "ImageRow",
    "LicenseRow",
    "PackageDetail",
    "PackageRow",
    "RetrievedFileRow",
    "SetuidRow",
    "UnownedRow",
    "config",
    "content_matches",
    "distro",
    "files",
    "image",
    "licenses",
    "package",
    "packages",
    "retrieved_files",
    "secrets",
    "setuid",
    "unowned_files",
]


def _strs(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it (``/etc`` and ``/etc/`` alike)."""
    top = prefix.rstrip("/")
    return not top or path == top or path.startswith(top + "/")


def _prefix(text: str) -> str:
    if not text.startswith("/"):
        raise ValueError(f"{text!r} is not an absolute path (start it with /)")
    return text


def _layer(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{value} is negative; layers are numbered from 0")
    return value


def _file_type(text: str) -> str:
    kinds = [t.value for t in FileType]
    if text not in kinds:
        raise ValueError(
            f"no file type {text!r}{did_you_mean(text, kinds)}; the types: {', '.join(kinds)}"
        )
    return text


def _depth(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"{value}: a depth is 1 or more (1 is /usr, 2 is /usr/share)")
    return value


# ---------------------------------------------------------------- packages
@attrs.frozen
class PackageRow:
    """One package."""

    #: its ecosystem's package type (``deb``, ``python``...)
    type: str
    #: the package's name, as its ecosystem spells it
    name: str
    #: its version, as its database or metadata says
    version: str
    #: its package URL
    purl: str
    #: the layer that introduced it (its first location's), -1 when unknown
    layer_index: int
    #: that layer's digest ('' when unknown)
    layer_digest: str
    #: the path of its first piece of evidence (its database record, its METADATA...)
    path: str | None
    #: its declared licenses, as found
    licenses: tuple[str, ...] = attrs.field(converter=_strs)
    #: the source package it was built from (dpkg Source, rpm sourcerpm, apk origin)
    source_name: str | None
    #: the analyzer that found it
    found_by: str
    #: True when only a lock or requirements file names it (declared, not installed)
    declared: bool


def _package_row(p: Package) -> PackageRow:
    first = p.locations[0] if p.locations else None
    return PackageRow(
        type=p.type,
        name=p.name,
        version=p.version,
        purl=p.purl,
        layer_index=p.layer_index,
        layer_digest=first.layer_digest if first else "",
        path=first.path if first else None,
        licenses=p.licenses,
        source_name=p.source_name,
        found_by=p.found_by,
        declared=p.declared,
    )


def _select(
    analysis: Analysis,
    query: str,
    type: str | None,
    name: str | NameMatcher | None,
    version: str | VersionRange | None,
    layer: int | None = None,
) -> list[Package]:
    """The packages that pass the filters; a version range over a package whose version
    its ecosystem cannot order is unanswerable, never silently in or out."""
    require_packages(analysis, type, query)
    match = name_matcher(name) if isinstance(name, str) else name
    window = VersionRange.parse(version) if isinstance(version, str) else version
    chosen = []
    for p in analysis.packages:
        if type is not None and p.type != type:
            continue
        if match is not None and not match(p.name, p.type):
            continue
        if layer is not None and p.layer_index != layer:
            continue
        if window is not None:
            try:
                inside = window.contains(p.version, p.type)
            except VersionError as exc:
                raise UnanswerableQueryError(
                    f"query {query!r}: whether {p.type} package {p.name} {p.version!r} is in "
                    f"the range {str(window)!r} is unknown: {exc} (filter by type=...)"
                ) from None
            if not inside:
                continue
        chosen.append(p)
    return chosen


def packages(
    analysis: Analysis,
    *,
    type: str | None = None,
    name: str | NameMatcher | None = None,
    version: str | VersionRange | None = None,
    layer: int | None = None,
) -> list[PackageRow]:
    """The image's packages, sorted by type and name, filtered by package type, name
    (a glob, or ``re:REGEX``; PEP 503 names for python), version range (``>=1.2,<2``
    in the ecosystem's own ordering) and the layer that introduced them (0 to N-1, as
    ``anchore files --layer``: a negative layer is a :class:`QueryParamError`)."""
    checked("packages", "layer", layer, _layer)
    chosen = _select(analysis, "packages", type, name, version, layer)
    rows = [_package_row(p) for p in chosen]
    return sorted(rows, key=lambda r: (r.type, r.name, r.version, r.purl))


@attrs.frozen
class PackageDetail:
    """One package in detail: its files, licenses, layer, source and owner."""

    #: its ecosystem's package type
    type: str
    #: the package's name, as its ecosystem spells it
    name: str
    #: its version, as its database or metadata says
    version: str
    #: its package URL
    purl: str
    #: the layer that introduced it, -1 when unknown
    layer_index: int
    #: that layer's digest
    layer_digest: str
    #: its declared licenses, as found
    licenses: tuple[str, ...] = attrs.field(converter=_strs)
    #: the source package it was built from
    source_name: str | None
    #: the source package's version
    source_version: str | None
    #: the architecture it was built for (OS packages)
    architecture: str | None
    #: purls of the OS packages that installed its evidence (``owns-evidence``)
    owned_by: tuple[str, ...] = attrs.field(converter=_strs)
    #: purls of the packages whose evidence it installed
    owns: tuple[str, ...] = attrs.field(converter=_strs)
    #: where its evidence is: ``PATH@LAYER``, one per location
    locations: tuple[str, ...] = attrs.field(converter=_strs)
    #: the files its own database lists (empty when the database lists none)
    files: tuple[str, ...] = attrs.field(converter=_strs)
    #: the analyzer that found it
    found_by: str
    #: True when only a lock or requirements file names it
    declared: bool


def package(
    analysis: Analysis,
    *,
    name: str | NameMatcher,
    type: str | None = None,
    version: str | VersionRange | None = None,
) -> list[PackageDetail]:
    """Every package named ``name`` (a glob or ``re:`` regex too) in detail; no row when
    the image has none of that name."""
    rows = []
    # ownership only: an imported SBOM's depends-on relationships are no ownership;
    # indexed once both ways (a scan per package was quadratic: 1.6 s at 5,000 packages)
    owners: dict[str, set[str]] = {}
    owned: dict[str, set[str]] = {}
    for r in analysis.relationships:
        if r.kind == "owns-evidence":
            owners.setdefault(r.child, set()).add(r.parent)
            owned.setdefault(r.parent, set()).add(r.child)
    for p in _select(analysis, "package", type, name, version):
        first = p.locations[0] if p.locations else None
        rows.append(
            PackageDetail(
                type=p.type,
                name=p.name,
                version=p.version,
                purl=p.purl,
                layer_index=p.layer_index,
                layer_digest=first.layer_digest if first else "",
                licenses=p.licenses,
                source_name=p.source_name,
                source_version=p.source_version,
                architecture=p.architecture,
                owned_by=sorted(owners.get(p.purl, ())),
                owns=sorted(owned.get(p.purl, ())),
                locations=[f"{loc.path}@{loc.layer_index}" for loc in p.locations],
                files=p.files,
                found_by=p.found_by,
                declared=p.declared,
            )
        )
    return sorted(rows, key=lambda r: (r.type, r.name, r.version))


@attrs.frozen
class LicenseRow:
    """One license and the packages that declare it."""

    #: the license as declared (None: the packages that declare none)
    license: str | None
    #: how many packages declare it (a package with two licenses counts under each)
    packages: int
    #: the package types among them
    types: tuple[str, ...] = attrs.field(converter=_strs)


def licenses(analysis: Analysis, *, type: str | None = None) -> list[LicenseRow]:
    """License -> number of packages declaring it (and of which types), most used first;
    packages that declare none are counted under a null license."""
    require_packages(analysis, type, "licenses")
    counts: dict[str | None, set[tuple[str, str, str, str]]] = {}
    types: dict[str | None, set[str]] = {}
    for p in analysis.packages:
        if type is not None and p.type != type:
            continue
        for lic in dict.fromkeys(p.licenses) or (None,):
            counts.setdefault(lic, set()).add((p.type, p.name, p.version, p.purl))
            types.setdefault(lic, set()).add(p.type)
    rows = [LicenseRow(lic, len(pkgs), sorted(types[lic])) for lic, pkgs in counts.items()]
    return sorted(rows, key=lambda r: (-r.packages, r.license or ""))


# ---------------------------------------------------------------- files
@attrs.frozen
class FileRow:
    """One entry of the squashed filesystem."""

    #: the absolute path
    path: str
    #: ``file``, ``directory``, ``symlink``, ``hardlink``, ``char-device``, ``block-device``,
    #: ``fifo``
    type: str
    #: bytes of the content (0 for directories and links)
    size: int
    #: permission bits in octal (``0755``)
    mode: str
    #: the owner's user id
    uid: int
    #: the owner's group id
    gid: int
    #: sha256 of the content when the analysis recorded digests, else None
    digest: str | None
    #: where a symlink or hard link points, else None
    link_target: str | None
    #: the layer that wrote this copy
    layer_index: int
    #: purls of the packages whose databases list it; None when ownership is unknown
    #: (an analyzer whose packages list their files failed or did not run)
    owners: tuple[str, ...] | None


def _file_row(f: FileRecord, owners_known: bool = True) -> FileRow:
    sha = f.digests.get("sha256")
    return FileRow(
        path=f.path,
        type=f.type,
        size=f.size,
        mode=octal_mode(f.mode),
        uid=f.uid,
        gid=f.gid,
        digest=f"sha256:{sha}" if sha else None,
        link_target=f.link_target,
        layer_index=f.layer_index,
        owners=tuple(f.owners) if owners_known else None,
    )


def files(analysis: Analysis, *, prefix: str = "/", type: str | None = None) -> list[FileRow]:
    """The entries at or below ``prefix`` (every kind, directories too, or one ``type``),
    sorted by path; ``owners`` is None when an analyzer whose packages list their files
    failed or did not run (an empty tuple would read as "unowned"). ``prefix`` is an
    absolute path; a bad one or an unknown type is a :class:`QueryParamError`."""
    checked("files", "prefix", prefix, _prefix)
    checked("files", "type", type, _file_type)
    require_files(analysis, "files")
    try:
        require_owners(analysis, "files")
        owners_known = True
    except UnanswerableQueryError:  # the files are known; who owns them is not
        owners_known = False
    rows = [
        _file_row(f, owners_known)
        for f in analysis.files
        if _under(f.path, prefix) and (type is None or f.type == type)
    ]
    return sorted(rows, key=lambda r: r.path)


@attrs.frozen
class UnownedRow:
    """Regular files no package database lists, rolled up to one directory."""

    #: the directory (cut to the depth asked for)
    directory: str
    #: how many such files are at or below it
    files: int
    #: their bytes
    bytes: int


def _rolled(path: str, depth: int | None) -> str:
    parent = posixpath.dirname(path)
    if depth is None:
        return parent
    parts = [p for p in parent.split("/") if p][:depth]
    return "/" + "/".join(parts)


def unowned_files(
    analysis: Analysis, *, prefix: str = "/", depth: int | None = None
) -> list[UnownedRow]:
    """Regular files at or below ``prefix`` that no package database lists (added by
    hand, or by a tool without a database), per directory; ``depth`` rolls them up
    (1: ``/usr``, 2: ``/usr/share``). Unanswerable unless every analyzer whose packages
    list their files (dpkg, rpm, apk, python: dist-info RECORD) ran and none failed:
    their packages' files would look unowned. A relative ``prefix`` or a ``depth``
    under 1 is a :class:`QueryParamError`."""
    checked("unowned-files", "prefix", prefix, _prefix)
    checked("unowned-files", "depth", depth, _depth)
    require_files(analysis, "unowned-files")
    require_owners(analysis, "unowned-files")
    bins: dict[str, list[int]] = {}
    for f in analysis.unowned_files():
        if _under(f.path, prefix):
            count = bins.setdefault(_rolled(f.path, depth), [0, 0])
            count[0] += 1
            count[1] += f.size
    return [UnownedRow(d, n, size) for d, (n, size) in sorted(bins.items())]


# ---------------------------------------------------------------- findings
@attrs.frozen
class FindingRow:
    """One secret or content match (the matched text is never shown, only redacted)."""

    #: the rule that fired
    rule: str
    #: the file it is in
    path: str | None
    #: the line, 1-based
    line: int | None
    #: the layer that wrote the content
    layer_index: int | None
    #: the rule's severity (``high``, ``medium``...)
    severity: str
    #: what was found, the match redacted
    message: str


def _finding_rows(found: Iterable[Finding]) -> list[FindingRow]:
    rows = []
    for f in found:
        loc = f.locations[0] if f.locations else None
        rows.append(
            FindingRow(
                rule=f.rule,
                path=loc.path if loc else None,
                line=f.line,
                layer_index=loc.layer_index if loc else None,
                severity=f.severity,
                message=f.message,
            )
        )
    return sorted(rows, key=lambda r: (r.path or "", r.line or 0, r.rule))


def secrets(analysis: Analysis) -> list[FindingRow]:
    """What the secrets analyzer matched (keys, tokens, passwords), redacted."""
    require(analysis, "secrets", "secrets")
    return _finding_rows(f for f in analysis.findings if f.kind == "secret")


def content_matches(analysis: Analysis, *, analyzer: str = "content-search") -> list[FindingRow]:
    """What a content-search analyzer (``ContentSearchAnalyzer``: your own regexes)
    matched; ``analyzer`` names it when it is not ``content-search``."""
    require(analysis, analyzer, "content-matches")
    return _finding_rows(
        f for f in analysis.findings if f.kind == "content-match" and f.found_by == analyzer
    )


@attrs.frozen
class SetuidRow:
    """A setuid or setgid file."""

    #: the file
    path: str
    #: ``setuid`` or ``setgid`` (a file that is both has one row each)
    kind: str
    #: permission bits in octal (``4755``)
    mode: str
    #: the owner: uid for setuid, gid for setgid
    owner: int | None
    #: the layer that set the mode
    layer_index: int | None
    #: purls of the packages that list the file (None: the file inventory is unknown)
    packages: tuple[str, ...] | None


def setuid(analysis: Analysis) -> list[SetuidRow]:
    """Setuid and setgid files (from the file-permissions analyzer), with the packages
    that installed them."""
    require(analysis, "file-permissions", "setuid")
    owners = {f.path: f.owners for f in analysis.files} if analysis.files_known else None
    rows = []
    for f in analysis.findings:
        if f.kind not in ("setuid", "setgid"):
            continue
        loc = f.locations[0] if f.locations else None
        path = loc.path if loc else ""
        owner = f.data.get("uid" if f.kind == "setuid" else "gid")
        rows.append(
            SetuidRow(
                path=path,
                kind=f.kind,
                mode=str(f.data.get("mode", "")),
                owner=owner if isinstance(owner, int) else None,
                layer_index=loc.layer_index if loc else None,
                packages=tuple(owners.get(path, ())) if owners is not None else None,
            )
        )
    return sorted(rows, key=lambda r: (r.path, r.kind))


# ---------------------------------------------------------------- distro, image, config
@attrs.frozen
class DistroRow:
    """The operating system the image is built on."""

    #: ``ID`` of /etc/os-release (``debian``)
    id: str
    #: ``VERSION_ID`` (``12``)
    version_id: str | None
    #: ``VERSION_CODENAME`` (``bookworm``)
    version_codename: str | None
    #: ``PRETTY_NAME``
    pretty_name: str | None
    #: ``ID_LIKE``: the distros it derives from
    id_like: tuple[str, ...] = attrs.field(converter=_strs)
    #: its CPE: ``CPE_NAME``, or NVD's name for a known distro
    cpe: str | None
    #: the release file it was read from
    path: str | None
    #: the layer that wrote it
    layer_index: int | None


def distro(analysis: Analysis) -> list[DistroRow]:
    """The distro, one row; no row when the distro analyzer found no release file."""
    require(analysis, "distro", "distro")
    d = analysis.distro
    if d is None:
        return []
    loc = d.locations[0] if d.locations else None
    return [
        DistroRow(
            id=d.id,
            version_id=d.version_id,
            version_codename=d.version_codename,
            pretty_name=d.pretty_name,
            id_like=d.id_like,
            cpe=d.cpe,
            path=loc.path if loc else None,
            layer_index=loc.layer_index if loc else None,
        )
    ]


@attrs.frozen
class ImageRow:
    """An image's attributes (None: not known, as for an SBOM that does not say)."""

    #: the path the image (or SBOM) was read from
    source: str
    #: ``image`` (analyzed here) or ``sbom:FORMAT``
    origin: str
    #: the tag the image was chosen by (or its first), if any
    reference: str | None
    #: every tag the source gives it
    tags: tuple[str, ...] = attrs.field(converter=_strs)
    #: the manifest's digest (None for docker-save archives)
    manifest_digest: str | None
    #: the config's digest (its image id)
    config_digest: str | None
    #: ``os/architecture[/variant]``
    platform: str
    #: ISO 8601
    created: str | None
    #: number of layers
    layers: int | None
    #: bytes of the uncompressed layers
    size: int | None
    #: entries of the squashed filesystem (None when the file inventory is unknown)
    files: int | None
    #: regular files among them
    regular_files: int | None
    #: how many packages the analysis found
    packages: int
    #: ``TYPE=COUNT`` per package type
    packages_by_type: tuple[str, ...] = attrs.field(converter=_strs)
    #: the distro's pretty name (or id)
    distro: str | None


def image(analysis: Analysis) -> list[ImageRow]:
    """The image's attributes and counts, one row."""
    info = analysis.image
    by_type: dict[str, int] = {}
    for p in analysis.packages:
        by_type[p.type] = by_type.get(p.type, 0) + 1
    known = analysis.files_known
    d = analysis.distro
    return [
        ImageRow(
            source=info.source,
            origin=analysis.origin,
            reference=info.reference,
            tags=info.tags,
            manifest_digest=info.manifest_digest,
            config_digest=info.config_digest or None,
            platform=str(info.platform),
            created=info.created.isoformat() if info.created else None,
            layers=len(info.layers) if info.layers is not None else None,
            size=info.size,
            files=len(analysis.files) if known else None,
            regular_files=sum(f.type == "file" for f in analysis.files) if known else None,
            packages=len(analysis.packages),
            packages_by_type=[f"{t}={n}" for t, n in sorted(by_type.items())],
            distro=(d.pretty_name or d.id) if d else None,
        )
    ]


@attrs.frozen
class ConfigRow:
    """One setting of the image config."""

    #: ``env``, ``label``, ``port``, ``volume``, ``user``, ``workdir``, ``entrypoint``,
    #: ``cmd``, ``shell``, ``stop_signal``, ``healthcheck``, ``on_build``
    kind: str
    #: the variable, label or port ('' for single settings)
    key: str
    #: its value; a command is its JSON array (``["python3", "app.py"]``)
    value: str


def _argv(items: Sequence[str]) -> str:
    import json

    return json.dumps(list(items))


def config(analysis: Analysis) -> list[ConfigRow]:
    """The image config as rows, one per variable, label, port, volume and setting, in
    the config's own order. Unanswerable when the analysis does not carry the config
    (:func:`~anchore.query.evidence.require_config`: an SBOM without it)."""
    require_config(analysis, "config")
    c = analysis.image.config
    health = c.healthcheck
    rows = [ConfigRow("env", *_pair(item)) for item in c.env]
    rows += [ConfigRow("label", k, v) for k, v in c.labels.items()]
    rows += [ConfigRow("port", port, "") for port in c.exposed_ports]
    rows += [ConfigRow("volume", vol, "") for vol in c.volumes]
    singles: list[tuple[str, str | None]] = [
        ("user", c.user),
        ("workdir", c.working_dir),
        ("entrypoint", _argv(c.entrypoint) if c.entrypoint else None),
        ("cmd", _argv(c.cmd) if c.cmd else None),
        ("shell", _argv(c.shell) if c.shell else None),
        ("stop_signal", c.stop_signal),
        (
            "healthcheck",
            _argv(health.test) if health and health.test else None,
        ),
    ]
    rows += [ConfigRow(kind, "", value) for kind, value in singles if value]
    rows += [ConfigRow("on_build", "", step) for step in c.on_build]
    return rows


def _pair(item: str) -> tuple[str, str]:
    name, _, value = item.partition("=")
    return name, value


# ---------------------------------------------------------------- retrieved files
@attrs.frozen
class RetrievedFileRow:
    """A file whose content the analysis kept (the retrieve analyzer's list)."""

    #: the file's path
    path: str
    #: bytes of its content
    size: int | None
    #: ``sha256:HEX`` of the content
    sha256: str | None
    #: the layer that wrote it
    layer_index: int | None
    #: the content, as text (None when it was not kept: see ``error``)
    content: str | None
    #: why the content was not kept (too large, not text, a link to a file not kept),
    #: else None
    error: str | None
    #: the file ``path`` resolves to when it is a symlink (its content is that file's),
    #: else None
    link_target: str | None = None


def retrieved_files(analysis: Analysis, *, path: str | None = None) -> list[RetrievedFileRow]:
    """The files the retrieve analyzer kept (``/etc/passwd``, ``/etc/group``...), or the
    one at ``path``; unanswerable when the path is not one the analyzer keeps.

    A kept path that is a symlink in the image (Debian's ``/etc/os-release`` ->
    ``../usr/lib/os-release``) is answered through the file inventory: the row shows the
    asked path, ``link_target`` the file it resolves to, and that file's content (or an
    ``error`` saying why there is none: a target that is not kept or not there). No row
    only when the image has no such path (as far as the inventory or, without one, the
    analyzer saw)."""
    require(analysis, "retrieve", "retrieved-files")
    if path is not None and path not in RETRIEVED_FILES:
        raise UnanswerableQueryError(
            f"query 'retrieved-files': {path} is not among the files analyses keep: "
            f"{', '.join(RETRIEVED_FILES)}"
        )
    kept: dict[str, RetrievedFileRow] = {}
    for name, ds in analysis.datasets.items():
        if not name.startswith(DATASET_PREFIX):
            continue
        v = ds.value
        loc = ds.locations[0] if ds.locations else None
        kept[v.get("path")] = RetrievedFileRow(
            path=v.get("path"),
            size=v.get("size"),
            sha256=f"sha256:{v['sha256']}" if v.get("sha256") else None,
            layer_index=loc.layer_index if loc else None,
            content=v.get("content"),
            error=None,
        )
    for err in analysis.errors:
        if err.analyzer == "retrieve" and err.path:
            kept.setdefault(
                err.path, RetrievedFileRow(err.path, None, None, None, None, err.message)
            )
    inventory = {f.path: f for f in analysis.files} if analysis.files_known else {}
    rows = []
    for asked in (path,) if path is not None else sorted({*RETRIEVED_FILES, *kept}):
        if asked in kept:
            rows.append(kept[asked])
        elif asked in inventory:
            rows.append(_through_inventory(asked, inventory, kept))
    return sorted(rows, key=lambda r: r.path)


def _through_inventory(
    path: str, inventory: dict[str, FileRecord], kept: dict[str, RetrievedFileRow]
) -> RetrievedFileRow:
    """The row of a path the analyzer was not offered (it reads regular files): a symlink
    followed to its final target, or an error row saying why there is no content."""
    seen = [path]
    record = inventory[path]
    while record.type == FileType.SYMLINK.value and record.link_target is not None:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(seen[-1]), record.link_target))
        if target in seen or len(seen) > 40:
            return _error_row(path, target, f"a symlink loop ({' -> '.join([*seen, target])})")
        seen.append(target)
        if target in kept:
            got = kept[target]
            return attrs.evolve(got, path=path, link_target=target)
        if target not in inventory:
            return _error_row(path, target, f"a symlink to {target}, which the image lacks")
        record = inventory[target]
    if len(seen) > 1:
        return _error_row(
            path, seen[-1], f"a symlink to {seen[-1]}, a {record.type} whose content is not kept"
        )
    return _error_row(path, None, f"a {record.type}, not a regular file: its content is not kept")


def _error_row(path: str, target: str | None, why: str) -> RetrievedFileRow:
    return RetrievedFileRow(path, None, None, None, None, why, link_target=target)


# ---------------------------------------------------------------- registration
_TYPE = Param("type", "only packages of this type (deb, python, npm...)")
_NAME = Param("name", "package name: a glob (lib*), or re:REGEX", parse=name_matcher)
_VERSION = Param(
    "version", "version range, e.g. >=1.2,<2 (the ecosystem's ordering)", parse=VersionRange.parse
)
_PREFIX = Param(
    "prefix", "an absolute path: only entries at or below it", parse=_prefix, default="/"
)


_query = Query.from_function


QUERIES: tuple[Query, ...] = (
    _query("packages", packages, PackageRow, _TYPE, _NAME, _VERSION,
           Param("layer", "only packages the layer of this index introduced", parse=_layer)),
    _query("package", package, PackageDetail,
           attrs.evolve(_NAME, required=True, description="the package's name (a glob too)"),
           _TYPE, _VERSION),
    _query("licenses", licenses, LicenseRow, _TYPE),
    _query("files", files, FileRow, _PREFIX,
           Param("type", "only entries of this type: file, directory, symlink, hardlink...",
                 parse=_file_type)),
    _query("unowned-files", unowned_files, UnownedRow, _PREFIX,
           Param("depth", "roll up to directories this deep (1: /usr)", parse=_depth)),
    _query("secrets", secrets, FindingRow),
    _query("content-matches", content_matches, FindingRow,
           Param("analyzer", "the content-search analyzer's name", default="content-search")),
    _query("setuid", setuid, SetuidRow),
    _query("distro", distro, DistroRow),
    _query("image", image, ImageRow),
    _query("config", config, ConfigRow),
    _query("retrieved-files", retrieved_files, RetrievedFileRow,
           Param("path", "only this file (e.g. /etc/passwd)")),
)  # fmt: skip


@hookimpl
def anchore_queries() -> Sequence[Query]:
    """The single-image queries, registered as a built-in plugin."""
    return QUERIES
