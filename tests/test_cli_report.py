"""``anchore report``: fails closed without vulnerability data, writes atomically, exits
with the verdict; and examples/*.ipynb are stored as clean nbformat v4 (no outputs).

The page's content is the renderer's (tests of anchore.report); the page in a real
browser is tests/test_report_browser.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from anchore.cli import main
from anchore.errors import ExitCode
from anchore.vulns import Store, load
from testdata import DEBIAN_TRACKER

ROOT = Path(__file__).resolve().parent.parent
BUSYBOX = ROOT / "examples" / "busybox" / "busybox.oci.tar"  # two Debian 12 packages
EXAMPLES = ROOT / "examples"

#: one PyPI advisory: a store that covers PyPI, and so nothing in busybox (Debian 12)
PYPI_RECORD = {
    "id": "TEST-PYPI-1",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                  "ranges": [{"type": "ECOSYSTEM",
                              "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}],
}  # fmt: skip

#: a bundle with one vulnerability rule: STOP on any package the store flags or cannot check
VULN_BUNDLE = {
    "id": "vulns-only",
    "policies": [{"id": "v", "rules": [
        {"id": "any", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
         "params": {"severity": "unknown"}}]}],
    "mappings": [{"name": "all", "registry": "*", "repository": "*",
                  "image": {"type": "tag", "value": "*"}, "policy_ids": ["v"]}],
}  # fmt: skip


@pytest.fixture
def debian_store(tmp_path: Path) -> Path:
    """A store covering Debian releases (the tracker slice in tests/data)."""
    db = tmp_path / "debian.sqlite"
    with Store(db, create=True) as store:
        load(store, DEBIAN_TRACKER)
    return db


@pytest.fixture
def pypi_store(tmp_path: Path) -> Path:
    """A store covering PyPI only: busybox's Debian packages cannot be checked with it."""
    feed = tmp_path / "osv"
    feed.mkdir()
    (feed / "TEST-PYPI-1.json").write_text(json.dumps(PYPI_RECORD))
    db = tmp_path / "pypi.sqlite"
    with Store(db, create=True) as store:
        load(store, feed)
    return db


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(VULN_BUNDLE))
    return path


def report(*args: str) -> int:
    return main(["report", str(BUSYBOX), "-q", *args])


def test_no_store_is_an_error_and_no_page(tmp_path, capsys):
    """As anchore vulns: no store means no report that could read as clean."""
    out = tmp_path / "r.html"
    out.write_text("the previous report")
    missing = tmp_path / "missing.sqlite"
    assert report("-o", str(out), "--db", str(missing)) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert str(missing) in err and "anchore db update" in err and err.count("\n") == 1
    assert out.read_text() == "the previous report"  # left as it was
    assert not missing.exists()  # reading never creates a store


def test_an_empty_store_is_an_error(tmp_path, capsys):
    db = tmp_path / "empty.sqlite"
    db.write_bytes(b"")  # an empty file: a store that was never loaded
    out = tmp_path / "r.html"
    assert report("-o", str(out), "--db", str(db)) == ExitCode.INPUT_ERROR
    assert "holds no advisories" in capsys.readouterr().err
    assert not out.exists()


def test_default_store_is_the_one_vulns_uses(tmp_path, monkeypatch, capsys, debian_store):
    monkeypatch.setenv("ANCHORE_VULN_DB", str(debian_store))
    out = tmp_path / "r.html"
    assert report("-o", str(out)) == ExitCode.OK
    page = out.read_text(encoding="utf-8")
    assert "2 packages checked; 0 unchecked" in page
    assert "vulnerabilities: not checked" not in page
    monkeypatch.setenv("ANCHORE_VULN_DB", str(tmp_path / "nothing.sqlite"))
    assert report("-o", str(out)) == ExitCode.INPUT_ERROR
    assert "nothing.sqlite" in capsys.readouterr().err


def test_no_vulns_says_not_checked_and_the_policy_fires(tmp_path, bundle, monkeypatch):
    """--no-vulns opens no store; the page says so, and vulnerability rules cannot pass."""
    monkeypatch.setenv("ANCHORE_VULN_DB", str(tmp_path / "absent.sqlite"))
    out = tmp_path / "r.html"
    assert report("-o", str(out), "--no-vulns") == ExitCode.OK
    page = out.read_text(encoding="utf-8")
    assert "vulnerabilities: not checked" in page and "policy: not evaluated" in page
    # at the top of the page and in its title, not only in its section further down
    assert "<title>anchore report: busybox (vulnerabilities: not checked)</title>" in page
    assert "<h1>anchore report: busybox (vulnerabilities: not checked)</h1>" in page
    assert report("-o", str(out), "--no-vulns", "--bundle", str(bundle)) == ExitCode.FAILED
    page = out.read_text(encoding="utf-8")
    assert '<span class="badge STOP">STOP</span>' in page
    # the vulnerabilities section shows what the policy saw: every package unchecked
    assert "nothing was checked" in page and "0 packages checked; 2 unchecked" in page
    assert "vulnerabilities not checked (anchore report --no-vulns)" in page
    assert not (tmp_path / "absent.sqlite").exists()
    # --no-vulns opens no store, even one named: the page never mixes the two
    assert report("-o", str(out), "--no-vulns", "--db", str(tmp_path / "x.sqlite")) == 0
    assert "vulnerabilities: not checked" in out.read_text(encoding="utf-8")


