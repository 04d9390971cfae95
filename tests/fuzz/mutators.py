"""Structure-aware mutations: byte flips rarely get past a tar checksum or a JSON parser.

Each mutator takes (data, rng, max_size) and returns new bytes. They change
what the parser sees in the ways hostile images do: a JSON value of another
type, nesting thousands deep, an element repeated thousands of times (fan-out);
a tar header field set to base-256, negative or huge numbers, a pax record, a
member repeated; a text line repeated, continued or made very long. The byte
mutations of libFuzzer (or :func:`flip`) do the rest.
"""

from __future__ import annotations

import io
import json
import random
import re
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from fuzz import images

Mutator = Callable[[bytes, random.Random, int], bytes]

#: values that break assumptions: types, signs, sizes, paths, encodings
TOKENS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**63,
    -(2**63),
    2**64 + 1,
    1e308,
    -0.0,
    10**40,
    "",
    "/",
    "./",
    ".",
    "..",
    "../../etc/passwd",
    "\x00",
    "\udcff",
    "é",
    "a" * 300,
    "sha256:",
    "sha256:" + "0" * 64,
    "sha512:" + "f" * 128,
    "md5:x",
    "-1",
    "NaN",
    "linux",
    "amd64",
    "arm",
    "v7",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    [],
    {},
    [1],
    {"a": 1},
    [[[]]],
    ["x"] * 3,
    {"": ""},
    {"__proto__": {}},
]


# ---------------------------------------------------------------- bytes


