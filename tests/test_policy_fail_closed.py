"""Policy rules never pass on what was not checked, nor on what is not installed.

1. ``vulnerabilities.package`` fires (with the rule's action) for each group of
   packages in its scope that the store could not check, unless the rule says
   ``allow_unchecked``; ``vulnerability_data_unavailable`` counts unchecked packages
   of every type, language ecosystems included; the evaluation reports coverage.
2. Packages only a lock or requirements file declares are not installed: no
   ``required_package`` is met by one, and the other package and vulnerability
   rules see them only with ``include_declared`` (the evaluation's or the rule's).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import anchore
from anchore.analysis.model import Analysis
from anchore.errors import ExitCode
from anchore.policy import BundleError, evaluate, parse_bundle
from imagebuilder import build, d, f, oci_archive
from testdata import GO_ZIP, PYPA_ZIP

TODAY = datetime.date(2026, 11, 23)

DPKG_STATUS = (
    "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\n"
    "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nSource: zlib\n"
    "Architecture: amd64\n\n"
)
JINJA = "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\n"  # PYSEC-2021-66, fixed in 2.11.3
LEFT_PAD = '{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}'


def bundle_of(*rules: dict, allow: tuple[dict, ...] = ()) -> anchore.policy.Bundle:
    """One mapped policy holding ``rules`` (STOP unless they say), and an allowlist."""
    doc = {
        "id": "t",
        "policies": [{"id": "p", "rules": [{"id": f"r{i}", "action": "STOP", **r}
                                           for i, r in enumerate(rules)]}],
        "allowlists": [{"id": "a", "items": [{"id": f"a{i}", "reason": "accepted", **item}
                                             for i, item in enumerate(allow)]}],
        "mappings": [{"name": "all", "policy_ids": ["p"], "allowlist_ids": ["a"]}],
    }  # fmt: skip
    return parse_bundle(doc, "fail-closed.json")


def vulns(**params) -> dict:
    return {"gate": "vulnerabilities", "trigger": "package", "params": params}


def pkgs(trigger: str, **params) -> dict:
    return {"gate": "packages", "trigger": trigger, "params": params}


@pytest.fixture(scope="module")
def pypa_store(tmp_path_factory) -> Path:
    """A store with the whole PyPA feed: PyPI packages are checked, nothing else is."""
    from anchore.vulns import Store, load

    path = tmp_path_factory.mktemp("v") / "pypa.sqlite"
    with Store(path, create=True) as store:
        load(store, PYPA_ZIP)
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Analysis:
    """Debian 12 with two debs, an installed vulnerable Jinja2, an installed npm package."""
    built = build([[
        d("etc"), f("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'),
        f("var/lib/dpkg/status", DPKG_STATUS),
        f("usr/lib/python3/dist-packages/Jinja2-2.11.2.dist-info/METADATA", JINJA),
        f("usr/lib/node_modules/left-pad/package.json", LEFT_PAD),
    ]])  # fmt: skip
    return anchore.analyze(oci_archive(tmp_path_factory.mktemp("img") / "mixed.tar", built))


def ids(evaluation) -> list[str]:
    return sorted(i.trigger_id for i in evaluation.items)


# ---------------------------------------------------------------- 1. unchecked packages
def test_a_vulnerability_rule_fires_for_each_unchecked_group(mixed, pypa_store):
    """Before: only matches fired, so the debs and the npm package passed unchecked."""
    ev = evaluate(mixed, bundle_of(vulns(severity="critical")), store=pypa_store, now=TODAY)
    assert ev.final_action == "STOP" and ev.exit_code == ExitCode.FAILED
    assert ids(ev) == [
        "vulnerabilities:package:unchecked:Debian:12",
        "vulnerabilities:package:unchecked:npm",
    ]  # PYSEC-2021-66 has no CVSS rating: below critical, so the checked jinja2 passes
    by_id = {i.trigger_id: i for i in ev.items}
    debs = by_id["vulnerabilities:package:unchecked:Debian:12"]
    assert debs.action == "STOP" and debs.rule_id == "r0"
    assert debs.message.startswith(
        "2 deb packages could not be checked: the store has no advisory data for Debian:12"
    )
    assert "allow_unchecked" in debs.message
    assert debs.evidence["unchecked"] == 2 and debs.evidence["group"] == "Debian:12"
    assert sorted(debs.evidence["packages"])[0].startswith("pkg:deb/debian/bash@")
    npm = by_id["vulnerabilities:package:unchecked:npm"]
    assert npm.message.startswith("1 npm package could not be checked: ")
    assert npm.evidence["packages"] == ["pkg:npm/left-pad@1.3.0"]


def test_no_advisory_filter_clears_an_unchecked_package(mixed, pypa_store):
    """Nothing is known of their advisories: fix, score and age filters cannot clear them."""
    strict = vulns(severity="critical", fix_available=True, score_above=9.9, older_than_days=9999)
    ev = evaluate(mixed, bundle_of(strict), store=pypa_store, now=TODAY)
    assert ids(ev) == [
        "vulnerabilities:package:unchecked:Debian:12",
        "vulnerabilities:package:unchecked:npm",
    ]


def test_the_rules_scope_limits_what_counts(mixed, pypa_store):
    def run(**params):
        return ids(evaluate(mixed, bundle_of(vulns(**params)), store=pypa_store, now=TODAY))

    # python packages are all checked: only the match fires
    assert run(severity="unknown", package_types=["python"]) == [
        "vulnerabilities:package:PYSEC-2021-66:python:jinja2"
    ]
    assert run(package_types=["deb"]) == ["vulnerabilities:package:unchecked:Debian:12"]
    assert run(package_types=["npm", "gem"]) == ["vulnerabilities:package:unchecked:npm"]


def test_allow_unchecked_opts_out_explicitly(mixed, pypa_store):
    ev = evaluate(mixed, bundle_of(vulns(allow_unchecked=True)), store=pypa_store, now=TODAY)
    assert ev.final_action == "GO" and ev.items == ()
    # a matched package still fires with the opt-out
    ev = evaluate(mixed, bundle_of(vulns(severity="unknown", allow_unchecked=True)),
                  store=pypa_store, now=TODAY)  # fmt: skip
    assert ids(ev) == ["vulnerabilities:package:PYSEC-2021-66:python:jinja2"]
    with pytest.raises(BundleError, match="allow_unchecked: must be of type boolean"):
        bundle_of(vulns(allow_unchecked="yes"))


def test_an_allowlist_accepts_one_gap_by_its_trigger_id(mixed, pypa_store):
    accept = {
        "gate": "vulnerabilities",
        "trigger_id": "vulnerabilities:package:unchecked:Debian:12",
    }
    ev = evaluate(mixed, bundle_of(vulns(), allow=(accept,)), store=pypa_store, now=TODAY)
    assert ev.final_action == "STOP"  # npm is still unchecked
    standing = [i.trigger_id for i in ev.items if not i.allowlisted]
    assert standing == ["vulnerabilities:package:unchecked:npm"]
    every = {"gate": "vulnerabilities", "trigger_id": "vulnerabilities:package:unchecked:*"}
    ev = evaluate(mixed, bundle_of(vulns(), allow=(every,)), store=pypa_store, now=TODAY)
    assert ev.final_action == "GO" and all(i.allowlisted for i in ev.items)


def test_coverage_is_in_the_evaluation(mixed, pypa_store):
    ev = evaluate(mixed, bundle_of(vulns(severity="unknown")), store=pypa_store, now=TODAY)
    assert ev.coverage == {
        "checked": {"PyPI": 1},
        "unchecked": {"Debian:12": 2, "npm": 1},
        "declared": {},
    }
    assert json.loads(json.dumps(ev.to_dict()))["coverage"] == ev.coverage
    lines = ev.table().splitlines()
    assert lines[-2] == (
        "vulnerability coverage: packages 1 checked (PyPI 1); 3 unchecked (Debian:12 2, npm 1)"
    )
    assert lines[-1].startswith("final action: STOP")
    # no vulnerability rule: no store asked, no coverage claimed
    other = evaluate(mixed, bundle_of({"gate": "always", "trigger": "always"}), now=TODAY)
    assert other.coverage is None and other.to_dict()["coverage"] is None
    assert "vulnerability coverage" not in other.table()


def test_data_unavailable_counts_every_ecosystem(mixed, pypa_store):
    """Before: only deb, rpm and apk packages counted; the npm package went unmentioned."""
    rule = {"gate": "vulnerabilities", "trigger": "vulnerability_data_unavailable"}
    ev = evaluate(mixed, bundle_of(rule), store=pypa_store, now=TODAY)
    assert ids(ev) == [
        "vulnerabilities:vulnerability_data_unavailable:Debian:12",
        "vulnerabilities:vulnerability_data_unavailable:npm",
    ]
    npm = ev.items[1]
    assert npm.message.startswith("1 npm package could not be checked: the store has no advisory")
    assert npm.evidence["unchecked"] == 1
    only_npm = {**rule, "params": {"package_types": ["npm"]}}
    assert ids(evaluate(mixed, bundle_of(only_npm), store=pypa_store, now=TODAY)) == [
        "vulnerabilities:vulnerability_data_unavailable:npm"
    ]


def test_a_match_result_given_as_matches_brings_its_coverage(mixed, pypa_store):
    from anchore.vulns.match import match

    result = match(mixed, pypa_store)
    ev = evaluate(mixed, bundle_of(vulns(package_types=["deb"])), matches=result, now=TODAY)
    assert ids(ev) == ["vulnerabilities:package:unchecked:Debian:12"]
    assert ev.coverage == {"checked": {"PyPI": 1}, "unchecked": {"Debian:12": 2, "npm": 1},
                           "declared": {}}  # fmt: skip
    # plain matches and a store: the store says what it covers
    ev = evaluate(mixed, bundle_of(vulns(package_types=["deb"])), matches=list(result),
                  store=pypa_store, now=TODAY)  # fmt: skip
    assert ids(ev) == ["vulnerabilities:package:unchecked:Debian:12"]
    # plain matches and no store: the caller's matches are the whole answer (documented)
    ev = evaluate(mixed, bundle_of(vulns(package_types=["deb"])), matches=[], now=TODAY)
    assert ev.final_action == "GO" and ev.coverage is None


@pytest.mark.corpus
def test_debian_min_with_no_debian_data_is_not_go(corpus, tmp_path):
    """The reviewer's repro: PyPA and Go data, 88 debs, a low-severity STOP rule: was GO, exit 0."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def anchore_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "anchore", *args], capture_output=True,
                              text=True, env=env, timeout=600)  # fmt: skip

    loaded = anchore_cli("db", "load", str(PYPA_ZIP), str(GO_ZIP))
    assert loaded.returncode == 0, loaded.stderr
    bundle = tmp_path / "vb.json"
    bundle.write_text(json.dumps({"id": "vb", "policies": [{"id": "p", "rules": [
        {"id": "r", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
         "params": {"severity": "low"}}]}], "mappings": [{"name": "all", "policy_ids": ["p"]}]}))  # fmt: skip
    image = str(corpus / "debian-min.docker.tar")
    done = anchore_cli("evaluate", image, "--bundle", str(bundle), "--json")
    assert done.returncode == ExitCode.FAILED, done.stderr
    result = json.loads(done.stdout)
    assert result["final_action"] == "STOP"
    (item,) = result["items"]
    assert item["trigger_id"] == "vulnerabilities:package:unchecked:Debian:12"
    assert item["message"].startswith(
        "88 deb packages could not be checked: the store has no advisory data for Debian:12"
    )
    assert (
        result["coverage"]["unchecked"] == {"Debian:12": 88} and not result["coverage"]["checked"]
    )
    table = anchore_cli("evaluate", image, "--bundle", str(bundle))
    assert "vulnerability coverage: packages 0 checked; 88 unchecked (Debian:12 88)" in table.stdout


