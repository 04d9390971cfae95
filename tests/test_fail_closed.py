"""Vulnerability scanning fails closed (issue 8: defects 2, 4, 6, 9, 10, 12).

Never "0 vulnerabilities" or GO when nothing was checked: no store, an empty
store, a store without data for a package's ecosystem or distro release. One
default store for every command and function; the paths users pass are
accepted; ignore files, VEX documents, feeds and stores that cannot be used are
AnchoreErrors naming the file (and the entry) and the fix, and on the command
line a one-line error with exit code 5.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import anchore
from anchore.analysis.model import Analysis, Distro, Package
from anchore.errors import AnchoreError, ExitCode
from anchore.policy import BundleError
from anchore.vulns import (
    EmptyFeedError,
    FeedError,
    FeedNotFoundError,
    IgnoreRuleError,
    LoadReport,
    Store,
    StoreEmptyError,
    StoreFormatError,
    StoreNotFoundError,
    VexError,
    load,
    match,
    read_debian_tracker,
    read_osv,
)
from anchore.vulns.store import SCHEMA_VERSION
from anchore.vulns.suppress import IgnoreRule, load_ignore_rules, read_vex
from imagebuilder import build, f, oci_archive
from testdata import DEBIAN_TRACKER, GO_ZIP, PYPA, PYPA_ZIP, SECDB

ROOT = Path(__file__).parent.parent
EXAMPLE_BUNDLE = ROOT / "examples" / "policy" / "bundle.json"
JINJA = ("usr/lib/python3/dist-packages/jinja2-2.11.2.dist-info/METADATA",
         "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\n")  # fmt: skip


@pytest.fixture(autouse=True)
def private_default_store(tmp_path, monkeypatch):
    """Every test gets its own default store location; the user's cache is never touched."""
    monkeypatch.delenv("ANCHORE_VULN_DB", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "anchore" / "vulnerabilities.sqlite"


@pytest.fixture(scope="module")
def pypa_go(tmp_path_factory) -> Path:
    """A store with the PyPA and Go databases (the zips as OSV publishes them)."""
    path = tmp_path_factory.mktemp("pypa-go") / "vulns.sqlite"
    with Store(path, create=True) as store:
        assert load(store, PYPA_ZIP).loaded > 2000
        assert load(store, GO_ZIP).loaded > 4000
    return path


def _jinja_store(path: Path) -> Path:
    with Store(path, create=True) as store:
        load(store, PYPA / "jinja2")
    return path


def _analysis(*packages: Package, distro: Distro | None = None) -> Analysis:
    return Analysis(image={}, distro=distro, packages=list(packages), findings=[], files=[],
                    errors=[])  # fmt: skip


def _pkg(type_: str, name: str, version: str, **kw) -> Package:
    return Package(type=type_, name=name, version=version, purl=f"pkg:{type_}/{name}@{version}",
                   **kw)  # fmt: skip


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """``python -m anchore ARGS`` in a clean environment: (exit code, stdout, stderr)."""
    full = {k: v for k, v in os.environ.items() if k != "ANCHORE_VULN_DB"}
    full.update(env or {})
    done = subprocess.run([sys.executable, "-m", "anchore", *args], capture_output=True,
                          text=True, env=full, cwd=cwd, timeout=600)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def assert_one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == ExitCode.INPUT_ERROR, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anchore: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ---------------------------------------------------------------- the store
def test_opening_a_missing_store_creates_nothing(tmp_path, private_default_store):
    missing = tmp_path / "sub" / "vulns.sqlite"
    for opening in (lambda: Store(missing), lambda: Store(missing, create=False)):
        # a missing file is never an empty store: only loaders create one
        with pytest.raises(StoreNotFoundError, match="anchore db load --db") as caught:
            opening()
        assert isinstance(caught.value, FileNotFoundError) and str(missing) in str(caught.value)
    store = Store(missing, create=True)  # names a store to load into; reading it creates nothing
    assert (len(store), store.ecosystems(), store.updated, store.exists) == (0, set(), None, False)
    with pytest.raises(StoreEmptyError, match="holds no advisories; load advisories first"):
        match(_analysis(_pkg("python", "jinja2", "2.11.2")), store)
    assert not missing.parent.exists()
    # the default store too: no file, no directory appears
    with pytest.raises(StoreNotFoundError, match="the default store"):
        match(_analysis(_pkg("python", "jinja2", "2.11.2")))
    assert not private_default_store.parent.exists()
    load(store, PYPA / "jinja2")  # only loading creates it
    assert missing.exists() and store.exists and store.ecosystems() == {"PyPI"}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (os.urandom(4096), "not an anchore vulnerability store"),
        (b"id,modified\nX,2024\n" * 50, "not an anchore vulnerability store"),
        ("sqlite-other", "it has tables ['people']"),
        ("newer", "written by a newer anchore (store schema 99"),
        ("directory", "is a directory"),
    ],
)
def test_a_file_that_is_not_a_store_is_refused_by_name(tmp_path, content, why):
    path = tmp_path / "db.sqlite"
    if content == "sqlite-other":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE people (name TEXT)")
        db.close()
    elif content == "newer":
        with Store(path, create=True) as store:
            load(store, PYPA / "jinja2")
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
        db.close()
    elif content == "directory":
        path.mkdir()
    else:
        path.write_bytes(content)
    before = path.read_bytes() if path.is_file() else None
    for create in (True, False):
        with pytest.raises(StoreFormatError, match=re.escape(why)) as caught:
            Store(path, create=create)
        assert str(path) in str(caught.value)
        assert isinstance(caught.value, sqlite3.DatabaseError)  # what escaped before
    rc, _, err = run("vulns", "--db", str(path), str(tmp_path / "no-image.tar"))
    assert_one_line_error(rc, err, str(path))
    if before is not None:
        assert path.read_bytes() == before  # never "repaired" into a store


