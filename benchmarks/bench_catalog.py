"""Benchmark: the catalog's multi-image queries at 1,000 stored analyses, in-process.

    python benchmarks/bench_catalog.py CORPUS_DIR [DATA_DIR] [--images N] [--repeat N]
                                                 [--postgresql URL]

DATA_DIR is tests/data (the PyPA and Go OSV zips; the default). The three corpus
images are analyzed once; 1,000 stored analyses are derived from them (copies with
their own manifest digest and reference, every fifth with some Debian package
versions moved, so rows differ), added to a fresh SQLite catalog (and PostgreSQL
with ``--postgresql``), each seen as ``bench/appN:latest`` so names have a chain of
custody. Every image gets a match run (its corpus image's real match against the
PyPA + Go store). Then, the median of ``--repeat`` runs of: who-has for an exact
name, a glob and a version range; affected; diff of two stored digests; custody of
one name; ``catalog.images()``; and rematch per image (over 50 images).
Writes benchmarks/results/catalog.json.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from measure import save_results

import anchore
from anchore.analysis.model import Analysis
from anchore.catalog import Catalog, affected, custody, diff, rematch, who_has
from anchore.vulns import LoadReport, Store, read_osv
from anchore.vulns.match import match

IMAGES = ("debian-min", "debian-py", "debian-node")
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def derive(base: Analysis, n: int) -> Analysis:
    """Copy ``n`` of a corpus analysis: its own digest and reference; every fifth copy
    with every seventh Debian package at another (later) version."""
    digest = "sha256:" + hashlib.sha256(f"bench-{n}".encode()).hexdigest()
    ref = f"registry.example/bench/app{n % 50}:{n}"
    image = attrs.evolve(base.image, manifest_digest=digest, reference=ref, tags=(ref,))
    packages = base.packages
    if n % 5 == 0:
        packages = tuple(
            attrs.evolve(p, version=f"{p.version}+b{n % 10}")
            if p.type == "deb" and i % 7 == 0
            else p
            for i, p in enumerate(base.packages)
        )
    return attrs.evolve(base, image=image, packages=packages)


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def build_store(data: Path, where: Path) -> Store:
    import zipfile

    store = Store(where / "vulns.sqlite", create=True)
    for archive, source in (
        (data / "osv-pypa" / "vulns.zip", "osv-pypa"),
        (data / "osv-go" / "osv.zip", "osv-go"),
    ):
        target = where / source
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
        top = next(p for p in target.iterdir() if p.is_dir())
        report = LoadReport()
        store.load(read_osv(top, report), source, report)
    return store


def run(url: str, bases: list[Analysis], store: Store, count: int, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"catalog": url.split("@")[-1], "images": count}
    base_matches = [match(a, store) for a in bases]
    with Catalog(url) as cat:
        t = time.perf_counter()
        keys = []
        for n in range(count):
            a = derive(bases[n % len(bases)], n)
            seen = START + datetime.timedelta(minutes=n)
            keys.append(cat.add(a, names=[f"bench/app{n % 50}:latest"], seen_at=seen).key)
        took = time.perf_counter() - t
        results["add_per_s"] = count / took
        results["add_s"] = took
        t = time.perf_counter()
        for n, key in enumerate(keys):
            cat.record_matches(key, base_matches[n % len(bases)], store, at=START)
        results["record_matches_per_s"] = count / (time.perf_counter() - t)

        timings = {
            "who-has libssl3": lambda: who_has(cat, "libssl3"),
            "who-has lib* (glob)": lambda: who_has(cat, "lib*"),
            "who-has curl >=7.0,<8": lambda: who_has(cat, "curl", version=">=7.0,<8"),
            "who-has re:^python3": lambda: who_has(cat, "re:^python3"),
            "affected CVE-2020-14343": lambda: affected(cat, "CVE-2020-14343"),
            "diff (two digests)": lambda: diff(cat, keys[1], keys[2]),
            "custody bench/app1:latest": lambda: custody(cat, "bench/app1:latest"),
            "catalog.images()": lambda: cat.images(),
        }
        rows = {}
        for label, fn in timings.items():
            ms, out = median_ms(fn, repeat)
            rows[label] = {"ms": ms, "rows": len(out)}
        subset = keys[:50]
        t = time.perf_counter()
        report = rematch(cat, store, images=subset)
        per_image = (time.perf_counter() - t) * 1000 / len(subset)
        rows["rematch (per image, 50)"] = {"ms": per_image, "rows": len(report.rows)}
        results["queries"] = rows
    return results


def show(results: dict[str, Any]) -> None:
    print(f"\n{results['catalog']}: {results['images']} stored analyses")
    print(f"  add: {results['add_per_s']:.1f} analyses/s ({results['add_s']:.1f} s)")
    print(f"  record_matches: {results['record_matches_per_s']:.1f} runs/s")
    print(f"  {'query':<30} {'median ms':>10} {'rows':>8}")
    for label, row in results["queries"].items():
        print(f"  {label:<30} {row['ms']:>10.1f} {row['rows']:>8}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument(
        "data", type=Path, nargs="?", default=Path(__file__).parent.parent / "tests" / "data"
    )
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgresql", help="also a postgresql:// URL of an empty database")
    args = parser.parse_args()
    bases = [anchore.analyze(args.corpus / f"{name}.docker.tar") for name in IMAGES]
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        where = Path(tmp)
        store = build_store(args.data, where)
        out = [run(str(where / "catalog.db"), bases, store, args.images, args.repeat)]
        if args.postgresql:
            out.append(run(args.postgresql, bases, store, args.images, args.repeat))
    for results in out:
        show(results)
    save_results("catalog", out)
    slow = out[0]["queries"]["who-has libssl3"]["ms"]
    if slow >= 100:
        print(f"who-has at {args.images} images took {slow:.1f} ms: over 100 ms", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
