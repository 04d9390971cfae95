"""What a person sees from ``anchore vulns`` and ``anchore evaluate``: tables with a
header, fitted to 80 and 200 columns (cut with an ellipsis, never wrapped), CVE aliases,
fixed versions as the ecosystem writes them, colour only on a terminal; the same
``-o``/``--json`` on every command, and ``--db`` wherever a store is read.

Real inputs: the corpus image debian-py against the repository's OSV data (PyPA, Go).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.cells import cell_len

from anchore.cli import main
from anchore.errors import ExitCode
from testdata import GO_ZIP, PYPA_ZIP

ROOT = Path(__file__).parent.parent
BUNDLE = ROOT / "examples" / "policy" / "bundle.json"

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("db") / "vulns.sqlite")
    assert main(["db", "load", "--db", path, str(PYPA_ZIP), str(GO_ZIP)]) == ExitCode.OK
    return path


@pytest.fixture
def image(corpus) -> str:
    return str(corpus / "debian-py.docker.tar")


def _lines(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("width", [80, 200])
def test_vulns_table_fits_the_terminal(db, image, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    code, lines = _lines(capsys, ["vulns", "-q", "--db", db, image])
    assert code == ExitCode.OK
    assert lines[0].split()[:3] == ["SEVERITY", "VULNERABILITY", "ALIASES"]
    assert all(cell_len(line) <= width for line in lines), max(lines, key=cell_len)
    table = lines[1 : lines.index("")]  # the matches, up to the blank line before the counts
    rows = {line.split()[1]: line for line in table}
    assert rows["PYSEC-2024-60"].startswith("high")
    if width == 200:  # every alias, and the fix as Go writes it
        assert "CVE-2023-43804, GHSA-v845-jxx5-vc9f" in rows["PYSEC-2023-192"]
        assert "v27.4.0+incompatible  v29.2.0+incompatible" in rows["GO-2026-4610"]
        assert " go1.23.4 " in rows["GO-2025-3373"] and " go1.23.5 " in rows["GO-2025-3373"]
        assert "/usr/local/bin/syft" in rows["GO-2025-3373"]
    else:  # the columns are cut, with an ellipsis, and paths are left for wider screens
        assert any("…" in line for line in lines)
        assert "LAYER" not in lines[0]
        assert any("layers and paths" in line for line in lines)
    assert lines[-1].startswith("141 vulnerabilities in 202 checked packages")


def test_piped_output_is_not_cut(db, image, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    _, lines = _lines(capsys, ["vulns", "-q", "--db", db, image])
    assert not any("…" in line for line in lines)
    assert any(
        "/usr/local/lib/python3.11/dist-packages/idna-2.10.dist-info/METADATA" in line
        for line in lines
    )


#: an SGR sequence setting a foreground colour (30-38, 90-97), alone or after others
_COLOUR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-8]|9[0-7])[;m]")


class _Terminal(io.StringIO):
    """stdout as a terminal (rich colours what it prints)."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", [False, True])
def test_severities_are_coloured_on_a_terminal_only(db, image, monkeypatch, no_color):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    screen = _Terminal()
    monkeypatch.setattr("sys.stdout", screen)
    assert main(["vulns", "-q", "--db", db, image]) == ExitCode.OK
    text = screen.getvalue()
    high = next(line for line in text.splitlines() if "PYSEC-2024-60" in line)
    if no_color:  # bold stays (it is not a colour); no colour does
        assert not _COLOUR.search(text), repr(_COLOUR.search(text))
    else:
        assert "\x1b[31m" in high or "\x1b[1;31m" in high, repr(high)
        medium = next(line for line in text.splitlines() if "PYSEC-2023-212" in line)
        assert "\x1b[33m" in medium, repr(medium)


def test_not_a_terminal_no_colour(db, image, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "xterm-256color")
    _, lines = _lines(capsys, ["vulns", "-q", "--db", db, image])
    assert not any("\x1b[" in line for line in lines)


