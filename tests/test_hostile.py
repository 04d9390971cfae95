"""Hostile and broken images: each gets a specific AnchoreError naming the file."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest

import anchore
from anchore.errors import (
    AnchoreError,
    DigestMismatchError,
    ImageFormatError,
    LimitExceededError,
    MissingBlobError,
    TruncatedBlobError,
    UnsafeImageError,
)
from imagebuilder import OCILayout, build, compress, d, docker_archive, f, oci_archive, sha256

pytestmark = pytest.mark.timeout(60)  # never hang


def raw_layer(build_members) -> bytes:
    """A layer tar written member by member, for names tarfile would clean up."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in build_members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def image_with_layer_tar(tmp_path, tar: bytes, how: str = "gzip") -> str:
    built = build([[f("placeholder")]], how)
    built.diff_tars = [tar]
    built.layers = [compress(tar, how)]
    built.config["rootfs"]["diff_ids"] = [sha256(tar)]
    return oci_archive(tmp_path / "hostile.tar", built)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/../../escape", "/../x"])
def test_path_traversal_in_layer(tmp_path, name):
    src = image_with_layer_tar(tmp_path, raw_layer([("ok", b""), (name, b"evil")]))
    with pytest.raises(UnsafeImageError) as err:
        anchore.open_image(src)
    assert "climbs above the image root" in str(err.value)
    assert "hostile.tar!blobs/sha256/" in str(err.value)
    assert not os.path.exists(tmp_path.parent / "escape")


def test_whiteout_of_dotdot_is_refused(tmp_path):
    src = image_with_layer_tar(tmp_path, raw_layer([("dir/.wh...", b"")]))
    with pytest.raises(UnsafeImageError, match="whiteout"):
        anchore.open_image(src)


def test_inside_root_dotdot_is_just_normalised(tmp_path):
    src = image_with_layer_tar(tmp_path, raw_layer([("a/../b", b"fine")]))
    assert anchore.open_image(src).read_bytes("/b") == b"fine"


def test_wrong_layer_digest(tmp_path):
    built = build([[f("a", "1")]])
    layout = OCILayout()
    layout.tag(layout.add_image(built))
    # swap the blob's content for another valid gzip layer of the same size? simpler: corrupt a byte
    digest = sha256(built.layers[0])
    data = bytearray(layout.blobs[digest])
    data[-5] ^= 0xFF  # gzip trailer (crc/size) region: decompression may still succeed
    layout.blobs[digest] = bytes(data)
    src = layout.write_dir(tmp_path / "l")
    with pytest.raises((DigestMismatchError, TruncatedBlobError)) as err:
        anchore.open_image(src)
    assert "blobs/sha256/" + digest.split(":")[1] in str(err.value)


