"""Lazy content reads: every compression, across gzip restart points, with seeks."""

from __future__ import annotations

import gzip
import os
import random

import pytest
import zstandard

import anchore
from imagebuilder import build, f, oci_archive, sha256

FILES = {f"data/f{i:03d}": os.urandom(random.Random(i).randint(0, 300_000)) for i in range(60)}


@pytest.fixture(scope="module")
def payload_members():
    return [f(name, data) for name, data in FILES.items()]


@pytest.mark.parametrize("how", ["gzip", "zstd", "none"])
def test_random_reads_match_content(tmp_path, payload_members, how):
    built = build([payload_members], how)
    # small restart interval: reads start from many different checkpoints; no spool
    # (a spooled layer is read from its inflated copy and keeps few restart points)
    limits = anchore.Limits(gzip_checkpoint_interval=256 * 1024, max_spool_bytes=0)
    image = anchore.open_image(oci_archive(tmp_path / "c.tar", built), limits=limits)
    if how == "gzip":
        assert len(image.layers[0]._tar_index.checkpoints) > 20
    order = list(FILES)
    random.Random(7).shuffle(order)
    for name in order:
        assert image.read_bytes("/" + name) == FILES[name], name


@pytest.mark.parametrize("how", ["gzip", "zstd", "none"])
def test_seek_and_partial_reads(tmp_path, how):
    data = os.urandom(1_000_000)
    built = build([[f("first", b"1" * 5000), f("blob", data), f("after", b"z")]], how)
    limits = anchore.Limits(gzip_checkpoint_interval=100_000)
    image = anchore.open_image(oci_archive(tmp_path / "s.tar", built), limits=limits)
    with image.open("/blob") as fh:
        assert fh.read(10) == data[:10]
        fh.seek(500_000)
        assert fh.read(1000) == data[500_000:501_000]
        fh.seek(20)  # backwards
        assert fh.read(5) == data[20:25]
        fh.seek(-3, os.SEEK_END)
        assert fh.read() == data[-3:]
        assert fh.read() == b""
        assert fh.tell() == len(data)


def test_multi_member_gzip_and_multi_frame_zstd(tmp_path):
    built = build([[f("a", os.urandom(70_000)), f("b", b"bee" * 30_000)]], "none")
    tar = built.diff_tars[0]
    half = len(tar) // 3
    gz = gzip.compress(tar[:half]) + gzip.compress(tar[half:]) + b"\0" * 512
    cctx = zstandard.ZstdCompressor()
    zs = cctx.compress(tar[:half]) + cctx.compress(tar[half:])
    for blob, media in ((gz, "gzip"), (zs, "zstd")):
        built.layers = [blob]
        built.media_types = [f"application/vnd.oci.image.layer.v1.tar+{media}"]
        image = anchore.open_image(oci_archive(tmp_path / f"{media}.tar", built))
        assert image.read_bytes("/b") == b"bee" * 30_000
        assert image.layers[0].digest == sha256(blob)


def test_media_type_is_not_trusted_over_magic(tmp_path):
    built = build([[f("x", "plain")]], "none")
    built.media_types = ["application/vnd.oci.image.layer.v1.tar+gzip"]  # lies
    image = anchore.open_image(oci_archive(tmp_path / "lie.tar", built))
    assert image.layers[0].compression is anchore.Compression.NONE
    assert image.read_text("/x") == "plain"


@pytest.mark.parametrize("how", ["gzip", "zstd", "none"])
def test_read_many_matches_single_reads(tmp_path, payload_members, how):
    built = build([payload_members[:30], payload_members[30:]], how)
    limits = anchore.Limits(gzip_checkpoint_interval=256 * 1024)
    image = anchore.open_image(oci_archive(tmp_path / "m.tar", built), limits=limits)
    wanted = ["/" + name for name in list(FILES)[::3]]
    got = {entry.path: data for entry, data in image.read_many(reversed(wanted))}
    assert set(got) == set(wanted)
    for path in wanted:
        assert got[path] == FILES[path[1:]]
