"""What the command modules share: the image arguments, opening the image, usage errors."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from anchore.errors import InvalidPlatformError
from anchore.image import Image, Platform, open_image

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis

__all__ = ["UsageError", "image_args", "layer_number", "open_analysis", "open_from", "platform_arg"]


class UsageError(Exception):
    """An argument combination argparse cannot check (``--own`` without ``--layer``).

    Raised by a command; :func:`anchore.cli.main` prints it with the command's
    usage and exits USAGE_ERROR, as for argparse's own errors.
    """


def platform_arg(text: str) -> Platform:
    """``--platform`` as argparse checks it: a bad spelling is a usage error."""
    try:
        return Platform.parse(text)
    except InvalidPlatformError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def layer_number(text: str) -> int:
    """``--layer`` as argparse checks it: 0, 1, 2... (the range is the image's to check)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; layers are numbered from 0")
    return value


def image_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="docker-save archive, OCI layout or OCI archive (path[:tag])")
    p.add_argument(
        "--platform", type=platform_arg, help="os/arch[/variant] in a multi-platform index"
    )
    p.add_argument("--tag", help="which image, when the source holds several")


def open_from(args: argparse.Namespace) -> Image:
    return open_image(args.image, platform=args.platform, tag=args.tag)


def open_analysis(args: argparse.Namespace, **analyze_options: Any) -> Analysis:
    """The analysis of ``args.image``: an SBOM file read back (any format anchore
    reads, sniffed), or the image opened and analyzed with ``analyze_options``."""
    from anchore.analysis.engine import analyze
    from anchore.sbom import read, sniff

    fmt = sniff(args.image)
    if fmt is not None:
        return read(args.image, format=fmt.name)
    with open_from(args) as image:
        return analyze(image, **analyze_options)
