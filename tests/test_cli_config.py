"""Configuration: anchore.yaml (project and user), $ANCHORE_CONFIG/--config, ANCHORE_*
variables and flags, in that order of precedence; nothing unknown is ignored; ``anchore
config`` shows what is in effect and where it came from (docs/configuration.md)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from anchore.cli import build_parser, config, main
from anchore.errors import ConfigError, ExitCode
from anchore.image import Platform
from anchore.vulns import Store, load
from testdata import PYPA_ZIP

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "configuration.md"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private home, config home and working directory; no ANCHORE_* but the corpus'."""
    for name in list(os.environ):
        if name.startswith("ANCHORE_") and name != "ANCHORE_CORPUS":
            monkeypatch.delenv(name)
    (tmp_path / "home").mkdir()
    (tmp_path / "project").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path


def user_file(home: Path, text: str) -> Path:
    path = home / "xdg" / "anchore" / "anchore.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def project_file(home: Path, text: str, name: str = "anchore.yaml") -> Path:
    path = home / "project" / name
    path.write_text(text)
    return path


def parse(*argv: str):
    """What main would parse: the parser, configured, then the command line."""
    parser = build_parser()
    config.apply(parser, list(argv))
    return parser.parse_args(list(argv))


def fails(capsys, *argv: str) -> str:
    """main(argv) fails with a one-line configuration error: its text."""
    assert main(list(argv)) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("anchore: error: ") and err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------- files
def test_project_file_sets_defaults_of_the_commands_that_have_the_key(home):
    project_file(home, "platform: linux/arm64\nvulns:\n  fail-on: high\n")
    args = parse("vulns", "img.tar")
    assert args.fail_on == "high"
    assert args.platform == Platform.parse("linux/arm64")  # converted as the flag is
    assert parse("analyze", "img.tar").platform == Platform.parse("linux/arm64")
    assert parse("evaluate", "img.tar", "--bundle", "b.json").platform == Platform.parse(
        "linux/arm64"
    )


def test_a_required_option_may_come_from_the_configuration(home, capsys):
    assert main(["evaluate", "img.tar"]) == ExitCode.USAGE_ERROR
    assert "required: --bundle" in capsys.readouterr().err
    project_file(home, "evaluate: {bundle: policy.json}\n")
    assert parse("evaluate", "img.tar").bundle == "policy.json"


def test_dot_anchore_yaml_is_read_too_but_not_both(home, capsys):
    project_file(home, "vulns: {fail-on: low}\n", ".anchore.yaml")
    assert parse("vulns", "x").fail_on == "low"
    project_file(home, "vulns: {fail-on: low}\n")
    err = fails(capsys, "vulns", "x")
    assert "anchore.yaml and .anchore.yaml" in err and "keep one" in err


def test_user_file_under_xdg_config_home_and_home(home, monkeypatch):
    user_file(home, "fail-on: medium\n")
    assert parse("vulns", "x").fail_on == "medium"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    path = home / "home" / ".config" / "anchore" / "anchore.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("fail-on: critical\n")
    assert parse("vulns", "x").fail_on == "critical"


def test_project_file_overrides_the_user_file_key_by_key(home):
    user_file(home, "fail-on: low\ninsecure-skip-tls-verify: true\n")
    project_file(home, "fail-on: high\n")
    args = parse("vulns", "x")
    assert args.fail_on == "high"  # the project's
    assert args.insecure_skip_tls_verify is True  # the user's, kept


def test_config_flag_and_env_name_the_one_file_read(home, capsys, monkeypatch):
    user_file(home, "fail-on: low\n")
    project_file(home, "platform: linux/arm64\n")
    chosen = home / "ci.yaml"
    chosen.write_text("fail-on: critical\n")
    for argv in (["--config", str(chosen), "vulns", "x"], ["vulns", "x", f"--config={chosen}"]):
        args = parse(*argv)
        assert args.fail_on == "critical" and args.platform is None  # neither other file
    monkeypatch.setenv("ANCHORE_CONFIG", str(chosen))
    assert parse("vulns", "x").fail_on == "critical"
    other = home / "other.yaml"
    other.write_text("fail-on: medium\n")
    assert parse("--config", str(other), "vulns", "x").fail_on == "medium"  # the flag wins
    err = fails(capsys, "--config", str(home / "nope.yaml"), "vulns", "x")
    assert "nope.yaml" in err and "--config" in err
    monkeypatch.setenv("ANCHORE_CONFIG", str(home / "gone.yaml"))
    err = fails(capsys, "vulns", "x")
    assert "gone.yaml" in err and "$ANCHORE_CONFIG" in err


