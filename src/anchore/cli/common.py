"""What the command modules share: the image arguments, opening the image, usage errors."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from anchore.errors import InvalidPlatformError
from anchore.image import Image, Platform, open_image

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis
    from anchore.sbom.format import SbomFormat

__all__ = [
    "UsageError",
    "analysis_of",
    "image_args",
    "layer_number",
    "open_analysis",
    "open_from",
    "platform_arg",
    "sbom_of",
]


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
    p.add_argument(
        "image",
        help="docker-save archive, OCI layout or OCI archive (path[:tag]), or an SBOM file "
        "(CycloneDX, SPDX, syft-json, anchore-json)",
    )
    p.add_argument(
        "--platform", type=platform_arg, help="os/arch[/variant] in a multi-platform index"
    )
    p.add_argument("--tag", help="which image, when the source holds several")


def open_from(args: argparse.Namespace) -> Image:
    _refuse_a_document(args.image)
    return open_image(args.image, platform=args.platform, tag=args.tag)


def sbom_of(source: str) -> SbomFormat | None:
    """The SBOM format of ``source`` when it is an SBOM file anchore reads, else None (an
    image: an archive, a layout directory, ``path:tag``)."""
    from anchore.sbom import SbomError, sniff

    if not os.path.isfile(source):
        return None
    try:
        return sniff(source)
    except SbomError:  # unreadable: opening it as an image reports that, as for any image
        return None


def _refuse_a_document(source: str) -> None:
    """A JSON or XML file no SBOM format recognised: say so, not "not an image"."""
    from anchore.sbom import UTF8_BOM, SbomFormatError, formats

    if not os.path.isfile(source):
        return
    try:
        with open(source, "rb") as fh:
            start = fh.read(64).removeprefix(UTF8_BOM).lstrip()
    except OSError:
        return  # opening it as an image reports that, as for any image
    if start.startswith((b"{", b"<")):
        names = ", ".join(f.name for f in formats())
        raise SbomFormatError(
            f"{source}: neither an image nor an SBOM anchore reads: JSON or XML in none of "
            f"the SBOM formats ({names})",
            source=source,
        )


def analysis_of(
    source: str,
    *,
    platform: Platform | None = None,
    tag: str | None = None,
    **analyze_options: Any,
) -> Analysis:
    """The analysis of ``source``: an SBOM file read back (any format anchore reads,
    sniffed), or the image opened and analyzed with ``analyze_options``. Options that
    choose within an image (``--platform``, ``--tag``, ``--analyzers``) are usage errors
    with an SBOM: it was analyzed already."""
    from anchore.analysis.engine import analyze
    from anchore.sbom import read

    fmt = sbom_of(source)
    if fmt is not None:
        choices = {"--platform": platform, "--tag": tag,
                   "--analyzers": analyze_options.get("analyzers")}  # fmt: skip
        given = [name for name, value in choices.items() if value is not None]
        if given:
            raise UsageError(
                f"{' and '.join(given)} choose within an image; {source} is an SBOM "
                f"({fmt.name}), analyzed already"
            )
        return read(source, format=fmt.name)
    _refuse_a_document(source)
    with open_image(source, platform=platform, tag=tag) as image:
        return analyze(image, **analyze_options)


def open_analysis(args: argparse.Namespace, **analyze_options: Any) -> Analysis:
    """The analysis of ``args.image``: an SBOM file read back (any format anchore
    reads, sniffed), or the image opened and analyzed with ``analyze_options``."""
    return analysis_of(args.image, platform=args.platform, tag=args.tag, **analyze_options)