def test_an_older_store_is_migrated_with_its_coverage(tmp_path):
    """A schema-1 store (no coverage table) opens; what its advisories name is its coverage."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE advisories (id TEXT PRIMARY KEY, modified TEXT NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL);"
            "CREATE TABLE affected (advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL);"
            "CREATE TABLE aliases (advisory_id TEXT NOT NULL, alias TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
        )
        for advisory in read_osv(PYPA / "jinja2"):
            db.execute("INSERT INTO advisories VALUES (?, ?, 'osv', ?)",
                       (advisory.id, advisory.modified, json.dumps(advisory.raw)))  # fmt: skip
            db.executemany("INSERT INTO affected VALUES (?, ?, ?)",
                           [(advisory.id, a.ecosystem, a.name) for a in advisory.affected])  # fmt: skip
    db.close()
    with Store(path, create=False) as store:
        assert store.schema_version == SCHEMA_VERSION and store.ecosystems() == {"PyPI"}
        result = match(_analysis(_pkg("python", "jinja2", "2.11.2")), store)
        assert "PYSEC-2021-66" in {m.advisory_id for m in result}


# ---------------------------------------------------------------- coverage
def test_coverage_is_exact_per_debian_release(tmp_path):
    """The real tracker data cut down to buster: Debian 10 is covered, Debian 12 is not."""
    data = json.loads(DEBIAN_TRACKER.read_text())
    buster = {src: {cve: {**info, "releases": {k: v for k, v in info["releases"].items() if k == "buster"}}
                    for cve, info in cves.items() if isinstance(info.get("releases"), dict)}
              for src, cves in data.items()}  # fmt: skip
    (tmp_path / "buster.json").write_text(json.dumps(buster))
    store = Store(tmp_path / "db.sqlite", create=True)
    assert load(store, tmp_path / "buster.json").loaded > 0
    assert store.ecosystems() == {"Debian:10"} and not store.covers("Debian:12")
    source = next(s for s, cves in buster.items()
                  if any(i["releases"].get("buster", {}).get("status") == "resolved" for i in cves.values()))  # fmt: skip
    pkg = _pkg("deb", source, "0.1-1", source_name=source, source_version="0.1-1")
    on_10 = match(_analysis(pkg, distro=Distro(id="debian", version_id="10")), store)
    assert [c.status for c in on_10.packages] == ["checked"] and len(on_10) > 0
    on_12 = match(_analysis(pkg, distro=Distro(id="debian", version_id="12.4")), store)
    assert len(on_12) == 0 and on_12.counts("unchecked") == {"Debian:12": 1}
    assert "no advisory data for Debian:12" in on_12.unchecked[0].reason
    # a release the tracker follows with nothing affected is still covered
    report = LoadReport()
    list(read_debian_tracker(DEBIAN_TRACKER, report))
    assert {
        "Debian:8",
        "Debian:9",
        "Debian:10",
        "Debian:11",
        "Debian:12",
        "Debian:13",
    } <= report.covered


def test_coverage_per_alpine_release_even_without_fixes(tmp_path):
    store = Store(tmp_path / "db.sqlite", create=True)
    load(store, SECDB / "v3.10")
    (tmp_path / "v3.20").mkdir()
    (tmp_path / "v3.20" / "main.yaml").write_text(
        "distroversion: v3.20\nreponame: main\narchs: [x86_64]\npackages:\n"
    )
    report = load(store, tmp_path / "v3.20")
    assert (report.loaded, report.covered) == (0, {"Alpine:v3.20"})
    assert {"Alpine:v3.10", "Alpine:v3.20"} == store.ecosystems()
    musl = _pkg("apk", "musl", "1.1.22-r0", source_name="musl")
    for version, status in (("3.10.2", "checked"), ("3.20.1", "checked"), ("3.12.0", "unchecked")):
        result = match(_analysis(musl, distro=Distro(id="alpine", version_id=version)), store)
        assert result.packages[0].status == status, version


def test_packages_without_an_ecosystem_are_unchecked_with_the_reason(tmp_path):
    store = _jinja_store(tmp_path / "db.sqlite")
    (tmp_path / "npm").mkdir()  # a directory of records: a (tiny) npm database
    (tmp_path / "npm" / "NPM-1.json").write_text(json.dumps({"id": "NPM-1", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]}))  # fmt: skip
    load(store, tmp_path / "npm")
    ok = match(_analysis(_pkg("npm", "left-pad", "1.0.0")), store)
    assert [m.advisory_id for m in ok] == ["NPM-1"] and len(ok.checked) == 1
    cases = [
        (_pkg("binary", "busybox", "1.36.1"), None, "no advisory ecosystem for binary"),
        (_pkg("java-archive", "bson", "3.6.3"), None, "no Maven groupId"),
        (_pkg("deb", "bash", "5.2-1"), Distro(id="ubuntu", version_id="22.04"), "Debian only, not ubuntu"),
        (_pkg("deb", "bash", "5.2-1"), Distro(id="debian"), "release is unknown"),
        (_pkg("apk", "musl", "1.2-r0"), None, "no distro was identified"),
        (_pkg("npm", "left-pad", "not-a-version"), None, "its version 'not-a-version' does not parse"),
    ]  # fmt: skip
    for pkg, distro, why in cases:
        result = match(_analysis(pkg, distro=distro), store)
        ((check,),) = (result.unchecked,)
        assert check.status == "unchecked" and why in check.reason, (pkg, check.reason)
        assert len(result) == 0 and not result.checked


def test_declared_packages_are_skipped_unless_asked(tmp_path):
    store = _jinja_store(tmp_path / "db.sqlite")
    declared = _pkg("python", "jinja2", "2.11.2", declared=True)
    installed = _pkg("python", "jinja2", "2.10", locations=())
    result = match(_analysis(declared, installed), store)
    assert [c.status for c in result.packages] == ["declared", "checked"]
    assert {m.installed_version for m in result} == {"2.10"}
    assert result.counts("declared") == {"PyPI": 1} and not result.unchecked
    assert "lock or requirements file" in result.declared[0].reason
    both = match(_analysis(declared, installed), store, include_declared=True)
    assert {m.installed_version for m in both} == {"2.10", "2.11.2"}
    assert json.loads(json.dumps(result.to_dict()))["coverage"] == {
        "checked": {"PyPI": 1}, "unchecked": {}, "declared": {"PyPI": 1}}  # fmt: skip


@pytest.mark.corpus
def test_debian_min_is_unchecked_not_clean_with_only_pypa_and_go(corpus, pypa_go):
    analysis = anchore.analyze(corpus / "debian-min.oci.tar")  # a path is accepted
    debs = analysis.packages_of("deb")
    assert len(debs) == 88
    result = match(analysis, str(pypa_go))  # a store path too
    assert len(result) == 0 and not result.checked
    assert result.counts("unchecked") == {"Debian:12": len(analysis.packages)}
    assert all("load the Debian security tracker" in c.reason for c in result.unchecked)


# ---------------------------------------------------------------- accepting what users pass
def test_match_and_load_accept_paths(tmp_path, monkeypatch):
    image = oci_archive(tmp_path / "img.tar", build([[f(*JINJA)]]))
    db = str(tmp_path / "db.sqlite")
    report = load(db, PYPA / "jinja2")  # a store path: created by loading
    assert report.loaded > 0
    from_paths = match(image, db)  # an image path and a store path
    with anchore.open_image(image) as opened, Store(db) as store:
        from_objects = match(opened, store)
        assert len(store) > 0  # a Store passed in is left open
    assert {m.advisory_id for m in from_paths} == {m.advisory_id for m in from_objects}
    assert "PYSEC-2021-66" in {m.advisory_id for m in from_paths}
    monkeypatch.setenv("ANCHORE_VULN_DB", db)  # the default store
    assert {m.advisory_id for m in match(image)} == {m.advisory_id for m in from_paths}
    with pytest.raises(TypeError, match="not int"):
        match(image, 3)
    with pytest.raises(anchore.vulns.StoreError, match="the store was closed"):
        match(image, store)  # closed by its with block: an error, not an empty store


def test_evaluate_accepts_paths_and_uses_the_default_store(tmp_path, monkeypatch):
    image = oci_archive(tmp_path / "img.tar", build([[f(*JINJA)]]))
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"id": "v", "policies": [{"id": "p", "rules": [
        {"id": "r", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
         "params": {"severity": "unknown"}}]}], "mappings": [{"name": "all", "policy_ids": ["p"]}]}))  # fmt: skip
    # defect 2: a bundle path (str or Path), an image path, no store: the default one
    with pytest.raises(StoreNotFoundError, match="anchore db load"):
        anchore.evaluate(image, str(bundle))
    db = _jinja_store(tmp_path / "db.sqlite")
    by_path = anchore.evaluate(anchore.analyze(image), bundle, store=str(db))
    assert by_path.final_action == "STOP"
    assert {i.evidence["advisory"] for i in by_path.items} >= {"PYSEC-2021-66"}
    monkeypatch.setenv("ANCHORE_VULN_DB", str(db))
    by_default = anchore.evaluate(image, str(bundle))
    assert [i.trigger_id for i in by_default.items] == [i.trigger_id for i in by_path.items]
    # an empty store is an error too, never GO
    (tmp_path / "empty.sqlite").write_bytes(b"")
    with pytest.raises(StoreEmptyError):
        anchore.evaluate(image, bundle, store=tmp_path / "empty.sqlite")
    # matches of the caller's own need no store
    assert anchore.evaluate(image, bundle, matches=[]).final_action == "GO"
    # a bundle document already parsed is validated as a file is
    as_mapping = anchore.evaluate(image, json.loads(bundle.read_text()), store=str(db))
    assert [i.trigger_id for i in as_mapping.items] == [i.trigger_id for i in by_path.items]
    with pytest.raises(BundleError, match="<bundle given as a mapping>: top level: missing"):
        anchore.evaluate(image, {"id": "x"})
    with pytest.raises(TypeError, match="a bundle is a Bundle, a path or a mapping"):
        anchore.evaluate(image, ["not", "a", "bundle"])


def test_evaluate_without_vulnerability_rules_needs_no_store(tmp_path):
    image = oci_archive(tmp_path / "img.tar", build([[f("a")]]))
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"id": "g", "policies": [{"id": "p", "rules": [
        {"gate": "metadata", "trigger": "layer_count", "action": "STOP", "params": {"max": 10}}]}],
        "mappings": [{"policy_ids": ["p"]}]}))  # fmt: skip
    assert anchore.evaluate(image, bundle).final_action == "GO"


@pytest.mark.corpus
def test_evaluate_uses_the_store_db_load_fills(corpus, tmp_path):
    """Defect 10: debian-py with the example bundle: the same STOP items with and without --db."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    rc, out, err = run("db", "load", str(PYPA_ZIP), str(GO_ZIP), env=env)
    assert rc == 0 and (tmp_path / "cache" / "anchore" / "vulnerabilities.sqlite").exists(), err
    image = str(corpus / "debian-py.docker.tar")
    results = []
    for extra in ([], ["--db", str(tmp_path / "cache" / "anchore" / "vulnerabilities.sqlite")]):
        rc, out, err = run("evaluate", image, "--bundle", str(EXAMPLE_BUNDLE), "--json", *extra,
                           env=env)  # fmt: skip
        assert rc == ExitCode.FAILED, err
        results.append(json.loads(out))
    stops = [sorted(i["trigger_id"] for i in r["items"] if i["action"] == "STOP" and not i["allowlisted"])
             for r in results]  # fmt: skip
    # 9 STOP items as the issue counted them, plus one per ecosystem the store cannot
    # check (Debian:12, Maven, npm): vulnerability rules fail closed on those too
    unchecked = [t for t in stops[0] if t.startswith("vulnerabilities:package:unchecked:")]
    assert sorted(unchecked) == [f"vulnerabilities:package:unchecked:{group}"
                                 for group in ("Debian:12", "Maven", "npm")]  # fmt: skip
    assert stops[0] == stops[1] and len(stops[0]) == 9 + len(unchecked)
    assert sum(t.startswith("vulnerabilities:") for t in stops[0]) == 3 + len(unchecked)
    # the library's default is the same store
    os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]  # restored by the autouse fixture
    ev = anchore.evaluate(image, EXAMPLE_BUNDLE)
    assert (
        sorted(i.trigger_id for i in ev.items if i.action == "STOP" and not i.allowlisted)
        == stops[0]
    )
    # no store at all: an error naming the fix, never the 6 items without vulnerability rules
    rc, out, err = run("evaluate", image, "--bundle", str(EXAMPLE_BUNDLE),
                       env={"XDG_CACHE_HOME": str(tmp_path / "nothing")})  # fmt: skip
    assert_one_line_error(rc, err, "no vulnerability store", "anchore db load")
    assert not (tmp_path / "nothing").exists()


