"""Vulnerability commands: db (load, info) and vulns."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from anchore.cli.common import image_args, open_from
from anchore.errors import ExitCode


def cmd_db(args: argparse.Namespace) -> int:
    from anchore.vulns.load import detect, load
    from anchore.vulns.store import Store

    if args.db_command == "load":
        for path in args.paths:  # every feed is recognised before anything is loaded
            detect(path, feed=args.feed)
        with Store(args.db, create=True) as store:
            for path in args.paths:
                report = load(store, path, feed=args.feed)
                print(f"{path}: {report.loaded} loaded, {report.unchanged} unchanged, "
                      f"{len(report.skipped)} skipped")  # fmt: skip
                for name, why in report.skipped:
                    print(f"  skipped {name}: {why}", file=sys.stderr)
            _info(store)
        return ExitCode.OK
    with Store(args.db, create=False) as store:
        _info(store)
    return ExitCode.OK


def _info(store: Any) -> None:
    updated = store.updated.isoformat(timespec="seconds") if store.updated else "never"
    print(f"{store.path}: {len(store)} advisories (schema {store.schema_version}), "
          f"updated {updated}")  # fmt: skip
    coverage = store.coverage()
    if not coverage:
        print("  no advisory data: load some with anchore db load FEED...")
    for ecosystem, count in coverage.items():
        print(f"  {ecosystem:24} {count} advisories")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {group}" for group, n in counts.items())


def cmd_vulns(args: argparse.Namespace) -> int:
    from anchore.analysis.engine import analyze
    from anchore.vulns import match
    from anchore.vulns.severity import rank
    from anchore.vulns.store import open_store
    from anchore.vulns.suppress import apply, load_ignore_rules, read_vex

    # every input is checked before the (slow) analysis: a typo fails at once
    rules = load_ignore_rules(args.ignore) if args.ignore else []
    vex = [st for path in args.vex or [] for st in read_vex(path)]
    with open_store(args.db) as store:
        store.require_data()
        with open_from(args) as image:
            result = match(analyze(image), store, include_declared=args.include_declared)
        updated = store.updated
    kept, suppressed = apply(result, ignore_rules=rules, vex=vex)
    unchecked = result.counts("unchecked")
    if args.json:
        data = {"matches": [m.to_dict() for m in kept],
                "suppressed": [s.to_dict() for s in suppressed],
                **{k: v for k, v in result.to_dict().items() if k != "matches"},
                "store": {"path": str(store.path),
                          "updated": updated.isoformat() if updated else None}}  # fmt: skip
        print(json.dumps(data, indent=2))
    else:
        for m in sorted(kept, key=lambda m: (-rank(m.rating), m.package_name, m.advisory_id)):
            loc = m.locations[0] if m.locations else None
            where = f"{loc.path} (layer {loc.layer_index})" if loc else ""
            print(f"{m.rating:9} {m.advisory_id:22} {m.package_name} {m.installed_version}"
                  f" -> {m.fixed_in or 'no fix'}  {where}")  # fmt: skip
        for s in suppressed:
            print(f"suppressed {s.match.advisory_id} {s.match.package_name}: {s.reason}")
        checked = result.counts("checked")
        print(f"checked   {_plural(len(result.checked), 'package')}"
              + (f": {_counts(checked)}" if checked else ""))  # fmt: skip
        if unchecked:
            print(f"UNCHECKED {_plural(len(result.unchecked), 'package')}: {_counts(unchecked)}")
            reasons: dict[str, int] = {}
            for c in result.unchecked:
                reasons[c.reason] = reasons.get(c.reason, 0) + 1
            for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
                print(f"  {n:5}  {reason}")
        if result.declared:
            print(f"declared  {_plural(len(result.declared), 'package')} not matched "
                  f"({_counts(result.counts('declared'))}): only a lock or requirements file "
                  "names them; --include-declared matches them")  # fmt: skip
        print(f"{len(kept)} {'vulnerability' if len(kept) == 1 else 'vulnerabilities'}, "
              f"{len(suppressed)} suppressed"
              + (f", {len(result.unchecked)} packages unchecked" if unchecked else ""))  # fmt: skip
    if args.fail_on is None:
        return ExitCode.OK
    if any(rank(m.rating) >= rank(args.fail_on) for m in kept):
        return ExitCode.FAILED
    if unchecked and not args.allow_unchecked:
        print(f"anchore: {len(result.unchecked)} packages could not be checked, so "
              f"--fail-on {args.fail_on} cannot pass; load data for {', '.join(unchecked)} "
              "or accept the gap with --allow-unchecked", file=sys.stderr)  # fmt: skip
        return ExitCode.UNCHECKED
    return ExitCode.OK


def add_parsers(sub: Any) -> None:
    db_help = (
        "the store file (default: $ANCHORE_VULN_DB, else "
        "$XDG_CACHE_HOME/anchore/vulnerabilities.sqlite)"
    )
    p = sub.add_parser("db", help="the vulnerability store: load feeds, show what it holds")
    p.add_argument("--db", help=db_help + "; only 'db load' creates it")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    q = dbsub.add_parser("load", help="load OSV, Debian tracker or Alpine secdb data")
    q.add_argument("paths", nargs="+", help="files, directories or zip archives")
    q.add_argument("--feed", help="the reader to use (default: detected)")
    dbsub.add_parser("info", help="how many advisories the store holds, and for which ecosystems")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("vulns", help="match an image's packages against the store")
    image_args(p)
    p.add_argument("--db", help=db_help + "; it must exist (anchore db load makes it)")
    p.add_argument(
        "--ignore",
        help="a JSON or YAML list of ignore rules: reason (required), id, package, path, expires",
    )
    p.add_argument("--vex", action="append", help="an OpenVEX or CSAF VEX document (repeatable)")
    p.add_argument("--json", action="store_true", help="matches, suppressions and coverage as JSON")
    p.add_argument("--fail-on", choices=["low", "medium", "high", "critical"],
                   help="exit 1 when a match is rated at least this; exit 3 when none is but "
                        "packages went unchecked")  # fmt: skip
    p.add_argument("--allow-unchecked", action="store_true",
                   help="with --fail-on: pass even though some packages could not be checked "
                        "(no advisory data for their ecosystem or distro release)")  # fmt: skip
    p.add_argument(
        "--include-declared",
        action="store_true",
        help="also match packages only a lock or requirements file declares",
    )
    p.set_defaults(func=cmd_vulns)
