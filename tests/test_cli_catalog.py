"""``anchore catalog add|list|show|query|diff|rematch|rm``, end to end through the command
line, on the real corpus images and a real advisory store built from tests/data.

One catalog is built per module (two images added, one name moved between them);
the tests that change it work on a copy.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import attrs
import pytest

from anchore.catalog import Catalog
from anchore.cli import main
from anchore.errors import ExitCode
from anchore.query.fleet import who_has as fleet_who_has
from anchore.vulns import load
from testdata import GO_ZIP, PYPA_ZIP

pytest_plugins = ["postgres_server"]

ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.corpus


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def quiet(*argv: str) -> tuple[int, str, str]:
    """``main`` outside a test function's capsys (module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def private_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's catalog or advisory store."""
    monkeypatch.setenv("ANCHORE_CATALOG", str(tmp_path / "default" / "catalog.db"))
    monkeypatch.setenv("ANCHORE_VULN_DB", str(tmp_path / "default" / "vulns.sqlite"))


@pytest.fixture(scope="module")
def built(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A catalog holding debian-min and debian-py (OCI archives), ``app:nightly`` seen first
    on debian-min then moved to debian-py, matched against a store of the Go database only."""
    where = tmp_path_factory.mktemp("built")
    store = where / "go.sqlite"
    load(store, GO_ZIP)
    catalog = where / "catalog.db"
    outs = []
    for image in ("debian-min", "debian-py"):
        code, out, err = quiet(
            "catalog",
            "add",
            str(corpus / f"{image}.oci.tar"),
            "--name",
            "app:nightly",
            "--catalog",
            str(catalog),
            "--db",
            str(store),
            "--workers",
            "1",
            "--json",
        )
        # the Go store checks none of debian-min's packages: stored, but exit 3 (no
        # clean bill); of debian-py's it checks some, which is a result, as for `vulns`
        assert code == (ExitCode.UNCHECKED if image == "debian-min" else ExitCode.OK), err
        outs.append(json.loads(out))
    return {"catalog": catalog, "store": store, "adds": outs, "dir": where}


def _copy(built: dict[str, object], tmp_path: Path) -> tuple[str, str]:
    """A private copy of the built catalog and store (the tests that change them)."""
    for path in Path(str(built["dir"])).iterdir():
        shutil.copy(path, tmp_path / path.name)
    return str(tmp_path / "catalog.db"), str(tmp_path / "go.sqlite")


def _keys(built: dict[str, object]) -> tuple[str, str]:
    adds = built["adds"]
    assert isinstance(adds, list)
    return adds[0]["images"][0]["key"], adds[1]["images"][0]["key"]


def test_add_stores_each_image_under_its_manifest_digest(built, corpus):
    adds = built["adds"]
    (first,), (second,) = (a["images"] for a in adds)
    for outcome, image in ((first, "debian-min"), (second, "debian-py")):
        assert outcome["added"] is True and outcome["failure"] is None
        index = json.loads(_member(corpus / f"{image}.oci.tar", "index.json"))
        assert outcome["key"] == index["manifests"][0]["digest"]
        assert outcome["matches"] is not None  # --db: matched and recorded
        assert outcome["unchecked"] > 0 and outcome["checked"] is not None
    assert first["moved"] == []
    assert second["moved"] == [["app:nightly", first["key"]]]  # the name moved
    assert adds[1]["stored"] == 2


def _member(archive: Path, name: str) -> bytes:
    import tarfile

    with tarfile.open(archive) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def test_re_adding_an_unchanged_image_is_a_cache_hit(built, corpus, tmp_path, capsys):
    catalog, _ = _copy(built, tmp_path)
    min_key, _ = _keys(built)
    code, out, err = run(
        capsys,
        "catalog",
        "add",
        str(corpus / "debian-min.oci.tar"),
        "--catalog",
        catalog,
        "--workers",
        "1",
    )
    assert code == ExitCode.OK, err
    line, summary = out.splitlines()
    assert line.startswith(f"cached  {min_key[:19]}  ") and "debian-min.oci.tar" in line
    assert (
        summary.startswith("1 image: 0 added, 1 cached, 0 failed;") and "holds 2 images" in summary
    )