# ---------------------------------------------------------------- 2. declared packages
@pytest.fixture(scope="module")
def declared_only(tmp_path_factory) -> Analysis:
    """Nothing installed: a requirements file and an npm lock file name packages."""
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {
        "": {"name": "app", "version": "1.0.0"},
        "node_modules/mongo-thing": {"version": "2.0.0", "license": "SSPL-1.0"}}}  # fmt: skip
    built = build([[
        d("app"), f("app/requirements.txt", "requests==2.25.1\n"),
        d("srv"), d("srv/web"), f("srv/web/package-lock.json", json.dumps(lock)),
    ]])  # fmt: skip
    analysis = anchore.analyze(oci_archive(tmp_path_factory.mktemp("img") / "decl.tar", built))
    assert {(p.type, p.name, p.declared) for p in analysis.packages} == {
        ("python", "requests", True),
        ("npm", "mongo-thing", True),
    }
    return analysis


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Analysis:
    """requests installed for real: what a requirement is met by."""
    meta = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
    built = build([[f("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", meta)]])
    return anchore.analyze(oci_archive(tmp_path_factory.mktemp("img") / "inst.tar", built))


REQUIRED = pkgs("required_package", name="requests", version="2.0", version_match="minimum")


def test_a_requirement_is_never_met_by_a_lock_file_line(declared_only, installed):
    """Before: requests==2.25.1 in requirements.txt met 'requests >= 2.0' with nothing installed."""
    for include in (False, True):
        ev = evaluate(declared_only, bundle_of(REQUIRED), include_declared=include)
        (item,) = ev.items
        assert (
            ev.final_action == "STOP"
            and item.trigger_id == "packages:required_package:missing:requests"
        )
        assert item.message == (
            "required package requests is missing (only declared in /app/requirements.txt, "
            "not installed)"
        )
        assert item.evidence["declared_in"] == ["/app/requirements.txt"]
    no_version = pkgs("required_package", name="requests")
    assert evaluate(declared_only, bundle_of(no_version)).final_action == "STOP"
    # installed, it meets the requirement
    assert evaluate(installed, bundle_of(REQUIRED)).final_action == "GO"
    # nothing at all names it: plainly missing
    (item,) = evaluate(installed, bundle_of(pkgs("required_package", name="flask"))).items
    assert item.message == "required package flask is missing"


