"""``anchore vulns -o sarif`` and ``anchore evaluate -o sarif``: SARIF 2.1.0 that the
published schema accepts and GitHub code scanning can read, from real scans.

The scans are of the corpus image debian-py against the repository's real OSV data
(PyPA and the Go database); the schema is the published SARIF 2.1.0 one
(tests/data/schemas/SOURCE.txt). GitHub's documented constraints (SARIF support for code
scanning) are checked on top: ruleIndex points at the result's rule, security-severity is
a number between 0.0 and 10.0 written as a string, limits on runs, rules and locations.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest

from anchore.cli import main
from anchore.errors import ExitCode
from anchore.report.sarif import UNCHECKED_RULE
from testdata import GO_ZIP, PYPA_ZIP

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "schemas" / "sarif-2.1.0.json").read_text())
BUNDLE = ROOT / "examples" / "policy" / "bundle.json"
IDNA = "usr/local/lib/python3.11/dist-packages/idna-2.10.dist-info/METADATA"

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("db") / "vulns.sqlite")
    assert main(["db", "load", "--db", path, str(PYPA_ZIP), str(GO_ZIP)]) == ExitCode.OK
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def vulns_log(db, corpus) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["vulns", "-q", "--db", db, str(corpus / "debian-py.docker.tar"), "-o", "sarif"]
        )
    return code, json.loads(out.getvalue())


def _valid(log: dict) -> None:
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(log), key=str)
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]


def _github_constraints(log: dict) -> None:
    """What GitHub's SARIF support page asks of an upload, beyond the schema."""
    assert log["version"] == "2.1.0" and len(log["runs"]) <= 20
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert driver["name"] == "anchore" and driver["version"]
        # optional in SARIF, and the project has no published page yet: none rather than
        # a page that is not ours (pypi.org/project/anchore is another project's name)
        assert "informationUri" not in driver
        rules = driver["rules"]
        ids = [r["id"] for r in rules]
        assert len(ids) == len(set(ids)) and len(rules) <= 25_000
        for rule in rules:
            assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
            assert rule["help"]["text"]
            props = rule.get("properties", {})
            assert len(props.get("tags", [])) <= 20
            if "security-severity" in props:
                text = props["security-severity"]
                assert isinstance(text, str) and re.fullmatch(r"\d+\.\d", text), text
                assert 0.0 <= float(text) <= 10.0
                assert "security" in props["tags"]
        assert len(run["results"]) <= 25_000
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["level"] in ("error", "warning", "note")
            assert result["message"]["text"]
            assert 1 <= len(result["locations"]) <= 1000
            for loc in result["locations"]:
                uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                assert not uri.startswith("/") and "://" not in uri and " " not in uri, uri
                assert loc["physicalLocation"]["region"]["startLine"] >= 1
            assert result["partialFingerprints"]


