"""The fuzz targets: each feeds one input to a public entry point as an image would deliver it.

A target is ``run(data)``: it builds a small image around ``data`` (the layer,
the image documents, or a package database at its usual path), opens it with
:func:`anchore.open_image` and analyzes it with :func:`anchore.analyze`, and
raises :class:`Violation` when the library breaks its contract:

- a public call raises anything but an :class:`anchore.errors.AnchoreError`;
- an analyzer fails as a whole (``failed_analyzers``): one bad record or file
  must cost only itself;
- an error entry carries a raw exception (``TypeError: ...``) instead of plain
  words naming the file and the problem.

A hang or a runaway allocation is caught by the runner (``run.py``: libFuzzer's
``-timeout`` and ``-rss_limit_mb``) and by the regression test (a confined
subprocess). Targets need no atheris: the regression test runs them as they are.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import random
import re
import shutil
import sqlite3
import struct
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anchore
from anchore.errors import AnchoreError
from fuzz import images, mutators
from fuzz.mutators import Mutator

ROOT = Path(__file__).resolve().parents[2]
SYFT = ROOT / "tests" / "data" / "syft-testdata" / "syft" / "pkg" / "cataloger"
FIXTURES = ROOT / "tests" / "fixtures"
#: between the documents of one input (manifest, config, index, blobs)
SEP = b"\n%%\n"


class Violation(AssertionError):
    """The library broke its contract on this input; ``signature`` groups equal bugs."""

    def __init__(self, kind: str, signature: str, detail: str) -> None:
        super().__init__(f"{kind}: {signature}\n{detail}")
        self.kind = kind
        self.signature = signature
        self.detail = detail


@dataclass
class Target:
    name: str
    #: what the input is, and whose code reads it
    doc: str
    run: Callable[[bytes], None]
    seeds: Callable[[], list[bytes]]
    mutate: Mutator
    #: libFuzzer's -max_len: inputs longer than this are cut
    max_len: int = 256 * 1024
    area: str = ""


TARGETS: dict[str, Target] = {}


def target(
    name: str,
    doc: str,
    area: str,
    seeds: Callable[[], list[bytes]],
    mutate: Mutator,
    max_len: int = 256 * 1024,
) -> Callable[[Callable[[bytes], None]], Callable[[bytes], None]]:
    def register(run: Callable[[bytes], None]) -> Callable[[bytes], None]:
        TARGETS[name] = Target(name, doc, run, seeds, mutate, max_len, area)
        return run

    return register


# ---------------------------------------------------------------- contract checks


def _where(exc: BaseException) -> str:
    """Exception class and the innermost frame in anchore (else the innermost at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/anchore/" in f.filename] or frames
    at = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
    return f"{type(exc).__name__} at {at}"


def _untyped(exc: BaseException, step: str) -> Violation:
    detail = "".join(traceback.format_exception(exc)[-12:])
    return Violation("untyped", f"{step}: {_where(exc)}", detail)


#: an error entry that shows a raw exception instead of saying what was wrong
RAW = re.compile(
    r"(?:^|: )((?:[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)|KeyError|StopIteration|BadZipFile"
    r"|error|timeout)): "
)

#: whether error entries must be plain words (the kit's ``problem()``); off while it is not in place
PLAIN_MESSAGES = os.environ.get("ANCHORE_FUZZ_PLAIN", "1") != "0"


def check_analysis(analysis: anchore.Analysis) -> None:
    for name in analysis.failed_analyzers:
        messages = [e.message for e in analysis.errors if e.analyzer == name]
        head = re.sub(r"\d+", "N", (messages or ["?"])[0][:80])
        raise Violation("analyzer-failed", f"{name}: {head}", "\n".join(messages)[:4000])
    if PLAIN_MESSAGES:
        for error in analysis.errors:
            m = RAW.search(error.message)
            if m:
                raise Violation(
                    "raw-message", f"{error.analyzer}: {m.group(1)}", error.message[:4000]
                )


_TMP: str | None = None


def scratch() -> str:
    """A private directory for the images: the runner's (in memory, removed by it), else a
    temporary one removed at exit."""
    global _TMP
    if _TMP is None:
        _TMP = os.environ.get("ANCHORE_FUZZ_SCRATCH") or tempfile.mkdtemp(prefix="anchore-fuzz-")
        if not os.environ.get("ANCHORE_FUZZ_SCRATCH"):
            atexit.register(shutil.rmtree, _TMP, True)
    return _TMP


def open_and_walk(archive: bytes, analyzers: list[str], *, expect_open: bool = False) -> None:
    """Write ``archive``, open it, walk and read it, analyze it: only AnchoreErrors may escape."""
    path = os.path.join(scratch(), f"image-{os.getpid()}.tar")  # targets may run side by side
    with open(path, "wb") as fh:
        fh.write(archive)
    try:
        image = anchore.open_image(path)
    except AnchoreError as exc:
        if expect_open:  # the harness built a valid image: it must open
            raise _untyped(exc, "open (a valid image)") from exc
        return
    except Exception as exc:
        raise _untyped(exc, "open_image") from exc
    with image:
        try:
            entries = list(image.files())
            for layer in image.layers:
                layer.to_dict()
                list(layer.files())
                layer.whiteouts  # noqa: B018
            files = [e for e in entries if e.is_file][:200]
            for _ in image.read_many(files):
                pass
            for entry in entries[:50]:
                image.realpath(entry.path)
            if len(image.layers) > 1:
                list(image.squashed(0).files())
        except AnchoreError:
            pass
        except Exception as exc:
            raise _untyped(exc, "reading") from exc
        try:
            analysis = anchore.analyze(image, analyzers=analyzers, workers=1)
        except AnchoreError:
            return
        except Exception as exc:
            raise _untyped(exc, "analyze") from exc
        try:
            analysis.to_dict()
        except Exception as exc:
            raise _untyped(exc, "to_dict") from exc
    check_analysis(analysis)


# ---------------------------------------------------------------- the layer reader


BASE_LAYER = images.tar(
    [
        ("etc/os-release", b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n'),
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
        (
            "var/lib/dpkg/status",
            (SYFT / "debian/testdata/var/lib/dpkg/status.d/single").read_bytes()
            if (SYFT / "debian").exists()
            else b"",
        ),
        ("usr/bin/su", b"\x7fELF"),
        ("etc/ssl/a", b"x"),
    ]
)


def _layer_seeds() -> list[bytes]:
    m = images.member
    seeds = [
        images.tar(
            [("etc/passwd", b"root:x:0:0::/:/bin/sh\nx:x:1:1::/:/bin/sh\n"), ("a/b/c", b"1")]
        ),
        m("etc/", kind=b"5", mode=0o755)
        + m("etc/.wh.passwd")
        + m("usr/bin/su", b"x", mode=0o4755)
        + m("etc/ssl/.wh..wh..opq")
        + m("tmp/", kind=b"5", mode=0o1777)
        + images.END,
        m("bin", kind=b"2", linkname="usr/bin")
        + m("lib/x", kind=b"2", linkname="../../../etc/passwd")
        + m("h", kind=b"1", linkname="etc/passwd")
        + m("loop", kind=b"2", linkname="loop")
        + images.END,
        images.pax({"path": "long/" * 40 + "name", "uid": "5", "mtime": "1.5"})
        + m("x", b"data")
        + images.pax({"comment": "c"}, b"g")
        + m("y", b"1" * 700)
        + images.END,
        m("dev/null", kind=b"3")
        + m("fifo", kind=b"6")
        + m("var/lib/dpkg/.wh.status")
        + m("./", kind=b"5")
        + images.END,
    ]
    return seeds


@target(
    "layer",
    "a layer tar (above a fixed base layer) of a docker-save archive",
    "B (tarstream/filetree)",
    _layer_seeds,
    mutators.either(mutators.mutate_tar, mutators.mutate_tar, mutators.flip),
)
def fuzz_layer(data: bytes) -> None:
    open_and_walk(images.docker_archive([BASE_LAYER, data]), ["file-permissions", "dpkg"])


# ---------------------------------------------------------------- image documents


_PLACEHOLDER = re.compile(rb'"<size:(\d+|L)>"|<(sha|hex):(\d+|L)>')
LAYER = images.tar([("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.0\n"), ("bin/sh", b"x")])


def resolve(docs: list[bytes]) -> list[bytes]:
    """Fill in ``<sha:N>``, ``<hex:N>`` and ``"<size:N>"``: the digest and size of document N
    (``L``: the layer). Filled last to first, so a document may point at a later one;
    a pointer back (or at itself) takes the unfilled document's digest."""
    out = list(docs)
    digests: dict[bytes, tuple[str, int]] = {b"L": (images.sha256(LAYER), len(LAYER))}

    def fill(m: re.Match[bytes]) -> bytes:
        key = m.group(1) or m.group(3)
        if key not in digests:  # a pointer back: the unfilled document's digest, hashed once
            digests[key] = (images.sha256(docs[min(int(key), len(docs) - 1)]), 0)
        hexdigest, size = digests[key]
        if m.group(1):
            return str(size).encode()
        return (b"sha256:" if m.group(2) == b"sha" else b"") + hexdigest.encode()

    for i in range(len(docs) - 1, -1, -1):
        out[i] = _PLACEHOLDER.sub(fill, docs[i])
        digests[str(i).encode()] = (images.sha256(out[i]), len(out[i]))
    return out


CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "Env": ["PATH=/bin"],
        "Cmd": ["/bin/sh"],
        "Labels": {"a": "b"},
        "User": "1000",
        "ExposedPorts": {"80/tcp": {}},
        "Healthcheck": {"Test": ["CMD", "true"]},
    },
    "rootfs": {"type": "layers", "diff_ids": ["<sha:L>"]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file"}],
}
DOCKER_KEYS = [
    "Config",
    "Layers",
    "RepoTags",
    "LayerSources",
    "mediaType",
    "size",
    "digest",
    "architecture",
    "os",
    "variant",
    "rootfs",
    "diff_ids",
    "history",
    "config",
    "created",
    "created_by",
    "empty_layer",
    "Env",
    "Labels",
    "User",
    "Healthcheck",
]
OCI_KEYS = [
    "schemaVersion",
    "mediaType",
    "manifests",
    "layers",
    "config",
    "digest",
    "size",
    "platform",
    "architecture",
    "os",
    "variant",
    "os.version",
    "os.features",
    "annotations",
    "org.opencontainers.image.ref.name",
    "io.containerd.image.name",
    "urls",
    "subject",
    "artifactType",
    "imageLayoutVersion",
    "rootfs",
    "diff_ids",
    "history",
]
REFS = [
    "<sha:1>",
    "<sha:2>",
    "<sha:3>",
    "<sha:4>",
    "<sha:5>",
    "<sha:L>",
    "<hex:1>.json",
    "<hex:L>/layer.tar",
    "<size:2>",
    "<size:L>",
]


def _corpus_documents(fmt: str) -> list[list[bytes]]:
    """The real corpus images' own documents, as seeds, when the corpus is built."""
    corpus = Path(os.environ.get("ANCHORE_CORPUS", Path.home() / ".cache" / "anchore-test-images"))
    out = []
    for name in ("debian-min", "debian-py"):
        path = corpus / f"{name}.{fmt}.tar"
        if not path.exists():
            continue
        try:
            import tarfile

            with tarfile.open(path) as tf:
                members = {m.name: m for m in tf.getmembers() if m.size < 1_000_000 and m.isfile()}
                if fmt == "docker":
                    manifest = json.loads(tf.extractfile(members["manifest.json"]).read())  # type: ignore[union-attr]
                    config = json.loads(tf.extractfile(members[manifest[0]["Config"]]).read())  # type: ignore[union-attr]
                    config["rootfs"]["diff_ids"] = ["<sha:L>"]
                    manifest[0].update(Config="<hex:1>.json", Layers=["<hex:L>/layer.tar"])
                    out.append([json.dumps(manifest).encode(), json.dumps(config).encode()])
                else:
                    index = json.loads(tf.extractfile(members["index.json"]).read())  # type: ignore[union-attr]
                    d = index["manifests"][0]["digest"].split(":")[1]
                    manifest = json.loads(tf.extractfile(members[f"blobs/sha256/{d}"]).read())  # type: ignore[union-attr]
                    c = manifest["config"]["digest"].split(":")[1]
                    config = json.loads(tf.extractfile(members[f"blobs/sha256/{c}"]).read())  # type: ignore[union-attr]
                    config["rootfs"]["diff_ids"] = ["<sha:L>"]
                    manifest["config"].update(digest="<sha:3>", size="<size:3>")
                    manifest["layers"] = [
                        dict(
                            manifest["layers"][0],
                            digest="<sha:L>",
                            size="<size:L>",
                            mediaType="application/vnd.oci.image.layer.v1.tar",
                        )
                    ]
                    index["manifests"][0].update(digest="<sha:2>", size="<size:2>")
                    out.append(
                        [
                            b'{"imageLayoutVersion": "1.0.0"}',
                            json.dumps(index).encode(),
                            json.dumps(manifest).encode(),
                            json.dumps(config).encode(),
                        ]
                    )
        except (OSError, KeyError, ValueError, IndexError, TypeError):
            continue
    return out


def _docker_seeds() -> list[bytes]:
    manifest = [{"Config": "<hex:1>.json", "RepoTags": ["fuzz:1"], "Layers": ["<hex:L>/layer.tar"]}]
    two = [*manifest, {"Config": "<hex:1>.json", "RepoTags": ["fuzz:2"], "Layers": []}]
    seeds = [
        [json.dumps(manifest).encode(), json.dumps(CONFIG).encode()],
        [json.dumps(two).encode(), json.dumps(CONFIG).encode(), b'{"fuzz": {"1": "x"}}'],
    ]
    return [SEP.join(docs) for docs in seeds + _corpus_documents("docker")]


@target(
    "docker_archive",
    "docker-save documents: manifest.json, the config, extra blobs (<hex:N>.json)",
    "A (image documents)",
    _docker_seeds,
    mutators.documents(
        SEP, mutators.either(mutators.mutate_json(DOCKER_KEYS, REFS), mutators.flip)
    ),
)
def fuzz_docker_archive(data: bytes) -> None:
    docs = resolve(data.split(SEP))
    members = [("manifest.json", docs[0])]
    members += [(f"{images.sha256(doc)}.json", doc) for doc in docs[1:]]
    if len(docs) > 2:
        members.append(("repositories", docs[-1]))
    members.append((f"{images.sha256(LAYER)}/layer.tar", LAYER))
    open_and_walk(images.tar(members), ["distro"])


def _oci_seeds() -> list[bytes]:
    layer = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar",
        "digest": "<sha:L>",
        "size": "<size:L>",
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "<sha:3>",
            "size": "<size:3>",
        },
        "layers": [layer],
    }
    entry = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "<sha:2>",
        "size": "<size:2>",
        "platform": {"architecture": "amd64", "os": "linux"},
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }
    index = {"schemaVersion": 2, "manifests": [entry]}
    nested = {
        "schemaVersion": 2,
        "manifests": [
            dict(
                entry,
                digest="<sha:4>",
                size="<size:4>",
                mediaType="application/vnd.oci.image.index.v1+json",
            )
        ],
    }
    layout = b'{"imageLayoutVersion": "1.0.0"}'
    seeds = [
        [
            layout,
            json.dumps(index).encode(),
            json.dumps(manifest).encode(),
            json.dumps(CONFIG).encode(),
        ],
        [
            layout,
            json.dumps(nested).encode(),
            json.dumps(manifest).encode(),
            json.dumps(CONFIG).encode(),
            json.dumps(index).encode(),
        ],
    ]
    return [SEP.join(docs) for docs in seeds + _corpus_documents("oci")]


