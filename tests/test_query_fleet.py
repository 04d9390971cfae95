"""Queries over many images: who-has, common-packages, advisory, distros, sizes.

Ground truth: dpkg's own status files read from the layers (``dpkg-query
--admindir``) and ordered with ``dpkg --compare-versions``, the layers' tar sizes
and os-release files read with tarfile, and advisory ranges evaluated with
packaging's Version straight from the OSV records.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import attrs
import pytest
import yaml
from packaging.version import Version

from anchore import Analysis, analyze, query
from anchore.analysis.model import Package
from anchore.image.model import ImageInfo, LayerInfo
from anchore.query import QueryParamError, UnanswerableQueryError
from anchore.query.diff import image_label
from anchore.query.evidence import PACKAGE_ANALYZERS
from anchore.query.fleet import advisory, common_packages, parse_sizes, sizes, who_has
from anchore.vulns import LoadReport, Store, read_osv
from test_query_diff import _manifest, dpkg_installed, layer_status_files
from testdata import PYPA, PYPA_ZIP

NAMES = ("debian-min", "debian-py", "debian-node")


@pytest.fixture(scope="module")
def images(corpus) -> dict[str, Analysis]:
    return {name: analyze(corpus / f"{name}.docker.tar") for name in NAMES}


@pytest.fixture(scope="module")
def dpkg(corpus, tmp_path_factory) -> dict[str, list[dict[str, str] | None]]:
    """Each image's installed packages after each layer (None: no status in that layer)."""
    where = tmp_path_factory.mktemp("dpkg")
    found = {}
    for name in NAMES:
        per_layer = [
            None if s is None else dpkg_installed(s, where)
            for s in layer_status_files(corpus / f"{name}.docker.tar")
        ]
        found[name] = per_layer
    return found


def _final(per_layer):
    return [s for s in per_layer if s is not None][-1]


def _dpkg_holds(a: str, op: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("db") / "vulns.sqlite", create=True)
    report = LoadReport()
    store.load(read_osv(PYPA, report), "osv-pypa", report)
    assert report.skipped == [] and "PyPI" in store.ecosystems()
    return store


# ---------------------------------------------------------------- who-has
@pytest.mark.corpus
def test_who_has_curl_in_a_range(images, dpkg):
    low, high = "7.0", "8.0"
    truth = {}
    for name in NAMES:
        final = _final(dpkg[name])
        version = final.get("curl")
        if version and _dpkg_holds(version, "ge", low) and _dpkg_holds(version, "lt", high):
            first = next(i for i, s in enumerate(dpkg[name]) if s and "curl" in s)
            truth[image_label(images[name])] = (version, first)
    assert list(truth) == [image_label(images["debian-py"])]
    assert truth[image_label(images["debian-py"])][1] == 1
    rows = query.run(
        "who-has", [images[n] for n in NAMES], {"name": "curl", "version": f">={low},<{high}"}
    )
    assert {r.image: (r.version, r.layer_index) for r in rows if r.type == "deb"} == truth
    assert all(r.in_range is True and r.path for r in rows)
    # out of range: nobody
    none = who_has([images[n] for n in NAMES], "curl", type="deb", version=">=8")
    assert none == []


@pytest.mark.corpus
def test_who_has_by_glob_and_regex(images, dpkg):
    final = {n: _final(dpkg[n]) for n in NAMES}
    want = {(image_label(images[n]), p) for n in NAMES for p in final[n] if p.startswith("libssl")}
    assert want
    got = who_has([images[n] for n in NAMES], "libssl*", type="deb")
    assert {(r.image, r.name) for r in got} == want
    by_re = who_has([images[n] for n in NAMES], "re:^libssl", type="deb")
    assert {(r.image, r.name) for r in by_re} == want
    with pytest.raises(QueryParamError, match="name"):
        query.run("who-has", [images["debian-min"]], {})


def test_who_has_lists_versions_it_cannot_order():
    info = ImageInfo(reference="x", config_digest="sha256:c")
    a = Analysis(
        image=info, distro=None, findings=[], files=[], errors=[],
        packages=[Package("deb", "curl", "not a version!", "pkg:deb/debian/curl")],
        analyzers=sorted(PACKAGE_ANALYZERS),
    )  # fmt: skip
    [row] = who_has([a], "curl", version=">=7")
    assert row.in_range is None
    assert "not a version!" in row.reason


