"""Every example in docs/ and the README runs as written, and the generated and
hand-written references agree with the code.

- Every ```python block of README.md and docs/**/*.md is executed.
- Every ``anchore`` command of a ```bash (or ```sh, ```shell) block is run, a page's
  commands in order, in a fresh HOME and a scratch working directory that sees the
  repository's ``examples/`` and ``tests/``; each must exit 0, or the code its line
  names with ``# exit N``. Illustrative blocks (placeholders such as IMAGE, registry
  hosts, output shown after ``$``) are fenced ```console and are not run. The rule is
  in docs/development.md ("Examples in the docs").
- The MkDocs hook's generated pages list every gate, trigger, parameter and analyzer.
- docs/errors.md's tree lists every AnchoreError subclass under its real parent, and
  its exit-code table is ExitCode, each code one the CLI uses.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import anchore
from anchore.ecosystems import ECOSYSTEMS
from anchore.errors import AnchoreError, ExitCode

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.S | re.M)
#: a command the docs' tests run: ``anchore ...`` or ``python -m anchore ...``, maybe
#: after environment assignments (``ANCHORE_PLUGIN_PATH=dir anchore ...``)
COMMAND = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S+\s+)*(?:anchore|python -m anchore)\s")
EXPECT = re.compile(r"#\s*exit\s+(\d+)\b")
#: commands that go to the network: CI runs offline, so these belong in console blocks
NETWORK = re.compile(r"\bdb\s+update\b|\bcatalog\s+.*--dask\b")


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


SNIPPETS = [
    pytest.param(code, id=f"{_name(doc)}-{i}")
    for doc in PAGES
    for i, code in enumerate(BLOCK.findall(doc.read_text()))
]


@pytest.mark.parametrize("code", SNIPPETS)
def test_doc_snippet_runs(code, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "<doc>", "exec"), {})
    assert capsys.readouterr().out  # every snippet shows something


# ---------------------------------------------------------------- shell examples
def _logical_lines(block: str) -> list[str]:
    """The block's lines, a trailing backslash joining a line to the next."""
    lines: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.strip()[:-1].strip() + " "
            continue
        lines.append(pending + (line.strip() if pending else line))
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def _strip_comment(segment: str) -> str:
    """The command without its trailing comment (a ``#`` after a space, outside quotes)."""
    quote = ""
    for i, char in enumerate(segment):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or segment[i - 1].isspace()):
            return segment[:i].strip()
    return segment.strip()


def shell_commands(text: str) -> list[tuple[str, int]]:
    """The anchore commands of a page's bash blocks, each with the exit code it expects."""
    commands = []
    for block in SHELL_BLOCK.findall(text):
        for line in _logical_lines(block):
            expected = EXPECT.search(line)
            # ``pip install . && anchore analyze ...``: the anchore part runs
            for segment in line.split("&&"):
                segment = segment.strip()
                if COMMAND.match(segment):
                    code = int(expected.group(1)) if expected else 0
                    commands.append((_strip_comment(segment), code))
    return commands


SHELL_PAGES = [
    pytest.param(page, id=_name(page)) for page in PAGES if shell_commands(page.read_text())
]


def test_shell_command_parsing():
    text = (
        "```bash\npip install . && anchore analyze examples/x.tar   # the main job\n"
        "anchore vulns a.tar --fail-on high   # exit 1\n"
        "ANCHORE_PLUGIN_PATH=dir anchore plugins \\\n  --json\nnox -s docs\n```\n"
        "```console\nanchore analyze IMAGE\n```\n"
    )
    assert shell_commands(text) == [
        ("anchore analyze examples/x.tar", 0),
        ("anchore vulns a.tar --fail-on high", 1),
        ("ANCHORE_PLUGIN_PATH=dir anchore plugins --json", 0),
    ]


