"""Bundles reject what they do not understand; gates never pass silently.

Issue 8, defects 1 and 11 and their classes: an exact version meets a minimum
(real dpkg and PEP 440 versions at the boundary); a version that cannot be
compared never passes a requirement; every object of a bundle, walked through
the generated JSON Schema, rejects a misspelled key naming the place and the
key meant; unreadable bundle files are BundleErrors naming the file.
"""

from __future__ import annotations

import copy
import datetime
import errno
import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

import anchore
from anchore.analysis.model import Package
from anchore.errors import AnchoreError
from anchore.policy import BundleError, evaluate, load_bundle, parse_bundle
from anchore.policy.bundle import SHAPES, BundleNotFoundError
from anchore.policy.gate import Param
from anchore.policy.gates import BUILTIN_GATES, PACKAGE_TYPES
from anchore.policy.schema import bundle_schema
from imagebuilder import build, d, f, oci_archive
from testdata import PYPA

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "policy" / "bundle.json"
SCHEMA = ROOT / "docs" / "policy-schema.json"
TODAY = datetime.date(2026, 11, 23)
SOURCE = "strict.json"

# ------------------------------------------------------------------ helpers

STATUS = (
    "Package: login\nStatus: install ok installed\nVersion: 1:4.13+dfsg1-1+b1\nArchitecture: amd64\n\n"
    "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10+deb12u5\nArchitecture: amd64\n\n"
)


