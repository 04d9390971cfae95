"""analyze_many: the real corpus on a process pool, a thread pool and a Dask cluster.

Every result is compared with what ``anchore.analyze`` gives for the same source in
this process, so an executor that lost, mixed up or mangled an analysis fails here.
"""

from __future__ import annotations

import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

import anchore
from anchore.analysis.many import ExecutorError, image_key
from anchore.errors import ExitCode
from anchore.image.model import ImageInfo

pytestmark = pytest.mark.corpus

NAMES = ("debian-min", "debian-py", "debian-node")


def _sources(corpus: Path) -> list[anchore.ImageSource]:
    """The corpus in its three forms: docker archive, OCI archive, and the OCI layout
    holding all three (chosen by tag)."""
    found = []
    for name in NAMES:
        found.append(anchore.ImageSource(str(corpus / f"{name}.docker.tar")))
        found.append(anchore.ImageSource(str(corpus / f"{name}.oci.tar")))
        found.append(anchore.ImageSource(str(corpus / "oci"), tag=name))
    return found


def _label(source: anchore.ImageSource) -> str:
    return f"{source.source}:{source.tag}" if source.tag else source.source


def _comparable(analysis: anchore.Analysis) -> dict[str, object]:
    data = analysis.to_dict()
    data.pop("timings", None)
    return data


@pytest.fixture(scope="module")
def reference(corpus: Path) -> dict[str, dict[str, object]]:
    """What anchore.analyze gives for each corpus source, analyzed here, one at a time."""
    found = {}
    for source in _sources(corpus):
        with anchore.open_image(source.source, tag=source.tag) as image:
            found[_label(source)] = _comparable(anchore.analyze(image))
    return found


def _by_label(results: list[anchore.ImageResult]) -> dict[str, anchore.ImageResult]:
    """Results keyed as the reference is (an OCI layout's images differ by tag only)."""
    keyed = {}
    for result in results:
        assert result.image is not None, result.failure
        keyed[f"{result.source}:{result.tag}" if result.tag else result.source] = result
    return keyed


def _assert_equal_to_reference(results, reference):
    assert all(r.ok and not r.skipped for r in results), [r.failure for r in results]
    keyed = _by_label(results)
    assert sorted(keyed) == sorted(reference)
    for label, result in keyed.items():
        assert result.analysis is not None
        assert _comparable(result.analysis) == reference[label], label
        assert result.seconds > 0


def test_process_pool_results_equal_analyze(corpus, reference):
    """The default executor: a process pool of its own, made and shut down here."""
    results = list(anchore.analyze_many(_sources(corpus), workers=2))
    assert len(results) == 9
    _assert_equal_to_reference(results, reference)


def test_failures_are_values_naming_the_source(corpus, tmp_path):
    missing = tmp_path / "missing.oci.tar"
    corrupt = tmp_path / "corrupt.docker.tar"
    corrupt.write_bytes((corpus / "debian-min.docker.tar").read_bytes()[:300_000])
    good = [corpus / "debian-min.docker.tar", corpus / "debian-py.oci.tar"]
    results = list(anchore.analyze_many([good[0], missing, corrupt, good[1]], workers=2))

    by_source = {r.source: r for r in results}
    assert sorted(by_source) == sorted(str(p) for p in [*good, missing, corrupt])
    for path in good:
        assert by_source[str(path)].ok and by_source[str(path)].analysis is not None
    for path, error in ((missing, anchore.errors.ImageNotFoundError), (corrupt, None)):
        result = by_source[str(path)]
        assert not result.ok and result.analysis is None
        assert result.failure is not None
        assert str(path) in result.failure.message
        assert "\n" not in result.failure.message
        assert result.failure.exit_code == ExitCode.INPUT_ERROR
        if error is not None:
            assert result.failure.error == error.__name__
        # a failure crosses processes as plain values
        assert pickle.loads(pickle.dumps(result)) == result
    truncated = by_source[str(corrupt)].failure
    assert truncated is not None
    assert issubclass(getattr(anchore.errors, truncated.error), anchore.AnchoreError)


def test_skip_opens_but_does_not_analyze(corpus):
    docker = corpus / "debian-min.docker.tar"
    oci = corpus / "debian-min.oci.tar"
    with anchore.open_image(docker) as image:
        docker_key = image.config_digest  # a docker-save archive records no manifest digest
        assert image.manifest_digest is None
    with anchore.open_image(oci) as image:
        oci_key = image.manifest_digest
        assert oci_key is not None and oci_key != image.config_digest
    results = list(
        anchore.analyze_many(
            [docker, oci, corpus / "debian-py.oci.tar"],
            skip={docker_key, oci_key},
            executor=ThreadPoolExecutor(2),
        )
    )
    by_source = {r.source: r for r in results}
    for path, key in ((docker, docker_key), (oci, oci_key)):
        result = by_source[str(path)]
        assert result.ok and result.skipped and result.analysis is None
        assert result.image is not None and image_key(result.image) == key
    analyzed = by_source[str(corpus / "debian-py.oci.tar")]
    assert not analyzed.skipped and analyzed.analysis is not None