def test_list_shows_both_images(built, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    min_key, py_key = _keys(built)
    code, out, err = run(capsys, "catalog", "list", "--catalog", str(built["catalog"]))
    assert code == ExitCode.OK, err
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["IMAGE", "NAMES", "DISTRO"]
    assert len(rows) == 2
    assert rows[0].startswith(py_key[:19])  # most recently seen first
    assert "app:nightly" in rows[0] and "app:nightly" not in rows[1]  # the name moved on
    assert all("debian:" in row for row in rows)
    code, out, _ = run(capsys, "catalog", "list", "--catalog", str(built["catalog"]), "--json")
    records = json.loads(out)
    assert [r["key"] for r in records] == [py_key, min_key]
    with Catalog(str(built["catalog"]), create=False) as catalog:
        assert [r["package_count"] for r in records] == [
            len(catalog.analysis(py_key).packages),
            len(catalog.analysis(min_key).packages),
        ]


@pytest.mark.parametrize("columns", ["100", "60"])
def test_list_never_cuts_the_key(built, capsys, monkeypatch, columns):
    """The key column is what one copies into ``show``/``rm``: 12 hex digits, whole, at
    any width (the other columns give way)."""
    monkeypatch.setenv("COLUMNS", columns)
    keys = set(_keys(built))
    code, out, err = run(capsys, "catalog", "list", "--catalog", str(built["catalog"]))
    assert code == ExitCode.OK, err
    _, *rows = out.splitlines()
    assert {row.split()[0] for row in rows} == {key[:19] for key in keys}


def test_list_by_name_glob(built, capsys):
    code, out, _ = run(
        capsys, "catalog", "list", "--catalog", str(built["catalog"]), "--name", "app:*", "--json"
    )
    assert code == ExitCode.OK
    assert {r["key"] for r in json.loads(out)} == set(_keys(built))  # both, over time
    code, out, err = run(
        capsys, "catalog", "list", "--catalog", str(built["catalog"]), "--name", "nothing-*"
    )
    assert code == ExitCode.OK and len(out.splitlines()) == 1 and "no images" in err


def test_show_by_digest_prefix(built, capsys):
    min_key, _ = _keys(built)
    code, out, err = run(
        capsys, "catalog", "show", min_key[:13], "--catalog", str(built["catalog"])
    )
    assert code == ExitCode.OK, err
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert fields["image"].strip() == min_key
    assert fields["distro"].strip().startswith("debian:")
    assert "chain of custody" not in out  # a digest, not a name
    code, out, _ = run(
        capsys, "catalog", "show", min_key[:13], "--catalog", str(built["catalog"]), "--json"
    )
    shown = json.loads(out)
    run_ = shown["latest_match_run"]
    assert run_ is not None and run_["feeds"]  # the store's feed dates, recorded
    assert run_["checked"] + run_["unchecked"] + run_["declared"] > 0
    assert shown["custody"] is None


def test_show_by_name_gives_its_chain_of_custody(built, capsys):
    min_key, py_key = _keys(built)
    code, out, err = run(
        capsys, "catalog", "show", "app:nightly", "--catalog", str(built["catalog"]), "--json"
    )
    assert code == ExitCode.OK, err
    shown = json.loads(out)
    assert shown["image"]["key"] == py_key  # the name points at its newest image
    chain = shown["custody"]
    assert [c["key"] for c in chain] == [min_key, py_key]
    assert chain[0]["previous"] is None and chain[1]["previous"] == min_key
    assert chain[1]["added"] > 0  # debian-py adds python and its packages to debian-min
    code, out, _ = run(capsys, "catalog", "show", "app:nightly", "--catalog", str(built["catalog"]))
    assert "chain of custody of app:nightly:" in out


def test_query_who_has(built, capsys):
    _, py_key = _keys(built)
    code, out, err = run(
        capsys,
        "catalog",
        "query",
        "who-has",
        "-p",
        "name=python3*",
        "--catalog",
        str(built["catalog"]),
        "--json",
    )
    assert code == ExitCode.OK, err
    result = json.loads(out)
    assert result["query"] == "who-has" and result["rows"]
    with Catalog(str(built["catalog"]), create=False) as catalog:
        truth = fleet_who_has(list(catalog.analyses()), "python3*")
    # exactly fleet.who_has's rows over the stored analyses: no row missing, wrong or twice
    assert Counter(tuple(sorted(r.items())) for r in result["rows"]) == Counter(
        tuple(sorted(attrs.asdict(r).items())) for r in truth
    )
    assert py_key[:19] in " ".join(r["image"] for r in result["rows"])


def test_query_usage_errors(tmp_path, capsys):
    catalog = str(tmp_path / "c.db")
    for argv, message in [
        (["no-such-query"], "no query named 'no-such-query'"),
        (["packages"], "takes one image: give them with --image REF"),
        (["who-has", "-p", "colour=red"], "takes no parameter 'colour'"),
        (["--list", "packages"], "--list takes no"),
    ]:
        code, out, err = run(capsys, "catalog", "query", *argv, "--catalog", catalog)
        assert code == ExitCode.USAGE_ERROR and out == "", argv
        assert message in err.strip().splitlines()[-1], err


def test_diff_between_the_two_images(built, capsys):
    min_key, py_key = _keys(built)
    code, out, err = run(
        capsys,
        "catalog",
        "diff",
        min_key[:13],
        "app:nightly",
        "--kinds",
        "package",
        "--catalog",
        str(built["catalog"]),
        "--json",
    )
    assert code == ExitCode.OK, err
    rows = json.loads(out)["rows"]
    with Catalog(str(built["catalog"]), create=False) as catalog:
        before = {(p.type, p.name) for p in catalog.analysis(min_key).packages}
        after = {(p.type, p.name) for p in catalog.analysis(py_key).packages}
    assert {(r["type"], r["name"]) for r in rows if r["change"] == "added"} == after - before
    assert {r["kind"] for r in rows} == {"package"}
    code, _, err = run(
        capsys,
        "catalog",
        "diff",
        min_key,
        py_key,
        "--kinds",
        "bogus",
        "--catalog",
        str(built["catalog"]),
    )
    assert code == ExitCode.USAGE_ERROR, err


def test_rematch_reports_what_new_advisories_affect(built, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    catalog, store = _copy(built, tmp_path)
    _, py_key = _keys(built)
    # nothing changed in the store: nothing is new
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", store, "--catalog", catalog, "--json", "--fail-on-new"
    )
    report = json.loads(out)
    assert [r for r in report["rows"] if r["change"] == "new"] == [], report["rows"]
    assert report["images"] == 2 and report["first_runs"] == []
    # the Go store checks no Debian package: nothing new, but not a pass
    assert report["unchecked"] > 0 and len(report["unchecked_images"]) == 2
    assert code == ExitCode.UNCHECKED
    # the morning's advisories: the PyPA database
    load(store, PYPA_ZIP)
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", store, "--catalog", catalog, "--fail-on-new"
    )
    assert code == ExitCode.FAILED, err
    lines = out.splitlines()
    assert any(
        line.startswith("new ") and "PYSEC-2021-142" in line and "pyyaml" in line for line in lines
    ), out
    assert "2 images matched" in lines[-1] and "newly affected" in lines[-1]
    with Catalog(catalog, create=False) as opened:
        stored = {m.advisory_id for m in opened.matches(py_key)}
    assert "PYSEC-2021-142" in stored  # the run was recorded
    # the same store again: nothing new now
    code, out, _ = run(
        capsys,
        "catalog",
        "rematch",
        "--db",
        store,
        "--catalog",
        catalog,
        "--json",
        "--fail-on-new",
        "--allow-unchecked",
    )
    assert code == ExitCode.OK and not [r for r in json.loads(out)["rows"] if r["change"] == "new"]
    # some packages checked, others not: as `anchore vulns`, that is a result (0) unless
    # --fail-on-new asks whether anything is affected, which the unchecked ones leave open (3)
    only_py = ("--image", py_key)
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", store, "--catalog", catalog, *only_py
    )
    assert (code, err) == (ExitCode.OK, ""), err
    assert "could not be checked" in out.splitlines()[-1]
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", store, "--catalog", catalog, *only_py, "--fail-on-new"
    )
    assert code == ExitCode.UNCHECKED and "--allow-unchecked" in err
    # debian-min beside it: none of its packages checked, no result for it (3, per image)
    code, out, err = run(capsys, "catalog", "rematch", "--db", store, "--catalog", catalog)
    assert code == ExitCode.UNCHECKED and "none was checked" in err