@pytest.mark.parametrize("width", [80, 200])
def test_evaluate_table_fits_and_shows_whole_messages(db, image, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    code, lines = _lines(capsys, ["evaluate", "-q", "--db", db, "--bundle", str(BUNDLE), image])
    assert code == ExitCode.FAILED
    assert lines[0].split() == ["ACTION", "GATE", "TRIGGER", "MESSAGE"]
    assert all(cell_len(line) <= width for line in lines), max(lines, key=cell_len)
    assert lines[-1] == "final action: STOP (12 STOP rule(s) triggered and not allowlisted)"
    allow = lines.index(next(line for line in lines if line.startswith("ALLOWLISTED")))
    assert all(line.split()[0] in ("STOP", "WARN") for line in lines[1 : allow - 1])
    assert any(line.startswith("vendored-syft") for line in lines[allow:])
    if width == 200:  # the whole message, past the 90 characters it used to be cut at
        message = "AWS secret access key in /app/config/credentials line 2: wJal" + "*" * 36
        assert len(message) > 90
        assert any(line.endswith(message) for line in lines)


@pytest.mark.parametrize("command", ["vulns", "evaluate"])
def test_json_and_o_json_are_one_format(db, image, capsys, command):
    extra = ["--bundle", str(BUNDLE)] if command == "evaluate" else []
    argv = [command, "-q", "--db", db, *extra, image]
    code, out = _lines(capsys, [*argv, "--json"])
    code2, out2 = _lines(capsys, [*argv, "-o", "json"])
    first, second = json.loads("\n".join(out)), json.loads("\n".join(out2))
    first.pop("evaluated_at", None), second.pop("evaluated_at", None)
    assert code == code2 and first == second
    capsys.readouterr()
    assert main([*argv, "--json", "-o", "sarif"]) == ExitCode.USAGE_ERROR
    assert "two formats" in capsys.readouterr().err


def test_db_accepts_db_before_and_after_every_subcommand(db, tmp_path, capsys):
    fresh = str(tmp_path / "fresh.sqlite")
    assert main(["db", "load", "--db", fresh, str(PYPA_ZIP)]) == ExitCode.OK
    assert main(["db", "--db", fresh, "load", str(GO_ZIP)]) == ExitCode.OK
    for argv in (["db", "info", "--db", fresh], ["db", "--db", fresh, "info"],
                 ["db", "status", "--db", fresh], ["db", "--db", fresh, "status"]):  # fmt: skip
        capsys.readouterr()
        assert main(argv) == ExitCode.OK, argv
        assert fresh in capsys.readouterr().out
    export = str(tmp_path / "store.tar.zst")
    assert main(["db", "export", "--db", fresh, export]) == ExitCode.OK
    assert main(["db", "import", "--db", str(tmp_path / "copy.sqlite"), export]) == ExitCode.OK
    capsys.readouterr()
    assert main(["db", "--db", fresh, "info", "--db", db]) == ExitCode.USAGE_ERROR
    assert "--db given twice" in capsys.readouterr().err


# ---------------------------------------------------------------- the CI examples
CI = ROOT / "examples" / "ci"


def _shim(tmp_path: Path) -> Path:
    """A directory holding an ``anchore`` command that runs this checkout's CLI. Offline,
    ``db update`` becomes ``db status`` of the store the test loaded (tests/test_cli_db.py
    runs db update against the local feed server)."""
    where = tmp_path / "bin"
    where.mkdir()
    script = where / "anchore"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1 $2" = "db update" ]; then exec {sys.executable} -m anchore db status; fi\n'
        f'exec {sys.executable} -m anchore "$@"\n'
    )
    script.chmod(0o755)
    return where


def _env(tmp_path: Path, db: str, image: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANCHORE_")}
    return {**env, "PATH": f"{_shim(tmp_path)}:{env['PATH']}", "IMAGE": image,
            "BUNDLE": str(BUNDLE), "ANCHORE_VULN_DB": db, **more}  # fmt: skip


def _sarif(path: Path) -> dict:
    log = json.loads(path.read_text())
    assert log["version"] == "2.1.0" and log["runs"][0]["tool"]["driver"]["name"] == "anchore"
    return log


def test_github_actions_example_scans_uploads_and_fails_on_stop(db, image, tmp_path):
    doc = yaml.safe_load((CI / "github-actions.yml").read_text())
    assert doc["permissions"]["security-events"] == "write"
    steps = doc["jobs"]["scan"]["steps"]
    uploads = [
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    ]
    assert {s["with"]["sarif_file"] for s in uploads} == {
        "anchore-vulns.sarif",
        "anchore-policy.sarif",
    }
    assert len({s["with"]["category"] for s in uploads}) == 2  # one analysis each
    # no configuration from the checkout (a pull request's own anchore.yaml), and anchore
    # installed from where the team keeps it, not from PyPI's unrelated "anchore"
    assert doc["env"]["ANCHORE_CONFIG"] == "/dev/null"
    (install,) = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert install.endswith('"$ANCHORE_PACKAGE"') and "git+" in doc["env"]["ANCHORE_PACKAGE"]
    (tmp_path / "anchore.yaml").write_text("vulns: {allow-unchecked: true, not-a-key: 1}\n")
    env = {**_env(tmp_path, db, image), "ANCHORE_CONFIG": doc["env"]["ANCHORE_CONFIG"]}
    outputs: dict[str, dict[str, str]] = {}
    codes: dict[str, int] = {}
    for step in steps:
        run = step.get("run")
        if not run or "docker " in run or "pip install" in run:
            continue  # a Docker build and the installation are not this test's
        written = tmp_path / "github-output"
        written.write_text("")
        step_env = {
            k: re.sub(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}",
                      lambda m: outputs[m[1]][m[2]], str(v))
            for k, v in step.get("env", {}).items()
        }  # fmt: skip
        done = subprocess.run(["bash", "-e", "-c", run], cwd=tmp_path, capture_output=True,
                              text=True, env={**env, **step_env, "GITHUB_OUTPUT": str(written)})  # fmt: skip
        codes[step["name"]] = done.returncode
        if "id" in step:
            outputs[step["id"]] = dict(
                line.split("=", 1) for line in written.read_text().splitlines()
            )
    assert outputs["vulns"]["code"] == str(ExitCode.OK)
    assert outputs["policy"]["code"] == str(ExitCode.FAILED)  # debian-py: STOP
    _sarif(tmp_path / "anchore-vulns.sarif")
    assert (
        _sarif(tmp_path / "anchore-policy.sarif")["runs"][0]["properties"]["finalAction"] == "STOP"
    )
    last = steps[-1]
    assert codes[last["name"]] == 1  # the build fails on STOP
    for vulns, policy, fails in [("0", "0", False), ("0", "2", False), ("3", "0", True),
                                 ("5", "0", True), ("0", "5", True)]:  # fmt: skip
        done = subprocess.run(["bash", "-e", "-c", last["run"]], capture_output=True,
                              env={**env, "VULNS": vulns, "POLICY": policy})  # fmt: skip
        assert (done.returncode != 0) == fails, (vulns, policy)