def test_given_thread_pool_is_used_and_left_open(corpus, reference):
    sources = [s for s in _sources(corpus) if "debian-node" not in _label(s)]
    with ThreadPoolExecutor(2) as pool:
        results = list(anchore.analyze_many(sources, executor=pool))
        assert pool.submit(lambda: 42).result() == 42  # still ours to use
    assert len(results) == 6
    _assert_equal_to_reference(
        results, {k: v for k, v in reference.items() if "debian-node" not in k}
    )


def test_progress_is_called_per_image_in_this_process(corpus):
    calls = []
    caller = threading.get_ident()

    def progress(stage, done, total):
        calls.append((stage, done, total, threading.get_ident()))

    sources = [corpus / f"{name}.docker.tar" for name in NAMES]
    list(anchore.analyze_many(sources, executor=ThreadPoolExecutor(2), progress=progress))
    assert [c[:3] for c in calls] == [("images", n, 3) for n in (1, 2, 3)]
    assert {c[3] for c in calls} == {caller}

    calls.clear()  # a generator: the total is what has been submitted so far
    list(
        anchore.analyze_many(
            (s for s in sources), executor=ThreadPoolExecutor(1), progress=progress
        )
    )
    assert [c[1] for c in calls] == [1, 2, 3]
    assert calls[-1][2] == 3
    assert all(done <= total for _, done, total, _ in calls)


def test_sources_are_read_as_the_work_goes(corpus):
    """At most max_in_flight images are submitted at a time: an endless source works."""
    consumed = []

    def sources():
        while True:
            consumed.append(1)
            yield corpus / "debian-min.docker.tar"

    results = anchore.analyze_many(sources(), executor=ThreadPoolExecutor(1), max_in_flight=2)
    first = next(results)
    assert first.ok
    assert len(consumed) <= 3
    results.close()


