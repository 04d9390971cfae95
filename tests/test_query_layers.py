"""The layer queries through the registry: layers, layer, efficiency, wasted-files.

Expectations come from the images' own layer tars read with tarfile
(test_layer_changes.replay) and their config's history, not from our output.
"""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from pathlib import Path

import attrs
import pytest

import anchore
from anchore import query
from anchore.analysis.model import Analysis
from anchore.query import QueryParamError, UnanswerableQueryError
from anchore.query.layers import LayerChangeRow, layer
from imagebuilder import d, f, whiteout
from test_layer_changes import docker_layer_members, replay

NAMES = ("layers", "layer", "efficiency", "wasted-files")
STATUS = b"Package: x\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"
STATUS_Y = STATUS.replace(b"x", b"y")


def test_registered_with_documented_columns():
    for name in NAMES:
        found = query.find(name)
        assert found.description and found.images == "one"
        assert found.columns == tuple(f.name for f in attrs.fields(found.row))
        assert attrs.fields(found.row)  # frozen attrs rows
        assert found.row.__attrs_attrs__ and found.row.__setattr__ is not object.__setattr__
    assert query.find("layer").param("index").required  # type: ignore[union-attr]


def test_unanswerable_without_layer_changes():
    """An analysis without layer changes (an SBOM's) is not an image that did nothing."""
    sbom = Analysis(
        image={}, distro=None, packages=[], findings=[], files=[], errors=[], origin="sbom:x"
    )
    for name in NAMES:
        params = {"index": "0"} if name == "layer" else {}
        with pytest.raises(UnanswerableQueryError, match="no layer changes"):
            query.run(name, [sbom], params)


@pytest.fixture
def small(make_image) -> Analysis:
    layers = [
        [d("etc"), f("etc/a", b"aaaa"), f("etc/gone", b"gone"), d("var"), d("var/lib"), d("var/lib/dpkg"),
         f("var/lib/dpkg/status", STATUS)],
        [f("etc/a", b"AAAA"), whiteout("etc/gone"), f("etc/b", b""),
         f("var/lib/dpkg/status", STATUS_Y)],
    ]  # fmt: skip
    return anchore.analyze(make_image(layers))  # every package analyzer ran


def test_layer_rows(small):
    rows = query.run("layer", [small], {"index": "1"}).rows
    assert rows == (
        LayerChangeRow("file", "changed", "file", "/etc/a", None, 4),
        LayerChangeRow("file", "added", "file", "/etc/b", None, 0),
        LayerChangeRow("file", "removed", "file", "/etc/gone", None, 4),
        LayerChangeRow("file", "changed", "file", "/var/lib/dpkg/status", None, len(STATUS_Y)),
        LayerChangeRow("package", "removed", "deb", "x", "1", None),
        LayerChangeRow("package", "added", "deb", "y", "1", None),
    )
    assert query.run("layer", [small], {"index": "-1", "kind": "packages"}).rows == rows[4:]
    assert layer(small, index=1, kind="files") == list(rows[:4])
    for bad in ({"index": "2"}, {"index": "-3"}, {"index": "x"}, {"index": "0", "kind": "dirs"}):
        with pytest.raises(QueryParamError):
            query.run("layer", [small], bad)
    with pytest.raises(QueryParamError, match="needs the parameter 'index'"):
        query.run("layer", [small], {})


def test_package_columns_unknown_without_package_changes(small):
    """Files known, packages not: the package columns say unknown (None), and asking
    a layer for its packages is unanswerable, not empty."""
    files_only = attrs.evolve(small, package_changes=None)
    rows = query.run("layers", [files_only]).rows
    assert [(r.packages_added, r.packages_removed) for r in rows] == [(None, None)] * 2
    assert [(r.packages_added, r.packages_removed) for r in query.run("layers", [small])] == [
        (1, 0),
        (1, 1),
    ]
    with pytest.raises(UnanswerableQueryError, match="package changes"):
        query.run("layer", [files_only], {"index": "1", "kind": "packages"})
    assert len(query.run("layer", [files_only], {"index": "1", "kind": "files"})) == 4