def test_gitlab_ci_example_keeps_the_sarif_and_fails_on_stop(db, image, tmp_path):
    doc = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    job = doc["anchore"]
    assert set(job["artifacts"]["paths"]) == {"anchore-vulns.sarif", "anchore-policy.sarif"}
    assert job["artifacts"]["when"] == "always"
    assert job["variables"]["ANCHORE_REGISTRY_HOST"] == "$CI_REGISTRY"
    assert job["variables"]["ANCHORE_CONFIG"] == "/dev/null"
    assert job["before_script"] == ['python -m pip install "$ANCHORE_PACKAGE"']
    assert "git+" in job["variables"]["ANCHORE_PACKAGE"]
    (tmp_path / "anchore.yaml").write_text("vulns: {allow-unchecked: true, not-a-key: 1}\n")
    script = "\n".join(["set -eo pipefail", *job["script"]])  # as GitLab's runner runs it
    env = {**_env(tmp_path, db, image), "ANCHORE_CONFIG": job["variables"]["ANCHORE_CONFIG"]}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env=env)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "anchore vulns exited 0; anchore evaluate exited 1" in done.stdout
    _sarif(tmp_path / "anchore-vulns.sarif")
    _sarif(tmp_path / "anchore-policy.sarif")


# ---------------------------------------------------------------- the docs show real output
def _doc_block(page: str, command: str) -> list[str]:
    """The lines a ```console block of ``page`` shows after ``$ command``."""
    text = (ROOT / "docs" / page).read_text()
    start = text.index(f"$ {command}\n") + len(command) + 3
    return text[start : text.index("```", start)].splitlines()


@pytest.mark.parametrize(
    ("page", "command", "width"),
    [
        ("policy.md", "anchore evaluate --db vulns.sqlite --bundle examples/policy/bundle.json "
         "debian-py.docker.tar", 160),
        ("vulns.md", "anchore vulns --db vulns.sqlite debian-py.docker.tar", 120),
    ],
)  # fmt: skip
def test_docs_show_what_the_cli_prints(db, image, capsys, monkeypatch, page, command, width):
    """Every line a page shows (but its notes of rows left out) is a line the command
    prints at that width, in the same order."""
    monkeypatch.setenv("COLUMNS", str(width))
    argv = command.split()[1:]
    argv[argv.index("vulns.sqlite")] = db
    argv[argv.index("debian-py.docker.tar")] = image
    argv = [str(ROOT / a) if a.startswith("examples/") else a for a in argv]
    _, printed = _lines(capsys, [*argv, "-q"])
    shown = [line for line in _doc_block(page, command) if not line.startswith(("(...", "$ "))]
    if shown[-1] == "1":  # what "$ echo $?" printed
        shown.pop()
    position = 0
    for line in shown:
        assert line in printed[position:], f"{page} shows {line!r}, which the CLI does not print"
        position = printed.index(line, position) + 1


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_on_a_terminal_stderr_only(db, image, monkeypatch, capsys, quiet):
    """A bar while the image is analyzed, on stderr when it is a terminal; none with -q,
    and stdout (the table) holds none of it."""
    monkeypatch.setenv("COLUMNS", "120")
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    argv = ["vulns", "--db", db, image, *(["-q"] if quiet else [])]
    assert main(argv) == ExitCode.OK
    out = capsys.readouterr().out
    assert "analyzing" not in out and out.startswith("SEVERITY")
    if quiet:
        assert screen.getvalue() == ""
    else:
        assert "analyzing" in screen.getvalue()


def test_go_fixes_are_spelt_as_go_writes_them_everywhere(db, image, capsys):
    """OSV's Go ranges drop the ``v`` and the toolchain's ``go``: the JSON (and so the
    catalog, the policy's messages and the SARIF, which read Match.fixed_in) puts them back."""
    code, lines = _lines(capsys, ["vulns", "-q", "--db", db, image, "-o", "json"])
    assert code == ExitCode.OK
    matches = json.loads("\n".join(lines))["matches"]
    go = {m["advisory_id"]: m["fixed_in"] for m in matches if m["ecosystem"] == "Go"}
    assert go["GO-2026-4610"] == "v29.2.0+incompatible"
    assert go["GO-2025-3373"] == "go1.23.5"
    assert all(f is None or f[0] in "vg" for f in go.values()), go
