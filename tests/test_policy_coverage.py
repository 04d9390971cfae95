"""A policy never says GO because the evidence its rules read was never collected.

An analysis records the analyzers that ran (and those that failed), the secrets
and content-search analyzers record the rules they ran, each trigger declares
what it reads, and evaluate() refuses a mapped rule whose evidence is missing.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import attrs
import pytest

import anchore
from anchore.analysis.model import Analysis
from anchore.analyzers.secrets import ContentSearchAnalyzer, Rule, SecretsAnalyzer
from anchore.errors import AnchoreError, ExitCode
from anchore.plugins import default_registry
from anchore.policy import MissingEvidenceError, evaluate, load_bundle, parse_bundle
from anchore.policy.gates import BUILTIN_GATES, PACKAGE_ANALYZERS, PACKAGE_TYPES
from imagebuilder import build, f, oci_archive
from testdata import GO_ZIP, PYPA, PYPA_ZIP

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "policy" / "bundle.json"
TODAY = datetime.date(2026, 11, 23)
AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"
SECRETS_RULE = {"gate": "secrets", "trigger": "content_regex_checks"}


def bundle_of(*rules: dict, unmapped: tuple[dict, ...] = ()) -> anchore.policy.Bundle:
    """Policy ``p`` (mapped) holds ``rules``; policy ``other`` (not mapped) holds ``unmapped``."""
    policies = [{"id": "p", "rules": [{"id": f"r{i}", "action": "STOP", **r}
                                      for i, r in enumerate(rules)]}]  # fmt: skip
    if unmapped:
        policies.insert(0, {"id": "other", "rules": [{"id": f"u{i}", "action": "STOP", **r}
                                                      for i, r in enumerate(unmapped)]})  # fmt: skip
    doc = {"id": "t", "policies": policies, "mappings": [{"name": "all", "policy_ids": ["p"]}]}
    return parse_bundle(doc, "coverage.json")


@pytest.fixture(scope="module")
def secret_image(tmp_path_factory) -> str:
    """An image with an AWS key in a config file, a passwd file and a Debian os-release."""
    built = build([[
        f("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'),
        f("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n"),
        f("etc/group", "root:x:0:\n"),
        f("app/config/credentials", f"[default]\naws_access_key_id = {AWS_KEY}\n"),
        f("app/token.txt", "itk_" + "0123456789abcdef" * 2 + "\n"),
    ]])  # fmt: skip
    return oci_archive(tmp_path_factory.mktemp("img") / "secret.tar", built)


@pytest.fixture(scope="module")
def full(secret_image) -> Analysis:
    return anchore.analyze(secret_image)


@pytest.fixture(scope="module")
def dpkg_only(secret_image) -> Analysis:
    return anchore.analyze(secret_image, analyzers=["dpkg"])


# ---------------------------------------------------------------- what an analysis records
def test_an_analysis_records_the_analyzers_that_ran(full, dpkg_only):
    assert dpkg_only.analyzers == ("dpkg",) and dpkg_only.failed_analyzers == ()
    assert full.analyzers == tuple(a.name for a in default_registry().analyzers())
    data = json.loads(json.dumps(dpkg_only.to_dict()))
    assert data["analyzers"] == ["dpkg"] and data["failed_analyzers"] == []
    assert "secrets:rules" not in dpkg_only.datasets
    rules = full.datasets["secrets:rules"].value
    assert rules["kind"] == "secret" and "aws-access-key-id" in rules["rules"]


def test_an_analyzer_that_raises_ran_but_failed(secret_image):
    @attrs.define
    class Broken:
        name: str = "system-files"
        patterns: tuple[str, ...] = ("/etc/passwd",)

        def analyze(self, files, context):
            raise RuntimeError("boom")

    analysis = anchore.analyze(secret_image, analyzers=[Broken(), "distro"])
    assert analysis.analyzers == ("system-files", "distro")
    assert analysis.failed_analyzers == ("system-files",)
    assert not analysis.ran("system-files") and analysis.ran("distro")
    rule = {"gate": "passwd_file", "trigger": "denied_users", "params": {"usernames": ["toor"]}}
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(analysis, bundle_of(rule))
    assert "'system-files' analyzer, which failed on the analysis (boom)" in str(err.value)


def test_secret_rules_are_recorded_even_with_no_file_to_search(tmp_path):
    """A content search limited to paths the image lacks still ran: its rules are known."""
    empty = oci_archive(tmp_path / "empty.tar", build([[f("etc/hostname", "x\n")]]))
    search = ContentSearchAnalyzer({"debian-mention": "Debian"}, paths=("/opt/**",))
    analysis = anchore.analyze(empty, analyzers=[search])
    assert analysis.datasets["content-search:rules"].value == {
        "kind": "content-match",
        "rules": ["debian-mention"],
    }
    rule = {"gate": "files", "trigger": "content_match", "params": {"rules": ["debian-mention"]}}
    assert evaluate(analysis, bundle_of(rule)).final_action == "GO"


# ---------------------------------------------------------------- secrets
def test_a_secrets_rule_on_an_analysis_without_secrets_is_an_error(dpkg_only, full):
    """Before: no secret findings, so GO. The key is there; the analysis never looked."""
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(dpkg_only, bundle_of(SECRETS_RULE))
    message = str(err.value)
    assert message.startswith(
        "coverage.json: policy 'p' rule 0 (id 'r0', secrets.content_regex_checks)"
    )
    assert "secret findings" in message and "'secrets'" in message
    assert "analyzers that ran: dpkg" in message and "analyzers=None" in message
    assert err.value.source == "coverage.json" and err.value.member == "policies[0].rules[0]"
    assert isinstance(err.value, AnchoreError)
    ev = evaluate(full, bundle_of(SECRETS_RULE))
    assert ev.final_action == "STOP"
    assert {i.evidence["rule"] for i in ev.items} == {"aws-access-key-id"}
    assert ev.items[0].evidence["path"] == "/app/config/credentials"


def test_a_misspelt_secrets_rule_is_an_error_naming_the_closest(full):
    typo = {**SECRETS_RULE, "params": {"rules": ["aws-acess-key"]}}
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(full, bundle_of(typo))
    message = str(err.value)
    assert "names secret rule 'aws-acess-key'" in message
    assert "(did you mean 'aws-access-key-id'?)" in message and "private-key" in message
    right = {**SECRETS_RULE, "params": {"rules": ["aws-access-key-id"]}}
    assert evaluate(full, bundle_of(right)).final_action == "STOP"


def test_custom_secrets_rules_are_accepted_where_they_ran(secret_image, full):
    token = Rule("internal-token", r"(?P<secret>itk_[0-9a-f]{32})")
    custom = anchore.analyze(secret_image, analyzers=[SecretsAnalyzer(extra_rules=[token])])
    rule = {**SECRETS_RULE, "params": {"rules": ["internal-token"]}}
    ev = evaluate(custom, bundle_of(rule))
    assert ev.final_action == "STOP"
    assert [i.evidence["path"] for i in ev.items] == ["/app/token.txt"]
    with pytest.raises(MissingEvidenceError, match="'internal-token', which the 'secrets'"):
        evaluate(full, bundle_of(rule))  # the built-in analyzer has no such rule
    # a secrets analyzer of another name meets the need too
    renamed = anchore.analyze(secret_image, analyzers=[SecretsAnalyzer(name="my-secrets")])
    assert evaluate(renamed, bundle_of(SECRETS_RULE)).final_action == "STOP"


def test_content_match_needs_a_content_search(secret_image, full):
    rule = {"gate": "files", "trigger": "content_match"}
    with pytest.raises(MissingEvidenceError, match="ContentSearchAnalyzer"):
        evaluate(full, bundle_of(rule))  # every registered analyzer, none searches content
    search = ContentSearchAnalyzer({"aws-key": "AKIA[A-Z0-9]{16}"})
    analysis = anchore.analyze(secret_image, analyzers=[search])
    assert evaluate(analysis, bundle_of(rule)).final_action == "STOP"
    with pytest.raises(MissingEvidenceError, match="did you mean 'aws-key'"):
        evaluate(analysis, bundle_of({**rule, "params": {"rules": ["aws_key"]}}))


# ---------------------------------------------------------------- other gates
def test_only_mapped_rules_need_evidence(dpkg_only):
    ok = {"gate": "metadata", "trigger": "layer_count", "params": {"max": 5}}
    assert evaluate(dpkg_only, bundle_of(ok, unmapped=(SECRETS_RULE,))).final_action == "GO"
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(dpkg_only, bundle_of(ok, SECRETS_RULE, unmapped=(SECRETS_RULE,)))
    # the place is the bundle's own: policies[1] (the mapped policy), its rule 1
    assert err.value.member == "policies[1].rules[1]"


def test_package_rules_need_their_types_analyzers(dpkg_only, full):
    anything = {"gate": "packages", "trigger": "denied_license", "params": {"licenses": ["AGPL"]}}
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(dpkg_only, bundle_of(anything))
    message = str(err.value)
    assert "needs apk, dotnet, gem, go-module, java-archive, npm, php-composer, python" in message
    assert "'npm'" in message and "'dpkg'" not in message.split("analyzers that ran")[0]
    assert "package_types" in message
    debs = {**anything, "params": {**anything["params"], "package_types": ["deb"]}}
    assert evaluate(dpkg_only, bundle_of(debs)).final_action == "GO"
    pythons = {"gate": "packages", "trigger": "required_package",
               "params": {"name": "requests", "package_types": ["python"]}}  # fmt: skip
    with pytest.raises(MissingEvidenceError, match="needs python packages from the 'python'"):
        evaluate(dpkg_only, bundle_of(pythons))
    assert evaluate(full, bundle_of(pythons)).final_action == "STOP"  # really missing
    only = {"gate": "packages", "trigger": "allowed_types", "params": {"types": ["deb"]}}
    with pytest.raises(MissingEvidenceError, match="'npm'"):
        evaluate(dpkg_only, bundle_of(only))


def test_two_rules_missing_evidence_are_both_named(dpkg_only):
    users = {"gate": "passwd_file", "trigger": "denied_users", "params": {"usernames": ["toor"]}}
    distro = {"gate": "metadata", "trigger": "distro", "params": {"denied": ["debian"]}}
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(dpkg_only, bundle_of(users, distro))
    message = str(err.value)
    assert "2 rules cannot be evaluated" in message and "\n" not in message
    assert "'system-files'" in message and "from the 'distro' analyzer" in message


def test_the_base_analysis_must_have_looked_too(secret_image, full, dpkg_only):
    rule = {"gate": "packages", "trigger": "changed_versus_base",
            "params": {"package_types": ["python"]}}  # fmt: skip
    with pytest.raises(MissingEvidenceError, match="did not run on the base image's analysis"):
        evaluate(full, bundle_of(rule), base=dpkg_only)
    assert evaluate(full, bundle_of(rule), base=full).final_action == "GO"


def test_a_hand_made_analysis_names_its_analyzers():
    made = Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[])
    with pytest.raises(MissingEvidenceError, match="none recorded; an Analysis made by hand"):
        evaluate(made, bundle_of(SECRETS_RULE))
    listed = Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[],
                      analyzers=["system-files"])  # fmt: skip
    users = {"gate": "passwd_file", "trigger": "denied_users", "params": {"usernames": ["toor"]}}
    assert evaluate(listed, bundle_of(users)).final_action == "GO"


def test_package_analyzers_are_the_ones_that_report_each_type(corpus):
    registered = {a.name for a in default_registry().analyzers()}
    assert set(PACKAGE_ANALYZERS) == set(PACKAGE_TYPES)
    assert set(PACKAGE_ANALYZERS.values()) <= registered
    for name in ("debian-py", "debian-min"):
        analysis = anchore.analyze(corpus / f"{name}.oci.tar")
        assert {(p.type, p.found_by) for p in analysis.packages} <= set(PACKAGE_ANALYZERS.items())


# ---------------------------------------------------------------- every trigger, on debian-py
#: a rule for every built-in trigger, with parameters that make it fire on debian-py where it can
EVERY_TRIGGER: dict[tuple[str, str], dict] = {
    ("dockerfile", "exposed_ports"): {"ports": ["22"]},
    ("dockerfile", "effective_user"): {},
    ("dockerfile", "no_healthcheck"): {},
    ("dockerfile", "instruction"): {"regex": "."},
    ("dockerfile", "base_tag"): {},
    ("dockerfile", "env_secrets"): {"regex": "."},
    ("dockerfile", "required_labels"): {"labels": ["nope"]},
    ("files", "name_match"): {"regex": "^/app/"},
    ("files", "content_match"): {},
    ("files", "suid_or_guid_set"): {},
    ("files", "world_writable"): {},
    ("secrets", "content_regex_checks"): {},
    ("packages", "required_package"): {"name": "nope", "package_types": ["python"]},
    ("packages", "denied_package"): {"name": "*"},
    ("packages", "denied_license"): {"licenses": ["MIT"], "match": "substring"},
    ("packages", "changed_versus_base"): {"package_types": ["npm", "python"]},
    ("packages", "allowed_types"): {"types": ["deb"]},
    ("vulnerabilities", "package"): {"package_types": ["python"]},
    ("vulnerabilities", "stale_feed_data"): {"max_days": 0},
    ("vulnerabilities", "vulnerability_data_unavailable"): {},
    ("passwd_file", "denied_users"): {"usernames": ["root"]},
    ("passwd_file", "denied_groups"): {"names": ["root"]},
    ("config_files", "key_value"): {
        "path": "/etc/ssh/sshd_config",
        "key": "PermitRootLogin",
        "value_regex": "yes",
    },
    ("metadata", "image_size"): {"max_bytes": 1},
    ("metadata", "layer_count"): {"max": 1},
    ("metadata", "architecture"): {"allowed": ["s390x"]},
    ("metadata", "distro"): {"denied": ["debian"], "unknown_triggers": False},
    ("always", "always"): {},
}


def test_every_builtin_trigger_is_in_the_table():
    assert set(EVERY_TRIGGER) == {(g.name, t.name) for g in BUILTIN_GATES for t in g.triggers}


@pytest.fixture(scope="module")
def pypa_store(tmp_path_factory):
    from anchore.vulns import Store, load

    path = tmp_path_factory.mktemp("v") / "db.sqlite"
    with Store(path, create=True) as store:
        load(store, PYPA)
    return path


@pytest.mark.corpus
def test_each_trigger_needs_what_it_reads_and_no_more(corpus, pypa_store):
    """For every built-in trigger on debian-py: with no analyzer at all, the rule is either
    refused or gives what the full analysis gives (it reads nothing an analyzer collects);
    with only the analyzers it declares, it gives exactly what the full analysis gives."""
    image = anchore.open_image(corpus / "debian-py.oci.tar")
    search = ContentSearchAnalyzer({"aws-key": "AKIA[A-Z0-9]{16}"})
    everything = [*default_registry().analyzers(), search]
    analyses: dict[tuple[str, ...], Analysis] = {}

    def analysis_with(names: tuple[str, ...]) -> Analysis:
        if names not in analyses:
            chosen = [a for a in everything if a.name in names]
            analyses[names] = anchore.analyze(image, analyzers=chosen)
        return analyses[names]

    base = anchore.analyze(corpus / "debian-min.oci.tar")

    def items(analysis: Analysis, rule: dict) -> list[tuple[str, str]]:
        ev = evaluate(analysis, bundle_of(rule), base=base, store=pypa_store, now=TODAY,
                      tag="docker.io/corpus/debian-py:latest")  # fmt: skip
        return sorted((i.trigger_id, i.message) for i in ev.items)

    gates = {g.name: g for g in BUILTIN_GATES}
    full = analysis_with(tuple(a.name for a in everything))
    refused = []
    try:
        for (gate, trigger), params in EVERY_TRIGGER.items():
            rule = {"gate": gate, "trigger": trigger, "params": params}
            expected = items(full, rule)
            declared = gates[gate].trigger(trigger).needed(
                {p.name: p.default for p in gates[gate].trigger(trigger).params
                 if p.default is not None} | params)  # fmt: skip
            try:
                assert items(analysis_with(()), rule) == expected, (gate, trigger)
            except MissingEvidenceError:
                refused.append((gate, trigger))
                assert declared, (gate, trigger)
            names = tuple(sorted({n.analyzer for n in declared}))
            assert items(analysis_with(names), rule) == expected, (gate, trigger, names)
    finally:
        image.close()
    # every trigger that reads analyzer evidence was refused without it: 13 of them
    assert len(refused) == 13 and ("secrets", "content_regex_checks") in refused
    assert ("dockerfile", "instruction") not in refused


# ---------------------------------------------------------------- the example bundle
#: debian-py with the example bundle and the PyPA and Go data: what it gave before, and
#: since vulnerability rules fail closed, the packages that data cannot check (Debian,
#: npm and Maven: no feed loaded), one STOP item per ecosystem
EXAMPLE_STOPS = [
    "config_files:key_value:/etc/ssh/sshd_config:PermitRootLogin",
    "dockerfile:effective_user:root",
    "dockerfile:exposed_ports:22/tcp",
    "secrets:content_regex_checks:aws-access-key-id:/app/config/credentials:1",
    "secrets:content_regex_checks:aws-secret-access-key:/app/config/credentials:2",
    "secrets:content_regex_checks:generic-password:/etc/ssl/openssl.cnf:351",
    "vulnerabilities:package:PYSEC-2023-192:python:urllib3",
    "vulnerabilities:package:PYSEC-2023-221:python:werkzeug",
    "vulnerabilities:package:PYSEC-2024-60:python:idna",
    "vulnerabilities:package:unchecked:Debian:12",
    "vulnerabilities:package:unchecked:Maven",
    "vulnerabilities:package:unchecked:npm",
]


@pytest.mark.corpus
def test_the_example_bundle_decides_as_before_on_a_full_analysis(corpus, tmp_path, monkeypatch):
    from anchore.vulns import Store, load

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "vulns.sqlite"
    with Store(path, create=True) as store:
        load(store, PYPA_ZIP)
        load(store, GO_ZIP)
    analysis = anchore.analyze(corpus / "debian-py.docker.tar")
    ev = evaluate(analysis, load_bundle(EXAMPLE), store=path, now=TODAY)
    assert ev.final_action == "STOP" and ev.exit_code == ExitCode.FAILED
    standing = sorted(i.trigger_id for i in ev.items if i.action == "STOP" and not i.allowlisted)
    assert standing == EXAMPLE_STOPS
    # 154 items before vulnerability rules fired for unchecked packages; now each of the two
    # vulnerabilities.package rules (STOP high, WARN any) adds one item per unchecked
    # ecosystem: 140 Debian:12, 53 npm and 39 Maven packages, so 6 more
    assert len(ev.items) == 160 and sum(i.allowlisted for i in ev.items) == 117
    assert sum(i.action == "WARN" and not i.allowlisted for i in ev.items) == 31
    assert ev.coverage is not None and ev.coverage["unchecked"] == {
        "Debian:12": 140, "npm": 53, "Maven": 39}  # fmt: skip
    # the same analysis without the secrets analyzer: refused, not 6 STOP items
    without = anchore.analyze(
        corpus / "debian-py.docker.tar",
        analyzers=[a for a in default_registry().analyzers() if a.name != "secrets"],
    )
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(without, load_bundle(EXAMPLE), store=path, now=TODAY)
    assert "policy 'hygiene' rule 9 (id " in str(err.value)
    assert err.value.member == "policies[0].rules[9]"


@pytest.mark.corpus
def test_the_example_bundle_refuses_a_dpkg_only_analysis(corpus):
    analysis = anchore.analyze(corpus / "debian-py.docker.tar", analyzers=["dpkg"])
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(analysis, load_bundle(EXAMPLE), matches=[], now=TODAY)
    message = str(err.value)
    assert "rules cannot be evaluated" in message
    for needed in ("'secrets'", "'system-files'", "'distro'", "'npm'"):
        assert needed in message


# ---------------------------------------------------------------- the command
@pytest.mark.parametrize(
    ("rule", "needles"),
    [
        ({"gate": "files", "trigger": "content_match"}, ["ContentSearchAnalyzer"]),
        ({**SECRETS_RULE, "params": {"rules": ["aws-acess-key"]}},
         ["'aws-acess-key'", "did you mean 'aws-access-key-id'"]),
    ],
)  # fmt: skip
def test_the_command_exits_5_with_one_line(tmp_path, rule, needles):
    import subprocess
    import sys

    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"id": "b", "policies": [{"id": "p", "rules": [
        {"id": "r", "action": "STOP", **rule}]}], "mappings": [{"policy_ids": ["p"]}]}))  # fmt: skip
    image = ROOT / "examples" / "busybox" / "busybox.oci.tar"
    done = subprocess.run([sys.executable, "-m", "anchore", "evaluate", str(image), "--bundle",
                           str(bundle)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == ExitCode.INPUT_ERROR, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anchore: error: "), done.stderr
    assert "policy 'p' rule 0 (id 'r'" in lines[0]
    for needle in needles:
        assert needle in lines[0]
