"""Lock and requirements files: declared only where they describe an application tree whose
installed form is absent, never from inside an installed package, and every version real.

Each rule is checked on a synthetic image holding real lock files from syft's testdata
(tests/data/syft-testdata), placed where the rule applies. docs/analysis.md, "Installed
and declared packages", states the rules.
"""

from __future__ import annotations

import json

import pytest
from packageurl import PackageURL

from anchore.analyzers.lockfiles import installed_package_root, is_version
from test_analysis_fixtures import _read, analyze_files

JS = "javascript/testdata/"
PY = "python/testdata/"

#: (lock file, fixture) pairs, one per format, each naming packages when read
LOCKS = {
    "package-lock.json": JS + "pkg-lock/package-lock.json",
    "npm-shrinkwrap.json": JS + "pkg-lock/package-lock-3.json",
    "yarn.lock": JS + "yarn/yarn.lock",
    "pnpm-lock.yaml": JS + "pnpm-v5-peer-suffix/pnpm-lock.yaml",
    "requirements.txt": PY + "requires/requirements.txt",
    "poetry.lock": PY + "poetry/simple-deps/poetry.lock",
    "uv.lock": PY + "uv/simple-deps/uv.lock",
    "pdm.lock": PY + "pdm-lock/pdm.lock",
    "Pipfile.lock": PY + "pipfile-lock/Pipfile.lock",
    "Gemfile.lock": "ruby/testdata/Gemfile.lock",
    "composer.lock": "php/testdata/composer.lock",
    "Cargo.lock": "rust/testdata/Cargo.lock",
    "packages.lock.json": "dotnet/testdata/packages.lock.json",
    "go.mod": "golang/testdata/go-mod-fixtures/many-packages/go.mod",
}

#: the version scheme each package type's lock versions must parse in
SCHEMES = {"npm": "semver", "python": "pep440", "gem": "gem", "php-composer": "composer",
           "rust-crate": "semver", "dotnet": "nuget", "go-module": "go"}  # fmt: skip


def _declared(result, path):
    return {(p.name, p.version) for p in result.packages if any(loc.path == path for loc in p.locations)}  # fmt: skip


# ---- rule 3: no installed form, so declared ----
@pytest.mark.parametrize("base", sorted(LOCKS))
def test_lock_of_an_app_without_installed_form_is_declared(tmp_path, base):
    result = analyze_files(tmp_path, {f"srv/app/{base}": _read(LOCKS[base])})
    from_lock = [p for p in result.packages if p.metadata.get("lock") == f"/srv/app/{base}"]
    assert len(from_lock) >= 3, result.packages
    assert from_lock == result.packages  # nothing else in the image
    for pkg in from_lock:
        assert pkg.declared and pkg.to_dict()["declared"] is True
        assert is_version(SCHEMES[pkg.type], pkg.version), pkg
        purl = PackageURL.from_string(pkg.purl)
        assert purl.version == pkg.version and purl.to_string() == pkg.purl


# ---- rule 1: never from inside an installed package ----
INSIDE = [
    ("usr/share/nodejs/nanoid/pnpm-lock.yaml", "pnpm-lock.yaml"),
    ("usr/lib/nodejs/lodash-cli/npm-shrinkwrap.json", "npm-shrinkwrap.json"),
    ("usr/lib/x86_64-linux-gnu/nodejs/@scope/pkg/yarn.lock", "yarn.lock"),
    ("app/node_modules/express/package-lock.json", "package-lock.json"),
    ("app/node_modules/a/node_modules/@scope/b/yarn.lock", "yarn.lock"),
    ("usr/local/lib/node_modules/npm/package-lock.json", "package-lock.json"),
    ("usr/lib/python3/dist-packages/foo/requirements.txt", "requirements.txt"),
    ("opt/venv/lib/python3.11/site-packages/bar/sub/poetry.lock", "poetry.lock"),
    ("usr/lib/python3.11/ensurepip/Pipfile.lock", "Pipfile.lock"),
    ("usr/local/bundle/gems/rails-7.0.0/Gemfile.lock", "Gemfile.lock"),
    ("srv/app/vendor/monolog/monolog/composer.lock", "composer.lock"),
    (
        "root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/regex-1.0.0/Cargo.lock",
        "Cargo.lock",
    ),
    ("usr/share/cargo/registry/serde-1.0.0/Cargo.lock", "Cargo.lock"),
    ("root/.nuget/packages/automapper/13.0.1/packages.lock.json", "packages.lock.json"),
    ("root/go/pkg/mod/github.com/x/y@v1.2.3/go.mod", "go.mod"),
    ("src/app/vendor/github.com/x/y/go.mod", "go.mod"),
    ("usr/local/go/src/go.mod", "go.mod"),
    ("usr/share/doc/python3-foo/examples/requirements.txt", "requirements.txt"),
]


