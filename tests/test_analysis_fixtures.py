"""Every real package database in syft's testdata, through the whole analysis path.

Each fixture file is put into a small image at the path its ecosystem uses and
analyzed: nothing may crash; unreadable ones yield an error entry naming the
file. Targeted tests then check what specific fixtures must yield.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

import anchore
from imagebuilder import build, d, f, oci_archive
from testdata import SYFT_CATALOGERS

TESTDATA = SYFT_CATALOGERS
ECOSYSTEMS = [
    "debian",
    "alpine",
    "redhat",
    "python",
    "javascript",
    "java",
    "golang",
    "ruby",
    "php",
    "rust",
    "dotnet",
]
REAL_ROOTS = (
    "var/lib/dpkg/",
    "lib/apk/db/",
    "var/lib/rpm/",
    "usr/lib/sysimage/rpm/",
    "usr/share/rpm/",
)


def _fixtures() -> list[Path]:
    if not TESTDATA.is_dir():
        pytest.fail(f"syft testdata not found at {TESTDATA}")
    return sorted(p for eco in ECOSYSTEMS for p in (TESTDATA / eco).rglob("*") if p.is_file())


def _image_path(fixture: Path) -> str:
    rel = fixture.relative_to(TESTDATA).as_posix()
    for root in REAL_ROOTS:
        if root in rel:
            return root + rel.split(root, 1)[1]
    return "fixtures/" + rel


def analyze_files(tmp_path, files: dict[str, bytes], name: str = "img"):
    members = [f(path, data, mode=0o644) for path, data in files.items()]
    src = oci_archive(tmp_path / f"{name}.tar", build([[d("fixtures"), *members]]))
    return anchore.analyze(anchore.open_image(src))


def test_every_fixture_is_analyzed_without_crashing(tmp_path):
    fixtures = _fixtures()
    assert len(fixtures) > 300
    errors = []
    for i, fixture in enumerate(fixtures):
        path = _image_path(fixture)
        result = analyze_files(tmp_path, {path: fixture.read_bytes()}, f"f{i}")
        for error in result.errors:
            # an error entry must say which file and what went wrong
            assert error.analyzer and error.message, error
            assert error.path is None or error.path.startswith("/"), error
            errors.append((path, error.analyzer))
        os.remove(tmp_path / f"f{i}.tar")
    # the deliberately broken fixtures are among the errors
    broken = {p for p, _ in errors}
    assert "var/lib/rpm/Packages" in broken  # "bogus"
    assert any("corrupt" in p for p in broken)


def _read(rel: str) -> bytes:
    return (TESTDATA / rel).read_bytes()


def test_dpkg_status_d_distroless(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "var/lib/dpkg/status.d/libpam-runtime": _read(
                "debian/testdata/var/lib/dpkg/status.d/libpam-runtime"
            ),
            "var/lib/dpkg/status.d/deinstall": _read(
                "debian/testdata/var/lib/dpkg/status.d/deinstall"
            ),
        },
    )
    names = {p.name for p in result.packages}
    assert "libpam-runtime" in names
    assert "linux-image-6.14.0-1012-aws" in names
    assert "linux-image-6.8.0-1029-aws" not in names  # 'deinstall ok config-files'


def test_apk_installed(tmp_path):
    result = analyze_files(tmp_path, {"lib/apk/db/installed": _read("alpine/testdata/single")})
    (pkg,) = result.packages
    assert (pkg.name, pkg.version, pkg.source_name) == ("musl-utils", "1.1.24-r2", "musl")
    assert pkg.licenses == ("MIT", "BSD", "GPL2+")
    assert "/usr/bin/ldd" in pkg.files
    assert pkg.purl.startswith("pkg:apk/alpine/musl-utils@1.1.24-r2?arch=x86_64")


def test_rpm_bdb_sqlite_and_ndb_agree_with_rpm(tmp_path):
    """rpm -qa on the same Berkeley DB says: dive 0:0.9.2-1 x86_64 dive-0.9.2-1.src.rpm MIT."""
    from anchore.analyzers.rpm import read_bdb

    bdb = _read("redhat/testdata/Packages")
    sqlite = (Path(__file__).parent / "fixtures" / "rpm" / "rpmdb.sqlite").read_bytes()
    (blob,) = list(read_bdb(bdb))
    ndb = _ndb_with(blob)
    for path, data in (
        ("var/lib/rpm/Packages", bdb),
        ("usr/lib/sysimage/rpm/rpmdb.sqlite", sqlite),
        ("usr/lib/sysimage/rpm/Packages.db", ndb),
    ):
        result = analyze_files(tmp_path, {path: data}, path.replace("/", "_"))
        assert not result.errors, result.errors
        (pkg,) = result.packages
        assert (pkg.name, pkg.version, pkg.architecture) == ("dive", "0.9.2-1", "x86_64")
        assert pkg.licenses == ("MIT",) and pkg.source_name == "dive"
        assert pkg.files == ("/usr/local/bin/dive",)
        assert pkg.purl.startswith("pkg:rpm/dive@0.9.2-1?arch=x86_64")


def _ndb_with(blob: bytes) -> bytes:
    """A minimal NDB file in rpm's layout, around a real header blob."""
    import struct

    page = 4096
    header = b"RpmP" + struct.pack("<IIIII", 0, 1, 1, 0, 0)[:16] + b"\0" * 12
    slot = b"Slot" + struct.pack("<III", 1, page // 16, (len(blob) + 16 + 15) // 16)
    slots = (header + slot).ljust(page, b"\0")
    blob_block = b"BlbS" + struct.pack("<III", 1, 1, len(blob)) + blob
    return slots + blob_block.ljust(((len(blob_block) + 15) // 16) * 16, b"\0")


def test_python_dist_info_egg_info_and_locks(tmp_path):
    site = "python/testdata/site-packages/nested/"
    result = analyze_files(
        tmp_path,
        {
            "usr/lib/python3/dist-packages/dist_name-1.0.dist-info/METADATA": _read(
                site + "dist-name/dist-info/METADATA"
            ),
            "usr/lib/python3/dist-packages/dist_name-1.0.dist-info/RECORD": _read(
                site + "dist-name/dist-info/RECORD"
            ),
            "srv/app/poetry.lock": _read("python/testdata/poetry/simple-deps/poetry.lock"),
            "srv/app/Pipfile.lock": _read("python/testdata/pipfile-lock/Pipfile.lock"),
            "srv/app/requirements.txt": _read("python/testdata/pypi-remote/requirements.txt"),
        },
    )
    assert not result.errors, result.errors
    by_lock = {p.metadata.get("lock") for p in result.packages}
    assert {"/srv/app/poetry.lock", "/srv/app/Pipfile.lock", "/srv/app/requirements.txt"} <= by_lock
    # nothing is installed for /srv/app: what its locks name is declared, never installed
    assert all(p.declared == bool(p.metadata.get("lock")) for p in result.packages)
    (pygments,) = [p for p in result.packages if p.files]
    assert pygments.name == "pygments" and pygments.version == "2.6.1"
    # RECORD paths are relative to site-packages, '../../../bin' included
    assert "/usr/bin/pygmentize" in pygments.files
    assert (
        "/usr/lib/python3/dist-packages/pygments/__pycache__/__init__.cpython-38.pyc"
        in pygments.files
    )


def test_npm_lock_versions(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "app/package-lock.json": _read("javascript/testdata/pkg-lock/package-lock-3.json"),
            "app2/package-lock.json": _read("javascript/testdata/pkg-lock/package-lock.json"),
            "app3/yarn.lock": _read("javascript/testdata/yarn/yarn.lock"),
            "app4/pnpm-lock.yaml": _read("javascript/testdata/pnpm/pnpm-lock.yaml"),
        },
    )
    assert not result.errors
    files = {p.locations[0].path for p in result.packages}
    assert files == {
        "/app/package-lock.json",
        "/app2/package-lock.json",
        "/app3/yarn.lock",
        "/app4/pnpm-lock.yaml",
    }
    scoped = [p for p in result.packages if p.name.startswith("@")]
    assert all(p.purl.startswith("pkg:npm/%40") for p in scoped)


def test_java_identity_order(tmp_path):
    """pom.properties beats MANIFEST.MF beats the file name; bundled artifacts are their own."""
    meta = "java/testdata/jar-metadata/api-all-2.0.0-sources/META-INF/"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", _read(meta + "MANIFEST.MF"))
        for artifact in ("api-all", "api-asn1-api"):
            base = f"META-INF/maven/org.apache.directory.api/{artifact}/"
            jar.writestr(
                base + "pom.properties",
                _read(meta + f"maven/org.apache.directory.api/{artifact}/pom.properties"),
            )
            jar.writestr(
                base + "pom.xml", _read(meta + f"maven/org.apache.directory.api/{artifact}/pom.xml")
            )
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Version: 9.9\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as war:
        war.writestr("WEB-INF/lib/api-all-2.0.0.jar", buf.getvalue())
    result = analyze_files(
        tmp_path,
        {
            "opt/api-all-2.0.0.jar": buf.getvalue(),
            "opt/thing-1.0.jar": plain.getvalue(),
            "opt/app.war": outer.getvalue(),
        },
    )
    assert not result.errors, result.errors
    got = {(p.name, p.version) for p in result.packages}
    assert ("api-all", "2.0.0") in got and ("api-asn1-api", "2.0.0") in got
    assert ("thing", "9.9") in got  # manifest version, file-name artifact
    api = next(p for p in result.packages if p.name == "api-all")
    assert api.purl == "pkg:maven/org.apache.directory.api/api-all@2.0.0"
    paths = {loc.path for loc in api.locations}
    assert paths == {
        "/opt/api-all-2.0.0.jar",
        "/opt/app.war",
    }  # one package, two pieces of evidence


def test_go_mod_and_other_ecosystems(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "src/go.mod": _read("golang/testdata/go-mod-fixtures/many-packages/go.mod"),
            "usr/lib/ruby/gems/3.0.0/specifications/bundler-2.1.4.gemspec": _read(
                "ruby/testdata/bundler.gemspec"
            ),
            "srv/Gemfile.lock": _read("ruby/testdata/Gemfile.lock"),
            "srv/composer.lock": _read("php/testdata/composer.lock"),
            "srv/vendor/composer/installed.json": _read(
                "php/testdata/vendor/composer_2/installed.json"
            ),
            "srv/Cargo.lock": _read("rust/testdata/Cargo.lock"),
            "srv/app.deps.json": _read("dotnet/testdata/dir-example-1/TestLibrary.deps.json"),
        },
    )
    assert not result.errors, result.errors
    types = {p.type for p in result.packages}
    assert types == {"go-module", "gem", "php-composer", "rust-crate", "dotnet"}
    bundler = [p for p in result.packages if p.name == "bundler" and p.type == "gem"]
    assert bundler and bundler[0].licenses == ("MIT",)