@pytest.mark.corpus
def test_cross_image_queries_need_package_evidence(images, store):
    """An image whose dpkg or python analyzer failed, or never ran, does not "carry no
    curl": who-has, common-packages and advisory refuse it; a type typo is a param error."""
    py = images["debian-py"]
    no_deb = attrs.evolve(
        py, failed_analyzers=("dpkg",), packages=[p for p in py.packages if p.type != "deb"]
    )
    no_py = attrs.evolve(
        py, failed_analyzers=("python",), packages=[p for p in py.packages if p.type != "python"]
    )
    never = attrs.evolve(py, analyzers=("secrets", "distro"), packages=[])
    mn = images["debian-min"]
    for bad in (no_deb, never):
        with pytest.raises(UnanswerableQueryError, match="who-has"):
            who_has([mn, bad], "curl")
        with pytest.raises(UnanswerableQueryError, match="who-has"):
            who_has([mn, bad], "curl", type="deb")
        with pytest.raises(UnanswerableQueryError, match="common-packages"):
            common_packages([mn, bad])
    assert who_has([no_deb], "pyyaml", type="python")  # the python evidence is there
    for bad in (no_py, never):
        with pytest.raises(UnanswerableQueryError, match="advisory"):
            advisory([bad], "PYSEC-2021-142", store)
    with pytest.raises(QueryParamError, match="debb"):
        who_has([mn, py], "curl", type="debb")


# ---------------------------------------------------------------- common packages
@pytest.mark.corpus
def test_common_packages_are_dpkgs_intersection(images, dpkg):
    final = {n: _final(dpkg[n]) for n in NAMES}
    common = set.intersection(*(set(f) for f in final.values()))
    assert len(common) > 50
    rows = query.run("common-packages", [images[n] for n in NAMES])
    debs = {r.name: r for r in rows if r.type == "deb"}
    assert set(debs) == common
    for name in common:
        versions = {image_label(images[n]): (final[n][name],) for n in NAMES}
        assert dict(debs[name].versions) == versions
        assert debs[name].same == (len(set(versions.values())) == 1)


# ---------------------------------------------------------------- advisories
def _pypa_record(advisory_id_or_alias: str) -> dict:
    with zipfile.ZipFile(PYPA_ZIP) as zf:
        for name in zf.namelist():
            if name.endswith(".yaml"):
                record = yaml.safe_load(zf.read(name))
                if advisory_id_or_alias in (record["id"], *record.get("aliases", ())):
                    return record
    raise AssertionError(f"{advisory_id_or_alias} is not in the PyPA database")


def _affects(record: dict, name: str, version: str) -> bool:
    """OSV's ECOSYSTEM ranges for PyPI, evaluated with packaging."""
    v = Version(version)
    for affected in record["affected"]:
        if affected["package"]["name"].lower() != name.lower():
            continue
        for r in affected.get("ranges", ()):
            lo = hi = None
            for event in r["events"]:
                lo = event.get("introduced", lo)
                hi = event.get("fixed", hi)
            if (lo in (None, "0") or v >= Version(lo)) and (hi is None or v < Version(hi)):
                return True
    return False


@pytest.mark.corpus
@pytest.mark.parametrize("asked", ["CVE-2020-14343", "PYSEC-2021-142", "PYSEC-2020-96"])
def test_advisory_names_the_images_carrying_pyyaml(images, store, asked):
    record = _pypa_record(asked)
    analyses = [images[n] for n in NAMES]
    rows = query.run("advisory", analyses, {"id": asked}, store=store)
    py = image_label(images["debian-py"])
    [pyyaml] = [r for r in rows if r.image == py]
    assert (pyyaml.name.lower(), pyyaml.version) == ("pyyaml", "5.3.1")
    want = "affected" if _affects(record, "pyyaml", "5.3.1") else "not-affected"
    assert pyyaml.status == want
    assert pyyaml.advisory == record["id"]
    if want == "affected":
        assert pyyaml.fixed_in is not None
    assert asked != "CVE-2020-14343" or want == "affected"  # the case the issue names
    for other in ("debian-min", "debian-node"):
        assert [(r.status, r.name) for r in rows if r.image == image_label(images[other])] == [
            ("absent", None)
        ]


