"""Vulnerability commands: db (load, info, update, status, export, import) and vulns."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from anchore.cli import output
from anchore.cli.common import UsageError, image_args, open_analysis
from anchore.display import human_size
from anchore.errors import ExitCode

#: the parser class of the subcommand action (the CLI's own ArgumentParser subclass)
_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)

if TYPE_CHECKING:
    from anchore.vulns.match import Match, MatchResult
    from anchore.vulns.store import Store
    from anchore.vulns.suppress import IgnoreRule, Suppression, VexStatement
    from anchore.vulns.update import FeedStatus, FileUpdate, UpdateReport


# ---------------------------------------------------------------- db
class _DbOption(argparse._StoreAction):
    """``--db``, remembering each path the command line gave (not a configured default:
    anchore.yaml or $ANCHORE_VULN_DB set the defaults of both spellings)."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        setattr(namespace, self.dest, values)
        # one list per spelling: a subcommand's namespace replaces its parent's attributes
        setattr(
            namespace, f"{self.dest}_given", [*getattr(namespace, f"{self.dest}_given", []), values]
        )


def _db_path(args: argparse.Namespace) -> str | None:
    """``--db`` before the subcommand (``db --db X load``) or after it (``db load --db X``);
    two different paths on one command line are a usage error."""
    given = list(
        dict.fromkeys([*getattr(args, "db_given", []), *getattr(args, "db_after_given", [])])
    )
    if len(given) > 1:
        raise UsageError(f"--db given twice with different paths: {given[0]!r} and {given[1]!r}")
    if given:
        return str(given[0])
    before: str | None = args.db
    after: str | None = getattr(args, "db_after", None)
    return before if before is not None else after


def cmd_db(args: argparse.Namespace) -> int:
    commands = {
        "load": _db_load,
        "info": _db_info,
        "update": _db_update,
        "status": _db_status,
        "export": _db_export,
        "import": _db_import,
    }
    return commands[args.db_command](args, _db_path(args))


def _db_load(args: argparse.Namespace, db: str | None) -> ExitCode:
    from anchore.vulns.errors import UnknownFeedError
    from anchore.vulns.load import detect, load
    from anchore.vulns.store import Store

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


def _db_info(args: argparse.Namespace, db: str | None) -> ExitCode:
    from anchore.vulns.store import Store

    with Store(db) as store:
        if output.output_format(args) == "json":
            print(json.dumps(_info_dict(store), indent=2))
        else:
            _info(store)
    return ExitCode.OK


def _mirrors(values: list[str] | None, names: list[str]) -> dict[str, str]:
    """``--mirror NAME=URL`` values, each naming a feed that can be downloaded."""
    mirrors: dict[str, str] = {}
    for value in values or []:
        name, equals, url = value.partition("=")
        if not equals or not name or not url:
            raise UsageError(f"--mirror {value!r}: give NAME=URL (osv=https://mirror.example/osv)")
        if name not in names:
            raise UsageError(
                f"--mirror {value!r}: no feed named {name!r}; the feeds are: {', '.join(names)}"
            )
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--mirror {value!r}: the mirror is an http:// or https:// URL")
        if "?" in url or "#" in url or "@" in url.split("/", 3)[2]:  # may hold a secret
            raise UsageError(
                f"--mirror {name}=...: give a plain base URL, without ? or # or user@ "
                "(not shown: it may hold a secret)"
            )
        if name in mirrors and mirrors[name] != url:
            raise UsageError(f"--mirror given twice for {name!r}: {mirrors[name]} and {url}")
        mirrors[name] = url
    return mirrors


def _file_line(f: FileUpdate) -> str:
    """One feed file's outcome: ``loaded  osv PyPI/all.zip  2.6 MiB  (2661 loaded, ...)``."""
    what = f"{f.feed} {f.name or f.url}"
    if f.outcome == "failed":
        return f"failed        {what}: {f.error}"
    line = f"{f.outcome.replace('-', ' '):13} {what}  {human_size(f.transferred)}"
    if f.report is not None and f.outcome == "loaded":
        line += (f"  ({f.report.loaded} loaded, {f.report.unchanged} unchanged, "
                 f"{len(f.report.skipped)} skipped)")  # fmt: skip
    return line