@pytest.mark.parametrize(("path", "base"), INSIDE)
def test_no_lock_is_read_inside_an_installed_package(tmp_path, path, base):
    assert installed_package_root("/" + path) is not None
    result = analyze_files(tmp_path, {path: _read(LOCKS[base])})
    assert not result.errors, result.errors
    assert result.packages == []


@pytest.mark.parametrize(
    "path",
    [
        "/app/package-lock.json",
        "/srv/app/requirements.txt",
        "/home/u/src/Cargo.lock",
        "/app/vendor/Gemfile.lock",
        "/go/src/app/go.mod",
    ],
)
def test_application_roots_are_not_installed_packages(path):
    assert installed_package_root(path) is None


def test_lock_installed_by_an_os_package_is_dropped(tmp_path):
    """A lock file that dpkg's file list names is part of that Debian package."""
    status = (
        "Package: node-foo\nStatus: install ok installed\nVersion: 1.0-1\n"
        "Architecture: all\nMaintainer: x\nDescription: foo\n"
    )
    result = analyze_files(
        tmp_path,
        {
            "var/lib/dpkg/status": status.encode(),
            "var/lib/dpkg/info/node-foo.list": b"/usr/share/foo\n/usr/share/foo/yarn.lock\n",
            "usr/share/foo/yarn.lock": _read(LOCKS["yarn.lock"]),
            "srv/other/yarn.lock": _read(LOCKS["yarn.lock"]),
        },
    )
    assert {p.name for p in result.packages if p.type == "deb"} == {"node-foo"}
    npm = [p for p in result.packages if p.type == "npm"]
    assert npm and all(p.declared for p in npm)
    # the app's lock still declares them; the OS package's lock adds nothing
    assert {loc.path for p in npm for loc in p.locations} == {"/srv/other/yarn.lock"}
    assert {p.metadata["lock"] for p in npm} == {"/srv/other/yarn.lock"}


# ---- rule 2: installed form present, so the lock adds nothing ----
def _package_json(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version, "license": "MIT"}).encode()


def test_npm_lock_beside_node_modules_adds_only_sources(tmp_path):
    lock = {
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://r/left-pad-1.3.0.tgz",
                                      "integrity": "sha512-left"},
            "node_modules/not-installed": {"version": "9.9.9"},
        },
    }  # fmt: skip
    result = analyze_files(
        tmp_path,
        {
            "app/package.json": _package_json("app", "1.0.0"),
            "app/package-lock.json": json.dumps(lock).encode(),
            "app/node_modules/left-pad/package.json": _package_json("left-pad", "1.3.0"),
            "app2/yarn.lock": _read(LOCKS["yarn.lock"]),
            "app2/node_modules/.yarn-integrity": b"{}",
        },
    )
    assert not result.errors, result.errors
    assert {(p.name, p.version, p.declared) for p in result.packages} == {
        ("app", "1.0.0", False),
        ("left-pad", "1.3.0", False),
    }
    (pad,) = result.find("left-pad")
    assert pad.metadata["integrity"] == "sha512-left"
    assert pad.metadata["resolved"] == "https://r/left-pad-1.3.0.tgz"
    assert [loc.path for loc in pad.locations] == ["/app/node_modules/left-pad/package.json"]


def _dist_info(site: str, name: str, version: str) -> dict[str, bytes]:
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    return {f"{site}/{name}-{version}.dist-info/METADATA": meta.encode()}


