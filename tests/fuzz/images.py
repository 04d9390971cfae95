"""Images as bytes, built fast enough to make one per fuzz input (well under 1 ms).

A minimal ustar writer (no ``tarfile``: it would refuse the odd headers the
layer target feeds it, and costs more than the work under test) and the two
archive layouts the library reads: docker-save and OCI archive. Every layer is
uncompressed, so a layer's digest is its diff_id and nothing is inflated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

BLOCK = 512
END = b"\0" * (2 * BLOCK)


def header(
    name: bytes | str,
    size: int,
    kind: bytes = b"0",
    *,
    mode: int = 0o644,
    linkname: bytes | str = b"",
    uid: int = 0,
    gid: int = 0,
) -> bytes:
    """One ustar header block with a correct checksum."""
    h = bytearray(BLOCK)
    raw = name.encode() if isinstance(name, str) else name
    prefix = b""
    if len(raw) > 100 and b"/" in raw[-100:]:  # ustar prefix/name split
        cut = raw.rfind(b"/", 0, len(raw) - 1)
        while cut > 155:
            cut = raw.rfind(b"/", 0, cut)
        if cut > 0 and len(raw) - cut - 1 <= 100:
            prefix, raw = raw[:cut], raw[cut + 1 :]
    h[0:100] = raw[:100].ljust(100, b"\0")
    h[100:108] = b"%07o\0" % (mode & 0o7777777)
    h[108:116] = b"%07o\0" % uid
    h[116:124] = b"%07o\0" % gid
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 1_700_000_000
    h[156:157] = kind
    link = linkname.encode() if isinstance(linkname, str) else linkname
    h[157:257] = link[:100].ljust(100, b"\0")
    h[257:265] = b"ustar\x0000"
    h[265:269] = b"root"
    h[297:301] = b"root"
    h[345:500] = prefix[:155].ljust(155, b"\0")
    return checksummed(h)


def checksummed(block: bytearray | bytes) -> bytes:
    """``block`` with its checksum field recomputed (as tar does: the field counts as spaces)."""
    h = bytearray(block[:BLOCK].ljust(BLOCK, b"\0"))
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % (sum(h) & 0o777777)
    return bytes(h)


def member(name: bytes | str, data: bytes = b"", kind: bytes = b"0", **kw: object) -> bytes:
    """A header and its data, padded to a block."""
    return header(name, len(data), kind, **kw) + data + b"\0" * (-len(data) % BLOCK)  # type: ignore[arg-type]


def pax(records: dict[str, str] | Sequence[tuple[str, str]], kind: bytes = b"x") -> bytes:
    """A pax extended header (``x``) or global header (``g``) member."""
    items = records.items() if isinstance(records, dict) else records
    body = b""
    for key, value in items:
        rec = f" {key}={value}\n".encode("utf-8", "surrogateescape")
        n = len(rec) + 1
        while len(str(n)) + len(rec) != n:
            n = len(str(n)) + len(rec)
        body += str(n).encode() + rec
    return member("././@PaxHeader", body, kind)


def tar(members: Iterable[tuple[str, bytes] | tuple[str, bytes, int]]) -> bytes:
    """An archive of regular files (name, data[, mode]), with its end blocks."""
    return b"".join(member(m[0], m[1], mode=m[2] if len(m) > 2 else 0o644) for m in members) + END


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def docker_archive(layers: Sequence[bytes], config: dict[str, object] | None = None) -> bytes:
    """A docker-save archive of uncompressed ``layers`` (tar bytes each)."""
    config = dict(config or {"architecture": "amd64", "os": "linux"})
    config["rootfs"] = {"type": "layers", "diff_ids": [f"sha256:{sha256(x)}" for x in layers]}
    config_bytes = json.dumps(config).encode()
    config_name = f"{sha256(config_bytes)}.json"
    names = [f"{sha256(x)}/layer.tar" for x in layers]
    manifest = [{"Config": config_name, "RepoTags": ["fuzz:latest"], "Layers": names}]
    files = [("manifest.json", json.dumps(manifest).encode()), (config_name, config_bytes)]
    return tar([*files, *zip(names, layers, strict=True)])