def test_rematch_usage(tmp_path, capsys):
    catalog = str(tmp_path / "c.db")
    code, out, err = run(capsys, "catalog", "rematch", "--catalog", catalog)
    assert code == ExitCode.USAGE_ERROR and out == "" and "--db STORE" in err
    assert not (tmp_path / "c.db").exists()


def test_rematch_fails_closed_on_unchecked_packages(built, tmp_path, capsys):
    """Without --fail-on-new, an image of which nothing was checked is no result (3), as
    ``anchore vulns`` for one image, even beside one whose packages were checked (per
    image, as ``add``); --allow-unchecked accepts it."""
    catalog, store = _copy(built, tmp_path)
    min_key, _ = _keys(built)
    with Catalog(catalog, create=False) as opened:
        stored = {r.key: r.package_count for r in opened.images()}
    only_min = ["--image", min_key]
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", store, "--catalog", catalog, *only_min
    )
    assert code == ExitCode.UNCHECKED, err
    summary = out.splitlines()[-1]
    assert summary.startswith("1 image matched") and "could not be checked" in summary
    (line,) = err.splitlines()
    assert line.startswith("anchore: ") and "none was checked" in line
    assert "--allow-unchecked" in line and min_key.removeprefix("sha256:")[:12] in line
    code, out, err = run(
        capsys,
        "catalog", "rematch", "--db", store, "--catalog", catalog, *only_min, "--allow-unchecked",
    )  # fmt: skip
    assert (code, err) == (ExitCode.OK, "")
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", store, "--catalog", catalog, "--json"
    )
    report = json.loads(out)
    # per image, as `add`: debian-py's packages checked do not make debian-min's a result
    assert code == ExitCode.UNCHECKED and report["nothing_checked"] == [min_key], err
    code, out, err = run(
        capsys,
        "catalog", "rematch", "--db", store, "--catalog", catalog, "--json", "--allow-unchecked",
    )  # fmt: skip
    report = json.loads(out)
    assert (code, err) == (ExitCode.OK, "")
    assert report["checked"] > 0
    assert {key for key, _ in report["unchecked_images"]} == set(stored)
    assert report["checked"] + report["unchecked"] <= sum(stored.values())