def _db_update(args: argparse.Namespace, db: str | None) -> ExitCode:
    from anchore.net import ClientOptions, HttpClient
    from anchore.vulns.errors import FeedDownloadError, UnknownFeedError
    from anchore.vulns.load import readers
    from anchore.vulns.store import default_path
    from anchore.vulns.update import downloadable, update

    # the feeds update() itself would download: --mirror for any other would be ignored
    names = [r.name for r in readers() if downloadable(r)]
    mirrors = _mirrors(args.mirror, names)
    if args.ca_bundle is not None and not os.path.isfile(args.ca_bundle):
        raise UsageError(f"--ca-bundle {args.ca_bundle}: no such file")
    target = db if db is not None else str(default_path())
    lines: list[str] = []
    client = HttpClient(ClientOptions(ca_bundle=args.ca_bundle))

    def done(f: FileUpdate, bar: output.Progress | None) -> None:
        lines.append(_file_line(f))
        if bar is not None:  # how many files are known only as the feeds' indexes are read
            bar("feed files", len(lines), None)

    try:
        with output.progress(args.quiet, "db update:") as bar:
            report = update(target, feeds=args.feed or None, mirrors=mirrors, client=client,
                            keep_going=args.keep_going, on_file=lambda f: done(f, bar))  # fmt: skip
    except UnknownFeedError as exc:
        raise UsageError(f"--feed: {exc}") from None
    except FeedDownloadError as exc:
        fetched = sum(not line.startswith("failed") for line in lines)
        kept = f" ({fetched} files fetched before it were not kept)" if fetched else ""
        raise FeedDownloadError(
            f"{exc}; {target} was left as it was{kept}; --keep-going keeps the files that succeed",
            source=exc.source,
        ) from exc
    finally:
        client.close()
    _print_update(report, lines, target)
    return ExitCode.INPUT_ERROR if report.failed else ExitCode.OK


def _print_update(report: UpdateReport, lines: list[str], target: str) -> None:
    """Each file's line and the summary; the failures (--keep-going) on stderr."""
    from anchore.vulns.store import Store

    for line in lines:
        print(output.printable(line))  # file names come from the feed's server
    outcomes: dict[str, int] = {}
    for f in report.files:
        outcomes[f.outcome] = outcomes.get(f.outcome, 0) + 1
    counts = ", ".join(f"{n} {outcome.replace('-', ' ')}" for outcome, n in outcomes.items())
    summary = f"{_plural(len(report.files), 'file')}: {counts or 'none'}; " \
              f"{human_size(report.transferred)} transferred"  # fmt: skip
    if report.swapped:
        with Store(target) as store:
            changed = "updated" if outcomes.get("loaded") else "checked, nothing changed"
            print(f"{summary}; {target} {changed} ({len(store)} advisories)")
    else:
        print(f"{summary}; {target} left as it was")
    if report.failed:
        first = report.failed[0]
        kept = f"the other files were loaded into {target}" if report.swapped else \
               f"{target} was left as it was"  # fmt: skip
        print(f"anchore: error: {len(report.failed)} of {_plural(len(report.files), 'file')} "
              f"failed (first: {first.feed} {first.name or first.url}: {first.error}); {kept}",
              file=sys.stderr)  # fmt: skip


@attrs.frozen
class _FeedAge:
    """One feed of ``db status``: its status, its age in days and whether it is stale."""

    status: FeedStatus
    #: days since last checked with its server (since loaded, for a feed never downloaded)
    age: float | None
    #: None without --max-age
    stale: bool | None

    @classmethod
    def of(cls, status: FeedStatus, now: datetime.datetime, max_age: float | None) -> _FeedAge:
        when = status.checked or status.changed
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        age = None if when is None else max(0.0, (now - when).total_seconds() / 86400)
        # a feed never downloaded (only `db load`ed) has no known age: stale for --max-age
        stale = (
            None if max_age is None else (status.checked is None or age is None or age > max_age)
        )
        return cls(status, age, stale)

    @property
    def why(self) -> str:
        if self.status.checked is None or self.age is None:
            return "never updated, only loaded from files"
        return f"checked {self.age:.1f} days ago"

    def to_dict(self) -> dict[str, Any]:
        f = self.status
        return {
            "feed": f.feed,
            "base_url": f.base_url or None,
            "updated": f.checked is not None,
            "checked": _iso(f.checked),
            "changed": _iso(f.changed),
            "age_days": None if self.age is None else round(self.age, 3),
            "files": f.files,
            "advisories": f.advisories,
            "covers": list(f.covers),
            "stale": self.stale,
        }


