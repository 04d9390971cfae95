"""Hostile images against the analysis stage: each case, built here by code, runs in a
confined child (tests/confine.py: bounded time and memory, a private temp dir) and asserts
the error entry (analyzer, path, plain words) and that the analyzer's other results stand.

Classes: a bad record or file costs only itself (bad modes, purls that cannot be spelled,
results of the wrong types); layer attribution stays linear under many whiteouts; the
prefetch pass and the layer copies of a database stay within memory; an analyzer stops
at Limits.max_analyzer_seconds with one error naming the limit.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

import pytest

from confine import run_confined
from imagebuilder import MEDIA, Built, build, f, oci_archive

#: what every case imports in the child
PRELUDE = """
import anchore, attrs
from anchore.analysis.analyzer import FileInput
from anchore.analysis.context import AnalysisContext
from anchore.analysis.kit import FileAnalyzer
from anchore import Package
"""


def _plain(message: str) -> None:
    """An error entry in plain words: no Python exception class names."""
    for raw in ("TypeError", "AttributeError", "KeyError", "OverflowError", "RecursionError",
                "UnicodeDecodeError", "IndexError", "Traceback"):  # fmt: skip
        assert raw not in message, message


# ---- one bad file or record costs only itself ----

SETUID = [
    f("usr/bin/su", "x", mode=0o4755),
    f("usr/bin/passwd", "x", mode=0o4755),
    f("tmp/open", "x", mode=0o666),
]


@pytest.mark.parametrize("mode", [2**64 - 1, 2**63, -1, 0o170000 | 0o4755])
def test_a_bad_mode_costs_one_file_not_the_setuid_findings(tmp_path, mode):
    """Whatever mode the reader lets through, the permissions analyzer reports that one
    file and keeps every other finding (it died on an OverflowError and lost them all)."""
    src = oci_archive(tmp_path / "img.tar", build([[*SETUID, f("usr/bin/evil", "x")]]))
    code = (
        PRELUDE
        + """
from anchore.analyzers.files import PermissionsAnalyzer
with anchore.open_image(SRC) as image:
    context = AnalysisContext(image)
    entries = [e if e.path != "/usr/bin/evil" else attrs.evolve(e, mode=MODE)
               for e in image.files() if e.is_file]
    files = [FileInput(e, context, "file-permissions") for e in entries]
    out = list(PermissionsAnalyzer().analyze(files, context))
result = [[type(r).__name__, getattr(r, "kind", None), getattr(r, "path", None),
           getattr(r, "message", "")] for r in out]
"""
    )
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src, MODE=mode)
    results = out.assert_no_error()
    kinds = sorted(r[1] for r in results if r[0] == "Finding")
    assert kinds == ["setuid", "setuid", "world-writable"]
    (error,) = [r for r in results if r[0] == "AnalyzerError"]
    assert error[2] == "/usr/bin/evil"
    assert error[3] == f"/usr/bin/evil: mode {mode!r} is not a file mode (0 to 07777)"


def _base256_mode(tar: bytes, name: str) -> bytes:
    """The tar with ``name``'s mode field set to base-256 all ones, checksum redone."""
    data = bytearray(tar)
    for off in range(0, len(data) - 512, 512):
        block = data[off : off + 512]
        if block[:100].rstrip(b"\0") == name.encode():
            block[100:108] = b"\xff" * 8
            block[148:156] = b" " * 8
            block[148:156] = b"%06o\0 " % sum(block)
            data[off : off + 512] = block
            return bytes(data)
    raise AssertionError(f"{name} not in the tar")


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT])
def test_a_base256_mode_is_a_typed_error_or_one_entry_never_silent_loss(tmp_path, fmt):
    built = build([[*SETUID, f("usr/bin/evil", "x", mode=0o4755)]], compression="none", fmt=fmt)
    built.layers[0] = built.diff_tars[0] = _base256_mode(built.diff_tars[0], "usr/bin/evil")
    built.config["rootfs"]["diff_ids"] = [__import__("imagebuilder").sha256(built.diff_tars[0])]
    src = oci_archive(tmp_path / "img.tar", built)
    code = """
import anchore
a = anchore.analyze(SRC, analyzers=["file-permissions"])
result = {"kinds": sorted(x.kind for x in a.findings),
          "errors": [[e.analyzer, e.path, e.message] for e in a.errors],
          "failed": list(a.failed_analyzers)}
"""
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src)
    if out.raised:  # the reader refuses the member: a typed error naming it
        out.assert_raised("AnchoreError", contains="usr/bin/evil")
        return
    result = out.result
    assert result["kinds"].count("setuid") >= 2 and "world-writable" in result["kinds"]
    for analyzer, path, message in result["errors"]:
        assert analyzer == "file-permissions" and path == "/usr/bin/evil"
        _plain(message)