@target(
    "oci_archive",
    "OCI archive documents: oci-layout, index.json, then blobs (manifests, indexes, configs)",
    "A (image documents)",
    _oci_seeds,
    mutators.documents(SEP, mutators.either(mutators.mutate_json(OCI_KEYS, REFS), mutators.flip)),
)
def fuzz_oci_archive(data: bytes) -> None:
    docs = resolve(data.split(SEP))
    members = [("oci-layout", docs[0])] if docs[0].strip() else []
    if len(docs) > 1:
        members.append(("index.json", docs[1]))
    members += [(f"blobs/sha256/{images.sha256(doc)}", doc) for doc in dict.fromkeys(docs[2:])]
    members.append((f"blobs/sha256/{images.sha256(LAYER)}", LAYER))
    open_and_walk(images.tar(members), ["distro"])


# ---------------------------------------------------------------- package databases


def package_db(
    name: str,
    analyzer: str,
    area: str,
    paths: list[str],
    seeds: Callable[[], list[bytes]],
    mutate: Mutator,
    release: bytes,
    max_len: int = 256 * 1024,
    extra: Callable[[bytes], list[tuple[str, bytes]]] | None = None,
    mode: int = 0o644,
) -> None:
    """A target that places the input at ``paths`` in one layer beside an os-release."""

    def run(data: bytes) -> None:
        files: list = [("etc/os-release", release), *((p, data, mode) for p in paths)]
        if extra is not None:
            files = [("etc/os-release", release), *extra(data)]
        open_and_walk(images.docker_archive([images.tar(files)]), [analyzer])

    TARGETS[name] = Target(
        name, f"{analyzer}: the input at {', '.join(paths)}", run, seeds, mutate, max_len, area
    )


