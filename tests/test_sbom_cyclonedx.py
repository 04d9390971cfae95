"""CycloneDX out and in: debian-py's SBOM in JSON and XML, 1.6 and 1.5, validated
strictly by cyclonedx-python-lib's own schema validators; what the BOM carries (image
metadata, purls, layer properties, ownership); malformed and hostile input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anchore
import anchore.sbom
from anchore.analysis.model import Analysis, Location, Package, Relationship
from anchore.sbom import SbomFormatError

FORMATS = {
    "cyclonedx-json": SchemaVersion.V1_6,
    "cyclonedx-json@1.5": SchemaVersion.V1_5,
    "cyclonedx-xml": SchemaVersion.V1_6,
    "cyclonedx-xml@1.5": SchemaVersion.V1_5,
}


@pytest.fixture(scope="module")
def debian_py(corpus: Path) -> Analysis:
    with anchore.open_image(corpus / "debian-py.oci.tar") as image:
        return anchore.analyze(image)


def _validate(name: str, text: str) -> None:
    version = FORMATS[name]
    validator = JsonStrictValidator(version) if "json" in name else XmlValidator(version)
    error = validator.validate_str(text)
    assert error is None, f"{name}: {error}"


def _json_view(name: str, data: bytes) -> dict:
    """The BOM as JSON data, for the XML too (re-read by our own XML reader's shape)."""
    if "json" in name:
        return json.loads(data)
    from anchore.sbom.cyclonedx_read import xml_to_json_shape

    return xml_to_json_shape("bom.xml", data)


def _props(component: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in component.get("properties", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


@pytest.mark.corpus
@pytest.mark.parametrize("name", list(FORMATS))
def test_debian_py_is_valid_and_carries_image_packages_and_layers(debian_py, name):
    data = anchore.sbom.dumps(debian_py, name)
    _validate(name, data.decode())
    doc = _json_view(name, data)
    meta = doc["metadata"]
    image = meta["component"]
    assert image["type"] == "container"
    info = debian_py.image
    assert image["version"] == info.manifest_digest
    props = _props(image)
    assert props["anchore:image:manifest_digest"] == [info.manifest_digest]
    assert props["anchore:image:config_digest"] == [info.config_digest]
    assert props["anchore:image:tag"] == list(info.tags)
    assert props["anchore:image:platform"] == ["linux/amd64"]
    tools = meta["tools"]["components"]
    assert [t["name"] for t in tools] == ["anchore"]
    assert tools[0]["version"] == anchore.__version__

    components = doc["components"]
    libraries = [c for c in components if c["type"] == "library"]
    oses = [c for c in components if c["type"] == "operating-system"]
    assert [(c["name"], c["version"]) for c in oses] == [("debian", "12")]
    assert sorted(c["purl"] for c in libraries) == sorted(p.purl for p in debian_py.packages)
    refs = [c["bom-ref"] for c in components]
    assert len(refs) == len(set(refs))
    by_purl = {c["purl"]: c for c in libraries}
    for pkg in debian_py.packages:
        props = _props(by_purl[pkg.purl])
        assert props["anchore:package:type"] == [pkg.type]
        for i, loc in enumerate(pkg.locations):
            assert props[f"anchore:location:{i}:path"] == [loc.path]
            assert props[f"anchore:location:{i}:layer_index"] == [str(loc.layer_index)]
            assert props[f"anchore:location:{i}:layer_digest"] == [loc.layer_digest]
    # the analysis's layer digests are the image's own layers
    digests = {layer.digest for layer in info.layers or ()}
    assert {loc.layer_digest for p in debian_py.packages for loc in p.locations} <= digests


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["cyclonedx-json", "cyclonedx-xml"])
def test_ownership_of_language_packages_is_in_the_dependencies(debian_py, name):
    # python3-pip's own dist-info ships in the deb: the analysis says so, the BOM too
    owned = [r for r in debian_py.relationships if r.child.startswith("pkg:pypi/")]
    assert owned, "debian-py's pip comes from python3-pip: the analysis should know"
    doc = _json_view(name, anchore.sbom.dumps(debian_py, name))
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    for rel in owned:
        assert rel.child in depends[rel.parent]
        child = next(c for c in doc["components"] if c.get("purl") == rel.child)
        assert rel.parent in _props(child)["anchore:package:owned_by"]


def _pkg(**kw) -> Package:
    base = dict(type="python", name="requests", version="2.31.0", purl="pkg:pypi/requests@2.31.0",
                locations=[Location("/usr/lib/python3/dist-packages/requests/METADATA", 1,
                                    "sha256:" + "1" * 64)])  # fmt: skip
    base.update(kw)
    return Package(**base)


def _analysis(packages: list[Package], **kw) -> Analysis:
    return Analysis(image={}, distro=None, packages=packages, findings=[], files=[], errors=[],
                    **kw)  # fmt: skip


@pytest.mark.parametrize("name", list(FORMATS))
def test_licenses_ids_expressions_and_names(tmp_path, name):
    packages = [
        _pkg(licenses=["MIT"]),
        _pkg(name="a", purl="pkg:pypi/a@1", licenses=["Apache-2.0 OR MIT"]),
        _pkg(name="b", purl="pkg:pypi/b@1", licenses=["GPL-2.0-only", "Custom licence"]),
    ]
    data = anchore.sbom.dumps(_analysis(packages), name)
    _validate(name, data.decode())
    doc = _json_view(name, data)
    lic = {c["name"]: c["licenses"] for c in doc["components"]}
    assert lic["requests"] == [{"license": {"id": "MIT"}}]
    assert lic["a"] == [{"expression": "Apache-2.0 OR MIT"}]
    assert {json.dumps(x, sort_keys=True) for x in lic["b"]} == {
        json.dumps({"license": {"id": "GPL-2.0-only"}}),
        json.dumps({"license": {"name": "Custom licence"}}),
    }
    path = tmp_path / "bom"
    path.write_bytes(data)
    back = anchore.sbom.read(path)
    assert {p.name: sorted(p.licenses) for p in back.packages} == {
        "requests": ["MIT"], "a": ["Apache-2.0 OR MIT"], "b": ["Custom licence", "GPL-2.0-only"]
    }  # fmt: skip
    assert back.origin == "sbom:" + name.split("@")[0]
    assert back.files_known is False


def test_an_imported_sbom_claims_only_the_analyzers_whose_evidence_it_carries(tmp_path):
    analysis = _analysis([_pkg()], analyzers=["distro", "python", "secrets", "file-permissions"])
    path = tmp_path / "bom.cdx.json"
    anchore.sbom.write(analysis, "cyclonedx-json", path)
    back = anchore.sbom.read(path)
    # secrets and setuid files are not in a CycloneDX BOM: not run, so rules on them are
    # unknown, never passed on an empty list
    assert back.analyzers == ("distro", "python")


def test_duplicate_purls_get_distinct_bom_refs_and_both_come_back(tmp_path):
    twice = [_pkg(found_by="python"), _pkg(found_by="golang")]
    analysis = _analysis(twice, relationships=[Relationship("pkg:deb/debian/x@1", twice[0].purl)])
    data = anchore.sbom.dumps(analysis, "cyclonedx-json")
    _validate("cyclonedx-json", data.decode())
    path = tmp_path / "bom.cdx.json"
    path.write_bytes(data)
    back = anchore.sbom.read(path)
    assert sorted(p.found_by for p in back.packages) == ["golang", "python"]


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"bomFormat": "CycloneDX", "components": {"a": 1}}, "$.components is an object"),
        ({"bomFormat": "CycloneDX", "components": [{"type": "library", "name": 3}]},
         "$.components[0].name is a number"),
        ({"bomFormat": "CycloneDX", "components": [{"type": "library"}]},
         "$.components[0].name is missing"),
        ({"bomFormat": "CycloneDX", "components": [{"type": "library", "name": "x",
          "properties": [{"name": "anchore:package:metadata", "value": "[1"}]}]},
         "$.components[0].properties anchore:package:metadata: not JSON"),
    ],
)  # fmt: skip
def test_malformed_json_names_the_file_and_the_json_path(tmp_path, doc, where):
    path = tmp_path / "bad.cdx.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SbomFormatError) as caught:
        anchore.sbom.read(path, format="cyclonedx-json")
    assert str(path) in str(caught.value) and where in str(caught.value)


