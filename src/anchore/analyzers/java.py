"""Java archives: jar, war, ear, par, sar, jpi, hpi, nested to a bounded depth.

One package per Maven artifact. The identity of an archive's own package is
chosen in a fixed order: ``pom.properties``, then ``pom.xml``, then
``MANIFEST.MF``, then the file name. Further ``pom.properties`` inside an
archive (shaded or bundled artifacts) are packages of their own, located at
``outer.jar:groupId:artifactId``. Nested archives are read into memory up to
``NESTED_MAX_BYTES`` and ``MAX_DEPTH`` levels deep.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.model import AnalyzerError, Location, Package
from anchore.analyzers.common import make_purl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["JavaAnalyzer", "parse_manifest", "parse_pom_properties"]

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi", ".nar", ".kar")
MAX_DEPTH = 4
NESTED_MAX_BYTES = 64 * 1024 * 1024
MAX_META_BYTES = 4 * 1024 * 1024
_FILENAME = re.compile(r"^(?P<name>.+?)(?:[-_](?P<version>\d[\w.+~-]*?))?(?:\.[a-z]+)$", re.I)


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of a MANIFEST.MF (72-byte lines continued by a leading space)."""
    main: dict[str, str] = {}
    last = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if main:
                break  # the main section ends at the first blank line
            continue
        if line.startswith(" ") and last:
            main[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            main[last] = value.strip()
    return main


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


def _pom_xml(data: bytes) -> dict[str, Any]:
    root = ET.fromstring(data)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""

    def text(node: ET.Element | None, tag: str) -> str | None:
        found = node.find(ns + tag) if node is not None else None
        return found.text.strip() if found is not None and found.text else None

    parent = root.find(ns + "parent")
    licenses = [
        (lic.findtext(ns + "name") or "").strip()
        for lic in root.findall(f"{ns}licenses/{ns}license")
    ]
    return {
        "groupId": text(root, "groupId") or text(parent, "groupId"),
        "artifactId": text(root, "artifactId"),
        "version": text(root, "version") or text(parent, "version"),
        "name": text(root, "name"),
        "licenses": [x for x in licenses if x],
    }


def _from_filename(path: str) -> tuple[str | None, str | None]:
    base = path.rsplit("/", 1)[-1]
    match = _FILENAME.match(base)
    if not match:
        return None, None
    return match.group("name"), match.group("version")


def _maven_package(
    group: str | None,
    artifact: str,
    version: str,
    location: Location,
    virtual_path: str,
    licenses: Sequence[str] = (),
    **metadata: Any,
) -> Package:
    return Package(
        type="java-archive",
        name=artifact,
        version=version,
        purl=make_purl("maven", artifact, version, namespace=group or None),
        locations=(location,),
        licenses=tuple(licenses),
        metadata={
            "virtual_path": virtual_path,
            "group_id": group,
            **{k: v for k, v in metadata.items() if v},
        },
    )


def _artifact_like(value: str | None) -> bool:
    return bool(value) and not any(c.isspace() for c in value or "")


class JavaAnalyzer:
    name = "java"
    patterns: Sequence[str] = tuple("*" + s for s in ARCHIVE_SUFFIXES)
    prefetch = False  # archives are read by seeking to their central directory

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        for f in files:
            location = context.location(f.entry, context.introduced_in(f.entry))
            try:
                with f.open() as fh:
                    yield from self._archive(fh, f.path, location, 0)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
                yield AnalyzerError(self.name, f"{f.path}: not a readable archive: {exc}", f.path)
            except Exception as exc:
                yield AnalyzerError(self.name, f"{f.path}: {type(exc).__name__}: {exc}", f.path)

    def _archive(
        self, fh: IO[bytes], virtual_path: str, location: Location, depth: int
    ) -> Iterator[Result]:
        with zipfile.ZipFile(fh) as archive:
            infos = {i.filename: i for i in archive.infolist()}

            def read(name: str) -> bytes:
                info = infos[name]
                if info.file_size > MAX_META_BYTES:
                    raise ValueError(f"{name} is larger than {MAX_META_BYTES} bytes")
                return archive.read(info)

            manifest = {}
            if "META-INF/MANIFEST.MF" in infos:
                manifest = parse_manifest(read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))
            poms = sorted(
                n
                for n in infos
                if n.startswith("META-INF/maven/") and n.endswith("/pom.properties")
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
            if own is not None:
                pom = self._pom_for(own, pom_xmls, read)
                yield _maven_package(
                    own.get("groupId"),
                    own["artifactId"],
                    own["version"],
                    location,
                    virtual_path,
                    pom.get("licenses") or licenses,
                    identity="pom.properties",
                )
            elif pom_xmls and not properties:
                pom = _pom_xml(read(pom_xmls[0]))
                if pom.get("artifactId") and pom.get("version"):
                    yield _maven_package(
                        pom.get("groupId"),
                        pom["artifactId"],
                        pom["version"],
                        location,
                        virtual_path,
                        pom.get("licenses") or licenses,
                        identity="pom.xml",
                    )
                else:
                    own = None
            if own is None and not (pom_xmls and not properties):
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
                )
                source = (
                    "MANIFEST.MF" if name != file_name or version != file_version else "file name"
                )
                if name and version:
                    yield _maven_package(
                        None,
                        name,
                        version,
                        location,
                        virtual_path,
                        licenses,
                        identity=source,
                        manifest_name=manifest.get("Bundle-SymbolicName"),
                    )
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
                )
            if depth < MAX_DEPTH:
                for name, info in infos.items():
                    if name.lower().endswith(ARCHIVE_SUFFIXES) and not info.is_dir():
                        if info.file_size > NESTED_MAX_BYTES:
                            yield AnalyzerError(
                                self.name,
                                f"{virtual_path}:{name}: nested archive of "
                                f"{info.file_size} bytes skipped (limit {NESTED_MAX_BYTES})",
                                location.path,
                            )
                            continue
                        nested = io.BytesIO(archive.read(info))
                        try:
                            yield from self._archive(
                                nested, f"{virtual_path}:{name}", location, depth + 1
                            )
                        except zipfile.BadZipFile as exc:
                            yield AnalyzerError(
                                self.name, f"{virtual_path}:{name}: {exc}", location.path
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
