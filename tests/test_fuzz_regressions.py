"""Every input the fuzzer found is a regression test; the fuzz targets themselves work.

``tests/fuzz/run.py`` (``nox -s fuzz``) keeps each crashing or hanging input in
``tests/fuzz/regressions/<target>/``; here each runs through its target again,
in a confined child (a time and memory bound, a private temp dir): the library
must answer within the contract (only AnchoreErrors, error entries in plain
words, no analyzer failing as a whole) in time.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import anchore
from confine import run_confined
from fuzz import targets
from fuzz.targets import TARGETS, Violation

TESTS = Path(__file__).resolve().parent
REGRESSIONS = sorted((TESTS / "fuzz" / "regressions").glob("*/*.bin*"))

CASE = """
import gzip, sys, time
sys.path.insert(0, TESTS)
from fuzz.targets import TARGETS
result = {}
for path in INPUTS:
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    start = time.perf_counter()
    try:
        TARGETS[TARGET].run(data)
    except BaseException as exc:
        raise AssertionError(f"{path}: {exc}") from exc
    result[path] = time.perf_counter() - start
"""


def load(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def test_regressions_name_their_targets():
    assert REGRESSIONS, "the fuzzer's finds are kept here"
    assert {p.parent.name for p in REGRESSIONS} <= set(TARGETS)


@pytest.mark.parametrize("target", sorted({p.parent.name for p in REGRESSIONS}))
def test_kept_fuzz_inputs(target: str):
    """One confined child per target runs each of its kept inputs (a child each would
    cost a second of start-up per input); a failure names the input."""
    inputs = [str(p) for p in REGRESSIONS if p.parent.name == target]
    out = run_confined(CASE, seconds=120, memory_mib=2048, watch=[TESTS / "fuzz" / "regressions"],
                       TESTS=str(TESTS), TARGET=target, INPUTS=inputs)  # fmt: skip
    out.assert_no_error()
    assert sorted(out.result) == sorted(inputs)
    slow = {Path(p).name: round(t, 1) for p, t in out.result.items() if t > 30}
    assert not slow, f"kept inputs that take more than 30 s: {slow}"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_reads_its_seeds(name: str):
    """Each target has real seeds, and they meet the contract (the fuzzer starts from them)."""
    target = TARGETS[name]
    seeds = target.seeds()
    assert seeds, f"{name}: no seeds"
    for seed in seeds:
        assert target.mutate(seed, __import__("random").Random(1), target.max_len) is not None
        target.run(seed[: target.max_len])


def test_a_broken_contract_is_caught(monkeypatch):
    """The targets report what they exist to find: an untyped exception, a failed analyzer,
    a raw error message."""
    seed = TARGETS["apk"].seeds()[0]

    def raising(*args, **kwargs):
        raise TypeError("'int' object is not subscriptable")

    monkeypatch.setattr(anchore, "analyze", raising)
    with pytest.raises(Violation) as caught:
        TARGETS["apk"].run(seed)
    assert caught.value.kind == "untyped" and "TypeError" in caught.value.signature
    monkeypatch.undo()

    def analysis(**kw):
        return anchore.Analysis(image={}, distro=None, packages=[], findings=[], files=[], **kw)

    failed = analysis(
        errors=[anchore.AnalyzerError("apk", "TypeError: x")], failed_analyzers=("apk",)
    )
    with pytest.raises(Violation, match="analyzer-failed"):
        targets.check_analysis(failed)
    raw = analysis(errors=[anchore.AnalyzerError("apk", "/lib/apk/db/installed: KeyError: 'P'")])
    monkeypatch.setattr(targets, "PLAIN_MESSAGES", True)
    with pytest.raises(Violation, match="raw-message"):
        targets.check_analysis(raw)
    plain = analysis(
        errors=[anchore.AnalyzerError("apk", "/lib/apk/db/installed: record 3: missing field 'P'")]
    )
    targets.check_analysis(plain)
