"""``spdx-json``: SPDX 2.3 JSON out, and an analysis read back from it (:mod:`.spdx_read`).

SPDX 2.3 has no free-form properties, so what it has no field for (our package type,
the analyzer that found a package, its locations with their layers, its exact license
list) goes into one package annotation each (``annotationType`` OTHER, annotator our
tool), a comment ``anchore:package=`` followed by the package's JSON as
``anchore analyze --json`` writes it. Reading one of our documents back gives the same
packages; any other SPDX document (syft's) is read from its standard fields alone.

The document is written by hand as JSON: ``spdx-tools`` is the tests' reference
validator, not a dependency.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, BinaryIO

import attrs
from packageurl import PackageURL

from anchore import ecosystems
from anchore.analysis.model import Analysis, Package
from anchore.limits import Limits
from anchore.plugins import hookimpl
from anchore.sbom.common import TOOL_NAME, TOOL_VENDOR, tool_version
from anchore.sbom.format import SbomFormat
from anchore.sbom.spdx_read import (
    ANALYSIS_NOTE,
    DISTRO_NOTE,
    IMAGE_NOTE,
    PACKAGE_NOTE,
    RELATIONSHIP_NOTE,
    analysis_from_spdx,
    read_spdx,
)
from anchore.serialize import plain

__all__ = ["SPDX_JSON", "SpdxJsonFormat", "analysis_from_spdx", "spdx_document"]

NOASSERTION = "NOASSERTION"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
IMAGE_ID = "SPDXRef-DocumentRoot-Image"
#: SPDX 2.3 Annex F: what a ``cpe23Type`` locator must match (spdx-tools checks it)
CPE23_PATTERN = re.compile(
    r'^cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$$%&\'\(\)\+,\/:;<=>@\[\]\^'
    r"`\{\|}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*"
    r'|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$$%&\'\(\)\+,\/:;<=>@\[\]\^`\{\|}~]))+(\?*|\*?))|[\*\-])){4}$'
)
CPE22_PATTERN = re.compile(r"^c[pP][eE]:/[AHOaho]?(:[A-Za-z0-9._\-~%]*){0,6}$")
PURL_PATTERN = re.compile(r"^pkg:.+(\/.+)?\/.+(@.+)?(\?.+)?(#.+)?$")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def _id_part(text: str, most: int = 60) -> str:
    """Text made fit for an SPDXID (letters, digits, ``.`` and ``-``)."""
    return _ID_UNSAFE.sub("-", text).strip("-")[:most] or "x"


def _compact(value: Any) -> str:
    return json.dumps(value, default=plain, separators=(",", ":"), ensure_ascii=False)


class _Licenses:
    """Licenses as SPDX expressions: a valid SPDX id or expression as it is, any other
    name a ``LicenseRef-`` declared in ``hasExtractedLicensingInfos`` (as syft does)."""

    def __init__(self) -> None:
        from cyclonedx import spdx  # the SPDX license list cyclonedx-python-lib ships

        self._spdx = spdx
        self.refs: dict[str, str] = {}
        self._taken: set[str] = set()
        self._known: dict[str, bool] = {}

    def _valid(self, text: str) -> bool:
        known = self._known.get(text)
        if known is None:
            known = (
                "LicenseRef-" not in text
                and "DocumentRef-" not in text
                and (self._spdx.is_supported_id(text) or self._spdx.is_expression(text))
            )
            self._known[text] = known
        return known

    def _ref(self, name: str) -> str:
        ref = self.refs.get(name)
        if ref is None:
            base = f"LicenseRef-{_id_part(name, 80)}"
            ref, n = base, 1
            while ref in self._taken:
                n += 1
                ref = f"{base}-{n}"
            self._taken.add(ref)
            self.refs[name] = ref
        return ref

    def expression(self, licenses: Sequence[str]) -> str:
        parts = []
        for text in licenses:
            if not text.strip():
                continue
            if self._valid(text):
                parts.append(f"({text})" if len(licenses) > 1 and " " in text.strip() else text)
            else:
                parts.append(self._ref(text))
        return " AND ".join(parts) if parts else NOASSERTION

    def extracted(self) -> list[dict[str, str]]:
        return [
            {"licenseId": ref, "extractedText": name, "name": name}
            for name, ref in self.refs.items()
        ]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_name(analysis: Analysis) -> str:
    image = analysis.image
    return image.reference or (os.path.basename(image.source) if image.source else "") or "image"


def _digest_hex(digest: str | None) -> str | None:
    if digest and digest.startswith("sha256:") and re.fullmatch(r"[0-9a-f]{64}", digest[7:]):
        return digest[7:]
    return None


def _image_purl(analysis: Analysis) -> str | None:
    """``pkg:oci/NAME@DIGEST?arch=...`` when the image has a name and a manifest digest."""
    image = analysis.image
    if not image.reference or not image.manifest_digest:
        return None
    name = image.reference.partition("@")[0]
    last = name.rsplit("/", 1)[-1]
    last = last.partition(":")[0].lower()
    if not last:
        return None
    qualifiers = (
        {"arch": image.platform.architecture} if image.platform.architecture != "unknown" else {}
    )
    return str(
        PackageURL(type="oci", name=last, version=image.manifest_digest, qualifiers=qualifiers)
    )


def _purpose(pkg: Package) -> str | None:
    row = ecosystems.find(pkg.type)
    return "LIBRARY" if row is not None and not row.is_os else None


#: where each package type's metadata names who made or maintains it (as syft reads them)
_ORIGINATOR_KEYS = {
    "deb": ("Person", "Maintainer"),
    "apk": ("Person", "maintainer"),
    "npm": ("Person", "author"),
    "python": ("Person", "author"),
    "rpm": ("Organization", "vendor"),
}
#: ``Name <email>`` with an optional ``(url)`` after it, as maintainers and authors are written
_ACTOR = re.compile(r"([^<>()\r\n]*?)\s*(?:<([^<>()\s]+)>)?\s*(?:\([^()\r\n]*\))?")


def _originator(pkg: Package) -> str | None:
    """``Person: Name (email)`` from the package's maintainer or author, when it is written
    plainly enough to be one (anything else is left unsaid, not guessed)."""
    kind, key = _ORIGINATOR_KEYS.get(pkg.type, ("", ""))
    text = pkg.metadata.get(key) if key else None
    if pkg.type == "python":
        email = pkg.metadata.get("author_email")
        if isinstance(email, str) and email.strip() and "<" not in email:
            text = f"{text or ''} <{email.strip()}>"
        elif not text:
            text = email
    if not isinstance(text, str) or not text.strip():
        return None
    found = _ACTOR.fullmatch(text.strip())
    if found is None:
        return None
    name, email = found.group(1).strip(), found.group(2)
    if not name and not email:
        return None
    return f"{kind}: {name or email}" + (f" ({email})" if email else "")


def _source_info(pkg: Package) -> str:
    how = "declared (not installed)" if pkg.declared else "found"
    by = f" by anchore's {pkg.found_by} analyzer" if pkg.found_by else ""
    paths = sorted(dict.fromkeys(loc.path for loc in pkg.locations))
    return f"{how}{by}" + (f" in {', '.join(paths)}" if paths else "")


def _refs(purl: str, cpes: Iterable[str]) -> list[dict[str, str]]:
    """The purl and CPEs as SPDX external references, those SPDX's patterns accept (the
    package's annotation keeps them all)."""
    refs = []
    for cpe in cpes:
        kind = (
            "cpe23Type"
            if CPE23_PATTERN.match(cpe)
            else "cpe22Type"
            if CPE22_PATTERN.match(cpe)
            else None
        )
        if kind:
            refs.append(
                {"referenceCategory": "SECURITY", "referenceType": kind, "referenceLocator": cpe}
            )
    if purl and PURL_PATTERN.match(purl) and " " not in purl:
        refs.append(
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }
        )
    return refs