def test_package_columns_unknown_when_a_package_analyzer_failed_or_did_not_run(small, make_image):
    """package_changes is computed from what the analyzers found: with an analyzer
    failed or never run, a layer "adding no packages" would be a guess."""
    failed = attrs.evolve(small, failed_analyzers=("python",))
    layers_ = [[d("var"), d("var/lib"), d("var/lib/dpkg"), f("var/lib/dpkg/status", STATUS)]]
    dpkg_only = anchore.analyze(make_image(layers_), analyzers=["dpkg"])
    for partial in (failed, dpkg_only):
        assert partial.package_changes  # computed, but not from every analyzer
        rows = query.run("layers", [partial]).rows
        assert {(r.packages_added, r.packages_removed) for r in rows} == {(None, None)}
        assert rows[0].files_added  # the file columns stay known
        for kind in ({"kind": "packages"}, {}):
            with pytest.raises(UnanswerableQueryError, match="python"):
                query.run("layer", [partial], {"index": "0", **kind})
        assert query.run("layer", [partial], {"index": "0", "kind": "files"}).rows


def test_direct_calls_check_their_parameters(small):
    """The functions are the Python API: a bad kind is a QueryParamError there too."""
    with pytest.raises(QueryParamError, match="dirs"):
        layer(small, index=0, kind="dirs")
    with pytest.raises(QueryParamError, match="no layer 5"):
        layer(small, index=5)


def test_wasted_files_top_param(small):
    assert [r.path for r in query.run("wasted-files", [small], {"top": "0"})] == [
        "/var/lib/dpkg/status",
        "/etc/a",
        "/etc/gone",
    ]
    assert len(query.run("wasted-files", [small], {"top": "1"})) == 1
    with pytest.raises(QueryParamError):
        query.run("wasted-files", [small], {"top": "-1"})


@pytest.mark.corpus
def test_debian_py_layers(corpus: Path):
    result = anchore.analyze(corpus / "debian-py.docker.tar")
    members = docker_layer_members(corpus / "debian-py.docker.tar")
    expected, _ = replay(members)
    counts = Counter((r[0], r[2]) for r in expected)
    with tarfile.open(corpus / "debian-py.docker.tar") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        config = json.load(outer.extractfile(manifest["Config"]))  # type: ignore[arg-type]
    steps = [h.get("created_by") for h in config["history"] if not h.get("empty_layer")]
    rows = query.run("layers", [result]).rows
    assert [r.index for r in rows] == [0, 1, 2, 3]
    assert [r.created_by for r in rows] == steps
    assert [(r.files_added, r.files_changed, r.files_removed) for r in rows] == [
        (counts[i, "added"], counts[i, "changed"], counts[i, "removed"]) for i in range(4)
    ]
    assert [r.bytes for r in rows] == [
        sum(m.size for m in layer_members if m.isreg()) for layer_members in members
    ]
    assert rows[3].files_removed >= 2  # /usr/bin/curl, the documentation...
    assert rows[1].packages_added and rows[1].packages_removed == 0
    layer3 = query.run("layer", [result], {"index": "3", "kind": "files"}).rows
    removed = {r.name for r in layer3 if r.change == "removed"}
    assert {"/usr/bin/curl", "/usr/share/doc/adduser/copyright"} <= removed
    layer1 = layer(result, index=1, kind="packages")
    assert {"python3", "curl"} <= {r.name for r in layer1 if r.change == "added"}
    statuses = _dpkg_statuses(corpus / "debian-py.docker.tar")  # the tars' own databases
    assert sorted(statuses) == [0, 1]
    before: set[tuple[str, str]] = set()
    for index in range(4):
        now = statuses.get(index, before)
        debs = {(r.change, r.name, r.version) for r in layer(result, index=index, kind="packages")
                if r.type == "deb"}  # fmt: skip
        assert debs == {("added", *nv) for nv in now - before} | {
            ("removed", *nv) for nv in before - now
        }
        before = now
    assert rows[0].packages_added == len(statuses[0])  # the base layer: debs only


def _dpkg_statuses(archive: Path) -> dict[int, set[tuple[str, str]]]:
    """layer -> (name, version) of the installed packages its var/lib/dpkg/status lists,
    for each layer whose tar writes that file (read with tarfile, parsed by hand)."""
    found: dict[int, set[tuple[str, str]]] = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for index, name in enumerate(manifest[0]["Layers"]):
            with tarfile.open(fileobj=outer.extractfile(name), mode="r:*") as tar:
                member = next(
                    (m for m in tar if m.name.lstrip("./") == "var/lib/dpkg/status"), None
                )
                if member is None:
                    continue
                text = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
            found[index] = set()
            for stanza in text.split("\n\n"):
                fields = dict(
                    line.split(": ", 1)
                    for line in stanza.splitlines()
                    if ": " in line and line[0] != " "
                )
                if fields.get("Status", "").endswith(" installed"):
                    found[index].add((fields["Package"], fields["Version"]))
    return found
