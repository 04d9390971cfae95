"""The command line in a real terminal: tmux at 80 and 200 columns, the screen read back.

What is asserted is what a person sees: the header row, no line longer than the
terminal (capture-pane -J joins a wrapped line back, so a wrapped row shows as one
longer line), one screen line per package, ``…`` where a cell was cut and whole names
where there is room, a progress bar while the work runs and nothing of it after,
colour on a terminal and no escape sequence at all with NO_COLOR.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import anchore
from anchore.analysis.model import Analysis
from terminal import ESCAPE, TMUX, Terminal

pytestmark = pytest.mark.corpus

#: the characters rich draws a progress bar with
BAR = ("━", "╸", "╺")


@pytest.fixture(scope="module")
def debian_py(corpus: Path) -> Path:
    # a missing tmux is a failure, not a skip (the oracles install it: apt-get install tmux)
    assert os.access(TMUX, os.X_OK), f"tmux not found ({TMUX}): apt-get install -y tmux"
    return corpus / "debian-py.oci.tar"


@pytest.fixture(scope="module")
def analysis(debian_py: Path) -> Analysis:
    return anchore.analyze(debian_py)


@pytest.fixture
def term80(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    term = Terminal(tmp_path_factory.mktemp("tty"), 80)
    yield term
    term.close()


@pytest.fixture
def term200(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    term = Terminal(tmp_path_factory.mktemp("tty"), 200)
    yield term
    term.close()


def _fits(term: Terminal) -> list[str]:
    """The output's lines, after checking that none wrapped (joined, none is wider)."""
    joined = term.lines(join=True)
    wide = [line for line in joined if len(line) > term.width]
    assert wide == [], f"{len(wide)} lines wrapped at {term.width} columns: {wide[:3]}"
    assert term.lines() == joined  # the same lines: nothing was wrapped
    return joined


def _rows_after(lines: list[str], header: list[str]) -> tuple[int, list[str]]:
    """The index of the header row (its column names in order) and the rows under it,
    up to the next line that is not indented as a row."""
    for i, line in enumerate(lines):
        if line.split() == header:
            return i, lines[i + 1 :]
    raise AssertionError(f"no header row {header} in:\n" + "\n".join(lines[:20]))


def _package_rows(lines: list[str], count: int) -> list[str]:
    _, rest = _rows_after(lines, ["TYPE", "NAME", "VERSION", "LAYER", "PATH"])
    return rest[:count]


def test_analyze_at_80_columns_fits_shows_progress_then_clears_it(term80, debian_py, analysis):
    seen: list[str] = []

    def watch(screen: str) -> None:
        if any(c in screen for c in BAR):
            seen.append(screen)

    assert term80.run(["analyze", str(debian_py)], watch=watch) == 0
    assert seen, "no progress bar was drawn on the terminal while analyzing"
    assert any("debian-py.oci.tar" in s for s in seen)  # the bar says what it works on
    lines = _fits(term80)
    everything = "\n".join(lines)
    assert not any(c in everything for c in BAR), "the progress bar was left on the screen"
    assert "debian-py.oci.tar analyze" not in everything
    installed = [p for p in analysis.packages if not p.declared]
    rows = _package_rows(lines, len(installed))
    # one screen line per package, in order: type first, the layer as a number
    for pkg, row in zip(installed, rows, strict=True):
        cells = row.split()
        assert cells[0] == pkg.type, row
        assert pkg.name.startswith(cells[1].rstrip("…")), (pkg.name, row)
        assert str(pkg.layer_index) in cells, row
    assert any("…" in row for row in rows), "at 80 columns some paths must be cut with …"
    # the findings table: messages cut with an ellipsis, never at a fixed count
    _, findings = _rows_after(lines, ["SEVERITY", "KIND", "LAYER", "PATH", "MESSAGE"])
    findings = findings[: len(analysis.findings)]
    assert [f.split()[0] for f in findings] == [f.severity for f in analysis.findings]
    assert any(f.endswith("…") for f in findings)
    # colour on a terminal: the header rows are bold
    styled = "\n".join(term80.lines(escapes=True))
    assert "\x1b[1m" in styled


def test_analyze_at_200_columns_cuts_no_names(term200, debian_py, analysis):
    assert term200.run(["-q", "analyze", str(debian_py)]) == 0
    lines = _fits(term200)
    installed = [p for p in analysis.packages if not p.declared]
    rows = _package_rows(lines, len(installed))
    for pkg, row in zip(installed, rows, strict=True):
        assert row.split()[:3] == [pkg.type, pkg.name, pkg.version], row


def test_quiet_draws_no_progress(term80, debian_py):
    seen: list[str] = []

    def watch(screen: str) -> None:
        if any(c in screen for c in BAR):
            seen.append(screen)

    assert term80.run(["packages", "-q", str(debian_py)], watch=watch) == 0
    assert seen == []


