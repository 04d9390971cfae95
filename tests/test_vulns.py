"""The advisory store and matching, against real advisory databases.

The expected matches are computed independently of our code: straight from
the YAML/JSON records, with packaging's Version (PyPI) and a few lines of
semver (Go), evaluated the way the OSV schema describes.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

import anchore
from anchore.vulns import LoadReport, Store, match, read_osv
from anchore.vulns.store import SCHEMA_VERSION
from testdata import DEBIAN_TRACKER, GO, PYPA, SECDB, SYFT_CATALOGERS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "vulns.sqlite"
    store = Store(path, create=True)
    report = LoadReport()
    store.load(read_osv(PYPA, report), "osv-pypa", report)
    store.load(read_osv(GO, report), "osv-go", report)
    assert report.skipped == []
    assert report.loaded > 6000
    return store


def test_loading_is_idempotent_and_incremental(tmp_path):
    record = {"id": "TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-1"],
              "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps(record))
    store = Store(tmp_path / "db.sqlite", create=True)
    assert store.load(read_osv(tmp_path / "a.json"), "t").loaded == 1
    again = store.load(read_osv(tmp_path / "a.json"), "t")
    assert (again.loaded, again.unchanged) == (0, 1)
    newer = {
        **record,
        "modified": "2024-02-01T00:00:00Z",
        "affected": [{**record["affected"][0], "package": {"ecosystem": "PyPI", "name": "other"}}],
    }
    (tmp_path / "a.json").write_text(json.dumps(newer))
    assert store.load(read_osv(tmp_path / "a.json"), "t").loaded == 1
    assert store.for_package("PyPI", "demo") == []
    assert [a.id for a in store.for_package("PyPI", "other")] == ["TEST-1"]
    assert store.schema_version == SCHEMA_VERSION
    store.close()
    assert len(Store(tmp_path / "db.sqlite")) == 1  # persisted, and the schema reopens


def test_malformed_records_are_reported_and_skipped(tmp_path):
    (tmp_path / "good.yaml").write_text("id: OK-1\nmodified: 2024-01-01T00:00:00Z\n")
    (tmp_path / "noid.json").write_text('{"modified": "2024-01-01T00:00:00Z"}')
    (tmp_path / "broken.json").write_text('{"id": ')
    (tmp_path / "badrange.json").write_text(json.dumps(
        {"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                                                   "ranges": [{"events": [{"a": "1", "b": "2"}]}]}]}))  # fmt: skip
    report = LoadReport()
    ids = [a.id for a in read_osv(tmp_path, report)]
    assert ids == ["OK-1"]
    reasons = dict((Path(name).name, why) for name, why in report.skipped)
    assert set(reasons) == {"noid.json", "broken.json", "badrange.json"}
    assert "missing 'id'" in reasons["noid.json"] and "not valid JSON" in reasons["broken.json"]


def test_zip_archives_as_osv_dev_publishes_them(tmp_path):
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(GO.glob("GO-2024-*.json"))[:20]:
            z.write(path, path.name)
    assert len(list(read_osv(archive))) == 20


def _independent_pypi(name: str, version: str) -> set[str]:
    """Advisory ids whose records (read straight from YAML) contain this version."""
    v = Version(version)
    found = set()
    for path in (PYPA / name).glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if doc.get("withdrawn"):
            continue
        for affected in doc.get("affected", []):
            if affected["package"]["name"].lower() != name:
                continue
            hit = str(version) in [str(x) for x in affected.get("versions", [])]
            for r in affected.get("ranges", []):
                if r["type"] != "ECOSYSTEM":
                    continue
                inside = False
                events = sorted(r["events"], key=lambda e: (0, Version("0")) if list(e.values())[0] == "0"
                                else (1, Version(str(list(e.values())[0]))))  # fmt: skip
                for event in events:
                    ((kind, value),) = event.items()
                    value = str(value)
                    if kind == "introduced" and (value == "0" or v >= Version(value)):
                        inside = True
                    elif (kind == "fixed" and v >= Version(value)) or (
                        kind == "last_affected" and v > Version(value)
                    ):
                        inside = False
                hit = hit or inside
            if hit:
                found.add(doc["id"])
    return found


@pytest.fixture(scope="module")
def debian_py(corpus):
    return anchore.analyze(anchore.open_image(corpus / "debian-py.docker.tar"),
                           analyzers=["python", "golang"])  # fmt: skip


@pytest.mark.corpus
def test_python_packages_of_debian_py_against_pypa(store, debian_py):
    matches = match(debian_py, store)
    for pkg in debian_py.packages_of("python"):
        ours = {m.advisory_id for m in matches if m.purl == pkg.purl}
        expected = _independent_pypi(pkg.name, pkg.version)
        # the same vulnerability recorded twice under aliases is reported once
        assert ours <= expected, pkg.name
        for missing in expected - ours:
            twin = store.get(missing)
            assert any({m.advisory_id, *m.aliases} & {twin.id, *twin.aliases} for m in matches
                       if m.purl == pkg.purl), (pkg.name, missing)  # fmt: skip
    by_pkg = {(m.package_name, m.advisory_id): m for m in matches}
    pyyaml = by_pkg[("pyyaml", "PYSEC-2021-142")]
    assert pyyaml.fixed_in == "5.4" and pyyaml.locations[0].layer_index == 2
    assert ("jinja2", "PYSEC-2021-66") in by_pkg and by_pkg[
        ("jinja2", "PYSEC-2021-66")
    ].fixed_in == "2.11.3"
    assert any(m.package_name == "requests" for m in matches)


_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")


def _go_key(version: str):
    m = _SEMVER.match(version.replace("go", "", 1) if version.startswith("go") else version)
    if m is None:
        parts = (version.replace("go", "", 1).split(".") + ["0", "0"])[:3]
        return tuple(int(p) for p in parts), (1,)
    pre = m.group(4)
    rank = (
        (1,)
        if not pre
        else (0, *[(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")])
    )
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))), rank


@pytest.mark.corpus
def test_go_binary_of_debian_py_against_the_go_database(store, debian_py):
    matches = match(debian_py, store)
    expected = set()
    index: dict[str, list[dict]] = {}
    for path in GO.glob("*.json"):
        doc = json.loads(path.read_text())
        for affected in doc.get("affected", []):
            index.setdefault(affected["package"]["name"], []).append(doc)
    for pkg in debian_py.packages_of("go-module"):
        installed = _go_key(pkg.version)
        for doc in index.get(pkg.name, []):
            for affected in doc["affected"]:
                if affected["package"]["name"] != pkg.name:
                    continue
                for r in affected.get("ranges", []):
                    inside = False
                    for event in r["events"]:  # the Go database lists events in order
                        ((kind, value),) = event.items()
                        if kind == "introduced" and (value == "0" or installed >= _go_key(value)):
                            inside = True
                        elif kind == "fixed" and installed >= _go_key(value):
                            inside = False
                    if inside:
                        expected.add((pkg.name, doc["id"]))
    ours = {(m.package_name, m.advisory_id) for m in matches if m.package_type == "go-module"}
    assert ours == expected
    assert any(name == "stdlib" for name, _ in ours)


def test_yaml_versions_stay_strings(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "id: T-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: x}\n"
        "  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 0\n    - fixed: 1.10\n"
    )
    (advisory,) = read_osv(tmp_path / "r.yaml")
    assert advisory.affected[0].ranges[0]["events"] == [{"introduced": "0"}, {"fixed": "1.10"}]
    assert advisory.modified == "2024-01-01T00:00:00.000000Z"  # one UTC form


APK_FIXTURES = SYFT_CATALOGERS / "alpine" / "testdata"


def test_alpine_packages_against_secdb(tmp_path):
    """Real apk databases matched against their release's secdb; expected fixes read from YAML."""
    from anchore.analysis.model import Distro
    from anchore.analyzers.apk import parse_installed
    from anchore.versions import compare
    from anchore.vulns import read_alpine_secdb

    report = LoadReport()
    store = Store(tmp_path / "db.sqlite", create=True)
    store.load(read_alpine_secdb(SECDB, report), "alpine-secdb", report)
    assert report.skipped == [] and report.loaded > 1000
    from imagebuilder import build, f, oci_archive

    checked = 0
    fixtures = [
        "base",
        "single",
        "multiple-1/lib/apk/db/installed",
        "multiple-2/lib/apk/db/installed",
    ]
    databases = {name: (APK_FIXTURES / name).read_bytes() for name in fixtures}
    # the real databases are newer than every fix in these releases (no match is right);
    # one copy with musl-utils at an Alpine 3.9-era version proves positive matches too
    databases["single, musl 1.1.20-r4"] = databases["single"].replace(
        b"V:1.1.24-r2", b"V:1.1.20-r4"
    )
    for fixture, db in databases.items():
        for release in sorted(p.name for p in SECDB.iterdir() if p.is_dir()):
            image = anchore.open_image(oci_archive(tmp_path / "a.tar", build([[
                f("lib/apk/db/installed", db), f("etc/alpine-release", release[1:] + ".0\n")]])))  # fmt: skip
            analysis = anchore.analyze(image, analyzers=["distro", "apk"])
            assert analysis.distro == Distro(id="alpine", version_id=release[1:] + ".0",
                                             locations=analysis.distro.locations)  # fmt: skip
            ours = {(m.package_name, *m.aliases) for m in match(analysis, store)}
            expected = set()
            records = parse_installed(db.decode())
            for repo in ("main", "community"):
                if not (SECDB / release / f"{repo}.yaml").exists():
                    continue
                doc = yaml.safe_load((SECDB / release / f"{repo}.yaml").read_text()) or {}
                for item in doc.get("packages") or []:
                    pkg = item["pkg"]
                    for installed in records:
                        if installed.get("o", installed["P"]) != pkg["name"]:
                            continue
                        for fixed, ids in (pkg.get("secfixes") or {}).items():
                            if str(fixed) != "0" and compare("apk", installed["V"], str(fixed)) < 0:
                                expected |= {
                                    (installed["P"], cve) for i in ids for cve in str(i).split()
                                }
            assert ours == expected, (fixture, release)
            checked += len(expected)
    assert checked > 0


