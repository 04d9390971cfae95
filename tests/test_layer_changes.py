"""Analysis.layer_changes and package_changes: what each layer added, changed and removed.

Ground truth is computed here, independently of anchore: the layer tars are read
with Python's tarfile and their whiteouts applied by a naive replay (prefix scans
of a dict), and package lists come from ``dpkg-query --admindir`` over each
layer's own copy of the dpkg status file.
"""

from __future__ import annotations

import io
import json
import posixpath
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import attrs
import pytest

import anchore
from anchore.analysis.layers import DatabaseHistory, package_changes
from anchore.analysis.model import Analysis, FileChange, Location, Package, PackageChange
from imagebuilder import d, f, hard, opaque, sym, whiteout

MiB = 1024 * 1024

_TAR_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "directory",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char-device",
    tarfile.BLKTYPE: "block-device",
    tarfile.FIFOTYPE: "fifo",
}


# ---------------------------------------------------------------- ground truth
def docker_layer_members(archive: Path) -> list[list[tarfile.TarInfo]]:
    """Each layer's tar members, read with tarfile from a docker-save archive."""
    layers = []
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(name), mode="r:*") as layer:
                layers.append(layer.getmembers())
    return layers


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name)


#: a regular member's content: (layer, path, size); a hard link shows its target's
_Content = tuple[int, str, int]


def replay(
    layers: list[list[tarfile.TarInfo]],
) -> tuple[list[tuple[Any, ...]], dict[str, tuple[str, int, _Content | None]]]:
    """(layer, path, change, type, size) of every layer, and the final path -> (type,
    size, content shown), by applying whiteouts naively: a deleted directory is a prefix
    scan of every path. A hard link member shows the content its target path shows
    when the member is read."""
    state: dict[str, tuple[str, int, _Content | None]] = {}
    records: list[tuple[Any, ...]] = []
    for index, members in enumerate(layers):
        removed: dict[str, tuple[str, int, _Content | None]] = {}

        def drop(top: str, keep_top: bool = False) -> None:
            for path in [
                p for p in state if p.startswith(top + "/") or (p == top and not keep_top)
            ]:
                removed[path] = state.pop(path)  # noqa: B023

        for m in members:
            path = _norm(m.name)
            base = posixpath.basename(path)
            if base == ".wh..wh..opq":
                drop(posixpath.dirname(path), keep_top=True)
            elif base.startswith(".wh."):
                drop(posixpath.join(posixpath.dirname(path), base[4:]))
        written: dict[str, tuple[str, str, int]] = {}
        for m in members:
            path = _norm(m.name)
            if path == "/" or posixpath.basename(path).startswith(".wh."):
                continue
            kind = _TAR_TYPES[m.type]
            size = m.size if m.isreg() else 0
            content: _Content | None = (index, path, size) if m.isreg() else None
            if m.islnk():
                content = state.get(_norm(m.linkname), ("", 0, None))[2]
            if kind != "directory":
                drop(path, keep_top=True)
            again = path in state or path in removed
            removed.pop(path, None)
            written[path] = ("changed" if again else "added", kind, size)
            state[path] = (kind, size, content)
        records += [(index, p, "removed", t, s) for p, (t, s, _) in removed.items()]
        records += [(index, p, c, t, s) for p, (c, t, s) in written.items()]
    return sorted(records), state


def wasted_by_replay(layers: list[list[tarfile.TarInfo]]) -> tuple[int, int]:
    """(bytes all layers' regular members store, bytes of those the final tree shows:
    each content once, whether its own path or a hard link shows it)."""
    total = sum(m.size for members in layers for m in members if m.isreg())
    _, state = replay(layers)
    shown = {content for _, _, content in state.values() if content is not None}
    return total, sum(size for _, _, size in shown)


def as_tuples(changes: list[FileChange]) -> list[tuple[Any, ...]]:
    return [(c.layer_index, c.path, c.change, c.type, c.size) for c in changes]


