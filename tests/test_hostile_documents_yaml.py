"""Hostile JSON and YAML documents: feeds, policy bundles, ignore files, VEX, OSV zips.

PyYAML's C composer recurses once per nesting level: before the shared bounded
loader (:mod:`anchore.documents`), 200 KB of ``[`` in a feed's YAML killed the whole
process (SIGSEGV: "died without an outcome" here). JSON nested a few hundred levels
got through json's own limit and raised RecursionError later, outside every typed
error. YAML aliases are shared references, cheap to load but walked once per
reference (a repr in an error message, a copy, a search of a VEX product tree):
nine levels of ten are a billion nodes. OSV zip archives were opened with no bound
on the entries their directory lists or on what a member inflates to.

Every case runs in a confined child (time, memory, no stray files) through the
public entry points, and fails on the code before the bounded loader.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from confine import run_confined

DEEP = 64  # anchore.documents.MAX_DEPTH


def laughs(levels: int = 9, width: int = 10, indent: str = "") -> str:
    """YAML mapping lines ``l0`` .. ``l<levels-1>``: each a list of ``width`` aliases of
    the one before (``l8``: 10^9 scalars when walked)."""
    lines = [f"{indent}l0: &l0 [" + ",".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{indent}l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


NESTED_YAML = {
    "flow": "[" * 200_000,  # the C composer's recursion: SIGSEGV
    "block": "- " * 100_000 + "x\n",
    "mapping": "a: {" * 50_000,
}

LOAD = """
from anchore.vulns import load
try:
    load(STORE, PATH)
except Exception as exc:
    raise exc
"""


def _loaded(tmp_path: Path, path: Path) -> dict[str, object]:
    return {"STORE": str(tmp_path / "store.sqlite"), "PATH": str(path)}


# --- feeds -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", sorted(NESTED_YAML))
def test_osv_yaml_nested_past_the_bound_is_a_skipped_record(tmp_path, shape):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "deep.yaml").write_text(NESTED_YAML[shape])
    (feed / "ok.yaml").write_text("id: OK-1\nmodified: 2024-01-01T00:00:00Z\n")
    out = run_confined(
        """
from anchore.vulns import LoadReport, read_osv
report = LoadReport()
result = {"ids": [a.id for a in read_osv(PATH, report)], "skipped": report.skipped}
""",
        seconds=30,
        memory_mib=1024,
        watch=[str(feed)],
        PATH=str(feed),
    )
    out.assert_no_error()
    assert out.result["ids"] == ["OK-1"]
    ((name, why),) = out.result["skipped"]
    assert name.endswith("deep.yaml")
    assert why.startswith(f"nested deeper than {DEEP} levels (line ")


def test_osv_json_nested_below_the_recursion_limit_is_a_skipped_record(tmp_path):
    """900 levels: json decodes it, then converting its timestamps recursed past the
    interpreter's limit (a RecursionError out of read_osv)."""
    deep = json.loads("[" * 900 + "]" * 900)
    record = {"id": "X-1", "modified": "2024-01-01T00:00:00Z", "database_specific": deep}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record))
    out = run_confined(
        """
from anchore.vulns import LoadReport, read_osv
report = LoadReport()
result = {"ids": [a.id for a in read_osv(PATH, report)], "skipped": report.skipped}
""",
        seconds=30,
        memory_mib=1024,
        watch=[str(tmp_path)],
        PATH=str(path),
    )
    out.assert_no_error()
    assert out.result == {"ids": [], "skipped": [[str(path), f"nested deeper than {DEEP} levels"]]}


def test_alpine_secdb_nested_past_the_bound(tmp_path):
    path = tmp_path / "main.yaml"
    path.write_text("distroversion: v3.19\npackages: " + "[" * 200_000)
    out = run_confined(
        LOAD, seconds=30, memory_mib=1024, watch=[str(tmp_path)], **_loaded(tmp_path, path)
    )
    out.assert_raised("EmptyFeedError")
    assert f"{path}: nested deeper than {DEEP} levels (line 2)" in out.message


def test_alpine_secdb_alias_bomb(tmp_path):
    path = tmp_path / "main.yaml"
    path.write_text(
        "distroversion: v3.19\nsecfixes:\n"
        + laughs(indent="  ")
        + "packages:\n  - pkg: *l8\n"  # a malformed entry: its repr was the message
    )
    out = run_confined(
        LOAD, seconds=30, memory_mib=1024, watch=[str(tmp_path)], **_loaded(tmp_path, path)
    )
    out.assert_raised("EmptyFeedError")
    assert f"{path}: its aliases stand for more than 1000000 nodes" in out.message


