"""Run hostile work in a confined subprocess: bounded time and memory, a private temp dir.

The hostile corpus must prove three things of every case: the library answers
(a typed error or an error entry) within a time bound, within a memory bound,
and writes nothing outside a temporary directory it owns. A case runs as a
Python snippet in a child process under ``prlimit --as`` (address space) with
a wall-clock timeout, ``TMPDIR`` and the working directory pointing into a
private directory; the parent snapshots the system temp directory and the
directories of the inputs before and after.

The snippet sets ``result`` (anything JSON can hold) or raises; the outcome says
which, with the exception's class names (its MRO) and message::

    out = run_confined("import anchore; anchore.open_image(PATH)", PATH=str(image))
    out.assert_raised("LimitExceededError", limit="max_pax_keys")
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

__all__ = ["Outcome", "run_confined"]

_MIB = 1024 * 1024
#: the private directories' prefix (the library's own temp names never start with it)
_PREFIX = "anchore-confined-"

#: what the child runs around the snippet: globals from the parent, the outcome as JSON
_WRAPPER = r"""
import json, sys, traceback
ns = json.loads(sys.argv[1])
code = sys.argv[2]
out = {}
try:
    exec(compile(code, "<case>", "exec"), ns)
    out["result"] = ns.get("result")
except BaseException as exc:  # the outcome is the point
    out["raised"] = [c.__name__ for c in type(exc).__mro__]
    out["message"] = str(exc)
    out["limit"] = getattr(exc, "limit", None)
    out["traceback"] = traceback.format_exc()[-4000:]
# VmHWM is this process image's own peak (ru_maxrss would keep the forking parent's)
with open("/proc/self/status") as status:
    hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
out["peak_mib"] = int(hwm[0]) / 1024 if hwm else 0.0
sys.stdout.write("\n@@OUTCOME@@" + json.dumps(out, default=repr))
"""


@attrs.frozen
class Outcome:
    """What a confined case did."""

    result: Any = None
    raised: tuple[str, ...] = ()
    message: str = ""
    limit: str | None = None
    traceback: str = ""
    seconds: float = 0.0
    #: the child's peak resident set, in MiB
    peak_mib: float = 0.0
    stderr: str = ""

    def assert_raised(self, name: str, *, limit: str | None = None, contains: str = "") -> None:
        """The case raised ``name`` (or a subclass), an AnchoreError, naming what is asked."""
        assert self.raised, f"expected {name}, got result {self.result!r}"
        assert "AnchoreError" in self.raised, f"untyped {self.raised[0]}: {self.traceback}"
        assert name in self.raised, f"expected {name}, got {self.raised[0]}: {self.message}"
        if limit is not None:
            assert self.limit == limit, f"expected limit {limit}, got {self.limit}: {self.message}"
        if contains:
            assert contains in self.message, f"{contains!r} not in {self.message!r}"

    def assert_no_error(self) -> Any:
        assert not self.raised, f"{self.raised[0]}: {self.message}\n{self.traceback}"
        return self.result


def _snapshot(dirs: list[Path]) -> set[str]:
    seen: set[str] = set()
    for d in dirs:
        with contextlib.suppress(OSError):
            seen.update(str(d / name) for name in os.listdir(d))
    return seen


def run_confined(
    code: str,
    *,
    seconds: float = 60,
    memory_mib: int = 2048,
    watch: list[str | os.PathLike[str]] = (),  # type: ignore[assignment]
    **names: Any,
) -> Outcome:
    """Run ``code`` in a child bounded to ``seconds`` and ``memory_mib`` of address space.

    ``names`` become the snippet's globals (JSON values: paths as strings). Fails
    the test on a timeout, on a crash without an outcome (a signal, the memory
    bound), and when anything new appears in the system temp directory or in
    the directories of ``watch`` (the inputs; nothing may be extracted beside them).
    """
    system_tmp = Path(tempfile.gettempdir())
    watched = [system_tmp, *(Path(p) for p in watch)]
    watched += [Path(p).parent for p in watch if Path(p).is_file()]
    with tempfile.TemporaryDirectory(prefix=_PREFIX) as private:
        before = _snapshot(watched)
        env = dict(os.environ, TMPDIR=private, HOME=private)
        cmd = [
            "prlimit",
            f"--as={memory_mib * _MIB}",
            "--core=0",
            sys.executable,
            "-c",
            _WRAPPER,
            json.dumps(names),
            code,
        ]
        start = time.perf_counter()
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=seconds, cwd=private, env=env
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"no answer within {seconds} s (a hang): {code[:200]}") from exc
        elapsed = time.perf_counter() - start
        # other confined cases running beside this one (parallel sessions) are not ours
        after = {p for p in _snapshot(watched) - before if _PREFIX not in Path(p).name}
        assert not after, f"written outside the private temp dir: {sorted(after)[:10]}"
    marker = done.stdout.rfind("@@OUTCOME@@")
    assert marker >= 0, (
        f"the case died without an outcome (exit {done.returncode}; memory bound "
        f"{memory_mib} MiB?): {done.stderr[-2000:]}"
    )
    out = json.loads(done.stdout[marker + len("@@OUTCOME@@") :])
    return Outcome(
        result=out.get("result"),
        raised=tuple(out.get("raised", ())),
        message=out.get("message", ""),
        limit=out.get("limit"),
        traceback=out.get("traceback", ""),
        seconds=elapsed,
        peak_mib=out.get("peak_mib", 0.0),
        stderr=done.stderr[-4000:],
    )