def visible_after(changes: list[FileChange]) -> set[str]:
    """The paths the changes leave standing."""
    shown: set[str] = set()
    for c in changes:
        if c.change == "removed":
            shown.discard(c.path)
        else:
            shown.add(c.path)
    return shown


# ---------------------------------------------------------------- built images
def _analyze(path: str) -> Analysis:
    return anchore.analyze(path, analyzers=["dpkg", "python"])


def _of_layer(result: Analysis, index: int) -> list[tuple[Any, ...]]:
    """The changes of one layer as tuples (the analysis must record them)."""
    assert result.layer_changes is not None
    return as_tuples([c for c in result.layer_changes if c.layer_index == index])


def test_changes_of_a_built_image_exactly(make_image):
    layers = [
        [d("data"), f("data/big", b"a" * MiB), f("etc/conf", b"x" * 500, mode=0o644),
         d("cache"), f("cache/a", b"1" * 20), d("cache/sub"), f("cache/sub/c", b"2" * 30),
         f("gone", b"g" * 40), sym("link", "data/big")],
        [f("data/big", b"b" * MiB), whiteout("gone"), opaque("cache"), f("cache/new", b"n"),
         f("etc/conf", b"x" * 500, mode=0o600), whiteout("link"), f("fresh", b"")],
    ]  # fmt: skip
    result = _analyze(make_image(layers))
    assert _of_layer(result, 1) == [
        (1, "/cache/a", "removed", "file", 20),
        (1, "/cache/new", "added", "file", 1),
        (1, "/cache/sub", "removed", "directory", 0),
        (1, "/cache/sub/c", "removed", "file", 30),
        (1, "/data/big", "changed", "file", MiB),
        (1, "/etc/conf", "changed", "file", 500),
        (1, "/fresh", "added", "file", 0),
        (1, "/gone", "removed", "file", 40),
        (1, "/link", "removed", "symlink", 0),
    ]
    layer0 = _of_layer(result, 0)
    assert {c[2] for c in layer0} == {"added"}
    assert len(layer0) == 9  # /etc made by the tar as a parent is not a member: not a change
    assert result.layer_changes is not None
    assert result.layer_changes == sorted(
        result.layer_changes, key=lambda c: (c.layer_index, c.path)
    )
    assert visible_after(result.layer_changes) | {"/etc"} == {e.path for e in result.files}


def test_symlinked_parents_deletions_and_replacements(make_image):
    """Paths land where squashing puts them (``/bin -> usr/bin``), a file replacing a
    directory removes what was under it, a directory deleted and written again by one
    layer is one change, and hard links store nothing of their own."""
    layers = [
        [d("usr"), d("usr/bin"), sym("bin", "usr/bin"), f("usr/bin/a", b"aa"),
         d("opt"), d("opt/tree"), f("opt/tree/x", b"xxx"), d("opt/tree/y"), f("opt/tree/y/z", b"z"),
         d("srv"), f("srv/old", b"old!")],
        [f("bin/b", b"bbbb"), f("opt/tree", b"now a file"), whiteout("srv"), d("srv"),
         f("srv/new", b"n"), hard("usr/bin/b2", "usr/bin/a")],
    ]  # fmt: skip
    result = _analyze(make_image(layers))
    assert _of_layer(result, 1) == [
        (1, "/opt/tree", "changed", "file", 10),
        (1, "/opt/tree/x", "removed", "file", 3),
        (1, "/opt/tree/y", "removed", "directory", 0),
        (1, "/opt/tree/y/z", "removed", "file", 1),
        (1, "/srv", "changed", "directory", 0),
        (1, "/srv/new", "added", "file", 1),
        (1, "/srv/old", "removed", "file", 4),
        (1, "/usr/bin/b", "added", "file", 4),
        (1, "/usr/bin/b2", "added", "hardlink", 0),
    ]
    assert result.layer_changes is not None
    assert visible_after(result.layer_changes) == {e.path for e in result.files}


