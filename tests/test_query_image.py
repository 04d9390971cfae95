"""The single-image queries on the real Debian images, against ground truth from outside
our code: dpkg's own database (read from the docker-save archive's layers with
tarfile and listed by ``dpkg-query --admindir``), the ``umoci unpack`` path lists
(NAME.rootfs.txt), file modes and contents read from the layers with tarfile, and
the image config JSON read directly from the archive.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from anchore import Analysis, analyze, query
from anchore.analysis.model import Finding, Location, Package
from anchore.analyzers.retrieve import MAX_RETRIEVED_BYTES, RETRIEVED_FILES
from anchore.query import QueryParamError, UnanswerableQueryError
from anchore.query import image as q

corpus_only = pytest.mark.corpus


# ---------------------------------------------------------------- ground truth
@attrs.frozen
class Member:
    """One path of the squashed layers, as tarfile reads it."""

    info: tarfile.TarInfo
    layer: int
    data: bytes | None


def squash(archive: Path, want: Callable[[str], bool]) -> dict[str, Member]:
    """The paths ``want`` selects, after applying the docker-save archive's layers in order
    (whiteouts and opaque directories honoured), read with tarfile alone."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        tree: dict[str, Member] = {}
        for index, name in enumerate(manifest[0]["Layers"]):
            blob = outer.extractfile(name)
            assert blob is not None
            with tarfile.open(fileobj=blob, mode="r:*") as layer:
                for info in layer:
                    path = "/" + posixpath.normpath(info.name).lstrip("./").lstrip("/")
                    path = "/" if path == "/." else path
                    base, leaf = posixpath.split(path)
                    if leaf == ".wh..wh..opq":
                        for p in [p for p in tree if p.startswith(base.rstrip("/") + "/")]:
                            del tree[p]
                        continue
                    if leaf.startswith(".wh."):
                        gone = posixpath.join(base, leaf[4:])
                        for p in [p for p in tree if p == gone or p.startswith(gone + "/")]:
                            del tree[p]
                        continue
                    if not want(path):
                        continue
                    data = None
                    if info.isreg():
                        fh = layer.extractfile(info)
                        data = fh.read() if fh is not None else b""
                    if info.isdir() and path in tree and tree[path].info.isdir():
                        pass  # a directory written again keeps its place
                    tree[path] = Member(info, index, data)
    return tree


def image_config(archive: Path) -> tuple[dict, bytes, int]:
    """The config JSON of a docker-save archive, its bytes, and the number of layers."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        raw = outer.extractfile(manifest[0]["Config"]).read()  # type: ignore[union-attr]
    return json.loads(raw), raw, len(manifest[0]["Layers"])


def dpkg_query(admindir: Path, fmt: str) -> list[str]:
    dpkg = shutil.which("dpkg-query")
    assert dpkg, "dpkg-query is needed for the ground truth (this is a Debian machine)"
    out = subprocess.run(
        [dpkg, "-W", "-f", fmt, f"--admindir={admindir}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.splitlines()


def admindir(archive: Path, where: Path) -> Path:
    """var/lib/dpkg of the image, squashed from its layers, written under ``where``."""
    for path, m in squash(archive, lambda p: p.startswith("/var/lib/dpkg/")).items():
        target = where / path.lstrip("/")
        if m.info.isdir():
            target.mkdir(parents=True, exist_ok=True)
        elif m.data is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(m.data)
    return where / "var" / "lib" / "dpkg"


def dpkg_owned(tree: dict[str, Member]) -> set[str]:
    """The paths dpkg's info/*.list files name (and their merged-/usr twins)."""
    owned: set[str] = set()
    for path, m in tree.items():
        if path.startswith("/var/lib/dpkg/info/") and path.endswith(".list"):
            for line in (m.data or b"").decode().splitlines():
                owned.add(line)
                head = line.split("/")[1] if line.count("/") > 1 else ""
                if head in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):  # merged /usr
                    owned.add("/usr" + line)
    return owned


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def analyses(corpus: Path) -> dict[str, Analysis]:
    return {n: analyze(corpus / f"{n}.docker.tar") for n in ("debian-min", "debian-py")}


