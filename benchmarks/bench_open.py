"""Benchmark: open_image + a full walk of the squashed tree, against `tar -tf`.

Run through ``nox -s bench`` (which builds the corpus first). Each measurement
runs in a fresh process so that peak memory (max RSS) is the process's own.
Prints a table and writes benchmarks/results/open.json.

    python benchmarks/bench_open.py CORPUS_DIR [--repeat N] [--scale-files N]

The scale figure is an image of ``--scale-files`` (default 3 million) small files
in four gzip layers, opened and walked once, against ``tar -tf`` of its layers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from measure import measure, save_results

HERE = Path(__file__).parent
WALK = (
    "import sys, anchore\n"
    "image = anchore.open_image(sys.argv[1], verify=sys.argv[2] == 'verify')\n"
    "n = sum(1 for _ in image.files())\n"
    "print(n)\n"
)


def layer_blobs(image_path: Path, workdir: Path) -> list[Path]:
    """The layer blobs of an archive, copied out once (outside the timing) for `tar -tf`."""
    with tarfile.open(image_path) as outer:
        names = outer.getnames()
        if "manifest.json" in names:
            manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
            layers = manifest[0]["Layers"]
        else:
            index = json.load(outer.extractfile("index.json"))  # type: ignore[arg-type]
            digest = index["manifests"][0]["digest"].split(":")[1]
            manifest = json.load(outer.extractfile(f"blobs/sha256/{digest}"))  # type: ignore[arg-type]
            layers = [
                f"blobs/sha256/{layer['digest'].split(':')[1]}" for layer in manifest["layers"]
            ]
        out = []
        for i, name in enumerate(layers):
            member = outer.getmember(name)
            while member.issym():
                member = outer.getmember(
                    os.path.normpath(os.path.join(os.path.dirname(member.name), member.linkname))
                )
            dest = workdir / f"{image_path.name}.layer{i}"
            with open(dest, "wb") as fh:
                fh.write(outer.extractfile(member).read())  # type: ignore[union-attr]
            out.append(dest)
        return out


def tar_listing_cmd(blobs: list[Path]) -> list[str]:
    """`tar -tf` over every layer blob, one after another, as one command."""
    script = " && ".join(f"tar -tf {b} >/dev/null" for b in blobs)
    return ["bash", "-c", script]


def make_scale_image(path: Path, files: int, layers: int = 4) -> None:
    """A gzip OCI archive of ``files`` small files spread over ``layers`` layers."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    import gzip
    import hashlib
    import io

    blobs: list[tuple[bytes, bytes]] = []
    per_layer = files // layers
    for layer in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for d in range(per_layer // 1000):
                info = tarfile.TarInfo(f"data/l{layer}/d{d:04d}")
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            payload = b"x\n"
            for i in range(per_layer):
                info = tarfile.TarInfo(f"data/l{layer}/d{i // 1000:04d}/file-{i:07d}.txt")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
        raw = buf.getvalue()
        blobs.append((raw, gzip.compress(raw, compresslevel=1, mtime=0)))
    from imagebuilder import Built, oci_archive

    built = Built(
        config={
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest() for r, _ in blobs],
            },
        },
        layers=[c for _, c in blobs],
        diff_tars=[r for r, _ in blobs],
        media_types=["application/vnd.oci.image.layer.v1.tar+gzip"] * layers,
    )
    oci_archive(path, built, "scale")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    # 3 million files: where stereoscope needs 10 minutes and 12 GB (grype#1509); the
    # target is under 60 s and 1.5 GiB
    parser.add_argument("--scale-files", type=int, default=3_000_000)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="anchore-bench-") as tmp:
        for name in ("debian-py.docker.tar", "debian-py.oci.tar"):
            image = args.corpus / name
            blobs = layer_blobs(image, Path(tmp))
            floor = measure(tar_listing_cmd(blobs), args.repeat)
            for mode in ("verify", "no-verify"):
                ours = measure([sys.executable, "-c", WALK, str(image), mode], args.repeat)
                results[f"{name} {mode}"] = {"anchore": ours, "tar -tf": floor}  # type: ignore[dict-item]
                rows.append((f"{name} ({mode})", ours, floor))
        scale_path = (
            Path(os.path.expanduser("~/.cache/anchore-bench")) / f"scale-{args.scale_files}.oci.tar"
        )
        if not scale_path.exists():
            scale_path.parent.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            make_scale_image(scale_path, args.scale_files)
            print(f"built {scale_path} in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        scale_blobs = layer_blobs(scale_path, Path(tmp))
        ours = measure([sys.executable, "-c", WALK, str(scale_path), "verify"], 1)
        floor = measure(tar_listing_cmd(scale_blobs), 1)
        results[scale_path.name] = {"anchore": ours, "tar -tf": floor}  # type: ignore[dict-item]
        rows.append((scale_path.name, ours, floor))
    print(
        f"{'image':38} {'anchore s':>10} {'tar -tf s':>10} {'ratio':>6} {'anchore MiB':>12} {'tar MiB':>8}"
    )
    for name, ours, floor in rows:
        ratio = ours["seconds"] / floor["seconds"]
        print(
            f"{name:38} {ours['seconds']:10.2f} {floor['seconds']:10.2f} {ratio:6.2f} "
            f"{ours['peak_mib']:12.0f} {floor['peak_mib']:8.0f}"
        )
    save_results("open", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