def test_truncated_json_and_too_deep_json(tmp_path):
    path = tmp_path / "bad.cdx.json"
    path.write_text('{"bomFormat": "CycloneDX", "components": [')
    with pytest.raises(SbomFormatError, match="not JSON"):
        anchore.sbom.read(path)
    path.write_text('{"bomFormat": "CycloneDX", "x": ' + "[" * 500 + "]" * 500 + "}")
    with pytest.raises(SbomFormatError, match="nested deeper than 64 levels"):
        anchore.sbom.read(path)


def test_xml_entity_expansion_is_refused_at_once(tmp_path):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    path = tmp_path / "lol.cdx.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY l0 "lol">{lol}]>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component '
        'type="library"><name>&l9;</name></component></components></bom>'
    )
    start = time.monotonic()
    with pytest.raises(SbomFormatError, match="DOCTYPE") as caught:
        anchore.sbom.read(path)
    assert time.monotonic() - start < 1
    assert str(path) in str(caught.value)


def test_malformed_xml_names_the_file(tmp_path):
    path = tmp_path / "bad.cdx.xml"
    path.write_text('<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>')
    with pytest.raises(SbomFormatError, match="not well-formed XML") as caught:
        anchore.sbom.read(path)
    assert str(path) in str(caught.value)


@pytest.mark.corpus
def test_anchore_json_reads_back_equal(debian_py, tmp_path):
    path = tmp_path / "a.anchore.json"
    anchore.sbom.write(debian_py, "anchore-json", path)
    back = anchore.sbom.read(path)
    assert back.origin == "sbom:anchore-json"
    for field in ("image", "distro", "packages", "findings", "files", "files_known",
                  "relationships", "datasets", "analyzers", "failed_analyzers", "errors",
                  "layer_changes", "package_changes"):  # fmt: skip
        assert getattr(back, field) == getattr(debian_py, field), field


