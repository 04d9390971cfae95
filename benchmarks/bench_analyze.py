"""Benchmark: a full analysis of every corpus image against both peers, in one run.

    python benchmarks/bench_analyze.py CORPUS_DIR [--repeat N] [--images NAME ...]

On each docker-save archive of the corpus, four commands run in fresh processes,
one after another and interleaved repeat by repeat (so that load from elsewhere
on the machine falls on all of them alike):

- ours: opens the image (verifying every digest) and runs every built-in analyzer;
- syft 1.18.1, cataloging packages (``-o syft-json``);
- trivy, through ``benchmarks/peers/trivy.sh`` (offline, secret scanning on, as ours);
- the floor: one sequential read of the same bytes, extracted and hashed
  (``tar -xOf | sha256sum``, plus ``gzip -dc | sha256sum`` of each compressed layer).

On the OCI archives only ours, syft and the floor run: trivy does not read OCI
archive tars. Prints one table of medians (wall seconds, peak RSS in MiB) and our
ratios to each, with the load average before and after; writes
benchmarks/results/analyze.json.
"""

from __future__ import annotations

import os
import shlex
import sys
import tarfile
from pathlib import Path

from measure import find_peers, measure_interleaved, peer_arguments, save_results

#: what `anchore analyze --json --files` does, without the indentation
ANALYZE = (
    "import sys, anchore\n"
    "result = anchore.analyze(anchore.open_image(sys.argv[1]))\n"
    "result.write_json(sys.stdout)\n"
)
#: the corpus images, smallest first
IMAGES = ("debian-min", "debian-py", "debian-node")


def compressed_layers(archive: Path) -> list[str]:
    """Members of an archive whose bytes are gzip streams (an OCI archive's layers)."""
    out = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and member.size >= 2:
                head = tar.extractfile(member).read(2)  # type: ignore[union-attr]
                if head == b"\x1f\x8b":
                    out.append(member.name)
    return out


def floor_cmd(archive: Path) -> list[str]:
    """Read and hash every byte of the archive, and the inflated bytes of each gzip layer."""
    quoted = shlex.quote(str(archive))
    steps = [f"tar -xOf {quoted} | sha256sum >/dev/null"]
    steps += [
        f"tar -xOf {quoted} {shlex.quote(name)} | gzip -dc | sha256sum >/dev/null"
        for name in compressed_layers(archive)
    ]
    return ["bash", "-c", "set -o pipefail; " + " && ".join(steps)]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    args = peer_arguments(IMAGES)
    syft, trivy = find_peers(args.trivy)
    if syft is None:
        return 2
    load_before = _load()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name in args.images:
        for kind, scheme in (("docker", "docker-archive"), ("oci", "oci-archive")):
            image = args.corpus / f"{name}.{kind}.tar"
            if not image.exists():
                continue
            cmds = {
                "anchore": [sys.executable, "-c", ANALYZE, str(image)],
                "syft": [syft, "-q", f"{scheme}:{image}", "-o", "syft-json"],
            }
            if kind == "docker" and trivy is not None:
                cmds["trivy"] = ["bash", trivy, str(image)]
            cmds["floor"] = floor_cmd(image)
            results[image.name] = measure_interleaved(cmds, args.repeat)
            print(f"{image.name}: {results[image.name]}", file=sys.stderr)
    load_after = _load()
    print(table(results, args.repeat, load_before, load_after))
    save_results("analyze", {"load": [load_before, load_after], "results": results})
    return 0


def table(
    results: dict[str, dict[str, dict[str, float]]], repeat: int, before: str, after: str
) -> str:
    """One table: medians of wall time and max peak RSS, and our ratio to each other command."""
    peers = ("syft", "trivy", "floor")
    head = f"{'image':24} {'what':5}{'anchore':>9}" + "".join(f"{p:>8}{'ratio':>7}" for p in peers)
    lines = [
        f"analysis benchmark: median of {repeat} interleaved run(s); load average "
        f"(1/5/15 min) {before} before, {after} after; ratio = anchore / peer",
        head,
    ]
    for image, row in results.items():
        if "anchore" not in row:
            lines.append(f"{image:24} anchore failed")
            continue
        ours = row["anchore"]
        for what, key, fmt in (("s", "seconds", "{:.2f}"), ("MiB", "peak_mib", "{:.0f}")):
            cells = f"{image:24} {what:5}{fmt.format(ours[key]):>9}"
            for peer in peers:
                if peer in row:
                    theirs = row[peer][key]
                    ratio = ours[key] / theirs if theirs else float("inf")
                    cells += f"{fmt.format(theirs):>8}{ratio:>7.2f}"
                else:
                    cells += f"{'-':>8}{'-':>7}"
            lines.append(cells)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
