from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import imagebuilder

CORPUS_ENV = "ANCHORE_CORPUS"
CORPUS_IMAGES = ("debian-min", "debian-py", "debian-node")


@pytest.fixture(autouse=True)
def _no_personal_config(tmp_path_factory, monkeypatch):
    """The developer's own ~/.config/anchore/anchore.yaml and $ANCHORE_CONFIG never reach
    a test (nor the commands a test runs): the command line reads both by default."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("ANCHORE_CONFIG", raising=False)


@pytest.fixture(params=["docker", "oci-dir", "oci-tar"])
def fmt(request: pytest.FixtureRequest) -> str:
    """Run a test once per image format."""
    return str(request.param)


@pytest.fixture
def make_image(tmp_path: Path, fmt: str):
    """Build layers into an image in the current format; return its path."""

    def make(layers, compression="gzip", **kw):
        built = imagebuilder.build(layers, compression, **kw)
        return imagebuilder.write_all_formats(tmp_path, built)[fmt]

    return make


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real Debian images from tests/corpus/build-images.sh.

    ``nox -s tests`` builds them and sets ANCHORE_CORPUS; running pytest by
    hand, set it yourself (or deselect with ``-m 'not corpus'``). A missing
    corpus is an error, not a skip: these tests are the proof.
    """
    where = os.environ.get(CORPUS_ENV) or os.path.expanduser("~/.cache/anchore-test-images")
    path = Path(where)
    if not all((path / f"{name}.oci.tar").exists() for name in CORPUS_IMAGES):
        pytest.fail(
            f"real image corpus not found in {path}: run tests/corpus/build-images.sh "
            f"(as root) or set {CORPUS_ENV}; or deselect these tests with -m 'not corpus'"
        )
    return path