@pytest.fixture(scope="module")
def installed(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, set]:
    """Per image, dpkg-query's (package, version, source) of every installed package."""
    found = {}
    for name in ("debian-min", "debian-py"):
        where = admindir(corpus / f"{name}.docker.tar", tmp_path_factory.mktemp(name))
        lines = dpkg_query(
            where, r"${db:Status-Status}\t${Package}\t${Version}\t${source:Package}\n"
        )
        found[name] = {
            tuple(line.split("\t")[1:]) for line in lines if line.startswith("installed\t")
        }
    return found


NAMES = ("debian-min", "debian-py")


# ---------------------------------------------------------------- packages
@corpus_only
@pytest.mark.parametrize("name", NAMES)
def test_deb_packages_are_dpkgs_own(name: str, analyses: dict, installed: dict) -> None:
    rows = q.packages(analyses[name], type="deb")
    assert {(r.name, r.version) for r in rows} == {(p, v) for p, v, _ in installed[name]}
    assert len(rows) == len(installed[name]) > 80
    assert all(r.type == "deb" and r.purl.startswith("pkg:deb/debian/") for r in rows)
    run = query.run("packages", analyses[name], {"type": "deb"})
    assert run.rows == tuple(rows) and run.columns == ("type", "name", "version", "purl",
        "layer_index", "layer_digest", "path", "licenses", "source_name", "found_by",
        "declared")  # fmt: skip


@corpus_only
def test_package_filters_against_dpkg(analyses: dict, installed: dict) -> None:
    from anchore.versions import compare

    truth = installed["debian-py"]
    rows = query.run("packages", analyses["debian-py"], {"type": "deb", "name": "lib*"})
    assert {(r.name, r.version) for r in rows} == {
        (p, v) for p, v, _ in truth if p.startswith("lib")
    }
    rows = query.run("packages", analyses["debian-py"],
                     {"type": "deb", "name": "re:^python3", "version": ">=3.11,<3.12"})  # fmt: skip
    expected = {
        (p, v) for p, v, _ in truth
        if p.startswith("python3") and compare("dpkg", v, "3.11") >= 0
        and compare("dpkg", v, "3.12") < 0
    }  # fmt: skip
    assert {(r.name, r.version) for r in rows} == expected and len(expected) >= 3
    # dpkg's ordering decides, not the characters: 1:... (an epoch) is above any 9.x
    epoch = {(p, v) for p, v, _ in truth if ":" in v}
    rows = q.packages(analyses["debian-py"], type="deb", version=">=100")
    assert epoch and epoch <= {(r.name, r.version) for r in rows}


@corpus_only
def test_a_type_typo_is_an_error_not_an_empty_answer(analyses: dict) -> None:
    a = analyses["debian-min"]
    with pytest.raises(QueryParamError, match="no package type 'debian'"):
        q.packages(a, type="debian")
    with pytest.raises(QueryParamError, match="no file type 'dir'.*directory"):
        query.run("files", a, {"type": "dir"})
    with pytest.raises(QueryParamError, match="no file type"):
        q.files(a, type="dir")
    assert q.packages(a, type="python") == []  # a known type the image has none of


@corpus_only
def test_packages_by_layer(analyses: dict, installed: dict) -> None:
    # debian-py is debian-min plus layers: the base layer holds exactly debian-min's packages
    base = q.packages(analyses["debian-py"], type="deb", layer=0)
    assert {(r.name, r.version) for r in base} == {(p, v) for p, v, _ in installed["debian-min"]}
    later = q.packages(analyses["debian-py"], type="deb", layer=1)
    assert {"python3", "curl"} <= {r.name for r in later}


@corpus_only
def test_a_version_range_over_unordered_versions_is_unanswerable(analyses: dict) -> None:
    a = analyses["debian-min"]
    odd = Package("deb", "weird", "not a version", "pkg:deb/debian/weird@x", found_by="dpkg")
    broken = attrs.evolve(a, packages=[*a.packages, odd])
    with pytest.raises(UnanswerableQueryError, match="weird"):
        q.packages(broken, version=">=1")
    assert q.packages(broken, name="weird") != []  # without a range it is listed