@pytest.mark.parametrize(
    ("rule", "trigger_id"),
    [
        (pkgs("denied_package", name="requests"), "packages:denied_package:python:requests:2.25.1"),
        (pkgs("denied_license", licenses=["SSPL"], match="substring"),
         "packages:denied_license:npm:mongo-thing:SSPL-1.0"),
        (pkgs("allowed_types", types=["deb", "npm"]), "packages:allowed_types:python:requests"),
    ],
)  # fmt: skip
def test_declared_packages_count_only_when_asked(declared_only, rule, trigger_id):
    """Not installed: no hit by default; the evaluation's or the rule's include_declared."""
    assert evaluate(declared_only, bundle_of(rule)).final_action == "GO"
    by_evaluation = evaluate(declared_only, bundle_of(rule), include_declared=True)
    assert ids(by_evaluation) == [trigger_id]
    by_rule = {**rule, "params": {**rule["params"], "include_declared": True}}
    assert ids(evaluate(declared_only, bundle_of(by_rule))) == [trigger_id]


def test_changed_versus_base_compares_installed_packages(declared_only, installed):
    rule = pkgs("changed_versus_base", package_types=["python"])
    # the base has requests installed; ours only declares it: it was removed
    ev = evaluate(declared_only, bundle_of(rule), base=installed)
    assert ids(ev) == ["packages:changed_versus_base:removed:python:requests"]
    # counting declared packages, it is there at another version
    ev = evaluate(declared_only, bundle_of(rule), base=installed, include_declared=True)
    assert ids(ev) == ["packages:changed_versus_base:changed:python:requests"]
    # and the other way round: a base that only declares it, ours installs it: added
    ev = evaluate(installed, bundle_of(rule), base=declared_only)
    assert ids(ev) == ["packages:changed_versus_base:added:python:requests"]


