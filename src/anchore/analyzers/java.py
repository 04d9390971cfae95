"""Java archives: jar, war, ear, par, sar, jpi, hpi, nested to a bounded depth.

One package per Maven artifact. The identity of an archive's own package is
chosen in a fixed order: ``pom.properties``, then ``pom.xml``, then the
Maven-repository ``.pom`` beside the archive (Debian's
``/usr/share/maven-repo``), then ``MANIFEST.MF``, then the file name. Its
groupId, when that identity does not give one, is looked for in the same
repository pom (its ``<parent>``'s when it has none), then the manifest
(:func:`group_from_manifest`), then a small table of well-known artifacts
(:mod:`anchore.analyzers.maven_groups`). ``metadata["group_id_source"]`` says
which; a jar whose groupId is still unknown gets no purl (a Maven purl without
a groupId is invalid and matches nothing) and ``metadata["purl_missing"]`` says
why.

Further ``pom.properties`` inside an archive (shaded or bundled artifacts) are
packages of their own, located at ``outer.jar:groupId:artifactId``. Nested
archives are read into memory, each up to ``NESTED_MAX_BYTES``, and only so
far (:class:`anchore.Limits`): ``max_archive_depth`` levels (the outer archive
is the first), ``max_archives_opened`` archives in one analysis, and
``max_read_bytes`` inflated from the members of one outer archive and the
archives inside it, and ``max_archive_entries`` listed by the directories of an
archive and those it is inside (counted before zipfile parses them,
:func:`anchore.analysis.archives.open_zip`); past each, one error entry names the
limit and the archive.
Nothing is extracted to disk. A ``pom.xml`` that declares entities is not read
(no entity expansion, internal or external).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

import attrs

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.archives import open_zip
from anchore.analysis.budget import about
from anchore.analysis.kit import FileAnalyzer, within_time
from anchore.analysis.model import AnalyzerError, Location, Package
from anchore.analyzers.common import package_purl
from anchore.analyzers.maven_groups import ORGANISATION_VENDOR_IDS, known_group
from anchore.errors import AnchoreError, LimitExceededError
from anchore.limits import Limits
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = [
    "JavaAnalyzer",
    "RepoPom",
    "group_from_manifest",
    "maven_repo_poms",
    "parse_manifest",
    "parse_pom_properties",
]

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi", ".nar", ".kar")
NESTED_MAX_BYTES = 64 * 1024 * 1024
MAX_META_BYTES = 4 * 1024 * 1024
#: an archive's extension, the version characters of its file name, where a version starts
_EXTENSION = re.compile(r"[a-z]+", re.I)
_VERSION_RUN = re.compile(r"[\w.+~-]*")
_VERSION_START = re.compile(r"[-_]\d")


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of a MANIFEST.MF (72-byte lines continued by a leading space).

    Linear: a value's continuation lines are collected and joined once.
    """
    main: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if main:
                break  # the main section ends at the first blank line
            continue
        if line.startswith(" ") and last is not None:
            last.append(line[1:])
            continue
        key, sep, value = line.partition(":")
        if sep:
            key = key.strip()
            main[key] = [value.strip()]
            last = main[key] if key else None
    return {key: "".join(parts) for key, parts in main.items()}


def parse_pom_properties(text: str) -> dict[str, str]:
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        match = re.match(r"([^=:\s]+)\s*[=:]\s*(.*)$", line)
        if match:
            props[match.group(1)] = match.group(2).strip()
    return props


#: a ``${property}`` reference; without ``$`` in the name, each ``$`` starts at most one
#: scan to the next ``$`` (``[^}]+`` rescanned to the end from every ``${``: quadratic)
_PROPERTY = re.compile(r"\$\{([^}$]+)\}")


