"""Image commands: inspect, files, cat, analyze, plugins (and, registered from here,
packages, layers and diff: :mod:`anchore.cli.packages`, :mod:`anchore.cli.diff`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from anchore.analysis.model import Analysis, Package
from anchore.cli import diff, packages
from anchore.cli.common import (
    UsageError,
    check_layer,
    configured_source,
    human_size,
    image_args,
    layer_number,
    note_unused_on_sbom,
    open_analysis,
    open_from,
    sbom_of,
)
from anchore.cli.output import (
    output_arg,
    output_format,
    print_field,
    print_line,
    print_table,
    printable,
)
from anchore.errors import AnalyzerNotFoundError, ExitCode
from anchore.plugins import default_registry
from anchore.sbom import SbomError
from anchore.serialize import plain


def _inspect_sbom(args: argparse.Namespace) -> ExitCode:
    """``inspect`` of an SBOM: the image metadata it records; the file summary only when
    it lists the files."""
    analysis = open_analysis(args)
    info = analysis.image
    if output_format(args) == "json":
        data = info.to_dict()
        data["origin"] = analysis.origin
        data["file_count"] = len(analysis.files) if analysis.files_known else None
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    print_field(
        "image", f"{info.reference or '(untagged)'}  [{analysis.origin}: {args.image}]", whole=True
    )
    print_field("source", f"{info.source or '(not recorded)'}", whole=True)
    print_field("platform", f"{info.platform}")
    print_field("config", f"{info.config_digest or '(not recorded)'}", whole=True)
    if info.manifest_digest:
        print_field("manifest", f"{info.manifest_digest}", whole=True)
    print_field("created", f"{info.created.isoformat() if info.created else '-'}")
    if info.layers is None:
        print_field("layers", "not recorded in the SBOM")
    else:
        total = info.size
        size = human_size(total) if total is not None else "size unknown"
        print_field("layers", f"{len(info.layers)} ({size} uncompressed)")
        print_table(
            ["LAYER", "DIGEST", "SIZE", "FILES", "CREATED BY"],
            [
                [
                    layer.index,
                    layer.digest[:19],
                    human_size(layer.uncompressed_size)
                    if layer.uncompressed_size is not None
                    else None,
                    layer.files,
                    layer.created_by,
                ]
                for layer in info.layers
            ],
            keep=(0, 1),
        )
    if analysis.files_known:
        print_field("files", f"{len(analysis.files)} in the squashed filesystem")
    else:
        print_field("files", "not listed in the SBOM")
    return ExitCode.OK


def cmd_inspect(args: argparse.Namespace) -> ExitCode:
    if sbom_of(args.image) is not None:
        return _inspect_sbom(args)
    with open_from(args) as image:
        if output_format(args) == "json":
            data = image.to_dict()
            data["file_count"] = len(image)
            print(json.dumps(data, indent=2))
            return ExitCode.OK
        files = list(image.files())
        setuid = [e for e in files if e.is_file and (e.is_setuid or e.is_setgid)]
        print_field("image", f"{image.reference or '(untagged)'}  [{image.format}]", whole=True)
        print_field("source", f"{image.source}", whole=True)
        print_field("platform", f"{image.platform}")
        print_field("config", f"{image.config_digest}", whole=True)
        if image.manifest_digest:
            print_field("manifest", f"{image.manifest_digest}", whole=True)
        print_field("created", f"{image.created.isoformat() if image.created else '-'}")
        c = image.config
        print_field(
            "entrypoint", f"{json.dumps(list(c.entrypoint))}  cmd {json.dumps(list(c.cmd))}"
        )
        print_field("user", f"{c.user or '(root by default)'}  workdir {c.working_dir or '/'}")
        if c.exposed_ports:
            print_field("ports", f"{' '.join(c.exposed_ports)}")
        for key, value in sorted(c.labels.items()):
            print_field("label", f"{key}={value}")
        total = sum(layer.uncompressed_size for layer in image.layers)
        print_field("layers", f"{len(image.layers)} ({human_size(total)} uncompressed)")
        print_table(
            ["LAYER", "DIGEST", "SIZE", "FILES", "DELETED", "CREATED BY"],
            [
                [
                    layer.index,
                    layer.digest[:19],
                    human_size(layer.uncompressed_size),
                    len(layer),
                    len(layer.whiteouts),
                    layer.history.created_by if layer.history else None,
                ]
                for layer in image.layers
            ],
            keep=(0, 1, 2),
        )
        kinds: dict[str, int] = {}
        for entry in files:
            kinds[entry.type.value] = kinds.get(entry.type.value, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print_field("files", f"{len(files)} in the squashed filesystem: {summary}")
        if setuid:
            print_field("setuid", f"{len(setuid)} setuid or setgid files")
            print_table(
                ["MODE", "LAYER", "PATH"],
                [[e.permissions, e.layer_index, e.path] for e in setuid],
                keep=(0, 1),
            )
    return ExitCode.OK


def _sbom_files(args: argparse.Namespace, analysis: Analysis) -> ExitCode:
    """``files`` of an SBOM: its file inventory, when it has one (anchore-json with
    ``--files``); the views of single layers need the image."""
    if not analysis.files_known:
        raise SbomError(
            f"{args.image}: the SBOM ({analysis.origin}) lists no files; `anchore files` "
            "needs the image, or an SBOM with its file inventory (anchore sbom -o anchore-json)",
            source=args.image,
        )
    if args.layer is not None:
        raise SbomError(
            f"{args.image}: --layer needs the image's layers; an SBOM has only the final file list",
            source=args.image,
        )
    as_json = output_format(args) == "json"
    for record in analysis.files:
        if as_json:
            print(json.dumps(record.to_dict()))
        elif args.long:
            link = f" -> {record.link_target}" if record.link_target is not None else ""
            print(printable(
                f"{record.mode:04o} {record.uid:>5}:{record.gid:<5} {record.size:>10} "
                f"L{record.layer_index} {record.path}{link}"
            ))  # fmt: skip
        else:
            print(printable(record.path))
    return ExitCode.OK


def cmd_files(args: argparse.Namespace) -> ExitCode:
    if args.own and args.layer is None:
        raise UsageError("--own needs --layer N: it lists only what layer N adds")
    if sbom_of(args.image) is not None:
        return _sbom_files(args, open_analysis(args))
    with open_from(args) as image:
        count = len(image.layers)
        check_layer(image.source, args.layer, count)
        if args.layer is None:
            entries = image.files()
        elif args.own:
            entries = image.layers[args.layer].files()
        else:
            entries = image.squashed(args.layer).files()
        as_json = output_format(args) == "json"
        for entry in entries:
            if as_json:
                print(json.dumps(entry.to_dict()))
            elif args.long:
                link = f" -> {entry.link_target}" if entry.link_target is not None else ""
                print(printable(
                    f"{entry.permissions} {entry.uid:>5}:{entry.gid:<5} {entry.size:>10} "
                    f"L{entry.layer_index} {entry.path}{link}"
                ))  # fmt: skip
            else:
                print(printable(entry.path))
    return ExitCode.OK


def cmd_cat(args: argparse.Namespace) -> ExitCode:
    fmt = sbom_of(args.image)
    if fmt is not None:
        raise SbomError(
            f"{args.image}: an SBOM ({fmt.name}) holds no file content; `anchore cat` needs "
            "the image",
            source=args.image,
        )
    with open_from(args) as image, image.open(args.path) as fh:
        out = sys.stdout.buffer
        while chunk := fh.read(1 << 20):
            out.write(chunk)
        out.flush()
    return ExitCode.OK


def _analyzer_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:  # never "all of them" for an empty choice
        raise UsageError("--analyzers needs at least one name (see `anchore plugins`)")
    return names


def cmd_analyze(args: argparse.Namespace) -> ExitCode:
    as_json = output_format(args) == "json"
    if args.files and not as_json:
        raise UsageError(
            "--files needs --json (-o json): the file inventory is only in the JSON output"
        )
    names = _analyzer_names(args.analyzers)
    where = configured_source("analyzers", args.analyzers)
    if where is not None and sbom_of(args.image) is not None:
        note_unused_on_sbom("analyzers", args.analyzers, where, args.image)
        names = None
    registry = default_registry()
    if names is not None:
        try:  # a name that is not an analyzer is a bad command-line value
            registry.select_analyzers(names)
        except AnalyzerNotFoundError as exc:
            raise UsageError(f"--analyzers: {exc}") from None
    result = open_analysis(args, analyzers=names, registry=registry)
    if as_json:
        result.write_json(sys.stdout, indent=2, files=args.files)
        print()
        return ExitCode.OK
    d = result.distro
    info = result.image
    print_line(f"image    {info.reference or info.source}  {info.platform}")
    print_line(f"distro   {d.pretty_name or d.id if d else 'unknown'}")
    installed = [p for p in result.packages if not p.declared]
    declared = [p for p in result.packages if p.declared]
    print_line(f"packages {len(installed)} installed: {_count_by_type(installed)}")
    if installed:
        packages.print_packages(installed)
    if declared:
        print_line(
            f"declared {len(declared)} (named by a lock or requirements file, not installed):"
            f" {_count_by_type(declared)}"
        )
        packages.print_packages(declared)
    if result.findings:
        print_line(f"findings {len(result.findings)}")
        rows = result.to_records("findings")
        print_table(
            ["SEVERITY", "KIND", "LAYER", "PATH", "MESSAGE"],
            [[r["severity"], r["kind"], r["layer"], r["path"], r["message"]] for r in rows],
            keep=(0, 2),
            styles={0: packages.severity_style},
        )
    for error in result.errors:
        print(printable(f"error    {error.analyzer}: {error.message}"), file=sys.stderr)
    return ExitCode.OK


def _count_by_type(found: list[Package]) -> str:
    counts: dict[str, int] = {}
    for pkg in found:
        counts[pkg.type] = counts.get(pkg.type, 0) + 1
    return ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "none"


#: the keys of one plugin in ``plugins -o json``, in order
PLUGIN_KEYS = (
    "name", "source", "analyzers", "gates", "vulnerability_feeds", "queries", "sbom_formats",
)  # fmt: skip


#: the table of ``plugins``: one row per plugin and kind of thing it provides
PLUGIN_COLUMNS = ("PLUGIN", "SOURCE", "KIND", "NAMES")


def cmd_plugins(args: argparse.Namespace) -> ExitCode:
    infos = default_registry().plugins()
    if output_format(args) == "json":
        records = [{key: plain(getattr(info, key)) for key in PLUGIN_KEYS} for info in infos]
        print(json.dumps(records, indent=2))
        return ExitCode.OK
    rows: list[list[str]] = []
    for info in infos:
        kinds = [kind for kind in PLUGIN_KEYS[2:] if getattr(info, kind)]
        rows.extend([info.name, info.source, k, ", ".join(getattr(info, k))] for k in kinds)
        if not kinds:  # loaded, providing nothing (yet): a plugin author needs to see it
            rows.append([info.name, info.source, "-", "(nothing)"])
    print_table(PLUGIN_COLUMNS, rows, keep=(2,))  # a name cut ends in …, never wraps
    return ExitCode.OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("analyze", help="packages, distro and findings, with the layer of each")
    image_args(p)
    output_arg(p)
    p.add_argument("--files", action="store_true", help="with -o json: include the file inventory")
    p.add_argument("--analyzers", help="comma-separated analyzer names (default: all)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("plugins", help="list loaded plugins and what they provide")
    output_arg(p)
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("inspect", help="metadata, layers and a summary of the filesystem")
    image_args(p)
    output_arg(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("files", help="list the squashed filesystem (or one layer's)")
    image_args(p)
    p.add_argument("--layer", type=layer_number, help="the view after this layer (0-based)")
    p.add_argument("--own", action="store_true", help="with --layer: only what that layer adds")
    p.add_argument("-l", "--long", action="store_true", help="mode, owner, size, layer")
    output_arg(p, ("table", "json"))
    p.set_defaults(func=cmd_files)

    p = sub.add_parser("cat", help="write a file's content to stdout")
    image_args(p)
    p.add_argument("path", help="absolute path inside the image")
    p.set_defaults(func=cmd_cat)

    packages.add_parsers(sub)
    diff.add_parsers(sub)
