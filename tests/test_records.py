"""to_records() and to_dataframe(): flat rows, documented columns in a stable order, on debian-py.

The expected values come from the objects themselves (a package's first location, the
image's layer metadata) and from facts about the corpus image that other tests establish
(pyyaml is installed in layer 2; the setuid /usr/bin/passwd comes with layer 0).
"""

from __future__ import annotations

import json
import sys

import pytest

import anchore
from anchore import query, sbom
from anchore.analysis.model import RECORD_COLUMNS, Analysis
from anchore.errors import AnchoreError, MissingExtraError
from anchore.image.image import LAYER_COLUMNS
from anchore.policy import evaluate, load_bundle
from anchore.policy.evaluate import ITEM_COLUMNS
from anchore.vulns import Store, load, match
from anchore.vulns.match import CHECK_COLUMNS, MATCH_COLUMNS
from test_policy import EXAMPLE
from testdata import PYPA

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("v") / "db.sqlite", create=True)
    load(store, PYPA)
    return store


@pytest.fixture(scope="module")
def debian_py(corpus):
    return anchore.analyze(corpus / "debian-py.oci.tar")


@pytest.mark.parametrize("kind", list(RECORD_COLUMNS))
def test_analysis_records_have_the_documented_columns(debian_py, kind):
    records = debian_py.to_records(kind)
    for row in records:
        assert tuple(row) == RECORD_COLUMNS[kind]
    frame = debian_py.to_dataframe(kind)
    assert tuple(frame.columns) == RECORD_COLUMNS[kind]
    assert len(frame) == len(records)


def test_package_records_put_the_layer_in_its_own_column(debian_py):
    records = debian_py.to_records("packages")
    assert len(records) == len(debian_py.packages) == 434
    for row, pkg in zip(records, debian_py.packages, strict=True):
        assert (row["type"], row["name"], row["version"], row["purl"]) == (
            pkg.type, pkg.name, pkg.version, pkg.purl)  # fmt: skip
        assert row["layer"] == pkg.locations[0].layer_index
        assert row["path"] == pkg.locations[0].path
        assert row["licenses"] == ", ".join(pkg.licenses)
    (pyyaml,) = [r for r in records if r["type"] == "python" and r["name"].lower() == "pyyaml"]
    assert pyyaml["layer"] == 2
    frame = debian_py.to_dataframe()
    assert frame.groupby("layer").size().to_dict() == {
        layer: sum(1 for p in debian_py.packages if p.layer_index == layer)
        for layer in {p.layer_index for p in debian_py.packages}
    }


def test_file_layer_and_finding_records(debian_py):
    files = debian_py.to_records("files")
    assert len(files) == len(debian_py.files) == 11_675
    passwd = next(r for r in files if r["path"] == "/usr/bin/passwd")
    assert (passwd["mode"], passwd["layer"], passwd["type"]) == ("4755", 0, "file")
    assert "pkg:deb/debian/passwd" in passwd["owners"]

    layers = debian_py.to_records("layers")
    assert [r["layer"] for r in layers] == [0, 1, 2, 3]
    for row, info in zip(layers, debian_py.image.layers, strict=True):
        assert row["uncompressed_size"] == info.uncompressed_size and row["files"] == info.files
    added = [c for c in debian_py.package_changes if c.change == "added"]
    assert sum(r["packages_added"] for r in layers) == len(added)
    assert layers[3]["whiteouts"] == 213

    findings = debian_py.to_records("findings")
    setuid = {r["path"]: r for r in findings if r["kind"] == "setuid"}
    assert setuid["/usr/bin/passwd"]["layer"] == 0
    assert any(r["kind"] == "secret" and r["layer"] == 3 for r in findings)
    assert debian_py.to_records("errors") == []


def test_an_unknown_kind_is_named(debian_py):
    with pytest.raises(ValueError, match="kind is one of packages, files, layers"):
        debian_py.to_records("package")


def test_image_records_are_its_layers(corpus, debian_py):
    with anchore.open_image(corpus / "debian-py.oci.tar") as image:
        records = image.to_records()
        frame = image.to_dataframe()
    assert tuple(frame.columns) == LAYER_COLUMNS
    assert [tuple(r) for r in records] == [LAYER_COLUMNS] * 4
    assert [r["created_by"] for r in records] == [i.created_by for i in debian_py.image.layers]
    assert [r["size"] for r in records] == [i.size for i in debian_py.image.layers]