@pytest.mark.parametrize("name", ["/", "", "a/../..", 7])
def test_a_name_without_a_purl_is_a_typed_error_naming_the_package(name):
    from anchore.analyzers.common import PurlError, package_purl

    with pytest.raises(PurlError, match=r"apk package .* version '1\.0' makes no package URL"):
        package_purl("apk", name, "1.0", namespace="alpine") if name != "a/../.." else (
            package_purl("apk", name, "1.0", namespace="alpine", qualifiers={"arch": 3})
        )


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("/", "package '/': apk package '/' version '1' makes no package URL"),
        (None, "package None: apk package None version '1' makes no package URL"),
    ],
)
def test_each_costs_the_bad_record_only_through_package_purl(tmp_path, bad, words):
    """A third-party database parser built with file.each and package_purl: the record
    named ``/`` costs itself; musl and busybox stand (they vanished together before)."""
    src = oci_archive(tmp_path / "img.tar", build([[f("db/installed", "x")]]))
    code = (
        PRELUDE
        + """
from anchore.analyzers.common import package_purl
def parse(file):
    def make(name):
        return Package(type="apk", name=name, version="1", locations=(file.location,),
                       purl=package_purl("apk", name, "1", namespace="alpine"))
    return file.each(["musl", BAD, "busybox"], make, describe=lambda n: f"package {n!r}")
kit = FileAnalyzer("apk-like").with_parser(parse, "/db/installed")
a = anchore.analyze(SRC, analyzers=[kit])
result = {"names": [p.name for p in a.packages],
          "errors": [[e.analyzer, e.path, e.message] for e in a.errors]}
"""
    )
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src, BAD=bad)
    result = out.assert_no_error()
    assert result["names"] == ["busybox", "musl"]
    ((analyzer, path, message),) = result["errors"]
    assert (analyzer, path) == ("apk-like", "/db/installed")
    assert message.startswith(f"/db/installed: {words}")
    _plain(message)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("name", 3, "its name is int 3, not text"),
        ("version", ["1"], "its version is list ['1'], not text"),
        ("files", (["/x"],), "its files are not all text"),
    ],
)
def test_a_result_of_the_wrong_types_is_dropped_with_an_entry(tmp_path, field, value, words):
    """A parser that puts image JSON straight into a Package (a name that is a number):
    one entry, the other packages stand (the analysis died in a sort before)."""
    src = oci_archive(tmp_path / "img.tar", build([[f("a.json", "{}")]]))
    code = (
        PRELUDE
        + """
def parse(file):
    good = dict(type="npm", name="ok", version="1", purl="pkg:npm/ok@1",
                locations=(file.location,))
    yield Package(**good)
    yield Package(**{**good, "name": "bad", FIELD: VALUE})
kit = FileAnalyzer("json-like").with_parser(parse, "a.json")
a = anchore.analyze(SRC, analyzers=[kit])
result = {"names": [p.name for p in a.packages],
          "errors": [[e.analyzer, e.path, e.message] for e in a.errors]}
"""
    )
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src,
                       FIELD=field, VALUE=value)  # fmt: skip
    result = out.assert_no_error()
    assert result["names"] == ["ok"]
    assert result["errors"] == [["json-like", "/a.json", f"/a.json: package dropped: {words}"]]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"name": 5}', "unexpected structure ('int' object has no attribute 'lower')"),
        (b"\xff\xfe{}", "not valid UTF-8 at byte 0"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b"{}", "missing field 'name'"),
    ],
    ids=["wrong-type", "not-utf8", "deep", "missing"],
)
def test_parser_failures_are_said_in_plain_words(tmp_path, content, words):
    src = oci_archive(tmp_path / "img.tar", build([[f("p.json", content)]]))
    code = (
        PRELUDE
        + """
import json
def parse(file):
    doc = json.loads(file.read().decode("utf-8"))
    return [doc["name"].lower()]
kit = FileAnalyzer("words").with_parser(parse, "p.json")
a = anchore.analyze(SRC, analyzers=[kit])
result = [[e.analyzer, e.path, e.message] for e in a.errors]
"""
    )
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src)
    assert out.assert_no_error() == [["words", "/p.json", f"/p.json: {words}"]]