def test_exit_code_is_the_verdict(tmp_path, bundle, debian_store, pypi_store, capsys):
    out = tmp_path / "r.html"
    # nothing could be checked: the page is written, the exit says UNCHECKED (as vulns)
    assert report("-o", str(out), "--db", str(pypi_store)) == ExitCode.UNCHECKED
    err = capsys.readouterr().err
    assert "none of the 2 packages could be checked" in err
    assert "nothing was checked" in out.read_text(encoding="utf-8")
    # with a bundle, the policy's decision: its vulnerability rule fires for unchecked ones
    args = ("-o", str(out), "--bundle", str(bundle))
    assert report(*args, "--db", str(pypi_store)) == ExitCode.FAILED
    # checked, no match: GO
    assert report(*args, "--db", str(debian_store)) == ExitCode.OK
    assert '<span class="badge GO">GO</span>' in out.read_text(encoding="utf-8")
    # a GO from a policy without vulnerability rules does not hide a scan that checked nothing
    bundle.write_text(json.dumps({**VULN_BUNDLE, "policies": [{"id": "v", "rules": [
        {"id": "ok", "gate": "always", "trigger": "always", "action": "GO"}]}]}))  # fmt: skip
    assert report(*args, "--db", str(pypi_store)) == ExitCode.UNCHECKED
    assert '<span class="badge GO">GO</span>' in out.read_text(encoding="utf-8")
    assert report(*args, "--db", str(debian_store)) == ExitCode.OK


def test_stdout_and_atomic_file(tmp_path, capsys, debian_store):
    assert report("-o", "-", "--db", str(debian_store)) == ExitCode.OK
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    out = tmp_path / "r.html"
    out.write_text("old")
    old_mask = os.umask(0o022)
    try:
        assert report("-o", str(out), "--db", str(debian_store)) == ExitCode.OK
    finally:
        os.umask(old_mask)
    assert out.read_text(encoding="utf-8") == page  # replaced whole, the same page
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".anchore")) == []


def test_unwritable_target_names_the_file(tmp_path, capsys, debian_store):
    target = tmp_path / "no-such-dir" / "r.html"
    assert report("-o", str(target), "--db", str(debian_store)) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"anchore: error: {target}: cannot write the report")
    assert not target.parent.exists()


def test_a_symlinked_target_is_refused_and_left_as_it_was(tmp_path, capsys, debian_store):
    """Renaming over a link would silently replace it with a plain file (its target left
    stale); following it would write wherever it points: refused, naming the link."""
    target = tmp_path / "real.html"
    target.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    assert report("-o", str(link), "--db", str(debian_store)) == ExitCode.INPUT_ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"anchore: error: {link}: is a symbolic link (to {target})")
    assert "give the real path" in err
    assert link.is_symlink() and target.read_text() == "old"
    assert report("-o", str(target), "--db", str(debian_store)) == ExitCode.OK  # the real path


def test_usage_errors(tmp_path, capsys, debian_store):
    assert report("-o", str(tmp_path), "--db", str(debian_store)) == ExitCode.USAGE_ERROR
    assert "a directory" in capsys.readouterr().err
    assert main(["report", str(BUSYBOX)]) == ExitCode.USAGE_ERROR  # -o is required
    assert not (tmp_path / "r.html").exists()


# ---------------------------------------------------------------- example notebooks
def test_example_notebooks_are_clean_nbformat_v4():
    """nbformat v4 with no stored outputs: the repository never carries a stale run
    (examples/run_notebooks.py executes them in CI and writes nothing back). Checked
    as plain JSON: nbformat is the notebook extra's, not the tests'."""
    notebooks = sorted(EXAMPLES.glob("*.ipynb"))
    assert [p.name for p in notebooks] == ["explore.ipynb"]
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert (nb["nbformat"], type(nb["nbformat_minor"])) == (4, int), path
        assert set(nb) == {"cells", "metadata", "nbformat", "nbformat_minor"}, path
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        kinds = [c["cell_type"] for c in nb["cells"]]
        assert set(kinds) == {"markdown", "code"} and kinds[0] == "markdown", kinds
        for c in nb["cells"]:
            assert isinstance(c["source"], (str, list)) and isinstance(c["metadata"], dict)
            assert "".join(c["source"]).strip(), f"{path}: an empty cell"
            if c["cell_type"] == "code":
                assert c["outputs"] == [] and c["execution_count"] is None, (path, c["source"])
