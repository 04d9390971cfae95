"""Hostile image documents: manifest.json, repositories, oci-layout, indexes, manifests, configs.

Every case is built here by code and opened in a confined child (tests/confine.py):
it must end in a typed AnchoreError naming the file and the field, within a time
and memory bound, writing nothing outside its private temporary directory. The
bombs (an index fan-out, a blob named as a thousand layers, a compressed outer
archive that inflates to gigabytes) print their time and peak memory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from typing import Any

import pytest
import zstandard

import anchore
from anchore.errors import DigestMismatchError, ImageFormatError
from anchore.image import schema
from anchore.image.sources import Source
from confine import run_confined
from imagebuilder import OCILayout, build, docker_archive, f, index_doc, sha256

pytestmark = pytest.mark.timeout(180)

_MIB = 1024 * 1024
_GIB = 1024 * _MIB

OPEN = "import anchore\nanchore.open_image(PATH)\n"
DESCRIBE = """
import json, anchore
with anchore.open_image(PATH, **KW) as image:
    json.dumps(image.to_dict())
    hash(image.config), image.config.environment, image.history, image.platform
    result = [str(image.platform), len(image.layers)]
"""


def _opened(path: str, **kw: Any) -> Any:
    out = run_confined(DESCRIBE, seconds=60, memory_mib=1536, watch=[path], PATH=path, KW=kw)
    return out


def _base():
    return build(
        [[f("etc/os-release", "ID=test\n")], [f("bin/sh", "#!")]],
        config={
            "author": "me",
            "config": {
                "Env": ["A=1"],
                "Labels": {"a": "b"},
                "ExposedPorts": {"80/tcp": {}},
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 5, "Extra": [1, {"x": 2}]},
            },
        },
    )


def _layout(tmp_path, *, config=None, manifest=None, index=None, layout=None, platform=None):
    """An OCI archive of the base image, each document replaceable (as bytes or JSON)."""
    built = _base()
    oci = OCILayout()
    cfg = config if config is not None else built.config_bytes
    cfg = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    config_desc = oci.add_blob(cfg)
    for blob in built.layers:
        oci.add_blob(blob)
    doc = built.manifest()
    doc["config"].update(config_desc)
    man = manifest(doc) if callable(manifest) else doc
    man = man if isinstance(man, bytes) else json.dumps(man).encode()
    desc = oci.add_blob(man)
    desc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    desc["platform"] = platform or {"os": "linux", "architecture": "amd64"}
    oci.tag(desc, "t")
    files = oci._files()
    if index is not None:
        idx = index(oci.index) if callable(index) else index
        files["index.json"] = idx if isinstance(idx, bytes) else json.dumps(idx).encode()
    if layout is not None:
        files["oci-layout"] = layout
    return _write_tar(tmp_path / "img.oci.tar", files)


def _write_tar(path, files: dict[str, bytes]) -> str:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def _docker(tmp_path, *, manifest=None, config=None, repositories=None):
    built = _base()
    if config is not None:
        built.config = config
    path = docker_archive(
        tmp_path / "img.docker.tar", [(["test/img:latest"], built)], repositories={"test/img": {}}
    )
    with tarfile.open(path) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    if manifest is not None:
        doc = json.loads(files["manifest.json"])
        new = manifest(doc) if callable(manifest) else manifest
        files["manifest.json"] = new if isinstance(new, bytes) else json.dumps(new).encode()
    if repositories is not None:
        files["repositories"] = repositories
    os.unlink(path)
    return _write_tar(path, files)


# ---------------------------------------------------------------- nesting depth
def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _deep_object(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


DEEP_CASES = {
    "index.json": lambda t: _layout(t, index=_deep(100_000)),
    "index.json objects": lambda t: _layout(t, index=_deep_object(50_000)),
    "index.json, 40 deep": lambda t: _layout(t, index=lambda i: {**i, "x": json.loads(_deep(50))}),
    "oci-layout": lambda t: _layout(t, layout=b'{"imageLayoutVersion":' + _deep(100_000) + b"}"),
    "manifest": lambda t: _layout(t, manifest=lambda m: b'{"x":' + _deep(100_000) + b"}"),
    "config": lambda t: _layout(t, config=b'{"x":' + _deep(100_000) + b"}"),
    "manifest.json": lambda t: _docker(t, manifest=_deep(100_000)),
    "repositories": lambda t: _docker(t, repositories=b'{"a":' + _deep(100_000) + b"}"),
    "docker config": lambda t: _docker(t, config={"rootfs": json.loads(_deep(500))}),
}


@pytest.mark.parametrize("case", sorted(DEEP_CASES))
def test_deeply_nested_documents_are_limit_errors_naming_the_file(tmp_path, case):
    path = DEEP_CASES[case](tmp_path)
    code = OPEN
    if case == "index.json, 40 deep":  # 51 deep: within the default of 64, not within 40
        _opened(path).assert_no_error()
        code = "import anchore\nanchore.open_image(PATH, limits=anchore.Limits(max_json_depth=40))"
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[path], PATH=path)
    out.assert_raised("LimitExceededError", limit="max_json_depth", contains="max_json_depth=")
    assert "img." in out.message, out.message
    assert out.seconds < 20


def test_nesting_is_counted_outside_strings_only():
    limits = anchore.Limits(max_json_depth=3)
    assert schema.parse_json(b'[["[[[[[[\\"[[[", {"a": "{{{{"}]]', "x", limits)
    with pytest.raises(anchore.errors.LimitExceededError, match="x: .*max_json_depth=3"):
        schema.parse_json(b'[[[["a"]]]]', "x", limits)
    with pytest.raises(anchore.errors.LimitExceededError):
        schema.parse_json(b'{"a": [{"b": []}]}', "x", limits)
    assert schema.parse_json(b'{"a": [{"b": 1}], "c": [[1], [2]]}', "x", limits)
    # malformed input is still a format error, not a depth one
    with pytest.raises(ImageFormatError, match="malformed JSON"):
        schema.parse_json(b"[[[]", "x", limits)
    with pytest.raises(ImageFormatError, match="malformed JSON"):
        schema.parse_json(b"]]][[[", "x", limits)


def test_a_label_full_of_brackets_is_not_nesting(tmp_path):
    cfg = json.loads(_base().config_bytes)
    cfg["config"]["Labels"]["brackets"] = "[{" * 50_000
    out = _opened(_layout(tmp_path, config=cfg))
    assert out.assert_no_error() == ["linux/amd64", 2]


# ---------------------------------------------------------------- wrong types, anywhere
def _desc0(i: dict[str, Any]) -> dict[str, Any]:
    return i["manifests"][0]


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    parent = doc
    for key in path[:-1]:
        parent = parent.setdefault(key, {}) if isinstance(key, str) else parent[key]
    parent[path[-1]] = value
    return doc


# (document, path to the field, bad value, what the message must say)
INDEX_CASES = [
    (["manifests", 0, "platform", "variant"], 7, "platform.variant is the number 7"),
    (["manifests", 0, "platform", "variant"], ["v7"], "platform.variant is a list"),
    (["manifests", 0, "platform", "variant"], {"v": 7}, "platform.variant is an object"),
    (
        ["manifests", 0, "platform", "os.features"],
        "sse4",
        'platform["os.features"] is a string, not a list',
    ),
    (["manifests", 0, "platform"], "linux/amd64", "manifests[0].platform is a string"),
    (["manifests", 0, "mediaType"], ["x"], "manifests[0].mediaType is a list"),
    (["manifests", 0, "mediaType"], {"x": 1}, "manifests[0].mediaType is an object"),
    (
        ["manifests", 0, "annotations", "org.opencontainers.image.ref.name"],
        ["t"],
        'annotations["org.opencontainers.image.ref.name"] is a list, not a string',
    ),
    (
        ["manifests", 0, "annotations", "org.opencontainers.image.ref.name"],
        {"t": 1},
        'annotations["org.opencontainers.image.ref.name"] is an object',
    ),
    (["manifests", 0, "annotations"], ["x"], "manifests[0].annotations is a list"),
    (["manifests", 0, "size"], "12", "manifests[0].size is a string"),
    (["manifests", 0, "size"], -1, "manifests[0].size is -1, not a whole number of 0 or more"),
    (["manifests", 0, "size"], True, "manifests[0].size is true"),
    (["manifests", 0, "size"], 1.5, "manifests[0].size is the number 1.5"),
    (["manifests", 0, "digest"], 5, "manifests[0].digest is the number 5"),
    (["manifests", 0, "urls"], "http://x", "manifests[0].urls is a string"),
    (["manifests", 1], "sha256:x", "manifests[1] is a string, not an object"),
    (["manifests"], {"0": {}}, "manifests is an object, not a list"),
    (["subject"], [], "subject is a list, not an object"),
    (["annotations"], {"a": "x", "b": 1}, "annotations.b is the number 1"),
]


@pytest.mark.parametrize(("path", "value", "says"), INDEX_CASES)
def test_wrong_types_in_the_index_name_the_field(tmp_path, path, value, says):
    def index(i):
        i = json.loads(json.dumps(i))
        if path[:2] == ["manifests", 1]:
            i["manifests"].append(None)
        return _set(i, path, value)

    out = _opened(_layout(tmp_path, index=index))
    out.assert_raised("ImageFormatError", contains="img.oci.tar!index.json: ")
    assert says in out.message, out.message


MANIFEST_CASES = [
    (["config", "digest"], ["sha256:x"], "config.digest is a list"),
    (["config", "size"], "5", "config.size is a string"),
    (["layers", 0, "mediaType"], {"a": 1}, "layers[0].mediaType is an object"),
    (["layers", 1, "annotations"], "x", "layers[1].annotations is a string"),
    (["layers"], {"0": 1}, "layers is an object, not a list"),
    (["mediaType"], 5, "mediaType is the number 5"),
    (["schemaVersion"], "2", "schemaVersion is a string"),
]


@pytest.mark.parametrize(("path", "value", "says"), MANIFEST_CASES)
def test_wrong_types_in_the_manifest_name_the_field(tmp_path, path, value, says):
    out = _opened(_layout(tmp_path, manifest=lambda m: _set(m, path, value)))
    out.assert_raised("ImageFormatError", contains="img.oci.tar!blobs/sha256/")
    assert says in out.message, out.message


CONFIG_CASES = [
    (["variant"], 8, "variant is the number 8, not a string"),
    (["variant"], ["v8"], "variant is a list"),
    (["os"], {"linux": 1}, "os is an object"),
    (["created"], 1700000000, "created is the number 1700000000"),
    (["rootfs", "diff_ids"], "sha256:x", "rootfs.diff_ids is a string"),
    (["rootfs", "diff_ids", 0], 5, "rootfs.diff_ids[0] is the number 5"),
    (["rootfs"], ["x"], "rootfs is a list"),
    (["config", "Env"], {"A": "1"}, "config.Env is an object"),
    (["config", "Env", 0], 1, "config.Env[0] is the number 1"),
    (["config", "Cmd"], {"sh": 1}, "config.Cmd is an object, not a list or a string"),
    (["config", "Labels", "a"], ["b"], "config.Labels.a is a list"),
    (["config", "Labels", "org.x"], 5, 'config.Labels["org.x"] is the number 5'),
    (["config", "ExposedPorts"], ["80/tcp"], "config.ExposedPorts is a list"),
    (["config", "Healthcheck", "Interval"], "5s", "config.Healthcheck.Interval is a string"),
    (["config", "Healthcheck", "Test"], "true", "config.Healthcheck.Test is a string"),
    (["config", "Healthcheck", "Retries"], -3, "config.Healthcheck.Retries is -3"),
    (["config", "User"], 0, "config.User is the number 0"),
    (["history", 0, "empty_layer"], "false", "history[0].empty_layer is a string"),
    (["history", 1, "created_by"], ["RUN", "x"], "history[1].created_by is a list"),
    (["history"], {"0": {}}, "history is an object, not a list"),
]


@pytest.mark.parametrize(("path", "value", "says"), CONFIG_CASES)
@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_wrong_types_in_the_config_name_the_field(tmp_path, fmt, path, value, says):
    cfg = _set(json.loads(_base().config_bytes), path, value)
    src = _layout(tmp_path, config=cfg) if fmt == "oci" else _docker(tmp_path, config=cfg)
    out = _opened(src)
    out.assert_raised("ImageFormatError")
    assert says in out.message, out.message
    assert (".oci.tar!blobs/sha256/" if fmt == "oci" else ".docker.tar!") in out.message


DOCKER_CASES = [
    (lambda m: _set(m, [0, "Config"], ["x.json"]), "[0].Config is a list"),
    (lambda m: _set(m, [0, "Layers"], "blobs/sha256/x"), "[0].Layers is a string"),
    (lambda m: _set(m, [0, "Layers", 0], 5), "[0].Layers[0] is the number 5"),
    (lambda m: _set(m, [0, "RepoTags"], {"t": 1}), "[0].RepoTags is an object"),
    (
        lambda m: _set(m, [0, "LayerSources"], {"sha256:x": {"mediaType": ["x"]}}),
        'LayerSources["sha256:x"].mediaType is a list',
    ),
    (lambda m: {"0": m[0]}, "the document is an object, not a list"),
    (lambda m: [*m, "x"], "[1] is a string, not an object"),
]


@pytest.mark.parametrize(("edit", "says"), DOCKER_CASES)
def test_wrong_types_in_manifest_json_name_the_field(tmp_path, edit, says):
    out = _opened(_docker(tmp_path, manifest=edit))
    out.assert_raised("ImageFormatError", contains="img.docker.tar!manifest.json: ")
    assert says in out.message, out.message


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b'{"test/img": ["latest"]}', '["test/img"] is a list, not an object of strings'),
        (b'{"test/img": {"latest": 5}}', '["test/img"].latest is the number 5'),
    ],
)
def test_wrong_types_in_repositories_name_the_field(tmp_path, data, says):
    out = _opened(_docker(tmp_path, repositories=data))
    out.assert_raised("ImageFormatError", contains="img.docker.tar!repositories: ")
    assert says in out.message, out.message


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b'{"imageLayoutVersion": 1}', "imageLayoutVersion is the number 1"),
        (b'{"imageLayoutVersion": null}', "imageLayoutVersion is missing"),
        (b"[]", "the document is a list, not an object"),
    ],
)
def test_wrong_types_in_oci_layout_name_the_field(tmp_path, data, says):
    out = _opened(_layout(tmp_path, layout=data))
    out.assert_raised("ImageFormatError", contains="img.oci.tar!oci-layout: ")
    assert says in out.message, out.message


def test_the_well_formed_base_opens_and_describes(tmp_path):
    """The cases above differ from this image in one field each: it must open."""
    assert _opened(_layout(tmp_path)).assert_no_error() == ["linux/amd64", 2]
    (tmp_path / "d").mkdir()
    docker = _docker(tmp_path / "d", repositories=b'{"test/img": {"latest": "x"}}')
    assert _opened(docker).assert_no_error() == ["linux/amd64", 2]


def test_nulls_are_missing_fields_as_docker_writes_them(tmp_path):
    cfg = json.loads(_base().config_bytes)
    cfg["config"].update({"Env": None, "Cmd": None, "Labels": None, "Volumes": None})
    cfg["history"][0]["empty_layer"] = None
    assert _opened(_layout(tmp_path, config=cfg)).assert_no_error() == ["linux/amd64", 2]


# ---------------------------------------------------------------- index fan-out
def _fan_out(tmp_path, widths: tuple[int, ...], limits_kw: dict[str, int] | None = None) -> str:
    """An index naming one child index ``widths[0]`` times, which names one child ..., down
    to ``widths[-1]`` references to one image manifest: few blobs, a huge tree."""
    oci = OCILayout()
    desc = oci.add_image(_base(), platform={"os": "linux", "architecture": "amd64"})
    for width in reversed(widths[1:]):
        desc = oci.add_index([desc] * width)
    oci.index = index_doc([desc] * widths[0])
    return oci.write_archive(tmp_path / "fan.oci.tar")


@pytest.mark.parametrize("widths", [(3000, 3000, 8), (8, 3000, 3000), (2, 2, 2, 2, 2, 2, 2, 5000)])
def test_an_index_fan_out_of_reused_blobs_is_bounded(tmp_path, widths):
    path = _fan_out(tmp_path, widths)
    out = run_confined(OPEN, seconds=60, memory_mib=1024, watch=[path], PATH=path)
    print(f"fan-out {widths}: {out.seconds:.2f} s, peak {out.peak_mib:.0f} MiB")
    out.assert_raised(
        "LimitExceededError", limit="max_index_manifests", contains="max_index_manifests=10000"
    )
    assert "fan.oci.tar!" in out.message
    assert out.seconds < 15


def test_nested_indexes_are_read_and_hashed_once(tmp_path, monkeypatch):
    path = _fan_out(tmp_path, (50, 40, 3))  # 50 + 2,000 + 6,000 descriptors: within the limit
    reads: list[str] = []
    original = Source.read_bytes

    def counting(self, name, limits):
        reads.append(name)
        return original(self, name, limits)

    monkeypatch.setattr(Source, "read_bytes", counting)
    with anchore.open_image(path) as image:
        assert image.read_text("/etc/os-release") == "ID=test\n"
    blobs = [r for r in reads if r.startswith("blobs/")]
    assert len(blobs) == len(set(blobs)) == 4  # two indexes, the manifest, the config
    with pytest.raises(anchore.errors.LimitExceededError, match="max_index_manifests=2000"):
        anchore.open_image(path, limits=anchore.Limits(max_index_manifests=2000))


# ---------------------------------------------------------------- one blob, many layers
def _big_gzip_layer(size: int) -> tuple[bytes, bytes]:
    """A gzip layer of one ``size``-byte file of zeros: (blob, diff_id tar) without the tar
    in memory twice; its ratio stays under the check (it is below ratio_check_after_bytes)."""
    info = tarfile.TarInfo("big")
    info.size = size
    head = info.tobuf(tarfile.PAX_FORMAT)
    tail = b"\0" * ((-size) % 512) + b"\0" * 1024
    digest = hashlib.sha256()
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(head)]
    digest.update(head)
    zeros = b"\0" * (4 * _MIB)
    left = size
    while left:
        piece = zeros[: min(left, len(zeros))]
        parts.append(comp.compress(piece))
        digest.update(piece)
        left -= len(piece)
    parts += [comp.compress(tail), comp.flush()]
    digest.update(tail)
    return b"".join(parts), ("sha256:" + digest.hexdigest()).encode()


@pytest.fixture(scope="module")
def big_layer() -> tuple[bytes, str]:
    blob, diff_id = _big_gzip_layer(200 * _MIB)
    return blob, diff_id.decode()


def _many_layers(tmp_path, blob: bytes, diff_id: str, n: int, fmt: str, bad: int = -1) -> str:
    diff_ids = [diff_id] * n
    if bad >= 0:
        diff_ids[bad] = sha256(b"something else")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_bytes = json.dumps(config).encode()
    hexd = sha256(blob).split(":")[1]
    if fmt == "docker":
        manifest = [{"Config": "c.json", "RepoTags": ["x:1"], "Layers": [f"{hexd}.tar"] * n}]
        files = {"manifest.json": json.dumps(manifest).encode(), "c.json": config_bytes}
        files[f"{hexd}.tar"] = blob
        return _write_tar(tmp_path / "many.docker.tar", files)
    oci = OCILayout()
    cdesc = oci.add_blob(config_bytes)
    ldesc = {**oci.add_blob(blob), "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}
    manifest_doc = {"schemaVersion": 2, "config": cdesc, "layers": [ldesc] * n}
    desc = oci.add_blob(json.dumps(manifest_doc).encode())
    oci.tag(desc, "x")
    return oci.write_archive(tmp_path / "many.oci.tar")


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_one_blob_named_as_a_thousand_layers_is_inflated_once(tmp_path, big_layer, fmt):
    blob, diff_id = big_layer
    path = _many_layers(tmp_path, blob, diff_id, 1000, fmt)
    code = """