# ---- attribution and memory bombs ----


def _whiteout_bomb(count: int) -> bytes:
    """A layer of ``count`` whiteouts (of paths that never existed), written fast."""
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for i in range(count):
            info = tarfile.TarInfo(f"w/{i // 1000}/.wh.{i}")
            tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("whiteouts", [50_000, 200_000])
def test_attribution_stays_linear_under_many_whiteouts(tmp_path, whiteouts):
    """Thousands of package files above a layer of many whiteouts: each file's
    introducing layer is found in O(depth), not by scanning every whiteout."""
    import imagebuilder

    files = [f(f"app/m{i}/package.json", "{}") for i in range(3000)]
    built = build([[f("etc/os-release", "ID=x\n")], [], files])
    bomb = _whiteout_bomb(whiteouts)
    built.diff_tars[1] = bomb
    built.layers[1] = imagebuilder.compress(bomb, "gzip")
    built.config["rootfs"]["diff_ids"][1] = imagebuilder.sha256(bomb)
    src = oci_archive(tmp_path / "img.tar", built)
    code = (
        PRELUDE
        + """
def parse(file):
    return [Package(type="npm", name=file.path.split("/")[2], version="1",
                    purl="pkg:npm/" + file.path.split("/")[2] + "@1", locations=(file.location,))]
kit = FileAnalyzer("many").with_parser(parse, "package.json")
a = anchore.analyze(SRC, analyzers=[kit])
result = sorted({p.locations[0].layer_index for p in a.packages}), len(a.packages), len(a.errors)
"""
    )
    out = run_confined(code, seconds=60, memory_mib=2048, watch=[src], SRC=src)
    assert out.assert_no_error() == [[2], 3000, 0]
    assert out.seconds < 30


def test_prefetch_keeps_at_most_its_budget(tmp_path):
    """Many large package.json files: the shared pass holds at most max_prefetch_bytes;
    every file is still parsed (the rest read on demand, not kept)."""
    big = b'{"name": "x", "pad": "' + b"a" * (1 << 20) + b'"}'
    src = oci_archive(
        tmp_path / "img.tar", build([[f(f"m{i}/package.json", big) for i in range(96)]])
    )
    code = (
        PRELUDE
        + """
held = []
def parse(file):
    held.append(file.context._cached_bytes)
    file.read()
    return ()
kit = FileAnalyzer("big").with_parser(parse, "package.json")
limits = anchore.Limits(max_prefetch_bytes=8 << 20)
a = anchore.analyze(SRC, analyzers=[kit], limits=limits)
result = [max(held), len(held), len(a.errors)]
"""
    )
    out = run_confined(code, seconds=60, memory_mib=1024, watch=[src], SRC=src)
    most, parsed, errors = out.assert_no_error()
    assert most <= 8 << 20 and parsed == 96 and errors == 0