@corpus_only
def test_package_in_detail_matches_dpkg(corpus: Path, analyses: dict, installed: dict) -> None:
    archive = corpus / "debian-py.docker.tar"
    listed = squash(archive, lambda p: p == "/var/lib/dpkg/info/python3.list")
    files = listed["/var/lib/dpkg/info/python3.list"].data.decode().splitlines()  # type: ignore[union-attr]
    (row,) = query.run("package", analyses["debian-py"], {"name": "python3", "type": "deb"})
    version, source = next((v, s) for p, v, s in installed["debian-py"] if p == "python3")
    assert row.version == version and row.source_name == source
    assert set(row.files) == set(files) - {"/."}
    assert row.layer_index == 1
    assert "/var/lib/dpkg/status@1" in row.locations
    with pytest.raises(QueryParamError, match="needs the parameter 'name'"):
        query.run("package", analyses["debian-py"], {})
    assert query.run("package", analyses["debian-py"], {"name": "no-such-package"}).rows == ()


@corpus_only
def test_package_owned_by_an_os_package(analyses: dict) -> None:
    a = analyses["debian-py"]
    rel = next(r for r in a.relationships if r.kind == "owns-evidence")
    child = next(p for p in a.packages if p.purl == rel.child)
    (row,) = [r for r in q.package(a, name=child.name, type=child.type) if r.purl == child.purl]
    assert rel.parent in row.owned_by
    parent = next(p for p in a.packages if p.purl == rel.parent)
    rows = q.package(a, name=parent.name, type=parent.type)
    assert any(rel.child in r.owns for r in rows)


@corpus_only
@pytest.mark.parametrize("name", NAMES)
def test_license_counts_agree_with_the_packages(name: str, analyses: dict) -> None:
    a = analyses[name]
    rows = q.licenses(a)
    by = {r.license: r for r in rows}
    for lic, row in by.items():
        having = [p for p in a.packages if (lic in p.licenses if lic else not p.licenses)]
        assert row.packages == len(having), lic
        assert set(row.types) == {p.type for p in having}
    assert by[None].packages == sum(1 for p in a.packages if not p.licenses)
    assert [r.packages for r in rows] == sorted((r.packages for r in rows), reverse=True)


# ---------------------------------------------------------------- files
@corpus_only
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", ["/", "/etc", "/usr/share/", "/var/lib/dpkg"])
def test_files_under_a_prefix_are_umocis(
    name: str, prefix: str, corpus: Path, analyses: dict
) -> None:
    truth = {"/" + line for line in (corpus / f"{name}.rootfs.txt").read_text().splitlines()}
    top = prefix.rstrip("/")
    expected = {p for p in truth if not top or p == top or p.startswith(top + "/")}
    rows = query.run("files", analyses[name], {"prefix": prefix})
    assert [r.path for r in rows] == sorted(expected)
    assert len(rows) > 10


@corpus_only
def test_file_attributes_are_the_layers(corpus: Path, analyses: dict) -> None:
    archive = corpus / "debian-py.docker.tar"
    truth = squash(archive, lambda p: p.startswith("/etc/"))
    rows = {r.path: r for r in q.files(analyses["debian-py"], prefix="/etc")}
    kinds = {tarfile.REGTYPE: "file", tarfile.DIRTYPE: "directory", tarfile.SYMTYPE: "symlink"}
    checked = 0
    for path, m in truth.items():
        row = rows[path]
        assert int(row.mode, 8) == m.info.mode & 0o7777, path
        assert (row.uid, row.gid) == (m.info.uid, m.info.gid), path
        assert row.layer_index == m.layer, path
        if m.info.type in kinds:
            assert row.type == kinds[m.info.type], path
        if m.info.issym():
            assert row.link_target == m.info.linkname
        if m.info.isreg():
            assert row.size == len(m.data or b"")
            checked += 1
    assert checked > 100
    only_dirs = q.files(analyses["debian-py"], prefix="/etc", type="directory")
    assert {r.path for r in only_dirs} == {p for p, m in truth.items() if m.info.isdir()} | {"/etc"}


def test_digests_when_recorded(make_image) -> None:
    import imagebuilder

    path = make_image([[imagebuilder.f("etc/motd", b"hello\n")]])
    a = analyze(path, digests=("sha256",))
    (row,) = q.files(a, prefix="/etc/motd")
    assert row.digest == "sha256:" + hashlib.sha256(b"hello\n").hexdigest()
    (plain,) = q.files(analyze(path), prefix="/etc/motd")
    assert plain.digest is None


