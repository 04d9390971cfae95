"""packages, layers, diff and ``-o json`` of the image commands, on real images.

The JSON of each command is checked against the library's own answer for the same image
(``Analysis.to_records``, ``anchore.query.diff.diff``), so the command line and a notebook
cannot drift apart; the SBOM cases check that what an SBOM does not record is said or
refused, never printed as an empty table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import anchore
from anchore import plugins
from anchore.analysis.model import RECORD_COLUMNS, Analysis
from anchore.cli import main
from anchore.errors import ExitCode
from anchore.query.diff import diff
from anchore.serialize import plain

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "busybox" / "busybox.oci.tar")
#: a CycloneDX SBOM another tool wrote (GraalVM native-image): packages, but no layers,
#: no file inventory, no image config
FOREIGN = str(
    Path(__file__).parent
    / "data/syft-testdata/syft/pkg/cataloger/java/testdata/graalvm-sbom/micronaut.json"
)


@pytest.fixture(scope="module")
def busybox() -> Analysis:
    return anchore.analyze(EXAMPLE)


@pytest.fixture(scope="module")
def py(corpus: Path) -> Analysis:
    return anchore.analyze(corpus / "debian-py.oci.tar")


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == ExitCode.OK
    return json.loads(capsys.readouterr().out)


# ---- packages
def test_packages_json_is_the_records_of_the_analysis(busybox, capsys):
    records = _json(capsys, ["packages", "-o", "json", EXAMPLE])
    assert records == busybox.to_records("packages")
    assert [list(r) for r in records] == [list(RECORD_COLUMNS["packages"])] * len(records)
    assert _json(capsys, ["packages", "--json", EXAMPLE]) == records  # the old spelling


@pytest.mark.corpus
def test_packages_filters(corpus, py, capsys):
    image = str(corpus / "debian-py.oci.tar")
    got = _json(capsys, ["packages", "--type", "python,npm", "--installed", "-o", "json", image])
    want = [p for p in py.packages if p.type in ("python", "npm") and not p.declared]
    assert want and [(r["type"], r["name"], r["version"]) for r in got] == [
        (p.type, p.name, p.version) for p in want
    ]
    declared = _json(capsys, ["packages", "--declared", "-o", "json", image])
    assert declared == [r for r in py.to_records("packages") if r["declared"]]
    in_layer = _json(capsys, ["packages", "--layer", "2", "-o", "json", image])
    assert in_layer and {r["layer"] for r in in_layer} == {2}
    assert "pyyaml" in {r["name"] for r in in_layer}


def test_packages_table(busybox, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["packages", EXAMPLE]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TYPE", "NAME", "VERSION", "LAYER", "PATH"]
    assert [line.split()[:3] for line in lines[1:]] == [
        [p.type, p.name, p.version] for p in busybox.packages
    ]
    assert all(len(line) <= 80 for line in lines)


def test_packages_bad_options(capsys):
    assert main(["packages", "--layer", "5", EXAMPLE]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert "no layer 5" in err and EXAMPLE in err
    assert main(["packages", "--declared", "--installed", EXAMPLE]) == ExitCode.USAGE_ERROR
    assert main(["packages", "--type", ",", EXAMPLE]) == ExitCode.USAGE_ERROR
    capsys.readouterr()
    assert main(["packages", "--type", "npm", EXAMPLE]) == ExitCode.OK  # known, none here
    assert capsys.readouterr().out.startswith("no packages match these filters (of 2;")


@pytest.mark.parametrize(("typed", "suggested"), [("go", "go-module"), ("pyhton", "python")])
def test_packages_type_is_a_real_package_type(typed, suggested, capsys):
    """A typo in --type matched nothing and exited 0: "no go packages" passed in CI."""
    for fmt in ("table", "json"):
        assert main(["packages", "--type", typed, "-o", fmt, EXAMPLE]) == ExitCode.USAGE_ERROR
        err = capsys.readouterr().err
        assert f"--type {typed!r} is not a package type; did you mean {suggested!r}?" in err


def test_packages_and_files_say_no_layer_the_same_way(capsys):
    assert main(["packages", "--layer", "5", EXAMPLE]) == ExitCode.INPUT_ERROR
    packages_err = capsys.readouterr().err
    assert main(["files", "--layer", "5", EXAMPLE]) == ExitCode.INPUT_ERROR
    files_err = capsys.readouterr().err
    assert packages_err.splitlines()[-1] == files_err.splitlines()[-1]
    assert "no layer 5; it has 2 layers: --layer takes 0 to 1" in files_err


def test_packages_of_a_foreign_sbom_say_the_layers_are_not_recorded(capsys):
    assert main(["packages", FOREIGN]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "records no layers" in captured.err and FOREIGN in captured.err
    rows = captured.out.splitlines()[1:]
    assert len(rows) == len(anchore.sbom.read(FOREIGN).packages) == 3
    assert all(row.split()[3] == "-" for row in rows)  # LAYER: not known, not 0
    assert main(["packages", "--layer", "0", FOREIGN]) == ExitCode.INPUT_ERROR
    assert "does not record them" in capsys.readouterr().err


# ---- layers
def test_layers_json_and_table(busybox, capsys):
    records = _json(capsys, ["layers", "-o", "json", EXAMPLE])
    assert records == busybox.to_records("layers")
    assert [r["layer"] for r in records] == [0, 1]
    assert records[1]["whiteouts"] == 1  # /etc/motd deleted in layer 1
    assert main(["layers", EXAMPLE]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["LAYER", "DIGEST", "SIZE", "FILES", "DELETED", "PACKAGES",
                                "CREATED", "BY"]  # fmt: skip
    info = busybox.image.layers
    assert info is not None
    for layer, line in zip(info, lines[1:], strict=True):
        cells = line.split()
        assert cells[:2] == [str(layer.index), layer.digest[:19]]
        assert cells[4] == f"{layer.files}" and cells[5] == f"{layer.whiteouts}"


def test_layers_of_an_sbom_without_them_is_refused(capsys):
    assert main(["layers", FOREIGN]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr()
    assert err.out == ""
    assert FOREIGN in err.err and "does not record the image's layers" in err.err


# ---- diff
@pytest.mark.corpus
def test_diff_json_is_the_library_diff(corpus, py, capsys):
    old = anchore.analyze(corpus / "debian-min.oci.tar")
    argv = [
        "diff",
        "-o",
        "json",
        str(corpus / "debian-min.oci.tar"),
        str(corpus / "debian-py.oci.tar"),
    ]
    data = _json(capsys, argv)
    assert data["kinds"] == ["package", "file", "setuid", "config"]
    assert data["not_compared"] == {}
    rows = [plain(r) for r in diff(old, py)]
    for row in rows:  # the layer is `layer` in every -o json (packages, layers, diff)
        row["layer"] = row.pop("layer_index")
    assert data["rows"] == rows
    assert list(data["rows"][0]) == [
        k if k != "layer_index" else "layer" for k in plain(diff(old, py)[0])
    ]
    added = {r["name"] for r in data["rows"] if r["kind"] == "package" and r["change"] == "added"}
    assert {"pyyaml", "flask"} <= added
    assert any(r["kind"] == "setuid" and r["name"] == "/usr/local/bin/helper" for r in data["rows"])


def test_diff_with_an_sbom_names_what_it_could_not_compare(tmp_path, capsys):
    cdx = str(tmp_path / "busybox.cdx.json")
    assert main(["sbom", EXAMPLE, "-o", f"cyclonedx-json={cdx}"]) == ExitCode.OK
    capsys.readouterr()
    data = _json(capsys, ["diff", "-o", "json", cdx, EXAMPLE])
    assert data["kinds"] == ["package", "config"]
    assert set(data["not_compared"]) == {"file", "setuid"}
    assert "no file inventory" in data["not_compared"]["file"]
    assert data["rows"] == []  # the same image: no package or config change
    assert main(["diff", cdx, EXAMPLE]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "package: 0 added, 0 removed, 0 changed" in captured.out
    assert "file:" not in captured.out  # not "0 added": not compared
    assert "file changes not compared" in captured.err
    # asked for by name, a kind the SBOM cannot answer is an error, not "no change"
    assert main(["diff", "--kinds", "file", cdx, EXAMPLE]) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert "no file inventory" in err
    # in the command's grammar, not the query's (kind=package,config)
    assert "kind=" not in err and "leave file out of --kinds (--kinds package,config)" in err


def test_diff_where_nothing_compares_is_an_error(capsys):
    # another tool's SBOM: no layers, no files, no config, packages never looked for by
    # every ecosystem's analyzer: nothing to compare is not "no differences"
    assert main(["diff", FOREIGN, EXAMPLE]) == ExitCode.INPUT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nothing could be compared" in captured.err and FOREIGN in captured.err


def test_diff_usage_errors(capsys):
    assert main(["diff", "--kinds", "nosuch", EXAMPLE, EXAMPLE]) == ExitCode.USAGE_ERROR
    assert "unknown kind nosuch" in capsys.readouterr().err
    assert main(["diff", EXAMPLE]) == ExitCode.USAGE_ERROR


def test_diff_of_an_image_with_itself(capsys):
    assert main(["diff", EXAMPLE, EXAMPLE]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "package: 0 added, 0 removed, 0 changed" in out and "KIND" not in out


# ---- -o json on the other image commands
def test_output_json_everywhere(busybox, capsys):
    assert _json(capsys, ["analyze", "-o", "json", EXAMPLE]) == _json(
        capsys, ["analyze", "--json", EXAMPLE]
    )
    inspected = _json(capsys, ["inspect", "-o", "json", EXAMPLE])
    assert isinstance(inspected, dict) and inspected["file_count"] == len(busybox.files)
    assert main(["files", "-o", "json", EXAMPLE]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["path"] for line in lines] == [f.path for f in busybox.files]
    listed = _json(capsys, ["plugins", "-o", "json"])
    assert isinstance(listed, list)
    assert [p["name"] for p in listed[: len(plugins.DEFAULT_PLUGINS)]] == list(
        plugins.DEFAULT_PLUGINS
    )
    assert list(listed[0]) == ["name", "source", "analyzers", "gates", "vulnerability_feeds",
                               "queries", "sbom_formats"]  # fmt: skip
    assert main(["analyze", "--json", "-o", "table", EXAMPLE]) == ExitCode.USAGE_ERROR
    assert "two formats" in capsys.readouterr().err
    assert main(["analyze", "--files", EXAMPLE]) == ExitCode.USAGE_ERROR


@pytest.mark.corpus
def test_analyze_table_fits_80_columns(corpus, py, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["analyze", str(corpus / "debian-py.oci.tar")]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if len(line) > 80] == []
    secrets = [line for line in lines if line.startswith("high ") and " secret " in line]
    assert len(secrets) == sum(1 for f in py.findings if f.severity == "high")
    assert all(line.endswith("…") for line in secrets)  # cut messages say so


@pytest.mark.parametrize("columns", [50, 40, 30])
def test_tables_never_pass_a_narrow_terminal(columns, capsys, monkeypatch):
    """Below ~70 columns the kept columns plus the minimum of the others did not fit, and
    rows went out wider than the terminal: the line itself is cut, last resort."""
    monkeypatch.setenv("COLUMNS", str(columns))
    for argv in (["layers", EXAMPLE], ["inspect", EXAMPLE], ["packages", EXAMPLE]):
        assert main(["-q", *argv]) == ExitCode.OK
        lines = capsys.readouterr().out.splitlines()
        # a digest or path people copy is never cut: on a line of its own (print_field)
        wide = [ln for ln in lines if len(ln) > columns and not ln.startswith("  sha256:")
                and ln.strip() != EXAMPLE]  # fmt: skip
        assert wide == [], (argv, wide)
    from anchore.cli.output import table

    lines = table(["LAYER", "DIGEST", "SIZE"], [["0", "sha256:" + "a" * 12, "1.0 MiB"]], 20, (0, 1))
    assert lines == ["LAYER  DIGEST…", "0      sha256:aaaaa…"]
    assert max(len(line) for line in lines) == 20