def test_rm_removes_all_or_nothing(built, tmp_path, capsys):
    catalog, _ = _copy(built, tmp_path)
    min_key, py_key = _keys(built)
    code, out, err = run(
        capsys, "catalog", "rm", min_key[:13], "sha256:0000ffff", "--catalog", catalog
    )
    assert code == ExitCode.INPUT_ERROR and out == ""
    assert len(err.splitlines()) == 1 and "sha256:0000ffff" in err
    with Catalog(catalog, create=False) as opened:
        assert opened.keys() == {min_key, py_key}  # the unknown one stopped both
    code, out, err = run(capsys, "catalog", "rm", min_key[:13], "--catalog", catalog)
    assert code == ExitCode.OK, err
    assert out.startswith(f"removed {min_key}")
    with Catalog(catalog, create=False) as opened:
        assert opened.keys() == {py_key}


def test_rm_failing_midway_says_what_was_removed(built, tmp_path, capsys, monkeypatch):
    """Each removal is its own transaction: a database error on the second leaves the
    first removed, and the one error line says so (synthetic: the failure is injected)."""
    from anchore.catalog.errors import CatalogConnectionError

    catalog, _ = _copy(built, tmp_path)
    min_key, py_key = _keys(built)
    real = Catalog.remove

    def remove(self: Catalog, ref: str):  # type: ignore[no-untyped-def]
        if ref == py_key:
            raise CatalogConnectionError(f"{catalog}: disk I/O error")
        return real(self, ref)

    monkeypatch.setattr(Catalog, "remove", remove)
    code, out, err = run(capsys, "catalog", "rm", min_key, py_key, "--catalog", catalog)
    assert code == ExitCode.INPUT_ERROR
    (line,) = out.splitlines()
    assert line.startswith(f"removed {min_key}")
    assert err.splitlines() == [
        f"anchore: error: {catalog}: disk I/O error; 1 of 2 images removed before it "
        f"({min_key}), {py_key} kept"
    ]
    monkeypatch.undo()
    with Catalog(catalog, create=False) as opened:
        assert opened.keys() == {py_key}