def test_debian_tracker_matches_through_source_packages(tmp_path):
    from anchore.analysis.model import Analysis, Distro, Package
    from anchore.vulns import read_debian_tracker

    report = LoadReport()
    store = Store(tmp_path / "db.sqlite", create=True)
    store.load(read_debian_tracker(DEBIAN_TRACKER, report), "debian", report)
    assert report.loaded >= 6 and report.skipped == []
    data = json.loads(DEBIAN_TRACKER.read_text())
    source, cves = next((s, c) for s, c in data.items()
                        if any(r.get("releases", {}).get("buster", {}).get("status") == "resolved"
                               and r["releases"]["buster"].get("fixed_version") not in (None, "0")
                               for r in c.values()))  # fmt: skip
    fixes = {cve: r["releases"]["buster"]["fixed_version"] for cve, r in cves.items()
             if r.get("releases", {}).get("buster", {}).get("status") == "resolved"
             and r["releases"]["buster"].get("fixed_version") not in (None, "0")}  # fmt: skip
    lowest = min(fixes.values(), key=anchore.versions.key("dpkg"))
    pkg = Package(type="deb", name=f"lib{source}-bin", version="0:0.1-1", purl=f"pkg:deb/debian/lib{source}-bin@0.1-1",
                  source_name=source, source_version="0.1-1")  # fmt: skip
    analysis = Analysis(image={}, distro=Distro(id="debian", version_id="10"), packages=[pkg],
                        findings=[], files=[], errors=[])  # fmt: skip
    matches = match(analysis, store)
    assert {m.advisory_id for m in matches} >= {f"DEBIAN-TRACKER-{cve}" for cve in fixes}
    hit = next(m for m in matches if m.fixed_in == lowest)
    assert hit.ecosystem == "Debian:10" and hit.package_name == f"lib{source}-bin"