def test_python_lock_installed_into_the_image_adds_nothing(tmp_path):
    site = "usr/local/lib/python3.11/site-packages"
    files = {"srv/app/requirements.txt": b"flask==2.0.1\nitsdangerous==2.0.1 --hash=sha256:ab\n"
                                         b"click==8.0.1 ; python_version >= '3.6'\n"}  # fmt: skip
    for name, version in (("flask", "2.0.1"), ("itsdangerous", "2.0.1")):
        files.update(_dist_info(site, name, version))
    result = analyze_files(tmp_path, files)
    assert not result.errors, result.errors
    # two of three pins installed at their versions: the lock was installed; click was not
    assert {(p.name, p.declared) for p in result.packages} == {
        ("flask", False),
        ("itsdangerous", False),
    }


def test_python_lock_with_its_own_virtualenv_adds_nothing(tmp_path):
    files = {
        "srv/app/poetry.lock": _read(LOCKS["poetry.lock"]),
        "srv/app/.venv/pyvenv.cfg": b"home = /usr/bin\n",
        **_dist_info("srv/app/.venv/lib/python3.11/site-packages", "requests", "2.31.0"),
    }
    result = analyze_files(tmp_path, files)
    assert [(p.name, p.declared) for p in result.packages] == [("requests", False)]


def test_installed_package_beats_the_same_declared_one(tmp_path):
    """One pin of three installed (not most): the others are declared, the installed one is
    one installed package whose evidence is its dist-info alone."""
    files = {"srv/app/requirements.txt": b"flask==2.0.1\nclick==8.0.1\njinja2==3.0.1\n",
             **_dist_info("usr/lib/python3/dist-packages", "click", "8.0.1")}  # fmt: skip
    result = analyze_files(tmp_path, files)
    got = {(p.name, p.declared) for p in result.packages}
    assert got == {("click", False), ("flask", True), ("jinja2", True)}
    (click,) = result.find("click")
    assert [loc.path for loc in click.locations] == [
        "/usr/lib/python3/dist-packages/click-8.0.1.dist-info/METADATA"
    ]


def test_composer_and_gem_locks_beside_their_installed_form(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "srv/php/composer.lock": _read(LOCKS["composer.lock"]),
            "srv/php/vendor/composer/installed.json": _read(
                "php/testdata/vendor/composer_2/installed.json"
            ),
            "srv/rb/Gemfile.lock": _read(LOCKS["Gemfile.lock"]),
            "srv/rb/vendor/bundle/ruby/3.0.0/specifications/rake-13.0.0.gemspec": (
                b'Gem::Specification.new do |s|\n  s.name = "rake"\n  s.version = "13.0.0"\nend\n'
            ),
        },
    )
    assert not result.errors, result.errors
    assert not [p for p in result.packages if p.declared]
    assert {p.type for p in result.packages} == {"php-composer", "gem"}


# ---- rule 3 in detail: every format's version syntax ----
def test_pnpm_versions_lose_their_peer_suffixes(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "a/pnpm-lock.yaml": _read(JS + "pnpm-v5-peer-suffix/pnpm-lock.yaml"),
            "b/pnpm-lock.yaml": _read(JS + "pnpm-v6/pnpm-lock.yaml"),
            "c/pnpm-lock.yaml": _read(JS + "pnpm-v9-snapshots/pnpm-lock.yaml"),
            "d/pnpm-lock.yaml": _read(JS + "pnpm-multi-doc/pnpm-lock.yaml"),
            "e/pnpm-lock.yaml": (
                b"lockfileVersion: 5.4\npackages:\n"
                b"  /@babel/helper-compilation-targets/7.18.2_@babel+core@7.18.2:\n"
                b"    resolution: {integrity: sha512-x}\n    dev: true\n"
                b"  /@babel/core/7.18.2:\n    resolution: {integrity: sha512-y}\n"
                b"  github.com/user/repo/0123abc:\n    resolution: {tarball: https://x/y.tgz}\n"
                b"  file:packages/local:\n    resolution: {directory: packages/local, type: directory}\n"
                b"  /tarred/https://example.com/tarred-2.0.0.tgz:\n"
                b"    resolution: {tarball: https://example.com/tarred-2.0.0.tgz}\n"
                b"    name: tarred\n    version: 2.0.0\n"
            ),
        },
    )
    assert not any(c in p.version for p in result.packages for c in "_(/@:")
    assert {("acorn", "8.8.0"), ("acorn-jsx", "5.3.2"), ("webpack-cli", "4.10.0")} <= _declared(
        result, "/a/pnpm-lock.yaml"
    )
    assert ("cross-spawn", "7.0.6") in _declared(result, "/c/pnpm-lock.yaml")
    assert _declared(result, "/d/pnpm-lock.yaml") == {("minimist", "1.2.0")}  # not pnpm itself
    assert _declared(result, "/e/pnpm-lock.yaml") == {
        ("@babel/helper-compilation-targets", "7.18.2"),
        ("@babel/core", "7.18.2"),
        ("tarred", "2.0.0"),
    }
    (error,) = result.errors
    assert error.path == "/e/pnpm-lock.yaml" and "github.com/user/repo/0123abc" in error.message
    for path in ("/b/pnpm-lock.yaml",):
        assert _declared(result, path), path


