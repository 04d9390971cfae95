"""Hostile OS package databases (dpkg, apk, rpm): bounded work, and a bad record costs only itself.

Each case builds an image around a real database from the test data (syft's
dpkg, apk and rpm fixtures, the rpmdb.sqlite rpm rebuilt from one) mutated the
way an attacker would, and analyzes it in a confined child (tests/confine.py):
it must answer within a time and memory bound, write nothing outside its
temporary directory, and report the attack as an error entry naming the file
(and the record), while the good records beside it are still reported.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from confine import run_confined
from imagebuilder import build, d, f, oci_archive
from testdata import SYFT_CATALOGERS

RPM_SQLITE = Path(__file__).parent / "fixtures" / "rpm" / "rpmdb.sqlite"
RPM_BDB = SYFT_CATALOGERS / "redhat" / "testdata" / "Packages"
DPKG_STATUS = SYFT_CATALOGERS / "debian" / "testdata" / "var" / "lib" / "dpkg" / "status.d"
APK_SINGLE = SYFT_CATALOGERS / "alpine" / "testdata" / "single"

STATUS = "var/lib/dpkg/status"
INSTALLED = "lib/apk/db/installed"

_ANALYZE = """
import anchore
a = anchore.analyze(PATH, analyzers=[ANALYZER], limits=anchore.Limits(**LIMITS))
result = {
    "packages": sorted(p.name for p in a.packages),
    "errors": [[e.analyzer, e.path, e.message] for e in a.errors],
    "failed": list(a.failed_analyzers),
}
"""


def _image(tmp_path: Path, *layers: dict[str, bytes], name: str = "img") -> str:
    """An OCI archive of ``layers``, each a {path: content} of regular files."""
    built = build([[d("etc"), *(f(p, data) for p, data in layer.items())] for layer in layers])
    return oci_archive(tmp_path / f"{name}.tar", built)


def _analyze(
    image: str, analyzer: str, *, seconds: float = 30, memory_mib: int = 1536, **limits: object
) -> dict:
    """What ``analyzer`` says of ``image``, run confined; it must not raise."""
    out = run_confined(
        _ANALYZE,
        seconds=seconds,
        memory_mib=memory_mib,
        watch=[image],
        PATH=image,
        ANALYZER=analyzer,
        LIMITS=limits,
    )
    out.assert_no_error()
    result = out.result
    assert not result["failed"], result  # the analyzer itself never fails on content
    return result


def _errors_naming(result: dict, path: str, *words: str) -> list[str]:
    """The error messages that name ``path`` and say all ``words``."""
    return [m for _a, p, m in result["errors"] if p == path and all(w in m for w in words)]


# ---- dpkg ----


def _stanza(name: str, version: str = "1.0-1", **fields: str) -> str:
    lines = [f"Package: {name}", "Status: install ok installed", f"Version: {version}"]
    lines += ["Architecture: amd64", *(f"{k}: {v}" for k, v in fields.items())]
    return "\n".join(lines) + "\n\n"


def _real_stanza() -> str:
    """libpam-runtime's real stanza from syft's distroless status.d fixture."""
    return (DPKG_STATUS / "libpam-runtime").read_text().strip() + "\n\n"


@pytest.mark.parametrize(
    "hostile",
    [
        # a million continuation lines of one field (each appended to a growing string)
        pytest.param(_stanza("bash").rstrip("\n") + "\n" + " x\n" * 1_000_000, id="continuations"),
        # a million values of a repeated key (joined the same way)
        pytest.param("Package: bash\n" + "Depends: libc6\n" * 1_000_000, id="repeated-key"),
        # fewer, longer continuation lines: 200,000 of 100 bytes
        pytest.param(
            _stanza("bash").rstrip("\n")
            + "\nConffiles:\n"
            + (" /etc/" + "c" * 94 + "\n") * 200_000,
            id="long-continuations",
        ),
    ],
)
def test_dpkg_status_parsing_is_linear(tmp_path, hostile):
    status = _real_stanza() + hostile + "\n\n" + _stanza("coreutils", "9.1-1")
    image = _image(tmp_path, {STATUS: status.encode()})
    result = _analyze(image, "dpkg", seconds=30)
    assert {"libpam-runtime", "coreutils"} <= set(result["packages"]), result["errors"]


@pytest.mark.parametrize(
    ("content", "limits", "limit"),
    [
        pytest.param("\n" * 200_000, {"max_text_lines": 100_000}, "max_text_lines", id="lines"),
        pytest.param(
            "Description: " + "x" * 300_000 + "\n",
            {"max_line_bytes": 100_000},
            "max_line_bytes",
            id="line-bytes",
        ),
    ],
)
def test_dpkg_status_past_the_text_limits_is_an_error_naming_it(tmp_path, content, limits, limit):
    status = _real_stanza() + content
    image = _image(tmp_path, {STATUS: status.encode()})
    result = _analyze(image, "dpkg", **limits)
    assert _errors_naming(result, "/" + STATUS, f"Limits.{limit}"), result["errors"]


@pytest.mark.parametrize(
    "field",
    [
        pytest.param("License: MIT" + " " * 100_000 + "x", id="spaces"),
        pytest.param("License: MIT" + "\t" * 100_000 + "x", id="tabs"),
        pytest.param("License: MIT" + " \t" * 50_000 + "|", id="mixed"),
        pytest.param("License:" + " " * 100_000 + "GPL-2" + " " * 100_000 + "or", id="both-ends"),
    ],
)
def test_dpkg_copyright_license_lines_do_not_backtrack(tmp_path, field):
    copyright_text = f"Files: *\nCopyright: someone\n{field}\n\nLicense: GPL-2+\n"
    image = _image(
        tmp_path,
        {
            STATUS: _stanza("bash").encode(),
            "usr/share/doc/bash/copyright": copyright_text.encode(),
        },
    )
    result = _analyze(image, "dpkg", seconds=20)
    assert result["packages"] == ["bash"]


def test_dpkg_copyright_licenses_unchanged_on_real_text():
    from anchore.analyzers.dpkg import copyright_licenses

    text = (
        "License: GPL-2+ or Artistic\nLicense: BSD-3-clause, MIT | Apache-2.0\n"
        "License:   LGPL-2.1  \n See /usr/share/common-licenses/GPL-2.\n"
        "/usr/share/common-licenses/Apache-2.0 and /usr/share/common-licenses/X)\n"
    )
    assert copyright_licenses(text) == [
        "GPL-2+",
        "Artistic",
        "BSD-3-clause",
        "MIT",
        "Apache-2.0",
        "LGPL-2.1",
        "GPL-2",
        "Apache-2",
    ]


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        pytest.param(_stanza("/"), "package '/'", id="name-slash"),
        pytest.param(_stanza("//"), "package '//'", id="name-slashes"),
        pytest.param(
            "Package: \nStatus: install ok installed\nVersion: 1\n\n", "package ''", id="name-empty"
        ),
        pytest.param(_stanza("nover", version=" "), "has no Version", id="no-version"),
    ],
)
def test_dpkg_bad_stanza_costs_only_itself(tmp_path, bad, says):
    status = _real_stanza() + bad + _stanza("coreutils", "9.1-1")
    image = _image(tmp_path, {STATUS: status.encode()})
    result = _analyze(image, "dpkg")
    assert {"libpam-runtime", "coreutils"} <= set(result["packages"]), result["errors"]
    assert _errors_naming(result, "/" + STATUS, says), result["errors"]


def test_dpkg_odd_but_harmless_fields_keep_every_package(tmp_path):
    status = (
        _real_stanza()
        + "Package: dup\nPackage: dup2\nStatus: install ok installed\nVersion: 1.0\n\n"
        + "Package: latin\nStatus: install ok installed\nVersion: 1.0\nMaintainer: \xe9\n\n"
    ).encode("latin-1") + _stanza("coreutils").encode()
    image = _image(tmp_path, {STATUS: status})
    result = _analyze(image, "dpkg")
    assert {"libpam-runtime", "latin", "coreutils"} <= set(result["packages"]), result


def test_dpkg_a_bad_list_file_costs_only_the_file_list(tmp_path):
    image = _image(
        tmp_path,
        {
            STATUS: (_stanza("bash") + _stanza("coreutils")).encode(),
            "var/lib/dpkg/info/bash.list": b"/bin/" + b"x" * 200_000 + b"\n",
            "var/lib/dpkg/info/coreutils.list": b"/bin/ls\n",
        },
    )
    result = _analyze(image, "dpkg", max_line_bytes=100_000)
    assert result["packages"] == ["bash", "coreutils"]
    assert _errors_naming(result, "/var/lib/dpkg/info/bash.list", "max_line_bytes")


def test_dpkg_past_max_db_records_keeps_the_first_records(tmp_path):
    status = "".join(_stanza(f"pkg{i:03d}") for i in range(50))
    image = _image(tmp_path, {STATUS: status.encode()})
    result = _analyze(image, "dpkg", max_db_records=10)
    assert len(result["packages"]) == 10
    assert _errors_naming(result, "/" + STATUS, "max_db_records")


# ---- apk ----


def _apk_record(name: str, version: str = "1.0-r0", files: str = "") -> str:
    return f"P:{name}\nV:{version}\nA:x86_64\nL:MIT\no:{name}\n{files}\n"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        pytest.param(_apk_record("/"), "package '/'", id="name-slash"),
        pytest.param(_apk_record("/", files="F:usr\nR:x\n"), "package '/'", id="slash-files"),
        pytest.param(_apk_record(" "), "package ' '", id="name-space"),
        pytest.param("P:nover\nA:x86_64\n\n", "has no version", id="no-version"),
    ],
)
def test_apk_bad_record_costs_only_itself(tmp_path, bad, says):
    musl = APK_SINGLE.read_text().strip() + "\n\n"  # musl-utils, the real record
    installed = musl + bad + _apk_record("bash", "5.2-r0")
    image = _image(tmp_path, {INSTALLED: installed.encode()})
    result = _analyze(image, "apk")
    assert {"musl-utils", "bash"} <= set(result["packages"]), result["errors"]
    assert _errors_naming(result, "/" + INSTALLED, says), result["errors"]


def test_apk_file_lists_parse_linearly_and_within_limits(tmp_path):
    many = "F:usr/bin\n" + "".join(f"R:f{i}\n" for i in range(500_000))
    installed = _apk_record("musl") + _apk_record("bash", files=many)
    image = _image(tmp_path, {INSTALLED: installed.encode()})
    assert _analyze(image, "apk")["packages"] == ["bash", "musl"]
    result = _analyze(image, "apk", max_text_lines=100_000)
    assert _errors_naming(result, "/" + INSTALLED, "Limits.max_text_lines")


def test_apk_past_max_db_records_keeps_the_first_records(tmp_path):
    installed = "".join(_apk_record(f"pkg{i:03d}") for i in range(50))
    image = _image(tmp_path, {INSTALLED: installed.encode()})
    result = _analyze(image, "apk", max_db_records=10)
    assert len(result["packages"]) == 10
    assert _errors_naming(result, "/" + INSTALLED, "max_db_records")


# ---- rpm: headers ----


def _dive_blob() -> bytes:
    """The real header blob of dive 0.9.2-1 from syft's Berkeley DB fixture."""
    from anchore.analyzers.rpm import read_bdb

    (blob,) = list(read_bdb(RPM_BDB.read_bytes()))
    return blob


