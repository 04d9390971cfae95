"""An :class:`~anchore.analysis.model.Analysis` read back from an SPDX 2.x JSON document.

Ours (:mod:`.spdx`) carries each package whole in an ``anchore:package=`` annotation, the
image, the distro and the analyzers in theirs: read back, they are the packages written.
Any other document is read from its standard fields: the purl external reference gives
the package type (:func:`~anchore.sbom.common.package_type_of`), ``licenseDeclared`` the
licenses (split at its top-level ``AND``, a ``LicenseRef-`` by its extracted name), the
``cpe23Type``/``cpe22Type`` references the CPEs; syft's ``evident-by`` relationships to
its file elements give the locations (path and syft's ``layerID``, the layer's diff id;
the index is -1, as syft's SPDX does not list the layers; sorted by path, as syft's
``sourceInfo`` lists them). The distro is the OPERATING-SYSTEM package without a purl,
else the one distro every OS package's purl names (``distro=debian-12``), as grype
infers it. A package with neither purl nor version that CONTAINS others groups them
(trivy's ``python-pkg``): it is not a package itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, BinaryIO

import attrs
from packageurl import PackageURL

from anchore import ecosystems
from anchore.analysis.model import (
    Analysis,
    AnalyzerError,
    Distro,
    Location,
    Package,
    Relationship,
)
from anchore.documents import load_json
from anchore.errors import ImageFormatError
from anchore.image.model import ImageInfo
from anchore.limits import Limits
from anchore.sbom.anchore_json import distro_from_dict, package_from_dict
from anchore.sbom.common import (
    Fields,
    analyzer_errors,
    imported_analysis,
    load_sbom_json,
    namespace_metadata,
    package_type_of,
    read_bounded,
)
from anchore.sbom.errors import SbomFormatError

__all__ = [
    "ANALYSIS_NOTE",
    "DISTRO_NOTE",
    "IMAGE_NOTE",
    "PACKAGE_NOTE",
    "RELATIONSHIP_NOTE",
    "analysis_from_spdx",
    "read_spdx",
]

#: the annotation comments our documents carry, each followed by JSON
PACKAGE_NOTE = "anchore:package="
IMAGE_NOTE = "anchore:image="
DISTRO_NOTE = "anchore:distro="
ANALYSIS_NOTE = "anchore:analysis="
#: a relationship comment: the kind of an anchore relationship other than owns-evidence
RELATIONSHIP_NOTE = "anchore:relationship="

_MANAGER = ("PACKAGE-MANAGER", "PACKAGE_MANAGER")
_CPE_TYPES = ("cpe23Type", "cpe22Type")


def read_spdx(
    path: str, fp: BinaryIO, limits: Limits, *, origin: str = "sbom:spdx-json"
) -> Analysis:
    """The analysis the SPDX JSON document in ``fp`` describes (``path`` names it in errors)."""
    doc = load_sbom_json(path, read_bounded(path, fp, limits), limits)
    return analysis_from_spdx(doc, path, origin=origin, max_depth=limits.max_json_depth)


class _Reader:
    def __init__(self, path: str, max_depth: int) -> None:
        self.path, self.max_depth = path, max_depth

    def note(self, element: Fields, prefix: str) -> Fields | None:
        """The JSON object following ``prefix`` in one of the element's annotations."""
        for ann in element.objects("annotations") or ():
            comment = ann.text("comment")
            if comment is None or not comment.startswith(prefix):
                continue
            where = f"{ann.where}.comment"

            def fail(problem: str, where: str = where) -> SbomFormatError:
                return SbomFormatError(f"{self.path}: {where} {problem}", source=self.path)

            try:
                value = load_json(comment[len(prefix) :], fail, max_depth=self.max_depth)
            except SbomFormatError:
                raise
            except ValueError as exc:
                raise fail(f"is not {prefix}JSON: {exc}") from None
            return Fields(self.path, value, f"{where}<{prefix.rstrip('=')}>")
        return None


def _split_and(expression: str) -> list[str]:
    """The operands of an expression's top-level ``AND`` (one when there is none)."""
    parts, depth, start, i = [], 0, 0, 0
    text = expression.strip()
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(" AND ", i):
            parts.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    parts.append(text[start:])
    return [_unwrap(p.strip()) for p in parts if p.strip()]


def _unwrap(text: str) -> str:
    """``(A OR B)`` is ``A OR B`` when the parentheses wrap it whole (any number of
    layers, found in one pass: a hostile ``((((...))))`` costs its length, not its square)."""
    lead = len(text) - len(text.lstrip("("))
    trail = len(text) - len(text.rstrip(")"))
    if not lead or not trail:
        return text
    layers = min(lead, trail)
    if lead + trail <= len(text):  # the depth inside the runs must not fall below a layer
        depth = lead
        for ch in text[lead : len(text) - trail]:
            depth += (ch == "(") - (ch == ")")
            layers = min(layers, depth)
        if depth < trail:  # more closed than opened: no layer wraps it all
            return text
    else:  # "()": the runs overlap
        layers = len(text) // 2
    return text[layers : len(text) - layers].strip() if layers > 0 else text


