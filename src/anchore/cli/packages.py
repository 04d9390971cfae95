"""``anchore packages IMAGE`` and ``anchore layers IMAGE``: the analysis as tables.

Both print :meth:`anchore.Analysis.to_records` rows (the notebook's columns), so the
table, ``-o json`` and a DataFrame say the same thing. What an SBOM does not record (the
layers, the layer of a package) is said on stderr or refused, never shown as an empty
table that would read as "nothing there".
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from typing import Any

from anchore.analysis.model import Analysis, Package
from anchore.cli import vulns
from anchore.cli.common import (
    UsageError,
    check_layer,
    image_args,
    layer_number,
    open_analysis,
)
from anchore.cli.output import output_arg, output_format, print_line, print_table, printable
from anchore.display import human_size
from anchore.ecosystems import PACKAGE_TYPES
from anchore.errors import ExitCode
from anchore.sbom import SbomError

__all__ = [
    "add_parsers",
    "cmd_layers",
    "cmd_packages",
    "print_packages",
    "severity_style",
]

#: the table of ``packages`` (and of ``analyze``): one screen line per package
PACKAGE_COLUMNS = ("TYPE", "NAME", "VERSION", "LAYER", "PATH")
#: the table of ``layers``
LAYER_COLUMNS = ("LAYER", "DIGEST", "SIZE", "FILES", "DELETED", "PACKAGES", "CREATED BY")


def severity_style(text: str) -> str | None:
    """The colour of a finding's severity: the palette of vulnerability severities
    (:func:`anchore.cli.vulns.severity_style`), and a finding's ``warning`` in yellow."""
    return vulns.severity_style(text) or ("yellow" if text.lower() == "warning" else None)


def _package_row(pkg: Package) -> list[Any]:
    where = pkg.locations[0] if pkg.locations else None
    return [
        pkg.type,
        pkg.name,
        pkg.version,
        where.layer_index if where else None,
        where.path if where else None,
    ]


def print_packages(found: Sequence[Package]) -> None:
    """The package table: type, name, version, the layer and path of its first evidence."""
    print_table(PACKAGE_COLUMNS, [_package_row(p) for p in found], keep=(3,))


def _types(texts: Sequence[str] | None, analysis: Analysis | None = None) -> set[str] | None:
    """The ``--type`` names; with ``analysis``, each checked against the package types
    anchore knows and those the analysis has (a plugin's, a foreign SBOM's): a typo
    would otherwise match nothing and read as "no such packages" (exit 0)."""
    if not texts:
        return None
    names = {t.strip() for text in texts for t in text.split(",") if t.strip()}
    if not names:
        raise UsageError(f"--type needs at least one package type ({', '.join(PACKAGE_TYPES)})")
    if analysis is not None:
        known = sorted(set(PACKAGE_TYPES) | {p.type for p in analysis.packages})
        for name in sorted(names - set(known)):
            # ``go`` for ``go-module``: a prefix is the likeliest slip, then a typo
            near = [k for k in known if k.startswith(name)]
            near = near or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise UsageError(f"--type {name!r} is not a package type; {hint}"
                             f"the types are {', '.join(known)}")  # fmt: skip
    return names


def _selected(args: argparse.Namespace, analysis: Analysis) -> list[Package]:
    types = _types(args.type, analysis)
    chosen = []
    for pkg in analysis.packages:
        if types is not None and pkg.type not in types:
            continue
        if (args.declared and not pkg.declared) or (args.installed and pkg.declared):
            continue
        if args.layer is not None and not (pkg.locations and pkg.layer_index == args.layer):
            continue
        chosen.append(pkg)
    return chosen


def _check_layer(args: argparse.Namespace, analysis: Analysis) -> None:
    if args.layer is None:
        return
    layers = analysis.image.layers
    if layers is None:
        raise SbomError(
            f"{args.image}: --layer needs the image's layers; the SBOM ({analysis.origin}) "
            "does not record them",
            source=args.image,
        )
    check_layer(args.image, args.layer, len(layers))


def cmd_packages(args: argparse.Namespace) -> ExitCode:
    _types(args.type)  # a bad --type is refused before any analysis
    analysis = open_analysis(args)
    _check_layer(args, analysis)
    chosen = _selected(args, analysis)
    for error in analysis.errors:
        print(f"anchore: warning: {printable(error.analyzer)}: {printable(error.message)}",
              file=sys.stderr)  # fmt: skip
    if output_format(args) == "json":
        wanted = {id(p) for p in chosen}
        records = [
            r
            for p, r in zip(analysis.packages, analysis.to_records("packages"), strict=True)
            if id(p) in wanted
        ]
        print(json.dumps(records, indent=2))
        return ExitCode.OK
    if analysis.image.layers is None and chosen:
        print(
            f"anchore: note: {args.image} is an SBOM ({analysis.origin}) that records no "
            "layers: LAYER shows - where it does not say",
            file=sys.stderr,
        )
    if not chosen:
        what = "packages" if not analysis.packages else "packages match these filters"
        ran = ", ".join(analysis.analyzers) or "none"
        print_line(f"no {what} (of {len(analysis.packages)}; analyzers that ran: {ran})")
        return ExitCode.OK
    print_packages(chosen)
    return ExitCode.OK


def _size(value: int | None) -> str | None:
    return human_size(value) if value is not None else None


def cmd_layers(args: argparse.Namespace) -> ExitCode:
    analysis = open_analysis(args)
    if analysis.image.layers is None:
        raise SbomError(
            f"{args.image}: the SBOM ({analysis.origin}) does not record the image's layers; "
            "`anchore layers` needs the image itself (or an anchore-json SBOM of it)",
            source=args.image,
        )
    records = analysis.to_records("layers")
    if output_format(args) == "json":
        print(json.dumps(records, indent=2))
        return ExitCode.OK
    if analysis.package_changes is None:
        print(
            f"anchore: note: {args.image} ({analysis.origin}) does not record which layer "
            "added which package: PACKAGES shows -",
            file=sys.stderr,
        )
    rows = [
        [
            r["layer"],
            r["digest"][:19],
            _size(r["uncompressed_size"]),
            r["files"],
            r["whiteouts"],
            r["packages_added"],
            r["created_by"],
        ]
        for r in records
    ]
    print_table(LAYER_COLUMNS, rows, keep=(0, 1, 2))
    return ExitCode.OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "packages",
        help="the packages found, with the layer and path of each",
        description="The packages an analysis finds (or an SBOM lists): type, name, "
        "version, and the layer and path of the evidence. -o json: one record per package "
        "(docs/cli.md).",
    )
    image_args(p)
    output_arg(p)
    p.add_argument(
        "--type",
        action="append",
        metavar="TYPE[,TYPE]",
        help="only packages of these types (deb, python, go-module, npm...; repeatable)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--installed", action="store_true", help="only installed packages (not lock files')"
    )
    g.add_argument(
        "--declared",
        action="store_true",
        help="only packages a lock or requirements file names without installing them",
    )
    p.add_argument(
        "--layer", type=layer_number, help="only the packages whose evidence this layer added"
    )
    p.set_defaults(func=cmd_packages)

    p = sub.add_parser(
        "layers",
        help="each layer: digest, size, files, packages it added, the step that made it",
        description="One row per layer, oldest first: index, short digest, uncompressed "
        "size, files added or changed, files deleted, packages added, and the history step "
        "that created it. -o json: the full records (docs/cli.md).",
    )
    image_args(p)
    output_arg(p)
    p.set_defaults(func=cmd_layers)