def test_anchore_json_malformed_names_the_json_path(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"schema": "anchore.analysis/1", "packages": [
        {"type": "deb", "name": "x", "version": "1", "locations": [{"path": 5}]}]}))  # fmt: skip
    with pytest.raises(
        SbomFormatError, match=r"\$\.packages\[0\]\.locations\[0\]\.path is a number"
    ):
        anchore.sbom.read(path)


def _leaves(value: object, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))] + [path]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))] + [path]
    return [path]


def _replace(doc: object, path: tuple, new: object) -> object:
    if not path:
        return new
    copy = json.loads(json.dumps(doc))
    holder = copy
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = new
    return copy


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_value_anywhere_is_read_or_refused_as_the_files_fault(tmp_path, data):
    packages = [
        _pkg(licenses=["MIT", "Custom"], cpes=["cpe:2.3:a:x:y:1:*:*:*:*:*:*:*"], metadata={"a": 1}),
        _pkg(type="deb", name="libc6", version="2.36", purl="pkg:deb/debian/libc6@2.36"),
    ]
    analysis = _analysis(packages, relationships=[Relationship(packages[1].purl, packages[0].purl)])
    doc = json.loads(anchore.sbom.dumps(analysis, "cyclonedx-json"))
    leaf = data.draw(st.sampled_from(_leaves(doc)))
    mutated = _replace(doc, leaf, data.draw(_ANY_JSON))
    path = tmp_path / "m.cdx.json"
    path.write_text(json.dumps(mutated))
    try:
        anchore.sbom.read(path, format="cyclonedx-json")
    except anchore.sbom.SbomError as exc:
        assert str(path) in str(exc)


