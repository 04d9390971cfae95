"""The ``anchore`` command: a thin shell over the same functions a notebook uses."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from anchore import __version__
from anchore.errors import AnchoreError
from anchore.image import Image, open_image


def _open(args: argparse.Namespace) -> Image:
    return open_image(args.image, platform=args.platform, tag=args.tag)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def cmd_inspect(args: argparse.Namespace) -> int:
    with _open(args) as image:
        if args.json:
            data = image.to_dict()
            data["file_count"] = len(image)
            print(json.dumps(data, indent=2))
            return 0
        files = list(image.files())
        setuid = [e for e in files if e.is_file and (e.is_setuid or e.is_setgid)]
        print(f"image      {image.reference or '(untagged)'}  [{image.format}]")
        print(f"source     {image.source}")
        print(f"platform   {image.platform}")
        print(f"config     {image.config_digest}")
        if image.manifest_digest:
            print(f"manifest   {image.manifest_digest}")
        print(f"created    {image.created.isoformat() if image.created else '-'}")
        c = image.config
        print(f"entrypoint {json.dumps(list(c.entrypoint))}  cmd {json.dumps(list(c.cmd))}")
        print(f"user       {c.user or '(root by default)'}  workdir {c.working_dir or '/'}")
        if c.exposed_ports:
            print(f"ports      {' '.join(c.exposed_ports)}")
        for key, value in sorted(c.labels.items()):
            print(f"label      {key}={value}")
        total = sum(layer.uncompressed_size for layer in image.layers)
        print(f"layers     {len(image.layers)} ({_human(total)} uncompressed)")
        for layer in image.layers:
            step = layer.history.created_by if layer.history and layer.history.created_by else ""
            print(
                f"  [{layer.index}] {layer.digest[:19]}  {_human(layer.uncompressed_size):>10}"
                f"  {len(layer):>6} files  {len(layer.whiteouts):>4} deleted  {step[:60]}"
            )
        kinds: dict[str, int] = {}
        for entry in files:
            kinds[entry.type.value] = kinds.get(entry.type.value, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(f"files      {len(files)} in the squashed filesystem: {summary}")
        for entry in setuid:
            print(f"  setuid/setgid {entry.permissions} {entry.path} (layer {entry.layer_index})")
    return 0


def cmd_files(args: argparse.Namespace) -> int:
    with _open(args) as image:
        if args.layer is not None:
            entries = image.layers[args.layer].files() if args.own else None
            view = image.squashed(args.layer)
            entries = entries or view.files()
        else:
            entries = image.files()
        for entry in entries:
            if args.json:
                print(json.dumps(entry.to_dict()))
            elif args.long:
                link = f" -> {entry.link_target}" if entry.link_target is not None else ""
                print(
                    f"{entry.permissions} {entry.uid:>5}:{entry.gid:<5} {entry.size:>10} "
                    f"L{entry.layer_index} {entry.path}{link}"
                )
            else:
                print(entry.path)
    return 0


def cmd_cat(args: argparse.Namespace) -> int:
    with _open(args) as image, image.open(args.path) as fh:
        out = sys.stdout.buffer
        while chunk := fh.read(1 << 20):
            out.write(chunk)
        out.flush()
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from anchore.analysis.engine import analyze

    names = [n.strip() for n in args.analyzers.split(",")] if args.analyzers else None
    with _open(args) as image:
        result = analyze(image, analyzers=names)
        if args.json:
            data = result.to_dict()
            if not args.files:
                data.pop("files")
            print(json.dumps(data, indent=2))
            return 0
        d = result.distro
        print(f"image    {image.reference or image.source}  {image.platform}")
        print(f"distro   {d.pretty_name or d.id if d else 'unknown'}")
        counts: dict[str, int] = {}
        for pkg in result.packages:
            counts[pkg.type] = counts.get(pkg.type, 0) + 1
        print(
            f"packages {len(result.packages)}: "
            + ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        )
        for pkg in result.packages:
            where = pkg.locations[0].path if pkg.locations else ""
            print(f"  {pkg.type:13} {pkg.name:40} {pkg.version:28} L{pkg.layer_index} {where}")
        if result.findings:
            print(f"findings {len(result.findings)}")
            for finding in result.findings:
                print(f"  {finding.severity:8} {finding.kind:22} {finding.message[:120]}")
        for error in result.errors:
            print(f"error    {error.analyzer}: {error.message}", file=sys.stderr)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from anchore.vulns import Store, load

    with Store(args.db) as store:
        if args.db_command == "load":
            for path in args.paths:
                report = load(store, path, feed=args.feed)
                print(f"{path}: {report.loaded} loaded, {report.unchanged} unchanged, "
                      f"{len(report.skipped)} skipped")  # fmt: skip
                for name, why in report.skipped:
                    print(f"  skipped {name}: {why}", file=sys.stderr)
        print(f"{store.path}: {len(store)} advisories (schema {store.schema_version})")
    return 0


def _ignore_rules(path: str | None) -> list[Any]:
    import datetime

    from anchore.vulns.suppress import IgnoreRule

    if not path:
        return []
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    rules = []
    for item in raw:
        expires = item.get("expires")
        rules.append(IgnoreRule(
            reason=item["reason"], id=item.get("id"), package=item.get("package"),
            path=item.get("path"),
            expires=datetime.date.fromisoformat(expires) if expires else None,
        ))  # fmt: skip
    return rules


def cmd_vulns(args: argparse.Namespace) -> int:
    from anchore.analysis.engine import analyze
    from anchore.vulns import Store, match
    from anchore.vulns.severity import rank
    from anchore.vulns.suppress import apply, read_vex

    vex = [st for path in args.vex or [] for st in read_vex(path)]
    with _open(args) as image, Store(args.db) as store:
        result = analyze(image)
        kept, suppressed = apply(
            match(result, store), ignore_rules=_ignore_rules(args.ignore), vex=vex
        )
    if args.json:
        print(json.dumps({"matches": [m.to_dict() for m in kept],
                          "suppressed": [s.to_dict() for s in suppressed]}, indent=2))  # fmt: skip
    else:
        for m in sorted(kept, key=lambda m: (-rank(m.rating), m.package_name, m.advisory_id)):
            loc = m.locations[0] if m.locations else None
            where = f"{loc.path} (layer {loc.layer_index})" if loc else ""
            print(f"{m.rating:9} {m.advisory_id:22} {m.package_name} {m.installed_version}"
                  f" -> {m.fixed_in or 'no fix'}  {where}")  # fmt: skip
        for s in suppressed:
            print(f"suppressed {s.match.advisory_id} {s.match.package_name}: {s.reason}")
        print(f"{len(kept)} vulnerabilities, {len(suppressed)} suppressed")
    if args.fail_on and any(rank(m.rating) >= rank(args.fail_on) for m in kept):
        return 1
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from anchore.analysis.engine import analyze
    from anchore.policy import evaluate, load_bundle
    from anchore.vulns import Store

    bundle = load_bundle(args.bundle)
    with _open(args) as image:
        result = analyze(image)
    base = None
    if args.base:
        with open_image(args.base) as base_image:
            base = analyze(base_image)
    store = Store(args.db) if args.db or os.environ.get("ANCHORE_VULN_DB") else None
    try:
        evaluation = evaluate(result, bundle, tag=args.tag_as, base=base, store=store)
    finally:
        if store is not None:
            store.close()
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2))
    else:
        print(evaluation.table())
    return evaluation.exit_code


def cmd_plugins(args: argparse.Namespace) -> int:
    from anchore import plugins

    for info in plugins.list():
        print(f"{info.name}  ({info.source})")
        for kind in ("analyzers", "gates", "queries", "sbom_formats", "vulnerability_feeds"):
            names = getattr(info, kind)
            if names:
                print(f"  {kind}: {', '.join(names)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anchore", description="Look inside container images, without a daemon."
    )
    parser.add_argument("--version", action="version", version=f"anchore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def image_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("image", help="docker-save archive, OCI layout or OCI archive (path[:tag])")
        p.add_argument("--platform", help="os/arch[/variant] in a multi-platform index")
        p.add_argument("--tag", help="which image, when the source holds several")

    p = sub.add_parser("analyze", help="packages, distro and findings, with the layer of each")
    image_args(p)
    p.add_argument("--json", action="store_true", help="the Analysis as JSON")
    p.add_argument("--files", action="store_true", help="with --json: include the file inventory")
    p.add_argument("--analyzers", help="comma-separated analyzer names (default: all)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("db", help="the vulnerability store: load feeds, show what it holds")
    p.add_argument("--db", help="the store file (default: $ANCHORE_VULN_DB or the user cache)")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    q = dbsub.add_parser("load", help="load OSV, Debian tracker or Alpine secdb data")
    q.add_argument("paths", nargs="+", help="files, directories or zip archives")
    q.add_argument("--feed", help="the reader to use (default: detected)")
    dbsub.add_parser("info", help="how many advisories the store holds")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("vulns", help="match an image's packages against the store")
    image_args(p)
    p.add_argument("--db", help="the store file (default: $ANCHORE_VULN_DB or the user cache)")
    p.add_argument(
        "--ignore", help="a JSON list of ignore rules: reason, id, package, path, expires"
    )
    p.add_argument("--vex", action="append", help="an OpenVEX or CSAF VEX document (repeatable)")
    p.add_argument("--json", action="store_true", help="matches and suppressions as JSON")
    p.add_argument("--fail-on", choices=["low", "medium", "high", "critical"],
                   help="exit 1 when a match is rated at least this")  # fmt: skip
    p.set_defaults(func=cmd_vulns)

    p = sub.add_parser(
        "evaluate", help="evaluate a policy bundle: exit 0 for GO, 1 for STOP, 2 for WARN"
    )
    image_args(p)
    p.add_argument("--bundle", required=True, help="the policy bundle (JSON or YAML)")
    p.add_argument(
        "--db", help="the vulnerability store (default: $ANCHORE_VULN_DB; none: no matching)"
    )
    p.add_argument("--base", help="the base image, for 'added since base' triggers")
    p.add_argument("--tag-as", help="the tag mappings see (default: the image's own)")
    p.add_argument("--json", action="store_true", help="the Evaluation as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("plugins", help="list loaded plugins and what they provide")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("inspect", help="metadata, layers and a summary of the filesystem")
    image_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("files", help="list the squashed filesystem (or one layer's)")
    image_args(p)
    p.add_argument("--layer", type=int, help="the view after this layer (0-based)")
    p.add_argument("--own", action="store_true", help="with --layer: only what that layer adds")
    p.add_argument("-l", "--long", action="store_true", help="mode, owner, size, layer")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_files)

    p = sub.add_parser("cat", help="write a file's content to stdout")
    image_args(p)
    p.add_argument("path", help="absolute path inside the image")
    p.set_defaults(func=cmd_cat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AnchoreError as exc:
        print(f"anchore: error: {exc}", file=sys.stderr)
        return 3 if args.func is cmd_evaluate else 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
