"""Every command with every kind of bad argument: the documented exit code, never a traceback.

A pipeline must tell "the image is bad" (1, 2, 3) from "the command line is
wrong" (4), "an input cannot be used" (5) and "anchore crashed" (6). Each case
runs the real ``python -m anchore`` in a subprocess and checks stderr as a
user sees it: one ``anchore: error:`` line naming the culprit for an input
error, argparse's usage and error for a usage error.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import anchore
import imagebuilder as ib
from anchore.cli import build_parser, images, main
from anchore.errors import AnchoreError, ExitCode

ROOT = Path(__file__).parent.parent
EXAMPLE = str(ROOT / "examples" / "busybox" / "busybox.oci.tar")
BUNDLE = str(ROOT / "examples" / "policy" / "bundle.json")
SECDB = ROOT / "tests" / "data" / "alpine-secdb" / "v3.10" / "main.yaml"
USAGE = ExitCode.USAGE_ERROR
INPUT = ExitCode.INPUT_ERROR


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Real files of every kind a command line names, good and bad."""
    d = tmp_path_factory.mktemp("cli-inputs")
    (d / "cache").mkdir()
    env = _env(d)
    store = d / "store.db"
    loaded = _run(["db", "--db", str(store), "load", str(SECDB)], env)
    assert loaded.returncode == 0, loaded.stderr
    one_layer = ib.oci_archive(
        d / "one-layer.oci.tar", ib.build([[ib.d("etc"), ib.f("etc/os-release", "ID=x\n")]])
    )
    two_images = ib.docker_archive(
        d / "two.tar",
        [(["one:1"], ib.build([[ib.f("a", "1")]])), (["two:2"], ib.build([[ib.f("b", "2")]]))],
    )
    (d / "not-an-image").mkdir()
    (d / "empty-feed").mkdir()
    (d / "notes.txt").write_text("not an image, a bundle or a feed\n")
    (d / "ignore-no-reason.json").write_text(json.dumps([{"id": "CVE-2020-1"}]))
    (d / "ignore-object.json").write_text(json.dumps({"id": "CVE-2020-1", "reason": "r"}))
    (d / "ignore-typo.json").write_text(json.dumps([{"idd": "CVE-2020-1", "reason": "r"}]))
    (d / "bundle-typo.json").write_text(json.dumps({"id": "b", "rulez": []}))
    return {
        "dir": str(d),
        "image": EXAMPLE,
        "one_layer": one_layer,
        "two_images": two_images,
        "store": str(store),
        "bundle": BUNDLE,
        "missing": str(d / "missing.tar"),
        "missing_json": str(d / "missing.json"),
        "missing_db": str(d / "missing.db"),
        "not_image": str(d / "not-an-image"),
        "notes": str(d / "notes.txt"),
        "empty_feed": str(d / "empty-feed"),
        "ignore_no_reason": str(d / "ignore-no-reason.json"),
        "ignore_object": str(d / "ignore-object.json"),
        "ignore_typo": str(d / "ignore-typo.json"),
        "bundle_typo": str(d / "bundle-typo.json"),
    }


def _env(d: Path) -> dict[str, str]:
    """No user cache or default store: every store the commands see is one we made."""
    env = dict(os.environ)
    env.pop("ANCHORE_VULN_DB", None)
    env.update(XDG_CACHE_HOME=str(d / "cache"), HOME=str(d), PYTHONPATH=str(ROOT / "src"))
    return env


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anchore", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


# the commands that open an image, with the arguments they need besides it
IMAGE_COMMANDS = {
    "inspect": ["inspect", "{image}"],
    "files": ["files", "{image}"],
    "cat": ["cat", "{image}", "/etc/os-release"],
    "analyze": ["analyze", "{image}"],
    "vulns": ["vulns", "--db", "{store}", "{image}"],
    "evaluate": ["evaluate", "--db", "{store}", "--bundle", "{bundle}", "{image}"],
}


def _with(command: str, image: str, *extra: str) -> list[str]:
    argv = [image if a == "{image}" else a for a in IMAGE_COMMANDS[command]]
    return [*argv, *extra]