def test_xml_components_nested_too_deep_are_refused(tmp_path):
    depth = 5000
    path = tmp_path / "deep.cdx.xml"
    path.write_text(
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6">'
        + '<components><component type="library"><name>x</name>' * depth
        + "</component></components>" * depth
        + "</bom>"
    )
    with pytest.raises(SbomFormatError, match="nested deeper than 32 levels") as caught:
        anchore.sbom.read(path)
    assert str(path) in str(caught.value)


def test_a_large_bom_as_the_library_writes_it_is_sniffed(tmp_path):
    # cyclonedx-python-lib's own JSON (and the tools built on it: cyclonedx-py) opens with
    # the components and names its format last, past the head sniffing reads in a large BOM
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat

    from anchore.sbom.cyclonedx import to_bom

    packages = [_pkg(name=f"p{i}", purl=f"pkg:pypi/p{i}@1", licenses=["MIT"]) for i in range(3000)]
    bom = to_bom(_analysis(packages))
    text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
    assert text.index('"bomFormat"') > anchore.sbom.format.HEAD_BYTES
    path = tmp_path / "library.json"
    path.write_text(text)
    assert anchore.sbom.sniff(path).name == "cyclonedx-json"
    assert len(anchore.sbom.read(path).packages) == 3000


def test_packages_without_a_purl_are_not_aliased_in_relationships(tmp_path: Path) -> None:
    """Relationships name packages by purl: a purl-less package (a plugin's) is none of
    them. Writing keyed every purl-less package under ``""``, so a relationship naming
    ``""`` was hung on the first purl-less package, whichever it was."""
    deb = Package(type="deb", name="libfoo", version="1.0", purl="pkg:deb/debian/libfoo@1.0")
    first = Package(type="conan", name="zlib", version="1.3", purl="")
    second = Package(type="conan", name="fmt", version="10.0", purl="")
    analysis = Analysis(
        image={}, distro=None, packages=[deb, first, second], findings=[], files=[], errors=[],
        relationships=[Relationship(deb.purl, ""), Relationship("", deb.purl)],
    )  # fmt: skip
    path = tmp_path / "bom.cdx.json"
    anchore.sbom.write(analysis, "cyclonedx-json", path)
    doc = json.loads(path.read_text())
    refs = {c["name"]: c["bom-ref"] for c in doc["components"]}
    assert len(set(refs.values())) == len(refs)  # distinct keys
    for c in doc["components"]:
        names = [p["name"] for p in c.get("properties", ())]
        assert "anchore:package:owned_by" not in names, c["name"]
    depends = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert depends.get(refs["libfoo"], []) == []
    assert refs["zlib"] not in depends or depends[refs["zlib"]] == []
    back = anchore.sbom.read(path)
    assert sorted((p.name, p.purl) for p in back.packages) == [
        ("fmt", ""), ("libfoo", deb.purl), ("zlib", "")]  # fmt: skip
    assert back.relationships == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [('{"a": 1}', r"properties<anchore:analysis>\.errors is an object, not a list"),
     ('[{"message": "x"}]', r"properties<anchore:analysis>\.errors\[0\]\.analyzer is missing"),
     ("nope", "anchore:analysis:errors: not JSON")],
)  # fmt: skip
def test_malformed_recorded_errors_are_refused(tmp_path: Path, value: str, problem: str) -> None:
    """Recorded analyzer errors that cannot be read are an error naming the file and the
    place, not dropped (dropping them would make the imported SBOM look complete)."""
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [],
           "metadata": {"properties": [{"name": "anchore:analysis:errors", "value": value}]}}  # fmt: skip
    path = tmp_path / "bad.cdx.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SbomFormatError, match=problem) as caught:
        anchore.sbom.read(path)
    assert str(path) in str(caught.value)