@pytest.mark.corpus
def test_advisory_by_alias_when_no_image_is_affected(images, store):
    """The store's alias table answers a CVE id though no image given carries pyyaml:
    every image is ``absent`` (it used to claim the store lacked the advisory)."""
    record = _pypa_record("CVE-2020-14343")
    assert "CVE-2020-14343" in record.get("aliases", [])
    rows = advisory([images["debian-min"], images["debian-node"]], "CVE-2020-14343", store)
    assert [r.status for r in rows] == ["absent", "absent"]
    assert record["id"] in rows[0].advisory.split(",")
    assert record["id"] in [a.id for a in store.by_alias("CVE-2020-14343")]
    assert store.by_alias("CVE-0000-00000") == []


def _debian_record(path: Path, fixed: str, modified: str = "2024-01-01T00:00:00Z") -> Path:
    """One Debian:12 advisory for curl, on its own (a single record: it covers nothing)."""
    path.write_text(
        json.dumps(
            {
                "id": "TEST-CURL-1",
                "modified": modified,
                "aliases": ["CVE-9999-0001"],
                "affected": [
                    {
                        "package": {"ecosystem": "Debian:12", "name": "curl"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                        ],
                    }
                ],
            }
        )
    )
    return path


@pytest.mark.corpus
def test_advisory_in_an_uncovered_ecosystem_is_unchecked(images, dpkg, tmp_path):
    curl = _final(dpkg["debian-py"])["curl"]
    store = Store(tmp_path / "db.sqlite", create=True)
    report = LoadReport()
    store.load(read_osv(PYPA, report), "osv-pypa", report)
    store.load(read_osv(_debian_record(tmp_path / "old.json", "7.0-1"), report), "one", report)
    assert not store.covers("Debian:12")
    assert _dpkg_holds(curl, "ge", "7.0-1")  # the installed curl is past the record's fix
    analyses = [images[n] for n in NAMES]
    rows = query.run("advisory", analyses, {"id": "TEST-CURL-1"}, store=store)
    py = [r for r in rows if r.image == image_label(images["debian-py"])]
    # curl and its libcurl binaries come from the curl source: all named, none "not-affected"
    assert {r.name for r in py} >= {"curl"}
    assert {r.status for r in py} == {"unchecked"}
    assert all("Debian:12" in r.reason for r in py)
    # the same record, with the installed version in range: affected (by an alias)
    store.load(
        read_osv(_debian_record(tmp_path / "new.json", "99:0", "2024-02-01T00:00:00Z"), report),
        "one",
        report,
    )
    rows = query.run("advisory", analyses, {"id": "CVE-9999-0001"}, store=store)
    py = [r for r in rows if r.image == image_label(images["debian-py"])]
    assert {r.status for r in py if r.name == "curl"} == {"affected"}


@pytest.mark.corpus
def test_advisory_the_store_lacks_is_unanswerable(images, store):
    with pytest.raises(UnanswerableQueryError, match="GHSA-0000-0000-0000"):
        query.run("advisory", [images["debian-py"]], {"id": "GHSA-0000-0000-0000"}, store=store)
    with pytest.raises(QueryParamError, match="store"):
        query.run("advisory", [images["debian-py"]], {"id": "X"})


# ---------------------------------------------------------------- distros and sizes
def _os_release(archive: Path) -> dict[str, str]:
    text = None
    with tarfile.open(archive) as outer:
        for name in _manifest(archive)["Layers"]:
            blob = outer.extractfile(name)
            assert blob is not None
            with tarfile.open(fileobj=blob, mode="r:*") as layer:
                for member in layer:
                    if member.name.lstrip("./") == "usr/lib/os-release" and member.isfile():
                        got = layer.extractfile(member)
                        assert got is not None
                        text = got.read().decode()
    assert text is not None
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k: v.strip('"') for k, v in pairs}


def _tar_bytes(archive: Path) -> int:
    with tarfile.open(archive) as outer:
        return sum(outer.getmember(n).size for n in _manifest(archive)["Layers"])