# (argv, the words the one error line must hold)
INPUT_ERRORS: list[Any] = []
for _cmd in IMAGE_COMMANDS:
    INPUT_ERRORS += [
        pytest.param(_with(_cmd, "{missing}"), ["{missing}"], id=f"{_cmd}-missing-image"),
        pytest.param(
            _with(_cmd, "{not_image}"),
            ["{not_image}", "not an image"],
            id=f"{_cmd}-directory-not-image",
        ),
        pytest.param(
            _with(_cmd, "{notes}"), ["{notes}", "not an image"], id=f"{_cmd}-file-not-image"
        ),
        pytest.param(
            _with(_cmd, "{image}", "--tag", "nosuch"),
            ["nosuch", "busybox"],
            id=f"{_cmd}-unknown-tag",
        ),
        pytest.param(
            _with(_cmd, "{image}", "--platform", "linux/arm64"),
            ["linux/arm64"],
            id=f"{_cmd}-absent-platform",
        ),
        pytest.param(
            _with(_cmd, "{two_images}"),
            ["{two_images}", "one:1", "two:2"],
            id=f"{_cmd}-several-images-no-tag",
        ),
    ]
INPUT_ERRORS += [
    pytest.param(["files", "--layer", "9", "{one_layer}"],
                 ["{one_layer}", "no layer 9", "1 layer: --layer takes 0"], id="files-layer-out-of-range"),
    pytest.param(["files", "--layer", "1", "--own", "{one_layer}"],
                 ["{one_layer}", "no layer 1", "1 layer: --layer takes 0"], id="files-own-layer-out-of-range"),
    pytest.param(["files", "--layer", "2", "{image}"], ["{image}", "no layer 2", "0 to 1"],
                 id="files-layer-past-the-last"),
    pytest.param(["inspect", "/proc/self/mem"], ["/proc/self/mem", "cannot be read"],
                 id="inspect-unreadable-source"),
    pytest.param(["cat", "{image}", "/no/such/file"], ["/no/such/file"], id="cat-missing-path"),
    pytest.param(["cat", "{image}", "/etc"], ["/etc", "directory"], id="cat-directory"),
    pytest.param(["vulns", "--db", "{missing_db}", "{image}"], ["{missing_db}"],
                 id="vulns-missing-store"),
    pytest.param(["vulns", "--db", "{notes}", "{image}"], ["{notes}"], id="vulns-store-not-a-store"),
    pytest.param(["vulns", "--db", "{store}", "--ignore", "{missing_json}", "{image}"],
                 ["{missing_json}"], id="vulns-missing-ignore-file"),
    pytest.param(["vulns", "--db", "{store}", "--ignore", "{notes}", "{image}"], ["{notes}"],
                 id="vulns-ignore-file-not-json"),
    pytest.param(["vulns", "--db", "{store}", "--ignore", "{ignore_no_reason}", "{image}"],
                 ["{ignore_no_reason}", "reason"], id="vulns-ignore-rule-without-reason"),
    pytest.param(["vulns", "--db", "{store}", "--ignore", "{ignore_object}", "{image}"],
                 ["{ignore_object}", "list"], id="vulns-ignore-file-not-a-list"),
    pytest.param(["vulns", "--db", "{store}", "--ignore", "{ignore_typo}", "{image}"],
                 ["{ignore_typo}", "idd"], id="vulns-ignore-rule-unknown-key"),
    pytest.param(["vulns", "--db", "{store}", "--vex", "{missing_json}", "{image}"],
                 ["{missing_json}"], id="vulns-missing-vex-file"),
    pytest.param(["vulns", "--db", "{store}", "--vex", "{notes}", "{image}"], ["{notes}"],
                 id="vulns-vex-file-not-json"),
    pytest.param(["evaluate", "--db", "{store}", "--bundle", "{missing_json}", "{image}"],
                 ["{missing_json}"], id="evaluate-missing-bundle"),
    pytest.param(["evaluate", "--db", "{store}", "--bundle", "{notes}", "{image}"], ["{notes}"],
                 id="evaluate-bundle-not-json"),
    pytest.param(["evaluate", "--db", "{store}", "--bundle", "{bundle_typo}", "{image}"],
                 ["{bundle_typo}", "rulez"], id="evaluate-bundle-unknown-key"),
    pytest.param(["evaluate", "--db", "{missing_db}", "--bundle", "{bundle}", "{image}"],
                 ["{missing_db}"], id="evaluate-missing-store"),
    pytest.param(["evaluate", "--db", "{store}", "--bundle", "{bundle}", "--base", "{missing}",
                  "{image}"], ["{missing}"], id="evaluate-missing-base-image"),
    pytest.param(["db", "--db", "{missing_db}", "info"], ["{missing_db}"], id="db-info-missing-store"),
    pytest.param(["db", "--db", "{notes}", "info"], ["{notes}"], id="db-info-not-a-store"),
    pytest.param(["db", "--db", "{store}", "load", "{missing_json}"], ["{missing_json}"],
                 id="db-load-missing-feed"),
    pytest.param(["db", "--db", "{store}", "load", "{empty_feed}"], ["{empty_feed}"],
                 id="db-load-directory-without-feed"),
    pytest.param(["db", "--db", "{store}", "load", "{notes}"], ["{notes}"],
                 id="db-load-file-not-a-feed"),
]  # fmt: skip

