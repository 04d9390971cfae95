"""Layer efficiency (like dive): bytes stored by layers that the final filesystem does not
show, on an image whose waste is known exactly, and on the real images against a
tarfile replay of their layer tars (test_layer_changes.replay)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

import anchore
from anchore import query
from anchore.query.layers import EfficiencyRow, WastedFileRow, efficiency, layers, wasted_files
from imagebuilder import d, f, hard, opaque, whiteout
from test_layer_changes import docker_layer_members, wasted_by_replay

MiB = 1024 * 1024

#: layer 0 stores these bytes; layer 1 overwrites, deletes, hides and chmods them
BIG, DOC, CACHE_A, CACHE_B, CACHE_C, CONF, KEEP = MiB, 7_000, 2_000, 3_000, 500, 50_000, 123
LAYERS = [
    [
        d("data"), f("data/big", b"a" * BIG), f("data/keep", b"k" * KEEP),
        d("doc"), f("doc/README", b"r" * DOC),
        d("cache"), f("cache/a", b"1" * CACHE_A), f("cache/b", b"2" * CACHE_B),
        d("cache/sub"), f("cache/sub/c", b"3" * CACHE_C),
        d("etc"), f("etc/app.conf", b"c" * CONF, mode=0o644),
    ],
    [
        f("data/big", b"b" * BIG),  # overwritten: the first 1 MiB is wasted
        whiteout("doc/README"),  # deleted by a whiteout
        opaque("cache"), f("cache/new", b"n" * 10),  # hidden by an opaque directory
        f("etc/app.conf", b"c" * CONF, mode=0o600),  # chmod: the whole file stored again
    ],
]  # fmt: skip
STORED_0 = BIG + KEEP + DOC + CACHE_A + CACHE_B + CACHE_C + CONF
STORED_1 = BIG + 10 + CONF
WASTED = BIG + DOC + CACHE_A + CACHE_B + CACHE_C + CONF


def test_known_waste_exactly(make_image):
    result = anchore.analyze(make_image(LAYERS), analyzers=["dpkg"])
    assert efficiency(result) == [
        EfficiencyRow(
            layers=2,
            total_bytes=STORED_0 + STORED_1,
            final_bytes=STORED_0 + STORED_1 - WASTED,
            wasted_bytes=WASTED,
            wasted_files=6,
            efficiency=1 - WASTED / (STORED_0 + STORED_1),
        )
    ]
    assert wasted_files(result) == [
        WastedFileRow("/data/big", 2, BIG, (0, 1), True),
        WastedFileRow("/etc/app.conf", 2, CONF, (0, 1), True),
        WastedFileRow("/doc/README", 1, DOC, (0, 1), False),
        WastedFileRow("/cache/b", 1, CACHE_B, (0, 1), False),
        WastedFileRow("/cache/a", 1, CACHE_A, (0, 1), False),
        WastedFileRow("/cache/sub/c", 1, CACHE_C, (0, 1), False),
    ]
    assert [r.path for r in wasted_files(result, top=2)] == ["/data/big", "/etc/app.conf"]
    rows = layers(result)
    assert [(r.bytes, r.wasted_bytes) for r in rows] == [(STORED_0, WASTED), (STORED_1, 0)]
    assert [(r.files_added, r.files_changed, r.files_removed) for r in rows] == [
        (12, 0, 0),
        (1, 2, 5),  # cache/new; big, app.conf; README, a, b, sub, sub/c
    ]
    assert [r.created_by for r in rows] == ["step 0", "step 1"]


def test_nothing_wasted(make_image):
    """An image whose layers only add: efficiency 1.0, no offenders."""
    result = anchore.analyze(make_image([[f("a", b"x" * 10)], [f("b", b"y" * 20)]]), analyzers=[])
    (row,) = efficiency(result)
    assert (row.total_bytes, row.wasted_bytes, row.efficiency) == (30, 0, 1.0)
    assert wasted_files(result) == []
    empty = anchore.analyze(make_image([[d("only")]]), analyzers=[])
    assert efficiency(empty)[0].efficiency == 1.0  # nothing stored: nothing wasted


A = b"a" * 1000

#: (layers, stored bytes, wasted bytes): a hard link stores no bytes (its content is
#: its target member's), and that content is wasted only when no name shows it any more
HARD_LINKS = [
    # the first name deleted: /opt/b still shows the content
    ([[d("opt"), f("opt/a", A), hard("opt/b", "opt/a")], [whiteout("opt/a")]], 1000, 0),
    # the first name rewritten: /opt/b still shows the old content
    ([[d("opt"), f("opt/a", A), hard("opt/b", "opt/a")], [f("opt/a", b"n" * 10)]], 1010, 0),
    # the link deleted: /opt/a still shows it
    ([[d("opt"), f("opt/a", A), hard("opt/b", "opt/a")], [whiteout("opt/b")]], 1000, 0),
    # both names deleted: the content is wasted, once
    ([[d("opt"), f("opt/a", A), hard("opt/b", "opt/a")], [whiteout("opt/a"), whiteout("opt/b")]],
     1000, 1000),
    # one name deleted per layer: wasted when the last goes
    ([[d("opt"), f("opt/a", A), hard("opt/b", "opt/a")], [whiteout("opt/a")], [whiteout("opt/b")]],
     1000, 1000),
    # a later layer's link to a lower file (bound when squashed), then the first name deleted
    ([[d("opt"), f("opt/a", A)], [hard("opt/b", "opt/a")], [whiteout("opt/a")]], 1000, 0),
    # the directory holding both names deleted
    ([[d("opt"), f("opt/a", A), hard("opt/b", "opt/a")], [whiteout("opt")]], 1000, 1000),
]  # fmt: skip


@pytest.mark.parametrize(("built", "stored", "wasted"), HARD_LINKS)
def test_hard_links_keep_their_content_shown(make_image, built, stored, wasted):
    result = anchore.analyze(make_image(built), analyzers=[])
    (row,) = efficiency(result)
    assert (row.total_bytes, row.wasted_bytes, row.final_bytes) == (stored, wasted, stored - wasted)
    assert sum(r.wasted_bytes for r in layers(result)) == wasted
    assert sum(r.wasted_bytes for r in wasted_files(result, top=0)) == wasted


def test_waste_does_not_depend_on_the_order_of_the_changes(make_image):
    """layer_changes is a public list (an imported anchore-json, a plugin, a hand-made
    analysis may order it otherwise): the replay goes by layer whatever the order."""
    result = anchore.analyze(make_image(LAYERS), analyzers=[])
    assert result.layer_changes is not None
    for changes in (
        list(reversed(result.layer_changes)),
        sorted(result.layer_changes, key=lambda c: c.path),
    ):
        shuffled = attrs.evolve(result, layer_changes=changes)
        assert efficiency(shuffled) == efficiency(result)
        assert efficiency(shuffled)[0].wasted_bytes == WASTED
        assert wasted_files(shuffled, top=0) == wasted_files(result, top=0)
        assert layers(shuffled) == layers(result)


def test_a_negative_layer_index_is_refused(make_image):
    result = anchore.analyze(make_image(LAYERS), analyzers=[])
    assert result.layer_changes is not None
    bad = attrs.evolve(
        result,
        layer_changes=[
            attrs.evolve(result.layer_changes[0], layer_index=-1),
            *result.layer_changes[1:],
        ],
    )
    for name in ("layers", "efficiency", "wasted-files"):
        with pytest.raises(anchore.query.UnanswerableQueryError, match="layer -1"):
            query.run(name, [bad])


@pytest.mark.corpus
def test_debian_py_waste_matches_the_tars(corpus: Path):
    result = anchore.analyze(corpus / "debian-py.oci.tar", analyzers=["dpkg"])
    total, shown = wasted_by_replay(docker_layer_members(corpus / "debian-py.docker.tar"))
    (row,) = query.run("efficiency", [result]).rows
    assert (row.total_bytes, row.final_bytes, row.wasted_bytes) == (total, shown, total - shown)
    assert row.efficiency == pytest.approx(shown / total)
    assert row.wasted_bytes > 10 * MiB  # the removed documentation, at least
    per_layer = query.run("layers", [result]).rows
    assert sum(r.wasted_bytes for r in per_layer) == row.wasted_bytes
    assert per_layer[3].wasted_bytes == 0  # the last layer's copies are all shown
    offenders = wasted_files(result, top=0)
    assert sum(r.wasted_bytes for r in offenders) == row.wasted_bytes
    curl = next(r for r in offenders if r.path == "/usr/bin/curl")
    assert (curl.layers, curl.in_image) == ((1, 3), False)


@pytest.mark.corpus
def test_debian_min_wastes_nothing(corpus: Path):
    result = anchore.analyze(corpus / "debian-min.docker.tar", analyzers=["dpkg"])
    total, shown = wasted_by_replay(docker_layer_members(corpus / "debian-min.docker.tar"))
    assert total == shown
    (row,) = efficiency(result)
    assert (row.layers, row.total_bytes, row.wasted_bytes, row.efficiency) == (1, total, 0, 1.0)
    assert wasted_files(result) == []