def test_cvss_scores_and_ratings():
    from anchore.vulns.severity import score_vector, severity_of

    # NVD's published scores for these vectors; v4 from FIRST's calculator
    assert score_vector("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").score == 9.8
    assert score_vector("CVSS_V3", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").score == 6.1
    assert score_vector("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P").score == 7.5
    v4 = score_vector("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert (v4.score, v4.rating) == (9.3, "critical")
    assert score_vector("CVSS_V3", "CVSS:3.1/AV:X") is None  # malformed: no score, no crash
    both = severity_of([{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:N/A:N"},
                        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                       distro_rating="high**")  # fmt: skip
    assert [s.scheme for s in both] == ["CVSS_V3", "CVSS_V2", "distro"]
    assert both[-1].rating == "high"


@pytest.mark.corpus
def test_matches_carry_scores_and_suppressions_are_recorded(store, debian_py, tmp_path):
    import datetime

    from anchore.vulns.suppress import IgnoreRule, apply, read_vex

    matches = match(debian_py, store)
    scored = [m for m in matches if m.score is not None]
    for m in scored:  # the advisory's own vectors, scored
        best = max(s.score for s in m.severities if s.score is not None)
        assert m.score == best and m.rating in ("low", "medium", "high", "critical")
    unscored = [m for m in matches if not m.severities]
    assert all(m.rating == "unknown" for m in unscored)
    jinja = next(m for m in matches if m.advisory_id == "PYSEC-2021-66")
    rules = [
        IgnoreRule(reason="urlize is not used", id="CVE-2020-28493"),  # by alias
        IgnoreRule(reason="expired", package="pkg:pypi/pyyaml", expires=datetime.date(2020, 1, 1)),
        IgnoreRule(reason="vendored tool", path="/usr/local/bin/*"),
    ]
    openvex = tmp_path / "vex.json"
    openvex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "statements": [
                    {
                        "vulnerability": {"name": "PYSEC-2021-142"},
                        "products": [{"@id": "pkg:pypi/pyyaml"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    kept, suppressed = apply(matches, ignore_rules=rules, vex=read_vex(openvex),
                             today=datetime.date(2026, 1, 1))  # fmt: skip
    assert len(kept) + len(suppressed) == len(matches)
    reasons = {(s.match.advisory_id, s.kind) for s in suppressed}
    assert (jinja.advisory_id, "ignore rule") in reasons
    assert ("PYSEC-2021-142", "vex") in reasons
    assert all(m.locations[0].path != "/usr/local/bin/syft" for m in kept)
    assert any(s.reason == "vendored tool" for s in suppressed)
    vex_reason = next(s.reason for s in suppressed if s.kind == "vex")
    assert "not_affected: vulnerable_code_not_in_execute_path" in vex_reason


def test_csaf_vex(tmp_path):
    from anchore.vulns.suppress import read_vex

    doc = {"document": {"category": "csaf_vex"},
           "product_tree": {"branches": [{"branches": [{"product": {
               "product_id": "P1", "name": "pyyaml 5.3.1",
               "product_identification_helper": {"purl": "pkg:pypi/pyyaml@5.3.1"}}}]}]},
           "vulnerabilities": [{"cve": "CVE-2020-14343",
                                "product_status": {"known_not_affected": ["P1"]},
                                "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["P1"]}]}]}  # fmt: skip
    (tmp_path / "csaf.json").write_text(json.dumps(doc))
    (st,) = read_vex(tmp_path / "csaf.json")
    assert (st.vulnerability, st.products, st.status, st.justification) == (
        "CVE-2020-14343",
        ("pkg:pypi/pyyaml@5.3.1",),
        "not_affected",
        "vulnerable_code_not_present",
    )
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(anchore.AnchoreError, match="bad.json"):
        read_vex(tmp_path / "bad.json")


def test_feed_detection_and_the_cli(tmp_path, capsys, monkeypatch):
    from anchore.cli import main
    from anchore.vulns import load

    store = Store(tmp_path / "db.sqlite", create=True)
    assert load(store, GO).loaded > 4000
    assert load(store, SECDB).loaded > 1000
    assert load(store, DEBIAN_TRACKER).loaded >= 6
    with pytest.raises(anchore.AnchoreError, match="no feed reader named 'nope'"):
        load(store, GO, feed="nope")
    store.close()
    db = str(tmp_path / "db.sqlite")
    assert main(["db", "--db", db, "info"]) == 0
    info = capsys.readouterr().out
    assert (
        f"advisories (schema {SCHEMA_VERSION})" in info
        and "Alpine:v3.10" in info
        and "Debian:10" in info
    )
    example = Path(__file__).parent.parent / "examples" / "busybox" / "busybox.oci.tar"
    assert main(["vulns", "--db", db, str(example), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"matches", "suppressed", "coverage", "unchecked", "declared", "store"}
    assert out["store"]["path"] == db