def _pom_xml(data: bytes) -> dict[str, Any]:
    """The coordinates a pom.xml states; a value that is a property the pom does not define
    (``${revision}`` set by a parent) is None, never the parent's own coordinate."""
    if b"<!ENTITY" in data:
        # a pom has no use for entities: refused before expat sees them (billion laughs)
        raise ET.ParseError("a pom.xml that declares entities is not read")
    root = ET.fromstring(data)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""

    def raw(node: ET.Element | None, tag: str) -> str | None:
        found = node.find(ns + tag) if node is not None else None
        return found.text.strip() if found is not None and found.text else None

    parent = root.find(ns + "parent")
    props = root.find(ns + "properties")
    defined = {
        child.tag[len(ns) :]: (child.text or "").strip()
        for child in (props if props is not None else [])
    }
    defined.update(
        {
            "project.parent.groupId": raw(parent, "groupId") or "",
            "project.parent.version": raw(parent, "version") or "",
        }
    )

    def resolved(value: str | None) -> str | None:
        if value is None:
            return None
        value = _PROPERTY.sub(lambda m: defined.get(m.group(1)) or m.group(0), value)
        return None if "${" in value or not value else value

    licenses = [
        (lic.findtext(ns + "name") or "").strip()
        for lic in root.findall(f"{ns}licenses/{ns}license")
    ]
    own_group = raw(root, "groupId")
    own_version = raw(root, "version")
    return {
        # a pom without its own groupId or version inherits its parent's
        "groupId": resolved(own_group) if own_group else resolved(raw(parent, "groupId")),
        "groupFromParent": own_group is None and raw(parent, "groupId") is not None,
        "artifactId": resolved(raw(root, "artifactId")),
        "version": resolved(own_version) if own_version else resolved(raw(parent, "version")),
        "name": raw(root, "name"),
        "licenses": [x for x in licenses if x],
    }


def _from_filename(path: str) -> tuple[str | None, str | None]:
    """(name, version) of ``NAME[-_]VERSION.EXT``: the shortest name whose rest is a
    version (a digit after ``-`` or ``_``, then word characters, ``.+~-``); else the
    whole stem and no version.

    Found in one pass, not by a regex with two lazy parts, which backtracks
    quadratically on a long name (an archive member's name may be 64 KiB).
    """
    base = path.rsplit("/", 1)[-1]
    if base.endswith("\n"):
        base = base[:-1]  # as a regex's ``$`` would allow
    dot = base.rfind(".")
    if dot < 1 or "\n" in base or not _EXTENSION.fullmatch(base, dot + 1):
        return None, None
    # the version, if any, lies in the run of version characters that ends at the dot
    run = _VERSION_RUN.match(base[dot - 1 :: -1])  # read backwards from the dot
    start = max(1, dot - run.end()) if run else dot
    cut = _VERSION_START.search(base, start, dot)
    if cut is None:
        return base[:dot], None
    return base[: cut.start()], base[cut.start() + 1 : dot]


_GROUP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def group_from_manifest(manifest: Mapping[str, str], artifact: str) -> tuple[str, str] | None:
    """(groupId, the field it came from), when the manifest says it; else None.

    ``Group-Id`` (Jenkins plugins) is the groupId. ``Bundle-SymbolicName`` and
    ``Automatic-Module-Name`` count only when they are ``GROUP.ARTIFACT`` (a
    module name spells ``-`` as ``_``): ``org.apache.commons.logging`` says
    nothing about commons-logging's groupId. ``Implementation-Vendor-Id`` is the
    groupId unless it names an organisation (``org.apache``).
    """
    group = manifest.get("Group-Id", "").strip()
    if _GROUP_ID.match(group):
        return group, "manifest:Group-Id"
    for field, tail in (
        ("Bundle-SymbolicName", artifact),
        ("Automatic-Module-Name", artifact.replace("-", "_")),
    ):
        value = manifest.get(field, "").split(";", 1)[0].strip()
        if value.endswith("." + tail):
            group = value[: -len(tail) - 1]
            if _GROUP_ID.match(group):
                return group, f"manifest:{field}"
    vendor = manifest.get("Implementation-Vendor-Id", "").strip()
    if _GROUP_ID.match(vendor) and vendor not in ORGANISATION_VENDOR_IDS:
        return vendor, "manifest:Implementation-Vendor-Id"
    return None