def _licenses(expression: str | None, extracted: dict[str, str]) -> tuple[str, ...]:
    if not expression or expression.strip() in ("NOASSERTION", "NONE"):
        return ()
    return tuple(extracted.get(part, part) for part in _split_and(expression))


def _refs(f: Fields) -> tuple[str, tuple[str, ...]]:
    """The package's purl (its first) and CPEs, from its external references."""
    purl, cpes = "", []
    for ref in f.objects("externalRefs") or ():
        category, kind = ref.text("referenceCategory"), ref.text("referenceType")
        if kind == "purl" and category in _MANAGER and not purl:
            purl = ref.required_text("referenceLocator")
        elif kind in _CPE_TYPES and category == "SECURITY":
            cpes.append(ref.required_text("referenceLocator"))
    return purl, tuple(cpes)


def _distro_from_purls(packages: Iterable[Package]) -> Distro | None:
    """The distro every OS package's purl names, when they name exactly one."""
    named = set()
    for pkg in packages:
        if pkg.type not in ecosystems.OS_PACKAGE_TYPES:
            continue
        try:
            qualifiers = PackageURL.from_string(pkg.purl).qualifiers
            named.add(qualifiers.get("distro") if isinstance(qualifiers, dict) else None)
        except ValueError:
            return None
    if len(named) != 1:
        return None
    (name,) = named
    if not name or "-" not in name:
        return None
    distro_id, _, version = name.rpartition("-")
    return Distro(id=distro_id, version_id=version or None)


def _file_locations(
    doc: Fields, relationships: list[Fields]
) -> tuple[dict[str, list[Location]], dict[str, list[Location]]]:
    """Locations per package SPDXID from its relationships to file elements: syft's
    ``evident-by`` ones, and the files a package ``CONTAINS`` (trivy's evidence files;
    for syft, the files a package installed: used only where no evident-by says more)."""
    files = {}
    for file in doc.objects("files") or ():
        spdx_id, name = file.text("SPDXID"), file.text("fileName")
        if spdx_id and name:
            comment = file.text("comment") or ""
            layer = comment.partition("layerID:")[2].strip() if "layerID:" in comment else ""
            files[spdx_id] = Location("/" + name.removeprefix("./").lstrip("/"), -1, layer)
    evident: dict[str, list[Location]] = {}
    contained: dict[str, list[Location]] = {}
    for rel in relationships:
        kind, comment = rel.raw["relationshipType"], rel.text("comment") or ""
        loc = files.get(rel.raw["relatedSpdxElement"])
        if loc is None:
            continue
        if kind == "OTHER" and comment.startswith("evident-by"):
            evident.setdefault(rel.raw["spdxElementId"], []).append(loc)
        elif kind == "CONTAINS":
            contained.setdefault(rel.raw["spdxElementId"], []).append(loc)
    return evident, contained


def _layer_of(element: Fields) -> str:
    """The layer trivy names in a package's ``attributionTexts`` (``LayerDiffID: sha256:...``)."""
    for text in element.strings("attributionTexts"):
        if text.startswith("LayerDiffID:"):
            return text.partition(":")[2].strip()
    return ""


def _foreign_locations(
    spdx_id: str, element: Fields, evident: dict[str, list[Location]],
    contained: dict[str, list[Location]],
) -> tuple[Location, ...]:  # fmt: skip
    found = evident.get(spdx_id) or contained.get(spdx_id) or []
    layer = _layer_of(element)
    if layer:
        found = [
            loc if loc.layer_digest else attrs.evolve(loc, layer_digest=layer) for loc in found
        ]
    return tuple(sorted(set(found)))


def _merged(
    placed: list[Relationship], unplaced: list[tuple[int | None, Relationship]]
) -> list[Relationship]:
    """The relationships in their written order: ``unplaced`` ones (naming no package of
    the document) each at the place ``at`` it had, the others in document order; in one
    pass, however many there are."""
    out: list[Relationship] = []
    rest = iter(placed)
    for at, rel in sorted(
        unplaced, key=lambda u: len(placed) + len(unplaced) if u[0] is None else u[0]
    ):
        while at is not None and len(out) < at:
            nxt = next(rest, None)
            if nxt is None:
                break
            out.append(nxt)
        out.append(rel)
    out.extend(rest)
    return out


