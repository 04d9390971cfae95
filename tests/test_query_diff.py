"""The diff of two images, base detection and base-diff.

Ground truth on the real images comes from outside our code: dpkg's own status
files read from the layers with tarfile and listed by ``dpkg-query --admindir``,
the ``umoci unpack`` path lists (NAME.rootfs.txt) and the config JSON read from
the docker-save archives. Version directions come from the osv-scalibr ordering
vectors, produced by the ecosystems' own tools.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import attrs
import pytest

from anchore import Analysis, analyze, ecosystems, query, versions
from anchore.analysis.model import FileRecord, Location, Package
from anchore.image.model import ImageInfo, LayerInfo
from anchore.query import QueryParamError, UnanswerableQueryError
from anchore.query.diff import DiffRow, diff, direction, image_label
from anchore.query.evidence import PACKAGE_ANALYZERS
from anchore.query.fleet import base, base_diff, common_packages
from anchore.versions import VersionError
from testdata import ORACLES

NAMES = ("debian-min", "debian-py", "debian-node")


# ---------------------------------------------------------------- ground truth from the archives
def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tf:
        member = tf.extractfile("manifest.json")
        assert member is not None
        return json.load(member)[0]


def archive_config(archive: Path) -> dict:
    """The image config JSON, as the docker-save archive stores it."""
    with tarfile.open(archive) as tf:
        member = tf.extractfile(_manifest(archive)["Config"])
        assert member is not None
        return json.load(member)


def layer_status_files(archive: Path) -> list[bytes | None]:
    """Each layer's var/lib/dpkg/status, bottom layer first (None: the layer has none)."""
    found: list[bytes | None] = []
    with tarfile.open(archive) as outer:
        for name in _manifest(archive)["Layers"]:
            blob = outer.extractfile(name)
            assert blob is not None
            data = None
            with tarfile.open(fileobj=blob, mode="r:*") as layer:
                for member in layer:
                    if member.name.lstrip("./") == "var/lib/dpkg/status" and member.isfile():
                        got = layer.extractfile(member)
                        assert got is not None
                        data = got.read()
            found.append(data)
    return found


def squashed_headers(archive: Path) -> dict[str, tarfile.TarInfo]:
    """path -> tar header of the squashed filesystem, applying the layers' tars in order
    with their whiteouts (``.wh.NAME`` deletes NAME, ``.wh..wh..opq`` empties a dir)."""
    found: dict[str, tarfile.TarInfo] = {}
    with tarfile.open(archive) as outer:
        for name in _manifest(archive)["Layers"]:
            blob = outer.extractfile(name)
            assert blob is not None
            with tarfile.open(fileobj=blob, mode="r:*") as layer:
                for member in layer:
                    path = "/" + member.name.lstrip("./").rstrip("/")
                    head, _, base = path.rpartition("/")
                    if base == ".wh..wh..opq" or base.startswith(".wh."):
                        gone = head if base == ".wh..wh..opq" else f"{head}/{base[4:]}"
                        for p in [p for p in found if p.startswith(gone + "/")]:
                            del found[p]
                        if base != ".wh..wh..opq":
                            found.pop(gone, None)
                        continue
                    found[path] = member
    return found


def _same_header(x: tarfile.TarInfo, y: tarfile.TarInfo) -> bool:
    """The same entry: a copy rewritten by a later layer differs at least in mtime."""
    fields = ("type", "mode", "uid", "gid", "size", "linkname", "mtime")
    return all(getattr(x, f) == getattr(y, f) for f in fields)


def squashed_modes(archive: Path) -> dict[str, int]:
    """path -> mode bits of the squashed filesystem's regular files (hard links too; 0
    for other entries: a setgid directory means group inheritance, not privilege, and
    the setuid query and diff's setuid part look at files only)."""
    return {
        p: m.mode if m.isreg() or m.islnk() else 0 for p, m in squashed_headers(archive).items()
    }