def _descendants() -> dict[int, str]:
    psutil = pytest.importorskip("psutil")
    return {p.pid: " ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)}


def test_early_close_leaves_no_worker_running(corpus):
    before = _descendants()
    results = anchore.analyze_many(_sources(corpus), workers=2)
    assert next(results).ok
    during = _descendants()
    assert len(set(during) - set(before)) >= 2  # the pool's workers (and a forkserver)
    results.close()
    left = {pid: cmd for pid, cmd in _descendants().items() if pid not in before}
    # only the forkserver stays (multiprocessing keeps it for the next pool), idle
    assert all("forkserver" in cmd for cmd in left.values()), left
    psutil = pytest.importorskip("psutil")
    for pid in left:
        assert psutil.Process(pid).children() == []


def test_an_open_image_is_refused(corpus):
    with (
        anchore.open_image(corpus / "debian-min.docker.tar") as image,
        pytest.raises(TypeError, match="open Image"),
    ):
        anchore.analyze_many([image])
    with pytest.raises(TypeError, match="iterable of sources"):
        anchore.analyze_many(str(corpus / "debian-min.docker.tar"))  # type: ignore[arg-type]


def test_dask_address_without_distributed_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if absent
    with pytest.raises(ExecutorError, match=r"anchore\[dask\]"):
        anchore.analyze_many(["x"], executor="tcp://127.0.0.1:1")


# ---- Dask ----
@pytest.fixture
def dask_quiet():
    distributed = pytest.importorskip("distributed")
    import logging

    for name in ("distributed", "distributed.worker", "distributed.scheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return distributed


def test_dask_in_process_cluster(corpus, reference, dask_quiet):
    distributed = dask_quiet
    sources = [s for s in _sources(corpus) if "debian-min" in _label(s)]
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = list(anchore.analyze_many(sources, executor=client.get_executor()))
    assert len(results) == 3
    _assert_equal_to_reference(results, {k: v for k, v in reference.items() if "debian-min" in k})


def test_dask_two_worker_processes(corpus, tmp_path, reference, dask_quiet):
    distributed = dask_quiet
    sources = [s for s in _sources(corpus) if "debian-node" not in _label(s)]
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        # the scheduler's address: analyze_many connects, and closes its client after
        by_address = list(
            anchore.analyze_many(
                [*sources[:3], tmp_path / "missing.tar"], executor=cluster.scheduler_address
            )
        )
        with distributed.Client(cluster) as client:
            by_executor = list(anchore.analyze_many(sources[3:], executor=client.get_executor()))
            workers_used = len(client.nthreads())
    assert workers_used == 2
    failures = [r for r in by_address if not r.ok]
    assert [f.source for f in failures] == [str(tmp_path / "missing.tar")]
    assert failures[0].failure is not None
    assert failures[0].failure.error == "ImageNotFoundError"
    _assert_equal_to_reference(
        [r for r in by_address if r.ok] + by_executor,
        {k: v for k, v in reference.items() if "debian-node" not in k},
    )


# ---- our own process pool: a dying worker, the skip set, Ctrl-C ----
class _KillsItsWorker:
    """Unpickled in a worker, it ends that process at once (as the OOM killer or a crash
    in a C extension would): the pool breaks, every time this image is sent."""

    def __reduce__(self):
        return (os._exit, (3,))


def _poison() -> anchore.ImageSource:
    source = anchore.ImageSource("poison.tar")
    object.__setattr__(source, "platform", _KillsItsWorker())  # sent with the task
    return source


def test_a_worker_that_dies_fails_only_its_image(corpus, reference):
    """The pool breaks (every image in flight fails with it): the others are analyzed
    again and come back; the image that kills its worker, alone too, is the failure."""
    good = [s for s in _sources(corpus) if "debian-min" in _label(s)]
    results = list(anchore.analyze_many([_poison(), *good], workers=2, max_in_flight=4))

    [died] = [r for r in results if r.source == "poison.tar"]
    assert died.failure is not None and died.analysis is None
    assert "poison.tar" in died.failure.message
    assert "the worker analyzing it died" in died.failure.message
    assert died.failure.exit_code == ExitCode.INTERNAL_ERROR
    others = [r for r in results if r.source != "poison.tar"]
    assert len(others) == 3
    _assert_equal_to_reference(others, {k: v for k, v in reference.items() if "debian-min" in k})


def test_the_skip_set_goes_to_each_worker_once(corpus, monkeypatch):
    """A catalog's keys are not pickled with every image (the worker has them from its
    start), yet every worker skips by them."""
    docker, oci = corpus / "debian-min.docker.tar", corpus / "debian-min.oci.tar"
    keys = set()
    for path in (docker, oci):
        with anchore.open_image(path) as image:
            keys.add(image_key(ImageInfo.from_image(image)))
    catalog_keys = {f"sha256:{i:064x}" for i in range(5000)} | keys
    sent = []
    submit = ProcessPoolExecutor.submit

    def recording(self, fn, /, *args, **kwargs):
        sent.append(pickle.dumps((fn, args, kwargs)))
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", recording)
    results = list(anchore.analyze_many([docker, oci, docker], workers=2, skip=catalog_keys))
    assert len(sent) == 3 and all(r.ok and r.skipped for r in results)
    one_key = f"sha256:{1234:064x}".encode()
    assert not any(one_key in task for task in sent)
    assert max(len(task) for task in sent) < 5000  # the task is the source and options


def test_ctrl_c_stops_our_workers_at_once(corpus, monkeypatch):
    """KeyboardInterrupt while iterating: the images still running are abandoned (the
    workers are stopped, not waited for), and no worker is left behind."""
    pools = []
    made = anchore.analysis.many._process_pool

    def recording(*args):
        pools.append(made(*args))
        return pools[-1]

    monkeypatch.setattr(anchore.analysis.many, "_process_pool", recording)
    workers, managers = [], []

    def progress(stage, done, total):
        workers.extend(pools[-1]._processes.values())  # the ones analyzing the rest
        managers.append(pools[-1]._executor_manager_thread)
        raise KeyboardInterrupt

    sources = [corpus / "debian-node.docker.tar"] * 4
    with pytest.raises(KeyboardInterrupt):
        list(anchore.analyze_many(sources, workers=2, progress=progress))
    assert len(workers) == 2
    assert not any(w.is_alive() for w in workers)
    # stopped by a signal, not run to the end and shut down (exit code 0)
    assert all(w.exitcode is not None and w.exitcode < 0 for w in workers), workers
    # and the pool's manager thread is not left reading a half-sent result (the
    # interpreter would wait for it at exit)
    assert not managers[0].is_alive()


def test_ctrl_c_with_more_in_flight_than_the_call_queue_is_quiet(corpus, monkeypatch):
    """KeyboardInterrupt with images still waiting for the pool's call queue (it holds
    ``workers + 1``; a worker holds one more): on Python 3.10 and 3.11 a future cancelled
    before the workers are stopped makes the pool's manager thread die with
    InvalidStateError (a traceback on stderr) and leaves its queue's feeder thread behind.
    Nothing reaches threading.excepthook, and no thread of the pool is left."""
    hooked = []
    monkeypatch.setattr(threading, "excepthook", hooked.append)
    pools = []
    made = anchore.analysis.many._process_pool

    def recording(*args):
        pools.append(made(*args))
        return pools[-1]

    monkeypatch.setattr(anchore.analysis.many, "_process_pool", recording)
    workers = []

    def progress(stage, done, total):
        workers.extend(pools[-1]._processes.values())
        raise KeyboardInterrupt

    before = set(threading.enumerate())
    # after the first result 2 * 2 + 2 are in flight: at most 2 running and 3 queued, so at
    # least one future is still pending (not sent to a worker) when Ctrl-C comes
    sources = [corpus / "debian-min.docker.tar"] * 10
    with pytest.raises(KeyboardInterrupt):
        list(anchore.analyze_many(sources, workers=2, max_in_flight=2 * 2 + 3, progress=progress))
    assert hooked == []
    assert len(workers) == 2 and not any(w.is_alive() for w in workers)
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == [], left