@corpus_only
def test_unowned_files_against_dpkgs_lists(corpus: Path, analyses: dict) -> None:
    archive = corpus / "debian-min.docker.tar"
    tree = squash(archive, lambda p: True)
    owned = dpkg_owned(tree)
    unowned = {p: m for p, m in tree.items() if m.info.isreg() and p not in owned}
    for depth in (1, 2):
        expected: dict[str, list[int]] = {}
        for p, m in unowned.items():
            d = "/" + "/".join(posixpath.dirname(p).split("/")[1 : depth + 1])
            count = expected.setdefault(d, [0, 0])
            count[0] += 1
            count[1] += m.info.size
        rows = query.run("unowned-files", analyses["debian-min"], {"depth": str(depth)})
        assert {r.directory: [r.files, r.bytes] for r in rows} == expected
    assert "/var/lib" in expected  # dpkg's status file itself is nobody's
    under = q.unowned_files(analyses["debian-min"], prefix="/etc")
    assert sum(r.files for r in under) == sum(1 for p in unowned if p.startswith("/etc/"))


# ---------------------------------------------------------------- findings
@corpus_only
@pytest.mark.parametrize("name", NAMES)
def test_setuid_files_are_the_layers(name: str, corpus: Path, analyses: dict) -> None:
    tree = squash(corpus / f"{name}.docker.tar", lambda p: True)
    expected = set()
    for path, m in tree.items():
        if not (m.info.isreg() or m.info.islnk()):
            continue
        mode = m.info.mode
        if mode & 0o4000:
            expected.add((path, "setuid", f"{mode & 0o7777:04o}", m.info.uid))
        if mode & 0o2000 and mode & 0o010:  # setgid without group execute is not setgid
            expected.add((path, "setgid", f"{mode & 0o7777:04o}", m.info.gid))
    rows = query.run("setuid", analyses[name])
    assert {(r.path, r.kind, r.mode, r.owner) for r in rows} == expected
    assert len(expected) >= 10
    owned = dpkg_owned(tree)
    assert {r.path for r in rows if r.packages} == {p for p, *_ in expected if p in owned}
    assert {r.path for r in rows if r.packages == ()} == {p for p, *_ in expected if p not in owned}
    assert (
        next(r for r in rows if r.path == "/usr/bin/passwd")
        .packages[0]
        .startswith("pkg:deb/debian/passwd@")
    )


@corpus_only
def test_secrets_are_the_findings_redacted(analyses: dict) -> None:
    rows = q.secrets(analyses["debian-py"])
    found = [f for f in analyses["debian-py"].findings if f.kind == "secret"]
    assert len(rows) == len(found) >= 1
    assert ("/app/config/credentials", 3) in {(r.path, r.layer_index) for r in rows}


@corpus_only
def test_missing_evidence_is_unanswerable(corpus: Path, analyses: dict) -> None:
    a = analyses["debian-min"]
    only_dpkg = analyze(corpus / "debian-min.docker.tar", analyzers=["dpkg"])
    for name in ("secrets", "setuid", "distro", "retrieved-files", "content-matches"):
        with pytest.raises(UnanswerableQueryError, match="did not run"):
            query.run(name, only_dpkg)
    failed = attrs.evolve(a, failed_analyzers=("secrets", "dpkg"))
    with pytest.raises(UnanswerableQueryError, match="failed"):
        q.secrets(failed)
    with pytest.raises(UnanswerableQueryError, match="dpkg"):
        q.unowned_files(failed)
    with pytest.raises(UnanswerableQueryError, match="dpkg analyzer failed"):
        q.packages(failed)  # every deb package would be missing, not absent
    with pytest.raises(UnanswerableQueryError, match="dpkg analyzer failed"):
        q.licenses(failed, type="deb")
    only_secrets = analyze(corpus / "debian-min.docker.tar", analyzers=["secrets"])
    with pytest.raises(UnanswerableQueryError, match="no analyzer of deb packages"):
        q.packages(only_secrets, type="deb")
    for all_types in (q.packages, q.licenses):  # all packages: every ecosystem looked for
        with pytest.raises(UnanswerableQueryError, match="no analyzer of"):
            all_types(only_secrets)
        with pytest.raises(UnanswerableQueryError, match="no analyzer of"):
            all_types(only_dpkg)
    with pytest.raises(UnanswerableQueryError, match="no analyzer of deb packages"):
        q.unowned_files(only_secrets)
    assert {r.owners for r in q.files(only_secrets, prefix="/usr/bin")} == {None}
    assert any(r.owners for r in q.files(a, prefix="/usr/bin"))
    no_python = attrs.evolve(a, failed_analyzers=("python",))  # RECORD lists own files too
    with pytest.raises(UnanswerableQueryError, match="python analyzer failed"):
        q.unowned_files(no_python)
    assert q.packages(only_dpkg, type="deb") == q.packages(a, type="deb")
    no_files = attrs.evolve(a, files=[], files_known=False, origin="sbom:cyclonedx-json")
    for name in ("files", "unowned-files"):
        with pytest.raises(UnanswerableQueryError, match="no file inventory"):
            query.run(name, no_files)
    assert q.image(no_files)[0].files is None


