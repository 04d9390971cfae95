"""Scale: an image of 3 million files opened and walked in under 60 s and 1.5 GiB.

3 million files is where stereoscope needs 10 minutes and 12 GB (grype#1509).
The image is built once by the benchmark's ``make_scale_image`` (four gzip
layers of small files, about a minute) and cached beside the benchmark's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from confine import run_confined

pytestmark = [pytest.mark.scale, pytest.mark.timeout(900)]

FILES = 3_000_000
WALK = (
    "import anchore\n"
    "image = anchore.open_image(PATH)\n"
    "n = sum(1 for _ in image.files())\n"
    "m = sum(1 for _ in image.squashed().walk())\n"
    "result = [n, m]\n"
)


@pytest.fixture(scope="module")
def scale_image() -> str:
    cache = Path(os.path.expanduser("~/.cache/anchore-bench"))
    path = cache / f"scale-{FILES}.oci.tar"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
        from bench_open import make_scale_image

        part = path.with_suffix(".part")
        make_scale_image(part, FILES)
        part.rename(path)
    return str(path)


def test_three_million_files_open_and_walk_within_bounds(scale_image):
    # the address-space bound leaves headroom over the resident bound asserted below
    out = run_confined(WALK, seconds=600, memory_mib=4096, PATH=scale_image)
    n, m = out.assert_no_error()
    # 3 million files, 3,000 directories d0000..d0749 per layer and /data, /data/l0..l3
    assert n == m == FILES + 3_000 + 5
    assert out.seconds < 60, f"{out.seconds:.1f} s"
    assert out.peak_mib < 1536, f"{out.peak_mib:.0f} MiB"
