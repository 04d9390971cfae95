"""Hostile and broken images: each gets a specific AnchoreError naming the file."""

from __future__ import annotations

import io
import json
import os
import random
import tarfile

import attrs
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


#: a layer large enough that its digests are hashed on the hashing thread, in many chunks
BIG_LAYER = [f("big.bin", random.Random(9).randbytes(3 * 1024 * 1024)), f("a", "1")]


@pytest.mark.parametrize("how", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("files", [[f("a", "1")], BIG_LAYER], ids=["small", "big"])
def test_wrong_diff_id(tmp_path, files, how):
    built = build([files], how)
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
    from anchore.analyzers.executables import ExternalPluginError
    from anchore.policy import BundleError
    from anchore.versions import VersionError
    from anchore.vulns.load import FeedError
    from anchore.vulns.suppress import VexError

    for cls in (VersionError, FeedError, VexError, BundleError, ExternalPluginError):
        assert issubclass(cls, AnchoreError), cls
    assert issubclass(VersionError, ValueError)


# ---- bad arguments and bad fields: a typed error that is also the builtin it narrows ----
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "busybox", "busybox.oci.tar")


@pytest.fixture(scope="module")
def example():
    with anchore.open_image(EXAMPLE) as image:
        yield image


@pytest.mark.parametrize(
    "ask",
    [
        lambda image: image.layers[2],
        lambda image: image.layers[-3],
        lambda image: image.squashed(2),
        lambda image: image.squashed(-3),
    ],
    ids=["layers[2]", "layers[-3]", "squashed(2)", "squashed(-3)"],
)
def test_a_layer_past_either_end_is_layer_not_found(example, ask):
    from anchore.errors import ImageSelectionError, LayerNotFoundError

    with pytest.raises(LayerNotFoundError) as caught:
        ask(example)
    err = caught.value
    assert isinstance(err, IndexError) and isinstance(err, ImageSelectionError)
    assert EXAMPLE in str(err) and "2 layers: 0 to 1" in str(err)
    assert err.available == ["0", "1"] and err.source == EXAMPLE
    # what is in range still works, negative indexes as in a list
    assert example.layers[-1] is example.layers[1]
    assert example.squashed(-1).exists("/bin/sh") and not example.squashed(0).exists("/bin/sh")
    assert [layer.index for layer in example.layers[0:5]] == [0, 1]


def test_a_layer_number_of_the_wrong_type_is_a_type_error(example):
    with pytest.raises(TypeError):
        example.squashed("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        example.squashed(1.0)  # type: ignore[arg-type]


def test_an_image_without_layers_has_no_layer_0(tmp_path):
    from anchore.errors import LayerNotFoundError

    with anchore.open_image(oci_archive(tmp_path / "empty.tar", build([]))) as image:
        assert len(image) == 0 and list(image.squashed().files()) == []
        with pytest.raises(LayerNotFoundError, match="it has no layers"):
            image.squashed(0)


@pytest.mark.parametrize("text", ["bogus", "", "linux/", "/amd64", "a/b/c/d", "linux/ /v7"])
def test_a_bad_platform_string_is_invalid_platform(text):
    from anchore.errors import ImageSelectionError, InvalidPlatformError

    with pytest.raises(InvalidPlatformError, match="os/architecture") as caught:
        anchore.Platform.parse(text)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ImageSelectionError)
    with pytest.raises(ValueError, match=repr(text).replace("/", ".")):
        anchore.open_image(EXAMPLE, platform=text)
    assert anchore.Platform.parse("linux/arm/v7") == anchore.Platform("linux", "arm", "v7")


def test_read_text_of_binary_content_names_the_file(example):
    from anchore.errors import FileDecodeError, ImageFileError

    with pytest.raises(FileDecodeError, match="/bin/busybox: not utf-8 text") as caught:
        example.read_text("/bin/busybox")
    err = caught.value
    assert isinstance(err, UnicodeDecodeError) and isinstance(err, ImageFileError)
    assert err.member == "/bin/busybox" and err.encoding == "utf-8"
    assert "\ufffd" in example.read_text("/bin/busybox", errors="replace")


@pytest.mark.parametrize(
    "kw",
    [
        {"max_layers": -1},
        {"max_layers": "10"},
        {"max_layers": True},
        {"max_read_bytes": 1.5},
        {"max_compression_ratio": 0},
        {"gzip_checkpoint_interval": 0},
    ],
)
def test_a_bad_limit_is_refused_when_made(kw):
    from anchore.errors import InvalidLimitError

    (field,) = kw
    with pytest.raises(InvalidLimitError, match=f"Limits.{field}") as caught:
        anchore.Limits(**kw)
    assert isinstance(caught.value, ValueError)


def test_zero_limits_and_fractional_ratios_are_allowed():
    limits = anchore.Limits(max_layers=0, max_symlink_follows=0, max_compression_ratio=2.5)
    with pytest.raises(LimitExceededError, match="max_layers=0"):
        anchore.open_image(EXAMPLE, limits=limits)


def test_an_unknown_analyzer_is_named_with_the_valid_ones(example):
    from anchore.errors import AnalyzerNotFoundError

    with pytest.raises(AnalyzerNotFoundError, match="'nosuch'; available: .*dpkg") as caught:
        anchore.analyze(example, analyzers=["dpkg", "nosuch"])
    assert isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("no analyzer named")  # not KeyError's quoted repr
    one = anchore.analyze(example, analyzers="dpkg")  # one name, not its letters
    assert {p.name for p in one.packages} == {"base-files", "busybox-static"}


