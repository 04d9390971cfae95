"""Benchmark: what a person types at a terminal, ours against syft's and trivy's, in one run.

    python benchmarks/bench_cli.py CORPUS_DIR [--repeat N] [--images NAME ...]

On the docker-save archive of each image, in fresh processes, interleaved repeat by repeat:

- ``anchore packages IMAGE`` (the package table: image opened, digests verified, every
  analyzer run, the table printed) against ``syft IMAGE -o table`` (syft 1.18.1) and
  trivy's package inventory through ``benchmarks/peers/trivy.sh`` (offline, CycloneDX:
  trivy.sh's one output);
- ``anchore --version`` against ``syft version``: the start-up cost every command pays.

Prints medians of wall seconds and peak RSS, and our ratios to each peer; writes
benchmarks/results/cli.json.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from measure import find_peers, measure_interleaved, peer_arguments, save_results

IMAGES = ("debian-py",)
PAIRS = (
    ("anchore-packages", "syft-table"),
    ("anchore-packages", "trivy-cdx"),
    ("anchore-version", "syft-version"),
)


def commands(image: Path, syft: str, trivy: str | None) -> dict[str, list[str]]:
    ours = [sys.executable, "-m", "anchore"]
    cmds = {
        "anchore-packages": [*ours, "packages", str(image)],
        "syft-table": [syft, "-q", f"docker-archive:{image}", "-o", "table"],
        "anchore-version": [*ours, "--version"],
        "syft-version": [syft, "version"],
    }
    if trivy is not None:
        cmds["trivy-cdx"] = ["bash", trivy, str(image)]
    return cmds


def table(results: dict[str, dict[str, dict[str, float]]], repeat: int) -> str:
    lines = [f"CLI benchmark: median of {repeat} interleaved run(s); ratio = anchore / peer",
             f"{'image':24} {'ours':17} {'peer':13} {'s':>7} {'peer s':>7} {'ratio':>6} "
             f"{'MiB':>6} {'peer':>6} {'ratio':>6}"]  # fmt: skip
    for image, row in results.items():
        for ours, peer in PAIRS:
            if ours not in row or peer not in row:
                continue
            a, b = row[ours], row[peer]
            lines.append(
                f"{image:24} {ours:17} {peer:13} {a['seconds']:7.2f} {b['seconds']:7.2f} "
                f"{a['seconds'] / b['seconds']:6.2f} {a['peak_mib']:6.0f} {b['peak_mib']:6.0f} "
                f"{a['peak_mib'] / b['peak_mib']:6.2f}"
            )
    return "\n".join(lines)


def main() -> int:
    args = peer_arguments(IMAGES)
    os.environ["SYFT_CHECK_FOR_APP_UPDATE"] = "false"  # syft's update check is a network call
    syft, trivy = find_peers(args.trivy)
    if syft is None:
        return 2
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name in args.images:
        image = args.corpus / f"{name}.docker.tar"
        if image.exists():
            results[image.name] = measure_interleaved(commands(image, syft, trivy), args.repeat)
            print(f"{image.name}: {results[image.name]}", file=sys.stderr)
    print(table(results, args.repeat))
    save_results("cli", {"results": results, "load": os.getloadavg()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
