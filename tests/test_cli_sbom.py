"""The ``anchore sbom`` command, and SBOM files where a command takes an image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import anchore.sbom
from anchore.cli import main
from anchore.errors import ExitCode
from anchore.vulns import LoadReport, Store, read_osv
from testdata import GO, PYPA


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "vulns.sqlite"
    with Store(path, create=True) as db:
        report = LoadReport()
        db.load(read_osv(PYPA, report), "osv-pypa", report)
        db.load(read_osv(GO, report), "osv-go", report)
    return str(path)


@pytest.fixture(scope="module")
def sboms(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sboms")
    paths = {"cyclonedx-json": out / "py.cdx.json", "cyclonedx-xml": out / "py.cdx.xml",
             "anchore-json": out / "py.anchore.json"}  # fmt: skip
    argv = ["sbom", str(corpus / "debian-py.oci.tar")]
    for name, path in paths.items():
        argv += ["-o", f"{name}={path}"]
    assert main(argv) == ExitCode.OK
    return paths


@pytest.mark.corpus
def test_several_outputs_in_one_run_describe_the_same_packages(sboms):
    keys = []
    for name, path in sboms.items():
        assert anchore.sbom.sniff(path).name == name
        analysis = anchore.sbom.read(path)
        keys.append(sorted((p.type, p.name, p.version, p.purl) for p in analysis.packages))
    assert keys[0] and all(k == keys[0] for k in keys)


@pytest.mark.corpus
def test_one_output_to_stdout_and_an_sbom_as_input(sboms, capsys):
    assert main(["sbom", str(sboms["anchore-json"]), "-o", "cyclonedx-json"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    expected = anchore.sbom.read(sboms["anchore-json"])
    assert sorted(c["purl"] for c in doc["components"] if c["type"] == "library") == sorted(
        p.purl for p in expected.packages
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "cyclonedx-jsn"], "no SBOM format named 'cyclonedx-jsn'"),
        (["-o", "cyclonedx-json", "-o", "anchore-json"], "only one -o may write to stdout"),
        (["-o", "cyclonedx-json="], "no file after '='"),
        (["-o", "cyclonedx-json=a", "--file", "b"], "--file names the file of a single"),
    ],
)
def test_bad_outputs_are_one_line_usage_errors_before_any_analysis(tmp_path, capsys, argv, message):
    missing = tmp_path / "no-such-image.tar"  # never opened: the -o check comes first
    assert main(["sbom", str(missing), *argv]) == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("anchore sbom: error:")
    if "cyclonedx-jsn" in message:
        assert "did you mean" in err[-1] and "cyclonedx-json" in err[-1]


def test_list_names_every_format(capsys):
    assert main(["sbom", "--list"]) == ExitCode.OK
    out = capsys.readouterr().out
    for fmt in anchore.sbom.formats():
        assert fmt.name in out


def _items(value: object) -> object:
    if isinstance(value, list):
        return sorted(json.dumps(v, sort_keys=True) for v in value)
    return value


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["cyclonedx-json", "cyclonedx-xml", "anchore-json"])
def test_vulns_of_the_sbom_equal_vulns_of_the_image(corpus, sboms, store, capsys, name):
    image = str(corpus / "debian-py.oci.tar")
    argv = ["vulns", "--db", store, "--json", "--allow-unchecked"]
    code = main([*argv, image])
    of_image = json.loads(capsys.readouterr().out)
    assert main([*argv, str(sboms[name])]) == code
    of_sbom = json.loads(capsys.readouterr().out)
    assert of_image["matches"], "debian-py has known-vulnerable Python and Go packages"
    for key in ("matches", "unchecked", "coverage", "declared"):
        # CycloneDX lists components in its own order: compare the same items
        assert _items(of_sbom[key]) == _items(of_image[key]), key


@pytest.mark.corpus
def test_inspect_files_and_cat_given_an_sbom(corpus, sboms, capsys, tmp_path):
    cdx = str(sboms["cyclonedx-json"])
    assert main(["inspect", cdx]) == ExitCode.OK
    out = capsys.readouterr().out
    analysis = anchore.sbom.read(cdx)
    assert analysis.image.manifest_digest and analysis.image.manifest_digest in out
    assert "files      not listed in the SBOM" in out
    # no inventory in a CycloneDX BOM: an error naming the file, not an empty listing
    assert main(["files", cdx]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and cdx in err[0] and "lists no files" in err[0]
    assert main(["cat", cdx, "/etc/os-release"]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and cdx in err[0] and "holds no file content" in err[0]
    # an anchore-json with its inventory answers `files` as the image does
    full = tmp_path / "full.anchore.json"
    assert main(["sbom", str(corpus / "debian-min.oci.tar"), "-o", f"anchore-json={full}"]) == 0
    capsys.readouterr()
    assert main(["files", str(full)]) == ExitCode.OK
    from_sbom = capsys.readouterr().out.splitlines()
    assert main(["files", str(corpus / "debian-min.oci.tar")]) == ExitCode.OK
    from_image = capsys.readouterr().out.splitlines()
    assert from_sbom == from_image


@pytest.mark.corpus
def test_image_options_with_an_sbom_are_usage_errors(sboms, capsys):
    assert main(["analyze", str(sboms["cyclonedx-json"]), "--analyzers", "dpkg"]) == 4
    assert "analyzed already" in capsys.readouterr().err


@pytest.mark.corpus
def test_evaluate_of_an_sbom_never_passes_a_rule_on_evidence_it_lacks(
    corpus, sboms, tmp_path, capsys
):
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({
        "id": "b",
        "policies": [{"id": "p", "rules": [
            {"id": "s", "action": "STOP", "gate": "secrets", "trigger": "content_regex_checks",
             "params": {}}]}],
        "mappings": [{"name": "all", "policy_ids": ["p"]}],
    }))  # fmt: skip
    image = str(corpus / "debian-py.oci.tar")
    # the image's analysis ran the secrets analyzer: the rule fires (debian-py has secrets)
    assert main(["evaluate", image, "--bundle", str(bundle)]) == ExitCode.FAILED
    capsys.readouterr()
    # its CycloneDX carries no findings: the secrets rule cannot be evaluated, never GO
    cdx = str(sboms["cyclonedx-json"])
    assert main(["evaluate", cdx, "--bundle", str(bundle)]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "secrets" in err[0]
    # anchore-json carries them: the same decision as the image's
    assert main(["evaluate", image, "--bundle", str(bundle), "--json"]) == ExitCode.FAILED
    of_image = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(sboms["anchore-json"]), "--bundle", str(bundle), "--json"]) in (
        0,
        1,
    )
    of_sbom = json.loads(capsys.readouterr().out)
    assert of_sbom["final_action"] == of_image["final_action"]


EMPTY_SBOMS = {
    "empty.cdx.json": {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                       "components": []},
    "empty.spdx.json": {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0",
                        "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
                        "documentNamespace": "https://example.com/x",
                        "creationInfo": {"created": "2024-01-01T00:00:00Z",
                                         "creators": ["Tool: x"]},
                        "packages": []},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EMPTY_SBOMS))
def test_vulns_of_an_sbom_listing_no_package_is_no_clean_result(tmp_path, store, capsys, name):
    """An SBOM that lists nothing (a broken export) is no evidence the image holds nothing."""
    path = tmp_path / name
    path.write_text(json.dumps(EMPTY_SBOMS[name]))
    assert main(["vulns", "--db", store, str(path), "--fail-on", "high"]) == ExitCode.UNCHECKED
    err = capsys.readouterr().err
    assert str(path) in err and "no package" in err and "--allow-unchecked" in err
    assert main(["vulns", "--db", store, str(path)]) == ExitCode.UNCHECKED
    capsys.readouterr()
    assert main(["vulns", "--db", store, str(path), "--allow-unchecked"]) == ExitCode.OK
    assert "0 vulnerabilities in 0 checked packages" in capsys.readouterr().out
