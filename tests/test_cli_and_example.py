"""The command line, on the real example image the README points at."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anchore
from anchore.cli import main
from anchore.errors import ExitCode

EXAMPLE = Path(__file__).parent.parent / "examples" / "busybox" / "busybox.oci.tar"


def test_example_image_is_real_debian():
    image = anchore.open_image(EXAMPLE)
    status = image.read_text("/var/lib/dpkg/status")
    stanzas = {s.split("\n", 1)[0]: s for s in status.strip().split("\n\n")}
    assert set(stanzas) == {"Package: base-files", "Package: busybox-static"}
    assert all("\nStatus: install ok installed\n" in s for s in stanzas.values())
    assert image.read_text("/etc/debian_version").startswith("12.")
    assert image.realpath("/bin/sh") == "/bin/busybox"
    assert image.stat("/bin/sh").size > 1_000_000  # the static busybox binary
    assert not image.exists("/etc/motd") and "/etc/motd" in image.layers[1].whiteouts
    assert image.layers[0].stat("/etc/motd").is_file


def test_inspect(capsys):
    assert main(["inspect", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "platform   linux/amd64" in out
    assert 'cmd ["/bin/sh"]' in out
    assert "layers     2" in out


def test_inspect_json(capsys):
    assert main(["inspect", "--json", str(EXAMPLE)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "oci-archive" and len(data["layers"]) == 2
    assert data["file_count"] == len(anchore.open_image(EXAMPLE))


def test_files_and_cat(capsys):
    assert main(["files", "-l", str(EXAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.endswith("/bin/sh -> /bin/busybox") for line in lines)
    assert main(["files", "--layer", "1", "--own", str(EXAMPLE)]) == 0
    own = capsys.readouterr().out.splitlines()
    assert "/bin/sh" in own and "/var/lib/dpkg/status" not in own
    assert main(["cat", str(EXAMPLE), "/etc/os-release"]) == 0
    assert "bookworm" in capsys.readouterr().out


def test_input_errors_are_one_line_and_exit_input_error(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.tar")]) == ExitCode.INPUT_ERROR == 5
    err = capsys.readouterr().err
    assert err.startswith("anchore: error: ") and "nope.tar" in err
    assert main(["cat", str(EXAMPLE), "/no/such/file"]) == ExitCode.INPUT_ERROR
    assert "/no/such/file" in capsys.readouterr().err


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "anchore", "files", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "/etc/os-release" in result.stdout.splitlines()


def test_piped_output_has_no_progress_and_is_not_cut():
    """Off a terminal (a CI log, a pipe) stderr gets no progress bar and the table is not
    fitted to any width: whole rows for grep."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    result = subprocess.run(
        [sys.executable, "-m", "anchore", "packages", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TYPE", "NAME", "VERSION", "LAYER", "PATH"]
    assert lines[2].split() == ["deb", "busybox-static", "1:1.35.0-4+deb12u1+b1", "0",
                                "/var/lib/dpkg/status"]  # fmt: skip
    assert "\x1b" not in result.stdout and "…" not in result.stdout


def test_cli_docs_exit_code_table_is_exitcode():
    """docs/cli.md carries its own table (per command); it must name the codes the CLI
    has, in order, as docs/errors.md's does (tests/test_docs.py)."""
    doc = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    text = doc.split("## Exit codes and errors", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", text, re.M)
    assert [(int(code), name) for code, name in rows] == [(int(c), c.name) for c in ExitCode]


def test_version_loads_neither_rich_nor_sqlalchemy():
    """Every run pays for what the CLI imports at startup: rich (~20 ms) is imported where
    a table or a bar is drawn, SQLAlchemy only by the catalog (and `anchore config`)."""
    code = (
        "import sys, contextlib, io\n"
        "from anchore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--version']) == 0\n"
        "print('rich' in sys.modules, 'sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