def _dist_info(name: str, version: str) -> Any:
    return f(
        f"usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA",
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    )


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    """A Debian image: deb packages with and without an epoch, PyPI packages, no USER."""
    layers = [[d("etc"), f("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
               f("var/lib/dpkg/status", STATUS), _dist_info("requests", "2.31.0"),
               _dist_info("PyYAML", "6.0.1")]]  # fmt: skip
    path = oci_archive(tmp_path_factory.mktemp("img") / "img.tar", build(layers))
    return anchore.analyze(anchore.open_image(path))


def one_rule(gate: str, trigger: str, params: dict[str, Any] | None = None, **extra: Any):
    rule = {"id": "r", "gate": gate, "trigger": trigger, "action": "STOP"}
    if params is not None:
        rule["params"] = params
    doc = {"id": "b", "policies": [{"id": "p", "rules": [rule]}],
           "mappings": [{"policy_ids": ["p"]}], **extra}  # fmt: skip
    return parse_bundle(doc, SOURCE)


def hits(analysis, gate, trigger, params=None, **kw):
    """The triggered items of one rule (no vulnerability matching unless asked)."""
    kw.setdefault("matches", [])
    return evaluate(analysis, one_rule(gate, trigger, params), now=TODAY, **kw).items


def with_packages(analysis, *packages: Package):
    return attrs.evolve(analysis, packages=[*analysis.packages, *packages])


# ------------------------------------------------------------------ defect 1: versions at the boundary


@pytest.mark.parametrize(
    ("name", "version", "how", "fires"),
    [
        # dpkg, with an epoch: 1:4.13+dfsg1-1+b1 is installed
        ("login", "1:4.13+dfsg1-1+b1", "minimum", False),  # equal: the defect fired here
        ("login", "1:4.13+dfsg1-1", "minimum", False),  # below
        ("login", "1:4.13+dfsg1-1+b2", "minimum", True),  # above
        ("login", "4.99", "minimum", False),  # epoch 1 beats any epoch-0 version
        ("login", "2:0.1", "minimum", True),
        ("login", "1:4.13+dfsg1-1+b1", "exact", False),
        ("login", "4.13+dfsg1-1+b1", "exact", True),  # not the same: the epoch differs
        ("login", "1:4.13+dfsg1-1", "exact", True),
        # dpkg, no epoch: 0: is implied
        ("curl", "0:7.88.1-10+deb12u5", "exact", False),
        ("curl", "7.88.1-10+deb12u5", "minimum", False),
        ("curl", "7.88.1-10+deb12u4", "minimum", False),
        ("curl", "7.88.1-10+deb12u6", "minimum", True),
        ("curl", "7.88.1-10+deb12u6", "exact", True),
        # PEP 440: 2.31.0 is installed
        ("requests", "2.31", "minimum", False),  # 2.31 == 2.31.0
        ("requests", "2.31.0", "minimum", False),
        ("requests", "2.31.0rc1", "minimum", False),  # a pre-release is below
        ("requests", "2.31.0.post1", "minimum", True),  # a post-release is above
        ("requests", "2.31.1", "minimum", True),
        ("requests", "2.31", "exact", False),
        ("requests", "2.31.0.post1", "exact", True),
        ("pyyaml", "6.0.1", "minimum", False),  # PyPI names compare as PEP 503 says
        ("py_yaml", "6.0.1", "exact", True),  # ...but this is another name: missing
    ],
)
def test_required_package_versions_at_the_boundary(analysis, name, version, how, fires):
    items = hits(analysis, "packages", "required_package",
                 {"name": name, "version": version, "version_match": how})  # fmt: skip
    assert bool(items) == fires, [i.message for i in items]
    if fires and name != "py_yaml":
        (item,) = items
        assert item.trigger_id == f"packages:required_package:version:{name}"
        assert f"not {how} {version}" in item.message


@pytest.mark.parametrize(
    ("name", "below", "fires"),
    [
        ("login", "1:4.13+dfsg1-1+b1", False),  # equal is not below
        ("login", "1:4.13+dfsg1-1+b2", True),
        ("login", "4.99", False),  # the epoch again
        ("curl", "7.88.1-10+deb12u5", False),
        ("curl", "7.88.1-10+deb12u6", True),
        ("requests", "2.31", False),
        ("requests", "2.31.0.post1", True),
        ("Requests", "2.31.1", True),
    ],
)
def test_denied_package_below_a_version_at_the_boundary(analysis, name, below, fires):
    items = hits(analysis, "packages", "denied_package", {"name": name, "version_less_than": below})
    assert bool(items) == fires, [i.message for i in items]


def test_denied_package_exact_version_uses_the_ecosystem_order(analysis):
    assert hits(analysis, "packages", "denied_package", {"name": "requests", "version": "2.31"})
    assert hits(
        analysis, "packages", "denied_package", {"name": "curl", "version": "0:7.88.1-10+deb12u5"}
    )
    assert not hits(
        analysis, "packages", "denied_package", {"name": "curl", "version": "7.88.1-10"}
    )


def test_versions_that_cannot_be_compared_never_pass(analysis):
    """Fail closed: an unparsable or unordered version does not meet a minimum and is
    not cleared of a 'below' denial; the message says why."""
    odd = Package(type="deb", name="odd", version="not-a-version", purl="pkg:deb/debian/odd")
    net = Package(type="dotnet", name="Newtonsoft.Json", version="13.0.1",
                  purl="pkg:nuget/Newtonsoft.Json@13.0.1")  # fmt: skip
    a = with_packages(analysis, odd, net)
    (item,) = hits(a, "packages", "required_package",
                   {"name": "odd", "version": "1.0", "version_match": "minimum"})  # fmt: skip
    assert "cannot compare not-a-version" in item.message and "upstream version" in item.message
    (item,) = hits(a, "packages", "required_package",
                   {"name": "Newtonsoft.Json", "version": "13.0.1", "version_match": "minimum"})  # fmt: skip
    assert "no version order for dotnet packages" in item.message
    (item,) = hits(a, "packages", "denied_package", {"name": "odd", "version_less_than": "1.0"})
    assert "cannot tell whether it is below 1.0" in item.message
    assert item.trigger_id == "packages:denied_package:deb:odd:not-a-version"
    # the same string is the same version, parsable or not
    assert not hits(a, "packages", "required_package", {"name": "odd", "version": "not-a-version"})
    # a requirement that is not PEP 440 ('latest' would sort below every release) never passes
    (item,) = hits(a, "packages", "required_package",
                   {"name": "requests", "version": "latest", "version_match": "minimum"})  # fmt: skip
    assert "not a PEP 440 version" in item.message


# ------------------------------------------------------------------ the class: no silent defaults in gates


def test_root_is_root_by_name_or_number(tmp_path, analysis):
    assert hits(analysis, "dockerfile", "effective_user", {"users": ["0"]})  # no USER: root
    built = build([[f("a")]], config={"config": {"User": "0:0"}})
    by_uid = anchore.analyze(anchore.open_image(oci_archive(tmp_path / "u.tar", built)))
    (item,) = hits(by_uid, "dockerfile", "effective_user", {"users": ["root"]})
    assert item.trigger_id == "dockerfile:effective_user:0"
    assert not hits(by_uid, "dockerfile", "effective_user", {"users": ["nobody"]})


def test_advisories_with_no_publication_date_are_not_assumed_young(analysis):
    from anchore.vulns.match import Match

    match = Match("GHSA-xxxx-yyyy-zzzz", (), "requests", "python", "pkg:pypi/requests@2.31.0",
                  "2.31.0", "PyPI", {}, "2.32.0", (), "", ())  # fmt: skip
    (item,) = hits(analysis, "vulnerabilities", "package",
                   {"severity": "unknown", "older_than_days": 30}, matches=[match])  # fmt: skip
    assert item.evidence["advisory"] == "GHSA-xxxx-yyyy-zzzz"


def test_image_size_unknown_is_not_small(analysis):
    image = analysis.image.to_dict()  # its JSON, read back by Analysis
    del image["layers"][0]["uncompressed_size"]
    (item,) = hits(
        attrs.evolve(analysis, image=image), "metadata", "image_size", {"max_bytes": 10**12}
    )
    assert "size is unknown" in item.message
    assert not hits(analysis, "metadata", "image_size", {"max_bytes": 10**12})
    assert hits(analysis, "metadata", "image_size", {"max_bytes": 0})  # 0 is a limit, not "unset"


def test_os_packages_of_a_distro_without_data_are_reported(tmp_path):
    from anchore.vulns import Store, load

    status = "Package: bash\nStatus: install ok installed\nVersion: 5.1-6ubuntu1\nArchitecture: amd64\n\n"
    layers = [[d("etc"), f("etc/os-release", "ID=ubuntu\nVERSION_ID=22.04\n"),
               f("var/lib/dpkg/status", status)]]  # fmt: skip
    ubuntu = anchore.analyze(anchore.open_image(oci_archive(tmp_path / "u.tar", build(layers))))
    store = Store(tmp_path / "db.sqlite", create=True)
    load(store, PYPA / "jinja2")
    (item,) = hits(ubuntu, "vulnerabilities", "vulnerability_data_unavailable", store=store)
    assert item.trigger_id == "vulnerabilities:vulnerability_data_unavailable:ubuntu:22.04"
    assert item.message.startswith("1 deb package could not be checked: ")
    assert "matched on Debian only, not ubuntu" in item.message
    assert item.evidence["unchecked"] == 1 and item.evidence["group"] == "ubuntu:22.04"
    store.close()


#: valid values for parameters whose shape a generic sample would miss
SAMPLES = {
    "ports": ["22"],
    "end_of_life": ["debian:9=2022-06-30"],
    "regex": "x",
    "value_regex": "x",
}


def sample(p: Param) -> Any:
    if p.name in SAMPLES:
        return SAMPLES[p.name]
    value = {"string": "x", "regex": "x", "integer": 1, "number": 1.5, "boolean": True,
             "strings": ["x"], "integers": [1]}[p.type]  # fmt: skip
    if p.choices:
        value = [p.choices[0]] if isinstance(value, list) else p.choices[0]
    return value


EMPTIABLE = [
    (gate.name, trigger.name, p)
    for gate in BUILTIN_GATES
    for trigger in gate.triggers
    for p in trigger.params
    if p.type in ("string", "regex", "strings", "integers") and not p.empty_ok
]


@pytest.mark.parametrize(
    ("gate", "trigger", "param"), EMPTIABLE, ids=[f"{g}.{t}.{p.name}" for g, t, p in EMPTIABLE]
)
def test_empty_parameters_are_refused(gate, trigger, param):
    """An empty string or list would make a rule check nothing (or everything) unseen."""
    spec = next(t for g in BUILTIN_GATES if g.name == gate for t in g.triggers if t.name == trigger)
    params = {p.name: sample(p) for p in spec.params if p.required}
    one_rule(gate, trigger, {**params, param.name: sample(param)})  # the sample is valid
    empty = [] if param.type in ("strings", "integers") else ""
    with pytest.raises(BundleError) as err:
        one_rule(gate, trigger, {**params, param.name: empty})
    assert str(err.value).startswith(f"{SOURCE}: policies[0].rules[0].params.{param.name}: ")
    assert "must not be empty" in str(err.value)


def test_package_types_are_those_the_analyzers_report():
    """package_types is checked against PACKAGE_TYPES: it must follow the analyzers."""
    sources = (ROOT / "src" / "anchore" / "analyzers").glob("*.py")
    reported = {
        t for path in sources for t in re.findall(r'\btype="([a-z0-9-]+)"', path.read_text())
    }
    assert reported == set(PACKAGE_TYPES)
    with pytest.raises(BundleError, match=r"'debb' is not one of .* \(did you mean 'deb'\?\)"):
        one_rule("packages", "allowed_types", {"types": ["debb"]})


@pytest.mark.corpus
def test_corpus_package_types_are_known(corpus):
    for name in ("debian-min", "debian-py"):
        with anchore.open_image(corpus / f"{name}.oci.tar") as image:
            types = {p.type for p in anchore.analyze(image).packages}
        assert types <= set(PACKAGE_TYPES), name


# ------------------------------------------------------------------ defect 11: strict bundles


def test_the_reported_typos():
    doc = json.loads(EXAMPLE.read_text())
    cases = [
        (lambda b: b["policies"][0].__setitem__("rulez", b["policies"][0].pop("rules")),
         "policies[0]: unknown key 'rulez' (did you mean 'rules'?); valid keys: id, name, comment, rules"),
        (lambda b: b.__setitem__("denied_image", [{"repository": "library/debian"}]),
         "top level: unknown key 'denied_image' (did you mean 'denied_images'?)"),
        (lambda b: b["policies"][0]["rules"][2].__setitem__("acton", b["policies"][0]["rules"][2].pop("action")),
         "policies[0].rules[2]: unknown key 'acton' (did you mean 'action'?)"),
        (lambda b: b["policies"][0]["rules"][2].pop("action"),
         "policies[0].rules[2]: missing 'action' (required: gate, trigger, action)"),
        (lambda b: b["policies"][0]["rules"][2].__setitem__("gate", "dockerfle"),
         "unknown gate 'dockerfle' (did you mean 'dockerfile'?); gates: always, config_files"),
        (lambda b: b["policies"][0]["rules"][2].__setitem__("trigger", "no_healthchek"),
         "gate dockerfile has no trigger 'no_healthchek' (did you mean 'no_healthcheck'?)"),
        (lambda b: b["policies"][0]["rules"][1]["params"].__setitem__("typ", "allowlist"),
         "policies[0].rules[1].params.typ: dockerfile.exposed_ports has no parameter 'typ' (did you mean 'type'?)"),
        (lambda b: b["policies"][0]["rules"][0].__setitem__("action", "STPO"),
         "action 'STPO' is not one of STOP, WARN, GO (did you mean 'STOP'?)"),
        (lambda b: b["mappings"][0]["policy_ids"].append("hygeine"),
         "mappings[0]: unknown policy 'hygeine' (did you mean 'hygiene'?)"),
        (lambda b: b.__setitem__("whitelists", b.pop("allowlists")),
         "top level: unknown key 'whitelists' (Anchore's older name; use 'allowlists')"),
        (lambda b: b["allowlists"][0]["items"][0].__setitem__("trigger_id", "vulnerabilities:pakage:*"),
         "gate vulnerabilities has no trigger 'pakage' (did you mean 'package'?)"),
        (lambda b: b["allowlists"][0]["items"][0].__setitem__("trigger_id", "files:*"),
         "trigger_id 'files:*' starts with 'files', but the item's gate is 'vulnerabilities'"),
        (lambda b: b["denied_images"].append({"name": "nothing to match on"}),
         "denied_images[0]: an entry needs 'registry', 'repository' or 'image'"),
        (lambda b: b["allowed_images"].append({"image": {"type": "digest", "value": "abc"}}),
         "allowed_images[0].image: value 'abc' is not a digest"),
        (lambda b: b["policies"][2].__setitem__("rules", []),
         "policies[2]: a policy needs at least one rule"),
        (lambda b: b["policies"].append(copy.deepcopy(b["policies"][0])),
         "policies[3]: duplicate policy id 'hygiene' (also policies[0])"),
    ]  # fmt: skip
    for change, message in cases:
        bad = copy.deepcopy(doc)
        change(bad)
        with pytest.raises(BundleError) as err:
            parse_bundle(bad, "bundle.json")
        assert str(err.value).startswith("bundle.json: "), err.value
        assert message in str(err.value), err.value
    parse_bundle(doc, "bundle.json")  # the unchanged example is fine


def full_bundle() -> dict[str, Any]:
    """The example, plus every object kind the schema has: a rule for every trigger of
    every gate (params as an object, and once as Anchore's list), image-list entries."""
    doc = json.loads(EXAMPLE.read_text())
    rules = []
    for gate in BUILTIN_GATES:
        for trigger in gate.triggers:
            rule: dict[str, Any] = {"id": f"{gate.name}.{trigger.name}", "gate": gate.name,
                                    "trigger": trigger.name, "action": "WARN", "comment": "c"}  # fmt: skip
            rule["params"] = {p.name: sample(p) for p in trigger.params}
            rules.append(rule)
            if trigger.params:  # and as Anchore's list of {name, value}
                listed = [{"name": p.name, "value": sample(p)} for p in trigger.params]
                rules.append({**rule, "id": f"{rule['id']}.listed", "params": listed})
    doc["policies"].append({"id": "every-trigger", "name": "n", "comment": "c", "rules": rules})
    doc["mappings"][0]["policy_ids"].append("every-trigger")
    entry = {"name": "n", "comment": "c", "registry": "r", "repository": "x/*",
             "image": {"type": "tag", "value": "v*"}}  # fmt: skip
    doc["allowed_images"] = [entry]
    doc["denied_images"] = [{**entry, "image": {"type": "digest", "value": "sha256:" + "0" * 64}}]
    doc["comment"] = "c"
    return doc


def object_schemas(schema: Any) -> list[dict[str, Any]]:
    """Every object schema anywhere in ``schema``."""
    found = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found += object_schemas(value)
    elif isinstance(schema, list):
        for value in schema:
            found += object_schemas(value)
    return found


def _branch(options: list[dict[str, Any]], value: Any) -> dict[str, Any]:
    """The oneOf branch an instance takes: by JSON type, then by gate/trigger consts."""
    kind = "array" if isinstance(value, list) else "object"
    typed = [o for o in options if o.get("type") == kind]
    if len(typed) == 1:
        return typed[0]
    (chosen,) = [o for o in typed if all(
        value.get(k) == o["properties"][k]["const"] for k in ("gate", "trigger"))]  # fmt: skip
    return chosen


def walk(value: Any, schema: dict[str, Any], where: str, path: tuple[Any, ...]):
    """(place as messages name it, path into the document, object, its schema) for
    every object in ``value``, following ``schema`` down."""
    if "oneOf" in schema:
        schema = _branch(schema["oneOf"], value)
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, schema["items"], f"{where}[{i}]", (*path, i))
    elif isinstance(value, dict):
        yield where, path, value, schema
        for key, item in value.items():
            sub = schema["properties"][key]
            if isinstance(item, dict | list) and sub:
                inner = f"{where}.{key}" if where else key
                yield from walk(item, sub, inner, (*path, key))