# ---------------------------------------------------------------- the vulns command
def test_vulns_with_no_store_is_an_error_and_creates_nothing(tmp_path):
    example = ROOT / "examples" / "busybox" / "busybox.oci.tar"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for extra in ([], ["--fail-on", "low"]):
        rc, out, err = run("vulns", str(example), *extra, env=env)
        assert_one_line_error(rc, err, "no vulnerability store", "anchore db load")
        assert out == ""
    assert not (tmp_path / "cache").exists()
    rc, _, err = run("vulns", "--db", str(tmp_path / "typo.sqlite"), str(example), env=env)
    assert_one_line_error(rc, err, "typo.sqlite", "anchore db load --db")
    assert not (tmp_path / "typo.sqlite").exists()
    (tmp_path / "empty.sqlite").write_bytes(b"")
    rc, _, err = run("vulns", "--db", str(tmp_path / "empty.sqlite"), str(example), env=env)
    assert_one_line_error(rc, err, "holds no advisories", "anchore db load")


@pytest.mark.corpus
def test_vulns_reports_unchecked_packages_and_fail_on_fails(corpus, pypa_go):
    image = str(corpus / "debian-min.oci.tar")
    db = ["--db", str(pypa_go)]
    rc, out, err = run("vulns", image, *db)
    # no threshold asked, but nothing could be checked: no result, not a clean one
    assert rc == ExitCode.UNCHECKED and "none of the 88 packages could be checked" in err
    assert "UNCHECKED 88 packages: 88 Debian:12" in out and "0 packages" in out
    assert "0 vulnerabilities in 0 checked packages; 88 packages unchecked (see above)" in out
    rc, out, err = run("vulns", image, *db, "--allow-unchecked")
    assert rc == ExitCode.OK and err == "", err
    rc, out, err = run("vulns", image, *db, "--fail-on", "low", "--json")
    assert rc == ExitCode.UNCHECKED and "--allow-unchecked" in err
    data = json.loads(out)
    assert data["coverage"] == {"checked": {}, "unchecked": {"Debian:12": 88}, "declared": {}}
    assert len(data["unchecked"]) == 88 and data["matches"] == []
    assert data["unchecked"][0]["reason"].startswith("the store has no advisory data for Debian:12")
    rc, out, err = run("vulns", image, *db, "--fail-on", "low", "--allow-unchecked")
    assert rc == ExitCode.OK, err