def times(rng: random.Random, counts: tuple[int, ...], unit: int, max_size: int) -> int:
    """A repeat count from ``counts``, no more than ``max_size`` bytes of ``unit``-byte copies
    need (the mutator must not itself be the memory bomb)."""
    return max(1, min(rng.choice(counts), max_size // max(1, unit) + 1))


def flip(data: bytes, rng: random.Random, max_size: int) -> bytes:
    """A few random byte edits (the fallback where atheris' own mutator is not at hand)."""
    buf = bytearray(data or b"\0")
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(at, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[at:at] = bytes([rng.choice(b'\0\xff\n :="{[<-/.0')]) * rng.choice((1, 2, 8, 100))
        elif op == 2 and buf:
            del buf[at : at + rng.randint(1, 64)]
        elif op == 3 and buf:
            start = rng.randrange(len(buf))
            chunk = buf[start : start + rng.randint(1, 256)]
            buf[at:at] = chunk * times(rng, (1, 2, 16, 500), len(chunk), max_size)
        elif op == 4 and buf:
            buf[min(at, len(buf) - 1)] ^= 1 << rng.randrange(8)
    return bytes(buf[:max_size])


# ---------------------------------------------------------------- JSON


def _nodes(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _nodes(v, (*path, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _deep(value: Any, rng: random.Random) -> str:
    """``value`` nested thousands deep, as text (json.dumps would itself recurse too far)."""
    depth = rng.choice((65, 100, 1000, 5000, 50_000))
    if rng.random() < 0.5:
        return "[" * depth + json.dumps(value) + "]" * depth
    return '{"a":' * depth + json.dumps(value) + "}" * depth


def mutate_json(keys: list[str] = (), tokens: list[Any] = ()) -> Mutator:  # type: ignore[assignment]
    """A JSON-aware mutator; ``keys`` and ``tokens`` are the document kind's own vocabulary."""
    vocabulary = list(TOKENS) + list(tokens)

    def mutate(data: bytes, rng: random.Random, max_size: int) -> bytes:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            return flip(data, rng, max_size)
        paths = _nodes(doc)
        path = rng.choice(paths)
        node = _get(doc, path)
        strings = [_get(doc, p) for p in paths if isinstance(_get(doc, p), str)]
        op = rng.randrange(9)
        if op == 0:  # a value of another type
            doc = _set(doc, path, rng.choice(vocabulary))
        elif op == 1 and isinstance(node, list) and node:  # fan-out
            doc = _set(
                doc,
                path,
                node
                + [rng.choice(node)]
                * times(rng, (2, 10, 1000, 20_000), len(data) // len(paths), max_size),
            )
        elif op == 2 and isinstance(node, dict):  # a known key, any value
            key = rng.choice(list(keys) or list(node) or ["a"])
            node[key] = rng.choice(vocabulary + strings[:20] + [node])
        elif op == 3 and isinstance(node, (dict, list)) and node:  # drop one
            del node[rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))]
        elif op == 4 and path:  # nest deeply
            marker = "\x00DEEP\x00"
            inner = _get(doc, path)
            doc = _set(doc, path, marker)
            text = json.dumps(doc).replace(json.dumps(marker), _deep(inner, rng), 1)
            return text.encode()[:max_size]
        elif op == 5 and isinstance(node, str):  # long or odd strings
            doc = _set(
                doc,
                path,
                rng.choice(
                    (
                        node * times(rng, (2, 100, 5000), len(node), max_size),
                        node + "\n" * 1000,
                        rng.choice(strings) if strings else "",
                        node[::-1],
                        node.replace("/", "/../"),
                        "\x00" + node,
                    )
                ),
            )
        elif op == 6 and isinstance(node, (int, float)) and not isinstance(node, bool):
            doc = _set(doc, path, rng.choice((-node, node * 2**40, -1, 0, str(node), [node])))
        elif op == 7 and isinstance(node, dict) and node:  # copy a sibling's value under a key
            a, b = rng.choice(list(node)), rng.choice(list(node))
            node[a] = node[b]
        else:
            doc = _set(doc, path, rng.choice(vocabulary + strings[:20]))
        try:
            text = json.dumps(doc, ensure_ascii=rng.random() < 0.5, allow_nan=True)
        except (ValueError, RecursionError):
            return flip(data, rng, max_size)
        return text.encode("utf-8", "surrogatepass")[:max_size]

    return mutate


# ---------------------------------------------------------------- text


def mutate_text(tokens: list[str] = ()) -> Mutator:  # type: ignore[assignment]
    """A line-aware mutator for text databases (dpkg, apk, METADATA, lock files, XML, TOML)."""
    words = [
        "",
        " ",
        "\t",
        ":",
        "=",
        "/",
        "..",
        "-1",
        "99999999999999999999",
        "\x00",
        "\\",
        '"',
        "'",
        "[",
        "{",
        "<",
        "${x}",
        "%s",
        "é",
        "\ufeff",
        "a" * 1000,
        " " * 1000,
        "-" * 5000,
        "=" * 5000,
        "@" * 3000,
        "<![CDATA[",
        "<!ENTITY x 'y'>",
        "&x;",
        "- ",
        "? ",
        "*a",
        "&a",
    ] + list(tokens)

    own = [t.encode("utf-8", "surrogatepass") for t in tokens] or [b"/"]
    every = [w.encode("utf-8", "surrogatepass") for w in words]
    field = re.compile(rb"^\s*[\w.-]+\s*[:=]")

    def mutate(data: bytes, rng: random.Random, max_size: int) -> bytes:
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        line = lines[i]
        op = rng.randrange(11)
        if op >= 8:  # a field's value: the format's own words, or any
            fields = [j for j, x in enumerate(lines[:5000]) if field.match(x)]
            if fields:
                i = rng.choice(fields)
                key = field.match(lines[i]).group(0)  # type: ignore[union-attr]
                value = rng.choice(own if rng.random() < 0.5 else every)
                lines[i] = key + value.split(b":", 1)[-1] if value[:1].isalpha() else key + value
        elif op == 0:  # a line repeated
            lines[i:i] = [line] * times(rng, (2, 100, 10_000, 100_000), len(line) + 1, max_size)
        elif op == 1:  # continuation lines
            lines[i + 1 : i + 1] = [b" " + line.lstrip()[:40] or b" ."] * times(
                rng, (100, 50_000), 42, max_size
            )
        elif op == 2:  # a very long line
            lines[i] = line + (line[-20:] or b"x") * times(rng, (50, 5000, 60_000), 20, max_size)
        elif op == 3:  # a value replaced
            sep = max(line.find(b":"), line.find(b"="), line.find(b" "))
            word = rng.choice(words).encode("utf-8", "surrogatepass")
            lines[i] = (line[: sep + 1] if sep >= 0 else b"") + word
        elif op == 4:
            del lines[i]
        elif op == 5:  # a line from elsewhere
            lines.insert(i, rng.choice(lines))
        elif op == 6:  # nesting
            opener = rng.choice((b"[", b"{", b"<a>", b"- ", b"  ", b"(")) * times(
                rng, (100, 3000, 30_000), 3, max_size
            )
            lines.insert(i, opener)
        else:
            lines[i] = rng.choice(words).encode("utf-8", "surrogatepass") + line
        return b"\n".join(lines)[:max_size]

    return mutate


# ---------------------------------------------------------------- tar


def headers(data: bytes) -> list[int]:
    """Offsets of the header blocks, following the sizes as a tolerant reader would."""
    found, at = [], 0
    while at + images.BLOCK <= len(data) and len(found) < 10_000:
        block = data[at : at + images.BLOCK]
        if block == b"\0" * images.BLOCK:
            break
        found.append(at)
        try:
            size = int(block[124:136].strip(b"\0 ") or b"0", 8)
        except ValueError:
            size = 0
        at += images.BLOCK + (size + images.BLOCK - 1) // images.BLOCK * images.BLOCK
    return found


NAMES = [
    b"./",
    b"",
    b"/",
    b".",
    b"..",
    b"../x",
    b"a/../../b",
    b".wh..wh..opq",
    b"etc/.wh.passwd",
    b".wh.etc",
    b"etc/.wh..wh..opq",
    b"etc/passwd",
    b"./etc",
    b"usr/bin/su",
    b"a" * 100,
    b"a/" * 50,
    b"\xff\xfe",
    b"x\x00y",
    b"//etc//passwd",
    b"etc/passwd/",
    b"lib",
]


def _number(rng: random.Random, width: int) -> bytes:
    """A numeric tar field: octal, base-256 (+/-), huge, garbage."""
    choice = rng.randrange(7)
    if choice == 0:
        return b"\xff" * width  # base-256, all ones (-1)
    if choice == 1:
        return b"\x80" + b"\0" * (width - 2) + bytes([rng.randrange(256)])
    if choice == 2:
        return b"\x80" + b"\xff" * (width - 1)  # base-256, huge positive
    if choice == 3:
        return (b"%o" % rng.choice((0, 1, 0o7777, 0o4755, 0o170000, 8 ** (width - 1) - 1))).rjust(
            width - 1, b"0"
        ) + b"\0"
    if choice == 4:
        return b"-1".ljust(width, b"\0")
    if choice == 5:
        return b" " * width
    return bytes(rng.randrange(256) for _ in range(width))


PAX_KEYS = [
    "path",
    "linkpath",
    "size",
    "uid",
    "gid",
    "mtime",
    "uname",
    "SCHILY.xattr.security.capability",
    "GNU.sparse.size",
    "GNU.sparse.map",
    "GNU.sparse.name",
    "GNU.sparse.major",
    "comment",
    "hdrcharset",
]
PAX_VALUES = [
    "",
    "-1",
    "-512",
    "0",
    "1",
    "99999999999999999999",
    "./",
    "/",
    "..",
    "a" * 5000,
    "1e9",
    "0,1,2",
    "\udcff",
    "nan",
]


def mutate_tar(data: bytes, rng: random.Random, max_size: int) -> bytes:
    """Edit a member's header fields, add pax records, repeat members; then (mostly) make
    every header's checksum right again, so that the reader looks further than the checksum."""
    out = _mutate_tar(data, rng, max_size)
    if rng.random() < 0.9:
        buf = bytearray(out)
        for at in headers(out):
            buf[at : at + images.BLOCK] = images.checksummed(buf[at : at + images.BLOCK])
        out = bytes(buf)
    return out


def _mutate_tar(data: bytes, rng: random.Random, max_size: int) -> bytes:
    offsets = headers(data)
    if not offsets:
        return flip(data, rng, max_size)
    at = rng.choice(offsets)
    block = bytearray(data[at : at + images.BLOCK])
    op = rng.randrange(9)
    fields = {
        "mode": (100, 8),
        "uid": (108, 8),
        "gid": (116, 8),
        "size": (124, 12),
        "mtime": (136, 12),
    }
    if op <= 1:
        start, width = rng.choice(list(fields.values()))
        block[start : start + width] = _number(rng, width)
    elif op == 2:
        block[156:157] = bytes([rng.choice(b"0123456x gLKS7DMV\0")])
    elif op == 3:
        block[0:100] = rng.choice(NAMES)[:100].ljust(100, b"\0")
        block[345:500] = b"\0" * 155
    elif op == 4:
        block[157:257] = rng.choice(NAMES)[:100].ljust(100, b"\0")
    elif op == 5:  # a pax header before this member
        n = rng.choice((1, 3, 30, 20_000))
        records = [(rng.choice(PAX_KEYS), rng.choice(PAX_VALUES)) for _ in range(min(n, 3))]
        if n > 3:
            records += [(f"k{i}", "v") for i in range(n)]
        extra = images.pax(records, rng.choice((b"x", b"g")))
        return (data[:at] + extra + data[at:])[:max_size]
    elif op == 6:  # this member repeated
        end = offsets[offsets.index(at) + 1] if at != offsets[-1] else len(data) - len(images.END)
        chunk = data[at:end]
        return (data[:at] + chunk * times(rng, (2, 100, 5000), len(chunk), max_size) + data[at:])[
            :max_size
        ]
    elif op == 7:  # a whiteout or opaque member
        extra = images.member(
            rng.choice(NAMES), b"", rng.choice((b"0", b"5", b"2", b"1")), linkname=rng.choice(NAMES)
        )
        return (data[:at] + extra * times(rng, (1, 1, 1000), len(extra), max_size) + data[at:])[
            :max_size
        ]
    else:
        return flip(data, rng, max_size)
    return (data[:at] + bytes(block) + data[at + images.BLOCK :])[:max_size]


# ---------------------------------------------------------------- zip (jars)


def mutate_zip(text: Mutator) -> Mutator:
    """Rewrite a jar: an entry's text mutated, the jar nested in itself, entries repeated."""

    def mutate(data: bytes, rng: random.Random, max_size: int) -> bytes:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                entries = [(i.filename, zf.read(i)) for i in zf.infolist()[:200]]
        except Exception:
            return flip(data, rng, max_size)
        if not entries:
            return flip(data, rng, max_size)
        op = rng.randrange(5)
        i = rng.randrange(len(entries))
        if op == 0:
            name, body = entries[i]
            entries[i] = (name, text(body, rng, 256 * 1024))
        elif op == 1:  # nested: the jar inside itself, at a few depths
            for _ in range(rng.choice((1, 2, 6))):
                entries.append((f"BOOT-INF/lib/n{rng.randrange(99)}.jar", _zip(entries, rng)))
        elif op == 2:
            entries += [entries[i]] * rng.choice((2, 50))
        elif op == 3:
            entries[i] = (rng.choice(NAMES).decode("latin-1") or "x", entries[i][1])
        else:
            return flip(data, rng, max_size)
        return _zip(entries, rng)[:max_size]

    return mutate


def _zip(entries: list[tuple[str, bytes]], rng: random.Random) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if rng.random() < 0.5 else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        for name, body in entries:
            zf.writestr(name, body)
    return out.getvalue()


# ---------------------------------------------------------------- combinations


def either(*choices: Mutator) -> Mutator:
    def mutate(data: bytes, rng: random.Random, max_size: int) -> bytes:
        return rng.choice(choices)(data, rng, max_size)

    return mutate


def documents(sep: bytes, inner: Mutator) -> Mutator:
    """Mutate one document of several joined by ``sep`` (an image's manifest, index, config)."""

    def mutate(data: bytes, rng: random.Random, max_size: int) -> bytes:
        docs = data.split(sep)
        i = rng.randrange(len(docs))
        if rng.random() < 0.1 and len(docs) < 12:  # a document repeated: a new blob to point to
            docs.append(docs[i])
        else:
            docs[i] = inner(docs[i], rng, max_size)
        return sep.join(docs)[:max_size]

    return mutate
