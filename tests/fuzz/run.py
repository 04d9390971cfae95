"""Run the fuzz targets under atheris (libFuzzer), each for a bounded time, in its own process.

    python tests/fuzz/run.py [--seconds 60] [--targets dpkg,layer] [--out DIR] [--keep]

Each target runs in a child process: coverage-guided by atheris over the
``anchore`` package, seeded from real files (``targets.py``), mutated by
libFuzzer and by the target's structure-aware mutator. A contract violation
(an untyped exception, a failed analyzer, a raw error message) is recorded
with its input and the fuzzing goes on, one input kept per distinct bug
(signature: kind, exception, the innermost anchore frame). A hang (no answer
within ``--timeout`` seconds) or a runaway allocation (``--rss-mb``) ends the
child; its input is kept and the target goes on with the time left.

Found inputs go to ``--out/<target>/<sha1>.bin`` with ``findings.jsonl``;
``--keep`` also copies them into ``tests/fuzz/regressions/<target>/``, where
``tests/test_fuzz_regressions.py`` runs each as a test (commit it with the fix).
Exits 1 if anything was found. ``--seed`` fixes libFuzzer's seed: the CI pass
uses a fixed seed and corpus, so it repeats the same inputs (as many as its
time allows), and anything it finds is a real bug, not noise.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: `fuzz` is a package there


def child(args: argparse.Namespace) -> None:
    """Fuzz one target until libFuzzer's time is up (it exits the process)."""
    try:
        import atheris
    except ImportError:  # Python 3.10 (no wheel): the same targets and mutators, no coverage
        atheris = None
    if atheris is not None:
        with atheris.instrument_imports(include=["anchore"]):
            _import_anchore()
    from fuzz import mutators, targets

    tgt = targets.TARGETS[args.child]
    out = Path(args.out) / tgt.name
    out.mkdir(parents=True, exist_ok=True)
    corpus = Path(tempfile.mkdtemp(prefix=f"corpus-{tgt.name}-", dir=args.work))
    for seed in tgt.seeds():
        (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed[: tgt.max_len])
    seen = {json.loads(line)["signature"] for line in _lines(out / "findings.jsonl")}
    stats = {"runs": 0, "start": time.time(), "violations": 0}
    stats_file = out / f"stats-{os.getpid()}.json"
    last = [0.0]

    def record(kind: str, signature: str, detail: str, data: bytes) -> None:
        stats["violations"] += 1
        if signature in seen:
            return
        seen.add(signature)
        sha = hashlib.sha1(data).hexdigest()
        (out / f"{sha}.bin").write_bytes(data)
        finding = {
            "target": tgt.name,
            "kind": kind,
            "signature": signature,
            "input": f"{sha}.bin",
            "detail": detail[-3000:],
            "area": tgt.area,
        }
        with open(out / "findings.jsonl", "a") as fh:
            fh.write(json.dumps(finding) + "\n")
        print(f"\n[fuzz] {tgt.name}: {kind}: {signature}", file=sys.stderr, flush=True)

    current = Path(args.work) / f"current-{tgt.name}.bin"

    def one_input(data: bytes) -> None:
        stats["runs"] += 1
        current.write_bytes(data)  # the culprit, if this input hangs or eats the memory
        try:
            tgt.run(data)
        except targets.Violation as v:
            record(v.kind, v.signature, v.detail, data)
        except Exception as exc:  # the harness itself: still worth a look
            record("harness", f"{type(exc).__name__}: {exc}"[:200], repr(exc), data)
        now = time.time()
        if now - last[0] > 1:
            last[0] = now
            stats_file.write_text(json.dumps(stats))

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.35 and atheris is not None:
            return atheris.Mutate(data, max_size)
        try:
            return tgt.mutate(data, rng, max_size)
        except Exception:  # a mutator's own limits (deep JSON...): plain bytes instead
            return mutators.flip(data, rng, max_size)

    argv = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={args.seconds}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_mb}",
        f"-max_len={tgt.max_len}",
        f"-seed={args.seed}",
        f"-artifact_prefix={out}/",
        "-print_final_stats=1",
        "-print_pcs=0",
        "-reload=0",
    ]
    if args.runs:
        argv.append(f"-runs={args.runs}")
    # past this the allocation fails in Python: a MemoryError with its traceback, found like
    # any other untyped exception (libFuzzer's -rss_limit_mb is the backstop)
    limit = (args.rss_mb + 1024) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if atheris is None:
        _random_engine(args, tgt, sorted(corpus.iterdir()), one_input, mutate)
        stats_file.write_text(json.dumps(stats))
        return
    atheris.Setup(argv, one_input, custom_mutator=mutate)
    atheris.Fuzz()


