"""CycloneDX 1.6 and 1.5, JSON and XML, written through cyclonedx-python-lib and read
back into an :class:`~anchore.analysis.model.Analysis` (ours losslessly for packages,
syft's with its own properties); the property names are documented in docs/sbom.md."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import attrs
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.spdx import is_expression, is_supported_id
from packageurl import PackageURL

from anchore.analysis.model import Analysis, Distro, Package
from anchore.limits import Limits
from anchore.plugins import hookimpl
from anchore.sbom.common import TOOL_NAME, TOOL_VENDOR, tool_version
from anchore.sbom.cyclonedx_read import read_cyclonedx
from anchore.sbom.format import SbomFormat
from anchore.serialize import plain

__all__ = ["CYCLONEDX_FORMATS", "CycloneDxFormat", "to_bom"]

#: the prefix of every property we write
P = "anchore:"
#: the bom-ref of the image (metadata.component) and of the distro component
IMAGE_REF = "anchore:image"
DISTRO_REF = "anchore:distro"

_HASHES = {
    "sha1": HashAlgorithm.SHA_1,
    "sha256": HashAlgorithm.SHA_256,
    "sha384": HashAlgorithm.SHA_384,
    "sha512": HashAlgorithm.SHA_512,
    "md5": HashAlgorithm.MD5,
}


def _licenses(pkg: Package) -> list[DisjunctiveLicense | LicenseExpression]:
    """SPDX ids where the id is one SPDX knows, an expression when the package has that
    one license and it is a valid expression (CycloneDX allows one expression or a list
    of licenses), names otherwise."""
    if len(pkg.licenses) == 1 and not is_supported_id(pkg.licenses[0]):
        text = pkg.licenses[0]
        if any(op in text for op in (" AND ", " OR ", " WITH ")) and is_expression(text):
            return [LicenseExpression(text)]
    return [
        DisjunctiveLicense(id=text) if is_supported_id(text) else DisjunctiveLicense(name=text)
        for text in pkg.licenses
    ]


def _hashes(pkg: Package) -> list[HashType]:
    out = []
    for key, algorithm in _HASHES.items():
        value = pkg.metadata.get(key)
        if isinstance(value, str) and value and all(c in "0123456789abcdef" for c in value):
            out.append(HashType(alg=algorithm, content=value))
    return out


def _props(pairs: Iterator[tuple[str, str]]) -> list[Property]:
    return [Property(name=P + name, value=value) for name, value in pairs]


def _package_props(pkg: Package, owners: Sequence[str]) -> Iterator[tuple[str, str]]:
    yield "package:type", pkg.type
    if pkg.found_by:
        yield "package:found_by", pkg.found_by
    if pkg.declared:
        yield "package:declared", "true"
    for key in ("source_name", "source_version", "architecture"):
        value = getattr(pkg, key)
        if value is not None:
            yield f"package:{key}", value
    for cpe in pkg.cpes[1:]:
        yield "package:cpe", cpe
    for i, loc in enumerate(pkg.locations):
        yield f"location:{i}:path", loc.path
        yield f"location:{i}:layer_index", str(loc.layer_index)
        yield f"location:{i}:layer_digest", loc.layer_digest
    if pkg.metadata:
        yield "package:metadata", json.dumps(plain(pkg.metadata), sort_keys=True)
    for parent in owners:
        yield "package:owned_by", parent


def _image_component(analysis: Analysis) -> Component:
    info = analysis.image
    props: list[tuple[str, str]] = []
    if info.manifest_digest:
        props.append(("image:manifest_digest", info.manifest_digest))
    if info.config_digest:
        props.append(("image:config_digest", info.config_digest))
    props += [("image:tag", tag) for tag in info.tags]
    props.append(("image:platform", str(info.platform)))
    if info.source:
        props.append(("image:source", info.source))
    props.append(("image:info", json.dumps(info.to_dict(), sort_keys=True)))
    hashes = []
    if info.manifest_digest and info.manifest_digest.startswith("sha256:"):
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=info.manifest_digest[7:]))
    return Component(
        type=ComponentType.CONTAINER,
        bom_ref=IMAGE_REF,
        name=info.reference or info.source or "image",
        version=info.manifest_digest or info.config_digest or None,
        hashes=hashes,
        properties=_props(iter(props)),
    )


def _distro_component(distro: Distro) -> Component:
    props = [("distro:id", distro.id)]
    for key in ("version_id", "version_codename", "pretty_name", "cpe_name"):
        value = getattr(distro, key)
        if value is not None:
            props.append((f"distro:{key}", value))
    props += [("distro:id_like", like) for like in distro.id_like]
    for i, loc in enumerate(distro.locations):
        props += [(f"location:{i}:path", loc.path),
                  (f"location:{i}:layer_index", str(loc.layer_index)),
                  (f"location:{i}:layer_digest", loc.layer_digest)]  # fmt: skip
    return Component(
        type=ComponentType.OPERATING_SYSTEM,
        bom_ref=DISTRO_REF,
        name=distro.id,
        version=distro.version_id,
        description=distro.pretty_name,
        cpe=distro.cpe,
        properties=_props(iter(props)),
    )


def bom_refs(packages: Sequence[Package]) -> list[str]:
    """Each package's bom-ref: its purl, with ``#anchore-N`` after the first package of
    that purl (a purl is no unique key: one package found twice, by two analyzers)."""
    seen: dict[str, int] = {}
    refs = []
    for pkg in packages:
        base = pkg.purl or f"{pkg.type}:{pkg.name}@{pkg.version}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        refs.append(base if n == 0 else f"{base}#anchore-{n}")
    return refs


def to_bom(analysis: Analysis) -> Bom:
    """The CycloneDX BOM of ``analysis``."""
    refs = bom_refs(analysis.packages)
    # relationships name packages by purl: a purl-less package (a plugin's) is none of
    # them, and an empty purl names no package (keyed, it aliased the first purl-less one)
    first_ref: dict[str, str] = {}
    for pkg, ref in zip(analysis.packages, refs, strict=True):
        if pkg.purl:
            first_ref.setdefault(pkg.purl, ref)
    owners: dict[str, list[str]] = {}
    for rel in analysis.relationships:
        if rel.parent and rel.child:
            owners.setdefault(rel.child, []).append(rel.parent)
    by_ref: dict[str, Component] = {}
    for pkg, ref in zip(analysis.packages, refs, strict=True):
        try:
            purl = PackageURL.from_string(pkg.purl) if pkg.purl else None
        except ValueError:
            purl = None
        owned_by = owners.get(pkg.purl, ()) if ref == first_ref.get(pkg.purl) else ()
        by_ref[ref] = Component(
            type=ComponentType.LIBRARY,
            bom_ref=ref,
            name=pkg.name,
            version=pkg.version,
            purl=purl,
            cpe=pkg.cpes[0] if pkg.cpes else None,
            licenses=_licenses(pkg),
            hashes=_hashes(pkg),
            properties=_props(_package_props(pkg, owned_by)),
        )
    components = list(by_ref.values())
    if analysis.distro is not None:
        components.append(_distro_component(analysis.distro))
    # an OS package that ships a language package's evidence: parent dependsOn child
    depends: dict[str, list[str]] = {}
    for rel in analysis.relationships:
        if rel.parent in first_ref and rel.child in first_ref:
            depends.setdefault(first_ref[rel.parent], []).append(first_ref[rel.child])
    # the image depends on what no package of it ships (the library asks for the root's
    # dependencies: without them the graph is incomplete)
    owned = {child for children in depends.values() for child in children}
    image = _image_component(analysis)
    roots = [Dependency(ref=by_ref[ref].bom_ref) for ref in by_ref if ref not in owned]
    dependencies = [Dependency(ref=image.bom_ref, dependencies=roots)] + [
        Dependency(
            ref=by_ref[parent].bom_ref,
            dependencies=[Dependency(ref=by_ref[child].bom_ref) for child in children],
        )
        for parent, children in depends.items()
    ]
    analysis_props = [
        ("analysis:analyzers", json.dumps(list(analysis.analyzers))),
        ("analysis:failed_analyzers", json.dumps(list(analysis.failed_analyzers))),
        # what an analyzer could not read: without it an imported SBOM looks complete
        ("analysis:errors", json.dumps([e.to_dict() for e in analysis.errors])),
    ]
    tool = Component(type=ComponentType.APPLICATION, name=TOOL_NAME, version=tool_version(),
                     publisher=TOOL_VENDOR)  # fmt: skip
    return Bom(
        components=components,
        metadata=BomMetaData(
            tools=ToolRepository(components=[tool]),
            component=image,
            properties=_props(iter(analysis_props)),
        ),
        dependencies=dependencies,
    )


@attrs.define
class CycloneDxFormat:
    """CycloneDX in one encoding and schema version. Reading takes any version the
    encoding has (the unversioned format detects them all)."""

    name: str
    description: str
    media_type: str
    extension: str
    output_format: OutputFormat
    schema_version: SchemaVersion
    #: whether sniffing picks this format (the unversioned name does; ``@1.5`` reads alike)
    sniffs: bool = True

    def write(self, analysis: Analysis, fp: BinaryIO) -> None:
        outputter = make_outputter(to_bom(analysis), self.output_format, self.schema_version)
        text = outputter.output_as_string(indent=None)
        if self.output_format is OutputFormat.JSON:
            # the library sorts keys: bomFormat would come last, past what sniffing reads
            doc = json.loads(text)
            head = {k: doc.pop(k) for k in ("$schema", "bomFormat", "specVersion") if k in doc}
            text = json.dumps({**head, **doc})
        fp.write(text.encode("utf-8"))

    def detect(self, head: bytes) -> bool:
        if not self.sniffs:
            return False
        if self.output_format is OutputFormat.JSON:
            start = head.lstrip()[:4096]
            if not start.startswith(b"{"):
                return False
            if b'"bomFormat"' in head and b'"CycloneDX"' in head:
                return True
            # cyclonedx-python-lib sorts keys: a large BOM of a tool built on it opens with
            # its components (bom-ref is CycloneDX's own key) and names its format last
            return start[1:].lstrip().startswith(b'"components"') and b'"bom-ref"' in start
        return b"<bom" in head[:4096] and b"http://cyclonedx.org/schema/bom/" in head[:4096]

    def read(self, path: str, fp: BinaryIO, limits: Limits) -> Analysis:
        xml = self.output_format is OutputFormat.XML
        return read_cyclonedx(path, fp, limits, xml=xml, origin=f"sbom:{self.name}")


def _format(encoding: str, version: SchemaVersion, suffix: str = "") -> CycloneDxFormat:
    json_ = encoding == "json"
    return CycloneDxFormat(
        name=f"cyclonedx-{encoding}{suffix}",
        description=f"CycloneDX {version.to_version()} {encoding.upper()}",
        media_type=f"application/vnd.cyclonedx+{encoding}; version={version.to_version()}",
        extension=".cdx.json" if json_ else ".cdx.xml",
        output_format=OutputFormat.JSON if json_ else OutputFormat.XML,
        schema_version=version,
        sniffs=not suffix,
    )


CYCLONEDX_FORMATS: tuple[CycloneDxFormat, ...] = (
    _format("json", SchemaVersion.V1_6),
    _format("json", SchemaVersion.V1_5, "@1.5"),
    _format("xml", SchemaVersion.V1_6),
    _format("xml", SchemaVersion.V1_5, "@1.5"),
)


@hookimpl
def anchore_sbom_formats() -> Sequence[SbomFormat]:
    return list(CYCLONEDX_FORMATS)
