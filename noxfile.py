"""Development sessions: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``, ``notebook``,
``bench``, ``fuzz``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
CORPUS_SCRIPT = ROOT / "tests" / "corpus" / "build-images.sh"
CORPUS_DIR = Path(os.environ.get("ANCHORE_CORPUS", Path.home() / ".cache" / "anchore-test-images"))


def build_corpus(session: nox.Session) -> str:
    """Build (or reuse) the real Debian images; they are the proof the tests rest on."""
    session.log(f"the real image corpus in {CORPUS_DIR} (built once: a few minutes, needs root)")
    session.run("bash", str(CORPUS_SCRIPT), str(CORPUS_DIR), external=True)
    return str(CORPUS_DIR)


#: the real tools the tests ask (version oracles, a registry), and the Debian packages with them
ORACLES = {
    "/usr/lib/python3/dist-packages/rpm": "python3-rpm",  # rpm's labelCompare
    "/usr/bin/ruby": "ruby",  # Gem::Version
    "/usr/share/maven/lib/maven-artifact-3.x.jar": "maven",  # ComparableVersion
    "/usr/bin/go": "golang-go",
    "/usr/share/gocode/src/golang.org/x/mod/semver": "golang-golang-x-mod-dev",
    # the real registry the pull tests push the corpus to (CNCF distribution), skopeo
    # to push, htpasswd (apache2-utils) for its basic-auth users
    "/usr/bin/docker-registry": "docker-registry",
    "/usr/bin/skopeo": "skopeo",
    "/usr/bin/htpasswd": "apache2-utils",
    # the catalog's PostgreSQL server, started by the tests on loopback (initdb, pg_ctl)
    "/usr/lib/postgresql": "postgresql",
    # the HTML report loaded and screenshotted in a real browser (headless)
    "/usr/bin/chromium": "chromium",
    # what a person sees at a terminal: the CLI run in tmux at 80 and 200 columns
    "/usr/bin/tmux": "tmux",
}


def install_oracles(session: nox.Session) -> None:
    """Install the missing oracle tools from Debian's archive (as root, like the corpus)."""
    missing = sorted({pkg for path, pkg in ORACLES.items() if not Path(path).exists()})
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.error(
            f"the version oracles need Debian packages: apt-get install {' '.join(missing)}"
        )
    session.log(f"installing oracle tools: {' '.join(missing)}")
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-q", *missing, external=True,
                env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, the real-image tier and the live version oracles included."""
    session.install("-e", ".[test]")
    install_oracles(session)
    env = {"ANCHORE_CORPUS": build_corpus(session)}
    session.run("pytest", *session.posargs, env=env)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (MkDocs, API reference from the docstrings); any
    warning (a broken link, a docstring that does not render) fails the build."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"))


@nox.session
def notebook(session: nox.Session) -> None:
    """Run every cell of examples/*.ipynb against the real images, so it never rots."""
    session.install("-e", ".[notebook]")
    env = {"ANCHORE_CORPUS": build_corpus(session)}
    session.run("python", str(ROOT / "examples" / "run_notebooks.py"), env=env)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    # the optional extras too: their modules (psycopg, distributed) are imported, and
    # psycopg ships its own types
    session.install("-e", ".[postgresql,dask]", "mypy>=1.10")
    session.run("mypy", "src")


@nox.session
def bench(session: nox.Session) -> None:
    """open_image + walk vs `tar -tf`; a million-file image; analysis and `anchore sbom` vs
    syft and trivy (benchmarks/peers/trivy.sh, or ANCHORE_TRIVY) beside the read-and-hash
    floor; `anchore packages` and start-up vs syft and trivy; a pull from a loopback registry
    vs the archive and vs syft; 20 images with 1 and 2
    workers; catalog queries over 1,000 stored analyses. Not in tests."""
    session.install("-e", ".[test]")
    corpus = build_corpus(session)
    session.run("python", "benchmarks/bench_open.py", corpus, *session.posargs)
    session.run("python", "benchmarks/bench_analyze.py", corpus)
    session.run("python", "benchmarks/bench_vulns.py", corpus, str(ROOT / "tests" / "data"))
    session.run("python", "benchmarks/bench_sbom.py", corpus)
    session.run("python", "benchmarks/bench_cli.py", corpus)
    install_oracles(session)  # docker-registry and skopeo, for the loopback registry
    session.run("python", "benchmarks/bench_registry.py", corpus)
    session.run("python", "benchmarks/bench_many.py", corpus)
    session.run("python", "benchmarks/bench_catalog.py", corpus)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Each fuzz target (tests/fuzz/targets.py) for N seconds under atheris: ``nox -s fuzz``
    (60 s each), ``nox -s fuzz -- 600``, ``nox -s fuzz -- 60 --targets dpkg,layer --keep``.
    Exits non-zero when something was found; docs/development.md, Fuzzing."""
    session.install("-e", ".[fuzz]")
    args = list(session.posargs)
    seconds = args.pop(0) if args and args[0].isdigit() else "60"
    # the real images' manifests and configs are seeds too, when the corpus is built
    env = {"ANCHORE_CORPUS": str(CORPUS_DIR)} if CORPUS_DIR.exists() else {}
    session.run("python", "tests/fuzz/run.py", "--seconds", seconds, *args, env=env)
