"""The ``sbom`` command: analyze an image (or read an SBOM) once, write it in each
format asked for, as syft does: ``anchore sbom IMAGE -o cyclonedx-json=out.cdx.json
-o spdx-json=out.spdx.json``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import attrs

from anchore.cli import output
from anchore.cli.common import UsageError, image_args, open_analysis
from anchore.errors import ExitCode
from anchore.sbom import UnknownSbomFormatError, find, formats, write


@attrs.frozen
class Output:
    """One ``-o FORMAT[=FILE]``: the format's name and where it goes (None: stdout)."""

    format: str
    path: str | None


def parse_outputs(values: list[str] | None, file: str | None) -> list[Output]:
    """The outputs asked for, each format checked, at most one to stdout; a bad choice is
    a :class:`UsageError` naming it (and the known formats)."""
    outputs = []
    for text in values or ["cyclonedx-json"]:
        name, eq, path = text.partition("=")
        if eq and not path:
            raise UsageError(f"-o {text}: no file after '='")
        try:
            find(name)
        except UnknownSbomFormatError as exc:
            raise UsageError(f"-o: {exc}") from None
        outputs.append(Output(name, path or None))
    if file is not None:
        if len(outputs) != 1 or outputs[0].path is not None:
            raise UsageError("--file names the file of a single -o FORMAT (else -o FORMAT=FILE)")
        outputs = [Output(outputs[0].format, file)]
    if sum(o.path is None for o in outputs) > 1:
        raise UsageError("only one -o may write to stdout; give the others a file: -o FORMAT=FILE")
    return outputs


def cmd_sbom(args: argparse.Namespace) -> ExitCode:
    if args.list:
        rows = [(fmt.name, fmt.extension, fmt.description) for fmt in formats()]
        output.print_table(("FORMAT", "EXTENSION", "DESCRIPTION"), rows, keep=(0, 1))
        return ExitCode.OK
    if args.image is None:
        raise UsageError("an IMAGE (or SBOM file) is needed, or --list")
    outputs = parse_outputs(args.output, args.file)  # checked before the analysis
    with output.progress(args.quiet, "analyzing") as bar:
        analysis = open_analysis(args, progress=bar)
    for out in outputs:
        if out.path is None:
            write(analysis, out.format, sys.stdout.buffer)
            sys.stdout.buffer.write(b"\n")
            sys.stdout.buffer.flush()
        else:
            write(analysis, out.format, out.path)
    return ExitCode.OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "sbom",
        help="write the SBOM of an image (CycloneDX, SPDX, syft-json, anchore-json)",
        description="Analyze the image once and write its SBOM in each format asked for. "
        "IMAGE may itself be an SBOM file (converting it).",
    )
    image_args(p)
    p.set_defaults(func=cmd_sbom)
    p.add_argument(
        "-o",
        "--output",
        action="append",
        metavar="FORMAT[=FILE]",
        help="a format (see --list), to FILE or stdout; repeat for several (default "
        "cyclonedx-json to stdout)",
    )
    p.add_argument("--file", help="the file of the one -o FORMAT (instead of stdout)")
    p.add_argument("--list", action="store_true", help="list the formats and exit")
    # IMAGE is optional only for --list
    for action in p._actions:
        if action.dest == "image":
            action.nargs = "?"