def _days(n: float) -> str:
    return f"{n:g} day" if n == 1 else f"{n:g} days"


def _iso(when: datetime.datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def _db_status(args: argparse.Namespace, db: str | None) -> ExitCode:
    """Each feed's age; with --max-age, exit FAILED naming the stale ones (a failed check)."""
    from anchore.vulns.store import Store
    from anchore.vulns.update import status

    max_age: float | None = args.max_age
    if max_age is not None and not max_age > 0:
        raise UsageError(f"--max-age {max_age:g}: give a number of days above 0")
    now = datetime.datetime.now(datetime.timezone.utc)
    with Store(db) as store:
        feeds = [_FeedAge.of(f, now, max_age) for f in status(store)]
        header = {"path": str(store.path), "advisories": len(store),
                  "schema": store.schema_version}  # fmt: skip
    stale = [f for f in feeds if f.stale]
    if output.output_format(args) == "json":
        print(json.dumps({"store": header, "feeds": [f.to_dict() for f in feeds],
                          "max_age_days": max_age, "stale": [f.status.feed for f in stale]},
                         indent=2))  # fmt: skip
    else:
        _print_status(header, feeds)
    if max_age is None:
        return ExitCode.OK
    if not feeds:
        print(f"anchore: {header['path']}: holds no feed, so none was checked within "
              f"{_days(max_age)}; anchore db update downloads them", file=sys.stderr)  # fmt: skip
        return ExitCode.FAILED
    if stale:
        why = ", ".join(f"{f.status.feed} ({f.why})" for f in stale)
        print(f"anchore: {len(stale)} of {_plural(len(feeds), 'feed')} not checked within "
              f"{_days(max_age)}: {why}; anchore db update refreshes them",
              file=sys.stderr)  # fmt: skip
        return ExitCode.FAILED
    return ExitCode.OK


def _print_status(header: dict[str, Any], feeds: list[_FeedAge]) -> None:
    print(f"{header['path']}: {header['advisories']} advisories (schema {header['schema']})")
    if not feeds:
        print("no feed: nothing was downloaded or loaded; anchore db update downloads them")
        return
    rows = []
    for row in feeds:
        f = row.status
        age = "unknown" if row.age is None else f"{row.age:.1f} days"
        rows.append([
            f.feed + (" STALE" if row.stale else ""),
            _minute(f.checked) or "never",
            _minute(f.changed) or "unknown",
            age,
            f.advisories,
            f.files or "-",
            ", ".join(f.covers) or "nothing (no whole feed loaded)",
            f.base_url or "-",
        ])  # fmt: skip
    columns = ("FEED", "CHECKED", "CHANGED", "AGE", "ADVISORIES", "FILES", "COVERS", "FROM")
    output.print_table(columns, rows, keep=(0,), styles={0: _stale_style})
    if any(row.status.checked is None for row in feeds):
        print("a feed never checked was only loaded from files (anchore db load): its age is "
              "since then; anchore db update downloads it")  # fmt: skip


def _minute(when: datetime.datetime | None) -> str | None:
    return when.strftime("%Y-%m-%d %H:%M") if when is not None else None


def _stale_style(text: str) -> str | None:
    return "red" if text.endswith("STALE") else None


def _db_export(args: argparse.Namespace, db: str | None) -> ExitCode:
    from anchore.vulns.archive import export_store
    from anchore.vulns.store import Store

    with Store(db) as store:
        info = export_store(store, args.file)
    print(f"{args.file}: {info.advisories} advisories covering "
          f"{_plural(len(info.coverage), 'ecosystem')} (store schema {info.schema_version}), "
          f"{human_size(info.size)} store in {human_size(os.path.getsize(args.file))}")  # fmt: skip
    return ExitCode.OK


def _db_import(args: argparse.Namespace, db: str | None) -> ExitCode:
    from anchore.vulns.archive import import_store
    from anchore.vulns.store import Store, default_path

    target = db if db is not None else str(default_path())
    info = import_store(args.file, target)
    print(f"{target}: replaced by {args.file} (exported {_iso(info.exported)} by anchore "
          f"{info.anchore_version})")  # fmt: skip
    with Store(target) as store:
        _info(store)
    return ExitCode.OK


def _info_dict(store: Store) -> dict[str, Any]:
    """What the store holds: advisories, and for each ecosystem the feeds covering it."""
    counts = store.advisory_counts()
    feeds: dict[str, list[str]] = {}
    for source in store.coverage_sources():
        feeds.setdefault(source.ecosystem, []).append(
            f"{source.reader} {source.feed}" if source.feed else source.reader
        )
    ecosystems = [{"ecosystem": e, "advisories": counts.get(e, 0), "covered_by": feeds.get(e, [])}
                  for e in [*feeds, *(e for e in counts if e not in feeds)]]  # fmt: skip
    return {"path": str(store.path), "advisories": len(store), "schema": store.schema_version,
            "updated": _iso(store.updated), "ecosystems": ecosystems}  # fmt: skip


def _info(store: Store) -> None:
    """What the store holds: advisories, and for each ecosystem whether a feed covers it."""
    from anchore.vulns.store import load_hint

    info = _info_dict(store)
    print(f"{info['path']}: {info['advisories']} advisories (schema {info['schema']}), "
          f"updated {info['updated'] or 'never'}")  # fmt: skip
    rows = [(e["ecosystem"], e["advisories"],
             "; ".join(e["covered_by"]) or "not covered: only single advisory records name it "
             "(matched, but its packages stay unchecked until a whole feed is loaded)")
            for e in info["ecosystems"]]  # fmt: skip
    if not any(e["covered_by"] for e in info["ecosystems"]):
        print(f"covers no ecosystem: every package would be unchecked; {load_hint(store.path)}")
    if rows:
        output.print_table(("ECOSYSTEM", "ADVISORIES", "COVERED BY"), rows, keep=(0, 1),
                           styles={2: _uncovered_style})  # fmt: skip


def _uncovered_style(text: str) -> str | None:
    return "yellow" if text.startswith("not covered") else None


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
        with output.progress(args.quiet, "analyzing") as bar:
            analysis = open_analysis(args, progress=bar)
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


def artifact_name(source: str) -> str:
    """What SARIF locates a finding without a path in the image at: an image or SBOM file
    as a path relative to here (its name, when outside this directory), else the
    reference as given (``registry.example.com/app:1.2``)."""
    if not os.path.exists(source.rsplit(":", 1)[0]) and not os.path.exists(source):
        return source
    relative = os.path.relpath(source)
    return os.path.basename(source.rstrip("/")) if relative.startswith("..") else relative


def severity_style(text: str) -> str | None:
    """The colour of a severity (or a policy action) in a table, on a terminal."""
    word = text.lower()
    if word in ("critical", "high", "stop"):
        return "bold red" if word in ("critical", "stop") else "red"
    if word in ("medium", "warn"):
        return "yellow"
    return None


#: below this many columns, vulns leaves out the LAYER and PATH columns
_WIDE = 120
_VULN_COLUMNS = ("SEVERITY", "VULNERABILITY", "ALIASES", "PACKAGE", "INSTALLED", "FIXED IN",
                 "LAYER", "PATH")  # fmt: skip


def _match_row(m: Match) -> list[Any]:
    loc = m.locations[0] if m.locations else None
    return [m.rating, m.advisory_id, list(m.aliases), m.package_name, m.installed_version,
            m.fixed_in or "no fix", loc.layer_index if loc else None,
            loc.path if loc else None]  # fmt: skip


def _cves_first(aliases: list[str]) -> list[str]:
    return sorted(aliases, key=lambda a: not a.startswith("CVE-"))


def _print_text(scan: _Scan) -> None:
    from anchore.vulns.severity import rank

    result = scan.result
    kept = sorted(scan.kept, key=lambda m: (-rank(m.rating), m.package_name, m.advisory_id))
    width = output.terminal_width()
    narrow = width is not None and width < _WIDE
    if kept:
        columns: tuple[str, ...] = _VULN_COLUMNS
        rows = [_match_row(m) for m in kept]
        if narrow:  # the paths would leave every column a few letters wide; CVE ids first
            columns, rows = columns[:-2], [[*r[:2], _cves_first(r[2]), *r[3:-2]] for r in rows]
        output.print_table(columns, rows, keep=(0, 1), styles={0: severity_style})
        if narrow:
            print(f"(layers and paths: in a terminal {_WIDE} columns wide, or -o json)")
    if scan.suppressed:
        print()
        output.print_table(("SUPPRESSED", "PACKAGE", "KIND", "REASON"),
                           [(s.match.advisory_id, s.match.package_name, s.kind, s.reason)
                            for s in scan.suppressed], keep=(0,))  # fmt: skip
    if kept or scan.suppressed:
        print()
    checked = result.counts("checked")
    print(f"checked   {_plural(len(result.checked), 'package')}"
          + (f": {_counts(checked)}" if checked else ""))  # fmt: skip
    unchecked = result.counts("unchecked")
    if unchecked:
        print(f"UNCHECKED {_plural(len(result.unchecked), 'package')}: {_counts(unchecked)}")
        reasons: dict[str, int] = {}
        for c in result.unchecked:
            reasons[c.reason] = reasons.get(c.reason, 0) + 1
        why = [(n, reason) for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])]
        output.print_table(("PACKAGES", "WHY UNCHECKED"), why)
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
    fmt = output.output_format(args)
    rules, vex = _read_inputs(args)
    scan = _scan(args, rules, vex)
    code = _exit_code(args, scan)
    if fmt == "json":
        _print_json(scan)
    elif fmt == "sarif":
        from anchore.report.sarif import scan_log

        log = scan_log(scan.result, scan.kept, scan.suppressed, artifact=artifact_name(scan.source),
                       exit_code=code)  # fmt: skip
        print(json.dumps(log, indent=2))
    else:
        _print_text(scan)
    return code