@pytest.mark.corpus
def test_vulns_fail_on_a_match_outranks_unchecked(corpus, pypa_go):
    rc, out, err = run("vulns", str(corpus / "debian-py.docker.tar"), "--db", str(pypa_go),
                       "--fail-on", "high")  # fmt: skip
    assert rc == ExitCode.FAILED, err
    assert "UNCHECKED" in out and "Debian:12" in out and "checked   " in out


# ---------------------------------------------------------------- ignore files (defects 4, 12)
def test_ignore_files_json_and_yaml(tmp_path):
    (tmp_path / "rules.json").write_text(json.dumps([
        {"reason": "not reachable", "id": "CVE-2020-28493", "expires": "2030-01-01"},
        {"reason": "vendored", "path": "/usr/local/bin/*"}]))  # fmt: skip
    (tmp_path / "rules.yaml").write_text(
        "- reason: not reachable\n  id: CVE-2020-28493\n  expires: 2030-01-01\n"
        "- {reason: vendored, path: /usr/local/bin/*}\n"
    )
    from_json = load_ignore_rules(tmp_path / "rules.json")
    assert from_json == load_ignore_rules(str(tmp_path / "rules.yaml"))
    assert from_json[0].expires.isoformat() == "2030-01-01"
    (tmp_path / "none.json").write_text("[]")
    assert load_ignore_rules(tmp_path / "none.json") == []  # an empty list: no rules, said so


