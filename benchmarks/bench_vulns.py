"""Benchmark: loading the full PyPA (and Go) advisory databases, and matching debian-py.

python benchmarks/bench_vulns.py CORPUS_DIR DATA_DIR   (DATA_DIR: tests/data; the OSV zips are read as they are)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from measure import save_results

import anchore
from anchore.vulns import LoadReport, Store, match, read_osv


def main() -> int:
    corpus, data = Path(sys.argv[1]), Path(sys.argv[2])
    results = {}
    with tempfile.TemporaryDirectory(prefix="anchore-bench-") as tmp:
        store = Store(Path(tmp) / "vulns.sqlite", create=True)
        for name, path in (
            ("osv-pypa", data / "osv-pypa" / "vulns.zip"),
            ("osv-go", data / "osv-go" / "osv.zip"),
        ):
            report = LoadReport()
            start = time.perf_counter()
            store.load(read_osv(path, report), name, report)
            results[f"load {name}"] = {
                "seconds": time.perf_counter() - start,
                "records": report.loaded,
            }
        analysis = anchore.analyze(anchore.open_image(corpus / "debian-py.docker.tar"))
        start = time.perf_counter()
        for _ in range(10):
            matches = match(analysis, store)
        results["match debian-py"] = {
            "seconds": (time.perf_counter() - start) / 10,
            "packages": len(analysis.packages),
            "matches": len(matches),
            "checked": len(matches.checked),
            "unchecked": len(matches.unchecked),
        }
    for key, value in results.items():
        print(
            f"{key:24} "
            + "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
            )
        )
    save_results("vulns", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