def test_layer_copies_of_one_blob_are_read_and_keyed_once(tmp_path):
    """Many layers naming one blob that holds a large database: its keys are computed
    once, and the copies are one bytes object, not one per layer."""
    status = b"".join(b"Package: p%d\nVersion: 1\n\n" % i for i in range(200_000))
    layer = [f("var/lib/dpkg/status", status)]
    src = oci_archive(tmp_path / "img.tar", build([layer] * 40))
    code = (
        PRELUDE
        + """
calls = []
def keys(data):
    calls.append(len(data))
    return [line for line in data.split(b"\\n") if line.startswith(b"Package:")]
with anchore.open_image(SRC) as image:
    context = AnalysisContext(image)
    first = context.first_layers("/var/lib/dpkg/status", keys)
    copies = context.layer_copies("/var/lib/dpkg/status")
result = [len(calls), len(first), min(first.values()), len({id(d) for _, d in copies}), len(copies)]
"""
    )
    out = run_confined(code, seconds=60, memory_mib=1536, watch=[src], SRC=src)
    calls, records, oldest, distinct, copies = out.assert_no_error()
    assert (records, oldest, copies) == (200_000, 0, 40)
    assert calls == 1 and distinct == 1


@pytest.mark.parametrize(
    "raises",
    [
        "LimitExceededError('too many lines', limit='max_text_lines')",
        "TypeError(\"'int' object is not subscriptable\")",
        "RecursionError('deep')",
        "MemoryError()",
    ],
    ids=["limit", "type", "recursion", "memory"],
)
def test_a_key_function_failing_on_an_older_copy_costs_only_that_copy(tmp_path, raises):
    """A plugin's key function raising anything on an older layer's copy of its database:
    that copy is skipped (records count from the next copy that lists them); the analyzer
    and its packages stand (before, only ValueError/KeyError/struct.error were skipped)."""
    layers = [[f("db/installed", "old\nbroken")], [f("db/installed", "a\nb")],
              [f("db/installed", "a\nb\nc")]]  # fmt: skip
    src = oci_archive(tmp_path / "img.tar", build(layers))
    code = (
        PRELUDE
        + """
from anchore.errors import LimitExceededError
from anchore.analyzers.common import package_purl
def keys(data):
    if b"broken" in data:
        raise RAISES
    return data.decode().split()
def parse(file):
    first = file.context.first_layers(file.path, keys)
    def make(name):
        layer = str(first.get(name))  # the layer that first listed it, as its version
        return Package(type="apk", name=name, version=layer, locations=(file.location,),
                       purl=package_purl("apk", name, layer, namespace="alpine"))
    return file.each(file.lines(), make)
kit = FileAnalyzer("db-like").with_parser(parse, "/db/installed")
a = anchore.analyze(SRC, analyzers=[kit])
result = {"packages": sorted([p.name, p.version] for p in a.packages),
          "errors": [e.message for e in a.errors], "failed": list(a.failed_analyzers)}
""".replace("RAISES", raises)
    )
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src)
    result = out.assert_no_error()
    assert result == {"packages": [["a", "1"], ["b", "1"], ["c", "2"]], "errors": [],
                      "failed": []}  # fmt: skip


# ---- time ----


def test_an_analyzer_past_its_time_is_one_error_naming_the_limit(tmp_path):
    src = oci_archive(
        tmp_path / "img.tar", build([[*SETUID, *(f(f"d/{i}", "x") for i in range(50))]])
    )
    code = """
import anchore
a = anchore.analyze(SRC, analyzers=["file-permissions", "system-files"],
                    limits=anchore.Limits(max_analyzer_seconds=0))
result = {"errors": [[e.analyzer, e.path, e.message] for e in a.errors],
          "failed": list(a.failed_analyzers), "findings": len(a.findings)}
"""
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[src], SRC=src)
    result = out.assert_no_error()
    ((analyzer, path, message),) = result["errors"]
    assert analyzer == "file-permissions" and path == "/d/0"
    assert message == (
        "/d/0 and 52 more file(s): not analyzed: analyzer file-permissions ran past "
        "Limits.max_analyzer_seconds (0 s); the rest of its work was not done"
    )
    assert result["failed"] == ["file-permissions"] and result["findings"] == 0