def test_yarn_classic_and_berry(tmp_path):
    berry = (
        b'__metadata:\n  version: 6\n\n'
        b'"fsevents@patch:fsevents@^2.3.2#~builtin<compat/fsevents>":\n  version: 2.3.2\n'
        b'  resolution: "fsevents@patch:fsevents@npm%3A2.3.2#~builtin<compat/fsevents>::version=2.3.2&hash=18f3a7"\n\n'
        b'"gitdep@https://github.com/u/gitdep.git#commit=abc":\n  version: 0.4.0\n'
        b'  resolution: "gitdep@https://github.com/u/gitdep.git#commit=abc"\n\n'
        b'"strip-ansi-cjs@npm:strip-ansi@^6.0.1":\n  version: 6.0.1\n'
        b'  resolution: "strip-ansi@npm:6.0.1"\n\n'
        b'"my-app@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "my-app@workspace:."\n'
    )  # fmt: skip
    classic = (
        b'# yarn lockfile v1\n\n"string-width-cjs@npm:string-width@^4.2.0":\n  version "4.2.3"\n'
        b'  resolved "https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz"\n\n'
        b'"local@file:../local":\n  version "1.0.0"\n\n'
        b'"@scope/a@^1.0.0", "@scope/a@^1.1.0":\n  version "1.1.0"\n'
    )
    result = analyze_files(
        tmp_path,
        {
            "a/yarn.lock": _read(JS + "yarn-berry/yarn.lock"),
            "b/yarn.lock": berry,
            "c/yarn.lock": classic,
            "d/yarn.lock": _read(JS + "yarn-v1-deps/yarn.lock"),
        },
    )
    assert not result.errors, result.errors
    berry_found = _declared(result, "/a/yarn.lock")
    assert ("@babel/code-frame", "7.10.4") in berry_found and ("@types/qs", "6.9.4") in berry_found
    assert not [v for n, v in berry_found if "use.local" in v]  # the workspace is the app
    assert _declared(result, "/b/yarn.lock") == {
        ("fsevents", "2.3.2"),
        ("gitdep", "0.4.0"),
        ("strip-ansi", "6.0.1"),
    }
    assert _declared(result, "/c/yarn.lock") == {("string-width", "4.2.3"), ("@scope/a", "1.1.0")}
    assert _declared(result, "/d/yarn.lock")
    (scoped,) = result.find("@scope/a")
    assert scoped.purl == "pkg:npm/%40scope/a@1.1.0"


