"""The real Debian images: every path, and file contents, against umoci's unpack."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

import anchore

pytestmark = pytest.mark.corpus

IMAGES = ["debian-min", "debian-py", "debian-node"]
FORMATS = {
    "docker": "{name}.docker.tar",
    "oci-archive": "{name}.oci.tar",
    "oci-layout": "oci:{name}",
}


@pytest.fixture(scope="module")
def unpacked(corpus, tmp_path_factory):
    """``umoci unpack`` of each image: the ground truth for contents and metadata."""
    if shutil.which("umoci") is None:
        pytest.fail("umoci is needed for the corpus tests (build-images.sh installs it)")
    roots = {}
    for name in IMAGES:
        dest = tmp_path_factory.mktemp(name) / "bundle"
        subprocess.run(
            ["umoci", "unpack", "--image", f"{corpus}/oci:{name}", str(dest)],
            check=True,
            capture_output=True,
        )
        roots[name] = dest / "rootfs"
    return roots


@pytest.fixture(
    scope="module", params=[(i, f) for i in IMAGES for f in FORMATS], ids=lambda p: f"{p[0]}-{p[1]}"
)
def opened(request, corpus):
    name, fmt = request.param
    return name, anchore.open_image(corpus / FORMATS[fmt].format(name=name))


def test_squashed_paths_equal_umoci_unpack(opened, corpus):
    name, image = opened
    truth = (corpus / f"{name}.rootfs.txt").read_text().splitlines()
    ours = [e.path[1:] for e in image.files()]
    assert sorted(ours) == sorted(truth)
    assert len(ours) == len(truth)


def test_contents_and_metadata_equal_umoci_unpack(opened, unpacked):
    name, image = opened
    root = unpacked[name]
    entries = list(image.files())
    sample = random.Random(name).sample(entries, 400) + [
        e for e in entries if e.path in ("/etc/os-release", "/usr/bin/python3.11", "/etc/passwd")
    ]
    for entry in sample:
        host = os.path.join(root, entry.path[1:])
        st = os.lstat(host)
        assert st.st_mode == entry.st_mode, entry
        assert (st.st_uid, st.st_gid) == (entry.uid, entry.gid), entry
        if entry.is_symlink:
            assert os.readlink(host) == entry.link_target
        elif entry.is_file:
            assert st.st_size == entry.size
            with open(host, "rb") as fh:
                assert image.read_bytes(entry.path) == fh.read(), entry.path


def test_debian_py_layers_history_and_config(corpus):
    for fmt in FORMATS.values():
        image = anchore.open_image(corpus / fmt.format(name="debian-py"))
        assert len(image.layers) == 4
        assert image.config.cmd == ("python3",)
        assert image.config.exposed_ports == ("22/tcp", "8080/tcp")
        assert image.config.labels == {"maintainer": "corpus"}
        assert image.config.user == "root"
        assert (
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in image.config.env
        )
        assert image.layers[1].history.created_by.startswith("RUN apt-get install python3")
        assert image.history[-1].empty_layer and image.history[-1].created_by == 'CMD ["python3"]'
        # the last layer deleted curl: gone from the squashed view, still in layer 1
        assert not image.exists("/usr/bin/curl")
        assert image.layers[1].stat("/usr/bin/curl").is_file
        assert "/usr/bin/curl" in image.layers[3].whiteouts
        assert image.squashed(2).exists("/usr/bin/curl")
        helper = image.stat("/usr/local/bin/helper")
        assert helper.is_setuid and helper.layer_index == 3
        assert image.stat("/usr/bin/python3.11").layer_index == 1
        assert image.read_text("/etc/os-release").find("bookworm") > 0
        assert image.listdir("/usr/share/zoneinfo") == ["README"]
        # merged /usr: /bin is a link into /usr/bin, resolved inside the image
        assert image.lstat("/bin").is_symlink
        assert image.realpath("/bin/sh") == "/usr/bin/dash"


def test_docker_and_oci_agree(corpus):
    docker = anchore.open_image(corpus / "debian-py.docker.tar")
    oci = anchore.open_image(corpus / "debian-py.oci.tar")
    assert [layer.diff_id for layer in docker.layers] == [layer.diff_id for layer in oci.layers]
    assert docker.config_digest == oci.config_digest
    assert [(e.path, e.mode, e.size, e.layer_index) for e in docker.files()] == [
        (e.path, e.mode, e.size, e.layer_index) for e in oci.files()
    ]


def test_unverified_fast_path_gives_the_same_tree(corpus):
    verified = anchore.open_image(corpus / "debian-py.docker.tar")
    fast = anchore.open_image(corpus / "debian-py.docker.tar", verify=False)
    assert [layer.diff_id for layer in fast.layers] == [layer.diff_id for layer in verified.layers]
    assert list(fast.files()) == list(verified.files())
    assert fast.read_bytes("/etc/os-release") == verified.read_bytes("/etc/os-release")