@pytest.mark.parametrize(
    ("name", "content", "needles"),
    [
        (
            "r.json",
            [{"reason": "ok", "id": "X"}, {"id": "CVE-1"}],
            ["entry [1]", "missing 'reason'"],
        ),
        ("r.json", {"reason": "x", "id": "CVE-1"}, ["a single rule: wrap it in [ ]"]),
        ("r.json", {"rules": []}, ["expected a list of ignore rules, found an object"]),
        (
            "r.json",
            [{"reson": "x", "id": "CVE-1"}],
            [
                "entry [0]",
                "unknown key 'reson'",
                "did you mean 'reason'",
                "valid keys: reason, id, package, path, expires",
            ],
        ),
        (
            "r.json",
            [{"reason": "x", "id": "C", "expires": "31/12/2030"}],
            ["entry [0]", "YYYY-MM-DD", "31/12/2030"],
        ),
        ("r.json", [{"reason": "x"}], ["entry [0]", "needs an 'id', a 'package' or a 'path'"]),
        ("r.json", [{"reason": " ", "id": "C"}], ["entry [0]", "needs a 'reason'"]),
        ("r.json", [{"reason": "x", "id": 7}], ["entry [0]", "'id' must be a string"]),
        ("r.json", ["CVE-1"], ["entry [0]", "expected an object"]),
        ("r.json", "[{", ["not valid JSON"]),
        ("r.yaml", "- reason: [unclosed\n", ["not valid YAML"]),
        ("missing.json", None, ["no such ignore file"]),
    ],
)
def test_ignore_file_errors_name_the_file_and_entry(tmp_path, name, content, needles):
    path = tmp_path / name
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(IgnoreRuleError) as caught:
        load_ignore_rules(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and isinstance(caught.value, ValueError)
    for needle in needles:
        assert needle in message, (needle, message)
    # the command line reads the file through the library, before the scan
    rc, _, err = run("vulns", "--db", str(tmp_path / "no-store.sqlite"), "no-image.tar",
                       "--ignore", str(path))  # fmt: skip
    assert_one_line_error(rc, err, str(path), needles[0])


def test_ignore_rule_checks_itself():
    with pytest.raises(IgnoreRuleError, match="needs a 'reason'"):
        IgnoreRule(reason="", id="CVE-1")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        IgnoreRule(reason="x", id="CVE-1", expires="soon")
    assert IgnoreRule(reason="x", id="CVE-1", expires="2030-01-02").expires.day == 2


# ---------------------------------------------------------------- VEX and feeds
@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"statements": ["CVE-1"]}, "statement [0] is not an object"),
        (
            {
                "statements": [
                    {"vulnerability": "CVE-1", "products": "pkg:pypi/x", "status": "fixed"}
                ]
            },
            "'products' must be a list",
        ),
        (
            {"statements": [{"vulnerability": "CVE-1", "products": [], "status": "fixed"}]},
            "statement [0] needs a vulnerability, products and a status",
        ),
        ({"vulnerabilities": ["CVE-1"]}, "vulnerability [0] is not an object"),
        (
            {"vulnerabilities": [{"cve": "CVE-1", "product_status": []}]},
            "'product_status' an object",
        ),
        (
            {"vulnerabilities": [{"cve": "CVE-1", "product_status": {"fixed": "P1"}}]},
            "product_status.fixed must be a list",
        ),
        ({"vulnerabilities": [{"product_status": {}}]}, "has no 'cve' or 'ids'"),
        ([], "neither OpenVEX"),
    ],
)
def test_malformed_vex_is_a_vex_error(tmp_path, doc, needle):
    path = tmp_path / "vex.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(VexError) as caught:
        read_vex(path)
    assert str(path) in str(caught.value) and needle in str(caught.value)


def test_loading_nothing_is_an_error(tmp_path):
    store_path = tmp_path / "db.sqlite"
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyFeedError, match="no advisory records in it"):
        load(store_path, tmp_path / "empty")
    assert not store_path.exists()  # no store made of nothing
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.json").write_text('{"id": "X"}')
    with pytest.raises(EmptyFeedError, match="missing 'modified'"):
        load(store_path, tmp_path / "bad")
    with pytest.raises(FeedNotFoundError, match="nope: no such file") as caught:
        load(store_path, tmp_path / "nope")
    assert isinstance(caught.value, FileNotFoundError)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(FeedError, match="broken.zip: not a readable zip archive"):
        load(store_path, tmp_path / "broken.zip")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FeedError, match="no feed reader recognises it"):
        load(store_path, tmp_path / "notes.txt")
    assert not store_path.exists()