def analysis_from_spdx(
    raw: Any,
    path: str = "the SPDX document",
    *,
    origin: str = "sbom:spdx-json",
    max_depth: int = 64,
) -> Analysis:
    """The :class:`Analysis` an SPDX 2.x JSON document (as JSON values) describes; a
    malformed document is an :class:`SbomFormatError` naming ``path`` and the place
    (``$.packages[12].externalRefs``)."""
    doc = Fields(path, raw)
    spdx_version = doc.required_text("spdxVersion")
    if not spdx_version.startswith("SPDX-2."):
        raise doc.error("spdxVersion", f"is {spdx_version!r}, not SPDX-2.x")
    doc.required_text("SPDXID")
    reader = _Reader(path, max_depth)
    extracted = {}
    for info in doc.objects("hasExtractedLicensingInfos") or ():
        ref = info.required_text("licenseId")
        extracted[ref] = info.text("name") or info.text("extractedText") or ref
    relationships = doc.objects("relationships") or []
    for rel in relationships:
        for key in ("spdxElementId", "relatedSpdxElement", "relationshipType"):
            rel.required_text(key)
    evident, contained = _file_locations(doc, relationships)
    groups = {
        r.raw["spdxElementId"] for r in relationships if r.raw["relationshipType"] == "CONTAINS"
    }

    image: ImageInfo | None = None
    distro: Distro | None = None
    packages: list[Package] = []
    purl_of: dict[str, str] = {}
    seen: set[str] = set()
    for element in doc.objects("packages") or ():
        spdx_id = element.required_text("SPDXID")
        if spdx_id in seen:
            raise element.error("SPDXID", f"{spdx_id!r} is given to two elements")
        seen.add(spdx_id)
        name = element.required_text("name")
        purpose = element.text("primaryPackagePurpose")
        version = element.text("versionInfo")
        declared = element.text("licenseDeclared")
        purl, cpes = _refs(element)  # checked in ours too: the document must be well formed
        ours = reader.note(element, PACKAGE_NOTE)
        if ours is not None:
            pkg = package_from_dict(ours)
        elif (image_note := reader.note(element, IMAGE_NOTE)) is not None or (
            purpose == "CONTAINER" and image is None
        ):
            image = _image(image_note, element, name, path)
            continue
        elif (distro_note := reader.note(element, DISTRO_NOTE)) is not None:
            distro = distro_from_dict(distro_note)
            continue
        else:
            if purpose == "OPERATING-SYSTEM" and not purl:
                distro = Distro(
                    id=name.lower(), version_id=version, pretty_name=element.text("description")
                )
                continue
            if not purl and not version and spdx_id in groups:
                continue  # a grouping, not a package (trivy's "python-pkg" CONTAINS them)
            package_type = package_type_of(purl)
            pkg = Package(
                type=package_type,
                name=name,
                version=version or "",
                purl=purl,
                locations=_foreign_locations(spdx_id, element, evident, contained),
                licenses=_licenses(declared, extracted),
                cpes=cpes,
                metadata=namespace_metadata(purl, package_type),
            )
        packages.append(pkg)
        if pkg.purl:
            purl_of[spdx_id] = pkg.purl

    summary = reader.note(doc, ANALYSIS_NOTE)
    type_of = {pkg.purl: pkg.type for pkg in packages}
    found: list[Relationship] = []
    for rel in relationships:
        parent = purl_of.get(rel.required_text("spdxElementId"))
        child = purl_of.get(rel.required_text("relatedSpdxElement"))
        if parent is None or child is None:
            continue
        kind = rel.required_text("relationshipType")
        comment = rel.text("comment") or ""
        if kind == "CONTAINS" and (
            summary is not None or type_of.get(parent) in ecosystems.OS_PACKAGE_TYPES
        ):  # ours; or another tool's OS package holding a language package's evidence
            found.append(Relationship(parent, child))
        elif kind == "OTHER" and comment.startswith(RELATIONSHIP_NOTE):
            found.append(Relationship(parent, child, comment[len(RELATIONSHIP_NOTE) :]))

    stated: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    errors: list[AnalyzerError] = []
    if summary is not None:
        stated, failed = summary.strings("analyzers"), summary.strings("failed_analyzers")
        errors = analyzer_errors(summary.objects("errors"))
        unplaced = [
            (
                r.integer("at"),
                Relationship(
                    r.required_text("parent"),
                    r.required_text("child"),
                    r.text("kind") or "owns-evidence",
                ),
            )
            for r in summary.objects("relationships") or ()
        ]
        found = _merged(found, unplaced)
    if distro is None and summary is None:
        distro = _distro_from_purls(packages)
    return imported_analysis(
        origin=origin,
        image=image or ImageInfo(),
        distro=distro,
        packages=packages,
        relationships=found,
        stated=stated,
        failed=failed,
        errors=errors,
    )


def _image(note: Fields | None, element: Fields, name: str, path: str) -> ImageInfo:
    """Ours from its annotation; another tool's CONTAINER package names the image and
    gives, as syft does, its manifest digest as the version."""
    if note is None:  # another tool's: what the CONTAINER package says
        version = element.text("versionInfo") or ""
        digest = version if re.fullmatch(r"sha256:[0-9a-f]{64}", version) else None
        return ImageInfo(source=name, manifest_digest=digest)
    try:
        return ImageInfo.from_dict(note.raw, f"{path}: {note.where}")
    except ImageFormatError as exc:
        raise SbomFormatError(str(exc), source=path) from None