def test_config_given_twice_or_abbreviated_is_a_usage_error(home, capsys):
    """Two files: the configuration read the first, argparse kept the last, so a run and
    ``anchore config`` disagreed. ``--conf`` was taken by argparse for ``--config`` but
    never read as one: the file was silently skipped (a CI's fail-on: high ignored)."""
    first, second = home / "a.yaml", home / "ci.yaml"
    first.write_text("fail-on: low\n")
    second.write_text("fail-on: high\n")
    for argv in (
        ["--config", str(first), "vulns", "x", "--config", str(second)],
        ["vulns", f"--config={first}", "--config", str(second), "x"],
        ["--config", str(first), "config", "--config", str(second), "vulns"],
    ):
        assert main(argv) == ExitCode.USAGE_ERROR, argv
        err = capsys.readouterr().err
        assert "--config given twice" in err and str(second) in err
    for word in ("--conf", "--confi", "--con"):
        assert main([word, str(second), "vulns", "x"]) == ExitCode.USAGE_ERROR
        assert main(["vulns", "x", word, str(second)]) == ExitCode.USAGE_ERROR
        capsys.readouterr()


def test_config_dev_null_reads_no_file_at_all(home, capsys, monkeypatch):
    """A CI job on a pull request must not take the branch's ./anchore.yaml."""
    user_file(home, "platform: linux/arm64\n")
    project_file(home, "fail-on: low\nallow-unchecked: true\n")
    assert parse("vulns", "x").fail_on == "low"
    args = parse("--config", os.devnull, "vulns", "x")
    assert args.fail_on is None and args.allow_unchecked is False and args.platform is None
    monkeypatch.setenv("ANCHORE_CONFIG", os.devnull)
    assert parse("vulns", "x").fail_on is None
    monkeypatch.setenv("ANCHORE_FAIL_ON", "high")  # variables and flags still apply
    assert parse("vulns", "x").fail_on == "high"
    assert main(["config", "--path", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == []


def test_config_never_prints_the_catalog_password(home, capsys, monkeypatch):
    """``anchore config`` is what a CI log runs to see what is in effect."""
    url = "postgresql://scan:S3cretPW@db.example.com/cat?sslpassword=Other5ecret"
    for source in ("variable", "file"):
        if source == "variable":
            monkeypatch.setenv("ANCHORE_CATALOG", url)
        else:
            monkeypatch.delenv("ANCHORE_CATALOG")
            project_file(home, f"catalog: '{url}'\n")
        for fmt in ("table", "json", "yaml"):
            assert main(["config", "-o", fmt]) == 0
            out = capsys.readouterr().out
            assert "S3cretPW" not in out and "Other5ecret" not in out, (source, fmt)
            assert "postgresql://scan:***@db.example.com/cat" in out, (source, fmt)
        assert main(["config", "catalog", "add", "-o", "json"]) == 0
        assert "S3cretPW" not in capsys.readouterr().out


def test_output_variable_is_refused_with_advice_a_variable_can_follow(home, capsys, monkeypatch):
    """GRYPE_OUTPUT/SYFT_OUTPUT users try ANCHORE_OUTPUT: the message is the same every
    run (it listed commands in set order), short, and says what to do instead."""
    monkeypatch.setenv("ANCHORE_OUTPUT", "json")
    messages = {fails(capsys, "plugins") for _ in range(3)}
    assert len(messages) == 1
    (err,) = messages
    assert err.startswith("anchore: error: $ANCHORE_OUTPUT: --output means different things")
    assert "so it has no variable; unset $ANCHORE_OUTPUT and set output in a command's " in err
    assert len(err) < 300


@pytest.mark.parametrize("broken", ["variable", "file"])
def test_version_and_help_work_whatever_the_configuration(home, capsys, monkeypatch, broken):
    if broken == "variable":
        monkeypatch.setenv("ANCHORE_OUTPUT", "json")
    else:
        project_file(home, "fail-on: [\n")
    for argv in (["--version"], ["--help"], ["vulns", "-h"]):
        assert main(argv) == ExitCode.OK, argv
        assert capsys.readouterr().out
    fails(capsys, "plugins")  # a command still stops on it


SBOM = str(ROOT / "tests/data/syft-testdata/syft/pkg/cataloger/java/testdata/graalvm-sbom/"
           "micronaut.json")  # fmt: skip


@pytest.mark.parametrize("source", ["variable", "file"])
def test_a_configured_platform_or_analyzers_is_not_used_on_an_sbom(home, capsys, monkeypatch,
                                                                   source):  # fmt: skip
    """``platform: linux/arm64`` in a user file (natural for multi-arch pulls) made every
    SBOM a usage error blaming --platform, a flag never typed."""
    if source == "variable":
        monkeypatch.setenv("ANCHORE_PLATFORM", "linux/arm64")
        monkeypatch.setenv("ANCHORE_ANALYZERS", "dpkg")
        where = "$ANCHORE_PLATFORM"
    else:
        where = str(user_file(home, "platform: linux/arm64\nanalyze: {analyzers: dpkg}\n"))
    assert main(["packages", SBOM, "-o", "json"]) == ExitCode.OK
    err = capsys.readouterr().err
    assert f"anchore: note: platform linux/arm64 (from {where}) is for images;" in err
    assert main(["analyze", SBOM, "-o", "json"]) == ExitCode.OK
    assert "anchore: note: analyzers dpkg (from " in capsys.readouterr().err
    # typed, it is still refused: never silently dropped
    assert main(["packages", SBOM, "--platform", "linux/arm64"]) == ExitCode.USAGE_ERROR
    assert "--platform chooses within an image" in capsys.readouterr().err
    assert main(["analyze", SBOM, "--analyzers", "dpkg"]) == ExitCode.USAGE_ERROR
    assert "--analyzers chooses within an image" in capsys.readouterr().err


def test_config_flag_is_in_help_before_and_after_the_command(home, capsys):
    assert main(["--help"]) == 0
    assert "--config FILE" in capsys.readouterr().out
    assert main(["vulns", "--help"]) == 0
    assert "--config FILE" in capsys.readouterr().out


def test_nested_sections_and_lists(home):
    project_file(
        home,
        "insecure-registry: [localhost:5000]\n"
        "catalog:\n  catalog: cat.db\n  add:\n    workers: 4\n"
        "db:\n  update:\n    feed: [osv]\n",
    )
    args = parse("catalog", "add", "img")
    assert args.workers == 4 and args.catalog == "cat.db"
    assert args.insecure_registry == ["localhost:5000"]
    assert parse("catalog", "list").catalog == "cat.db"
    assert parse("db", "update").feed == ["osv"]
    # a flag adds to a configured list, as a repeated flag does
    args = parse("vulns", "x", "--insecure-registry", "reg:80")
    assert args.insecure_registry == ["localhost:5000", "reg:80"]
    assert parse("vulns", "y").insecure_registry == ["localhost:5000"]  # not mutated


# ---------------------------------------------------------------- nothing is ignored
BAD_FILES = {
    "typo": ("fail-onn: high\n", r"fail-onn: unknown key; did you mean 'fail-on'"),
    "typo-in-section": (
        "vulns:\n  fial-on: high\n",
        r"vulns\.fial-on: unknown key; did you mean 'fail-on'",
    ),
    "per-run-option": ("tag: latest\n", r"tag: unknown key"),
    "section-scalar": ("vulns: high\n", r"vulns: a command's section is a mapping"),
    "bad-choice": (
        "vulns:\n  fail-on: hihg\n",
        r"vulns\.fail-on: 'hihg' is not one of low, medium, high, critical",
    ),
    "bad-type": ("platform: linux\n", r"platform: 'linux' is not valid: platform 'linux'"),
    "bad-int": ("catalog:\n  add:\n    workers: many\n", r"catalog\.add\.workers: 'many' is not"),
    "flag-as-text": ("quiet: yes please\n", r"quiet: expected true or false"),
    "list-for-value": ("fail-on: [high]\n", r"fail-on: expected a single value"),
    "scalar-for-list": ("insecure-registry: reg:80\n", r"insecure-registry: expected a list"),
    "mapping-for-value": ("db: {path: x}\n", r"db\.path: unknown key"),
    "ambiguous-top-level": (
        "output: json\n",
        r"output: --output means different things to analyze, cache info, cache prune, "
        r"catalog add and \d+ more; set it in a command's section \(e\.g\. analyze: ",
    ),
    "duplicate-key": (
        "fail-on: high\nquiet: true\nfail-on: low\n",
        r"'fail-on' is given twice \(again at line 3\)",
    ),
    "not-yaml": ("fail-on: high\n  bad: [\n", r"not valid YAML"),
    "not-a-mapping": ("- fail-on\n", r"a configuration is a mapping of keys to values, not a list"),
    "self-alias": ("a: &a [*a]\n", r"inside the node it names"),
    "too-deep": ("a: " + "[" * 100 + "]" * 100 + "\n", r"nested deeper than 64 levels"),
}


@pytest.mark.parametrize(("text", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_an_error_naming_file_key_and_problem(home, capsys, text, expected):
    path = project_file(home, text)
    err = fails(capsys, "vulns", "x")
    assert err.startswith(f"anchore: error: {path}: "), err
    assert re.search(expected, err), err
    with pytest.raises(ConfigError):
        config.apply(build_parser(), ["vulns", "x"])


def test_an_empty_file_is_no_configuration(home):
    project_file(home, "# nothing yet\n")
    assert parse("vulns", "x").fail_on is None


def test_section_output_is_per_command(home):
    project_file(home, "vulns: {output: json}\nreport: {output: out.html}\n")
    assert parse("vulns", "x").output == "json"
    assert parse("report", "x").output == "out.html"
    assert parse("evaluate", "x", "--bundle", "b.yaml").output is None


# ---------------------------------------------------------------- environment and flags
def test_precedence_default_file_env_flag(home, monkeypatch):
    assert parse("vulns", "x").fail_on is None
    user_file(home, "fail-on: low\n")
    assert parse("vulns", "x").fail_on == "low"
    project_file(home, "vulns: {fail-on: medium}\n")
    assert parse("vulns", "x").fail_on == "medium"
    monkeypatch.setenv("ANCHORE_FAIL_ON", "high")  # a variable beats any file's section
    assert parse("vulns", "x").fail_on == "high"
    assert parse("vulns", "x", "--fail-on", "critical").fail_on == "critical"


def test_env_values_are_validated_like_flags(home, capsys, monkeypatch):
    monkeypatch.setenv("ANCHORE_FAIL_ON", "hgh")
    assert "$ANCHORE_FAIL_ON: 'hgh' is not one of" in fails(capsys, "vulns", "x")
    monkeypatch.delenv("ANCHORE_FAIL_ON")
    monkeypatch.setenv("ANCHORE_INSECURE_SKIP_TLS_VERIFY", "maybe")
    assert "$ANCHORE_INSECURE_SKIP_TLS_VERIFY: expected true or false" in fails(
        capsys, "vulns", "x"
    )
    monkeypatch.setenv("ANCHORE_INSECURE_SKIP_TLS_VERIFY", "yes")
    monkeypatch.setenv("ANCHORE_INSECURE_REGISTRY", "a:5000, b:80")
    args = parse("vulns", "x")
    assert args.insecure_skip_tls_verify is True
    assert args.insecure_registry == ["a:5000", "b:80"]
    monkeypatch.setenv("ANCHORE_INSECURE_SKIP_TLS_VERIFY", "0")
    assert parse("vulns", "x").insecure_skip_tls_verify is False
    project_file(home, "platform: linux/arm64\n")
    monkeypatch.setenv("ANCHORE_PLATFORM", "")  # empty: unset, the file's value stands
    assert parse("vulns", "x").platform == Platform.parse("linux/arm64")


def test_existing_variables_keep_their_meaning_and_outrank_files(home, monkeypatch):
    project_file(home, "db: from-file.sqlite\ncache-dir: file-cache\ncatalog: file.db\n")
    args = parse("vulns", "x")
    assert (args.db, args.cache_dir) == ("from-file.sqlite", "file-cache")
    monkeypatch.setenv("ANCHORE_VULN_DB", "env.sqlite")
    monkeypatch.setenv("ANCHORE_CACHE_DIR", "env-cache")
    monkeypatch.setenv("ANCHORE_CATALOG", "env.db")
    args = parse("vulns", "x")
    assert (args.db, args.cache_dir) == ("env.sqlite", "env-cache")
    assert parse("db", "info").db == "env.sqlite"
    # where leaving --db out means something, the variable does not stand in for it:
    # catalog add matches only with --db, catalog rematch wants the store named
    assert parse("catalog", "add", "x").db == "from-file.sqlite"
    project_file(home, "cache-dir: file-cache\ncatalog: file.db\n")
    assert parse("catalog", "add", "x").db is None
    assert parse("catalog", "rematch").db is None
    project_file(home, "db: from-file.sqlite\ncache-dir: file-cache\ncatalog: file.db\n")
    assert parse("catalog", "list").catalog == "env.db"
    assert parse("vulns", "x", "--db", "flag.sqlite").db == "flag.sqlite"


def test_unknown_variables_near_a_setting_fail_others_are_left_alone(home, capsys, monkeypatch):
    monkeypatch.setenv("ANCHORE_FAIL_ONN", "high")
    err = fails(capsys, "vulns", "x")
    assert "$ANCHORE_FAIL_ONN" in err and "did you mean $ANCHORE_FAIL_ON?" in err
    monkeypatch.delenv("ANCHORE_FAIL_ONN")
    monkeypatch.setenv("ANCHORE_VULNS_DB", "x")  # near ANCHORE_VULN_DB
    assert "did you mean $ANCHORE_VULN_DB?" in fails(capsys, "vulns", "x")
    monkeypatch.delenv("ANCHORE_VULNS_DB")
    monkeypatch.setenv("ANCHORE_PLUGINS_PATH", "x")  # near one the library reads
    assert "did you mean $ANCHORE_PLUGIN_PATH?" in fails(capsys, "vulns", "x")
    monkeypatch.delenv("ANCHORE_PLUGINS_PATH")
    # other tools' (the old anchore-cli's, our tests') and unrelated names are not ours
    for name in ("ANCHORE_CLI_URL", "ANCHORE_CLI_USER", "ANCHORE_CORPUS", "ANCHORE_ENGINE_X"):
        monkeypatch.setenv(name, "http://example")
    assert parse("vulns", "x").fail_on is None
    assert main(["config", "-o", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ignored"] == ["ANCHORE_ENGINE_X"]
    assert "ANCHORE_CLI_URL" in shown["environment"]


# ---------------------------------------------------------------- anchore config
def test_config_shows_values_and_where_they_came_from(home, capsys, monkeypatch):
    path = user_file(home, "fail-on: low\nvulns: {output: json}\n")
    monkeypatch.setenv("ANCHORE_PLATFORM", "linux/arm64")
    monkeypatch.setenv("ANCHORE_REGISTRY_PASSWORD", "hunter2")
    monkeypatch.setenv("ANCHORE_CLI_PASS", "hunter3")
    assert main(["config", "-o", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    rows = {r["key"]: (r["value"], r["source"]) for r in shown["settings"]}
    assert rows["fail-on"] == ("low", str(path))
    assert rows["vulns.output"] == ("json", str(path))
    assert rows["output"] == (None, "default")  # every other command's
    assert "evaluate.output" not in rows
    assert rows["platform"] == ("linux/arm64", "$ANCHORE_PLATFORM")
    assert rows["quiet"] == (False, "default")
    assert shown["files"] == [str(path)]
    assert shown["environment"]["ANCHORE_REGISTRY_PASSWORD"] == "***"
    # every configurable key is shown
    keys = {r["key"].rsplit(".", 1)[-1] for r in shown["settings"]}
    assert keys == {o.key for o in config.options(build_parser())}
    assert main(["config", "-o", "yaml"]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(out) == shown
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "hunter3" not in out
    assert "ANCHORE_REGISTRY_PASSWORD=***" in out
    assert re.search(r"^fail-on\s+low\s+" + re.escape(str(path)) + "$", out, re.M), out
    assert re.search(r"^platform\s+linux/arm64\s+\$ANCHORE_PLATFORM$", out, re.M), out


def test_config_of_one_command_shows_what_it_would_run_with(home, capsys):
    path = project_file(home, "fail-on: low\nvulns: {output: json}\ncatalog: {add: {workers: 3}}\n")
    assert main(["config", "vulns", "-o", "json"]) == 0
    rows = {
        r["key"]: (r["value"], r["source"]) for r in json.loads(capsys.readouterr().out)["settings"]
    }
    assert rows["output"] == ("json", str(path)) and rows["fail-on"] == ("low", str(path))
    assert rows["quiet"] == (False, "default")  # the top level's option, this command's too
    assert "workers" not in rows and "bundle" not in rows
    assert main(["config", "catalog", "add", "-o", "json"]) == 0
    rows = {r["key"]: r["value"] for r in json.loads(capsys.readouterr().out)["settings"]}
    assert rows["workers"] == 3 and "fail-on" not in rows
    assert main(["config", "db", "update", "-o", "json"]) == 0
    rows = {r["key"]: r["value"] for r in json.loads(capsys.readouterr().out)["settings"]}
    assert {"db", "feed", "mirror", "quiet"} <= set(rows)  # db: the group's --db
    assert main(["config", "nosuch"]) == ExitCode.USAGE_ERROR
    assert "there is no command 'nosuch'" in capsys.readouterr().err


def test_config_path_lists_the_files_looked_for(home, capsys):
    user = user_file(home, "quiet: true\n")
    assert main(["config", "--path"]) == 0
    out = capsys.readouterr().out
    assert re.search(re.escape(str(user)) + r"\s+read", out)
    assert re.search(re.escape(str(home / "project" / "anchore.yaml")) + r"\s+not found", out)
    chosen = home / "c.yaml"
    chosen.write_text("")
    assert main(["config", "--path", "--config", str(chosen), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "files": [str(chosen)],
        "searched": [str(chosen)],
    }


# ---------------------------------------------------------------- behaviour, end to end
def run(home: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ANCHORE_")}
    full.update(env or {})
    done = subprocess.run([sys.executable, "-m", "anchore", *argv], capture_output=True,
                          text=True, env=full, cwd=home / "project", timeout=600)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def pypa_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pypa") / "pypa.sqlite"
    with Store(path, create=True) as store:
        assert load(store, PYPA_ZIP).loaded > 2000
    return path


@pytest.mark.corpus
def test_configured_fail_on_changes_the_exit_code(home, corpus, pypa_store):
    """debian-py has high (not critical) PyPI matches: what --fail-on does, the file does."""
    image = str(corpus / "debian-py.oci.tar")
    project_file(home, f"db: {pypa_store}\nvulns:\n  fail-on: high\n  allow-unchecked: true\n")
    rc, out, err = run(home, "vulns", "-q", image)
    assert rc == ExitCode.FAILED, err
    assert "PYSEC-2024-60" in out
    rc, _, err = run(home, "vulns", "-q", image, env={"ANCHORE_FAIL_ON": "critical"})
    assert rc == ExitCode.OK, err  # the variable outranks the file
    rc, _, err = run(home, "vulns", "-q", image, "--fail-on", "high",
                     env={"ANCHORE_FAIL_ON": "critical"})  # fmt: skip
    assert rc == ExitCode.FAILED, err  # the flag outranks the variable
    project_file(home, f"db: {pypa_store}\nvulns: {{output: json, fail-on: critical}}\n")
    rc, out, err = run(home, "vulns", "-q", image)
    assert rc == ExitCode.UNCHECKED, err  # Debian packages unchecked, as without config
    assert json.loads(out)["matches"]


def test_a_bad_configuration_stops_every_command_with_exit_5(home):
    project_file(home, "vulns: {fail-on: hihg}\n")
    rc, out, err = run(home, "plugins")
    assert rc == ExitCode.INPUT_ERROR and out == ""
    assert (
        err == f"anchore: error: {home / 'project' / 'anchore.yaml'}: vulns.fail-on: 'hihg' "
        "is not one of low, medium, high, critical\n"
    )


# ---------------------------------------------------------------- the documentation
def test_the_documentation_lists_every_key_and_variable():
    text = DOC.read_text()
    rows = re.findall(r"^\| `([a-z-]+)` \| (.*?) \| `(ANCHORE_[A-Z_]+|-)` \|", text, re.M)
    generated = [(key, where, variable) for key, where, variable in config.key_rows(build_parser())]
    assert rows == generated, (
        "docs/configuration.md's key table is out of date: its first three columns are "
        "anchore.cli.config.key_rows(build_parser()); a new option that describes one run "
        "belongs in config.PER_RUN instead"
    )
    assert {key for key, _, _ in rows} == {o.key for o in config.options(build_parser())}
    for name in ("ANCHORE_VULN_DB", "ANCHORE_CACHE_DIR", "ANCHORE_CATALOG", "ANCHORE_CONFIG"):
        assert name in text


def test_the_documented_example_is_a_valid_configuration(home):
    example = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    project_file(home, example.group(1))
    args = parse("vulns", "x")
    assert args.fail_on == "high" and args.output == "sarif"
    assert args.db == str(home / "home" / "scans" / "vulnerabilities.sqlite")  # ~ expanded
    assert args.insecure_registry == ["registry.lan:5000"]
    assert parse("catalog", "add", "img").workers == 4


def test_flags_lists_and_unconfigurable_actions_of_any_parser(home, capsys):
    """The rules follow the kind of action, not a list of our options: a
    --x/--no-x flag takes true/false, a counter or a constant is not a key."""
    parser = argparse.ArgumentParser(prog="t")
    parser.add_argument("--color", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--verbose", action="count", default=0)
    parser.add_argument("--mode", action="store_const", const="fast")
    parser.add_argument("--exclude", action="extend", nargs="+", default=[])
    parser.add_argument("--ports", nargs="+", type=int)
    keys = {o.key: o.kind for o in config.options(parser)}
    assert keys == {"color": "flag", "exclude": "list", "ports": "list"}
    project_file(home, "color: false\nexclude: [a, b]\nports: [80, 443]\n")
    config.apply(parser, [])
    assert vars(parser.parse_args([])) == {
        "color": False, "verbose": 0, "mode": None, "exclude": ["a", "b"], "ports": [80, 443],
        "config": None,
    }  # fmt: skip
    assert parser.parse_args(["--color"]).color is True
    project_file(home, "verbose: 2\n")
    with pytest.raises(ConfigError, match="verbose: unknown key"):
        config.apply(argparse.ArgumentParser(), [])


def test_a_configured_db_gives_way_to_db_after_the_subcommand(home, capsys):
    """``db --db X`` carries the configured store; ``db info --db Y`` is still one path
    given on the command line, not two."""
    project_file(home, f"db: {home / 'configured.sqlite'}\n")
    err = fails(capsys, "db", "info", "--db", str(home / "typed.sqlite"))
    assert "typed.sqlite" in err and "given twice" not in err
    err = fails(capsys, "db", "info")
    assert "configured.sqlite" in err


def test_a_typed_option_equal_to_a_configured_one_is_still_typed():
    """One-character strings are one object in CPython: telling typed from configured by
    identity took a typed ``--analyzers d`` for a configured ``d``. Typed is what the
    command line names."""
    from anchore.cli.common import configured_source, remember_configured

    configured = {"analyzers": [("d", "/home/u/.config/anchore/anchore.yaml")]}
    try:
        remember_configured(configured, ["analyze", "--analyzers", "d", "img"])
        assert configured_source("analyzers", "d") is None
        remember_configured(configured, ["analyze", "--analyzers=d", "img"])
        assert configured_source("analyzers", "d") is None
        remember_configured(configured, ["analyze", "img"])
        assert configured_source("analyzers", "d") == "/home/u/.config/anchore/anchore.yaml"
        assert configured_source("analyzers", "e") is None
    finally:
        remember_configured({}, [])
