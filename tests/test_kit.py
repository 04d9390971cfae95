"""The analyzer kit: what a third-party analyzer built with it gets, the same as a built-in."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

import anchore
from anchore import Package
from anchore.analysis.analyzer import FileInput
from anchore.analysis.context import AnalysisContext
from anchore.analysis.kit import FileAnalyzer, problem
from anchore.errors import LimitExceededError
from imagebuilder import build, f, oci_archive

EXAMPLE = Path(__file__).parent.parent / "examples" / "python-plugin" / "src"


@pytest.fixture(scope="module")
def example():
    """The example plugin's module, loaded from the repository (an installed copy may
    be older, and already imported by the default registry)."""
    spec = importlib.util.spec_from_file_location(
        "example_plugin_in_repository", EXAMPLE / "anchore_example_plugin" / "plugin.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package_json(name: str, version: str) -> str:
    return json.dumps({"name": name, "version": version})


def _npm(file):
    doc = json.loads(file.read())
    yield Package(type="npm", name=doc["name"], version=doc["version"],
                  purl=f"pkg:npm/{doc['name']}@{doc['version']}", locations=(file.location,))  # fmt: skip


@pytest.fixture
def rewritten(tmp_path):
    """left-pad installed in layer 0, its package.json rewritten (chmod -R) in layer 1."""
    pkg = "app/node_modules/left-pad/package.json"
    layers = [
        [f(pkg, _package_json("left-pad", "1.3.0")), f("app/node_modules/bad/package.json", "{")],
        [f(pkg, _package_json("left-pad", "1.3.0"), mode=0o664)],
    ]
    with anchore.open_image(oci_archive(tmp_path / "img.tar", build(layers))) as image:
        yield image


def test_kit_locations_are_the_builtins_and_errors_name_the_file(rewritten):
    kit = FileAnalyzer("third-party-npm").with_parser(_npm, "package.json")
    ours = anchore.analyze(rewritten, analyzers=[kit])
    builtin = anchore.analyze(rewritten, analyzers=["npm"])
    (mine,) = ours.packages
    (theirs,) = [p for p in builtin.packages if p.name == "left-pad"]
    assert mine.locations == theirs.locations
    assert mine.locations[0].layer_index == 0  # the layer that installed it, not the chmod
    assert mine.found_by == "third-party-npm"
    # the broken package.json: one error naming it; the other file was still read
    (error,) = ours.errors
    assert error.analyzer == "third-party-npm"
    assert error.path == "/app/node_modules/bad/package.json"
    assert error.message == (
        "/app/node_modules/bad/package.json: not valid JSON "
        "(Expecting property name enclosed in double quotes at line 1 column 2)"
    )
    assert not ours.failed_analyzers


def test_parsers_by_glob_and_a_subclass_parse(rewritten):
    seen = []

    class Counting(FileAnalyzer):
        name = "counting"
        patterns = ("**/bad/package.json",)

        def parse(self, file):
            seen.append(("parse", file.path))
            return ()

    analyzer = Counting().with_parser(lambda file: seen.append(("left", file.path)) or (),
                                      "**/left-pad/package.json")  # fmt: skip
    assert set(analyzer.patterns) == {"**/bad/package.json", "**/left-pad/package.json"}
    anchore.analyze(rewritten, analyzers=[analyzer])
    assert sorted(seen) == [
        ("left", "/app/node_modules/left-pad/package.json"),
        ("parse", "/app/node_modules/bad/package.json"),
    ]
    with pytest.raises(ValueError, match="at least one pattern"):
        FileAnalyzer("x").with_parser(_npm)


def test_example_plugin_is_built_with_the_kit(example, tmp_path):
    (analyzer,) = example.anchore_analyzers()
    assert isinstance(analyzer, FileAnalyzer) and analyzer.name == "example-debian-version"
    src = oci_archive(tmp_path / "img.tar", build([[f("etc/debian_version", "12.4\n")]]))
    result = anchore.analyze(src, analyzers=[analyzer])
    (finding,) = result.findings
    assert finding.message == "Debian 12.4 (from layer 0)"


@pytest.mark.corpus
def test_example_analyzer_is_attributed_as_the_builtin_on_debian_py(example, corpus):
    """The example's dist-info analyzer and the built-in python analyzer, on the same
    METADATA files of debian-py, give the same Location (path, layer, layer digest)."""
    with anchore.open_image(corpus / "debian-py.docker.tar") as image:
        kit = anchore.analyze(image, analyzers=[example.dist_info_analyzer()])
        builtin = anchore.analyze(image, analyzers=["python"])
    assert not kit.errors
    theirs = {
        loc.path: loc
        for pkg in builtin.packages
        for loc in pkg.locations
        if loc.path.endswith(".dist-info/METADATA")
    }
    ours = {loc.path: loc for pkg in kit.packages for loc in pkg.locations}
    assert ours == theirs
    assert {loc.layer_index for loc in ours.values()} >= {2}  # pip's layer, not the base
    assert all(loc.layer_digest.startswith("sha256:") for loc in ours.values())
    assert {(p.name, p.version) for p in kit.packages} <= {
        (p.name, p.version) for p in builtin.packages
    }


def test_example_dist_info_names_and_purls_packages_as_the_builtin(example, tmp_path):
    """PEP 503 names (``Foo__Bar.baz`` is ``foo-bar-baz``, not ``foo--bar-baz``) and the
    purl from anchore's ecosystem table: the same package as the built-in python analyzer's."""
    meta = "usr/lib/python3/site-packages/Foo__Bar.baz-1.0.dist-info/METADATA"
    built = build([[f(meta, "Metadata-Version: 2.1\nName: Foo__Bar.baz\nVersion: 1.0\n")]])
    src = oci_archive(tmp_path / "img.tar", built)
    (mine,) = anchore.analyze(src, analyzers=[example.dist_info_analyzer()]).packages
    (theirs,) = anchore.analyze(src, analyzers=["python"]).packages
    assert (mine.name, mine.purl) == ("foo-bar-baz", "pkg:pypi/foo-bar-baz@1.0")
    assert (mine.type, mine.name, mine.version, mine.purl, mine.locations) == (
        theirs.type, theirs.name, theirs.version, theirs.purl, theirs.locations,
    )  # fmt: skip


# ---- the kit's guards: plain words, bounded text, per-record isolation, time ----


def _image(tmp_path, layers, **limits):
    return anchore.open_image(
        oci_archive(tmp_path / "img.tar", build(layers)), limits=anchore.Limits(**limits)
    )


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (KeyError("Version"), "missing field 'Version'"),
        (TypeError("'int' object is not subscriptable"),
         "unexpected structure ('int' object is not subscriptable)"),
        (AttributeError("'list' object has no attribute 'get'"),
         "unexpected structure ('list' object has no attribute 'get')"),
        (IndexError("list index out of range"), "unexpected structure (list index out of range)"),
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (OverflowError("Python int too large to convert to C int"),
         "a number out of range (Python int too large to convert to C int)"),
        (MemoryError(), "too large to hold in memory"),
        (ValueError("bad version 'x'"), "bad version 'x'"),
        (ValueError(), "unexpected ValueError"),
    ],
)  # fmt: skip
def test_problem_says_what_an_exception_means(exc, words):
    assert problem(exc) == words


def test_problem_of_undecodable_bytes_json_and_anchore_errors():
    with pytest.raises(UnicodeDecodeError) as raised:
        b"abc\xff".decode("utf-8")
    assert problem(raised.value) == "not valid UTF-8 at byte 3"
    with pytest.raises(json.JSONDecodeError) as bad_json:
        json.loads('{"a": ')
    assert problem(bad_json.value).startswith("not valid JSON (Expecting value at line 1 column")
    limit = LimitExceededError("x: too big", limit="max_read_bytes")
    assert problem(limit) == "x: too big"
    assert len(problem(ValueError("v" * 10_000))) == 300  # image content is not echoed whole


def _collect(kit, image):
    result = anchore.analyze(image, analyzers=[kit])
    return result, [e.message for e in result.errors]


def test_file_input_knows_its_analyzer_and_limits(tmp_path):
    seen = []

    def parse(file):
        seen.append((file.analyzer, file.limits.max_text_lines))
        return ()

    kit = FileAnalyzer("who").with_parser(parse, "a.txt")
    with _image(tmp_path, [[f("a.txt", "x")]], max_text_lines=7) as image:
        anchore.analyze(image, analyzers=[kit])
    assert seen == [("who", 7)]


def test_analyze_passes_limits_to_open_image(tmp_path):
    src = oci_archive(tmp_path / "img.tar", build([[f("a.txt", "x" * 100)]]))
    seen = []
    kit = FileAnalyzer("lim").with_parser(lambda file: seen.append(file.limits) or (), "a.txt")
    anchore.analyze(src, analyzers=[kit], limits=anchore.Limits(max_read_bytes=10))
    assert seen[0].max_read_bytes == 10


def _lines_kit(out):
    def parse(file):
        out.append(list(file.lines()))
        return ()

    return FileAnalyzer("lines").with_parser(parse, "*.txt")


@pytest.mark.parametrize(
    ("content", "limits", "limit"),
    [
        ("a\n" * 11, {"max_text_lines": 10}, "max_text_lines"),
        ("a\r" * 11, {"max_text_lines": 10}, "max_text_lines"),  # other line breaks count
        ("a\x0c" * 11, {"max_text_lines": 10}, "max_text_lines"),
        ("short\n" + "x" * 101 + "\n", {"max_line_bytes": 100}, "max_line_bytes"),
        ("short\n" + "é" * 51, {"max_line_bytes": 100}, "max_line_bytes"),  # bytes, not chars
    ],
)
def test_lines_are_bounded(tmp_path, content, limits, limit):
    out: list[list[str]] = []
    with _image(tmp_path, [[f("db.txt", content)]], **limits) as image:
        result, messages = _collect(_lines_kit(out), image)
    assert out == []
    (message,) = messages
    assert message.startswith("/db.txt: ") and f"Limits.{limit}" in message
    assert result.errors[0].path == "/db.txt"


def test_lines_within_bounds_are_splitlines(tmp_path):
    out: list[list[str]] = []
    text = "one\r\ntwo\n\nthree é\xff"
    with _image(tmp_path, [[f("db.txt", text.encode("utf-8")[:-2] + b"\xff")]],
                max_text_lines=4, max_line_bytes=12) as image:  # fmt: skip
        _, messages = _collect(_lines_kit(out), image)
    assert messages == []
    assert out == [["one", "two", "", "three é\ufffd"]]


def _records_kit(records, build, describe=None):
    def parse(file):
        return file.each(records, build, describe=describe)

    return FileAnalyzer("records").with_parser(parse, "db")


def _pkg(name):
    return Package(type="npm", name=name, version="1", purl=f"pkg:npm/{name}@1")


def test_each_isolates_a_bad_record(tmp_path):
    records = [{"name": "good"}, {"name": 3}, {}, {"name": "also-good"}]

    def make(record):
        return _pkg(record["name"].strip())

    kit = _records_kit(records, make, describe=lambda r: f"package {r['name']!r}")
    with _image(tmp_path, [[f("db", "x")]]) as image:
        result, messages = _collect(kit, image)
    assert [p.name for p in result.packages] == ["also-good", "good"]
    assert messages == [
        "/db: package 3: unexpected structure ('int' object has no attribute 'strip')",
        "/db: record 3: missing field 'name'",  # describe itself failed: the record's number
    ]
    assert {e.analyzer for e in result.errors} == {"records"}
    assert {e.path for e in result.errors} == {"/db"}
    assert not result.failed_analyzers


def test_each_takes_none_one_or_many_results_and_nothing_half_built(tmp_path):
    def make(n):
        if n == 0:
            return None
        if n == 1:
            return _pkg("one")
        return (_pkg(f"many-{i}") if i < 2 else {}["version"] for i in range(3))  # fails third

    with _image(tmp_path, [[f("db", "x")]]) as image:
        result, messages = _collect(_records_kit([0, 1, 2], make), image)
    assert [p.name for p in result.packages] == ["one"]  # nothing of record 3
    assert len(messages) == 1 and messages[0].startswith("/db: record 3: ")


def test_each_stops_at_max_db_records_and_at_broken_records(tmp_path):
    with _image(tmp_path, [[f("db", "x")]], max_db_records=2) as image:
        result, messages = _collect(_records_kit(["a", "b", "c", "d"], _pkg), image)
    assert [p.name for p in result.packages] == ["a", "b"]
    assert messages == ["/db: more than Limits.max_db_records (2) records; the rest were not read"]

    def broken():
        yield "a"
        raise ValueError("truncated header at offset 40")

    with _image(tmp_path, [[f("db", "x")]]) as image:
        result, messages = _collect(_records_kit(broken(), _pkg), image)
    assert [p.name for p in result.packages] == ["a"]
    assert messages == ["/db: after record 1: truncated header at offset 40; the rest was not read"]


def test_each_stops_at_the_analyzer_deadline(tmp_path):
    def slow(name):
        time.sleep(0.3)
        return _pkg(name)

    with _image(tmp_path, [[f("db", "x")]], max_analyzer_seconds=0.5) as image:
        result, messages = _collect(_records_kit(["a", "b", "c", "d", "e"], slow), image)
    assert 1 <= len(result.packages) < 5
    (message,) = messages
    assert message.startswith("/db: analyzer records ran past Limits.max_analyzer_seconds (0.5 s)")
    assert result.failed_analyzers == ("records",)


def test_files_past_the_deadline_are_one_error(tmp_path):
    def slow(file):
        file.check_time()
        time.sleep(0.25)
        return [_pkg(file.path.strip("/"))]

    kit = FileAnalyzer("slow").with_parser(slow, "*.db")
    layers = [[f(f"{i}.db", "x") for i in range(8)]]
    with _image(tmp_path, layers, max_analyzer_seconds=0.4) as image:
        result, messages = _collect(kit, image)
    assert 1 <= len(result.packages) <= 3
    (message,) = messages
    left = 8 - len(result.packages)
    assert f"and {left - 1} more file(s): not analyzed: analyzer slow ran past" in message
    assert result.failed_analyzers == ("slow",)


def test_check_time_raises_the_limit(tmp_path):
    caught = []

    def parse(file):
        try:
            file.check_time()
        except LimitExceededError as exc:
            caught.append((exc.limit, exc.member))
        return ()

    with _image(tmp_path, [[f("a", "x")]], max_analyzer_seconds=0) as image:
        context = AnalysisContext(image)
        (entry,) = [e for e in image.files() if e.path == "/a"]
        parse(FileInput(entry, context, "t"))
    assert caught == [("max_analyzer_seconds", "/a")]


class _Raising:
    name = "raising"
    patterns = ("a",)

    def analyze(self, files, context):
        yield _pkg("kept")
        raise TypeError("'NoneType' object is not iterable")


class _Endless:
    name = "endless"
    patterns = ("a",)

    def analyze(self, files, context):
        n = 0
        while True:
            n += 1
            time.sleep(0.01)
            yield _pkg(f"p{n}")


def test_engine_keeps_what_a_failing_analyzer_yielded_and_says_why(tmp_path):
    with _image(tmp_path, [[f("a", "x")]]) as image:
        result = anchore.analyze(image, analyzers=[_Raising()])
    assert [p.name for p in result.packages] == ["kept"]
    (error,) = result.errors
    assert error.analyzer == "raising"
    assert error.message == "unexpected structure ('NoneType' object is not iterable)"
    assert result.failed_analyzers == ("raising",)


def test_engine_stops_an_analyzer_past_its_deadline(tmp_path):
    with _image(tmp_path, [[f("a", "x")]], max_analyzer_seconds=0.2) as image:
        start = time.monotonic()
        result = anchore.analyze(image, analyzers=[_Endless()])
    assert time.monotonic() - start < 3  # the deadline and a second's grace
    (error,) = result.errors
    assert error.message == (
        "analyzer endless ran past Limits.max_analyzer_seconds (0.2 s); "
        "the rest of its work was not done"
    )
    assert result.failed_analyzers == ("endless",)
    assert result.packages