def _import_anchore() -> None:
    """Every anchore module, so that atheris instruments them all (analyzers load lazily)."""
    import pkgutil

    import anchore

    for info in pkgutil.walk_packages(anchore.__path__, "anchore."):
        if not info.name.startswith(("anchore.cli", "anchore.__main__")):
            __import__(info.name)


def _random_engine(
    args: argparse.Namespace, tgt: object, seeds: list[Path], one_input: Any, mutate: Any
) -> None:
    """Without atheris: mutate the seeds at random (no coverage feedback) for the time given;
    an input past ``--timeout`` ends the process as libFuzzer would (``timeout-`` artifact)."""
    import signal

    rng = random.Random(args.seed)
    pool = [p.read_bytes() for p in seeds] or [b""]
    out = Path(args.out) / args.child

    def alarm(signum: int, frame: object) -> None:
        (out / "timeout-random").write_bytes(b"")
        os._exit(70)

    signal.signal(signal.SIGALRM, alarm)
    deadline = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < deadline and (not args.runs or n < args.runs):
        data = mutate(rng.choice(pool), tgt.max_len, rng.getrandbits(32))  # type: ignore[attr-defined]
        signal.alarm(args.timeout)
        one_input(data)
        signal.alarm(0)
        n += 1
        if len(pool) < 500 and rng.random() < 0.05:
            pool.append(data)