def test_db_commands(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    default = tmp_path / "cache" / "anchore" / "vulnerabilities.sqlite"
    rc, _, err = run("db", "info", env=env)
    assert_one_line_error(rc, err, str(default), "no vulnerability store", "anchore db load")
    (tmp_path / "empty").mkdir()
    rc, out, err = run("db", "load", str(tmp_path / "empty"), env=env)
    assert_one_line_error(rc, err, "empty: no advisory records")
    rc, out, err = run("db", "load", str(tmp_path / "nope"), env=env)
    assert_one_line_error(rc, err, "nope: no such file or directory")
    # every feed is recognised before anything loads: a bad second path loads nothing
    rc, out, err = run("db", "load", str(PYPA / "jinja2"), str(tmp_path / "nope"), env=env)
    assert_one_line_error(rc, err, "nope")
    assert not default.exists()
    rc, out, err = run("db", "load", str(PYPA / "jinja2"), str(SECDB / "v3.10"), env=env)
    assert rc == 0 and default.exists(), err
    rc, out, err = run("db", "info", env=env)
    assert (
        rc == 0 and "Alpine:v3.10" in out and "PyPI" in out and f"(schema {SCHEMA_VERSION})" in out
    )
    # --db naming a missing file: an error everywhere but db load
    missing = str(tmp_path / "other.sqlite")
    rc, _, err = run("db", "--db", missing, "info", env=env)
    assert_one_line_error(rc, err, missing)
    rc, _, err = run("evaluate", "no-image.tar", "--bundle", str(EXAMPLE_BUNDLE), "--db", missing,
                     env=env)  # fmt: skip
    assert_one_line_error(rc, err, missing, "anchore db load --db")
    assert not Path(missing).exists()


def test_errors_are_anchore_errors():
    for cls in (StoreNotFoundError, StoreFormatError, StoreEmptyError, FeedNotFoundError,
                EmptyFeedError, IgnoreRuleError, VexError):  # fmt: skip
        assert issubclass(cls, AnchoreError)


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ([], "must be an object"),
        ({"id": "X", "modified": "m", "affected": 5}, "'affected' must be a list"),
        ({"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                                                     "versions": 5}]}, "'affected.versions' must be a list"),
        ({"id": "X", "modified": "m", "references": 5}, "'references' must be a list"),
        ({"id": "X", "modified": "m", "published": 2024}, "'published' must be a string"),
    ],
)  # fmt: skip
def test_malformed_osv_records_are_anchore_errors(record, why):
    from anchore.vulns.osv import MalformedRecordError, parse_osv

    with pytest.raises(MalformedRecordError, match=why) as caught:
        parse_osv(record)
    assert isinstance(caught.value, AnchoreError) and isinstance(caught.value, ValueError)


# ---------------------------------------------------------------- review of issue 8 (part H)
def _one_record_files(tmp_path: Path) -> list[Path]:
    """Two real PyPA records, each as the single-record file a user might load on its own."""
    out = []
    for name in ("PYSEC-2021-66.yaml", "PYSEC-2014-8.yaml"):
        target = tmp_path / name
        target.write_bytes((PYPA / "jinja2" / name).read_bytes())
        out.append(target)
    return out


def test_a_single_osv_record_file_covers_nothing(tmp_path):
    """Loading one record for PyPI must not make every Python package 'checked'."""
    one, other = _one_record_files(tmp_path)
    store = Store(tmp_path / "db.sqlite", create=True)
    assert load(store, one).loaded == 1
    assert store.ecosystems() == set() and not store.covers("PyPI")
    assert store.advisory_counts() == {"PyPI": 1} and store.coverage() == {}
    jinja = _pkg("python", "jinja2", "2.11.2")
    requests = _pkg("python", "requests", "2.0.0")
    result = match(_analysis(jinja, requests), store)
    # the record is matched, but neither package counts as checked
    assert [m.advisory_id for m in result] == ["PYSEC-2021-66"]
    assert [c.status for c in result.packages] == ["unchecked", "unchecked"]
    assert "no feed for PyPI, only single advisory records" in result.unchecked[1].reason
    assert "PyPI/all.zip" in result.unchecked[1].reason
    # a slice: several record files, or one JSON file holding a list of records
    load(store, other)
    (tmp_path / "slice.json").write_text(json.dumps([
        {"id": "SLICE-1", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                       "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}]))  # fmt: skip
    assert load(store, tmp_path / "slice.json").loaded == 1
    assert store.ecosystems() == set() and len(store) == 3
    # a directory (a database) covers what its records name, and says where from
    load(store, PYPA / "jinja2")
    assert store.ecosystems() == {"PyPI"}
    (source,) = store.coverage_sources()
    assert (source.ecosystem, source.reader, source.feed) == ("PyPI", "osv", str(PYPA / "jinja2"))
    assert [c.status for c in match(_analysis(jinja, requests), store).packages] == [
        "checked",
        "checked",
    ]
    store.close()


def test_osv_zips_cover_their_ecosystems_and_record_files_none():
    report = LoadReport()
    assert sum(1 for _ in read_osv(GO_ZIP, report)) > 4000
    assert report.covered == {"Go"}
    report = LoadReport()
    list(read_osv(PYPA / "jinja2" / "PYSEC-2021-66.yaml", report))
    assert report.covered == set()


def test_db_load_of_one_record_then_vulns_is_unchecked_not_clean(tmp_path):
    """The reported case, end to end: `anchore db load one.json` then `anchore vulns`."""
    one, _ = _one_record_files(tmp_path)
    db = str(tmp_path / "db.sqlite")
    rc, out, err = run("db", "load", "--db", db, str(one))
    assert rc == 0, err
    assert "covers no ecosystem" in out and "not covered" in out and "PyPI" in out
    image = oci_archive(tmp_path / "img.tar", build([[f(*JINJA)]]))
    rc, out, err = run("vulns", "--db", db, image)
    assert rc == ExitCode.UNCHECKED, (out, err)
    assert "PYSEC-2021-66" in out  # what the store has is still reported
    assert "1 vulnerability in 0 checked packages; 1 package unchecked (see above)" in out
    assert "none of the 1 packages could be checked" in err and "--allow-unchecked" in err
    rc, out, err = run("vulns", "--db", db, image, "--allow-unchecked")
    assert rc == ExitCode.OK and err == ""
    rc, _, err = run("vulns", "--db", db, image, "--fail-on", "critical")
    assert rc == ExitCode.UNCHECKED
    # loading the database (a directory of records) makes the same scan a checked one
    rc, _, err = run("db", "--db", db, "load", str(PYPA / "jinja2"))
    assert rc == 0, err
    rc, out, err = run("db", "info", "--db", db)
    assert rc == 0, err
    assert re.search(rf"^PyPI +\d+ +osv {re.escape(str(PYPA / 'jinja2'))}$", out, re.M), out
    rc, out, err = run("vulns", "--db", db, image)
    assert rc == ExitCode.OK, err
    assert re.search(r"^\d+ vulnerabilit(y|ies) in 1 checked package$", out, re.M), out


def test_a_schema_2_store_is_migrated_keeping_its_coverage(tmp_path):
    path = tmp_path / "v2.sqlite"
    with Store(path, create=True) as store:
        load(store, PYPA / "jinja2")
    with sqlite3.connect(path) as db:  # back to the schema-2 coverage table
        db.executescript(
            "CREATE TABLE c2 (ecosystem TEXT NOT NULL, source TEXT NOT NULL,"
            " PRIMARY KEY (ecosystem, source));"
            "INSERT INTO c2 SELECT ecosystem, source FROM coverage; DROP TABLE coverage;"
            "ALTER TABLE c2 RENAME TO coverage; UPDATE meta SET value = '2' WHERE key = 'schema';"
        )
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION and store.ecosystems() == {"PyPI"}
        assert [(s.reader, s.feed) for s in store.coverage_sources()] == [("osv", "")]
        load(store, PYPA / "jinja2")
        assert [(s.reader, s.feed) for s in store.coverage_sources()] == [
            ("osv", str(PYPA / "jinja2"))
        ]


def test_store_default_is_not_to_create_and_memory_stores_work(tmp_path):
    with pytest.raises(StoreNotFoundError, match="anchore db load"):
        Store(tmp_path / "nope.sqlite")
    assert not (tmp_path / "nope.sqlite").exists()
    with Store(":memory:") as store:
        load(store, PYPA / "jinja2")
        assert "PYSEC-2021-66" in {
            m.advisory_id for m in match(_analysis(_pkg("python", "jinja2", "2.11.2")), store)
        }


def test_the_load_hint_is_a_command_that_works(tmp_path):
    """The store-not-found message suggests `anchore db load --db X FEED...`: run exactly that."""
    db = tmp_path / "my store.sqlite"  # a space: the hint is quoted for a shell
    image = oci_archive(tmp_path / "img.tar", build([[f(*JINJA)]]))
    rc, _, err = run("vulns", "--db", str(db), image)
    assert_one_line_error(rc, err, "anchore db load --db")
    command = re.search(r"(anchore db load .*?) FEED\.\.\.", err)
    assert command is not None, err
    argv = shlex.split(command.group(1))
    assert argv[:3] == ["anchore", "db", "load"]
    rc, out, err = run(*argv[1:], str(PYPA / "jinja2"))
    assert rc == 0 and db.exists(), err
    rc, out, err = run("vulns", "--db", str(db), image)
    assert rc == ExitCode.OK and "PYSEC-2021-66" in out, err


def test_db_accepts_db_before_or_after_the_subcommand(tmp_path):
    a, b = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert run("db", "load", str(PYPA / "jinja2"), "--db", a)[0] == 0
    assert run("db", "--db", b, "load", str(SECDB / "v3.10"))[0] == 0
    rc, out, _ = run("db", "info", "--db", a)
    assert rc == 0 and out.startswith(a) and "PyPI" in out
    rc, out, _ = run("db", "--db", b, "info", "--db", b)  # the same path twice is fine
    assert rc == 0 and out.startswith(b) and "Alpine:v3.10" in out
    for argv in (("db", "--db", a, "info", "--db", b),
                 ("db", "--db", a, "load", "--db", b, str(PYPA / "jinja2"))):  # fmt: skip
        rc, out, err = run(*argv)
        assert rc == ExitCode.USAGE_ERROR and out == "", err
        assert err.startswith("usage: anchore db") and "--db given twice" in err
    rc, _, err = run("db", "info", "--db", str(tmp_path / "missing.sqlite"))
    assert_one_line_error(rc, err, "missing.sqlite", "anchore db load --db")


def test_an_unknown_feed_name_is_a_lookup_error_with_the_closest_name(tmp_path):
    from anchore.vulns import UnknownFeedError

    with pytest.raises(UnknownFeedError) as caught:
        load(tmp_path / "db.sqlite", GO_ZIP, feed="osvv")
    exc = caught.value
    assert isinstance(exc, FeedError) and isinstance(exc, KeyError)
    message, _, names = str(exc).partition("; the readers are: ")
    assert message == "no feed reader named 'osvv' (did you mean 'osv'?)"
    assert set(names.split(", ")) == {"osv", "debian-tracker", "alpine-secdb"}
    assert exc.name == "osvv" and "osv" in exc.available
    assert not (tmp_path / "db.sqlite").exists()
    rc, out, err = run("db", "load", "--db", str(tmp_path / "db.sqlite"), "--feed", "osvv",
                       str(GO_ZIP))  # fmt: skip
    assert rc == ExitCode.USAGE_ERROR and out == "", err
    assert err.startswith("usage: anchore db") and "Traceback" not in err
    assert "--feed: no feed reader named 'osvv' (did you mean 'osv'?)" in err
    assert not (tmp_path / "db.sqlite").exists()


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("r.json", "null", "the ignore file holds nothing (a null document)"),
        ("r.yaml", "~\n", "the ignore file holds nothing (a null document)"),
        ("r.yaml", "# only a comment\n", "the ignore file holds nothing"),
        ("r.yaml", "", "the ignore file is empty"),
        ("r.json", '[{"reason": "a", "id": "X", "reason": "b"}]', "duplicate key 'reason'"),
        ("r.yaml", "- reason: a\n  id: X\n  id: Y\n", "duplicate key 'id' (line 3)"),
        ("r.json", '[{"reason": "x",\n "id": }]', "not valid JSON: Expecting value: line 2"),
        ("rules", "- reason: [x\n", "not valid JSON"),
        ("r.json", b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_ignore_files_null_duplicates_and_encodings_are_errors(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(IgnoreRuleError) as caught:
        load_ignore_rules(path)
    assert str(caught.value).startswith(f"{path}: ") and needle in str(caught.value)


def test_missing_ignore_and_vex_files_say_so_alike(tmp_path):
    from anchore.vulns import IgnoreFileNotFoundError, VexNotFoundError

    for reader, cls, what in ((load_ignore_rules, IgnoreFileNotFoundError, "ignore file"),
                              (read_vex, VexNotFoundError, "VEX file")):  # fmt: skip
        path = tmp_path / "nope.json"
        with pytest.raises(cls) as caught:
            reader(path)
        assert str(caught.value).startswith(f"{path}: no such {what}")
        assert "Errno" not in str(caught.value)
        assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, ValueError)
    rc, _, err = run("vulns", "--vex", str(tmp_path / "nope.json"), "img.tar")
    assert_one_line_error(rc, err, f"{tmp_path / 'nope.json'}: no such VEX file")
    (tmp_path / "null.json").write_text("null")
    with pytest.raises(VexError, match="holds nothing"):
        read_vex(tmp_path / "null.json")
    (tmp_path / "dup.json").write_text('{"statements": [], "statements": []}')
    with pytest.raises(VexError, match="duplicate key 'statements'"):
        read_vex(tmp_path / "dup.json")


def test_read_document_and_unknown_key_message(tmp_path):
    from anchore.documents import read_document, unknown_key_message
    from anchore.errors import AnchoreError

    class Oops(AnchoreError):
        pass

    (tmp_path / "a.yml").write_text("a: 1.10\nwhen: 2026-06-30\n")
    assert read_document(tmp_path / "a.yml", "thing", Oops) == {
        "a": 1.1, "when": __import__("datetime").date(2026, 6, 30)}  # fmt: skip
    (tmp_path / "b.conf").write_text("- x\n")  # neither .json nor .yaml: JSON, else YAML
    assert read_document(tmp_path / "b.conf", "thing", Oops) == ["x"]
    (tmp_path / "c.json").write_text("- x\n")  # .json is JSON only
    with pytest.raises(Oops, match="c.json: not valid JSON"):
        read_document(tmp_path / "c.json", "thing", Oops)
    with pytest.raises(Oops, match="is a directory, not a policy bundle file"):
        read_document(tmp_path, "policy bundle", Oops)
    with pytest.raises(Oops, match=r"no such policy bundle \(give a bundle\)$"):
        read_document(tmp_path / "none.json", "policy bundle", Oops, hint="give a bundle")
    (tmp_path / "deep.json").write_text("[" * 100_000)
    with pytest.raises(Oops, match="deep.json: nested deeper than 64 levels"):
        read_document(tmp_path / "deep.json", "thing", Oops)
    assert unknown_key_message("policies[0]", "rulez", ("id", "name", "comment", "rules")) == (
        "policies[0]: unknown key 'rulez' (did you mean 'rules'?); valid keys: id, name, comment, rules"
    )
    assert unknown_key_message("top level", "zzz", ("id",)) == (
        "top level: unknown key 'zzz'; valid keys: id"
    )
    assert unknown_key_message("top level", "whitelists", ("allowlists",),
                               renamed={"whitelists": "allowlists"}) == (
        "top level: unknown key 'whitelists' (Anchore's older name; use 'allowlists'); "
        "valid keys: allowlists"
    )  # fmt: skip


def test_malformed_record_error_keeps_its_old_name():
    import anchore.vulns.errors as errors
    from anchore.vulns.osv import MalformedRecord, MalformedRecordError, parse_osv

    assert MalformedRecord is MalformedRecordError is errors.MalformedRecord
    assert "MalformedRecord" not in errors.__all__ and "MalformedRecordError" in errors.__all__
    with pytest.raises(MalformedRecordError, match="missing 'id'"):
        parse_osv({})