USAGE_ERRORS: list[Any] = [
    pytest.param([], "command", id="no-command"),
    pytest.param(["nosuch"], "nosuch", id="unknown-command"),
    pytest.param(["--nosuch", "plugins"], "--nosuch", id="unknown-global-option"),
    pytest.param(["plugins", "extra"], "extra", id="plugins-extra-argument"),
    pytest.param(["inspect"], "image", id="inspect-no-image"),
    pytest.param(["cat", "{image}"], "path", id="cat-no-path"),
    pytest.param(["files", "--layer", "x", "{image}"], "--layer", id="files-layer-not-a-number"),
    pytest.param(["files", "--layer", "-1", "{image}"], "negative", id="files-negative-layer"),
    pytest.param(["files", "--own", "{image}"], "--own", id="files-own-without-layer"),
    pytest.param(
        ["analyze", "--analyzers", ",", "{image}"], "--analyzers", id="analyze-empty-analyzer-list"
    ),
    pytest.param(
        ["analyze", "--analyzers", "dpkg,nosuch", "{image}"],
        "nosuch",
        id="analyze-unknown-analyzer",
    ),
    pytest.param(
        ["analyze", "--analyzers", "dpkgg", "{image}"],
        "did you mean 'dpkg'",
        id="analyze-misspelled-analyzer",
    ),
    pytest.param(
        ["analyze", "--files", "{image}"], "--files needs --json", id="analyze-files-without-json"
    ),
    pytest.param(["evaluate", "{image}"], "--bundle", id="evaluate-no-bundle"),
    pytest.param(["vulns", "--fail-on", "bogus", "{image}"], "--fail-on", id="vulns-bad-fail-on"),
    pytest.param(["db"], "db_command", id="db-no-subcommand"),
    pytest.param(["db", "load"], "paths", id="db-load-no-paths"),
    pytest.param(["db", "nosuch"], "nosuch", id="db-unknown-subcommand"),
    pytest.param(["db", "info", "--nosuch"], "--nosuch", id="db-info-unknown-option"),
    pytest.param(
        ["db", "--db", "{store}", "load", "--feed", "nosuch", str(SECDB)],
        "nosuch",
        id="db-load-unknown-feed-reader",
    ),
]
for _cmd in IMAGE_COMMANDS:
    USAGE_ERRORS += [
        pytest.param(_with(_cmd, "{image}", "--nosuch"), "--nosuch", id=f"{_cmd}-unknown-option"),
        pytest.param(
            _with(_cmd, "{image}", "--platform", "bogus"), "bogus", id=f"{_cmd}-bad-platform"
        ),
    ]


def _fill(items: list[str], inputs: dict[str, str]) -> list[str]:
    return [item.format(**inputs) for item in items]


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


@pytest.mark.parametrize(("argv", "needles"), INPUT_ERRORS)
def test_input_error_is_one_line_naming_the_culprit(argv, needles, inputs):
    result = _run(_fill(argv, inputs), _env(Path(inputs["dir"])))
    _no_traceback(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("anchore: error: "), result.stderr
    for needle in _fill(needles, inputs):
        assert needle in lines[0]
    assert result.returncode == INPUT, result.stderr
    assert result.stdout == ""  # no partial answer that could pass for a whole one


@pytest.mark.parametrize(("argv", "needle"), USAGE_ERRORS)
def test_usage_error_shows_usage_and_exits_usage_error(argv, needle, inputs):
    result = _run(_fill(argv, inputs), _env(Path(inputs["dir"])))
    _no_traceback(result)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("usage: anchore"), result.stderr
    assert re.match(r"anchore( [a-z]+)*: error: ", lines[-1]), result.stderr
    assert needle in lines[-1]
    assert sum("error:" in line for line in lines) == 1
    assert result.returncode == USAGE
    assert result.stdout == ""


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["files", "--help"]])
def test_help_and_version_exit_ok(argv, inputs):
    result = _run(argv, _env(Path(inputs["dir"])))
    assert result.returncode == ExitCode.OK and result.stdout and not result.stderr


# ---- internal errors, --debug, interrupts, pipes ----
BOOM = """
import sys
import anchore.cli.images as images
from anchore.cli import main

def boom(args):
    raise RuntimeError("boom in the inspect command")

images.cmd_inspect = boom
sys.exit(main(sys.argv[1:]))
"""


