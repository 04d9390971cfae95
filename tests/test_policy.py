"""Policy: bundle validation, every gate, allowlists, mappings, and debian-py's evaluation."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest

import anchore
from anchore.errors import ExitCode
from anchore.policy import BundleError, evaluate, load_bundle, parse_bundle
from imagebuilder import build, d, f, oci_archive
from testdata import PYPA

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "policy" / "bundle.json"
TODAY = datetime.date(2026, 11, 23)


def bundle_with(*rules, allow_items=(), mapping=None, **extra):
    doc = {
        "id": "t",
        "policies": [{"id": "p", "rules": [
            {"id": f"r{i}", "action": r.pop("action", "STOP"), **r} for i, r in enumerate(copy.deepcopy(list(rules)))]}],
        "allowlists": [{"id": "a", "items": list(allow_items)}],
        "mappings": [mapping or {"name": "all", "policy_ids": ["p"], "allowlist_ids": ["a"]}],
        **extra,
    }  # fmt: skip
    return parse_bundle(doc, "test-bundle.json")


def image(tmp_path, layers, config=None, name="img"):
    built = build(layers, config={"config": config} if config else None)
    return anchore.analyze(anchore.open_image(oci_archive(tmp_path / f"{name}.tar", built)))


def fired(evaluation, gate=None):
    return [i for i in evaluation.items if gate is None or i.gate == gate]


def test_schema_in_docs_is_generated_from_the_gates():
    from anchore.policy.schema import bundle_schema

    committed = json.loads((ROOT / "docs" / "policy-schema.json").read_text())
    assert committed == json.loads(json.dumps(bundle_schema())), (
        "run: python -m anchore.policy.schema > docs/policy-schema.json"
    )
    rules = committed["properties"]["policies"]["items"]["properties"]["rules"]["items"]["oneOf"]
    assert any(r["properties"]["trigger"]["const"] == "exposed_ports" for r in rules)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"gate": "nope", "trigger": "x"}, "unknown gate 'nope'; gates: always, config_files"),
        ({"gate": "dockerfile", "trigger": "nope"}, "gate dockerfile has no trigger 'nope'; triggers: exposed_ports, effective_user"),
        ({"gate": "dockerfile", "trigger": "exposed_ports", "params": {"ports": ["22"], "colour": "red"}},
         "policies[0].rules[0].params.colour: dockerfile.exposed_ports has no parameter 'colour'; parameters: ports, type"),
        ({"gate": "dockerfile", "trigger": "exposed_ports", "params": {"ports": 22}}, "must be of type strings, not int 22"),
        ({"gate": "dockerfile", "trigger": "instruction", "params": {"regex": "(unclosed"}}, "is not a valid regular expression"),
        ({"gate": "dockerfile", "trigger": "instruction"}, "dockerfile.instruction needs parameter 'regex'"),
        ({"gate": "dockerfile", "trigger": "exposed_ports", "params": {"ports": ["1"], "type": "maybe"}}, "'maybe' is not one of denylist, allowlist"),
        ({"gate": "always", "trigger": "always", "action": "EXPLODE"}, "action 'EXPLODE' is not one of STOP, WARN, GO"),
        ({"gate": "packages", "trigger": "denied_package", "params": [{"name": "name", "value": "curl"}, {"name": "bogus", "value": 1}]},
         "has no parameter 'bogus'"),
    ],
)  # fmt: skip
def test_broken_rules_are_named_errors(rule, message):
    with pytest.raises(BundleError) as err:
        bundle_with(rule)
    assert str(err.value).startswith("test-bundle.json: policies[0].rules[0]")
    assert message in str(err.value)


def test_broken_bundles_of_every_other_kind(tmp_path):
    ok = {"gate": "always", "trigger": "always"}
    with pytest.raises(BundleError, match="unknown policy 'missing'; policies: p"):
        bundle_with(ok, mapping={"policy_ids": ["missing"]})
    with pytest.raises(BundleError, match="unknown allowlist 'x'; allowlists: a"):
        bundle_with(ok, mapping={"policy_ids": ["p"], "allowlist_ids": ["x"]})
    with pytest.raises(BundleError, match="expires_on 'soon' is not a date"):
        bundle_with(
            ok,
            allow_items=[
                {"gate": "always", "trigger_id": "*", "reason": "r", "expires_on": "soon"}
            ],
        )
    with pytest.raises(BundleError, match="allowlists\\[0\\].items\\[0\\]: unknown gate 'nah'"):
        bundle_with(ok, allow_items=[{"gate": "nah", "trigger_id": "*", "reason": "r"}])
    with pytest.raises(BundleError, match="items\\[0\\]: missing 'reason'"):
        bundle_with(ok, allow_items=[{"gate": "always", "trigger_id": "*"}])
    with pytest.raises(BundleError, match="'reason' must be a non-empty string, not str ''"):
        bundle_with(ok, allow_items=[{"gate": "always", "trigger_id": "*", "reason": ""}])
    with pytest.raises(BundleError, match="top level: missing 'mappings'"):
        parse_bundle(
            {"id": "x", "policies": [{"id": "p", "rules": [{**ok, "action": "GO"}]}]}, "b.json"
        )
    with pytest.raises(BundleError, match="mappings: a bundle needs at least one mapping"):
        parse_bundle({"id": "x", "policies": [{"id": "p", "rules": [{**ok, "action": "GO"}]}],
                      "mappings": []}, "b.json")  # fmt: skip
    with pytest.raises(BundleError, match="policies: must be a list, not dict"):
        parse_bundle({"policies": {}, "mappings": []}, "b.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BundleError, match="bad.json: not valid JSON"):
        load_bundle(bad)
    with pytest.raises(BundleError, match="no such policy bundle"):
        load_bundle(tmp_path / "missing.json")
    yaml_bundle = tmp_path / "b.yaml"
    yaml_bundle.write_text("id: y\npolicies:\n- id: p\n  rules:\n  - {gate: always, trigger: always, action: WARN}\n"
                           "mappings:\n- {policy_ids: [p]}\n")  # fmt: skip
    assert load_bundle(yaml_bundle).policies[0].rules[0].action == "WARN"


@pytest.fixture(scope="module")
def vuln_store(tmp_path_factory):
    from anchore.vulns import Store, load

    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    return store


@pytest.fixture(scope="module")
def debian_py_evaluation(corpus, vuln_store):
    analysis = anchore.analyze(anchore.open_image(corpus / "debian-py.docker.tar"))
    return analysis, evaluate(analysis, load_bundle(EXAMPLE), store=vuln_store, now=TODAY)


@pytest.mark.corpus
def test_debian_py_triggers_with_evidence_and_layers(debian_py_evaluation):
    _, ev = debian_py_evaluation
    assert ev.final_action == "STOP" and ev.mapping == "corpus images"
    by_id = {i.trigger_id: i for i in ev.items}
    helper = by_id["files:suid_or_guid_set:/usr/local/bin/helper"]
    assert (
        helper.evidence["path"] == "/usr/local/bin/helper" and helper.evidence["layer_index"] == 3
    )
    creds = [
        i
        for i in ev.items
        if i.gate == "secrets" and i.evidence.get("path") == "/app/config/credentials"
    ]
    assert {i.evidence["rule"] for i in creds} == {"aws-access-key-id", "aws-secret-access-key"}
    assert all(i.evidence["layer_index"] == 3 and i.action == "STOP" for i in creds)
    ssh = by_id["config_files:key_value:/etc/ssh/sshd_config:PermitRootLogin"]
    assert (
        ssh.action == "STOP" and ssh.evidence["layer_index"] == 3 and ssh.evidence["value"] == "yes"
    )
    assert by_id["dockerfile:exposed_ports:22/tcp"].action == "STOP"
    assert "dockerfile:effective_user:root" in by_id
    urllib3 = [
        i
        for i in ev.items
        if i.gate == "vulnerabilities" and "urllib3" in i.evidence.get("package", "")
    ]
    assert urllib3 and all(i.evidence["layer_index"] == 2 for i in urllib3)
    assert any(i.evidence["advisory"].startswith("PYSEC-") for i in urllib3)
    assert "urllib3" in ev.table() and ev.table().endswith(ev.reason + ")")
    long = [i for i in ev.items if len(i.message) > 90]  # cut with an ellipsis in the table
    assert long and all(i.message[:89] + "…" in ev.table() for i in long)
    assert json.loads(json.dumps(ev.to_dict()))["final_action"] == "STOP"


@pytest.mark.corpus
def test_trigger_ids_are_stable_across_formats(corpus, vuln_store, debian_py_evaluation):
    _, docker = debian_py_evaluation
    oci = evaluate(anchore.analyze(anchore.open_image(corpus / "debian-py.oci.tar")), load_bundle(EXAMPLE),
                   tag="docker.io/corpus/debian-py:latest", store=vuln_store, now=TODAY)  # fmt: skip
    assert {i.trigger_id for i in docker.items} == {i.trigger_id for i in oci.items}


def test_allowlists_expire_and_match_globs(tmp_path):
    analysis = image(
        tmp_path, [[f("usr/bin/tool", "x", mode=0o4755), f("usr/bin/other", "y", mode=0o4755)]]
    )
    rule = {"gate": "files", "trigger": "suid_or_guid_set"}
    live = {
        "id": "ok",
        "gate": "files",
        "trigger_id": "files:suid_or_guid_set:/usr/bin/tool",
        "reason": "needed",
    }
    ev = evaluate(analysis, bundle_with(rule, allow_items=[live]), now=TODAY)
    allowed = {i.evidence["path"]: i for i in ev.items}
    assert (
        allowed["/usr/bin/tool"].allowlisted
        and allowed["/usr/bin/tool"].allowlist_reason == "needed"
    )
    assert not allowed["/usr/bin/other"].allowlisted and ev.final_action == "STOP"
    expired = {**live, "trigger_id": "files:suid*", "expires_on": "2020-01-01"}
    ev = evaluate(analysis, bundle_with(rule, allow_items=[expired]), now=TODAY)
    assert not any(i.allowlisted for i in ev.items)
    every = {**live, "trigger_id": "files:suid*"}
    ev = evaluate(analysis, bundle_with(rule, allow_items=[every]), now=TODAY)
    assert all(i.allowlisted for i in ev.items) and ev.final_action == "GO"


def test_mappings_first_match_and_image_lists(tmp_path):
    analysis = image(tmp_path, [[f("a")]])
    warn = {"gate": "always", "trigger": "always", "action": "WARN"}
    doc = {"id": "m", "policies": [{"id": "warn", "rules": [warn]},
                                   {"id": "stop", "rules": [{"gate": "always", "trigger": "always", "action": "STOP"}]}],
           "mappings": [{"name": "prod", "registry": "registry.example.com", "repository": "prod/*",
                         "image": {"type": "tag", "value": "v*"}, "policy_ids": ["stop"]},
                        {"name": "rest", "policy_ids": ["warn"]}]}  # fmt: skip
    bundle = parse_bundle(doc, "m.json")
    assert (
        evaluate(analysis, bundle, tag="registry.example.com/prod/api:v1.2").final_action == "STOP"
    )
    assert evaluate(analysis, bundle, tag="registry.example.com/prod/api:dev").mapping == "rest"
    assert evaluate(analysis, bundle, tag="debian:12").final_action == "WARN"
    denied = parse_bundle(
        {**doc, "denied_images": [{"name": "bad", "repository": "library/debian"}]}, "d.json"
    )
    ev = evaluate(analysis, denied, tag="debian:12")
    assert ev.final_action == "STOP" and "deny list" in ev.reason and not ev.items
    allowed = parse_bundle({**doc, "allowed_images": [{"image": {"type": "digest",
                                                                 "value": analysis.image.manifest_digest}}]}, "a.json")  # fmt: skip
    assert evaluate(analysis, allowed, tag="x:1").final_action == "GO"
    nomap = parse_bundle({**doc, "mappings": [doc["mappings"][0]]}, "n.json")
    ev = evaluate(analysis, nomap, tag="debian:12")
    assert ev.final_action == "STOP" and "no mapping" in ev.reason


def test_dockerfile_gate(tmp_path):
    config = {"User": "app", "ExposedPorts": {"8080/tcp": {}, "2375/tcp": {}},
              "Env": ["DB_PASSWORD=hunter2", "PATH=/bin"], "Labels": {"api_token": "abc", "team": "x"},
              "Healthcheck": {"Test": ["CMD", "true"]}}  # fmt: skip
    analysis = image(tmp_path, [[f("a")]], config=config)
    analysis.image = {**analysis.image.to_dict(),
                      "history": [{"created_by": "RUN curl https://x | sh", "layer_index": 0}]}  # fmt: skip
    ev = evaluate(analysis, bundle_with(
        {"gate": "dockerfile", "trigger": "exposed_ports", "params": {"ports": ["8080"], "type": "allowlist"}},
        {"gate": "dockerfile", "trigger": "effective_user"},
        {"gate": "dockerfile", "trigger": "no_healthcheck"},
        {"gate": "dockerfile", "trigger": "instruction", "params": {"regex": "curl[^|]*\\|\\s*sh"}},
        {"gate": "dockerfile", "trigger": "base_tag"},
        {"gate": "dockerfile", "trigger": "env_secrets"},
        {"gate": "dockerfile", "trigger": "required_labels", "params": {"labels": ["team", "owner"]}},
    ), tag="example.com/app:latest", now=TODAY)  # fmt: skip
    ids = {i.trigger_id for i in ev.items}
    assert ids == {
        "dockerfile:exposed_ports:2375/tcp",
        "dockerfile:instruction:RUN curl https://x | sh",
        "dockerfile:base_tag:example.com/app:latest",
        "dockerfile:env_secrets:env:DB_PASSWORD",
        "dockerfile:env_secrets:label:api_token",
        "dockerfile:required_labels:owner",
    }
    assert all("hunter2" not in i.message for i in ev.items)


def test_a_long_build_step_is_cut_with_an_ellipsis_and_kept_whole_in_the_data(tmp_path):
    analysis = image(tmp_path, [[f("a")]])
    step = "RUN curl https://x | sh && " + "echo padding " * 20
    analysis.image = {**analysis.image.to_dict(),
                      "history": [{"created_by": step, "layer_index": 0}]}  # fmt: skip
    ev = evaluate(analysis, bundle_with(
        {"gate": "dockerfile", "trigger": "instruction", "params": {"regex": "curl"}},
    ), tag="example.com/app:1", now=TODAY)  # fmt: skip
    (item,) = ev.items
    assert item.message.endswith("…") and step[:119] in item.message
    assert step not in item.message


def test_packages_and_passwd_and_metadata_gates(tmp_path):
    status = ("Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\nArchitecture: amd64\n\n"
              "Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1\nArchitecture: amd64\n"
              "Source: openssl\n\n")  # fmt: skip
    passwd = "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/false\n"
    layers = [[d("etc"), f("etc/os-release", "ID=debian\nVERSION_ID=9\nPRETTY_NAME=\"Debian 9\"\n"),
               f("var/lib/dpkg/status", status), f("etc/passwd", passwd),
               f("etc/group", "root:x:0:\nwheel:x:10:toor\n"),
               f("usr/lib/python3/dist-packages/evil-1.0.dist-info/METADATA",
                 "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nLicense: AGPL-3.0-only\n")]]  # fmt: skip
    base = image(tmp_path, [layers[0][:3]], name="base")
    analysis = image(tmp_path, layers)
    ev = evaluate(analysis, bundle_with(
        {"gate": "packages", "trigger": "required_package", "params": {"name": "ca-certificates"}},
        {"gate": "packages", "trigger": "required_package", "params": {"name": "curl", "version": "8.0", "version_match": "minimum"}},
        {"gate": "packages", "trigger": "denied_package", "params": {"name": "libssl*", "version_less_than": "3.0.13-1"}},
        {"gate": "packages", "trigger": "denied_license", "params": {"licenses": ["agpl"], "match": "substring"}},
        {"gate": "packages", "trigger": "changed_versus_base", "params": {"changes": ["added"]}},
        {"gate": "packages", "trigger": "allowed_types", "params": {"types": ["deb"]}},
        {"gate": "passwd_file", "trigger": "denied_users", "params": {"usernames": ["toor"], "uids": [1000]}},
        {"gate": "passwd_file", "trigger": "denied_groups", "params": {"names": ["wheel"]}},
        {"gate": "metadata", "trigger": "layer_count", "params": {"max": 0}},
        {"gate": "metadata", "trigger": "image_size", "params": {"max_bytes": 10}},
        {"gate": "metadata", "trigger": "architecture", "params": {"allowed": ["arm64"]}},
        {"gate": "metadata", "trigger": "distro", "params": {"end_of_life": ["debian:9=2022-06-30"]}},
        {"gate": "always", "trigger": "always"},
    ), base=base, now=TODAY)  # fmt: skip
    ids = {i.trigger_id for i in ev.items}
    assert {
        "packages:required_package:missing:ca-certificates",
        "packages:required_package:version:curl",
        "packages:denied_package:deb:libssl3:3.0.11-1",
        "packages:denied_license:python:evil:AGPL-3.0-only",
        "packages:changed_versus_base:added:python:evil",
        "packages:allowed_types:python:evil",
        "passwd_file:denied_users:passwd:toor",
        "passwd_file:denied_users:passwd:app",
        "passwd_file:denied_groups:group:wheel",
        "metadata:layer_count:layers",
        "metadata:image_size:size",
        "metadata:architecture:arch:amd64",
        "metadata:distro:eol:debian:9",
        "always:always:always",
    } == ids
    lic = next(i for i in ev.items if i.gate == "packages" and i.trigger == "denied_license")
    assert lic.evidence["package"] == "pkg:pypi/evil@1.0" and lic.evidence["layer_index"] == 0


def test_files_secrets_and_vulnerability_gates(tmp_path):
    from anchore.vulns import Store, load

    analysis = image(tmp_path, [[d("tmp", mode=0o1777), f("srv/open.txt", "x", mode=0o666),
                                 f("srv/.env", "API_PASSWORD=supersecret1\n"),
                                 f("usr/lib/python3/dist-packages/jinja2-2.11.2.dist-info/METADATA",
                                   "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\n")]])  # fmt: skip
    store = Store(tmp_path / "db.sqlite", create=True)
    load(store, PYPA / "jinja2")
    ev = evaluate(analysis, bundle_with(
        {"gate": "files", "trigger": "name_match", "params": {"regex": "\\.env$"}},
        {"gate": "files", "trigger": "world_writable"},
        {"gate": "secrets", "trigger": "content_regex_checks", "params": {"rules": ["generic-password"]}},
        {"gate": "vulnerabilities", "trigger": "package", "params": {"severity": "unknown", "fix_available": True}},
        {"gate": "vulnerabilities", "trigger": "package", "params": {"older_than_days": 100000}},
        {"gate": "vulnerabilities", "trigger": "stale_feed_data", "params": {"max_days": 0}},
    ), store=store, now=datetime.date.today() + datetime.timedelta(days=3))  # fmt: skip
    ids = {i.trigger_id for i in ev.items}
    assert "files:name_match:/srv/.env" in ids and "files:world_writable:/srv/open.txt" in ids
    assert not any(
        i.evidence.get("path") == "/tmp" for i in ev.items
    )  # sticky directories are fine
    assert any(i.gate == "secrets" and i.evidence["path"] == "/srv/.env" for i in ev.items)
    vulns = [i for i in ev.items if i.gate == "vulnerabilities" and i.trigger == "package"]
    assert {i.evidence["advisory"] for i in vulns} == {"PYSEC-2021-66"}
    assert len(vulns) == 1  # the 100000-day age filter excludes it the second time
    assert "vulnerabilities:stale_feed_data:stale" in ids


def test_cli_exit_code_follows_the_decision(tmp_path, capsys):
    from anchore.cli import main

    example = ROOT / "examples" / "busybox" / "busybox.oci.tar"
    go = tmp_path / "go.json"
    go.write_text(json.dumps({"id": "g", "policies": [{"id": "p", "rules": [
        {"gate": "metadata", "trigger": "layer_count", "action": "STOP", "params": {"max": 10}}]}],
        "mappings": [{"policy_ids": ["p"]}]}))  # fmt: skip
    assert main(["evaluate", str(example), "--bundle", str(go)]) == 0
    warn = tmp_path / "warn.json"
    warn.write_text(json.dumps({"id": "w", "policies": [{"id": "p", "rules": [
        {"gate": "dockerfile", "trigger": "no_healthcheck", "action": "WARN"}]}],
        "mappings": [{"policy_ids": ["p"]}]}))  # fmt: skip
    assert main(["evaluate", str(example), "--bundle", str(warn)]) == 2
    capsys.readouterr()
    assert main(["evaluate", str(example), "--bundle", str(EXAMPLE), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["final_action"] == "STOP" and out["mapping"] == "everything else"
    missing = str(tmp_path / "missing.json")
    assert main(["evaluate", str(example), "--bundle", missing]) == ExitCode.INPUT_ERROR
