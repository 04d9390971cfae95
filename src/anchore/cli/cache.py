"""The ``cache`` commands: what the blob cache of pulled images holds, and pruning it.

``anchore cache info`` prints where the cache is, how many blobs and bytes it holds;
``anchore cache prune [--max-size SIZE]`` removes the least recently used blobs until
at most SIZE remain (all of them without ``--max-size``). Blobs a pull is writing at
that moment, and blobs an open image reads (in any process), are left alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from anchore.cli import output
from anchore.display import human_size
from anchore.errors import ExitCode
from anchore.registry import RegistryOptions
from anchore.registry.cache import BlobCache

__all__ = ["add_parsers", "parse_size"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """``5G``, ``500M``, ``1.5GiB``, ``1048576``: bytes (the units are binary: K is
    1024). A bad spelling is a usage error, as argparse reports its own."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size: a number of bytes, or with K, M, G or T (5G, 500M)"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _cache(args: argparse.Namespace) -> BlobCache:
    return BlobCache(RegistryOptions(cache_dir=args.cache_dir).cache_path())


def cmd_info(args: argparse.Namespace) -> ExitCode:
    cache = _cache(args)
    blobs, size = cache.usage()
    if output.output_format(args) == "json":
        json.dump({"location": str(cache.root), "blobs": blobs, "bytes": size}, sys.stdout)
        print()
    else:
        print(f"location: {cache.root}")
        print(f"blobs:    {blobs}")
        print(f"bytes:    {size} ({human_size(size)})")
    return ExitCode.OK


def cmd_prune(args: argparse.Namespace) -> ExitCode:
    cache = _cache(args)
    removed, freed = cache.prune(args.max_size)
    blobs, size = cache.usage()
    if output.output_format(args) == "json":
        print(json.dumps({"location": str(cache.root), "removed": removed, "freed": freed,
                          "blobs": blobs, "bytes": size}))  # fmt: skip
        return ExitCode.OK
    print(
        f"removed {removed} blobs ({human_size(freed)}); {blobs} blobs ({human_size(size)}) remain "
        f"in {cache.root}"
    )
    return ExitCode.OK


def _cache_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the blob cache (default: $ANCHORE_CACHE_DIR, else ~/.cache/anchore/blobs)",
    )


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "cache",
        help="the blob cache of images pulled from registries",
        description="The blobs (manifests, configs, layers) of pulled images are kept by "
        "digest, so a second pull downloads nothing; see docs/registries.md.",
    )
    cache_sub = p.add_subparsers(dest="cache_command", required=True)
    info = cache_sub.add_parser("info", help="where the cache is, how many blobs and bytes")
    _cache_dir(info)
    output.output_arg(info)  # json: location, blobs, bytes
    info.set_defaults(func=cmd_info)
    prune = cache_sub.add_parser(
        "prune",
        help="remove the least recently used blobs",
        description="Remove the least recently used blobs until at most --max-size remain "
        "(without it: every blob no pull is writing and no open image reads). Left-overs "
        "of pulls that died a day ago go too.",
    )
    _cache_dir(prune)
    prune.add_argument(
        "--max-size",
        type=parse_size,
        default=0,
        metavar="SIZE",
        help="keep at most this much: bytes, or with K, M, G or T (binary: 5G is 5 GiB)",
    )
    output.output_arg(prune)  # json: location, removed, freed, blobs, bytes
    prune.set_defaults(func=cmd_prune)