DEBIAN = b'ID=debian\nVERSION_ID="12"\n'
ALPINE = b"ID=alpine\nVERSION_ID=3.19.0\n"
REDHAT = b'ID="rhel"\nVERSION_ID="9.3"\n'


def _files(*globs: str, under: Path = SYFT) -> Callable[[], list[bytes]]:
    def seeds() -> list[bytes]:
        found = sorted(
            {p for g in globs for p in under.glob(g) if p.is_file() and p.stat().st_size > 20}
        )
        return [p.read_bytes() for p in found]

    return seeds


def _corpus_file(path: str) -> list[bytes]:
    corpus = Path(os.environ.get("ANCHORE_CORPUS", Path.home() / ".cache" / "anchore-test-images"))
    image = corpus / "debian-min.docker.tar"
    if not image.exists():
        return []
    try:
        with anchore.open_image(image) as opened:
            return [opened.read_bytes(path)]
    except AnchoreError:
        return []


def _dpkg_seeds() -> list[bytes]:
    copyright = (
        b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        b"Files: *\nCopyright: 2020 someone\nLicense: GPL-2+ or MIT\n\nLicense: GPL-2+\n text\n"
    )
    statuses = _files("debian/testdata/var/lib/dpkg/status.d/*")() + _corpus_file(
        "/var/lib/dpkg/status"
    )
    return [s + SEP + copyright for s in statuses]