def test_no_layer_changes_without_an_image():
    """A hand-made analysis (or an SBOM's) does not know them: None, not empty."""
    analysis = Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[])
    assert analysis.layer_changes is None and analysis.package_changes is None


# ---------------------------------------------------------------- package changes
def _pkg(type_: str, name: str, version: str, path: str, layer: int, by: str) -> Package:
    return Package(type_, name, version, f"pkg:{type_}/{name}@{version}",
                   locations=[Location(path, layer, "")], found_by=by)  # fmt: skip


def test_package_changes_from_database_histories():
    """Upgrades are a removal and an addition; a layer deleting the database removes
    everything; an unreadable copy's changes show at the next readable one; rpm keys
    name versions as the rpm analyzer does; a package without history is added at its
    own layer."""
    status = "/var/lib/dpkg/status"
    dpkg = DatabaseHistory("dpkg", status, (
        (0, frozenset({("a", "1", "amd64"), ("b", "1", "amd64")})),
        (1, None),
        (2, frozenset({("a", "2", "amd64"), ("b", "1", "amd64"), ("c", "1", "amd64")})),
        (3, frozenset()),
        (4, frozenset({("c", "1", "amd64")})),
    ))  # fmt: skip
    rpm = DatabaseHistory("rpm", "/var/lib/rpm/rpmdb.sqlite", (
        (0, frozenset({("bash", "", "5.1", "2.el9"), ("tzdata", "1", "2024a", "1")})),
    ))  # fmt: skip
    packages = [
        _pkg("deb", "c", "1", status, 4, "dpkg"),
        _pkg("rpm", "bash", "5.1-2.el9", "/var/lib/rpm/rpmdb.sqlite", 0, "rpm"),
        _pkg("rpm", "tzdata", "1:2024a-1", "/var/lib/rpm/rpmdb.sqlite", 0, "rpm"),
        _pkg("python", "flask", "2.0.1", "/app/flask-2.0.1.dist-info/METADATA", 2, "python"),
    ]
    got = package_changes(packages, [dpkg, rpm])
    assert got == sorted([
        PackageChange(0, "deb", "a", "1", "added"),
        PackageChange(0, "deb", "b", "1", "added"),
        PackageChange(2, "deb", "a", "1", "removed"),
        PackageChange(2, "deb", "a", "2", "added"),
        PackageChange(2, "deb", "c", "1", "added"),
        PackageChange(3, "deb", "a", "2", "removed"),
        PackageChange(3, "deb", "b", "1", "removed"),
        PackageChange(3, "deb", "c", "1", "removed"),
        PackageChange(4, "deb", "c", "1", "added"),
        PackageChange(0, "rpm", "bash", "5.1-2.el9", "added"),
        PackageChange(0, "rpm", "tzdata", "1:2024a-1", "added"),
        PackageChange(2, "python", "flask", "2.0.1", "added"),
    ])  # fmt: skip


def test_a_deleted_status_file_removes_its_packages(make_image):
    """Layer 1 deletes /var/lib/dpkg/status, layer 2 writes a new one: the packages of
    the first copy are removed by layer 1, the new one's added by layer 2, and a
    package listed again comes from layer 2 (its package's layer says so too)."""
    a = b"Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"
    b = a.replace(b"Package: a", b"Package: b").replace(b"Version: 1", b"Version: 2")
    layers = [
        [d("var"), d("var/lib"), d("var/lib/dpkg"), f("var/lib/dpkg/status", a)],
        [whiteout("var/lib/dpkg/status")],
        [f("var/lib/dpkg/status", a + b)],
    ]
    result = _analyze(make_image(layers))
    assert result.package_changes == [
        PackageChange(0, "deb", "a", "1", "added"),
        PackageChange(1, "deb", "a", "1", "removed"),
        PackageChange(2, "deb", "a", "1", "added"),
        PackageChange(2, "deb", "b", "2", "added"),
    ]
    assert {(p.name, p.layer_index) for p in result.packages} == {("a", 2), ("b", 2)}