def test_show_unknown_ref_is_an_input_error(built, capsys):
    code, out, err = run(
        capsys, "catalog", "show", "nosuch:tag", "--catalog", str(built["catalog"])
    )
    assert code == ExitCode.INPUT_ERROR and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("anchore: error: ") and "nosuch:tag" in err


def test_a_missing_catalog_is_an_error_not_an_empty_one(tmp_path):
    missing = tmp_path / "typo" / "catalog.db"
    done = subprocess.run(
        [sys.executable, "-m", "anchore", "catalog", "list", "--catalog", str(missing)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == ExitCode.INPUT_ERROR and done.stdout == ""
    assert done.stderr.startswith("anchore: error: ") and len(done.stderr.splitlines()) == 1
    assert str(missing) in done.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_the_default_catalog_is_anchore_catalog(tmp_path, capsys):
    default = tmp_path / "default" / "catalog.db"  # $ANCHORE_CATALOG (private_defaults)
    code, out, err = run(capsys, "catalog", "list")
    assert code == ExitCode.INPUT_ERROR and out == "" and str(default) in err
    code, out, err = run(
        capsys, "catalog", "add", str(ROOT / "examples/busybox/busybox.oci.tar"), "--workers", "1"
    )
    assert code == ExitCode.OK, err
    assert str(default) in out.splitlines()[-1] and default.exists()
    code, out, err = run(capsys, "catalog", "list", "--json")
    assert code == ExitCode.OK and [r["source"] for r in json.loads(out)] == [
        str(ROOT / "examples/busybox/busybox.oci.tar")
    ]


def test_a_failed_image_exits_5_after_the_others_are_stored(built, corpus, tmp_path, capsys):
    """5 (an image failed) comes before 3 (the stored one's packages went unchecked)."""
    catalog = str(tmp_path / "c.db")
    missing = str(tmp_path / "no-such.tar")
    code, out, err = run(
        capsys,
        "catalog",
        "add",
        str(corpus / "debian-min.docker.tar"),
        missing,
        "--catalog",
        catalog,
        "--workers",
        "1",
        "--db",
        str(built["store"]),
    )
    assert code == ExitCode.INPUT_ERROR
    assert any(line.startswith("failed  ") and missing in line for line in out.splitlines())
    (added,) = [line for line in out.splitlines() if line.startswith("added ")]
    assert "0 checked, " in added and " unchecked" in added, added
    assert len(err.splitlines()) == 1 and "1 of 2 images failed" in err
    with Catalog(catalog, create=False) as opened:
        assert len(opened) == 1


def test_add_with_a_policy_exits_as_evaluate_does(built, corpus, tmp_path, capsys):
    catalog = str(tmp_path / "c.db")
    image = str(corpus / "debian-py.docker.tar")
    bundle = str(ROOT / "examples/policy/bundle.json")
    store = str(built["store"])
    expected = main(["evaluate", image, "--bundle", bundle, "--db", store, "--json"])
    decision = json.loads(capsys.readouterr().out)["final_action"]
    code, out, err = run(
        capsys,
        "catalog",
        "add",
        image,
        "--catalog",
        catalog,
        "--workers",
        "1",
        "--policy",
        bundle,
        "--db",
        store,
    )
    assert code == expected == ExitCode.FAILED, err  # STOP: 1, before 3 for unchecked
    (line,) = [line for line in out.splitlines() if line.startswith("added ")]
    assert " unchecked" in line and "0 unchecked" not in line, line
    with Catalog(catalog, create=False) as opened:
        (key,) = opened.keys()
        (evaluation,) = opened.evaluations(key)
    assert evaluation.final_action == decision
    assert out.splitlines()[0].endswith(f"; {decision})")


def test_add_usage_errors(tmp_path, capsys):
    catalog = str(tmp_path / "c.db")
    for argv, message in [
        (["a.tar", "b.tar", "--name", "x"], "--name names one image; 2 given"),
        (["a.tar", "--workers", "2", "--dask", "tcp://127.0.0.1:1"], "not allowed with"),
        (["a.tar", "--workers", "0"], "--workers 0"),
    ]:
        code, out, err = run(capsys, "catalog", "add", *argv, "--catalog", catalog)
        assert code == ExitCode.USAGE_ERROR and out == "", argv
        assert message in err, err
    assert not (tmp_path / "c.db").exists()


def test_postgresql_add_and_list(corpus, postgres_server, postgres_url, capsys):
    first, second = (str(corpus / name) for name in ("debian-min.oci.tar", "debian-min.docker.tar"))
    code, out, err = run(
        capsys,
        "catalog",
        "add",
        first,
        "--catalog",
        postgres_url,
        "--workers",
        "1",
        "--name",
        "pg:1",
        "--json",
    )
    assert code == ExitCode.OK, err
    added = json.loads(out)
    assert postgres_server.password not in out and "***" in added["catalog"]
    # the same image as a docker-save archive is keyed by its config digest: another entry
    code, out, err = run(
        capsys,
        "catalog",
        "add",
        second,
        "--catalog",
        postgres_url,
        "--workers",
        "1",
        "--name",
        "pg:1",
    )
    assert code == ExitCode.OK, err
    line = out.splitlines()[0]
    assert line.startswith("added ") and f"moved pg:1 from {added['images'][0]['key'][:19]}" in line
    assert postgres_server.password not in out
    code, out, err = run(capsys, "catalog", "list", "--catalog", postgres_url, "--json")
    assert code == ExitCode.OK, err
    records = json.loads(out)
    assert len(records) == 2 and all(r["distro"].startswith("debian:") for r in records)
    assert "pg:1" in records[0]["names"] and "pg:1" not in records[1]["names"]
    code, out, err = run(capsys, "catalog", "show", "pg:1", "--catalog", postgres_url, "--json")
    assert [c["key"] for c in json.loads(out)["custody"]] == [r["key"] for r in records[::-1]]


def test_a_wrong_postgresql_password_is_one_line_without_it(postgres_server, capsys):
    url = postgres_server.url(password="not-the-Secret-42")
    code, out, err = run(capsys, "catalog", "list", "--catalog", url)
    assert code == ExitCode.INPUT_ERROR and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("anchore: error: ")
    assert "not-the-Secret-42" not in err and "127.0.0.1" in err


@pytest.mark.parametrize("flags", [[], ["--fail-on-new"], ["--fail-on-new", "--json"]])
def test_rematch_of_an_empty_catalog_is_an_input_error(built, tmp_path, capsys, flags):
    """Nothing stored, nothing matched: never "0 newly affected" and a pass."""
    catalog = str(tmp_path / "empty.db")
    Catalog(catalog, create=True).close()
    code, out, err = run(
        capsys, "catalog", "rematch", "--db", str(built["store"]), "--catalog", catalog, *flags
    )
    assert code == ExitCode.INPUT_ERROR
    assert out == ""
    assert err.splitlines() == [
        f"anchore: error: the catalog {catalog} holds no image: nothing was matched"
    ]


def test_add_with_unchecked_packages_exits_3_unless_accepted(built, corpus, tmp_path, capsys):
    """``--db`` that checks none of an image's packages: "0 matches" is no clean bill."""
    catalog = str(tmp_path / "c.db")
    argv = ["catalog", "add", str(corpus / "debian-min.oci.tar"), "--catalog", catalog]
    argv += ["--workers", "1", "--db", str(built["store"])]
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.UNCHECKED
    first = out.splitlines()[0]
    assert first.startswith("added ") and "(0 matches; 0 checked, " in first, first
    (line,) = err.splitlines()
    assert line.startswith("anchore: 1 image had none of its packages checked") and (
        "--allow-unchecked" in line
    )
    code, out, err = run(capsys, *argv, "--allow-unchecked")
    assert (code, err) == (ExitCode.OK, "")
    assert out.splitlines()[0].startswith("cached ") and " unchecked)" in out.splitlines()[0]


def test_show_a_name_whose_link_cannot_be_counted(built, tmp_path, capsys, monkeypatch):
    """A link whose image lacks package evidence (here: stored without its python
    analyzer): the record is still shown, the counts are "?" with the reason, never 0."""
    monkeypatch.setenv("COLUMNS", "200")
    catalog, _ = _copy(built, tmp_path)
    _, py_key = _keys(built)
    with Catalog(catalog, create=False) as opened:
        py = opened.analysis(py_key)
        digest = "sha256:" + "cd" * 32
        info = attrs.evolve(
            py.image, config_digest=digest, manifest_digest=digest, source="broken.tar"
        )
        analyzers = tuple(x for x in py.analyzers if x != "python")
        opened.add(attrs.evolve(py, image=info, analyzers=analyzers), names=["app:nightly"])
        (broken,) = opened.keys() - set(_keys(built))
    code, out, err = run(capsys, "catalog", "show", "app:nightly", "--catalog", catalog)
    assert code == ExitCode.OK, err
    assert out.startswith("image:") and broken in out.splitlines()[0]
    custody = out[out.index("chain of custody of app:nightly:") :].splitlines()
    (row,) = [line for line in custody if line.startswith(broken[:19])]
    assert row.split()[-3:] == ["?", "?", "?"], row
    (why,) = [line for line in custody if line.startswith(f"  {broken[:19]}: counts unknown: ")]
    assert "broken.tar" in why


def test_rematch_of_an_image_with_a_failed_analyzer_exits_3(corpus, tmp_path, capsys):
    """The reviewer's case: a python-only image whose python analyzer failed (no
    packages), rematched against the PyPA store: nothing checked, no clean bill (3, with
    or without --fail-on-new), the failed analyzer named; --allow-unchecked accepts it."""
    from anchore import analyze

    broken = attrs.evolve(
        analyze(corpus / "debian-py.oci.tar"), packages=(), failed_analyzers=("python",)
    )
    store = str(tmp_path / "pypa.sqlite")
    load(store, PYPA_ZIP)
    catalog = str(tmp_path / "c.db")
    with Catalog(catalog) as opened:
        opened.add(broken)
    argv = ("catalog", "rematch", "--db", store, "--catalog", catalog)
    for extra in ((), ("--fail-on-new",)):
        code, out, err = run(capsys, *argv, *extra)
        assert code == ExitCode.UNCHECKED, (extra, out, err)
        assert all(line.startswith("anchore: ") for line in err.splitlines()), err
        assert "python failed" in err and "--allow-unchecked" in err
    code, out, err = run(capsys, *argv, "--allow-unchecked")
    assert (code, err) == (ExitCode.OK, "")


def test_add_of_an_image_with_no_package_exits_3(tmp_path, capsys):
    """An image holding no package checks nothing: no result, not a clean one (3, as
    ``anchore vulns`` exits for it); --allow-unchecked accepts it."""
    import imagebuilder

    built = imagebuilder.build([[imagebuilder.f("etc/hostname", b"empty\n")]])
    image = imagebuilder.docker_archive(tmp_path / "empty.tar", [(["empty:1"], built)])
    store = str(tmp_path / "pypa.sqlite")
    load(store, PYPA_ZIP)
    argv = ("catalog", "add", image, "--db", store, "--workers", "1")
    code, out, err = run(capsys, *argv, "--catalog", str(tmp_path / "a.db"))
    assert code == ExitCode.UNCHECKED, (out, err)
    assert "0 checked, 0 unchecked" in out and "--allow-unchecked" in err
    code, out, err = run(capsys, *argv, "--catalog", str(tmp_path / "b.db"), "--allow-unchecked")
    assert (code, err) == (ExitCode.OK, "")