def test_content_matches_of_a_content_search_analyzer(make_image) -> None:
    import imagebuilder
    from anchore.analyzers.secrets import ContentSearchAnalyzer

    path = make_image([[imagebuilder.f("app/notes.txt", b"one\nTODO: fix\nthree\n")]])
    search = ContentSearchAnalyzer({"todo": r"TODO"})
    (row,) = q.content_matches(analyze(path, analyzers=[search]))
    assert (row.rule, row.path, row.line, row.layer_index) == ("todo", "/app/notes.txt", 2, 0)


# ---------------------------------------------------------------- distro, image, config
@corpus_only
def test_distro_is_os_release(corpus: Path, analyses: dict) -> None:
    tree = squash(corpus / "debian-min.docker.tar", lambda p: p == "/usr/lib/os-release")
    fields = dict(
        line.split("=", 1)
        for line in tree["/usr/lib/os-release"].data.decode().splitlines()  # type: ignore[union-attr]
        if "=" in line
    )
    (row,) = query.run("distro", analyses["debian-min"])
    assert row.id == fields["ID"]
    assert row.version_id == fields["VERSION_ID"].strip('"')
    assert row.version_codename == fields["VERSION_CODENAME"]
    assert row.pretty_name == fields["PRETTY_NAME"].strip('"')


@corpus_only
@pytest.mark.parametrize("name", NAMES)
def test_image_attributes(name: str, corpus: Path, analyses: dict, installed: dict) -> None:
    config, raw, layers = image_config(corpus / f"{name}.docker.tar")
    (row,) = q.image(analyses[name])
    assert row.config_digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert row.layers == layers == len(config["rootfs"]["diff_ids"])
    assert row.platform == f"{config['os']}/{config['architecture']}"
    lines = (corpus / f"{name}.rootfs.txt").read_text().splitlines()
    assert row.files == len(lines)
    assert f"deb={len(installed[name])}" in row.packages_by_type
    assert row.origin == "image" and row.distro and "Debian" in row.distro


@corpus_only
@pytest.mark.parametrize("name", NAMES)
def test_config_rows_are_the_config_json(name: str, corpus: Path, analyses: dict) -> None:
    config = image_config(corpus / f"{name}.docker.tar")[0]["config"]
    rows = query.run("config", analyses[name])
    env = [(r.key, r.value) for r in rows if r.kind == "env"]
    assert env == [tuple(e.split("=", 1)) for e in config.get("Env") or []] and env
    labels = {r.key: r.value for r in rows if r.kind == "label"}
    assert labels == (config.get("Labels") or {})
    assert [r.key for r in rows if r.kind == "port"] == list(config.get("ExposedPorts") or {})
    cmd = [json.loads(r.value) for r in rows if r.kind == "cmd"]
    assert cmd == ([config["Cmd"]] if config.get("Cmd") else [])
    entry = [json.loads(r.value) for r in rows if r.kind == "entrypoint"]
    assert entry == ([config["Entrypoint"]] if config.get("Entrypoint") else [])
    user = [r.value for r in rows if r.kind == "user"]
    assert user == ([config["User"]] if config.get("User") else [])
    workdir = [r.value for r in rows if r.kind == "workdir"]
    assert workdir == ([config["WorkingDir"]] if config.get("WorkingDir") else [])


