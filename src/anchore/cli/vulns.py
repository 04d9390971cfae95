"""Vulnerability commands: db (load, info) and vulns."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from anchore.cli.common import UsageError, image_args, open_analysis
from anchore.errors import ExitCode

#: the parser class of the subcommand action (the CLI's own ArgumentParser subclass)
_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)

if TYPE_CHECKING:
    from anchore.vulns.match import Match, MatchResult
    from anchore.vulns.store import Store
    from anchore.vulns.suppress import IgnoreRule, Suppression, VexStatement


# ---------------------------------------------------------------- db
def _db_path(args: argparse.Namespace) -> str | None:
    """``--db`` before the subcommand (``db --db X load``) or after it (``db load --db X``)."""
    before: str | None = args.db
    after: str | None = getattr(args, "db_after", None)
    if before is not None and after is not None and before != after:
        raise UsageError(f"--db given twice with different paths: {before!r} and {after!r}")
    return before if before is not None else after


def cmd_db(args: argparse.Namespace) -> int:
    from anchore.vulns.errors import UnknownFeedError
    from anchore.vulns.load import detect, load
    from anchore.vulns.store import Store

    db = _db_path(args)
    if args.db_command == "load":
        try:
            for path in args.paths:  # every feed is recognised before anything is loaded
                detect(path, feed=args.feed)
        except UnknownFeedError as exc:  # a bad --feed value is a bad command line
            raise UsageError(f"--feed: {exc}") from None
        with Store(db, create=True) as store:
            for path in args.paths:
                report = load(store, path, feed=args.feed)
                print(f"{path}: {report.loaded} loaded, {report.unchanged} unchanged, "
                      f"{len(report.skipped)} skipped")  # fmt: skip
                for name, why in report.skipped:
                    print(f"  skipped {name}: {why}", file=sys.stderr)
            _info(store)
        return ExitCode.OK
    with Store(db) as store:
        _info(store)
    return ExitCode.OK


def _info(store: Store) -> None:
    """What the store holds: advisories, and for each ecosystem whether a feed covers it."""
    from anchore.vulns.store import load_hint

    updated = store.updated.isoformat(timespec="seconds") if store.updated else "never"
    print(f"{store.path}: {len(store)} advisories (schema {store.schema_version}), "
          f"updated {updated}")  # fmt: skip
    counts = store.advisory_counts()
    feeds: dict[str, list[str]] = {}
    for source in store.coverage_sources():
        feeds.setdefault(source.ecosystem, []).append(
            f"{source.reader} {source.feed}" if source.feed else source.reader
        )
    if not feeds:
        print(f"  covers no ecosystem: every package would be unchecked; {load_hint(store.path)}")
    for ecosystem, sources in feeds.items():
        print(f"  {ecosystem:24} {counts.get(ecosystem, 0):6} advisories  "
              f"covered by {'; '.join(sources)}")  # fmt: skip
    uncovered = [e for e in counts if e not in feeds]
    if uncovered:
        print("  not covered (only single advisory records name these: they are matched, "
              "but their packages stay unchecked until a whole feed is loaded):")  # fmt: skip
    for ecosystem in uncovered:
        print(f"  {ecosystem:24} {counts[ecosystem]:6} advisories")


# ---------------------------------------------------------------- vulns
@attrs.frozen
class _Scan:
    """What a vulns run found: the result, what stands and what was suppressed."""

    result: MatchResult
    kept: list[Match]
    suppressed: list[Suppression]
    store: dict[str, Any]
    #: what was scanned (the image or SBOM path) and where its analysis came from
    source: str = ""
    origin: str = "image"


def _read_inputs(args: argparse.Namespace) -> tuple[list[IgnoreRule], list[VexStatement]]:
    """The ignore rules and VEX statements, read before the slow analysis: a typo fails at once."""
    from anchore.vulns.suppress import load_ignore_rules, read_vex

    rules = load_ignore_rules(args.ignore) if args.ignore else []
    vex = [st for path in args.vex or [] for st in read_vex(path)]
    return rules, vex


def _scan(args: argparse.Namespace, rules: list[IgnoreRule], vex: list[VexStatement]) -> _Scan:
    from anchore.vulns import match
    from anchore.vulns.store import open_store
    from anchore.vulns.suppress import apply

    with open_store(args.db) as store:
        store.require_data()
        analysis = open_analysis(args)
        result = match(analysis, store, include_declared=args.include_declared)
        updated = store.updated
        where = {"path": str(store.path), "updated": updated.isoformat() if updated else None}
    kept, suppressed = apply(result, ignore_rules=rules, vex=vex)
    return _Scan(result, kept, suppressed, where, args.image, analysis.origin)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {group}" for group, n in counts.items())


def _print_json(scan: _Scan) -> None:
    data = {"matches": [m.to_dict() for m in scan.kept],
            "suppressed": [s.to_dict() for s in scan.suppressed],
            **{k: v for k, v in scan.result.to_dict().items() if k != "matches"},
            "store": scan.store}  # fmt: skip
    print(json.dumps(data, indent=2))


def _print_text(scan: _Scan) -> None:
    from anchore.vulns.severity import rank

    result = scan.result
    for m in sorted(scan.kept, key=lambda m: (-rank(m.rating), m.package_name, m.advisory_id)):
        loc = m.locations[0] if m.locations else None
        where = f"{loc.path} (layer {loc.layer_index})" if loc else ""
        print(f"{m.rating:9} {m.advisory_id:22} {m.package_name} {m.installed_version}"
              f" -> {m.fixed_in or 'no fix'}  {where}")  # fmt: skip
    for s in scan.suppressed:
        print(f"suppressed {s.match.advisory_id} {s.match.package_name}: {s.reason}")
    checked = result.counts("checked")
    print(f"checked   {_plural(len(result.checked), 'package')}"
          + (f": {_counts(checked)}" if checked else ""))  # fmt: skip
    unchecked = result.counts("unchecked")
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
    print(_summary(scan))


def _summary(scan: _Scan) -> str:
    """``0 vulnerabilities in 202 checked packages; 232 packages unchecked (see above)``.

    Never a bare "0 vulnerabilities": the count is only as good as what was checked.
    """
    result = scan.result
    line = (
        f"{_plural(len(scan.kept), 'vulnerability', 'vulnerabilities')} in "
        f"{len(result.checked)} checked {'package' if len(result.checked) == 1 else 'packages'}"
    )
    if scan.suppressed:
        line += f", {len(scan.suppressed)} suppressed"
    if result.unchecked:
        line += f"; {_plural(len(result.unchecked), 'package')} unchecked (see above)"
    if result.declared:
        line += f"; {len(result.declared)} declared not matched"
    return line


def _exit_code(args: argparse.Namespace, scan: _Scan) -> ExitCode:
    """FAILED for a match at/above --fail-on; UNCHECKED when what went unchecked matters.

    It matters with --fail-on (any package unchecked: the threshold cannot be
    known to pass), and always when nothing at all was checked: a scan that
    checked nothing is not a success, nor is one of an SBOM that lists nothing
    (often a broken export, no evidence that the image holds nothing).
    --allow-unchecked accepts the gap.
    """
    from anchore.vulns.severity import rank

    result = scan.result
    if args.fail_on is not None and any(rank(m.rating) >= rank(args.fail_on) for m in scan.kept):
        return ExitCode.FAILED
    if args.allow_unchecked:
        return ExitCode.OK
    skipped = len(result.unchecked) + len(result.declared)
    if not result.checked and not skipped:
        what = (
            f"the SBOM ({scan.origin.removeprefix('sbom:')}) lists no package"
            if scan.origin.startswith("sbom:")
            else "no package was found in it"
        )
        print(f"anchore: {scan.source}: {what}, so nothing was checked: no result, not a clean "
              "one; accept it with --allow-unchecked", file=sys.stderr)  # fmt: skip
        return ExitCode.UNCHECKED
    if not result.checked and skipped:
        why = _counts(result.counts("unchecked")) or "none"
        declared = (
            f", {len(result.declared)} only declared (--include-declared matches them)"
            if result.declared
            else ""
        )
        print(f"anchore: none of the {skipped} packages could be checked (unchecked: {why}"
              f"{declared}): no result, not a clean one; load advisory data for them "
              "(anchore db load) or accept the gap with --allow-unchecked",
              file=sys.stderr)  # fmt: skip
        return ExitCode.UNCHECKED
    unchecked = result.counts("unchecked")
    if args.fail_on is not None and unchecked:
        print(f"anchore: {len(result.unchecked)} packages could not be checked, so "
              f"--fail-on {args.fail_on} cannot pass; load data for {', '.join(unchecked)} "
              "or accept the gap with --allow-unchecked", file=sys.stderr)  # fmt: skip
        return ExitCode.UNCHECKED
    return ExitCode.OK


def cmd_vulns(args: argparse.Namespace) -> int:
    rules, vex = _read_inputs(args)
    scan = _scan(args, rules, vex)
    if args.json:
        _print_json(scan)
    else:
        _print_text(scan)
    return _exit_code(args, scan)


# ---------------------------------------------------------------- parsers
_DB_HELP = (
    "the store file (default: $ANCHORE_VULN_DB, else "
    "$XDG_CACHE_HOME/anchore/vulnerabilities.sqlite)"
)


def add_parsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("db", help="the vulnerability store: load feeds, show what it holds")
    p.add_argument("--db", help=_DB_HELP + "; only 'db load' creates it")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    q = dbsub.add_parser("load", help="load OSV, Debian tracker or Alpine secdb data")
    q.add_argument("paths", nargs="+", help="files, directories or zip archives")
    q.add_argument("--feed", help="the reader to use (default: detected)")
    r = dbsub.add_parser("info", help="how many advisories the store holds, and what it covers")
    for parser, what in ((q, "created if missing"), (r, "it must exist")):
        # also accepted after the subcommand; SUPPRESS: absent unless given, so the
        # value given before the subcommand is not overwritten by a default
        parser.add_argument("--db", dest="db_after", default=argparse.SUPPRESS, metavar="DB",
                            help=f"{_DB_HELP}; {what}")  # fmt: skip
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("vulns", help="match an image's packages against the store")
    image_args(p)
    p.add_argument("--db", help=_DB_HELP + "; it must exist (anchore db load makes it)")
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
                   help="accept packages that could not be checked (no advisory data for their "
                        "ecosystem or distro release): with --fail-on, pass if nothing checked "
                        "met it; without, exit 0 even when nothing at all could be checked "
                        "(otherwise exit 3)")  # fmt: skip
    p.add_argument(
        "--include-declared",
        action="store_true",
        help="also match packages only a lock or requirements file declares",
    )
    p.set_defaults(func=cmd_vulns)