def spdx_document(
    analysis: Analysis, *, created: str | None = None, namespace: str | None = None
) -> dict[str, Any]:
    """The SPDX 2.3 document (as JSON values) describing ``analysis``: the image as the
    described CONTAINER package, the distro as an OPERATING-SYSTEM package, one package
    each, and the image CONTAINS each; an OS package CONTAINS the language packages whose
    evidence it installed."""
    created = created or _now()
    tool = f"Tool: {TOOL_NAME}-{tool_version()}"

    def note(text: str) -> dict[str, str]:
        return {
            "annotationDate": created,
            "annotationType": "OTHER",
            "annotator": tool,
            "comment": text,
        }

    image = analysis.image
    name = _image_name(analysis)
    digest = image.manifest_digest or image.config_digest or None
    if namespace is None:
        key = _digest_hex(digest) or _id_part(name)
        namespace = f"https://anchore.invalid/spdx/image/{key}/{uuid.uuid4()}"
    licenses = _Licenses()

    root: dict[str, Any] = {"name": name, "SPDXID": IMAGE_ID}
    if digest:
        root["versionInfo"] = digest
    root.update(supplier=NOASSERTION, downloadLocation=NOASSERTION, filesAnalyzed=False)
    hex_digest = _digest_hex(digest)
    if hex_digest:
        root["checksums"] = [{"algorithm": "SHA256", "checksumValue": hex_digest}]
    root.update(
        licenseConcluded=NOASSERTION, licenseDeclared=NOASSERTION, copyrightText=NOASSERTION
    )
    image_purl = _image_purl(analysis)
    if image_purl:
        root["externalRefs"] = _refs(image_purl, ())
    root["primaryPackagePurpose"] = "CONTAINER"
    root["annotations"] = [note(IMAGE_NOTE + _compact(image.to_dict()))]

    packages: list[dict[str, Any]] = [root]
    relationships: list[dict[str, str]] = [
        {
            "spdxElementId": DOCUMENT_ID,
            "relatedSpdxElement": IMAGE_ID,
            "relationshipType": "DESCRIBES",
        }
    ]
    distro = analysis.distro
    if distro is not None:
        os_id = f"SPDXRef-OperatingSystem-{_id_part(distro.id)}"
        os_pkg: dict[str, Any] = {"name": distro.id, "SPDXID": os_id}
        if distro.version_id:
            os_pkg["versionInfo"] = distro.version_id
        os_pkg.update(
            supplier=NOASSERTION,
            downloadLocation=NOASSERTION,
            filesAnalyzed=False,
            licenseConcluded=NOASSERTION,
            licenseDeclared=NOASSERTION,
            copyrightText=NOASSERTION,
        )
        if distro.pretty_name:
            os_pkg["description"] = distro.pretty_name
        if distro.cpe:
            refs = _refs("", (distro.cpe,))
            if refs:
                os_pkg["externalRefs"] = refs
        os_pkg["primaryPackagePurpose"] = "OPERATING-SYSTEM"
        os_pkg["annotations"] = [note(DISTRO_NOTE + _compact(distro.to_dict()))]
        packages.append(os_pkg)
        relationships.append(
            {"spdxElementId": IMAGE_ID, "relatedSpdxElement": os_id, "relationshipType": "CONTAINS"}
        )

    by_purl: dict[str, str] = {}
    for i, pkg in enumerate(analysis.packages):
        spdx_id = f"SPDXRef-Package-{_id_part(pkg.type, 30)}-{_id_part(pkg.name)}-{i}"
        if pkg.purl:
            by_purl.setdefault(pkg.purl, spdx_id)
        entry: dict[str, Any] = {"name": pkg.name or NOASSERTION, "SPDXID": spdx_id}
        if pkg.version:
            entry["versionInfo"] = pkg.version
        entry["supplier"] = NOASSERTION
        originator = _originator(pkg)
        if originator:
            entry["originator"] = originator
        entry.update(
            downloadLocation=NOASSERTION,
            filesAnalyzed=False,
            sourceInfo=_source_info(pkg),
            licenseConcluded=NOASSERTION,
            licenseDeclared=licenses.expression(pkg.licenses),
            copyrightText=NOASSERTION,
        )
        refs = _refs(pkg.purl, pkg.cpes)
        if refs:
            entry["externalRefs"] = refs
        purpose = _purpose(pkg)
        if purpose:
            entry["primaryPackagePurpose"] = purpose
        entry["annotations"] = [note(PACKAGE_NOTE + _compact(pkg.to_dict()))]
        packages.append(entry)
        relationships.append(
            {
                "spdxElementId": IMAGE_ID,
                "relatedSpdxElement": spdx_id,
                "relationshipType": "CONTAINS",
            }
        )

    unplaced = []
    for at, rel in enumerate(analysis.relationships):
        parent, child = by_purl.get(rel.parent), by_purl.get(rel.child)
        if parent is None or child is None:  # kept in order: "at" is its place in the list
            unplaced.append({**rel.to_dict(), "at": at})
        elif rel.kind == "owns-evidence":
            relationships.append(
                {
                    "spdxElementId": parent,
                    "relatedSpdxElement": child,
                    "relationshipType": "CONTAINS",
                }
            )
        else:
            relationships.append(
                {
                    "spdxElementId": parent,
                    "relatedSpdxElement": child,
                    "relationshipType": "OTHER",
                    "comment": RELATIONSHIP_NOTE + rel.kind,
                }
            )

    kept = set(analysis.analyzers)
    summary = {
        "analyzers": list(analysis.analyzers),
        "failed_analyzers": [a for a in analysis.failed_analyzers if a in kept],
        "errors": [e.to_dict() for e in analysis.errors],
        "relationships": unplaced,
    }
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": name,
        "documentNamespace": namespace,
        "creationInfo": {
            "creators": [f"Organization: {TOOL_VENDOR}", tool],
            "created": created,
        },
        "annotations": [note(ANALYSIS_NOTE + _compact(summary))],
        "packages": packages,
        "relationships": relationships,
    }
    extracted = licenses.extracted()
    if extracted:
        doc["hasExtractedLicensingInfos"] = extracted
    return doc