import anchore
with anchore.open_image(PATH) as image:
    last = image.layers[999]
    result = [len(image.layers), last.stat("/big").size, last.stat("/big").layer_index,
              [e.layer_index for e in image.layers[500].files()],
              len(image.layers[998].read_bytes("/big")), image.layers[0].uncompressed_size]
"""
    out = run_confined(code, seconds=90, memory_mib=2048, watch=[path], PATH=path)
    print(f"1000 x 1 blob ({fmt}): {out.seconds:.2f} s, peak {out.peak_mib:.0f} MiB")
    count, size, layer, files, read, uncompressed = out.assert_no_error()
    assert (count, size, layer, files, read) == (1000, 200 * _MIB, 999, [500], 200 * _MIB)
    assert uncompressed > 200 * _MIB
    assert out.seconds < 45  # the old code inflated 200 GiB here


def test_a_reused_blob_with_another_diff_id_is_a_mismatch(tmp_path, big_layer):
    blob, diff_id = big_layer
    path = _many_layers(tmp_path, blob, diff_id, 5, "oci", bad=3)
    with pytest.raises(DigestMismatchError, match="a layer reusing this blob names") as err:
        anchore.open_image(path)
    assert err.value.expected == sha256(b"something else")


def test_more_layers_than_max_layers_are_refused_before_any_layer_work(tmp_path, big_layer):
    blob, diff_id = big_layer
    path = _many_layers(tmp_path, blob, diff_id, 1001, "oci")
    out = run_confined(OPEN, seconds=30, memory_mib=1024, watch=[path], PATH=path)
    out.assert_raised("LimitExceededError", limit="max_layers", contains="1001 layers")
    assert out.seconds < 10


# ---------------------------------------------------------------- compressed outer archives
def _outer_bomb(path, how: str, size: int) -> str:
    """``docker save | gzip`` (or zstd) of an archive holding one ``size``-byte member of
    zeros: one compressed block of zeros written again and again, so it is built fast."""
    info = tarfile.TarInfo("blobs/sha256/" + "0" * 64)
    info.size = size
    block = 64 * _MIB
    assert size % block == 0
    if how == "gzip":
        head, zeros = gzip.compress(info.tobuf(), 9), gzip.compress(b"\0" * block, 9)
    else:
        zc = zstandard.ZstdCompressor(level=3)
        head, zeros = zc.compress(info.tobuf()), zc.compress(b"\0" * block)
    with open(path, "wb") as out:
        out.write(head)
        for _ in range(size // block):
            out.write(zeros)
    return str(path)


SPOOL_LEFT = """
import os, tempfile, anchore
try:
    anchore.open_image(PATH)