@attrs.frozen
class RepoPom:
    """The ``.pom`` a Maven repository keeps beside a jar.

    At ``GROUP/ARTIFACT/VERSION/ARTIFACT-VERSION.pom``, the jar beside it.
    """

    path: str
    group_id: str | None
    group_from_parent: bool
    artifact_id: str
    #: None for Debian's ``debian`` version directories (the real one is elsewhere)
    version: str | None


def _repo_layout(pom_path: str) -> tuple[str, str] | None:
    """(artifact, version) if ``pom_path`` sits where a Maven repository puts it."""
    parts = pom_path.split("/")
    if len(parts) < 4:
        return None
    artifact, version, base = parts[-3], parts[-2], parts[-1]
    if base != f"{artifact}-{version}.pom":
        return None
    return artifact, version


def maven_repo_poms(
    poms: Sequence[FileInput], context: AnalysisContext
) -> tuple[dict[str, RepoPom], list[AnalyzerError]]:
    """Archive path (every symlink followed) -> the repository pom that describes it.

    Debian's ``/usr/share/maven-repo/GROUP/ARTIFACT/VERSION/`` holds the pom and
    a symlink to the jar in ``/usr/share/java``; a plain Maven repository
    (``~/.m2/repository``) holds the jar itself. A pom is read only when an
    archive sits beside it. A real version directory wins over Debian's
    ``debian`` one.
    """
    found: dict[str, RepoPom] = {}
    errors: list[AnalyzerError] = []
    for pom in sorted(poms, key=lambda f: f.path):
        layout = _repo_layout(pom.path)
        if layout is None:
            continue
        stem = pom.path[: -len(".pom")]
        targets = []
        for suffix in ARCHIVE_SUFFIXES:
            try:
                if context.image.stat(stem + suffix).is_file:
                    targets.append(context.image.realpath(stem + suffix))
            except AnchoreError:
                continue
        if not targets:
            continue
        try:
            doc = _pom_xml(pom.read())
        except (ET.ParseError, AnchoreError) as exc:
            errors.append(AnalyzerError("java", f"{pom.path}: unreadable pom: {exc}", pom.path))
            continue
        if doc.get("artifactId") != layout[0]:
            continue  # not the pom of the artifact its directory names
        version = doc.get("version")
        entry = RepoPom(
            pom.path,
            doc.get("groupId"),
            bool(doc.get("groupFromParent")),
            layout[0],
            None if version in (None, "debian") or version != layout[1] else version,
        )
        for target in targets:
            seen = found.get(target)
            if seen is None or (seen.version is None and entry.version is not None):
                found[target] = entry
    return found, errors


def _maven_package(
    group: str | None,
    artifact: str,
    version: str,
    location: Location,
    virtual_path: str,
    licenses: Sequence[str] = (),
    *,
    group_source: str,
    **metadata: Any,
) -> Package:
    """A Maven package; one whose groupId is unknown gets no purl (a Maven purl needs it)."""
    if not group:
        known = known_group(artifact)
        group, group_source = (known, "known-artifact table") if known else (None, "unknown")
    purl = package_purl("java-archive", artifact, version, namespace=group) if group else ""
    extra = {k: v for k, v in metadata.items() if v}
    if not group:
        extra["purl_missing"] = (
            "groupId unknown: no pom.properties, pom.xml or Maven repository pom, "
            "no manifest field naming it, not a known artifact"
        )
    return Package(
        type="java-archive",
        name=artifact,
        version=version,
        purl=purl,
        locations=(location,),
        licenses=tuple(licenses),
        metadata={
            "virtual_path": virtual_path,
            "group_id": group,
            "group_id_source": group_source,
            **extra,
        },
    )


