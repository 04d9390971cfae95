"""Vulnerability commands: db (load, info) and vulns."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from anchore.cli.common import image_args, open_from


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
    with open_from(args) as image, Store(args.db) as store:
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


def add_parsers(sub: Any) -> None:
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
