"""``anchore query``: the rows of a query as JSON or a table, ``--list``, and the exit
codes of a wrong command line (USAGE_ERROR, checked before any analysis) and of a
question the analysis cannot answer (INPUT_ERROR)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchore import query
from anchore.cli import main
from anchore.cli.query import cell, table
from anchore.errors import ExitCode
from test_query_image import admindir, dpkg_query

ROOT = Path(__file__).parent.parent
EXAMPLE = str(ROOT / "examples" / "busybox" / "busybox.oci.tar")


@pytest.mark.corpus
def test_packages_as_json_are_dpkgs(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = corpus / "debian-min.docker.tar"
    code = main(["query", "packages", str(archive), "--param", "type=deb", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    assert out["query"] == "packages" and out["columns"][:3] == ["type", "name", "version"]
    lines = dpkg_query(admindir(archive, tmp_path), r"${db:Status-Status} ${Package} ${Version}\n")
    truth = {tuple(line.split(" ")[1:]) for line in lines if line.startswith("installed ")}
    assert {(r["name"], r["version"]) for r in out["rows"]} == truth
    assert all(set(r) == set(out["columns"]) for r in out["rows"])


def test_table_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["query", "files", EXAMPLE, "-p", "prefix=/bin", "-p", "type=file"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["PATH", "TYPE", "SIZE"]
    assert all(len(line) <= 100 for line in lines)
    assert any("…" in line for line in lines)  # the owners/digest columns were cut
    expected = query.run(
        "files", [__import__("anchore").analyze(EXAMPLE)], {"prefix": "/bin", "type": "file"}
    )
    assert len(lines) == 1 + len(expected) > 1


def test_list_names_every_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == ExitCode.OK
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines()[1:]}
    assert listed == {q.name for q in query.queries()}
    assert {"packages", "files", "retrieved-files", "setuid"} <= listed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "no-such-query", EXAMPLE], "no query named 'no-such-query'"),
        (["query", "packages", EXAMPLE, "--param", "colour=red"], "takes no parameter 'colour'"),
        (["query", "packages", EXAMPLE, "--param", "version=>>1"], "does not parse"),
        (["query", "packages", EXAMPLE, "--param", "layer=-1"], "negative"),
        (["query", "packages", EXAMPLE, "--param", "novalue"], "expected NAME=VALUE"),
        (["query", "package", EXAMPLE], "needs the parameter 'name'"),
        (["query", "packages", EXAMPLE, EXAMPLE], "takes one image; 2 given"),
        (["query", "packages"], "at least one image"),
        (["query", "--list", "packages"], "--list takes no"),
        (["query", "files", EXAMPLE, "-p", "prefix=etc"], "not an absolute path"),
    ],
)
def test_a_wrong_command_line_is_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("anchore query: error: ") and message in last, err


def test_usage_errors_come_before_the_analysis(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "nothing-here.tar")  # never opened: the query name is checked first
    assert main(["query", "nope", missing]) == ExitCode.USAGE_ERROR
    assert "no query named" in capsys.readouterr().err


def test_an_unanswerable_query_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "content-matches", EXAMPLE])
    err = capsys.readouterr().err
    assert code == ExitCode.INPUT_ERROR
    assert err.startswith("anchore: error: query 'content-matches'") and "did not run" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreadable_image_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"not a tar")
    assert main(["query", "packages", str(bad)]) == ExitCode.INPUT_ERROR
    assert "bad.tar" in capsys.readouterr().err


def test_no_rows_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "package", EXAMPLE, "-p", "name=no-such-package"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("TYPE")
    assert "no rows" in captured.err


def test_table_cuts_the_widest_columns_first() -> None:
    rows = [["a", "x" * 50, "short"], ["bb", "y" * 80, "s"]]
    lines = table(["k", "long", "c"], rows, 40)
    assert all(len(line) <= 40 for line in lines)
    assert lines[1].startswith("a   xxx") and lines[1].rstrip().endswith("short")
    assert "…" in lines[2]
    assert table(["k"], [["v"]], 40) == ["k", "v"]


def test_cells() -> None:
    assert cell(None) == "-"
    assert cell(("a", "b")) == "a, b"
    assert cell("one\ntwo") == "one\\ntwo"
    assert cell(3) == "3"


def test_an_sbom_file_is_queried_like_its_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import anchore
    from anchore import sbom

    analysis = anchore.analyze(EXAMPLE)
    path = tmp_path / "busybox.cdx.json"
    sbom.write(analysis, "cyclonedx-json", path)
    assert main(["query", "packages", str(path), "--json"]) == ExitCode.OK
    rows = json.loads(capsys.readouterr().out)["rows"]
    expected = query.run("packages", analysis).to_records()
    keys = ("type", "name", "version", "purl", "layer_index")
    assert [{k: r[k] for k in keys} for r in rows] == [{k: r[k] for k in keys} for r in expected]
    # a CycloneDX SBOM lists no file inventory: the files are unknown, not none
    assert main(["query", "files", str(path)]) == ExitCode.INPUT_ERROR
    assert "no file inventory" in capsys.readouterr().err