def test_package_changes_end_with_the_packages_found(tmp_path):
    """For rpm and apk databases too: what the changes leave standing is exactly the
    analysis's packages (the analyzers' versions, rpm's epoch included)."""
    import imagebuilder

    here = Path(__file__).parent
    apk_db = (here / "data/syft-testdata/syft/pkg/cataloger/alpine/testdata/single").read_bytes()
    sqlite = (here / "fixtures" / "rpm" / "rpmdb.sqlite").read_bytes()
    layers = [
        [d("usr"), d("usr/lib"), d("usr/lib/sysimage"), d("usr/lib/sysimage/rpm"),
         f("usr/lib/sysimage/rpm/rpmdb.sqlite", sqlite)],
        [d("lib"), d("lib/apk"), d("lib/apk/db"), f("lib/apk/db/installed", apk_db)],
    ]  # fmt: skip
    built = imagebuilder.build(layers)
    path = imagebuilder.write_all_formats(tmp_path, built)["oci-tar"]
    result = anchore.analyze(path, analyzers=["rpm", "apk"])
    assert {p.type for p in result.packages} == {"rpm", "apk"}
    assert result.package_changes is not None
    standing: set[tuple[str, str, str]] = set()
    for c in result.package_changes:
        (standing.add if c.change == "added" else standing.discard)((c.type, c.name, c.version))
    assert standing == {p.key for p in result.packages}
    assert {c.layer_index for c in result.package_changes if c.type == "rpm"} == {0}
    assert {c.layer_index for c in result.package_changes if c.type == "apk"} == {1}


# ---------------------------------------------------------------- the real images
@pytest.fixture(scope="module")
def debian_py(corpus: Path) -> Analysis:
    return anchore.analyze(corpus / "debian-py.oci.tar")


@pytest.fixture(scope="module")
def debian_py_layers(corpus: Path) -> list[list[tarfile.TarInfo]]:
    return docker_layer_members(corpus / "debian-py.docker.tar")


@pytest.mark.corpus
def test_debian_py_layer_changes_match_the_tars(debian_py, debian_py_layers):
    expected, state = replay(debian_py_layers)
    assert debian_py.layer_changes is not None
    assert as_tuples(debian_py.layer_changes) == expected
    assert (3, "/usr/share/doc/adduser/copyright", "removed", "file") in {r[:4] for r in expected}
    curl = next(m for m in debian_py_layers[1] if _norm(m.name) == "/usr/bin/curl")
    assert (3, "/usr/bin/curl", "removed", "file", curl.size) in as_tuples(debian_py.layer_changes)
    assert visible_after(debian_py.layer_changes) == set(state)


@pytest.mark.corpus
def test_debian_py_changes_leave_the_unpacked_rootfs(debian_py, corpus):
    """Ground truth from ``umoci unpack``: every path of the squashed root filesystem."""
    listed = {"/" + line for line in (corpus / "debian-py.rootfs.txt").read_text().splitlines()}
    assert debian_py.layer_changes is not None
    assert visible_after(debian_py.layer_changes) == listed


