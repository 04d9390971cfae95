"""Benchmark: an SBOM of a corpus image, ours against syft's and trivy's, in one run.

    python benchmarks/bench_sbom.py CORPUS_DIR [--repeat N] [--images NAME ...]

On each archive of an image (docker-save and OCI), in fresh processes, interleaved
repeat by repeat (so that load from elsewhere falls on all of them alike):

- ``anchore sbom IMAGE -o cyclonedx-json`` (our command line: the image opened, every
  digest verified, every analyzer run, the BOM written to stdout);
- ``syft IMAGE -o cyclonedx-json`` (syft 1.18.1);
- trivy's CycloneDX through ``benchmarks/peers/trivy.sh`` (offline, secret scanning on;
  docker-save archives only: trivy does not read OCI archive tars);
- and the same for syft-json: ``anchore sbom -o syft-json`` against ``syft -o syft-json``.

Prints medians of wall seconds and the peak RSS in MiB (the largest process of the
command: ``ru_maxrss`` of the children), and our ratios to each peer; writes
benchmarks/results/sbom.json. The targets: at most 0.25x syft's and 0.5x trivy's time
and memory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from measure import find_peers, measure_interleaved, peer_arguments, save_results

IMAGES = ("debian-py",)
#: (our command, peer) pairs whose ratios are printed
PAIRS = (
    ("anchore-cdx", "syft-cdx"),
    ("anchore-cdx", "trivy-cdx"),
    ("anchore-syft", "syft-syft"),
)


def commands(image: Path, scheme: str, syft: str, trivy: str | None) -> dict[str, list[str]]:
    """What runs on one archive; every SBOM goes to stdout (discarded by the measurement)."""
    ours = [sys.executable, "-m", "anchore", "sbom", str(image)]
    cmds = {
        "anchore-cdx": [*ours, "-o", "cyclonedx-json"],
        "syft-cdx": [syft, "-q", f"{scheme}:{image}", "-o", "cyclonedx-json"],
        "anchore-syft": [*ours, "-o", "syft-json"],
        "syft-syft": [syft, "-q", f"{scheme}:{image}", "-o", "syft-json"],
    }
    if scheme == "docker-archive" and trivy is not None:
        cmds["trivy-cdx"] = ["bash", trivy, str(image)]
    return cmds


def table(results: dict[str, dict[str, dict[str, float]]], repeat: int) -> str:
    lines = [f"SBOM benchmark: median of {repeat} interleaved run(s); ratio = anchore / peer",
             f"{'image':24} {'ours':13} {'peer':10} {'s':>7} {'peer s':>7} {'ratio':>6} "
             f"{'MiB':>6} {'peer':>6} {'ratio':>6}"]  # fmt: skip
    for image, row in results.items():
        for ours, peer in PAIRS:
            if ours not in row or peer not in row:
                continue
            a, b = row[ours], row[peer]
            lines.append(
                f"{image:24} {ours:13} {peer:10} {a['seconds']:7.2f} {b['seconds']:7.2f} "
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
        for kind, scheme in (("docker", "docker-archive"), ("oci", "oci-archive")):
            image = args.corpus / f"{name}.{kind}.tar"
            if image.exists():
                results[image.name] = measure_interleaved(
                    commands(image, scheme, syft, trivy), args.repeat
                )
                print(f"{image.name}: {results[image.name]}", file=sys.stderr)
    print(table(results, args.repeat))
    save_results("sbom", {"results": results, "load": os.getloadavg()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