@pytest.mark.parametrize("width", [80, 200])
def test_packages_one_line_each(tmp_path, debian_py, analysis, width):
    term = Terminal(tmp_path, width)
    try:
        assert term.run(["-q", "packages", str(debian_py)]) == 0
        lines = _fits(term)
    finally:
        term.close()
    rows = _package_rows(lines, len(analysis.packages))
    assert len(rows) == len(analysis.packages)
    names = [row.split()[1] for row in rows]
    if width == 80:
        assert any(row.endswith("…") for row in rows)
    else:
        assert names == [p.name for p in analysis.packages]


def test_layers_and_inspect_at_80_columns(term80, debian_py, analysis):
    assert term80.run(["-q", "layers", str(debian_py)]) == 0
    lines = _fits(term80)
    header = ["LAYER", "DIGEST", "SIZE", "FILES", "DELETED", "PACKAGES", "CREATED", "BY"]
    _, rows = _rows_after(lines, header)
    layers = analysis.image.layers
    assert layers is not None
    rows = rows[: len(layers)]
    for layer, row in zip(layers, rows, strict=True):
        assert row.split()[:2] == [str(layer.index), layer.digest[:19]]  # digests never cut
    assert any(row.endswith("…") for row in rows)  # the long RUN steps

    term80.close()
    term = Terminal(term80.socket.parent, 80)
    try:
        assert term.run(["inspect", str(debian_py)]) == 0
        lines = _fits(term)
    finally:
        term.close()
    # the config digest is copied whole: on a line of its own rather than cut
    assert analysis.image.config_digest in [line.strip() for line in lines]
    _, rows = _rows_after(lines, ["LAYER", "DIGEST", "SIZE", "FILES", "DELETED", "CREATED", "BY"])
    assert [r.split()[0] for r in rows[: len(layers)]] == [str(i.index) for i in layers]
    assert any(r.endswith("…") for r in rows[: len(layers)])


def test_no_color_means_no_escape_sequences(term80, debian_py):
    assert term80.run(["-q", "layers", str(debian_py)], env={"NO_COLOR": "1"}) == 0
    styled = term80.lines(escapes=True)
    assert any(ESCAPE.sub("", line).startswith("LAYER") for line in styled)
    assert [line for line in styled if ESCAPE.search(line)] == []


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vulnerability store of the PyPA advisories in tests/data (debian-py's Python)."""
    from anchore.cli import main

    path = tmp_path_factory.mktemp("store") / "vulns.sqlite"
    feed = Path(__file__).parent / "data" / "osv-pypa" / "vulns.zip"
    assert main(["db", "load", "--db", str(path), str(feed)]) == 0
    return path


def test_vulns_and_evaluate_at_80_columns(term80, tmp_path, debian_py, store):
    argv = ["vulns", "--db", str(store), "--allow-unchecked", str(debian_py)]
    assert term80.run(argv) == 0
    lines = _fits(term80)
    everything = "\n".join(lines)
    assert not any(c in everything for c in BAR), "a progress bar was left on the screen"
    header = ["SEVERITY", "VULNERABILITY", "ALIASES", "PACKAGE", "INSTALLED", "FIXED", "IN"]
    _, rows = _rows_after(lines, header)
    matched = [r for r in rows if r.split() and r.split()[0] in ("high", "medium", "low")]
    assert any(" pyyaml " in r and "5.3.1" in r for r in matched + rows)
    assert matched and any("…" in r for r in rows)  # the aliases are cut, not wrapped

    term80.close()
    term = Terminal(tmp_path, 80)
    try:
        bundle = Path(__file__).parent.parent / "examples" / "policy" / "bundle.json"
        argv = ["evaluate", "--db", str(store), "--bundle", str(bundle), str(debian_py)]
        assert term.run(argv) == 1  # STOP
        lines = _fits(term)
    finally:
        term.close()
    _, rows = _rows_after(lines, ["ACTION", "GATE", "TRIGGER", "MESSAGE"])
    actions = [r.split()[0] for r in rows if r.split() and r.split()[0] in ("STOP", "WARN")]
    assert "STOP" in actions and any(r.endswith("…") for r in rows)


def test_plugins_and_diff_at_80_columns(term80, corpus, debian_py):
    """plugins printed its name lists unfitted (lines of 107 and 134 columns wrapped)."""
    assert term80.run(["plugins"]) == 0
    lines = _fits(term80)
    _, rows = _rows_after(lines, ["PLUGIN", "SOURCE", "KIND", "NAMES"])
    assert rows and any(row.endswith("…") for row in rows)  # long name lists are cut

    term80.close()
    term = Terminal(term80.socket.parent, 80)
    try:
        old = str(corpus / "debian-min.oci.tar")
        assert term.run(["-q", "diff", "--kinds", "package", old, str(debian_py)]) == 0
        lines = _fits(term)
    finally:
        term.close()
    assert lines[0].startswith("old ") and lines[1].startswith("new ")
    _, rows = _rows_after(lines, ["KIND", "CHANGE", "TYPE", "NAME", "LAYER", "WHAT"])
    assert any(row.split()[:2] == ["package", "added"] for row in rows)