def test_changed_versus_base_stays_within_its_types(mixed, installed):
    """A base's packages of other types are not 'removed' (they were, before)."""
    rule = pkgs("changed_versus_base", package_types=["python"])
    ev = evaluate(installed, bundle_of(rule), base=mixed)
    assert ids(ev) == [
        "packages:changed_versus_base:added:python:requests",
        "packages:changed_versus_base:removed:python:jinja2",
    ]


def test_vulnerability_rules_match_declared_packages_only_when_asked(declared_only, pypa_store):
    rule = vulns(severity="unknown", package_types=["python"])
    ev = evaluate(declared_only, bundle_of(rule), store=pypa_store, now=TODAY)
    assert ev.final_action == "GO" and ev.coverage is not None
    assert ev.coverage["declared"] == {"PyPI": 1, "npm": 1} and not ev.coverage["checked"]
    assert ev.table().splitlines()[-2] == (
        "vulnerability coverage: packages 0 checked; 0 unchecked; 2 declared (PyPI 1, npm 1) "
        "not matched"
    )
    wanted = "vulnerabilities:package:PYSEC-2023-74:python:requests"
    asked = evaluate(declared_only, bundle_of(rule), store=pypa_store, now=TODAY,
                     include_declared=True)  # fmt: skip
    assert wanted in ids(asked)
    by_rule = vulns(severity="unknown", package_types=["python"], include_declared=True)
    assert wanted in ids(evaluate(declared_only, bundle_of(by_rule), store=pypa_store, now=TODAY))
    # declared npm packages, once included, are unchecked like installed ones
    npm = vulns(package_types=["npm"], include_declared=True)
    assert ids(evaluate(declared_only, bundle_of(npm), store=pypa_store, now=TODAY)) == [
        "vulnerabilities:package:unchecked:npm"
    ]


def test_a_rule_cannot_turn_declared_packages_into_installed_ones(declared_only):
    """include_declared is not a parameter of required_package: it would be satisfied by them."""
    with pytest.raises(BundleError, match="has no parameter 'include_declared'"):
        bundle_of({**REQUIRED, "params": {**REQUIRED["params"], "include_declared": True}})


def test_a_hand_made_declared_package_is_not_installed(installed):
    """The rule reads Package.declared, whatever made the analysis."""
    pkg = attrs.evolve(installed.packages[0], declared=True)
    declared = attrs.evolve(installed, packages=[pkg])
    assert evaluate(declared, bundle_of(REQUIRED)).final_action == "STOP"