def test_evaluation_records_carry_gate_trigger_action_and_evidence(debian_py, store):
    evaluation = evaluate(debian_py, load_bundle(EXAMPLE), store=store)
    records = evaluation.to_records()
    assert len(records) == len(evaluation.items) > 0
    assert tuple(evaluation.to_dataframe().columns) == ITEM_COLUMNS
    for row, item in zip(records, evaluation.items, strict=True):
        assert tuple(row) == ITEM_COLUMNS
        assert (row["gate"], row["trigger"], row["action"]) == (item.gate, item.trigger,
                                                                item.action)  # fmt: skip
        assert json.loads(row["evidence"]) == json.loads(json.dumps(item.evidence))
        assert row["layer"] == item.evidence.get("layer_index")
    ssh = next(r for r in records if r["rule_id"] == "ssh-root-login")
    assert (ssh["action"], ssh["path"], ssh["layer"]) == ("STOP", "/etc/ssh/sshd_config", 3)


def test_match_records_name_the_advisory_package_fix_and_layer(debian_py, store):
    result = match(debian_py, store)
    records = result.to_records()
    assert len(records) == len(result) > 0
    assert tuple(result.to_dataframe().columns) == MATCH_COLUMNS
    pyyaml = next(r for r in records if r["advisory_id"] == "PYSEC-2021-142")
    assert (pyyaml["package"], pyyaml["fixed_in"], pyyaml["layer"]) == ("pyyaml", "5.4", 2)
    assert pyyaml["path"].endswith("METADATA")
    certifi = next(r for r in records if r["advisory_id"] == "PYSEC-2022-42986")
    assert certifi["aliases"] == "CVE-2022-23491, GHSA-43fp-rhv2-5gv8"
    checks = result.to_records("packages")
    assert len(checks) == 434 and tuple(checks[0]) == CHECK_COLUMNS
    statuses = {r["status"] for r in checks}
    assert statuses == {"checked", "unchecked"}
    assert sum(r["status"] == "unchecked" for r in checks) == len(result.unchecked)
    assert all(r["reason"] for r in checks if r["status"] == "unchecked")


def test_query_results_and_diffs_as_dataframes(corpus, debian_py):
    result = query.run("packages", debian_py)
    frame = result.to_dataframe()
    assert tuple(frame.columns) == result.columns and len(frame) == len(result)
    before = anchore.analyze(corpus / "debian-min.oci.tar")
    diff = query.run("diff", [before, debian_py])
    frame = diff.to_dataframe()
    assert tuple(frame.columns) == diff.columns
    added = frame[(frame["kind"] == "package") & (frame["change"] == "added")]
    assert "python3" in set(added["name"])


def test_without_pandas_to_dataframe_says_what_to_install(debian_py, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'anchore\[pandas\]'") as err:
        debian_py.to_dataframe()
    assert err.value.extra == "pandas"
    assert len(debian_py.to_records()) == 434  # the records need no pandas


@pytest.mark.parametrize("fmt", ["spdx-json", "cyclonedx-json"])
def test_an_sbom_without_files_has_no_file_rows_rather_than_none(tmp_path, fmt):
    analysis = anchore.analyze("examples/busybox/busybox.oci.tar")
    path = tmp_path / "busybox.sbom.json"
    path.write_bytes(sbom.dumps(analysis, fmt))
    read_back = sbom.read(path)
    assert not read_back.files_known
    with pytest.raises(AnchoreError, match="its files are not known"):
        read_back.to_records("files")
    assert [r["name"] for r in read_back.to_records()] == [p.name for p in analysis.packages]
    assert "files not known" in repr(read_back)
    assert "<dt>files</dt><dd>not known</dd>" in read_back._repr_html_()


def test_an_analysis_without_layer_metadata_says_so():
    bare = Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[])
    with pytest.raises(AnchoreError, match="its layers are not known"):
        bare.to_records("layers")
    assert "<p>layers: not known</p>" in bare._repr_html_()  # not "read from an SBOM"


def test_query_records_are_flat_and_the_json_keeps_lists():
    """A DataFrame cell holding a list neither groups nor compares: query records join
    lists (and write mappings as key=value) as Analysis.to_records does; to_dict, the
    JSON output, keeps them nested."""
    analysis = anchore.analyze("examples/busybox/busybox.oci.tar")
    result = query.run("packages", analysis)
    licensed = next(r for r in result.rows if r.licenses)
    record = result.to_records()[result.rows.index(licensed)]
    assert record["licenses"] == ", ".join(licensed.licenses)
    assert result.to_dict()["rows"][result.rows.index(licensed)]["licenses"] == list(
        licensed.licenses
    )
    for kind in ("packages", "files", "image"):
        for row in query.run(kind, analysis).to_records():
            assert not any(isinstance(v, (list, tuple, dict)) for v in row.values()), row
    common = query.run("common-packages", [analysis, analysis]).to_records()
    assert common and all(isinstance(r["versions"], str) for r in common)
