"""Run a command in a fresh process; report its wall time and peak memory."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
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
        out = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *cmd], check=True, capture_output=True, text=True
        ).stdout.split()
        times.append(float(out[0]))
        peaks.append(int(out[1]))
    return {"seconds": statistics.median(times), "peak_mib": max(peaks) / 1024}


def save_results(name: str, results: Any) -> None:
    """Write ``benchmarks/results/NAME.json`` (not committed: results are per machine)."""
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))
