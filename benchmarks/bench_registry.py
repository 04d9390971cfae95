"""Benchmark: pulling an image from a registry and analyzing it, against reading the
archive it came from, and against syft pulling the same.

    python benchmarks/bench_registry.py CORPUS_DIR [--repeat N] [--images NAME ...]

A real registry (Debian's docker-registry, CNCF distribution) is started on loopback as
the tests start it (tests/registry_server.py) and each corpus image is pushed to it
with skopeo from its docker archive (so the registry holds gzip-compressed layers).
Then, in fresh processes, interleaved repeat by repeat:

- pull-cold: ``open_image(ref)`` with an empty blob cache (removed before each run),
  then the full analysis (every built-in analyzer), as ``anchore analyze REF`` does;
- pull-warm: the same with the cache filled by an earlier pull (only the manifest is
  asked for again);
- archive: ``open_image`` of the docker archive (uncompressed layers) and the same
  analysis;
- oci-archive: the same on the OCI archive, whose layers are gzip-compressed as the
  registry's are (so pull-warm / oci-archive is the cost of the pull machinery alone);
- syft-pull: syft 1.18.1 cataloging ``registry:REF`` (``SYFT_REGISTRY_INSECURE_USE_HTTP``);
- syft-archive: syft on the docker archive.

Loopback has no bandwidth limit, so a pull's extra cost here is the protocol, the
decompression of gzip layers and the cache writes, not the network. Prints medians
(wall seconds, peak RSS) and ratios; writes benchmarks/results/registry.json.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from measure import find_peers, measure_interleaved, peer_arguments, save_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import registry_server  # the tests' registry, started the same way

#: what `anchore analyze --json REF --cache-dir DIR` does; a cold run empties DIR first
PULL = (
    "import shutil, sys, anchore\n"
    "from anchore.registry import RegistryOptions\n"
    "if sys.argv[3] == 'cold':\n"
    "    shutil.rmtree(sys.argv[2], ignore_errors=True)\n"
    "options = RegistryOptions(cache_dir=sys.argv[2])\n"
    "with anchore.open_image(sys.argv[1], registry=options) as image:\n"
    "    anchore.analyze(image).write_json(sys.stdout)\n"
)
ARCHIVE = (
    "import sys, anchore\n"
    "with anchore.open_image(sys.argv[1]) as image:\n"
    "    anchore.analyze(image).write_json(sys.stdout)\n"
)
IMAGES = ("debian-min", "debian-py", "debian-node")
RATIOS = (("pull-cold", "archive"), ("pull-warm", "archive"), ("pull-warm", "oci-archive"),
          ("pull-cold", "syft-pull"), ("syft-pull", "syft-archive"))  # fmt: skip


def main() -> int:
    args = peer_arguments(("debian-py",))
    syft, _ = find_peers(args.trivy)
    os.environ["SYFT_REGISTRY_INSECURE_USE_HTTP"] = "true"  # loopback, plain HTTP
    os.environ.setdefault("SYFT_CHECK_FOR_APP_UPDATE", "false")
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        root = Path(tmp)
        with registry_server.run_registry(root / "registry") as registry:
            for name in args.images:
                archive = args.corpus / f"{name}.docker.tar"
                oci = args.corpus / f"{name}.oci.tar"
                repository = f"corpus/{name}:1"
                registry_server.skopeo_copy(f"docker-archive:{archive}", registry, repository)
                ref = registry.ref(repository)
                cold, warm = str(root / "cache-cold"), str(root / "cache-warm")
                cmds = {
                    "pull-cold": [sys.executable, "-c", PULL, ref, cold, "cold"],
                    "pull-warm": [sys.executable, "-c", PULL, ref, warm, "warm"],
                    "archive": [sys.executable, "-c", ARCHIVE, str(archive)],
                    "oci-archive": [sys.executable, "-c", ARCHIVE, str(oci)],
                }
                if syft is not None:
                    cmds["syft-pull"] = [syft, "-q", f"registry:{ref}", "-o", "syft-json"]
                    cmds["syft-archive"] = [syft, "-q", f"docker-archive:{archive}", "-o",
                                            "syft-json"]  # fmt: skip
                measure_interleaved({"pull-warm": cmds["pull-warm"]}, 1)  # fill the warm cache
                results[name] = measure_interleaved(cmds, args.repeat)
                print(f"{name}: {results[name]}", file=sys.stderr)
    print(table(results, args.repeat))
    save_results("registry", results)
    return 0


def table(results: dict[str, dict[str, dict[str, float]]], repeat: int) -> str:
    kinds = ("pull-cold", "pull-warm", "archive", "oci-archive", "syft-pull", "syft-archive")
    lines = [
        f"registry benchmark: median of {repeat} interleaved run(s) (loopback registry)",
        f"{'image':12} {'what':4}" + "".join(f"{k:>13}" for k in kinds),
    ]
    for image, row in results.items():
        for what, key, fmt in (("s", "seconds", "{:.2f}"), ("MiB", "peak_mib", "{:.0f}")):
            cells = "".join(f"{fmt.format(row[k][key]) if k in row else '-':>13}" for k in kinds)
            lines.append(f"{image:12} {what:4}{cells}")
        for a, b in RATIOS:
            if a in row and b in row and row[b]["seconds"]:
                ratio = row[a]["seconds"] / row[b]["seconds"]
                lines.append(f"{image:12} time {a} / {b} = {ratio:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