# ---- many large files of one kind: memory stays bounded, every file is parsed ----


class _Hashing(io.RawIOBase):
    """A writable that hashes what passes through it on its way to ``out``."""

    def __init__(self, out):
        self.out, self.digest = out, hashlib.sha256()

    def writable(self):
        return True

    def write(self, data):
        self.digest.update(data)
        return self.out.write(data)


def _streamed_image(tmp_path, files):
    """An OCI archive of one gzip layer holding ``files`` ((path, bytes) made one at a time):
    the uncompressed layer (here over a GiB) is never held, only its compressed blob."""
    blob = io.BytesIO()
    with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=6, mtime=0) as gz:
        raw = _Hashing(gz)
        with tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for path, data in files:
                info = tarfile.TarInfo(path)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    built = Built(
        {"architecture": "amd64", "os": "linux",
         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + raw.digest.hexdigest()]}},
        [blob.getvalue()], [], [MEDIA["gzip"]],
    )  # fmt: skip
    return oci_archive(tmp_path / "img.tar", built)


BIG_ANALYZE = """
import anchore
a = anchore.analyze(SRC, analyzers=NAMES)
result = [sorted([p.name, p.version] for p in a.packages), [e.message for e in a.errors]]
"""


@pytest.mark.scale
def test_hundreds_of_4_mib_package_jsons_are_parsed_in_bounded_memory(tmp_path):
    """300 package.json of 4 MiB each (1.2 GiB in all): the prefetch pass kept them
    together (killed at 1.5 GiB here). Now it holds max_prefetch_bytes (512 MiB) and the
    rest are read one at a time: each is found, in a fraction of the total."""
    pad = b"a" * ((4 << 20) - 100)  # just under PREFETCH_MAX_BYTES: each one prefetchable
    files = (
        (f"usr/lib/node_modules/p{i}/package.json",
         b'{"name": "p%d", "version": "1.0.%d", "description": "%s"}' % (i, i, pad))
        for i in range(300)
    )  # fmt: skip
    src = _streamed_image(tmp_path, files)
    out = run_confined(BIG_ANALYZE, seconds=120, memory_mib=1500, watch=[src], SRC=src,
                       NAMES=["npm"])  # fmt: skip
    found, errors = out.assert_no_error()
    assert errors == []
    assert found == sorted([f"p{i}", f"1.0.{i}"] for i in range(300))
    assert out.peak_mib < 800, out.peak_mib  # of 1,200 MiB of package.json


@pytest.mark.scale
def test_hundreds_of_large_python_metadata_files_are_parsed_in_bounded_memory(tmp_path):
    """The same for 200 dist-info METADATA files of 4 MiB (a long description each)."""
    site = "usr/lib/python3.11/site-packages"
    body = b"long description line\n" * (((4 << 20) - 100) // 22)
    files = (
        (f"{site}/p{i}-1.{i}.dist-info/METADATA",
         b"Metadata-Version: 2.1\nName: p%d\nVersion: 1.%d\n\n%s" % (i, i, body))
        for i in range(200)
    )  # fmt: skip
    src = _streamed_image(tmp_path, files)
    out = run_confined(BIG_ANALYZE, seconds=120, memory_mib=1500, watch=[src], SRC=src,
                       NAMES=["python"])  # fmt: skip
    found, errors = out.assert_no_error()
    assert errors == []
    assert found == sorted([f"p{i}", f"1.{i}"] for i in range(200))
    assert out.peak_mib < 700, out.peak_mib  # of 800 MiB of METADATA