def test_internal_error_is_one_line_and_exit_internal_error(inputs):
    result = subprocess.run(
        [sys.executable, "-c", BOOM, "inspect", EXAMPLE],
        capture_output=True,
        text=True,
        env=_env(Path(inputs["dir"])),
    )
    _no_traceback(result)
    assert result.returncode == ExitCode.INTERNAL_ERROR == 6
    assert result.stderr.splitlines() == [
        "anchore: internal error: RuntimeError: boom in the inspect command "
        "(run with --debug for the traceback; please report it)"
    ]


@pytest.mark.parametrize(
    "argv",
    [["--debug", "inspect", EXAMPLE], ["inspect", EXAMPLE, "--debug"]],
    ids=["before", "after"],
)
def test_debug_shows_the_traceback(argv, inputs):
    result = subprocess.run(
        [sys.executable, "-c", BOOM, *argv],
        capture_output=True,
        text=True,
        env=_env(Path(inputs["dir"])),
    )
    assert result.returncode == ExitCode.INTERNAL_ERROR
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in boom" in result.stderr and "RuntimeError: boom" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("anchore: internal error: RuntimeError")


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "files", "--layer", "9", "{one_layer}"],
        ["files", "--layer", "9", "{one_layer}", "--debug"],
        ["db", "--db", "{store}", "load", "{missing_json}", "--debug"],
        ["db", "--debug", "--db", "{store}", "load", "{missing_json}"],
        ["cat", "{image}", "/etc", "--debug"],
    ],
)
def test_debug_on_an_input_error_adds_the_traceback_and_keeps_the_code(argv, inputs):
    result = _run(_fill(argv, inputs), _env(Path(inputs["dir"])))
    assert result.returncode == INPUT
    assert "Traceback (most recent call last):" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("anchore: error: ")


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(images, "cmd_inspect", interrupted)
    assert main(["inspect", EXAMPLE]) == ExitCode.INTERRUPTED == 130
    assert "Traceback" not in capsys.readouterr().err


def test_a_command_returning_no_exit_code_is_an_internal_error(monkeypatch, capsys):
    monkeypatch.setattr(images, "cmd_plugins", lambda args: 42)
    assert main(["plugins"]) == ExitCode.INTERNAL_ERROR
    assert capsys.readouterr().err.startswith("anchore: internal error: ValueError: 42")


def test_broken_pipe_is_quiet_and_not_a_success(tmp_path, inputs):
    """``anchore files IMAGE | head -1``: no noise, and a status that says it did not finish."""
    many = [ib.d("data")] + [ib.f(f"data/file-{i:05d}-{'x' * 40}", "") for i in range(4000)]
    image = ib.oci_archive(tmp_path / "many.oci.tar", ib.build([many]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "anchore", "files", "--json", image],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(Path(inputs["dir"])),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"{")
    proc.stdout.close()  # the reader goes away, as head does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == ExitCode.BROKEN_PIPE == 141
    assert err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", EXAMPLE],
        ["inspect", "--json", EXAMPLE],
        ["files", EXAMPLE],
        ["files", "--layer", "1", "--own", EXAMPLE],
        ["cat", EXAMPLE, "/etc/os-release"],
        ["analyze", "--analyzers", "dpkg", EXAMPLE],
        ["plugins"],
        ["db", "--db", "{store}", "info"],
        ["vulns", "--db", "{store}", EXAMPLE],
        ["evaluate", "--db", "{store}", "--bundle", BUNDLE, EXAMPLE],
    ],
)
def test_commands_return_exit_code_members(argv, inputs, capsys):
    args = build_parser().parse_args(_fill(argv, inputs))
    assert type(args.func(args)) is ExitCode
    capsys.readouterr()


# ---- the documentation lists every exit code and every error ----
def _documented_codes(doc: Path) -> dict[str, int]:
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|", doc.read_text(), re.M)
    return {name: int(value) for value, name in rows}


@pytest.mark.parametrize("doc", ["cli.md", "errors.md"])
def test_docs_list_every_exit_code(doc):
    assert _documented_codes(ROOT / "docs" / doc) == {c.name: c.value for c in ExitCode}


def _all_error_classes() -> set[type[AnchoreError]]:
    for info in pkgutil.walk_packages(anchore.__path__, "anchore."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found: set[type[AnchoreError]] = set()
    todo: list[type[AnchoreError]] = [AnchoreError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo += cls.__subclasses__()
    return {cls for cls in found if cls.__module__.startswith("anchore")}


def test_errors_doc_lists_every_anchore_error():
    text = (ROOT / "docs" / "errors.md").read_text()
    missing = sorted(cls.__name__ for cls in _all_error_classes() if cls.__name__ not in text)
    assert missing == []