@pytest.mark.corpus
def test_distros_and_sizes(images, corpus):
    analyses = [images[n] for n in NAMES]
    truth: dict[str, set[str]] = {}
    for n in NAMES:
        osr = _os_release(corpus / f"{n}.docker.tar")
        truth.setdefault(f"{osr['ID']} {osr['VERSION_ID']}", set()).add(image_label(images[n]))
    rows = query.run("distros", analyses)
    assert {r.distro: set(r.images) for r in rows} == truth
    assert sum(r.count for r in rows) == 3

    size = {image_label(images[n]): _tar_bytes(corpus / f"{n}.docker.tar") for n in NAMES}
    edge = sorted(size.values())[1]  # one image under it, two at or over it
    rows = query.run("sizes", analyses, {"bins": f"{edge}B"})
    assert [(r.low, r.high) for r in rows] == [(0, edge), (edge, None)]
    assert set(rows[0].images) == {k for k, v in size.items() if v < edge}
    assert set(rows[1].images) == {k for k, v in size.items() if v >= edge}
    assert [r.count for r in rows] == [1, 2]


def test_size_bins_parse_and_unknown_sizes():
    assert parse_sizes("10MB, 1.5GB") == (10_000_000, 1_500_000_000)
    assert parse_sizes("1KiB,2MiB") == (1024, 2 * 2**20)
    for bad in ("10XB", "2GB,1GB", "", "ten"):
        with pytest.raises(ValueError):
            parse_sizes(bad)
    blind = Analysis(
        image=ImageInfo(reference="sbom", layers=None), distro=None, packages=[],
        findings=[], files=[], errors=[], origin="sbom:spdx-json",
    )  # fmt: skip
    with pytest.raises(UnanswerableQueryError, match="sbom.*sizes of its layers"):
        sizes([blind])
    partial = Analysis(
        image=ImageInfo(reference="p", layers=[LayerInfo(0, "d", "d", uncompressed_size=None)]),
        distro=None, packages=[], findings=[], files=[], errors=[],
    )  # fmt: skip
    with pytest.raises(UnanswerableQueryError):
        sizes([partial])


def test_advisory_reported_under_an_aliased_record_is_still_affected(tmp_path):
    """Two records of one vulnerability (each the other's alias): matching reports one of
    them; asking for the other must still say affected, not not-affected."""
    for rid, alias in (
        ("GHSA-aaaa-bbbb-cccc", "PYSEC-0000-1"),
        ("PYSEC-0000-1", "GHSA-aaaa-bbbb-cccc"),
    ):
        record = {
            "id": rid, "modified": "2024-01-01T00:00:00Z", "aliases": [alias],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}],
        }  # fmt: skip
        (tmp_path / f"{rid}.json").write_text(json.dumps(record))
    store = Store(tmp_path / "db.sqlite", create=True)
    store.load(read_osv(tmp_path / "GHSA-aaaa-bbbb-cccc.json"), "one")
    store.load(read_osv(tmp_path / "PYSEC-0000-1.json"), "one")
    image = Analysis(
        image=ImageInfo(reference="app", config_digest="sha256:c"), distro=None, findings=[],
        files=[], errors=[], packages=[Package("python", "demo", "1.0", "pkg:pypi/demo@1.0")],
        analyzers=["python"],
    )  # fmt: skip
    for asked in ("GHSA-aaaa-bbbb-cccc", "PYSEC-0000-1"):
        [row] = query.run("advisory", [image], {"id": asked}, store=store)
        assert (row.status, row.name, row.fixed_in) == ("affected", "demo", "2.0"), asked
    other = Analysis(
        image=ImageInfo(reference="app2", config_digest="sha256:d"), distro=None, findings=[],
        files=[], errors=[], packages=[Package("python", "demo", "3.0", "pkg:pypi/demo@3.0")],
        analyzers=["python"],
    )  # fmt: skip
    [row] = query.run("advisory", [other], {"id": "PYSEC-0000-1"}, store=store)
    # PyPI is not covered by a whole feed here: outside the range, still not "not-affected"
    assert row.status == "unchecked" and "PyPI" in row.reason