def _executed(log: Path, since: int, out: Path) -> int:
    """Inputs one child ran: libFuzzer's final count, else the child's own (a hang ends it early)."""
    counted = 0
    for stats in out.glob("stats-*.json"):
        with contextlib.suppress(ValueError, KeyError):
            counted += json.loads(stats.read_text())["runs"]
        stats.unlink()
    with open(log, "rb") as fh:
        fh.seek(since)
        tail = fh.read().decode(errors="replace")
    final = re.findall(r"stat::number_of_executed_units: (\d+)", tail)
    return int(final[-1]) if final else counted


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def run_target(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One target for ``args.seconds``, restarted after a hang or OOM with the time left."""
    out = Path(args.out) / name
    out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.seconds
    runs = restarts = 0
    log = out / "libfuzzer.log"
    seed = args.seed
    while restarts <= 3:
        left = int(deadline - time.monotonic())
        if left < 2:
            break
        before = set(os.listdir(out))
        logged = log.stat().st_size if log.exists() else 0
        cmd = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--seconds",
            str(left),
            "--out",
            args.out,
            "--timeout",
            str(args.timeout),
            "--rss-mb",
            str(args.rss_mb),
            "--seed",
            str(seed),
            "--work",
            args.work,
        ] + (["--runs", str(args.runs)] if args.runs else [])
        # the library's own temporary files (spools) stay in the runner's directory too
        tmp = Path(args.work) / f"tmp-{name}"
        tmp.mkdir(exist_ok=True)
        env = dict(os.environ, TMPDIR=str(tmp))
        with open(log, "a") as fh:
            proc = subprocess.run(
                cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=left + args.timeout + 60, env=env
            )
        runs += _executed(log, logged, out)
        current = Path(args.work) / f"current-{name}.bin"
        for artifact in sorted(set(os.listdir(out)) - before):
            kind = artifact.split("-", 1)[0]
            if kind not in ("timeout", "oom", "crash"):  # not "slow-unit": under load, noise
                continue
            data = (out / artifact).read_bytes()
            if kind in ("timeout", "oom") and current.exists():
                data = current.read_bytes()  # libFuzzer's own copy may be empty for atheris
            sha = hashlib.sha1(data).hexdigest()
            (out / f"{sha}.bin").write_bytes(data)
            tail = log.read_text(errors="replace")[-3000:]
            finding = {
                "target": name,
                "kind": {"timeout": "hang"}.get(kind, kind),
                "signature": f"{kind} {sha}",
                "input": f"{sha}.bin",
                "detail": tail,
                "area": "",
            }
            with open(out / "findings.jsonl", "a") as fh:
                fh.write(json.dumps(finding) + "\n")
            (out / artifact).unlink()
        if proc.returncode == 0:
            break
        if not set(os.listdir(out)) - before - {log.name}:  # ended with nothing to show for it
            finding = {
                "target": name,
                "kind": "runner",
                "signature": f"exit {proc.returncode}",
                "input": "",
                "detail": log.read_text(errors="replace")[-3000:],
                "area": "",
            }
            with open(out / "findings.jsonl", "a") as fh:
                fh.write(json.dumps(finding) + "\n")
        restarts += 1
        seed += 1  # not the same path into the same hang
    findings = [json.loads(line) for line in _lines(out / "findings.jsonl")]
    return {"target": name, "runs": runs, "seconds": args.seconds, "findings": findings}


def keep(name: str, findings: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Copy found inputs into tests/fuzz/regressions/<target>/ (gzipped when large)."""
    import gzip

    dest = HERE / "regressions" / name
    dest.mkdir(parents=True, exist_ok=True)
    for finding in findings:
        if not finding["input"]:
            continue
        data = (Path(args.out) / name / str(finding["input"])).read_bytes()
        sha = hashlib.sha256(data).hexdigest()[:16]
        if len(data) > 32 * 1024:
            (dest / f"{sha}.bin.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (dest / f"{sha}.bin").write_bytes(data)


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    name, found = result["target"], result["findings"]
    rate = result["runs"] / max(1, result["seconds"])
    print(f"{name:16} {result['runs']:>8} inputs  {rate:8.1f}/s  {len(found)} found", flush=True)
    for f in found:
        print(f"    {f['kind']}: {f['signature']}  -> {args.out}/{name}/{f['input']}", flush=True)
    if args.keep and found:
        keep(name, found, args)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--targets", default="", help="comma-separated (default: all)")
    parser.add_argument("--out", default="", help="where found inputs go (default: a new temp dir)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=0, help="stop a target after this many inputs")
    parser.add_argument("--jobs", type=int, default=1, help="targets run side by side")
    parser.add_argument("--keep", action="store_true", help="copy found inputs into regressions/")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    from fuzz.targets import TARGETS

    names = [n for n in args.targets.split(",") if n] or list(TARGETS)
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"no such target: {', '.join(unknown)}; there are: {', '.join(TARGETS)}")
    args.out = args.out or tempfile.mkdtemp(prefix="anchore-fuzz-out-")
    # the images each input makes are written here: in memory where the system has it
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    args.work = tempfile.mkdtemp(prefix="anchore-fuzz-work-", dir=shm)
    os.environ["ANCHORE_FUZZ_SCRATCH"] = args.work
    results = []
    try:
        # targets side by side (--jobs): each is one process, CPU-bound
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for result in pool.map(lambda name: run_target(name, args), names):
                results.append(result)
                report(result, args)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    (Path(args.out) / "summary.json").write_text(json.dumps(results, indent=1))
    total = sum(len(r["findings"]) for r in results)
    print(
        f"{sum(r['runs'] for r in results)} inputs over {len(results)} targets; {total} found; "
        f"details in {args.out}"
    )
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