def test_debian_tracker_nested_past_the_recursion_limit(tmp_path):
    """json's own limit raised RecursionError, not a feed error."""
    path = tmp_path / "tracker.json"
    path.write_text('{"releases": ' + "[" * 200_000)
    out = run_confined(
        LOAD, seconds=30, memory_mib=1024, watch=[str(tmp_path)], **_loaded(tmp_path, path)
    )
    out.assert_raised("EmptyFeedError")
    assert f"{path}: nested deeper than {DEEP} levels" in out.message


# --- OSV zip archives --------------------------------------------------------------------

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")


def _zip(members: list[tuple[str, bytes, int, int]], copies: int = 1) -> bytes:
    """A zip of deflated ``(name, deflated, crc, size)`` members, its central directory
    repeated ``copies`` times over (every copy naming the same local entries)."""
    body, central, offset = [], [], 0
    for name, data, crc, size in members:
        raw = name.encode()
        header = _LOCAL.pack(b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0)
        body += [header, raw, data]
        central.append(
            _CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                          len(raw), 0, 0, 0, 0, 0, offset) + raw
        )  # fmt: skip
        offset += len(header) + len(raw) + len(data)
    directory = b"".join(central) * copies
    entries = min(len(central) * copies, 0xFFFF)
    end = _END.pack(b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset, 0)
    return b"".join(body) + directory + end


