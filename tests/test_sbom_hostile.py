"""SBOMs as they arrive from elsewhere: keys in another order (``jq -S``), a UTF-8 byte
order mark, and malformed values, which are an SbomFormatError naming the file (never an
internal error)."""

from __future__ import annotations

import json

import pytest

import anchore
import anchore.sbom
from anchore.cli import main
from anchore.errors import ExitCode

JSON_FORMATS = ["anchore-json", "cyclonedx-json", "spdx-json", "syft-json"]


@pytest.fixture(scope="module")
def debian_min(corpus):
    return anchore.analyze(anchore.open_image(corpus / "debian-min.oci.tar"))


@pytest.mark.corpus
@pytest.mark.parametrize("name", JSON_FORMATS)
def test_sorted_keys_and_a_byte_order_mark_are_still_recognised(debian_min, tmp_path, name):
    doc = json.loads(anchore.sbom.dumps(debian_min, name))
    sorted_path = tmp_path / f"sorted.{name}"
    sorted_path.write_text(json.dumps(doc, sort_keys=True, indent=2))  # as jq -S writes
    bom_path = tmp_path / f"bom.{name}"
    bom_path.write_bytes(b"\xef\xbb\xbf" + anchore.sbom.dumps(debian_min, name))
    for path in (sorted_path, bom_path):
        found = anchore.sbom.sniff(path)
        assert found is not None and found.name == name, path
        again = anchore.sbom.read(path)
        assert {p.purl for p in again.packages} == {p.purl for p in debian_min.packages}


def test_syfts_sorted_spdx_with_the_version_past_the_head(tmp_path):
    """syft's SPDX sorted: spdxVersion comes after megabytes of files and packages."""
    filler = [{"SPDXID": f"SPDXRef-File-{i}", "fileName": f"/f{i}" + "x" * 200,
               "checksums": []} for i in range(6000)]  # fmt: skip
    doc = {"SPDXID": "SPDXRef-DOCUMENT", "creationInfo": {"created": "2024-01-01T00:00:00Z",
           "creators": ["Tool: syft-1.18.1"]}, "dataLicense": "CC0-1.0",
           "documentNamespace": "https://example.com/x", "files": filler, "name": "x",
           "packages": [], "spdxVersion": "SPDX-2.3"}  # fmt: skip
    path = tmp_path / "sorted.spdx.json"
    path.write_text(json.dumps(doc, sort_keys=True))
    assert path.read_bytes().index(b"spdxVersion") > 1 << 20
    found = anchore.sbom.sniff(path)
    assert found is not None and found.name == "spdx-json"


@pytest.mark.parametrize("text", ['{"name": "not an sbom", "items": []}', "<note>hi</note>"])
def test_json_or_xml_that_is_no_sbom_is_named_as_such(tmp_path, capsys, text):
    path = tmp_path / "thing.json"
    path.write_text(text)
    assert anchore.sbom.sniff(path) is None
    assert main(["inspect", str(path)]) != ExitCode.OK
    err = capsys.readouterr().err
    assert str(path) in err and "SBOM" in err, err


def _syft_file(metadata: str) -> str:
    return ('{"artifacts":[],"files":[{"id":"1","location":{"path":"/a"},'
            f'"metadata":{metadata}}}]}}')  # fmt: skip


#: hostile syft-json documents (found by mutation), each refused naming the file and place
SYFT_HOSTILE = {
    "negative-mode": (_syft_file('{"type":"RegularFile","mode":-5}'), "$.files[0].metadata.mode"),
    "float-mode": (_syft_file('{"type":"RegularFile","mode":1e400}'), "$.files[0].metadata.mode"),
    "error-not-object": (
        '{"artifacts":[],"descriptor":{"name":"anchore","configuration":{"errors":["x"]}}}',
        "$.descriptor.configuration.errors[0]",
    ),
    "error-without-analyzer": (
        '{"artifacts":[],"descriptor":{"name":"anchore","configuration":{"errors":[{}]}}}',
        "$.descriptor.configuration.errors[0].analyzer",
    ),
    "deep": ('{"artifacts":' + "[" * 5000 + "]" * 5000 + "}", "nested deeper"),
    "manifest-not-base64": (
        '{"artifacts":[],"source":{"type":"image","metadata":{"manifest":"!!!"}}}',
        "$.source.metadata.manifest",
    ),
}


@pytest.mark.parametrize("name", sorted(SYFT_HOSTILE))
def test_hostile_syft_json_is_a_format_error_naming_the_place(tmp_path, name):
    text, place = SYFT_HOSTILE[name]
    path = tmp_path / "hostile.syft.json"
    path.write_text(text)
    with pytest.raises(anchore.sbom.SbomFormatError) as caught:
        anchore.sbom.read(path, format="syft-json")
    assert str(path) in str(caught.value) and place in str(caught.value)


def test_an_embedded_manifest_is_bounded_by_the_configured_depth(tmp_path):
    """syft's base64 manifest is JSON inside the JSON: it obeys Limits.max_json_depth too
    (it was parsed with the library's default bound whatever the caller configured)."""
    import base64

    manifest = base64.b64encode(('{"a":' + "[" * 40 + "]" * 40 + "}").encode()).decode()
    path = tmp_path / "deep-manifest.syft.json"
    source = {"type": "image", "metadata": {"manifest": manifest}}
    path.write_text(json.dumps({"artifacts": [], "source": source}))
    with pytest.raises(anchore.AnchoreError) as caught:
        anchore.sbom.read(path, format="syft-json", limits=anchore.Limits(max_json_depth=20))
    assert str(path) in str(caught.value) and "$.source.metadata.manifest" in str(caught.value)