@attrs.define
class SpdxJsonFormat:
    """SPDX 2.3 JSON: what SPDX tooling (Dependency-Track, GitHub, FOSSology) reads."""

    name: str = "spdx-json"
    description: str = "SPDX 2.3 JSON"
    media_type: str = "application/spdx+json"
    extension: str = ".spdx.json"

    def write(self, analysis: Analysis, fp: BinaryIO) -> None:
        fp.write(
            json.dumps(spdx_document(analysis), indent=1, ensure_ascii=False, default=plain).encode(
                "utf-8"
            )
        )
        fp.write(b"\n")

    def detect(self, head: bytes) -> bool:
        """A JSON object with a top-level ``"spdxVersion": "SPDX-2.x"`` (syft writes it
        first; anywhere in the head will do, but not inside a nested value: another
        format's document that quotes an SPDX one is not SPDX)."""
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return start.startswith(b"{") and _top_level_spdx_version(start)

    def read(self, path: str, fp: BinaryIO, limits: Limits) -> Analysis:
        return read_spdx(path, fp, limits, origin=f"sbom:{self.name}")


_SPDX2_VERSION = re.compile(rb'"spdxVersion"\s*:\s*"SPDX-2\.')
#: the characters that change a JSON scanner's state
_SPECIAL = re.compile(rb'[{}\[\]"\\]')


def _top_level_spdx_version(head: bytes) -> bool:
    """Whether ``"spdxVersion": "SPDX-2.`` is a key of the outermost object in ``head``:
    one pass over its brackets and quotes (linear, whatever the head holds)."""
    if _SPDX2_VERSION.search(head) is None:  # the common case for other formats: no scan
        return False
    depth, in_string, start, skip = 0, False, 0, -1
    for found in _SPECIAL.finditer(head):
        at = found.start()
        if at < skip:  # the character a backslash escapes
            continue
        char = head[at]
        if in_string:
            if char == 0x5C:  # backslash
                skip = at + 2
            elif char == 0x22:  # the closing quote
                in_string = False
                key = head[start : at + 1] == b'"spdxVersion"'
                if key and depth == 1 and _SPDX2_VERSION.match(head, start):
                    return True
        elif char == 0x22:
            in_string, start = True, at
        elif char in b"{[":
            depth += 1
        elif char in b"}]":
            depth -= 1
    return False


SPDX_JSON = SpdxJsonFormat()


@hookimpl
def anchore_sbom_formats() -> Sequence[SbomFormat]:
    return [SPDX_JSON]