def _dpkg_query(status: bytes, where: Path) -> set[tuple[str, str]]:
    """(name, version) of the installed packages of a status file, as dpkg-query says."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "status").write_bytes(status)
    out = subprocess.run(
        ["dpkg-query", "--admindir", str(where), "-W",
         "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {
        (name, version)
        for name, version, abbrev in (line.split("\t") for line in out.splitlines())
        if abbrev.startswith("ii")
    }


@pytest.mark.corpus
@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="dpkg-query is the oracle")
def test_debian_py_package_changes_match_dpkg_query(debian_py, corpus, tmp_path):
    listed: dict[int, set[tuple[str, str]]] = {}
    with tarfile.open(corpus / "debian-py.docker.tar") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for index, name in enumerate(manifest[0]["Layers"]):
            with tarfile.open(fileobj=outer.extractfile(name), mode="r:*") as layer:
                for m in layer.getmembers():
                    if _norm(m.name) == "/var/lib/dpkg/status":
                        data = layer.extractfile(m).read()  # type: ignore[union-attr]
                        listed[index] = _dpkg_query(data, tmp_path / str(index))
    assert sorted(listed) == [0, 1]  # layers 2 and 3 leave the database alone
    assert debian_py.package_changes is not None
    debs = [c for c in debian_py.package_changes if c.type == "deb"]
    added = {i: {(c.name, c.version) for c in debs if c.layer_index == i and c.change == "added"}
             for i in range(4)}  # fmt: skip
    assert added[0] == listed[0]
    assert added[1] == listed[1] - listed[0]
    assert {"python3", "curl"} <= {name for name, _ in added[1]}
    assert added[2] == added[3] == set()
    assert [c for c in debs if c.change == "removed"] == []  # nothing leaves the status file
    assert listed[0] - listed[1] == set()


@pytest.mark.corpus
def test_debian_py_language_packages_added_where_their_files_were(debian_py):
    """``requests`` (pip, layer 2): added by the layer whose tar added its dist-info."""
    assert debian_py.layer_changes is not None and debian_py.package_changes is not None
    added_paths = {(c.layer_index, c.path) for c in debian_py.layer_changes if c.change == "added"}
    pythons = [p for p in debian_py.packages if p.type == "python"]
    assert pythons
    for pkg in pythons:
        assert PackageChange(pkg.layer_index, "python", pkg.name, pkg.version, "added") in set(
            debian_py.package_changes
        )
        assert (pkg.layer_index, pkg.locations[0].path) in added_paths
    requests = next(p for p in pythons if p.name == "requests")
    assert requests.layer_index == 2


# ---------------------------------------------------------------- serialization
class _Writes(io.StringIO):
    """Records the size of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, s: str) -> int:
        self.sizes.append(len(s))
        return super().write(s)


@pytest.mark.corpus
def test_changes_serialize_and_stream(debian_py):
    data = debian_py.to_dict()
    assert data["layer_changes"][0] == {
        "layer_index": 0, "path": debian_py.layer_changes[0].path, "change": "added",
        "type": debian_py.layer_changes[0].type, "size": debian_py.layer_changes[0].size,
    }  # fmt: skip
    assert len(data["layer_changes"]) == len(debian_py.layer_changes or ())
    assert data["package_changes"][0].keys() == {"layer_index", "type", "name", "version", "change"}
    out = _Writes()
    debian_py.write_json(out, files=False)
    assert json.loads(out.getvalue()) == {k: v for k, v in data.items() if k != "files"}
    changes_only = attrs.evolve(debian_py, packages=[], files=[], relationships=[])
    out = _Writes()
    changes_only.write_json(out)
    assert out.tell() > 1_000_000  # the changes alone are over a megabyte...
    assert max(out.sizes) < 64 * 1024  # ...written a record at a time
    none = Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[])
    text = io.StringIO()
    none.write_json(text)
    assert json.loads(text.getvalue())["layer_changes"] is None


def test_layer_changes_that_cannot_be_computed_are_unknown(make_image, monkeypatch):
    """Not a silently empty list: None, and an error entry saying why."""
    from anchore.analysis import engine
    from anchore.errors import SymlinkLoopError

    def broken(*args: object) -> list[FileChange]:
        raise SymlinkLoopError("/a: more than 40 symlinks to follow (a loop?)")

    monkeypatch.setattr(engine, "layer_changes", broken)
    result = _analyze(make_image([[f("a", b"x")]]))
    assert result.layer_changes is None
    assert [(e.analyzer, "symlinks" in e.message) for e in result.errors] == [
        (engine.LAYER_CHANGES, True)
    ]