@pytest.fixture
def doc_shell(tmp_path):
    """A fresh HOME, a scratch directory seeing examples/ and tests/, and ``anchore``
    on PATH as this interpreter's ``python -m anchore``."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("examples", "tests"):
        (work / name).symlink_to(ROOT / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "anchore"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m anchore "$@"\n')
    shim.chmod(0o755)
    python = bin_dir / "python"
    python.symlink_to(sys.executable)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANCHORE_", "XDG_")) or k == "ANCHORE_CORPUS"
    }
    env.update(
        HOME=str(tmp_path / "home"),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(ROOT / "src"),
        NO_COLOR="1",
    )
    (tmp_path / "home").mkdir()
    return work, env


@pytest.mark.parametrize("page", SHELL_PAGES)
def test_doc_shell_commands_run(page, doc_shell):
    work, env = doc_shell
    for command, expected in shell_commands(page.read_text()):
        assert not NETWORK.search(command), (
            f"{_name(page)}: `{command}` needs the network; fence its block ```console"
        )
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == expected, (
            f"{_name(page)}: `{command}` exited {done.returncode}, the page says {expected}"
            f" (fence the block ```console if it is illustrative)\n{done.stderr[-2000:]}"
        )


# ---------------------------------------------------------------- the generated pages
def _hook():
    spec = importlib.util.spec_from_file_location("docs_hook", DOCS / "hooks" / "generated.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_policy_reference_lists_every_gate_trigger_and_parameter():
    hook = _hook()
    registry = hook.builtin_registry()
    page = hook.render((DOCS / "reference" / "policy-gates.md").read_text())
    assert "<!-- generated" not in page
    for gate in registry.gates():
        assert f"## `{gate.name}`" in page
        for trigger in gate.triggers:
            heading = f"### `{gate.name}` / `{trigger.name}`"
            assert heading in page
            section = page.split(heading, 1)[1].split("\n### ", 1)[0]
            assert trigger.description in section
            assert "**Evidence:**" in section
            for param in trigger.params:
                assert f"| `{param.name}` |" in section, (gate.name, trigger.name, param.name)


def test_policy_reference_names_the_analyzers_a_trigger_needs():
    hook = _hook()
    registry = hook.builtin_registry()
    page = hook.render("<!-- generated: policy-gates -->")
    secrets = page.split("### `secrets` / ", 1)[1].split("\n## ", 1)[0]
    assert "`secrets` analyzer" in secrets
    distro = page.split("### `metadata` / `distro`", 1)[1].split("\n### ", 1)[0]
    assert "`distro` analyzer" in distro
    assert {g.name for g in registry.gates()} >= {"dockerfile", "vulnerabilities", "packages"}


def test_analyzer_table_lists_every_builtin_analyzer_and_its_patterns():
    hook = _hook()
    page = hook.render((DOCS / "analyzers.md").read_text())
    assert "<!-- generated" not in page
    analyzers = hook.builtin_registry().analyzers()
    assert len(analyzers) >= 10
    for analyzer in analyzers:
        row = next(line for line in page.splitlines() if line.startswith(f"| `{analyzer.name}` |"))
        for pattern in analyzer.patterns:
            assert f"`{pattern}`" in row, (analyzer.name, pattern)
    for ecosystem in ECOSYSTEMS:  # each package type, on the rows of its analyzers
        for name in ecosystem.analyzers:
            row = next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))
            assert f"`{ecosystem.package_type}`" in row, (name, ecosystem.package_type)


def test_every_page_is_in_the_site_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    listed = set(re.findall(r":\s*([\w./-]+\.md)\s*$", config, re.M))
    assert pages <= listed, f"not in mkdocs.yml's nav: {sorted(pages - listed)}"


# ---------------------------------------------------------------- errors and exit codes
def _all_error_classes() -> dict[str, type]:
    """Every AnchoreError subclass anchore defines, every module imported first."""
    for found in pkgutil.walk_packages(anchore.__path__, "anchore."):
        if found.name != "anchore.__main__":
            importlib.import_module(found.name)
    for source in sorted((ROOT / "src" / "anchore" / "analysis").glob("*.py")):
        importlib.import_module(f"anchore.analysis.{source.stem}")  # a namespace package

    def walk(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *walk(sub))]

    classes = [c for c in walk(AnchoreError) if c.__module__.startswith("anchore.")]
    by_name: dict[str, type] = {}
    for cls in classes:
        other = by_name.setdefault(cls.__name__, cls)
        assert other is cls, f"two error classes are named {cls.__name__}"
    return by_name


def _documented_tree() -> dict[str, str]:
    """docs/errors.md's tree: each class name and the parent it is drawn under."""
    text = (DOCS / "errors.md").read_text()
    block = text.split("```\nAnchoreError\n", 1)[1].split("```", 1)[0]
    parents: dict[str, str] = {}
    stack = ["AnchoreError"]
    for line in block.splitlines():
        entry = re.match(r"^((?:[│ ]   )*)[├└]── (\w+)", line)
        if entry:
            depth = len(entry.group(1)) // 4
            stack = stack[: depth + 1]
            parents[entry.group(2)] = stack[-1]
            stack.append(entry.group(2))
    return parents


def test_error_tree_lists_every_anchore_error_under_its_parent():
    classes = _all_error_classes()
    documented = _documented_tree()
    assert sorted(set(classes) - set(documented)) == [], "missing from docs/errors.md's tree"
    assert sorted(set(documented) - set(classes)) == [], "in docs/errors.md but not in anchore"
    for name, parent in documented.items():
        bases = [b.__name__ for b in classes[name].__bases__]
        assert parent in bases, f"docs/errors.md draws {name} under {parent}; its bases: {bases}"


def test_exit_code_table_is_exitcode_and_each_code_is_used():
    text = (DOCS / "errors.md").read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", text, re.M)
    assert [(int(code), name) for code, name in rows] == [(int(c), c.name) for c in ExitCode]
    sources = "\n".join(
        p.read_text() for p in (ROOT / "src" / "anchore").rglob("*.py") if p.name != "errors.py"
    )
    unused = [c.name for c in ExitCode if f"ExitCode.{c.name}" not in sources]
    assert unused == [], f"documented exit codes nothing returns: {unused}"


# ---------------------------------------------------------------- the plugin guide
def test_plugin_guide_shows_the_example_plugin_as_it_is():
    guide = (DOCS / "plugins.md").read_text()
    example = ROOT / "examples" / "python-plugin"
    module = (example / "src" / "anchore_example_plugin" / "plugin.py").read_text()
    shown = next(block for block in BLOCK.findall(guide) if "def debian_version" in block)
    assert shown.startswith(module), "docs/plugins.md no longer shows plugin.py as it is"
    entry_point = re.search(r"```toml\n(.*?)```", guide, re.S)
    assert entry_point is not None
    assert entry_point.group(1) in (example / "pyproject.toml").read_text()


def test_plugin_guide_runs_the_bash_example():
    guide = (DOCS / "plugins.md").read_text()
    commands = [command for command, _ in shell_commands(guide)]
    assert any("examples/bash-analyzer" in c and "example-shells" in c for c in commands)


def test_docstring_roles_become_inline_code():
    spec = importlib.util.spec_from_file_location("roles", DOCS / "hooks" / "griffe_roles.py")
    assert spec is not None and spec.loader is not None
    roles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    text = "Start with :func:`open_image`::\n\n    x\n\nSee :class:`~anchore.policy.Bundle`, a::b"
    assert roles.plain(text) == "Start with `open_image()`:\n\n    x\n\nSee `Bundle`, a::b"
