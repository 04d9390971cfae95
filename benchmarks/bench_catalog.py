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
one name; ``catalog.images()``; and rematch per image (over 50 images). Each query
is also timed cold: in a fresh process that opens the catalog and makes the first call
(what one ``anchore catalog query`` costs; the OS page cache stays warm). Every timed
answer's row count is checked against what the stored analyses hold, so an empty or
wrong answer is never timed. Writes benchmarks/results/catalog.json.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import statistics
import subprocess
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
from anchore.query.diff import diff as analysis_diff
from anchore.query.fleet import who_has as fleet_who_has
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

        timings = _queries(keys)
        expected = _expected(bases, base_matches, count, keys)
        rows = {}
        for label, fn in timings.items():
            ms, out = median_ms(lambda fn=fn: fn(cat), repeat)
            got = _count(label, out)
            if got != expected[label]:
                raise SystemExit(f"{label}: {got} rows, expected {expected[label]}")
            rows[label] = {"ms": ms, "rows": got}
        subset = keys[:50]
        t = time.perf_counter()
        report = rematch(cat, store, images=subset)
        per_image = (time.perf_counter() - t) * 1000 / len(subset)
        if report.images != len(subset) or report.rows:  # same store: nothing changed
            raise SystemExit(f"rematch: {report.images} images, {len(report.rows)} rows")
        rows["rematch (per image, 50)"] = {"ms": per_image, "rows": len(report.rows)}
        results["queries"] = rows
    for label in timings:
        rows[label].update(cold(url, keys, label))
    return results


def _queries(keys: list[str]) -> dict[str, Callable[[Catalog], Any]]:
    return {
        "who-has libssl3": lambda cat: who_has(cat, "libssl3"),
        "who-has lib* (glob)": lambda cat: who_has(cat, "lib*"),
        "who-has curl >=7.0,<8": lambda cat: who_has(cat, "curl", version=">=7.0,<8"),
        "who-has re:^python3": lambda cat: who_has(cat, "re:^python3"),
        "affected CVE-2020-14343": lambda cat: affected(cat, "CVE-2020-14343"),
        "diff (two digests)": lambda cat: diff(cat, keys[1], keys[2]),
        "custody bench/app1:latest": lambda cat: custody(cat, "bench/app1:latest"),
        "catalog.images()": lambda cat: cat.images(),
    }


def _count(label: str, out: Any) -> int:
    """The rows an answer gives (affected: its ``affected`` rows; unchecked rows name the
    images whose runs left packages unchecked)."""
    if label.startswith("affected"):
        return sum(getattr(r, "status", "affected") == "affected" for r in out)
    return len(out)


def _expected(
    bases: list[Analysis], base_matches: list[Any], count: int, keys: list[str]
) -> dict[str, int]:
    """Each timed query's row count, from the analyses themselves (fleet.who_has over
    each derived analysis, the matches recorded, analysis diff)."""
    variants: dict[tuple[int, int], Analysis] = {}
    for n in range(count):  # derive() varies by base, and by n % 10 every fifth copy
        variants.setdefault(
            (n % len(bases), n % 10 if n % 5 == 0 else -1), derive(bases[n % len(bases)], n)
        )
    weight = {v: 0 for v in variants}
    for n in range(count):
        weight[(n % len(bases), n % 10 if n % 5 == 0 else -1)] += 1

    def who(name: str, version: str | None = None) -> int:
        return sum(
            w * len(fleet_who_has([variants[v]], name, None, version)) for v, w in weight.items()
        )

    cve = "CVE-2020-14343"
    hits = [sum(cve == m.advisory_id or cve in m.aliases for m in ms) for ms in base_matches]
    a, b = derive(bases[1 % len(bases)], 1), derive(bases[2 % len(bases)], 2)
    assert keys[1] and keys[2]
    return {
        "who-has libssl3": who("libssl3"),
        "who-has lib* (glob)": who("lib*"),
        "who-has curl >=7.0,<8": who("curl", ">=7.0,<8"),
        "who-has re:^python3": who("re:^python3"),
        "affected CVE-2020-14343": sum(hits[n % len(bases)] for n in range(count)),
        "diff (two digests)": len(analysis_diff(a, b)),
        "custody bench/app1:latest": sum(n % 50 == 1 for n in range(count)),
        "catalog.images()": count,
    }


def cold(url: str, keys: list[str], label: str) -> dict[str, float]:
    """One query in a fresh process: the catalog opened, then the first call."""
    code = (
        "import json, sys, time\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import bench_catalog as b\n"
        "from anchore.catalog import Catalog\n"
        "t = time.perf_counter()\n"
        "cat = Catalog(sys.argv[2], create=False)\n"
        "o = time.perf_counter()\n"
        "out = b._queries(json.loads(sys.argv[3]))[sys.argv[4]](cat)\n"
        "f = time.perf_counter()\n"
        "print(json.dumps({'open_ms': (o - t) * 1000, 'cold_ms': (f - o) * 1000}))\n"
    )
    here = str(Path(__file__).parent)
    argv = [sys.executable, "-c", code, here, url, json.dumps(keys), label]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def show(results: dict[str, Any]) -> None:
    print(f"\n{results['catalog']}: {results['images']} stored analyses")
    print(f"  add: {results['add_per_s']:.1f} analyses/s ({results['add_s']:.1f} s)")
    print(f"  record_matches: {results['record_matches_per_s']:.1f} runs/s")
    print(f"  {'query':<30} {'warm ms':>10} {'cold ms':>10} {'open ms':>8} {'rows':>8}")
    for label, row in results["queries"].items():
        first = f"{row['cold_ms']:>10.1f} {row['open_ms']:>8.1f}" if "cold_ms" in row else " " * 19
        print(f"  {label:<30} {row['ms']:>10.1f} {first} {row['rows']:>8}")


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
    exact = out[0]["queries"]["who-has libssl3"]
    slow = max(exact["ms"], exact["cold_ms"])
    if slow >= 100:
        print(f"who-has at {args.images} images took {slow:.1f} ms: over 100 ms", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