def _retag(blob: bytes, tag: int, **changes: int) -> bytes:
    """``blob`` with the index entry of ``tag`` changed (kind, offset or count)."""
    count = struct.unpack_from(">i", blob, 0)[0]
    out = bytearray(blob)
    for i in range(count):
        at = 8 + 16 * i
        fields = struct.unpack_from(">iiii", blob, at)
        entry = dict(zip(("tag", "kind", "offset", "count"), fields, strict=True))
        if entry["tag"] == tag:
            entry.update(changes)
            struct.pack_into(">iiii", out, at, *entry.values())
            return bytes(out)
    raise AssertionError(f"tag {tag} not in the header")


def _header(tags: list[tuple[int, int, bytes, int]]) -> bytes:
    """A header blob of (tag, kind, data, count) entries."""
    index, store = b"", b""
    for tag, kind, data, count in tags:
        index += struct.pack(">iiii", tag, kind, len(store), count)
        store += data
    return struct.pack(">ii", len(tags), len(store)) + index + store


def _named(name: bytes, version: bytes = b"1.0", extra: tuple = ()) -> bytes:
    return _header([(1000, 6, name + b"\0", 1), (1001, 6, version + b"\0", 1), *extra])


def _ndb(blobs: list[bytes], slots: list[tuple[int, int]] | None = None) -> bytes:
    """An NDB file in rpm's layout around ``blobs``; ``slots`` (package, blob number)
    default to one per blob."""
    page = 4096
    header = b"RpmP" + struct.pack("<III", 0, 1, 0) + b"\0" * 16
    body = b""
    for i, blob in enumerate(blobs, 1):
        block = b"BlbS" + struct.pack("<III", i, 1, len(blob)) + blob
        body += block.ljust(-(-len(block) // 16) * 16, b"\0")
    slot_pages = -(-(32 + 16 * len(slots or blobs)) // page)
    starts, at = [], slot_pages * page
    for blob in blobs:
        starts.append(at)
        at += -(-(16 + len(blob)) // 16) * 16
    chosen = slots or [(i, i) for i in range(1, len(blobs) + 1)]
    slot_bytes = b"".join(
        b"Slot" + struct.pack("<III", pkg, starts[n - 1] // 16, -(-(16 + len(blobs[n - 1])) // 16))
        for pkg, n in chosen
    )
    head = bytearray((header + slot_bytes).ljust(slot_pages * page, b"\0"))
    struct.pack_into("<I", head, 12, slot_pages)
    return bytes(head) + body


def _bdb(values: list[bytes], page_size: int = 512, chains: list[tuple[int, int]] = ()) -> bytes:
    """A Berkeley DB hash file holding ``values`` in overflow chains; ``chains`` adds items
    (first page, claimed size) pointing wherever asked."""
    room = page_size - 26
    pages: list[bytes] = []
    items: list[tuple[int, int]] = []
    next_page = 2
    for value in values:
        parts = [value[i : i + room] for i in range(0, len(value), room)] or [b""]
        first = next_page
        for j, part in enumerate(parts):
            nxt = next_page + 1 if j + 1 < len(parts) else 0
            pages.append(_bdb_page(page_size, 7, next_page=nxt, used=len(part), body=part))
            next_page += 1
        items.append((first, len(value)))
    items += list(chains)
    hash_page = _bdb_hash_page(page_size, items)
    last = 1 + len(pages)
    meta = bytearray(page_size)
    struct.pack_into("<I", meta, 12, 0x061561)
    struct.pack_into("<I", meta, 20, page_size)
    struct.pack_into("<I", meta, 32, last)
    return bytes(meta) + hash_page + b"".join(pages)


def _bdb_page(
    size: int, kind: int, *, next_page: int = 0, used: int = 0, body: bytes = b""
) -> bytes:
    page = bytearray(size)
    struct.pack_into("<I", page, 16, next_page)
    struct.pack_into("<H", page, 22, used)
    page[25] = kind
    page[26 : 26 + len(body)] = body
    return bytes(page)


def _bdb_hash_page(size: int, items: list[tuple[int, int]]) -> bytes:
    """One hash page of (key, off-page value) pairs."""
    page = bytearray(size)
    page[25] = 13
    offsets, at = [], size
    for n, (first, total) in enumerate(items):
        at -= 12
        struct.pack_into("<BxxxII", page, at, 3, first, total)
        value_at = at
        at -= 5
        page[at] = 1
        struct.pack_into("<I", page, at + 1, n + 1)
        offsets += [at, value_at]
    struct.pack_into("<H", page, 20, len(offsets))
    struct.pack_into(f"<{len(offsets)}H", page, 26, *offsets)
    return bytes(page)


def test_rpm_synthetic_formats_hold_the_real_header(tmp_path):
    """The builders above make databases the reader takes (so the hostile cases test
    the attack, not the builder)."""
    blob = _dive_blob()
    for path, data in (
        ("var/lib/rpm/Packages", _bdb([blob])),
        ("var/lib/rpm/Packages.db", _ndb([blob])),
    ):
        result = _analyze(_image(tmp_path, {path: data}, name=path[-3:]), "rpm")
        assert result["packages"] == ["dive"] and not result["errors"], result


@pytest.mark.parametrize(
    "mutate",
    [
        # basenames claims two billion strings in a store of a few hundred bytes
        pytest.param(lambda b: _retag(b, 1117, count=2**31 - 1), id="basenames-count"),
        pytest.param(lambda b: _retag(b, 1118, count=10_000_000), id="dirnames-count"),
        pytest.param(lambda b: _retag(b, 1116, count=2**30), id="dirindexes-count"),
        pytest.param(lambda b: _retag(b, 1000, kind=4), id="name-is-int"),
        pytest.param(lambda b: _retag(b, 1001, kind=8), id="version-is-array"),
        pytest.param(lambda b: _retag(b, 1117, offset=-5), id="offset-negative"),
    ],
)
def test_rpm_header_lies_cost_only_that_header(tmp_path, mutate):
    blob = _dive_blob()
    good = _named(b"bash", b"5.2")
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/Packages.db": _ndb([mutate(blob), good])})
    result = _analyze(image, "rpm", seconds=20)
    assert result["packages"] == ["bash"], result
    assert _errors_naming(result, "/usr/lib/sysimage/rpm/Packages.db", "package 1"), result


def test_rpm_string_array_as_long_as_its_store_is_bounded_work(tmp_path):
    """A store of 4 MiB of NULs holding as many empty strings as it has bytes: allowed,
    and read at C speed, not one Python step per string."""
    store_size = 4 * 1024 * 1024
    big = _named(b"big", extra=((1117, 8, b"\0" * store_size, store_size),))
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/Packages.db": _ndb([big, _named(b"bash")])})
    result = _analyze(image, "rpm", seconds=30)
    assert result["packages"] == ["bash", "big"], result


@pytest.mark.parametrize("name", [b"/", b"//", b" "])
def test_rpm_header_named_slash_costs_only_itself(tmp_path, name):
    blobs = [_dive_blob(), _named(name), _named(b"bash", b"5.2")]
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/Packages.db": _ndb(blobs)})
    result = _analyze(image, "rpm")
    assert result["packages"] == ["bash", "dive"], result
    assert _errors_naming(result, "/usr/lib/sysimage/rpm/Packages.db", repr(name.decode())), result


# ---- rpm: NDB ----


@pytest.mark.parametrize("slots", [2000, 20_000])
def test_rpm_ndb_slots_naming_one_large_header(tmp_path, slots):
    """Every slot names the one 8 MiB header: it is read once, the other slots are errors."""
    big = _named(b"big", extra=((1004, 6, b"s" * (8 * 1024 * 1024) + b"\0", 1),))
    data = _ndb([big], slots=[(1, 1)] * slots)
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/Packages.db": data})
    result = _analyze(image, "rpm", seconds=40, memory_mib=1536)
    assert result["packages"] == ["big"], result["errors"][:3]


def test_rpm_ndb_same_package_twice(tmp_path):
    data = _ndb([_dive_blob(), _named(b"bash")], slots=[(1, 1), (1, 2), (2, 2)])
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/Packages.db": data})
    result = _analyze(image, "rpm")
    assert "dive" in result["packages"]
    assert _errors_naming(result, "/usr/lib/sysimage/rpm/Packages.db", "second slot")


# ---- rpm: Berkeley DB ----


def test_rpm_bdb_long_overflow_chain_is_linear(tmp_path):
    """One value of 40,000 overflow pages (the join of the chain so far was redone at
    every page): read once, linearly; the real header beside it is reported."""
    junk = b"\x01" * (40_000 * 486)
    image = _image(tmp_path, {"var/lib/rpm/Packages": _bdb([_dive_blob(), junk])})
    result = _analyze(image, "rpm", seconds=30)
    assert result["packages"] == ["dive"], result
    assert _errors_naming(result, "/var/lib/rpm/Packages", "page 1 item 1"), result


@pytest.mark.parametrize(
    ("chains", "says"),
    [
        # 5,000 items naming the chain of the real header: each value's pages are its own
        pytest.param([(2, 0)] * 5000, "reuses", id="chain-reused"),
        # a chain that claims more bytes than the file holds
        pytest.param([(2, 2**31)], "more than the file", id="claims-too-much"),
        # a chain starting outside the file
        pytest.param([(10**6, 100)], "outside the file", id="outside"),
    ],
)
def test_rpm_bdb_overflow_chains_are_bounded(tmp_path, chains, says):
    blob = _dive_blob()
    chains = [(first, total or len(blob)) for first, total in chains]
    # more items than one hash page holds are spread over as many pages as they need
    data = _bdb([blob], chains=chains) if len(chains) < 20 else _bdb_many([blob], chains)
    image = _image(tmp_path, {"var/lib/rpm/Packages": data})
    result = _analyze(image, "rpm", seconds=30)
    assert result["packages"] == ["dive"], result
    assert _errors_naming(result, "/var/lib/rpm/Packages", says), result["errors"][:3]


def _bdb_many(values: list[bytes], chains: list[tuple[int, int]], page_size: int = 4096) -> bytes:
    """As :func:`_bdb`, with the extra items over as many hash pages as they need."""
    base = _bdb(values, page_size)
    per_page = (page_size - 26) // (4 + 17)
    extra = b"".join(
        _bdb_hash_page(page_size, chains[i : i + per_page]) for i in range(0, len(chains), per_page)
    )
    meta = bytearray(base[:page_size])
    last = struct.unpack_from("<I", meta, 32)[0] + len(extra) // page_size
    struct.pack_into("<I", meta, 32, last)
    return bytes(meta) + base[page_size:] + extra


def test_rpm_bdb_overflow_loop(tmp_path):
    """A chain whose last page points back at its first."""
    blob = _dive_blob()
    data = bytearray(_bdb([blob, b"\x02" * 3000]))
    page = 512
    # the second value's chain starts after the first's pages; make its last page loop back
    first_pages = -(-len(blob) // (page - 26))
    start = 2 + first_pages
    last = start + -(-3000 // (page - 26)) - 1
    struct.pack_into("<I", data, last * page + 16, start)
    # and claim more than the chain holds, so the loop is walked
    hash_page = _bdb_hash_page(page, [(2, len(blob)), (start, 2_000_000)])
    data[page : 2 * page] = hash_page
    image = _image(tmp_path, {"var/lib/rpm/Packages": bytes(data)})
    result = _analyze(image, "rpm", seconds=20)
    assert result["packages"] == ["dive"], result
    assert _errors_naming(result, "/var/lib/rpm/Packages", "page 1 item 1"), result


# ---- rpm: SQLite ----


def _sqlite(tmp_path: Path, *statements: str, name: str = "rpmdb.sqlite") -> bytes:
    """The real rpmdb.sqlite (dive) changed by ``statements``."""
    path = tmp_path / name
    path.write_bytes(RPM_SQLITE.read_bytes())
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path.read_bytes()


_RECURSIVE_VIEW = (
    "CREATE VIEW Packages AS WITH RECURSIVE c(hnum, blob) AS "
    "(SELECT 1, zeroblob(1000) UNION ALL SELECT hnum + 1, blob FROM c) SELECT hnum, blob FROM c"
)


@pytest.mark.parametrize(
    ("statements", "says"),
    [
        pytest.param(
            ["ALTER TABLE Packages RENAME TO Real", _RECURSIVE_VIEW], "view", id="recursive-view"
        ),
        pytest.param(
            [
                "ALTER TABLE Packages RENAME TO Real",
                "CREATE VIEW Packages AS SELECT a.hnum, a.blob FROM Real a, Real b, Real c",
            ],
            "view",
            id="view-join",
        ),
        pytest.param(
            [
                "ALTER TABLE Packages RENAME TO Real",
                "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, raw BLOB, "
                "blob BLOB GENERATED ALWAYS AS (zeroblob(500000000)) VIRTUAL)",
                "INSERT INTO Packages (hnum, raw) SELECT hnum + n, blob FROM Real, "
                "(SELECT 0 AS n UNION ALL SELECT 10 UNION ALL SELECT 20)",
            ],
            "generated",
            id="generated-column",
        ),
        pytest.param(["DROP TABLE Packages"], "no Packages table", id="no-table"),
    ],
)
def test_rpm_sqlite_runs_nothing_the_database_defines(tmp_path, statements, says):
    data = _sqlite(tmp_path, *statements)
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/rpmdb.sqlite": data})
    result = _analyze(image, "rpm", seconds=20, memory_mib=1024)
    assert result["packages"] == [], result
    assert _errors_naming(result, "/usr/lib/sysimage/rpm/rpmdb.sqlite", says), result


def test_rpm_sqlite_hostile_copy_in_an_older_layer_is_skipped(tmp_path):
    """Layer attribution reads every layer's copy: a hostile older one must not hang it."""
    hostile = _sqlite(tmp_path, "ALTER TABLE Packages RENAME TO Real", _RECURSIVE_VIEW, name="a")
    real = RPM_SQLITE.read_bytes()
    path = "usr/lib/sysimage/rpm/rpmdb.sqlite"
    image = _image(tmp_path, {path: hostile}, {path: real})
    result = _analyze(image, "rpm", seconds=20, memory_mib=1024)
    assert result["packages"] == ["dive"] and not result["errors"], result


@pytest.mark.parametrize(
    ("rows", "limits", "limit"),
    [
        pytest.param(3000, {"max_query_rows": 1000}, "max_query_rows", id="rows"),
        pytest.param(200_000, {"max_query_seconds": 0.0}, "max_query_seconds", id="seconds"),
    ],
)
def test_rpm_sqlite_query_limits(tmp_path, rows, limits, limit):
    data = _sqlite(
        tmp_path,
        f"INSERT INTO Packages (blob) SELECT x'00' FROM "
        f"(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT {rows}) "
        "SELECT n FROM c)",
    )
    image = _image(tmp_path, {"usr/lib/sysimage/rpm/rpmdb.sqlite": data})
    result = _analyze(image, "rpm", seconds=30, **limits)
    assert _errors_naming(result, "/usr/lib/sysimage/rpm/rpmdb.sqlite", f"Limits.{limit}"), result


def test_rpm_sqlite_reads_nothing_but_the_packages_table():
    from anchore.analyzers.rpm import _authorize

    assert _authorize(sqlite3.SQLITE_READ, "Packages", "blob", "main", None) == sqlite3.SQLITE_OK
    for denied in (
        (sqlite3.SQLITE_READ, "Packages", "blob", "main", "someview"),  # through a view
        (sqlite3.SQLITE_READ, "Real", "blob", "main", None),
        (sqlite3.SQLITE_READ, "Packages", "blob", "temp", None),
        (sqlite3.SQLITE_FUNCTION, None, "zeroblob", None, None),
        (33, None, None, None, None),  # SQLITE_RECURSIVE
        (sqlite3.SQLITE_ATTACH, "x.db", None, None, None),
        (sqlite3.SQLITE_PRAGMA, "writable_schema", "1", None, None),
    ):
        assert _authorize(*denied) == sqlite3.SQLITE_DENY, denied


# ---- rpm: header work is linear, and the analyzer's deadline bounds what is left ----

_REPEATED = """
import struct, time
from anchore.analyzers.rpm import RpmDatabaseError, parse_header

def header(entries, store):
    index = b"".join(struct.pack(">iiii", *e) for e in entries)
    return struct.pack(">ii", len(entries), len(store)) + index + store

store = b"a" * ((1 << 20) - 1) + b"\\0"
cases = {
    # one tag 65,536 times at the start of a 1 MiB store: 35 s and 64 GiB read before
    "basenames": header([(1117, 8, 0, 1)] * 65536, store),
    "name": header([(1000, 6, 0, 1)] * 65536, store),
    # every text tag once, all pointing at the same 16 MiB string: 9 x 16 MiB decoded
    "overlap": header([(t, 6, 0, 1) for t in (1000, 1001, 1002, 1004, 1011, 1014, 1022, 1044,
                                              5096)], b"a" * ((16 << 20) - 1) + b"\\0"),
}
result = {}
for name, blob in cases.items():
    start = time.perf_counter()
    try:
        parse_header(blob)
        said = None
    except RpmDatabaseError as exc:
        said = str(exc)
    result[name] = [said, time.perf_counter() - start]
"""


def test_rpm_header_repeated_or_overlapping_tags_are_refused_in_linear_time():
    """A repeated tag (rpm writes each once) is refused; tags sharing their data read no
    more than the data store holds in total."""
    out = run_confined(_REPEATED, seconds=30, memory_mib=768)
    result = out.assert_no_error()
    assert result["basenames"][0] == "tag basenames appears twice in the header index", result
    assert result["name"][0] == "tag name appears twice in the header index", result
    assert "their data overlaps" in result["overlap"][0], result
    assert all(seconds < 1 for _said, seconds in result.values()), result


def _key_header(count: int = 65536, store_bytes: int = 1 << 19) -> bytes:
    """The review's header: the name tag ``count`` times, its one string the whole store."""
    store = b"a" * (store_bytes - 1) + b"\0"
    index = struct.pack(">iiii", 1000, 6, 0, 1) * count
    return struct.pack(">ii", count, len(store)) + index + store


def test_rpm_ndb_of_repeated_tag_headers_in_many_layers_is_fast(tmp_path):
    """The review's case: 3 such headers in 4 layers took 110 s under max_analyzer_seconds=5.
    Each header is now its own error entry, at once, and the good header beside them stands."""
    path = "usr/lib/sysimage/rpm/Packages.db"
    evil = [_key_header()] * 3
    layers = [{path: _ndb([*evil, _named(b"good")]) + b"\0" * (16 * i)} for i in range(4)]
    image = _image(tmp_path, *layers)
    result = _analyze(image, "rpm", seconds=20, memory_mib=1024, max_analyzer_seconds=5)
    assert result["packages"] == ["good"], result
    assert len(_errors_naming(result, f"/{path}", "appears twice")) == 3, result


def test_layer_attribution_stops_at_the_analyzers_deadline(tmp_path):
    """Reading every layer's copy is the analyzer's time: past its deadline attribution
    stops with the time error, not after every copy (checked before each copy)."""
    import time

    from anchore.analysis import attribution
    from anchore.analysis.budget import Deadlines
    from anchore.errors import LimitExceededError

    copies = [(i, (i, 0), b"x%d" % i) for i in range(40)]
    keyed = []

    def slow_keys(data):
        keyed.append(data)
        time.sleep(0.05)
        return [data]

    deadlines = Deadlines(0.2)
    start = time.monotonic()
    with deadlines.running("rpm"), pytest.raises(LimitExceededError) as caught:
        attribution.first_layers(copies, slow_keys)
    assert caught.value.limit == "max_analyzer_seconds"
    assert time.monotonic() - start < 1 and len(keyed) < 10, len(keyed)
    assert deadlines.overran("rpm")
    # keys that itself runs out of time stops attribution too (it used to skip the copy)

    def out_of_time(data):
        raise deadlines.exceeded("rpm")

    with deadlines.running("rpm"), pytest.raises(LimitExceededError):
        attribution.first_layers([(0, (0, 0), b"x")], out_of_time)
    # outside an analyzer run, nothing is checked
    assert attribution.first_layers([(0, (0, 0), b"x")], lambda data: [data]) == {b"x": 0}


def test_rpm_attribution_past_the_deadline_is_said_and_the_analyzer_failed(tmp_path):
    path = "usr/lib/sysimage/rpm/Packages.db"
    layers = [{path: _ndb([_named(b"p%d" % n) for n in range(i + 1)])} for i in range(3)]
    image = _image(tmp_path, *layers)
    code = _ANALYZE.replace("LIMITS", "dict(max_analyzer_seconds=0)")
    out = run_confined(code, seconds=20, memory_mib=1024, watch=[image], PATH=image,
                       ANALYZER="rpm")  # fmt: skip
    result = out.assert_no_error()
    assert result["failed"] == ["rpm"], result
    said = _errors_naming(result, f"/{path}", "layer attribution", "Limits.max_analyzer_seconds")
    assert said, result


def test_rpm_sqlite_rows_without_a_blob_are_errors_naming_the_row(tmp_path):
    """A row rpm did not write (its blob TEXT, an integer, NULL) is said, not skipped: an
    all-such table used to give no package and no error (complete evidence to policy)."""
    data = _sqlite(
        tmp_path,
        "DELETE FROM Packages",
        "INSERT INTO Packages (hnum, blob) VALUES (1, 'text-not-blob')",
        "INSERT INTO Packages (hnum, blob) VALUES (2, 12345)",
    )
    path = "/usr/lib/sysimage/rpm/rpmdb.sqlite"
    image = _image(tmp_path, {path.lstrip("/"): data})
    result = _analyze(image, "rpm", seconds=20, memory_mib=1024)
    assert result["packages"] == [], result
    assert [m for _a, p, m in result["errors"] if p == path] == [
        f"{path}: row hnum 1: its blob is text, not a header",
        f"{path}: row hnum 2: its blob is an integer, not a header",
    ], result


# ---- text: every line break splitlines honours is counted before splitting ----

_LINES = """
from anchore.analysis.budget import split_lines
from anchore.errors import LimitExceededError
from anchore.limits import Limits
try:
    split_lines(DATA.encode("latin-1") * COUNT, "/f", Limits(max_text_lines=1000))
    result = [None]
except LimitExceededError as exc:
    result = [exc.limit]
# this process' own peak (VmHWM starts again at exec; rusage keeps the forking parent's)
with open("/proc/self/status") as status:
    result += [int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:")]
"""


@pytest.mark.parametrize(
    ("data", "count"),
    [
        pytest.param(b"\x1c", 50_000_000, id="file-separator"),
        pytest.param(b"\x0b", 50_000_000, id="vertical-tab"),
        pytest.param("\u2028".encode(), 16_000_000, id="line-separator"),
        pytest.param("\x85".encode(), 25_000_000, id="next-line"),
        pytest.param(b"\r\n", 25_000_000, id="crlf"),
    ],
)
def test_split_lines_counts_every_break_before_splitting(data, count):
    """50 MB of \\x1c with max_text_lines=1000 peaked at 599 MiB (a 50 M-item list built
    before the count refused it); now refused before anything is split."""
    data = data.decode("latin-1")  # the child's globals are JSON
    out = run_confined(_LINES, seconds=30, memory_mib=1024, DATA=data, COUNT=count)
    limit, peak_mib = out.assert_no_error()
    assert limit == "max_text_lines"
    assert peak_mib < 150, peak_mib  # the 50 MB and the interpreter (b8409f9: 228-507 MiB)


def test_line_breaks_are_a_lower_bound_of_splitlines():
    from anchore.analysis.budget import line_breaks

    pieces = ["a", "\n", "\r", "\r\n", "\x0b", "\x1e", "\x85", "\u2028", "\u2029", "é"]
    raw = [b"\xa8", b"\xe2", b"\xc2", b"\xff"]
    for i in range(len(pieces) ** 3):
        text = "".join(pieces[i // len(pieces) ** k % len(pieces)] for k in range(3))
        for junk in (b"", *raw):
            data = text.encode().replace(b"\r", b"\r" + junk, 1)
            for errors in ("replace", "ignore", "surrogateescape"):
                lines = len(data.decode("utf-8", errors).splitlines())
                assert line_breaks(data, errors) <= lines, (data, errors)
                if errors != "ignore":
                    assert lines <= line_breaks(data, errors) + 1, (data, errors)


# ---- the engine: who ran out of time is a fact, not a phrase ----


class _Quoting:
    """An analyzer whose file's own error quotes the overrun phrase."""

    name = "quoting"
    patterns = ("a",)

    def analyze(self, files, context):
        from anchore.analysis.model import AnalyzerError

        yield AnalyzerError(
            self.name, "/a: says 'analyzer x ran past Limits.max_analyzer_seconds (1 s)'", "/a"
        )


class _SlowRecords:
    """Records of its first file built slowly; the other files offered after the deadline."""

    name = "slow-records"
    patterns = ("*.db",)

    def analyze(self, files, context):
        import time

        from anchore.analysis.analyzer import FileInput
        from anchore.analysis.kit import within_time

        for file in within_time(files, context, self.name):
            if isinstance(file, FileInput):
                yield from file.each(range(5), lambda n: time.sleep(0.15))
            else:  # the error for the files left
                yield file


def test_engine_keeps_every_overrun_entry_and_ignores_quoted_phrases(tmp_path):
    import anchore

    layers = [[f("a", "x"), *(f(f"{i}.db", "x") for i in range(4))]]
    image = anchore.open_image(
        oci_archive(tmp_path / "img.tar", build(layers)),
        limits=anchore.Limits(max_analyzer_seconds=0.3),
    )
    with image:
        result = anchore.analyze(image, analyzers=[_Quoting(), _SlowRecords()])
    assert result.failed_analyzers == ("slow-records",)  # the quoting one did not run out
    messages = [e.message for e in result.errors if e.analyzer == "slow-records"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("/0.db: analyzer slow-records ran past"), messages
    assert messages[1].startswith("/1.db and 2 more file(s): not analyzed:"), messages