@attrs.define
class _Walk:
    """What reading one analysis' archives has cost, against the image's limits.

    ``opened`` counts the archives opened in the analysis, outer and nested
    (``max_archives_opened``: nested jars 40 wide and 4 deep are 2.5 million);
    ``inflated`` the bytes read from the members of the current outer archive and
    the archives inside it (``max_read_bytes``: overlapping members make a small
    archive inflate without end); ``held`` the directory entries of the archives
    open at once, an archive and those it is inside (``max_archive_entries``: each
    is a ZipInfo in memory); ``stopped`` says a limit ended the current outer
    archive's nested reading (reported once). Each check also checks the
    analyzer's time.
    """

    limits: Limits
    file: FileInput | None = None
    opened: int = 0
    inflated: int = 0
    held: int = 0
    stopped: bool = False

    @property
    def exhausted(self) -> bool:
        return self.opened >= self.limits.max_archives_opened

    def start(self, file: FileInput) -> None:
        """A new outer archive."""
        self.file, self.inflated, self.held, self.stopped = file, 0, 0, False

    def open(self, name: str) -> None:
        if self.file is not None:
            self.file.check_time()
        most = self.limits.max_archives_opened
        if self.opened >= most:
            raise LimitExceededError(
                f"{name}: not read: more than Limits.max_archives_opened ({most}) archives "
                "were opened in this analysis",
                limit="max_archives_opened",
                member=name,
            )
        self.opened += 1

    def take(self, name: str, size: int) -> None:
        most = self.limits.max_read_bytes
        if self.inflated + size > most:
            raise LimitExceededError(
                f"{name}: not read: more than Limits.max_read_bytes ({most}) bytes would be "
                "inflated from one archive and the archives inside it",
                limit="max_read_bytes",
                member=name,
            )
        self.inflated += size


def _artifact_like(value: str | None) -> bool:
    return bool(value) and not any(c.isspace() for c in value or "")