def dpkg_installed(status: bytes, where: Path) -> dict[str, str]:
    """package -> version of the installed packages, as dpkg-query lists them."""
    admin = where / "admindir"
    (admin / "info").mkdir(parents=True, exist_ok=True)
    (admin / "status").write_bytes(status)
    (admin / "available").write_bytes(b"")
    out = subprocess.run(
        ["dpkg-query", f"--admindir={admin}", "-W",
         "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    shutil.rmtree(admin)
    rows = (line.split("\t") for line in out.splitlines() if line)
    return {name: version for name, version, status in rows if status.startswith("ii")}


@pytest.fixture(scope="module")
def images(corpus) -> dict[str, Analysis]:
    return {name: analyze(corpus / f"{name}.docker.tar") for name in NAMES}


@pytest.fixture(scope="module")
def dpkg(corpus, tmp_path_factory) -> dict[str, list[dict[str, str] | None]]:
    """Each image's installed packages after each layer (None: the layer has no status)."""
    where = tmp_path_factory.mktemp("dpkg")
    return {
        name: [
            None if s is None else dpkg_installed(s, where)
            for s in layer_status_files(corpus / f"{name}.docker.tar")
        ]
        for name in ("debian-min", "debian-py")
    }


def _final(per_layer: list[dict[str, str] | None]) -> dict[str, str]:
    last = [s for s in per_layer if s is not None]
    assert last, "no layer has a dpkg status file"
    return last[-1]


# ---------------------------------------------------------------- diff on the real images
@pytest.mark.corpus
def test_added_debs_are_dpkgs_own_difference(images, dpkg):
    before, after = _final(dpkg["debian-min"]), _final(dpkg["debian-py"])
    expected_added = set(after) - set(before)
    assert {"python3", "curl"} <= expected_added  # the truth is what the image was built with
    rows = diff(images["debian-min"], images["debian-py"], "package")
    debs = [r for r in rows if r.type == "deb"]
    assert {r.name for r in debs if r.change == "added"} == expected_added
    assert {r.name: r.after for r in debs if r.change == "added"} == {
        n: after[n] for n in expected_added
    }
    assert {r.name for r in debs if r.change == "removed"} == set(before) - set(after)
    changed = {n for n in set(before) & set(after) if before[n] != after[n]}
    assert {r.name for r in debs if r.change == "changed"} == changed


@pytest.mark.corpus
def test_removed_and_added_files_are_the_path_lists_difference(images, corpus):
    old = set((corpus / "debian-min.rootfs.txt").read_text().splitlines())
    new = set((corpus / "debian-py.rootfs.txt").read_text().splitlines())
    assert "usr/share/doc/adduser/copyright" in old - new
    rows = diff(images["debian-min"], images["debian-py"], "file")
    assert {r.name[1:] for r in rows if r.change == "removed"} == old - new
    assert {r.name[1:] for r in rows if r.change == "added"} == new - old
    removed = next(r for r in rows if r.name == "/usr/share/doc/adduser/copyright")
    assert (removed.change, removed.type, removed.after) == ("removed", "file", None)


@pytest.mark.corpus
def test_changed_files_name_what_changed(images, corpus):
    a, b = images["debian-min"], images["debian-py"]
    rows = {r.name: r for r in diff(a, b, "file") if r.change == "changed"}
    # the sizes from the layers' tar headers, not from our own file records
    old = squashed_headers(corpus / "debian-min.docker.tar")
    new = squashed_headers(corpus / "debian-py.docker.tar")
    for path in ("/var/lib/dpkg/status", "/etc/ld.so.cache"):
        assert old[path].size != new[path].size  # both images really differ there
        assert f"size {old[path].size} -> {new[path].size}" in rows[path].detail
    # a path of the shared base layer that no later layer of debian-py rewrote is unchanged
    first = _manifest(corpus / "debian-py.docker.tar")["Layers"][0]
    with tarfile.open(corpus / "debian-py.docker.tar") as outer:
        blob = outer.extractfile(first)
        assert blob is not None
        with tarfile.open(fileobj=blob, mode="r:*") as layer:
            base_headers = {"/" + m.name.lstrip("./").rstrip("/"): m for m in layer}
    same = [
        p
        for p, m in new.items()
        if p in base_headers
        and p in old
        and _same_header(base_headers[p], m)
        and _same_header(base_headers[p], old[p])
    ]
    assert len(same) > 1000
    assert not set(same) & set(rows)


@pytest.mark.corpus
def test_config_and_setuid_changes(images, corpus):
    a, b = images["debian-min"], images["debian-py"]
    c0 = archive_config(corpus / "debian-min.docker.tar")["config"]
    c1 = archive_config(corpus / "debian-py.docker.tar")["config"]
    rows = {r.name: r for r in diff(a, b, "config")}
    expected: dict[str, tuple[str | None, str | None]] = {}
    for key, name in (("User", "user"), ("WorkingDir", "working_dir")):
        if (c0.get(key) or None) != (c1.get(key) or None):
            expected[name] = (c0.get(key) or None, c1.get(key) or None)
    for key, name in (("Cmd", "cmd"), ("Entrypoint", "entrypoint")):
        if c0.get(key) != c1.get(key):
            expected[name] = tuple(json.dumps(c[key]) if c.get(key) else None for c in (c0, c1))
    for kind, field in (("label", "Labels"), ("port", "ExposedPorts")):
        l0, l1 = c0.get(field) or {}, c1.get(field) or {}
        for k in l0.keys() | l1.keys():
            v0 = None if k not in l0 else (l0[k] if kind == "label" else k)
            v1 = None if k not in l1 else (l1[k] if kind == "label" else k)
            if v0 != v1:
                expected[f"{kind}:{k}"] = (v0, v1)
    e0 = dict(x.split("=", 1) for x in c0.get("Env") or [])
    e1 = dict(x.split("=", 1) for x in c1.get("Env") or [])
    for k in e0.keys() | e1.keys():
        if e0.get(k) != e1.get(k):
            expected[f"env:{k}"] = (e0.get(k), e1.get(k))
    assert len(expected) >= 4  # cmd, user, two ports, a label: the images do differ
    assert {n: (r.before, r.after) for n, r in rows.items()} == expected
    # setuid and setgid bits gained and lost, from the layers' tar headers
    m0 = squashed_modes(corpus / "debian-min.docker.tar")
    m1 = squashed_modes(corpus / "debian-py.docker.tar")
    truth = set()
    for path in m0.keys() | m1.keys():
        for bit, mask in (("setuid", 0o4000), ("setgid", 0o2000)):
            had, has = bool(m0.get(path, 0) & mask), bool(m1.get(path, 0) & mask)
            if had != has:
                truth.add(("added" if has else "removed", path, bit))
    assert ("added", "/usr/local/bin/helper", "setuid") in truth
    assert {(r.change, r.name, r.type) for r in diff(a, b, "setuid")} == truth


@pytest.mark.corpus
def test_query_run_and_kind_param(images):
    a, b = images["debian-min"], images["debian-py"]
    result = query.run("diff", [a, b], {"kind": "package,config"})
    assert {r.kind for r in result} == {"package", "config"}
    assert result.columns[:3] == ("kind", "change", "name")
    with pytest.raises(QueryParamError, match="unknown kind"):
        query.run("diff", [a, b], {"kind": "packages"})
    with pytest.raises(QueryParamError, match="two images"):
        query.run("diff", [a])


# ---------------------------------------------------------------- base detection
@pytest.mark.corpus
def test_base_is_debian_min_for_py_and_node(images, corpus):
    analyses = [images[n] for n in ("debian-py", "debian-node", "debian-min")]
    name = {image_label(a): n for n, a in images.items()}
    rows = {name[r.image]: r for r in base(analyses)}
    assert rows["debian-py"].base == image_label(images["debian-min"])
    assert rows["debian-node"].base == image_label(images["debian-min"])
    assert rows["debian-min"].base is None
    # the layers really are a prefix, as the archives' configs say
    ids = {n: archive_config(corpus / f"{n}.docker.tar")["rootfs"]["diff_ids"] for n in images}
    for n in ("debian-py", "debian-node"):
        assert ids[n][: len(ids["debian-min"])] == ids["debian-min"] != ids[n]
        assert rows[n].shared_layers == len(ids["debian-min"])


@pytest.mark.corpus
def test_base_diff_of_py_is_its_diff_against_min(images):
    analyses = [images[n] for n in NAMES]
    py, under = image_label(images["debian-py"]), image_label(images["debian-min"])
    rows = [r for r in base_diff(analyses) if r.image == py]
    plain = [DiffRow(**{k: v for k, v in attrs.asdict(r).items() if k not in ("image", "base")})
             for r in rows]  # fmt: skip
    assert plain == diff(images["debian-min"], images["debian-py"])
    assert {r.base for r in rows} == {under}
    assert not [r for r in base_diff(analyses) if r.image == under]


# ---------------------------------------------------------------- synthetic analyses
def _analysis(packages=(), files=(), layers=("sha256:aa",), **kw) -> Analysis:
    infos = None if layers is None else [LayerInfo(i, d, d) for i, d in enumerate(layers)]
    kw.setdefault("analyzers", sorted(PACKAGE_ANALYZERS))
    return Analysis(
        image=ImageInfo(reference=kw.pop("name", "x"), config_digest="sha256:c", layers=infos),
        distro=None, packages=list(packages), findings=[], files=list(files), errors=[],
        **kw,
    )  # fmt: skip


def _pkg(type_, name, version):
    loc = Location("/var/lib/dpkg/status", 0, "sha256:aa")
    return Package(type_, name, version, f"pkg:{type_}/{name}@{version}", locations=[loc])


def _oracle(file: str) -> list[tuple[str, str, str]]:
    out = []
    for line in (ORACLES / file).read_text().splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[1] in "<=>" and not line.startswith("#"):
            out.append((parts[0], parts[1], parts[2]))
    return out


@pytest.mark.parametrize(
    ("type_", "file"),
    [("deb", "debian-versions.txt"), ("python", "pypi-versions.txt"),
     ("gem", "rubygems-versions.txt"), ("apk", "alpine-versions-generated.txt"), ("npm", "semver-versions.txt")],
)  # fmt: skip
def test_version_direction_follows_the_ecosystems_ordering(type_, file):
    """Pairs the ecosystem's own tool ordered; pairs our scheme cannot parse must be
    ``unknown`` (never a guess), the others the tool's answer."""
    scheme = ecosystems.ecosystem(type_).version_scheme
    assert scheme is not None
    pairs = [p for p in _oracle(file) if p[0] != p[2]][:300]
    expect = {"<": "upgrade", ">": "downgrade", "=": "same"}
    ordered = 0
    for v0, op, v1 in pairs:
        try:
            versions.compare(scheme, v0, v1)
            want = expect[op]
            ordered += 1
        except VersionError:
            want = "unknown"
        rows = diff(_analysis([_pkg(type_, "p", v0)]), _analysis([_pkg(type_, "p", v1)]), "package")
        assert [(r.change, r.before, r.after, r.direction) for r in rows] == [
            ("changed", v0, v1, want)
        ], (v0, op, v1)
    assert ordered > 20


def test_versions_that_do_not_compare_are_unknown():
    assert direction("deb", "1.0", "not a version!") == "unknown"
    assert direction("nuget", "1.0", "2.0") == "unknown"  # no ordering anchore knows
    assert direction("no-such-type", "1", "2") == "unknown"
    a = _analysis([_pkg("npm", "x", "1.0.0")])
    b = _analysis([_pkg("npm", "x", "1.0.0-what?!")])
    assert [r.direction for r in diff(a, b, "package")] == ["unknown"]


def test_packages_keyed_by_type_and_name():
    a = _analysis([_pkg("deb", "same", "1"), _pkg("deb", "gone", "1"), _pkg("npm", "n", "1.0.0")])
    b = _analysis([_pkg("deb", "same", "1"), _pkg("python", "gone", "1"),
                   _pkg("npm", "n", "1.0.0"), _pkg("npm", "n", "2.0.0")])  # fmt: skip
    rows = [(r.change, r.type, r.name, r.before, r.after) for r in diff(a, b, "package")]
    assert sorted(rows, key=str) == sorted(
        [("removed", "deb", "gone", "1", None), ("added", "python", "gone", None, "1"),
         ("added", "npm", "n", None, "2.0.0")], key=str
    )  # fmt: skip


def test_python_names_compare_under_pep_503():
    """typing_extensions and typing-extensions are one project (PEP 503): one upgrade,
    shown under b's spelling; deb names are compared as they are."""
    a = _analysis([_pkg("python", "typing_extensions", "4.0"), _pkg("deb", "Foo", "1")], name="a")
    b = _analysis([_pkg("python", "Typing.Extensions", "4.12"), _pkg("deb", "foo", "1")], name="b")
    rows = {
        (r.change, r.type, r.name, r.before, r.after, r.direction) for r in diff(a, b, "package")
    }
    assert rows == {
        ("changed", "python", "Typing.Extensions", "4.0", "4.12", "upgrade"),
        ("removed", "deb", "Foo", "1", None, None),
        ("added", "deb", "foo", None, "1", None),
    }
    [common] = common_packages([a, b])
    assert (common.type, common.name, common.same) == ("python", "Typing.Extensions", False)


def test_config_known_only_when_the_analysis_has_it():
    """A syft SBOM whose reader set config_digest from imageID but carried no config blob,
    and a hand-made image analysis without a config digest: config and diff both refuse
    them (they used to answer [] and "removed" every setting)."""
    from anchore.image.model import ContainerConfig
    from anchore.query.image import config

    full = _analysis(name="a")
    full = attrs.evolve(full, image=attrs.evolve(full.image, config=ContainerConfig(user="app")))
    no_blob = attrs.evolve(_analysis(name="b"), origin="sbom:syft-json")
    no_digest = attrs.evolve(full, image=attrs.evolve(full.image, config_digest=""))
    for bad in (no_blob, no_digest):
        with pytest.raises(UnanswerableQueryError, match="config"):
            config(bad)
        with pytest.raises(UnanswerableQueryError, match="config"):
            diff(full, bad, "config")
    assert [(r.change, r.name) for r in diff(_analysis(name="b"), full, "config")] == [
        ("added", "user")
    ]


def test_setgid_directories_are_not_setuid_changes():
    """As the setuid query (file-permissions findings: regular files), diff's setuid part
    skips directories: setgid on /var/mail is group inheritance, not privilege."""
    a = _analysis(name="a")
    b = _analysis(
        name="b",
        files=[_file("/var/mail", mode=0o2775, type_="directory"),
               _file("/usr/bin/wall", mode=0o2755),
               _file("/usr/bin/su", mode=0o4755, type_="hardlink", link="/usr/bin/su0")],
    )  # fmt: skip
    rows = {(r.change, r.name, r.type) for r in diff(a, b, "setuid")}
    assert rows == {("added", "/usr/bin/wall", "setgid"), ("added", "/usr/bin/su", "setuid")}


def test_an_empty_or_unknown_kind_is_a_param_error():
    a = _analysis(name="a")
    for kind in ([], "", ["package", "files"], "dirs"):
        with pytest.raises(QueryParamError, match="kind"):
            diff(a, a, kind)


def test_package_diff_needs_both_sides_package_evidence():
    """An image whose dpkg analyzer failed, or where no package analyzer ran, does not
    "remove" its debs: the package part of diff is unanswerable, the file part is not."""
    a = _analysis([_pkg("deb", "adduser", "3.134"), _pkg("python", "pip", "23.0")])
    two = ("sha256:aa", "sha256:bb")  # a is the base of b
    failed = _analysis([_pkg("python", "pip", "23.0")], layers=two, failed_analyzers=("dpkg",))
    never = _analysis([], layers=two, analyzers=["secrets", "distro"])
    for b in (failed, never):
        for x, y in ((a, b), (b, a)):
            with pytest.raises(UnanswerableQueryError, match="diff"):
                diff(x, y, "package")
            with pytest.raises(UnanswerableQueryError):
                base_diff([x, y])
        assert diff(a, b, "file") == []


def _file(path, *, mode=0o644, size=1, layer=0, digests=None, uid=0, type_="file", link=None):
    return FileRecord(path, type_, mode, uid, 0, size, layer, link_target=link,
                      digests=digests or {})  # fmt: skip


def test_file_changes_by_digest_mode_owner_link_and_layer():
    a = _analysis(files=[
        _file("/d", digests={"sha256": "1" * 64}), _file("/m"), _file("/o"),
        _file("/l", type_="symlink", link="a"), _file("/s"), _file("/r"), _file("/u"),
    ], layers=("sha256:aa", "sha256:bb"))  # fmt: skip
    b = _analysis(files=[
        _file("/d", digests={"sha256": "2" * 64}), _file("/m", mode=0o4755), _file("/o", uid=5),
        _file("/l", type_="symlink", link="b"), _file("/s"), _file("/r", layer=1), _file("/u"),
    ], layers=("sha256:aa", "sha256:cc"))  # fmt: skip
    rows = {r.name: r for r in diff(a, b, "file")}
    assert "digest sha256 111111111111 -> 222222222222" in rows["/d"].detail
    assert rows["/m"].detail == "mode 0644 -> 4755"
    assert rows["/o"].detail == "owner 0:0 -> 5:0"
    assert rows["/l"].detail == "link a -> b"
    assert "content not compared" in rows["/r"].detail  # rewritten by another layer blob
    assert "/s" not in rows and "/u" not in rows  # same attributes, same layer blob
    setuid = diff(a, b, "setuid")
    assert [(r.change, r.name, r.type) for r in setuid] == [("added", "/m", "setuid")]
    back = diff(b, a, "setuid")
    assert [(r.change, r.name, r.detail) for r in back] == [("removed", "/m", "bit cleared")]


def test_files_unknown_is_unanswerable_not_empty():
    known = _analysis(files=[_file("/a")])
    sbom = _analysis(files=[], files_known=False, origin="sbom:cyclonedx-json", name="from-sbom")
    for kind in ("file", "setuid", None):
        with pytest.raises(UnanswerableQueryError, match="from-sbom.*no file inventory"):
            diff(known, sbom, kind)
    assert diff(known, sbom, "package") == []


def test_base_needs_layers():
    a = _analysis(layers=("sha256:aa",), name="one")
    b = _analysis(layers=None, name="sbom-image")
    with pytest.raises(UnanswerableQueryError, match="sbom-image.*layers are not known"):
        base([a, b])
    c = _analysis(layers=("sha256:aa", "sha256:bb", "sha256:cc"), name="top")
    d = _analysis(layers=("sha256:aa", "sha256:bb"), name="mid")
    rows = {r.image.split("@")[0]: (r.base, r.shared_layers) for r in base([a, c, d])}
    assert rows == {"one": (None, 0), "top": (image_label(d), 2), "mid": (image_label(a), 1)}