def test_wrong_diff_id(tmp_path):
    built = build([[f("a", "1")]], "none")
    built.config["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
    for src in (
        oci_archive(tmp_path / "o.tar", built),
        docker_archive(tmp_path / "d.tar", [(["x:1"], built)]),
    ):
        with pytest.raises(DigestMismatchError) as err:
            anchore.open_image(src)
        assert err.value.expected == "sha256:" + "0" * 64
        assert "diff_id" in str(err.value)


def test_tampered_config_and_manifest(tmp_path):
    built = build([[f("a")]])
    layout = OCILayout()
    desc = layout.add_image(built)
    layout.tag(desc)
    config_digest = sha256(built.config_bytes)
    layout.blobs[config_digest] = built.config_bytes.replace(b"amd64", b"arm64")
    with pytest.raises(DigestMismatchError, match=config_digest.split(":")[1]):
        anchore.open_image(layout.write_dir(tmp_path / "c"))
    # docker archives name the config by its digest too
    src = docker_archive(tmp_path / "d.tar", [(["x:1"], built)])
    blob = open(src, "rb").read().replace(b'"amd64"', b'"arm64"')
    open(src, "wb").write(blob)
    with pytest.raises(DigestMismatchError, match=".json"):
        anchore.open_image(src)


def test_missing_blob(tmp_path):
    built = build([[f("a")]])
    layout = OCILayout()
    layout.tag(layout.add_image(built))
    del layout.blobs[sha256(built.layers[0])]
    src = layout.write_dir(tmp_path / "m")
    with pytest.raises(MissingBlobError, match=sha256(built.layers[0]).split(":")[1]):
        anchore.open_image(src)


@pytest.mark.parametrize("how", ["gzip", "zstd", "none"])
def test_truncated_layer(tmp_path, how):
    built = build([[f("big", os.urandom(200_000))]], how)
    layout = OCILayout()
    layout.tag(layout.add_image(built))
    digest = sha256(built.layers[0])
    layout.blobs[digest] = layout.blobs[digest][: len(built.layers[0]) // 2]
    src = layout.write_dir(tmp_path / "t")
    with pytest.raises((TruncatedBlobError, DigestMismatchError)) as err:
        anchore.open_image(src)
    assert digest.split(":")[1] in str(err.value)


def test_truncated_tar_inside_a_consistent_blob(tmp_path):
    tar = raw_layer([("big", b"x" * 100_000)])[:50_000]
    src = image_with_layer_tar(tmp_path, tar)
    with pytest.raises(TruncatedBlobError, match="'big'"):
        anchore.open_image(src)


def test_corrupt_tar_header(tmp_path):
    tar = bytearray(raw_layer([("a", b"1"), ("b", b"2")]))
    tar[1024 + 10] ^= 0x55  # inside the second member's header (after pax records)
    src = image_with_layer_tar(tmp_path, bytes(tar), "none")
    with pytest.raises(ImageFormatError, match="corrupt tar header"):
        anchore.open_image(src)


@pytest.mark.parametrize("target", ["index.json", "manifest", "config"])
def test_malformed_json(tmp_path, target):
    built = build([[f("a")]])
    layout = OCILayout()
    desc = layout.add_image(built)
    layout.tag(desc)
    src = layout.write_dir(tmp_path / "j")
    if target == "index.json":
        path = os.path.join(src, "index.json")
    elif target == "manifest":
        path = os.path.join(src, "blobs/sha256", desc["digest"].split(":")[1])
    else:
        path = os.path.join(src, "blobs/sha256", sha256(built.config_bytes).split(":")[1])
    with open(path, "wb") as out:
        out.write(b'{"schemaVersion": 2, "manifests": [')
    if target != "index.json":  # fix up descriptors so the digest check passes and JSON fails
        _redigest(src, path)
    with pytest.raises(ImageFormatError, match="malformed JSON") as err:
        anchore.open_image(src)
    assert os.path.basename(path) in str(err.value) or target != "index.json"


def _redigest(layout_dir, path):
    """Rename a rewritten blob to its new digest and fix every reference to it."""
    old = os.path.basename(path)
    data = open(path, "rb").read()
    new = sha256(data).split(":")[1]
    os.rename(path, os.path.join(os.path.dirname(path), new))
    for root, _, files in os.walk(layout_dir):
        for name in files:
            p = os.path.join(root, name)
            blob = open(p, "rb").read()
            if old.encode() in blob:
                blob = blob.replace(old.encode(), new.encode())
                blob = _fix_size(blob, new, len(data))
                open(p, "wb").write(blob)
                if root.endswith("sha256"):
                    _redigest(layout_dir, p)


def _fix_size(blob: bytes, digest_hex: str, size: int) -> bytes:
    doc = json.loads(blob)

    def walk(node):
        if isinstance(node, dict):
            if node.get("digest", "").endswith(digest_hex):
                node["size"] = size
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return json.dumps(doc).encode()


def test_decompression_bomb_is_stopped(tmp_path):
    tar = raw_layer([("zeros", b"\0" * (64 << 20))])
    src = image_with_layer_tar(tmp_path, tar)
    limits = anchore.Limits(max_compression_ratio=50, ratio_check_after_bytes=1 << 20)
    with pytest.raises(LimitExceededError) as err:
        anchore.open_image(src, limits=limits)
    assert err.value.limit == "max_compression_ratio"
    with pytest.raises(LimitExceededError, match="max_layer_bytes"):
        anchore.open_image(src, limits=anchore.Limits(max_layer_bytes=8 << 20))


def test_absurd_sizes_in_descriptors_and_headers(tmp_path):
    built = build([[f("a")]])
    layout = OCILayout()
    desc = layout.add_image(built)
    desc["size"] = 10**15
    layout.tag(desc)
    with pytest.raises(LimitExceededError, match="max_json_bytes"):
        anchore.open_image(layout.write_dir(tmp_path / "s"))
    # a tar member claiming a petabyte of data in a small layer
    tar = bytearray(raw_layer([("a", b"12345")]))
    hdr_at = tar.index(b"a\0") // 512 * 512
    header = bytearray(tar[hdr_at : hdr_at + 512])
    header[124:136] = b"\x80" + (10**15).to_bytes(11, "big")
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    tar[hdr_at : hdr_at + 512] = header
    src = image_with_layer_tar(tmp_path, bytes(tar), "none")
    with pytest.raises(TruncatedBlobError):
        anchore.open_image(src)


def test_too_many_entries_and_long_paths(tmp_path):
    src = image_with_layer_tar(tmp_path, raw_layer([(f"f{i}", b"") for i in range(50)]))
    with pytest.raises(LimitExceededError, match="max_layer_entries"):
        anchore.open_image(src, limits=anchore.Limits(max_layer_entries=10))
    src = image_with_layer_tar(tmp_path, raw_layer([("x" * 300, b"")]))
    with pytest.raises(LimitExceededError, match="max_path_bytes"):
        anchore.open_image(src, limits=anchore.Limits(max_path_bytes=255))


def test_index_that_contains_itself_is_bounded(tmp_path):
    """An index cannot name its own digest, but a chain of indexes can be deep."""
    layout = OCILayout()
    desc = layout.add_image(build([[f("a")]]))
    for _ in range(12):
        desc = layout.add_index([desc])
    layout.tag(desc)
    src = layout.write_dir(tmp_path / "deep")
    with pytest.raises(LimitExceededError, match="max_index_depth"):
        anchore.open_image(src)
    assert anchore.open_image(src, limits=anchore.Limits(max_index_depth=20)).exists("/a")


def test_layout_blob_symlink_escaping_the_directory(tmp_path):
    built = build([[f("a")]])
    layout = OCILayout()
    layout.tag(layout.add_image(built))
    src = layout.write_dir(tmp_path / "esc")
    blob = os.path.join(src, "blobs/sha256", sha256(built.layers[0]).split(":")[1])
    os.remove(blob)
    secret = tmp_path / "host-secret"
    secret.write_bytes(built.layers[0])
    os.symlink(str(secret), blob)
    with pytest.raises(UnsafeImageError, match="outside the image directory"):
        anchore.open_image(src)


def test_devices_and_fifos_are_entries_never_created(tmp_path, make_image=None):
    from imagebuilder import M

    built = build([[M("dev/sda", "block"), M("run/pipe", "fifo"), d("dev")]])
    image = anchore.open_image(oci_archive(tmp_path / "dev.tar", built))
    assert image.lstat("/dev/sda").type is anchore.FileType.BLOCK_DEVICE
    assert image.lstat("/run/pipe").type is anchore.FileType.FIFO
    with pytest.raises(anchore.errors.NotAFileError):
        image.open("/run/pipe")


def test_huge_file_read_bytes_limit_and_streaming(tmp_path):
    built = build([[f("big", b"b" * 300_000)]])
    image = anchore.open_image(
        oci_archive(tmp_path / "b.tar", built), limits=anchore.Limits(max_read_bytes=100_000)
    )
    with pytest.raises(LimitExceededError, match="max_read_bytes"):
        image.read_bytes("/big")
    with image.open("/big") as fh:
        total = sum(len(chunk) for chunk in iter(lambda: fh.read(65536), b""))
    assert total == 300_000


def test_every_error_is_an_anchore_error():
    import inspect

    for name, obj in inspect.getmembers(anchore.errors, inspect.isclass):
        if name in anchore.errors.__all__ and obj is not anchore.errors.ExitCode:
            assert issubclass(obj, AnchoreError), name
    assert issubclass(anchore.errors.PathNotFoundError, FileNotFoundError)
    err = anchore.errors.PathNotFoundError("x: missing", member="x")
    assert str(err) == "x: missing" and err.member == "x"


def test_module_errors_join_the_one_hierarchy():
    from anchore.plugins.external import ExternalPluginError
    from anchore.policy import BundleError
    from anchore.versions import VersionError
    from anchore.vulns.load import FeedError
    from anchore.vulns.suppress import VexError

    for cls in (VersionError, FeedError, VexError, BundleError, ExternalPluginError):
        assert issubclass(cls, AnchoreError), cls
    assert issubclass(VersionError, ValueError)