def _deflated(name: str, content: bytes, repeat: int = 1) -> tuple[str, bytes, int, int]:
    """A member holding ``content`` ``repeat`` times, deflated a chunk at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc = [], 0
    for _ in range(repeat):
        parts.append(packer.compress(content))
        crc = zlib.crc32(content, crc)
    parts.append(packer.flush())
    return name, b"".join(parts), crc, len(content) * repeat


RECORD = json.dumps({"id": "OK-1", "modified": "2024-01-01T00:00:00Z"}).encode()

READ_ZIP = """
from anchore.vulns import LoadReport, read_osv
report = LoadReport()
result = {"ids": [a.id for a in read_osv(PATH, report)], "skipped": report.skipped}
"""


def test_osv_zip_listing_past_max_archive_entries_is_a_feed_error(tmp_path):
    """1.1 million directory entries (one record named again and again; the end record
    says 65,535): zipfile built a ZipInfo for each (MemoryError in 512 MiB), then read
    the record 1.1 million times."""
    path = tmp_path / "all.zip"
    path.write_bytes(_zip([_deflated("a.json", RECORD)], copies=1_100_000))
    out = run_confined(READ_ZIP, seconds=30, memory_mib=512, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("FeedError")
    assert out.message.startswith(f"{path}: not read: its directory lists 1100000 members")
    assert "Limits.max_archive_entries (1000000)" in out.message


def test_osv_zip_member_inflating_past_max_json_bytes_is_skipped(tmp_path):
    """A 600 MiB member (spaces, then a record): read whole into memory (MemoryError in
    512 MiB); now it is skipped, named, and the other records load."""
    path = tmp_path / "all.zip"
    big = _deflated("big.json", b" " * (1 << 20), repeat=600)
    path.write_bytes(_zip([big, _deflated("ok.json", RECORD)]))
    out = run_confined(READ_ZIP, seconds=30, memory_mib=512, watch=[str(tmp_path)], PATH=str(path))
    out.assert_no_error()
    assert out.result["ids"] == ["OK-1"]
    ((name, why),) = out.result["skipped"]
    assert name == f"{path}!big.json"
    assert why == f"{600 << 20} bytes inflated, more than Limits.max_json_bytes ({16 << 20})"


def test_osv_zip_inflating_past_max_compression_ratio_is_a_feed_error(tmp_path):
    """Members that say they inflate to 16 MiB each, 70 of them in some kilobytes: past
    1000 times the archive's size (at least 1 MiB's worth) the archive is refused
    before the member that would pass it is inflated."""
    path = tmp_path / "all.zip"
    _, data, crc, _ = _deflated("m.json", RECORD)
    members = [(f"m{i:02}.json", data, crc, 16 << 20) for i in range(70)]
    path.write_bytes(_zip(members))
    out = run_confined(READ_ZIP, seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("FeedError")
    assert out.message.startswith(
        f"{path}: inflates to more than Limits.max_compression_ratio (1000) times its size"
    )
    assert out.message.endswith("not read from m62.json on")


# --- files users write: policy bundles, ignore files, VEX -------------------------------

BUNDLE = """
from anchore.policy import load_bundle
load_bundle(PATH)
"""


@pytest.mark.parametrize("suffix", [".yaml", ".json", ""])
def test_policy_bundle_nested_past_the_bound(tmp_path, suffix):
    path = tmp_path / f"bundle{suffix}"
    path.write_text("[" * 200_000)
    out = run_confined(BUNDLE, seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("BundleError")
    assert out.message.startswith(f"{path}: nested deeper than {DEEP} levels")


def test_policy_bundle_alias_bomb(tmp_path):
    """A bundle whose policies are a billion laughs: validating (and wording what is
    wrong with) them walked every reference (MemoryError after 16 s in 1 GiB)."""
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "comment:\n" + laughs(indent="  ") + "id: a\nname: b\npolicies: *l8\nmappings: []\n"
    )
    out = run_confined(BUNDLE, seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("BundleError")
    assert out.message == f"{path}: its aliases stand for more than 1000000 nodes (line 7)"


def test_policy_bundle_anchors_within_the_bound_still_work(tmp_path):
    """Anchors are a YAML feature users use: a rule defined once, named in two policies."""
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "id: b\n"
        "policies:\n"
        "  - {id: p, rules: &rules [{id: r, gate: always, trigger: always, action: STOP}]}\n"
        "  - {id: q, rules: *rules}\n"
        "mappings: [{policy_ids: [p, q]}]\n"
    )
    out = run_confined(
        BUNDLE + "result = True", seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path)
    )
    out.assert_no_error()


def test_ignore_file_alias_bomb(tmp_path):
    """An entry that is not an object was quoted whole in the error (its repr: a
    billion scalars)."""
    path = tmp_path / "ignore.yaml"
    levels = ["&l0 [" + ",".join(["lol"] * 10) + "]"]
    levels += [f"&l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path.write_text("- [" + ", ".join(levels) + "]\n")
    out = run_confined(
        "from anchore.vulns.suppress import load_ignore_rules\nload_ignore_rules(PATH)",
        seconds=30,
        memory_mib=1024,
        watch=[str(tmp_path)],
        PATH=str(path),
    )
    out.assert_raised("IgnoreRuleError")
    assert out.message.startswith(f"{path}: its aliases stand for more than 1000000 nodes")


def test_ignore_file_nested_past_the_bound(tmp_path):
    path = tmp_path / "ignore.yaml"
    path.write_text("- " * 100_000 + "x\n")
    out = run_confined(
        "from anchore.vulns.suppress import load_ignore_rules\nload_ignore_rules(PATH)",
        seconds=30,
        memory_mib=1024,
        watch=[str(tmp_path)],
        PATH=str(path),
    )
    out.assert_raised("IgnoreRuleError")
    assert out.message == f"{path}: nested deeper than {DEEP} levels (line 1)"


VEX = "from anchore.vulns.suppress import read_vex\nread_vex(PATH)"


def test_csaf_vex_product_tree_alias_bomb(tmp_path):
    """The product tree is searched for product ids: every reference visited (a
    billion: past the time bound)."""
    path = tmp_path / "vex.yaml"
    path.write_text("vulnerabilities: []\nproduct_tree:\n" + laughs(indent="  "))
    out = run_confined(VEX, seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("VexError")
    assert out.message.startswith(f"{path}: its aliases stand for more than 1000000 nodes")


def test_csaf_vex_product_tree_containing_itself(tmp_path):
    """``&a {branches: [*a]}`` loads as a dict inside itself: the search recursed until
    RecursionError."""
    path = tmp_path / "vex.yaml"
    path.write_text("vulnerabilities: []\nproduct_tree: &a\n  branches: [*a]\n")
    out = run_confined(VEX, seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("VexError")
    assert out.message == (
        f"{path}: the alias *a (line 3) is inside the node it names: a structure containing itself"
    )


def test_openvex_json_nested_past_the_bound(tmp_path):
    path = tmp_path / "vex.json"
    path.write_text('{"statements": [' + '{"x": ' * 100 + "1" + "}" * 100 + "]}")
    out = run_confined(VEX, seconds=30, memory_mib=1024, watch=[str(tmp_path)], PATH=str(path))
    out.assert_raised("VexError")
    assert out.message == f"{path}: nested deeper than {DEEP} levels"