def test_vulns_sarif_is_valid_and_says_where_each_package_is(vulns_log):
    code, log = vulns_log
    _valid(log)
    _github_constraints(log)
    (run,) = log["runs"]
    results = run["results"]
    idna = [r for r in results if r["ruleId"] == "PYSEC-2024-60"]
    assert len(idna) == 1
    assert idna[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == IDNA
    assert idna[0]["level"] == "error"  # rated high
    rule = run["tool"]["driver"]["rules"][idna[0]["ruleIndex"]]
    assert "CVE-2024-3651" in rule["fullDescription"]["text"]
    assert float(rule["properties"]["security-severity"]) >= 7.0
    # the fixed version as Go writes it
    go = [r for r in results if r["properties"].get("ecosystem") == "Go"]
    assert go and all(
        r["properties"]["fixedVersion"] is None
        or r["properties"]["fixedVersion"].startswith(("v", "go"))
        for r in go
    )
    stdlib = next(r for r in go if r["properties"]["package"] == "stdlib")
    assert stdlib["properties"]["fixedVersion"].startswith("go1.")
    # the exit code is in the log: not everything could be checked, but without --fail-on
    assert run["invocations"][0]["exitCode"] == code == ExitCode.OK


def test_unchecked_packages_are_results_and_notifications(vulns_log):
    _, log = vulns_log
    (run,) = log["runs"]
    unchecked = [r for r in run["results"] if r["ruleId"] == UNCHECKED_RULE]
    groups = {r["properties"]["group"]: r["properties"]["count"] for r in unchecked}
    assert groups == run["properties"]["coverage"]["unchecked"]
    assert groups["Debian:12"] > 100 and "npm" in groups
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert {n["message"]["text"] for n in notes} >= {
        f"{n} {g} packages could not be checked" for g, n in groups.items()
    }
    assert run["invocations"][0]["executionSuccessful"] is True  # some were checked


def test_fingerprints_are_stable_across_runs(vulns_log, db, corpus, capsys):
    _, first = vulns_log
    image = str(corpus / "debian-py.oci.tar")  # the same image in another format
    _, again = _run(capsys, "vulns", "-q", "--db", db, image, "-o", "sarif")

    def prints(log: dict) -> dict[str, dict]:
        return {
            r["partialFingerprints"]["anchore/v1"]: r["ruleId"] for r in log["runs"][0]["results"]
        }

    assert prints(first) == prints(again)
    assert len(prints(first)) == len(first["runs"][0]["results"])  # one identity per result


def test_a_scan_that_checked_nothing_says_so(db, corpus, capsys):
    """debian-min holds only Debian packages, and the store has no Debian data: a SARIF
    with no vulnerability must not read as a clean bill."""
    code, log = _run(capsys, "vulns", "-q", "--db", db, str(corpus / "debian-min.oci.tar"),
                     "-o", "sarif")  # fmt: skip
    _valid(log)
    _github_constraints(log)
    (run,) = log["runs"]
    assert code == ExitCode.UNCHECKED
    assert run["invocations"][0]["exitCode"] == ExitCode.UNCHECKED
    assert run["invocations"][0]["executionSuccessful"] is False
    assert {r["ruleId"] for r in run["results"]} == {UNCHECKED_RULE}
    assert all(r["level"] == "error" for r in run["results"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert (
        notes[0]["level"] == "error"
        and "no package could be checked" in notes[0]["message"]["text"]
    )


def test_suppressed_matches_stay_in_the_log_as_suppressed(db, corpus, capsys, tmp_path):
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text("- id: CVE-2024-3651\n  reason: idna only parses our own host names\n")
    _, log = _run(capsys, "vulns", "-q", "--db", db, str(corpus / "debian-py.docker.tar"),
                  "--ignore", str(ignore), "-o", "sarif")  # fmt: skip
    _valid(log)
    (idna,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "PYSEC-2024-60"]
    (suppression,) = idna["suppressions"]
    assert suppression["status"] == "accepted"
    assert "idna only parses our own host names" in suppression["justification"]


def test_evaluate_sarif_is_valid_and_fails_on_stop(db, corpus, capsys):
    code, log = _run(capsys, "evaluate", "-q", "--db", db, "--bundle", str(BUNDLE),
                     str(corpus / "debian-py.docker.tar"), "-o", "sarif")  # fmt: skip
    _valid(log)
    _github_constraints(log)
    (run,) = log["runs"]
    assert code == ExitCode.FAILED and run["properties"]["finalAction"] == "STOP"
    assert run["invocations"][0]["exitCode"] == ExitCode.FAILED
    capsys.readouterr()
    assert main(["evaluate", "-q", "--db", db, "--bundle", str(BUNDLE),
                 str(corpus / "debian-py.docker.tar"), "--json"]) == ExitCode.FAILED  # fmt: skip
    items = json.loads(capsys.readouterr().out)["items"]
    assert len(run["results"]) == len(items)
    by_rule = {}
    for r in run["results"]:
        by_rule.setdefault(r["ruleId"], []).append(r)
    su = next(r for r in by_rule["files/suid_or_guid_set"]
              if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "usr/bin/su")  # fmt: skip
    assert su["level"] == "warning"  # a WARN rule
    secret = next(r for r in by_rule["secrets/content_regex_checks"]
                  if "AWS secret" in r["message"]["text"])  # fmt: skip
    region = secret["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "app/config/credentials"
    assert region["region"]["startLine"] == 2 and secret["level"] == "error"
    allowlisted = [r for r in run["results"] if r.get("suppressions")]
    assert len(allowlisted) == sum(i["allowlisted"] for i in items) > 0
    rule = run["tool"]["driver"]["rules"][su["ruleIndex"]]
    assert "setuid" in rule["fullDescription"]["text"].lower()
    # an item with no file (the user) is located at the image scanned
    root = by_rule["dockerfile/effective_user"][0]["locations"][0]["physicalLocation"]
    assert root["artifactLocation"]["uri"] == "debian-py.docker.tar"