def typo(key: str) -> str:
    return key + key[-1]


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def test_every_object_in_the_schema_is_strict():
    schema = json.loads(SCHEMA.read_text())
    objects = object_schemas(schema)
    assert objects and all(o.get("additionalProperties") is False for o in objects)
    assert schema == json.loads(json.dumps(bundle_schema()))  # the committed file is current


def test_every_object_rejects_a_misspelled_key_naming_the_place_and_the_key():
    """The class test: walk the full bundle along the committed JSON Schema and, in
    every object, misspell every key; each is an error naming the place and the key
    meant. Every object schema must be reached, so a new section cannot be forgotten."""
    schema = json.loads(SCHEMA.read_text())
    doc = full_bundle()
    parse_bundle(doc, SOURCE)
    visited: set[int] = set()
    checked = 0
    for where, path, _obj, sub in walk(doc, schema, "", ()):
        visited.add(id(sub))
        place = where or "top level"
        keys = list(sub["properties"]) or ["anything"]
        for key in keys:
            bad = copy.deepcopy(doc)
            at(bad, path)[typo(key)] = at(bad, path).get(key, 1)
            with pytest.raises(BundleError) as err:
                parse_bundle(bad, SOURCE)
            message = str(err.value)
            assert message.startswith(f"{SOURCE}: {place}"), message
            assert repr(typo(key)) in message, message
            if sub["properties"]:
                assert f"(did you mean {key!r}?)" in message, message
            assert err.value.source == SOURCE and err.value.member.startswith(place)
            checked += 1
        for key in sub.get("required", []):
            bad = copy.deepcopy(doc)
            del at(bad, path)[key]
            with pytest.raises(BundleError) as err:
                parse_bundle(bad, SOURCE)
            assert str(err.value).startswith(f"{SOURCE}: {place}: ")
            assert f"missing {key!r}" in str(err.value) or f"needs parameter {key!r}" in str(
                err.value
            )
    unreached = [o for o in object_schemas(schema) if id(o) not in visited]
    assert not unreached, (
        f"extend full_bundle() to reach: {[sorted(o['properties']) for o in unreached]}"
    )
    assert checked > 100