def _dpkg_files(data: bytes) -> list[tuple[str, bytes]]:
    status, _, copyright = data.partition(SEP)
    m = re.search(rb"^Package: *(\S+)", status, re.M)
    name = m.group(1).decode("latin-1").strip("/.") if m else "x"
    return [("var/lib/dpkg/status", status), (f"usr/share/doc/{name or 'x'}/copyright", copyright)]


package_db(
    "dpkg",
    "dpkg",
    "D1 (dpkg.py)",
    ["var/lib/dpkg/status", "usr/share/doc/PKG/copyright"],
    _dpkg_seeds,
    mutators.documents(
        SEP,
        mutators.either(
            mutators.mutate_text(
                [
                    "Package:",
                    "Status: install ok installed",
                    "Version:",
                    "Source:",
                    "License:",
                    "Files:",
                ]
            ),
            mutators.flip,
        ),
    ),
    DEBIAN,
    max_len=512 * 1024,
    extra=_dpkg_files,
)

package_db(
    "apk",
    "apk",
    "D1 (apk.py)",
    ["lib/apk/db/installed"],
    _files("alpine/testdata/*", "alpine/testdata/*/lib/apk/db/installed"),
    mutators.either(
        mutators.mutate_text(["P:/", "P:", "V:", "o:", "F:", "R:", "L:", "a:", "Z:"]), mutators.flip
    ),
    ALPINE,
)

