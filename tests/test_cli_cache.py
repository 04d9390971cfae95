"""The ``cache`` commands on a real BlobCache in tmp: info, prune least recently used
first, sizes as the command line spells them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from anchore.cli import main
from anchore.cli.cache import parse_size
from anchore.errors import ExitCode
from anchore.registry.cache import BlobCache


@pytest.mark.parametrize(
    ("text", "size"),
    [("0", 0), ("1048576", 1048576), ("5G", 5 * 1024**3), ("500M", 500 * 1024**2),
     ("1.5GiB", 3 * 1024**3 // 2), ("10kb", 10240), ("2T", 2 * 1024**4)],
)  # fmt: skip
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def _blob(cache: BlobCache, data: bytes, age: float) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = cache.store(digest, data)
    then = os.stat(path).st_mtime - age
    os.utime(path, (then, then))
    return digest


def test_cache_info_and_prune_least_recently_used_first(tmp_path: Path, capsys) -> None:
    root = tmp_path / "blobs"
    cache = BlobCache(root)
    old = _blob(cache, b"o" * 3000, age=3000)
    middle = _blob(cache, b"m" * 2000, age=2000)
    new = _blob(cache, b"n" * 1000, age=1000)
    assert main(["cache", "info", "--cache-dir", str(root), "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out) == {
        "location": str(root), "blobs": 3, "bytes": 6000}  # fmt: skip

    assert main(["cache", "prune", "--cache-dir", str(root), "--max-size", "3500"]) == 0
    out = capsys.readouterr().out
    assert "removed 1 blobs" in out and "2 blobs" in out
    assert cache.lookup(old) is None
    assert cache.lookup(middle) and cache.lookup(new)

    assert main(["cache", "prune", "--cache-dir", str(root), "-o", "json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out) == {
        "location": str(root), "removed": 2, "freed": 3000, "blobs": 0, "bytes": 0}  # fmt: skip
    assert BlobCache(root).usage() == (0, 0)
    assert main(["cache", "info", "--cache-dir", str(root)]) == ExitCode.OK
    text = capsys.readouterr().out
    assert f"location: {root}" in text and "blobs:    0" in text


def test_cache_dir_defaults_to_anchore_cache_dir(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ANCHORE_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert main(["cache", "info", "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["location"] == str(tmp_path / "elsewhere")


def test_a_bad_size_is_a_usage_error(capsys) -> None:
    assert main(["cache", "prune", "--max-size", "5X"]) == ExitCode.USAGE_ERROR
    assert "'5X' is not a size" in capsys.readouterr().err