def test_parser_and_schema_share_the_shapes():
    schema = bundle_schema()
    policy = schema["properties"]["policies"]["items"]
    assert list(policy["properties"]) == list(SHAPES["policy"].keys)
    assert policy["required"] == list(SHAPES["policy"].required)
    assert set(schema["properties"]) == set(SHAPES["bundle"].keys)


@pytest.mark.parametrize("value", [None, [], "text", 3, [{"policies": []}]])
def test_a_bundle_that_is_not_an_object(value):
    with pytest.raises(
        BundleError, match=rf"^{SOURCE}: top level: must be an object \(the bundle\)"
    ):
        parse_bundle(value, SOURCE)


def test_an_empty_object_is_missing_what_a_bundle_needs():
    with pytest.raises(BundleError, match=rf"^{SOURCE}: top level: missing 'policies'"):
        parse_bundle({}, SOURCE)


def test_null_means_absent_for_optional_keys_only():
    ok = {"gate": "always", "trigger": "always", "action": "GO", "params": None, "id": None}
    bundle = parse_bundle({"policies": [{"id": "p", "rules": [ok], "name": None}],
                           "mappings": [{"policy_ids": ["p"], "allowlist_ids": None}]}, SOURCE)  # fmt: skip
    assert bundle.policies[0].rules[0].id == "policies[0].rules[0]" and bundle.id == SOURCE
    with pytest.raises(BundleError, match="missing 'gate'"):
        parse_bundle({"policies": [{"id": "p", "rules": [{**ok, "gate": None}]}],
                      "mappings": [{"policy_ids": ["p"]}]}, SOURCE)  # fmt: skip