package_db(
    "python_metadata",
    "python",
    "D2 (python.py)",
    [
        "usr/lib/python3/dist-packages/fuzz-1.0.dist-info/METADATA",
        "usr/lib/python3/dist-packages/fz-1.0.egg-info/PKG-INFO",
    ],
    _files(
        "python/testdata/site-packages/**/METADATA",
        "python/testdata/site-packages/**/PKG-INFO",
        "python/testdata/Python-2.7.egg-info",
    ),
    mutators.either(
        mutators.mutate_text(
            [
                "Name:",
                "Version:",
                "License:",
                "Requires-Dist:",
                "Classifier:",
                "Metadata-Version: 2.1",
                "        |",
            ]
        ),
        mutators.flip,
    ),
    DEBIAN,
)

NPM_KEYS = [
    "name",
    "version",
    "packages",
    "dependencies",
    "lockfileVersion",
    "resolved",
    "integrity",
    "node_modules/x",
    "",
    "license",
    "dev",
    "optional",
    "requires",
    "link",
    "inBundle",
]
package_db(
    "npm_lock",
    "npm",
    "D2 (npm.py)",
    ["srv/app/package-lock.json"],
    _files("javascript/testdata/pkg-lock/*.json", "javascript/testdata/corrupt/package-lock.json"),
    mutators.either(
        mutators.mutate_json(NPM_KEYS, ["node_modules/", "@scope/x", "1.0.0"]), mutators.flip
    ),
    DEBIAN,
)
package_db(
    "yarn_lock",
    "npm",
    "D2 (npm.py)",
    ["srv/app/yarn.lock"],
    _files("javascript/testdata/*/yarn.lock"),
    mutators.either(
        mutators.mutate_text(
            [
                '"a@^1":',
                "  version",
                "  resolved",
                "__metadata:",
                "  dependencies:",
                "@npm:",
                "    ",
            ]
        ),
        mutators.flip,
    ),
    DEBIAN,
)
package_db(
    "pnpm_lock",
    "npm",
    "D2 (npm.py)",
    ["srv/app/pnpm-lock.yaml"],
    _files("javascript/testdata/*/pnpm-lock.yaml"),
    mutators.either(
        mutators.mutate_text(
            [
                "lockfileVersion:",
                "packages:",
                "  /a@1.0.0:",
                "snapshots:",
                "importers:",
                "&a [*a, *a, *a, *a, *a]",
                "!!python/object",
                "? ",
            ]
        ),
        mutators.flip,
    ),
    DEBIAN,
)
package_db(
    "cargo",
    "rust",
    "D2 (ecosystems.py)",
    ["srv/app/Cargo.lock"],
    _files("rust/testdata/Cargo.lock*", "rust/testdata/*/Cargo.lock"),
    mutators.either(
        mutators.mutate_text(
            ["[[package]]", "name =", "version =", "source =", "[metadata]", "a = [[[[[[["]
        ),
        mutators.flip,
    ),
    DEBIAN,
)
COMPOSER_KEYS = [
    "packages",
    "packages-dev",
    "name",
    "version",
    "license",
    "source",
    "dist",
    "require",
    "type",
]
package_db(
    "composer",
    "php-composer",
    "D2 (ecosystems.py)",
    ["srv/app/composer.lock", "srv/app/vendor/composer/installed.json"],
    _files("php/testdata/composer.lock", "php/testdata/vendor/*/installed.json"),
    mutators.either(mutators.mutate_json(COMPOSER_KEYS, ["vendor/pkg", "v1.0"]), mutators.flip),
    DEBIAN,
)
DOTNET_KEYS = [
    "targets",
    "libraries",
    "runtimeTarget",
    "name",
    "type",
    "sha512",
    "path",
    "dependencies",
    "version",
    "resolved",
    "contentHash",
    "project",
    "package",
]
package_db(
    "dotnet",
    "dotnet",
    "D2 (ecosystems.py)",
    ["srv/app/App.deps.json", "srv/app/packages.lock.json"],
    _files("dotnet/testdata/**/*.deps.json", "dotnet/testdata/**/packages.lock.json"),
    mutators.either(mutators.mutate_json(DOTNET_KEYS, ["A/1.0", "/", "A/", "1.0/"]), mutators.flip),
    DEBIAN,
)