finally:
    left = os.listdir(tempfile.gettempdir())
    assert left == [], left
"""


@pytest.mark.parametrize(("how", "size"), [("zstd", 4 * _GIB), ("gzip", 4 * _GIB)])
def test_a_compressed_outer_archive_bomb_stops_at_the_ratio_check(tmp_path, how, size):
    path = _outer_bomb(tmp_path / f"save.tar.{how}", how, size)
    stored = os.path.getsize(path)
    out = run_confined(SPOOL_LEFT, seconds=60, memory_mib=1024, watch=[path], PATH=path)
    print(f"outer {how} bomb ({stored} bytes -> {size >> 30} GiB): {out.seconds:.2f} s, "
          f"peak {out.peak_mib:.0f} MiB")  # fmt: skip
    out.assert_raised("LimitExceededError", limit="max_compression_ratio", contains=path)
    assert stored < 5 * _MIB
    assert out.seconds < 30  # the old code spooled all 4 GiB to disk first


def test_the_outer_spool_is_bounded_by_max_spool_bytes_and_removed(tmp_path):
    path = _outer_bomb(tmp_path / "save.tar.zst", "zstd", 256 * _MIB)
    code = "import anchore\n" + SPOOL_LEFT.replace(
        "anchore.open_image(PATH)",
        "anchore.open_image(PATH, limits=anchore.Limits(max_spool_bytes=8 << 20))",
    )
    out = run_confined(code, seconds=30, memory_mib=1024, watch=[path], PATH=path)
    out.assert_raised("LimitExceededError", limit="max_spool_bytes", contains="max_spool_bytes=")


def test_a_compressed_outer_archive_within_the_limits_opens(tmp_path):
    built = _base()
    plain = docker_archive(tmp_path / "ok.tar", [(["ok:1"], built)])
    data = open(plain, "rb").read()
    for how, packed in (("gz", gzip.compress(data)), ("zst", zstandard.compress(data))):
        path = tmp_path / f"ok.tar.{how}"
        path.write_bytes(packed)
        with anchore.open_image(str(path)) as image:
            assert image.read_text("/etc/os-release") == "ID=test\n"


# ---------------------------------------------------------------- arguments stay TypeErrors
@pytest.mark.parametrize(
    "kw", [{"platform": 5}, {"platform": ["linux", "amd64"]}, {"tag": 5}, {"limits": {}}]
)
def test_arguments_of_the_wrong_type_are_type_errors_not_anchore_errors(tmp_path, kw):
    path = _layout(tmp_path)
    with pytest.raises(TypeError) as err:
        anchore.open_image(path, **kw)
    assert not isinstance(err.value, anchore.AnchoreError)