# ---------------------------------------------------------------- parsers
_DB_HELP = (
    "the store file (default: $ANCHORE_VULN_DB, else "
    "$XDG_CACHE_HOME/anchore/vulnerabilities.sqlite)"
)


def add_parsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("db", help="the vulnerability store: update, load, status, export, import")
    p.add_argument(
        "--db", action=_DbOption, help=_DB_HELP + "; db update, load and import create it"
    )
    dbsub = p.add_subparsers(dest="db_command", required=True)
    u = dbsub.add_parser("update", help="download the published feeds and load what changed")
    u.add_argument("--feed", action="append", metavar="NAME[:PART]",
                   help="only this feed (osv, debian-tracker, alpine-secdb, a plugin's), or one "
                        "part of it (osv:PyPI, osv:* for every ecosystem, alpine-secdb:v3.18); "
                        "repeatable; default: every feed")  # fmt: skip
    u.add_argument(
        "--mirror",
        action="append",
        metavar="NAME=URL",
        help="fetch feed NAME from a mirror with the published layout "
        "(repeatable; also each feed's variable, ANCHORE_FEED_OSV_URL...)",
    )
    u.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="also trust the CAs in this PEM file (a mirror with an internal CA)",
    )
    u.add_argument(
        "--keep-going",
        action="store_true",
        help="keep the files that succeed when others fail (still exit 5)",
    )
    q = dbsub.add_parser("load", help="load OSV, Debian tracker or Alpine secdb files at hand")
    q.add_argument("paths", nargs="+", help="files, directories or zip archives")
    q.add_argument("--feed", help="the reader to use (default: detected)")
    r = dbsub.add_parser("info", help="how many advisories the store holds, and what it covers")
    output.output_arg(r)
    st = dbsub.add_parser("status", help="each feed: where from, when checked and changed, age")
    output.output_arg(st)
    st.add_argument("--max-age", type=float, metavar="DAYS",
                    help="exit 1 when a feed was not checked with its server within DAYS days "
                         "(a feed only loaded from files counts as stale)")  # fmt: skip
    ex = dbsub.add_parser("export", help="write the whole store to one file (a .tar.zst)")
    ex.add_argument("file", help="the export file to write")
    im = dbsub.add_parser("import", help="replace the store with an export file, checked first")
    im.add_argument("file", help="a file 'anchore db export' wrote")
    for parser, what in (
        (u, "created if missing"),
        (q, "created if missing"),
        (r, "it must exist"),
        (st, "it must exist"),
        (ex, "it must exist"),
        (im, "created if missing"),
    ):
        # also accepted after the subcommand; SUPPRESS: absent unless given, so the
        # value given before the subcommand is not overwritten by a default
        parser.add_argument("--db", dest="db_after", default=argparse.SUPPRESS, metavar="DB",
                            action=_DbOption,
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
    output.output_arg(p, ("table", "json", "sarif"))
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