# ------------------------------------------------------------------ bundle files


def test_bundle_errors_are_anchore_errors_and_value_errors():
    assert issubclass(BundleError, AnchoreError) and issubclass(BundleError, ValueError)
    assert issubclass(BundleNotFoundError, BundleError)
    assert issubclass(BundleNotFoundError, FileNotFoundError)


def test_a_missing_bundle_file(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(BundleNotFoundError) as err:
        load_bundle(missing)
    assert str(err.value).startswith(f"{missing}: no such policy bundle (give the path of")
    assert err.value.errno == errno.ENOENT and err.value.filename == str(missing)
    with pytest.raises(FileNotFoundError):  # what code written before it catches
        load_bundle(missing)
    with pytest.raises(
        BundleError, match=rf"^{re.escape(str(tmp_path))}: is a directory, not a policy bundle"
    ):
        load_bundle(tmp_path)  # a directory


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", b"", "the policy bundle is empty"),
        ("blank.yaml", b"  \n\n", "the policy bundle is empty"),
        ("list.json", b"[]", "top level: must be an object (the bundle), not list"),
        ("null.json", b"null", "the policy bundle holds nothing (a null document)"),
        ("list.yaml", b"- policies: []\n", "top level: must be an object (the bundle), not list"),
        ("comment.yaml", b"# nothing but a comment\n", "the policy bundle holds nothing (a null document)"),
        ("scalar.yml", b"just words\n", "top level: must be an object (the bundle), not str"),
        ("bad.json", b"{not json", "not valid JSON: Expecting property name"),
        ("bad.yaml", b"a: [1, 2\n", "not valid YAML"),
        ("latin1.json", b'{"id": "caf\xe9"}', "not UTF-8 text"),
        ("dup.json", b'{"policies": [], "policies": [], "mappings": []}',
         "duplicate key 'policies' (in the object with keys policies, mappings): the first would be silently replaced"),
        ("dup.yaml", b"policies: []\nmappings: []\npolicies: []\n", "duplicate key 'policies' (line 3)"),
        ("deep.yaml", b"mappings:\n- policy_ids: [p]\n  policy_ids: [q]\n", "duplicate key 'policy_ids' (line 3)"),
        ("deep.json", b"[" * 100000 + b"]" * 100000, "nested deeper than 64 levels"),
    ],
)  # fmt: skip
def test_unusable_bundle_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BundleError) as err:
        load_bundle(path)
    assert str(err.value).startswith(f"{path}: "), err.value
    assert message in str(err.value), err.value
    assert err.value.source == str(path)


def test_a_bom_and_yaml_dates_are_fine(tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert load_bundle(path).id == "example-hygiene"
    yaml_path = tmp_path / "b.yaml"
    yaml_path.write_text(
        "policies:\n- id: p\n  rules:\n  - {gate: always, trigger: always, action: warn}\n"
        "allowlists:\n- id: a\n  items:\n  - {gate: always, trigger_id: 'always:*', reason: r,"
        " expires_on: 2027-06-30}\nmappings:\n- {policy_ids: [p], allowlist_ids: [a]}\n"
    )
    bundle = load_bundle(yaml_path)
    assert bundle.allowlists[0].items[0].expires_on == datetime.date(2027, 6, 30)
    assert bundle.policies[0].rules[0].action == "WARN"


def test_the_error_shown_in_the_docs_is_the_one_given():
    doc = json.loads(EXAMPLE.read_text())
    doc["policies"][0]["rulez"] = doc["policies"][0].pop("rules")
    with pytest.raises(BundleError) as err:
        parse_bundle(doc, "examples/policy/bundle.json")
    assert f"anchore: error: {err.value}" in (ROOT / "docs" / "policy.md").read_text()
