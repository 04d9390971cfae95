"""What the command modules share: the image arguments and opening the image."""

from __future__ import annotations

import argparse

from anchore.image import Image, open_image


def image_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="docker-save archive, OCI layout or OCI archive (path[:tag])")
    p.add_argument("--platform", help="os/arch[/variant] in a multi-platform index")
    p.add_argument("--tag", help="which image, when the source holds several")


def open_from(args: argparse.Namespace) -> Image:
    return open_image(args.image, platform=args.platform, tag=args.tag)