def test_npm_lock_aliases_links_and_non_registry_sources(tmp_path):
    v1 = {
        "lockfileVersion": 1,
        "dependencies": {
            "case-alias": {"version": "npm:case@1.6.3"},
            "mine": {"version": "file:packages/mine"},
            "gitdep": {"version": "git+https://github.com/u/gitdep.git#0123abc"},
            "tar": {"version": "https://example.com/tar-1.0.0.tgz"},
            "outer": {"version": "1.0.0", "dependencies": {"inner": {"version": "2.0.0"}}},
        },
    }
    v3 = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "packages/ws": {"name": "ws-member", "version": "0.1.0"},
            "node_modules/ws-member": {"resolved": "packages/ws", "link": True},
            "node_modules/gitdep": {"version": "3.1.0",
                                    "resolved": "git+ssh://git@github.com/u/gitdep.git#abc"},
            "node_modules/nover": {"resolved": "https://example.com/nover.tgz"},
        },
    }  # fmt: skip
    result = analyze_files(
        tmp_path,
        {
            "v1/package-lock.json": json.dumps(v1).encode(),
            "v3/npm-shrinkwrap.json": json.dumps(v3).encode(),
            "v1a/package-lock.json": _read(JS + "pkg-lock/alias-package-lock-1.json"),
            "v1k/package-lock.json": _read(JS + "pkg-lock/package-lock.json"),
            "v2a/package-lock.json": _read(JS + "pkg-lock/alias-package-lock-2.json"),
        },
    )
    assert _declared(result, "/v1/package-lock.json") == {
        ("case", "1.6.3"),
        ("outer", "1.0.0"),
        ("inner", "2.0.0"),
    }
    assert _declared(result, "/v3/npm-shrinkwrap.json") == {("gitdep", "3.1.0")}
    assert ("async", "3.2.4") in _declared(result, "/v1k/package-lock.json")  # keyed by path
    (gitdep,) = result.find("gitdep")
    assert gitdep.metadata["resolved"].startswith("git+ssh://")
    errors = {e.path: e.message for e in result.errors}
    assert set(errors) == {"/v1/package-lock.json", "/v3/npm-shrinkwrap.json"}
    assert "2 entries" in errors["/v1/package-lock.json"]
    assert "gitdep@git+https" in errors["/v1/package-lock.json"]
    assert "tar@https://example.com/tar-1.0.0.tgz" in errors["/v1/package-lock.json"]
    assert "nover@https://example.com/nover.tgz" in errors["/v3/npm-shrinkwrap.json"]
    for alias_lock in ("/v1a/package-lock.json", "/v2a/package-lock.json"):
        found = _declared(result, alias_lock)
        assert {
            ("case", "1.6.2"),
            ("case", "1.6.3"),
            ("@bundled-es-modules/chai", "4.2.2"),
        } <= found


def test_requirements_lines(tmp_path):
    text = (
        b"# comment\n-r other.txt\n--index-url https://pypi.example/simple\n"
        b"argh==0.26.2 \\\n  --hash=sha256:aa \\\n  --hash=sha256:bb\n"
        b"celery[redis,pytest] == 4.4.7 # extras\n"
        b"SomeProject ==5.4 ; python_version < '3.8'\n"
        b"urllib3===1.26.20\nlocal-version == 1.2.3+gcr.2\n"
        b"ranged>=1.0,<2\nwild==2.8.*\nbare\n-e .\n"
        b"-e git+https://github.com/u/proj.git@v1#egg=proj\n"
        b"pkg @ https://example.com/pkg-1.0-py3-none-any.whl\n"
        b"==2.3.4\n"
    )
    result = analyze_files(tmp_path, {"srv/app/requirements-prod.txt": text})
    assert _declared(result, "/srv/app/requirements-prod.txt") == {
        ("argh", "0.26.2"),
        ("celery", "4.4.7"),
        ("someproject", "5.4"),
        ("urllib3", "1.26.20"),
        ("local-version", "1.2.3+gcr.2"),
    }
    (celery,) = result.find("celery")
    assert celery.metadata["extras"] == ["pytest", "redis"]
    (some,) = result.find("someproject")
    assert some.metadata["markers"] == 'python_version < "3.8"'
    (error,) = result.errors
    assert "3 entries" in error.message
    for part in ("proj@git+https://github.com/u/proj.git@v1#egg=proj",
                 "pkg@https://example.com/pkg-1.0-py3-none-any.whl", "line 17: ==2.3.4"):  # fmt: skip
        assert part in error.message


def test_python_locks_skip_the_project_itself(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "a/uv.lock": _read(PY + "uv/simple-deps/uv.lock"),
            "b/Pipfile.lock": _read(PY + "pipfile-lock/Pipfile.lock"),
            "c/pdm.lock": _read(PY + "pdm-lock/pdm.lock"),
            "d/poetry.lock": _read(PY + "poetry/dev-deps/poetry.lock"),
        },
    )
    assert not result.errors, result.errors
    uv = _declared(result, "/a/uv.lock")
    assert ("requests", "2.32.3") in uv and "testpkg" not in {n for n, _ in uv}
    assert all(p.declared for p in result.packages)