# Every field of the config, the manifest and the index, replaced by a value of
# the wrong type or deleted: opening and describing the image either works or
# raises an AnchoreError, never a bare TypeError/KeyError/ValueError.
_WRONG = [None, 5, "x", [], {}, -1, True, [1], {"a": 1}, "sha256:zz", KeyError]


def _paths(obj, prefix=()):
    yield prefix
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _replaced(obj, path, value):
    obj = json.loads(json.dumps(obj))
    if not path:
        return value
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if value is KeyError:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


def _fuzz_image():
    return build(
        [[d("etc"), f("etc/a", "a")], [f("etc/b", "b")]],
        variant="v1",
        config={"author": "me", "config": {"Env": ["A=1"], "Labels": {"a": "b"},
                "ExposedPorts": {"80/tcp": {}}, "User": "u", "Healthcheck": {"Test": ["x"]}}},
    )  # fmt: skip


def _write_layout(tmp_path, n, config=None, manifest=None, index=None):
    built = _fuzz_image()
    if config is not None:
        built.config = config
    layout = OCILayout()
    layout.add_blob(built.config_bytes)
    for blob in built.layers:
        layout.add_blob(blob)
    desc = layout.add_blob(
        json.dumps(manifest if manifest is not None else built.manifest()).encode()
    )
    desc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    desc["platform"] = {"os": "linux", "architecture": "amd64"}
    layout.tag(desc, "t")
    if index is not None:
        layout.index = index(layout.index)
    return layout.write_dir(tmp_path / f"img{n}")


def _describe(path, **kw):
    with anchore.open_image(path, **kw) as image:
        json.dumps(image.to_dict())
        repr(image), str(image.platform), image.config.environment
        [entry.to_dict() for entry in image.files()]


def test_wrong_types_anywhere_in_the_metadata_are_anchore_errors(tmp_path):
    built = _fuzz_image()
    base_index = json.loads(
        (tmp_path.joinpath(_write_layout(tmp_path, 0), "index.json")).read_text()
    )
    cases = []
    for path in _paths(built.config):
        cases += [("config", path, v) for v in _WRONG if path or v is not KeyError]
    for path in _paths(built.manifest()):
        cases += [("manifest", path, v) for v in _WRONG if path or v is not KeyError]
    for path in _paths(base_index):
        cases += [("index", path, v) for v in _WRONG if path or v is not KeyError]
    escaped = []
    for n, (where, path, value) in enumerate(cases, 1):
        if where == "config":
            image = _write_layout(tmp_path, n, config=_replaced(built.config, path, value))
        elif where == "manifest":
            image = _write_layout(tmp_path, n, manifest=_replaced(built.manifest(), path, value))
        else:
            image = _write_layout(tmp_path, n, index=lambda i, p=path, v=value: _replaced(i, p, v))
        for kw in ({}, {"tag": "t"}, {"platform": "linux/amd64"}):
            try:
                _describe(image, **kw)
            except AnchoreError:
                pass
            except Exception as exc:  # collecting what escapes
                escaped.append(f"{where}{list(path)}={value!r} {kw}: {type(exc).__name__}: {exc}")
    assert len(cases) > 300
    assert escaped == []


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        ("config", {"variant": 5}, r"[0-9a-f]{64}: variant is the number 5, not a string"),
        ("config", {"os": ["linux"]}, r"[0-9a-f]{64}: os is a list, not a string"),
        ("config", {"author": 5}, r"[0-9a-f]{64}: author is the number 5, not a string"),
        (
            "descriptor",
            {"platform": {"os": "linux", "architecture": 64}},
            r"index\.json: manifests\[0\]\.platform\.architecture is the number 64",
        ),
        (
            "descriptor",
            {"mediaType": ["x"]},
            r"index\.json: manifests\[0\]\.mediaType is a list, not a string",
        ),
        (
            "descriptor",
            {"annotations": {"org.opencontainers.image.ref.name": 5}},
            r'manifests\[0\]\.annotations\["org\.opencontainers\.image\.ref\.name"\] is the '
            "number 5, not a string",
        ),
    ],
)
def test_wrong_typed_platform_and_name_fields_are_format_errors(tmp_path, where, value, problem):
    built = _fuzz_image()
    if where == "config":
        built.config.update(value)
    layout = OCILayout()
    desc = layout.add_image(built, platform={"os": "linux", "architecture": "amd64"})
    if where == "descriptor":
        desc.update(value)
    layout.tag(desc)
    path = layout.write_archive(tmp_path / "x.tar")
    with pytest.raises(ImageFormatError, match=problem):
        _describe(path)


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_a_source_that_cannot_be_read_is_image_read_error():
    from anchore.errors import ImageReadError

    # /proc/self/mem exists but fails every read at offset 0 (EIO): unlike chmod 000, root too
    with pytest.raises(ImageReadError, match="/proc/self/mem: cannot be read") as caught:
        anchore.open_image("/proc/self/mem")
    assert isinstance(caught.value, OSError)


def test_file_tree_put_under_a_missing_parent_is_path_not_found():
    from anchore.errors import PathNotFoundError
    from anchore.image import FileEntry, FileTree, FileType

    tree = FileTree()
    entry = FileEntry("/a/b", FileType.FILE, 0o644, 0, 0, "", "", 0, 0, None, 0)
    with pytest.raises(PathNotFoundError, match="/a/b: its parent"):
        tree.put(entry)
    tree.put(attrs.evolve(entry, path=tree.ensure_parent("/a/b", 0, 40)))
    assert tree.stat("/a/b") == entry and tree.stat("/a").is_dir