# ---- rpm: sqlite, Berkeley DB, NDB


def rpm_header_blobs() -> list[bytes]:
    from anchore.analyzers.rpm import read_bdb

    try:
        return list(read_bdb((SYFT / "redhat" / "testdata" / "Packages").read_bytes()))
    except Exception:
        return []


def mutate_rpm_header(blob: bytes, rng: random.Random) -> bytes:
    """An rpm header with an index entry's type, offset or count changed (or its store)."""
    if len(blob) < 8:
        return blob
    nindex, hsize = struct.unpack(">II", blob[:8])
    buf = bytearray(blob)
    op = rng.randrange(6)
    if op == 0 or nindex == 0:
        struct.pack_into(
            ">II",
            buf,
            0,
            rng.choice((nindex, 0, 2**31, 2**32 - 1, nindex * 1000)),
            rng.choice((hsize, 0, 2**31, 2**32 - 1, hsize * 1000)),
        )
    elif op <= 3:
        i = rng.randrange(min(nindex, (len(blob) - 8) // 16) or 1)
        at = 8 + 16 * i + rng.choice((4, 8, 12))  # type, offset or count
        if at + 4 <= len(buf):
            struct.pack_into(
                ">I", buf, at, rng.choice((0, 1, 2**31, 2**32 - 1, hsize, 100_000, 9, 6, 8, 7))
            )
    elif op == 4:
        i = rng.randrange(min(nindex, (len(blob) - 8) // 16) or 1)
        at = 8 + 16 * i  # tag: make one a name or version
        if at + 4 <= len(buf):
            struct.pack_into(
                ">I",
                buf,
                at,
                rng.choice((1000, 1001, 1002, 1004, 1014, 1022, 1044, 1116, 1117, 1118)),
            )
    else:
        store = 8 + 16 * nindex
        if store < len(buf):
            at = rng.randrange(store, len(buf))
            buf[at:at] = rng.choice((b"/\0", b"\0" * 100, b"\xff", b"x" * 5000))
    return bytes(buf)


def ndb_with(blobs: list[bytes]) -> bytes:
    """A NDB file in rpm's layout around header blobs (as tests/test_analysis_fixtures.py)."""
    page = 4096
    slots = b"RpmP" + struct.pack("<IIIII", 0, 1, 1, 0, 0)[:16] + b"\0" * 12
    body, at = b"", page // 16
    for i, blob in enumerate(blobs, 1):
        block = b"BlbS" + struct.pack("<III", i, 1, len(blob)) + blob
        block = block.ljust((len(block) + 15) // 16 * 16, b"\0")
        slots += b"Slot" + struct.pack("<III", i, at, len(block) // 16)
        body += block
        at += len(block) // 16
    return slots.ljust(page, b"\0") + body


def _ndb_seeds() -> list[bytes]:
    blobs = rpm_header_blobs()
    return [ndb_with(blobs), ndb_with(blobs * 3)] if blobs else []


def mutate_ndb(data: bytes, rng: random.Random, max_size: int) -> bytes:
    from anchore.analyzers.rpm import read_ndb

    try:
        blobs = list(read_ndb(data))[:50]
    except Exception:
        blobs = []
    if not blobs or rng.random() < 0.3:
        buf = bytearray(data)
        if len(buf) > 64 and rng.random() < 0.7:  # a slot field
            at = (
                32
                + 16 * rng.randrange(max(1, min(200, (4096 - 32) // 16)))
                + rng.choice((4, 8, 12))
            )
            if at + 4 <= len(buf):
                struct.pack_into(
                    "<I", buf, at, rng.choice((0, 1, 256, 2**31, 2**32 - 1, len(data) // 16))
                )
            return bytes(buf)[:max_size]
        return mutators.flip(data, rng, max_size)
    i = rng.randrange(len(blobs))
    blobs[i] = mutate_rpm_header(blobs[i], rng)
    if rng.random() < 0.2:
        blobs += [blobs[i]] * rng.choice((10, 300))
    return ndb_with(blobs)[:max_size]


def mutate_sqlite(data: bytes, rng: random.Random, max_size: int) -> bytes:
    """Change an rpmdb.sqlite through SQL: a header blob, a view or trigger, duplicate rows."""
    path = os.path.join(scratch(), f"mutate-{os.getpid()}.sqlite")
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        db = sqlite3.connect(path)
        try:
            rows = db.execute("SELECT rowid, blob FROM Packages LIMIT 50").fetchall()
        except sqlite3.Error:
            rows = []
        op = rng.randrange(6)
        if op <= 1 and rows:
            rowid, blob = rng.choice(rows)
            if isinstance(blob, bytes):
                db.execute(
                    "UPDATE Packages SET blob = ? WHERE rowid = ?",
                    (mutate_rpm_header(blob, rng), rowid),
                )
        elif op == 2 and rows:
            value = rng.choice((None, 1, "text", b"", 2.5))
            db.execute("UPDATE Packages SET blob = ? WHERE rowid = ?", (value, rng.choice(rows)[0]))
        elif op == 3 and rows:
            for _ in range(rng.choice((1, 10, 500))):
                db.execute("INSERT INTO Packages (blob) VALUES (?)", (rng.choice(rows)[1],))
        elif op == 4:
            db.execute("ALTER TABLE Packages RENAME TO Real")
            view = rng.choice(
                (
                    "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                    "SELECT x AS hnum, (SELECT blob FROM Real LIMIT 1) AS blob FROM c",
                    "CREATE VIEW Packages AS SELECT hnum, blob FROM Real",
                    "CREATE TABLE Packages (hnum INTEGER, blob TEXT)",
                )
            )
            db.execute(view)
        else:
            db.execute(
                rng.choice(
                    (
                        "CREATE TRIGGER t AFTER INSERT ON Packages BEGIN SELECT 1; END",
                        "DROP TABLE Packages",
                        "CREATE TABLE IF NOT EXISTS Basenames (key TEXT, hnum INTEGER)",
                        "PRAGMA user_version = 99",
                    )
                )
            )
        db.commit()
        db.close()
        with open(path, "rb") as fh:
            out = fh.read()
    except sqlite3.Error:
        out = mutators.flip(data, rng, max_size)
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
    return out[:max_size]


package_db(
    "rpm_sqlite",
    "rpm",
    "D1 (rpm.py)",
    ["usr/lib/sysimage/rpm/rpmdb.sqlite"],
    lambda: [(FIXTURES / "rpm" / "rpmdb.sqlite").read_bytes()],
    mutators.either(mutate_sqlite, mutate_sqlite, mutators.flip),
    REDHAT,
    max_len=1024 * 1024,
)
package_db(
    "rpm_bdb",
    "rpm",
    "D1 (rpm.py)",
    ["var/lib/rpm/Packages"],
    _files("redhat/testdata/Packages"),
    mutators.flip,
    REDHAT,
)
package_db(
    "rpm_ndb",
    "rpm",
    "D1 (rpm.py)",
    ["usr/lib/sysimage/rpm/Packages.db"],
    _ndb_seeds,
    mutators.either(mutate_ndb, mutate_ndb, mutators.flip),
    REDHAT,
    max_len=1024 * 1024,
)


# ---- Java


def jar_of(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in entries:
            zf.writestr(name, body)
    return out.getvalue()


def _jar_seeds() -> list[bytes]:
    base = SYFT / "java" / "testdata" / "jar-metadata"
    seeds = []
    for top in sorted(p for p in base.iterdir() if p.is_dir()) if base.exists() else []:
        files = [p for p in sorted(top.rglob("*")) if p.is_file()]
        if not files:
            continue
        jar = jar_of([(str(p.relative_to(top)), p.read_bytes()) for p in files])
        seeds.append(jar)
    if len(seeds) >= 2:  # a fat jar: one inside another
        seeds.append(
            jar_of(
                [
                    ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                    ("BOOT-INF/lib/a.jar", seeds[0]),
                    ("BOOT-INF/lib/b.jar", seeds[1]),
                ]
            )
        )
    return seeds


_JAVA_TEXT = mutators.mutate_text(
    [
        "Implementation-Version:",
        "Bundle-SymbolicName:",
        "groupId=",
        "artifactId=",
        "version=",
        "<version>${project.version}</version>",
        "<parent>",
        "Name:",
    ]
)
package_db(
    "jar",
    "java",
    "D2 (java.py)",
    ["opt/app/lib/app.jar"],
    _jar_seeds,
    mutators.either(
        mutators.mutate_zip(_JAVA_TEXT), mutators.mutate_zip(_JAVA_TEXT), mutators.flip
    ),
    DEBIAN,
    max_len=1024 * 1024,
)

POM_PROPERTIES = b"groupId=org.fuzz\nartifactId=fuzz\nversion=1.0\n"


def _pom_files(data: bytes) -> list[tuple[str, bytes]]:
    jar = jar_of(
        [
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("META-INF/maven/org.fuzz/fuzz/pom.xml", data),
            ("META-INF/maven/org.fuzz/fuzz/pom.properties", POM_PROPERTIES),
        ]
    )
    return [
        ("usr/share/maven-repo/org/fuzz/fuzz/1.0/fuzz-1.0.pom", data),
        ("opt/app/fuzz.jar", jar),
    ]


package_db(
    "pom",
    "java",
    "D2 (java.py)",
    ["usr/share/maven-repo/.../fuzz-1.0.pom", "pom.xml in opt/app/fuzz.jar"],
    _files(
        "java/testdata/pom/**/*.xml",
        "java/testdata/pom/*.xml",
        "java/testdata/java-builds/*/pom.xml",
    ),
    mutators.either(
        mutators.mutate_text(
            [
                "<project>",
                "<groupId>",
                "<artifactId>",
                "<version>",
                "<properties>",
                "${a}",
                "${${a}}",
                "<!DOCTYPE p [<!ENTITY a 'b'>]>",
                "<dependency>",
                "</project>",
            ]
        ),
        mutators.flip,
    ),
    DEBIAN,
    extra=_pom_files,
)


# ---- Go


MODINFO = (
    "path\tgithub.com/fuzz/app\nmod\tgithub.com/fuzz/app\t(devel)\t\n"
    "dep\tgithub.com/google/uuid\tv1.3.0\th1:t6JiXgmwXMjEs8VusXIJk2BXHsn+wx8BZdTaoZ5fu7I=\n"
    "dep\tgolang.org/x/sys\tv0.1.0\n=>\tgolang.org/x/sys\tv0.2.0\th1:x=\n"
    'build\t-compiler=gc\nbuild\t-ldflags="-X main.version=1.2.3 -s -w"\nbuild\tCGO_ENABLED=0\n'
    "build\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tvcs.revision=abc\n"
)


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def go_elf(version: bytes, modinfo: bytes) -> bytes:
    """A minimal ELF64 with a Go 1.18+ ``.go.buildinfo`` section (version and modinfo inline)."""
    sentinel = b"0\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6"
    info = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16
    info += _uvarint(len(version)) + version
    framed = sentinel + modinfo + b"\n" + sentinel[:15] + b"\xf2" if modinfo else b""
    info += _uvarint(len(framed)) + framed
    names = b"\0.go.buildinfo\0.shstrtab\0"
    info_off = 64
    names_off = info_off + len(info)
    shoff = (names_off + len(names) + 7) // 8 * 8
    ehdr = bytearray(64)
    ehdr[0:16] = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    struct.pack_into("<HHIQQQIHHHHHH", ehdr, 16, 2, 0x3E, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 2)
    body = bytes(ehdr) + info + names
    body = body.ljust(shoff, b"\0")
    sh = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    sh += struct.pack("<IIQQQQIIQQ", 1, 1, 3, 0x500000, info_off, len(info), 0, 0, 16, 0)
    sh += struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, names_off, len(names), 0, 0, 1, 0)
    return (body + sh).ljust(1024, b"\0")  # the analyzer skips files under 1 KiB


def _go_seeds() -> list[bytes]:
    return [
        go_elf(b"go1.22.1", MODINFO.encode()),
        go_elf(b"go1.20", b"path\tx\nmod\tx\tv1.0.0\t\n"),
    ]


_GO_TEXT = mutators.mutate_text(
    [
        "dep\t",
        "mod\t",
        "=>\t",
        "build\t-ldflags=",
        "\t",
        "v0.0.0-",
        "(devel)",
        "-X main.version=",
        "build\t-tags=",
    ]
)


def mutate_go(data: bytes, rng: random.Random, max_size: int) -> bytes:
    """Mutate the build info's text and version, then rebuild the ELF around them."""
    at = data.find(b"\xff Go buildinf:")
    if at < 0 or rng.random() < 0.25:
        return mutators.flip(data, rng, max_size)
    from anchore.analyzers.golang import read_buildinfo

    try:
        info = read_buildinfo(io.BytesIO(data))
    except Exception:
        info = None
    if info is None:
        return mutators.flip(data, rng, max_size)
    modinfo = "\n".join(_buildinfo_lines(info)).encode()
    version = info.go_version.encode()
    if rng.random() < 0.2:
        version = rng.choice(
            (b"", b"go", b"go1.999999999999999", b"devel +abc", b"go1.22\x00x", version * 500)
        )
    else:
        modinfo = _GO_TEXT(modinfo, rng, max_size)
    return go_elf(version, modinfo)[:max_size]


def _buildinfo_lines(info: object) -> list[str]:
    lines = []
    if getattr(info, "path", None):
        lines.append(f"path\t{info.path}")  # type: ignore[attr-defined]
    if getattr(info, "main", None):
        lines.append("mod\t" + "\t".join(info.main))  # type: ignore[attr-defined]
    lines += ["dep\t" + "\t".join(d) for d in getattr(info, "deps", [])]
    lines += [f"build\t{k}={v}" for k, v in getattr(info, "settings", {}).items()]
    return lines


package_db(
    "go_buildinfo",
    "golang",
    "D2 (golang.py)",
    ["usr/local/bin/app"],
    _go_seeds,
    mutators.either(mutate_go, mutate_go, mutators.flip),
    DEBIAN,
    mode=0o755,
)


def regressions_dir() -> Path:
    return Path(__file__).resolve().parent / "regressions"