def test_gemfile_lock_sections_and_platforms(tmp_path):
    lock = (
        b"PATH\n  remote: .\n  specs:\n    myapp (0.1.0)\n\n"
        b"GIT\n  remote: https://github.com/rails/turbolinks.git\n  revision: 80216ce\n"
        b"  specs:\n    turbolinks (3.0.0)\n      coffee-rails\n\n"
        b"GEM\n  remote: https://rubygems.org/\n  specs:\n"
        b"    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.6.2)\n"
        b"    jruby-openssl (0.14.0-java)\n\nPLATFORMS\n  x86_64-linux\n"
    )
    result = analyze_files(tmp_path, {"srv/app/Gemfile.lock": lock})
    assert not result.errors, result.errors
    assert _declared(result, "/srv/app/Gemfile.lock") == {
        ("turbolinks", "3.0.0"),
        ("nokogiri", "1.13.10"),
        ("racc", "1.6.2"),
        ("jruby-openssl", "0.14.0"),
    }
    (nokogiri,) = result.find("nokogiri")
    assert nokogiri.metadata["platform"] == "x86_64-linux"
    assert nokogiri.purl == "pkg:gem/nokogiri@1.13.10"


def test_composer_branch_versions_are_not_versions(tmp_path):
    lock = {"packages": [{"name": "a/b", "version": "v1.2.3"}, {"name": "c/d", "version": "dev-main"},
                         {"name": "e/f", "version": "2.x-dev"}],
            "packages-dev": [{"name": "g/h", "version": "4.1.6"}]}  # fmt: skip
    result = analyze_files(tmp_path, {"srv/app/composer.lock": json.dumps(lock).encode()})
    assert _declared(result, "/srv/app/composer.lock") == {("a/b", "v1.2.3"), ("g/h", "4.1.6")}
    (error,) = result.errors
    assert "c/d@dev-main" in error.message and "e/f@2.x-dev" in error.message


def test_cargo_lock_path_crates_are_the_workspace(tmp_path):
    result = analyze_files(
        tmp_path,
        {
            "a/Cargo.lock": _read("rust/testdata/path-deps/Cargo.lock"),
            "b/Cargo.lock": _read("rust/testdata/Cargo.lock-with-git-deps"),
        },
    )
    assert not result.errors, result.errors
    assert "hello_world" not in {n for n, _ in _declared(result, "/b/Cargo.lock")}
    assert ("memchr", "2.7.4") in _declared(result, "/a/Cargo.lock")
    assert all(p.metadata.get("source") for p in result.packages)


def test_go_mod_is_declared_and_a_binary_is_installed(tmp_path):
    result = analyze_files(tmp_path, {"src/app/go.mod": _read(LOCKS["go.mod"])})
    mods = result.packages_of("go-module")
    assert mods and all(p.declared and p.metadata["lock"] == "/src/app/go.mod" for p in mods)


def _lock_fixtures():
    from test_analysis_fixtures import TESTDATA

    names = {*LOCKS, "Gemfile.next.lock"}
    found = []
    for fixture in sorted(TESTDATA.rglob("*")):
        rel = fixture.relative_to(TESTDATA).as_posix()
        base = fixture.name
        if base == "Cargo.lock-with-git-deps":
            base = "Cargo.lock"
        if (base in names or (base.startswith("requirements") and base.endswith(".txt"))) and (
            "corrupt" not in rel
        ):
            found.append(pytest.param(rel, base, id=rel))
    return found


@pytest.mark.parametrize(("rel", "base"), _lock_fixtures())
def test_every_lock_fixture_gives_real_versions_and_valid_purls(tmp_path, rel, base):
    """Every real lock file in syft's testdata: each package it declares has a version of its
    ecosystem and a purl that parses and round-trips; what has none is an error naming it."""
    result = analyze_files(tmp_path, {f"srv/app/{base}": _read(rel)})
    for pkg in result.packages:
        assert pkg.declared and pkg.metadata["lock"] == f"/srv/app/{base}", pkg
        assert is_version(SCHEMES[pkg.type], pkg.version), pkg
        purl = PackageURL.from_string(pkg.purl)
        assert purl.version == pkg.version and purl.to_string() == pkg.purl, pkg
    for error in result.errors:
        assert error.path == f"/srv/app/{base}", error
        if "glob-paths" in rel:  # placeholders ("i am bogus"): the problem, not a crash
            crashes = ("AttributeError", "TypeError", "KeyError", "IndexError")
            assert not any(crash in error.message for crash in crashes), error
        else:
            assert "not reported" in error.message, error
