"""Run a command in a fresh process; report its wall time and peak memory."""

from __future__ import annotations

import statistics
import subprocess
import sys

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