def test_config_of_a_made_image(make_image) -> None:
    import imagebuilder

    config = {"Env": ["A=1", "B=x=y"], "User": "app", "ExposedPorts": {"8080/tcp": {}},
              "Labels": {"org.example": "v"}, "Entrypoint": ["/bin/sh", "-c"],
              "Cmd": ["echo hi"], "WorkingDir": "/srv", "Volumes": {"/data": {}}}  # fmt: skip
    path = make_image([[imagebuilder.f("etc/motd", b"x")]], config={"config": config})
    rows = {(r.kind, r.key, r.value) for r in q.config(analyze(path))}
    assert rows == {
        ("env", "A", "1"), ("env", "B", "x=y"), ("user", "", "app"), ("port", "8080/tcp", ""),
        ("label", "org.example", "v"), ("entrypoint", "", '["/bin/sh", "-c"]'),
        ("cmd", "", '["echo hi"]'), ("workdir", "", "/srv"), ("volume", "/data", ""),
    }  # fmt: skip


# ---------------------------------------------------------------- retrieved files
@corpus_only
@pytest.mark.parametrize("name", NAMES)
def test_retrieved_files_are_the_bytes_in_the_layers(
    name: str, corpus: Path, analyses: dict
) -> None:
    wanted = set(RETRIEVED_FILES)
    archive = corpus / f"{name}.docker.tar"
    tree = squash(archive, lambda p: p in wanted)
    # a symlinked path (Debian's /etc/os-release -> ../usr/lib/os-release) is answered
    # with its target's bytes, read from the layers by following the tar's link name
    links = {
        p: posixpath.normpath(posixpath.join(posixpath.dirname(p), m.info.linkname))
        for p, m in tree.items()
        if m.info.issym()
    }
    targets = squash(archive, lambda p: p in set(links.values()))
    assert "/etc/os-release" in links  # the case the review found
    rows = query.run("retrieved-files", analyses[name])
    assert {r.path for r in rows} == set(tree)
    for row in rows:
        m = targets[links[row.path]] if row.path in links else tree[row.path]
        assert m.info.isreg(), row.path
        assert row.link_target == links.get(row.path), row.path
        assert row.content.encode() == m.data, row.path
        assert row.sha256 == "sha256:" + hashlib.sha256(m.data).hexdigest()
        assert (row.size, row.layer_index, row.error) == (len(m.data), m.layer, None)
    (release,) = q.retrieved_files(analyses[name], path="/etc/os-release")
    assert (release.link_target, release.content) == (
        "/usr/lib/os-release",
        targets["/usr/lib/os-release"].data.decode(),
    )
    (passwd,) = query.run("retrieved-files", analyses[name], {"path": "/etc/passwd"})
    assert passwd.content.startswith("root:x:0:0:")
    with pytest.raises(UnanswerableQueryError, match="/etc/shadow is not among"):
        q.retrieved_files(analyses[name], path="/etc/shadow")
    assert "/etc/shadow" in {p for p, m in squash(corpus / f"{name}.docker.tar",
                                                   lambda p: p == "/etc/shadow").items()}  # fmt: skip
    assert not any("shadow" in n for n in analyses[name].datasets)


def test_a_large_or_binary_retrieved_file_is_an_error_not_a_gap(make_image) -> None:
    import imagebuilder

    big = b"x" * (MAX_RETRIEVED_BYTES + 1)
    path = make_image([[imagebuilder.f("etc/services", big),
                        imagebuilder.f("etc/hosts", b"\xff\xfe not utf-8"),
                        imagebuilder.f("etc/hostname", b"box\n")]])  # fmt: skip
    a = analyze(path)
    rows = {r.path: r for r in q.retrieved_files(a)}
    assert rows["/etc/hostname"].content == "box\n"
    assert rows["/etc/services"].content is None and "65536" in rows["/etc/services"].error
    assert rows["/etc/hosts"].content is None and "UTF-8" in rows["/etc/hosts"].error
    assert q.retrieved_files(a, path="/etc/passwd") == []  # not in this image