class JavaAnalyzer(FileAnalyzer):
    """Each archive on its own (the kit's error wrapping and locations), once the
    Maven-repository poms beside archives are known."""

    name = "java"
    #: archives, and the ``.pom`` files of Maven repositories (for jars without metadata)
    patterns: Sequence[str] = (*("*" + s for s in ARCHIVE_SUFFIXES), "*.pom")
    prefetch = False  # archives are read by seeking to their central directory

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        poms = [f for f in files if f.path.endswith(".pom")]
        repo, errors = maven_repo_poms(poms, context) if poms else ({}, [])
        yield from errors
        archives = [f for f in files if not f.path.endswith(".pom")]
        walk = _Walk(context.limits)
        for number, f in enumerate(within_time(archives, context, self.name)):
            if isinstance(f, AnalyzerError):
                yield f
            elif walk.exhausted:
                yield self._not_opened(archives[number:], walk)
                return
            else:
                yield from self.parse_file(
                    f, lambda f: self._archive_file(f, repo.get(f.path), walk)
                )

    def _not_opened(self, left: Sequence[FileInput], walk: _Walk) -> AnalyzerError:
        """The one error for the archives left once ``max_archives_opened`` were opened."""
        more = f" and {len(left) - 1} more archive(s)" if len(left) > 1 else ""
        return AnalyzerError(
            self.name,
            f"{left[0].path}{more}: not read: more than Limits.max_archives_opened "
            f"({walk.limits.max_archives_opened}) archives were opened in this analysis",
            left[0].path,
        )

    def _archive_file(
        self, f: FileInput, repo_pom: RepoPom | None, walk: _Walk
    ) -> Iterator[Result]:
        walk.start(f)
        try:
            with f.open() as fh:
                yield from self._archive(fh, f.path, f.location, 1, walk, repo_pom)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            yield AnalyzerError(self.name, f"{f.path}: not a readable archive: {exc}", f.path)

    def _archive(
        self,
        fh: IO[bytes],
        virtual_path: str,
        location: Location,
        level: int,
        walk: _Walk,
        repo_pom: RepoPom | None = None,
    ) -> Iterator[Result]:
        """What one archive says, at ``level`` (the outer archive is level 1)."""
        walk.open(virtual_path)
        archive, entries = open_zip(fh, virtual_path, walk.limits, walk.held)
        walk.held += entries
        try:
            with archive:
                yield from self._contents(archive, virtual_path, location, level, walk, repo_pom)
        finally:
            walk.held -= entries

    def _contents(
        self,
        archive: zipfile.ZipFile,
        virtual_path: str,
        location: Location,
        level: int,
        walk: _Walk,
        repo_pom: RepoPom | None,
    ) -> Iterator[Result]:
        """What one open archive says (its directory within the limits)."""
        infos = {i.filename: i for i in archive.infolist()}

        def read(name: str) -> bytes:
            info = infos[name]
            if info.file_size > MAX_META_BYTES:
                raise ValueError(f"{name} is larger than {MAX_META_BYTES} bytes")
            walk.take(f"{virtual_path}:{name}", info.file_size)
            return archive.read(info)  # never more than file_size: zipfile stops there

        manifest = {}
        if "META-INF/MANIFEST.MF" in infos:
            manifest = parse_manifest(read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))
        poms = sorted(
            n for n in infos if n.startswith("META-INF/maven/") and n.endswith("/pom.properties")
        )
        pom_xmls = sorted(
            n for n in infos if n.startswith("META-INF/maven/") and n.endswith("/pom.xml")
        )
        properties = [parse_pom_properties(read(n).decode("utf-8", "replace")) for n in poms]
        properties = [p for p in properties if p.get("artifactId") and p.get("version")]
        file_name, file_version = _from_filename(virtual_path.rsplit(":", 1)[-1])

        # which pom.properties is the archive's own artifact?
        own = None
        for props in properties:
            if props["artifactId"] == file_name or (
                manifest.get("Implementation-Title") == props["artifactId"]
            ):
                own = props
                break
        if own is None and len(properties) == 1:
            own = properties[0]
        licenses = (
            [manifest["Bundle-License"]] if manifest.get("Bundle-License", "").strip() else []
        )
        yield from self._own_package(
            own, properties, pom_xmls, read, manifest, repo_pom, licenses,
            file_name, file_version, location, virtual_path,
        )  # fmt: skip
        # bundled artifacts: every other pom.properties is a package of its own
        for props in properties:
            if props is own:
                continue
            inner = f"{virtual_path}:{props.get('groupId')}:{props['artifactId']}"
            yield _maven_package(
                props.get("groupId"),
                props["artifactId"],
                props["version"],
                location,
                inner,
                identity="pom.properties",
                group_source="pom.properties",
            )
        yield from self._nested(archive, infos, virtual_path, location, level, walk)

    def _nested(
        self,
        archive: zipfile.ZipFile,
        infos: dict[str, zipfile.ZipInfo],
        virtual_path: str,
        location: Location,
        level: int,
        walk: _Walk,
    ) -> Iterator[Result]:
        """The archives inside ``archive``, each all or nothing, on its own.

        One that cannot be read (corrupt, an unsupported compression, too large) is one
        error naming it, and the outer archive and its siblings still count. Past a
        limit of the walk (archives opened, bytes inflated, the analyzer's time) one
        error names it, and no further nested archive of this outer archive is read;
        below ``max_archive_depth`` levels, one error names the archive whose nested
        archives were not read.
        """
        nested = [
            (name, info)
            for name, info in infos.items()
            if name.lower().endswith(ARCHIVE_SUFFIXES) and not info.is_dir()
        ]
        deepest = walk.limits.max_archive_depth
        if nested and level >= deepest:
            yield AnalyzerError(
                self.name,
                f"{virtual_path}: {len(nested)} nested archive(s) not read: deeper than "
                f"Limits.max_archive_depth ({deepest})",
                location.path,
            )
            return
        for name, info in nested:
            if walk.stopped:
                return
            inner = f"{virtual_path}:{name}"
            if info.file_size > NESTED_MAX_BYTES:
                yield AnalyzerError(
                    self.name,
                    f"{inner}: nested archive of {info.file_size} bytes skipped "
                    f"(limit {NESTED_MAX_BYTES})",
                    location.path,
                )
                continue
            try:
                walk.take(inner, info.file_size)
                data = archive.read(info)  # at most file_size bytes (checked above)
                found = list(self._archive(io.BytesIO(data), inner, location, level + 1, walk))
            except LimitExceededError as exc:
                # a limit of the walk ends it; one archive's too long directory costs only it
                walk.stopped = exc.limit != "max_archive_entries"
                yield AnalyzerError(self.name, about(inner, exc), location.path)
            except Exception as exc:
                yield AnalyzerError(self.name, about(inner, exc), location.path)
            else:
                yield from found

    def _own_package(
        self,
        own: dict[str, str] | None,
        properties: list[dict[str, str]],
        pom_xmls: list[str],
        read: Any,
        manifest: dict[str, str],
        repo_pom: RepoPom | None,
        licenses: list[str],
        file_name: str | None,
        file_version: str | None,
        location: Location,
        virtual_path: str,
    ) -> Iterator[Result]:
        """The archive's own artifact: identity first, then its groupId, each in a fixed order."""
        group: str | None = None
        group_source = "unknown"
        if own is not None:
            pom = self._pom_for(own, pom_xmls, read)
            artifact, version = own["artifactId"], own["version"]
            group = own.get("groupId") or None
            identity = group_source = "pom.properties"
            licenses = pom.get("licenses") or licenses
        else:
            pom = {}
            if pom_xmls and not properties:
                try:
                    pom = _pom_xml(read(pom_xmls[0]))
                except ET.ParseError:
                    pom = {}
            if pom.get("artifactId"):
                artifact = pom["artifactId"]
                version = (
                    pom.get("version")
                    or manifest.get("Implementation-Version")
                    or manifest.get("Bundle-Version")
                    or file_version
                    or ""
                )
                group = pom.get("groupId")
                identity = "pom.xml"
                group_source = "pom.xml parent" if pom.get("groupFromParent") else "pom.xml"
                licenses = pom.get("licenses") or licenses
            elif repo_pom is not None:
                artifact = repo_pom.artifact_id
                version = (
                    repo_pom.version
                    or manifest.get("Implementation-Version")
                    or manifest.get("Bundle-Version")
                    or file_version
                    or ""
                )
                identity = "maven-repo pom"
            else:
                name = (
                    next(
                        (
                            manifest[k]
                            for k in ("Implementation-Title", "Bundle-Name")
                            if _artifact_like(manifest.get(k))
                        ),
                        None,
                    )
                    or file_name
                )
                version = (
                    manifest.get("Implementation-Version")
                    or manifest.get("Bundle-Version")
                    or manifest.get("Specification-Version")
                    or file_version
                    or ""
                )
                identity = (
                    "MANIFEST.MF" if name != file_name or version != file_version else "file name"
                )
                if not name:
                    return
                artifact = name
            if not version:
                return
        if not group and repo_pom is not None and repo_pom.artifact_id == artifact:
            group = repo_pom.group_id
            group_source = (
                "maven-repo pom parent" if repo_pom.group_from_parent else "maven-repo pom"
            )
        if not group:
            from_manifest = group_from_manifest(manifest, artifact)
            if from_manifest is not None:
                group, group_source = from_manifest
        yield _maven_package(
            group,
            artifact,
            version,
            location,
            virtual_path,
            licenses,
            identity=identity,
            group_source=group_source,
            manifest_name=manifest.get("Bundle-SymbolicName")
            if identity != "pom.properties"
            else None,
            repo_pom=repo_pom.path
            if repo_pom is not None and repo_pom.artifact_id == artifact
            else None,
        )

    @staticmethod
    def _pom_for(props: dict[str, str], pom_xmls: list[str], read: Any) -> dict[str, Any]:
        wanted = f"META-INF/maven/{props.get('groupId')}/{props['artifactId']}/pom.xml"
        if wanted in pom_xmls:
            try:
                return _pom_xml(read(wanted))
            except ET.ParseError:
                return {}
        return {}


@hookimpl
def anchore_analyzers() -> list[JavaAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [JavaAnalyzer()]