@corpus_only
def test_plain_functions_check_their_parameters_as_run_does(analyses: dict) -> None:
    """Called directly, a query refuses what ``run`` refuses, as a QueryParamError: a
    relative prefix (it matched nothing), depth 0 (it rolled all up to /), a negative
    layer (as ``anchore files --layer``: layers are numbered 0 to N-1)."""
    a = analyses["debian-min"]
    for call in (
        lambda: q.files(a, prefix="etc"),
        lambda: q.files(a, type="dirs"),
        lambda: q.unowned_files(a, depth=0),
        lambda: q.unowned_files(a, prefix="usr"),
        lambda: q.packages(a, layer=-1),
    ):
        with pytest.raises(QueryParamError):
            call()
    assert q.files(a, prefix="/etc") and q.unowned_files(a, depth=1) is not None


def test_a_symlinked_retrieved_path_is_never_a_silent_gap(make_image) -> None:
    """A kept path that is a link: followed to a kept target, else an error row."""
    import imagebuilder

    path = make_image([[imagebuilder.f("usr/lib/os-release", b"ID=test\n"),
                        imagebuilder.f("opt/hosts", b"127.0.0.1 x\n"),
                        imagebuilder.sym("etc/os-release", "../usr/lib/os-release"),
                        imagebuilder.sym("etc/hosts", "/opt/hosts"),
                        imagebuilder.sym("etc/hostname", "/nowhere"),
                        imagebuilder.d("etc/crontab")]])  # fmt: skip
    rows = {r.path: r for r in q.retrieved_files(analyze(path))}
    release = rows["/etc/os-release"]
    assert (release.content, release.link_target) == ("ID=test\n", "/usr/lib/os-release")
    assert rows["/usr/lib/os-release"].content == "ID=test\n"
    assert rows["/etc/hosts"].content is None
    assert "/opt/hosts" in rows["/etc/hosts"].error and "not kept" in rows["/etc/hosts"].error
    assert "lacks" in rows["/etc/hostname"].error
    assert "not a regular file" in rows["/etc/crontab"].error


# ---------------------------------------------------------------- registry
def test_every_single_image_query_is_registered_with_documented_columns() -> None:
    from anchore.query.reference import column_docs

    names = {x.name for x in query.queries()}
    for registered in q.QUERIES:
        assert registered.name in names
        docs = column_docs(registered.row)
        assert set(docs) == set(registered.columns), registered.name  # every column says why
        assert registered.description


def test_docs_query_reference_is_rendered_from_the_registry() -> None:
    from anchore.query import reference

    path = Path(__file__).parent.parent / "docs" / "queries.md"
    text = path.read_text(encoding="utf-8")
    assert reference.replace_section(text) == text, (
        "docs/queries.md's reference differs from the queries; "
        "run: python -m anchore.query.reference docs/queries.md"
    )


def test_finding_rows_keep_their_location() -> None:
    where = Location("/a", 2, "sha256:x")
    rows = q._finding_rows([Finding("secret", "r", "m", (where,), line=3, severity="high")])
    assert rows == [q.FindingRow("r", "/a", 3, 2, "high", "m")]


def test_dependencies_are_not_ownership() -> None:
    """An imported SBOM's depends-on relationships must not read as "owned by"."""
    from anchore.analysis.model import Relationship
    from anchore.query.evidence import PACKAGE_ANALYZERS

    pkgs = [
        Package("deb", "python3", "3.11", "pkg:deb/debian/python3@3.11"),
        Package("python", "pip", "23.0", "pkg:pypi/pip@23.0"),
        Package("python", "requests", "2.25.1", "pkg:pypi/requests@2.25.1"),
    ]
    analysis = Analysis(
        image={}, distro=None, packages=pkgs, findings=[], files=[], errors=[],
        analyzers=sorted(PACKAGE_ANALYZERS),
        relationships=[
            Relationship("pkg:deb/debian/python3@3.11", "pkg:pypi/pip@23.0"),
            Relationship("pkg:pypi/requests@2.25.1", "pkg:pypi/pip@23.0", "depends-on"),
        ],
    )  # fmt: skip
    (row,) = q.package(analysis, name="pip")
    assert row.owned_by == ("pkg:deb/debian/python3@3.11",)
    (row,) = q.package(analysis, name="requests")
    assert row.owns == ()
