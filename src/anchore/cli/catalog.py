"""The ``catalog`` commands: many images stored over time (``docs/catalog.md``).

``anchore catalog add|list|show|query|diff|rematch|rm``. Every subcommand takes
``--catalog URL`` (a path or a ``postgresql://`` URL; default
:func:`anchore.catalog.default_catalog`). Only ``add`` creates a catalog: the
others, on a SQLite catalog that does not exist, fail naming it
(:class:`~anchore.catalog.errors.CatalogNotFoundError`), so a typo never reads as
an empty catalog.

Exit codes: ``add`` is 5 when any image failed (after the others are stored and
the whole report is printed), else the worst policy decision as ``evaluate``
gives it (1 STOP, 2 WARN), else 3 when ``--db`` checked nothing of an image
(``--allow-unchecked`` accepts it); ``rematch`` is 5 on an empty catalog, 1 with
``--fail-on-new`` when anything is newly affected, else 3 when packages went
unchecked with ``--fail-on-new`` (it cannot pass) or nothing was checked at all
(``--allow-unchecked`` accepts it), else 0: the rule of ``anchore vulns`` and
``--fail-on``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from anchore.cli import output
from anchore.cli.common import (
    UsageError,
    human_size,
    platform_arg,
    registry_args,
    registry_options,
)
from anchore.cli.query import (
    list_queries,
    parse_params,
    print_result,
)
from anchore.cli.vulns import severity_style
from anchore.errors import ExitCode
from anchore.serialize import plain

if TYPE_CHECKING:
    from anchore.catalog import Catalog, RematchReport, ScanOutcome
    from anchore.vulns.store import Store

__all__ = ["add_parsers", "short_key"]

_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)

#: hex digits of a digest shown in tables (``resolve`` takes any unique prefix of 4+)
SHORT = 12


def short_key(key: str) -> str:
    """``sha256:3f2a9c0d1e4b``: a key as tables show it."""
    algorithm, _, hexdigits = key.partition(":")
    return f"{algorithm}:{hexdigits[:SHORT]}" if hexdigits else key[:SHORT]


def _when(value: datetime.datetime | None) -> str:
    """A time in UTC, to the second: ``2026-11-24T09:33:00Z``."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    return value.isoformat(timespec="seconds")


def _dump(value: Any) -> None:
    print(json.dumps(plain(value), indent=2))


def _print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], keep: Sequence[int] = ()
) -> None:
    """A table fitted to the terminal (output.print_table), headed in capitals."""
    output.print_table([c.upper() for c in columns], rows, keep=keep,
                       styles=_styles(columns))  # fmt: skip


def _styles(columns: Sequence[str]) -> dict[int, Any]:
    """Severities and policy actions coloured on a terminal."""
    return {i: severity_style for i, c in enumerate(columns)
            if c in ("severity", "rating", "action", "final action")}  # fmt: skip


def _as_json(args: argparse.Namespace) -> bool:
    """-o json or --json (their conflict is a usage error)."""
    return output.output_format(args) == "json"


def _open(args: argparse.Namespace, *, create: bool = False) -> Catalog:
    from anchore.catalog import Catalog

    return Catalog(args.catalog, create=create)


def _open_store(db: str | None) -> Store:
    """The advisory store ``--db`` names (the default store when None), refusing an
    empty one: a match against nothing is not a clean bill."""
    from anchore.vulns.store import open_store

    store = open_store(db)
    try:
        store.require_data()
    except BaseException:
        store.close()
        raise
    return store


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# ---------------------------------------------------------------- add
def _outcome_line(outcome: ScanOutcome) -> str:
    """One image's line:
    ``added  sha256:3f2a9c0d1e4b  debian.tar  (12 matches; 80 checked, 8 unchecked; GO)``."""
    if outcome.failure is not None:
        return f"failed  {outcome.source}: {outcome.failure.message}"
    state = "added " if outcome.added else "cached"
    extras = []
    if outcome.moved:
        extras.append(
            "moved " + ", ".join(f"{name} from {short_key(old)}" for name, old in outcome.moved)
        )
    if outcome.matches is not None:
        extras.append(_plural(outcome.matches, "match", "matches"))
    if outcome.checked is not None and outcome.unchecked is not None:
        extras.append(f"{outcome.checked} checked, {outcome.unchecked} unchecked")
    if outcome.final_action is not None:
        extras.append(outcome.final_action)
    if outcome.failed_analyzers:
        extras.append("INCOMPLETE: " + ", ".join(f"{a} failed" for a in outcome.failed_analyzers))
    key = short_key(outcome.key) if outcome.key else "-"
    tail = f"  ({'; '.join(extras)})" if extras else ""
    return f"{state}  {key}  {outcome.source}{tail}"


def _add_exit(outcomes: Sequence[ScanOutcome], allow_unchecked: bool) -> ExitCode:
    """5 when any image failed; else the worst decision, as ``evaluate`` exits for one;
    else 3 (unless --allow-unchecked accepts it) when an analyzer failed on an image
    stored (its evidence is missing), or when ``--db`` checked none of an image's
    packages (an image of no package included), as ``anchore vulns`` exits for one
    image; else 0 (the lines say what went unchecked)."""
    if any(o.failure is not None for o in outcomes):
        return ExitCode.INPUT_ERROR
    actions = {o.final_action for o in outcomes}
    if "STOP" in actions:
        return ExitCode.FAILED
    if "WARN" in actions:
        return ExitCode.WARN
    if allow_unchecked:
        return ExitCode.OK
    broken = [o for o in outcomes if o.failed_analyzers]
    if broken:
        shown = "; ".join(
            f"{short_key(o.key or o.source)}: {', '.join(o.failed_analyzers)} failed"
            for o in broken
        )
        print(
            f"anchore: {_plural(len(broken), 'image')} not fully analyzed ({shown}): what "
            "those analyzers find is missing, no result for it; analyze again (anchore "
            "catalog add --rescan) or accept the gap with --allow-unchecked",
            file=sys.stderr,
        )
        return ExitCode.UNCHECKED
    gaps = [o for o in outcomes if o.checked == 0]
    if not gaps:
        return ExitCode.OK
    shown = ", ".join(f"{short_key(o.key or o.source)}: {o.unchecked}" for o in gaps)
    print(
        f"anchore: {_plural(len(gaps), 'image')} had none of its packages checked "
        f"({shown}): no result for them, not a clean one; load advisory data for them "
        "(anchore db load) or accept the gap with --allow-unchecked",
        file=sys.stderr,
    )
    return ExitCode.UNCHECKED


def cmd_add(args: argparse.Namespace) -> int:
    from anchore.analysis.many import ImageSource
    from anchore.catalog import scan

    if args.name and len(args.images) > 1:
        raise UsageError(f"--name names one image; {len(args.images)} given")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give 1 or more")
    platform = str(args.platform) if args.platform is not None else None
    sources = [ImageSource(image, platform=platform, tag=args.tag) for image in args.images]
    pull = registry_options(args, images=args.images)
    bundle = None
    if args.policy is not None:
        from anchore.policy import load_bundle

        bundle = load_bundle(args.policy)  # a bad bundle fails before any image is read
    store = _open_store(args.db) if args.db is not None else None
    outcomes: list[ScanOutcome] = []
    try:
        with _open(args, create=True) as catalog, output.progress(args.quiet) as bar:
            for outcome in scan(
                catalog,
                sources,
                executor=args.dask,
                workers=args.workers,
                names=args.name,
                store=store,
                bundle=bundle,
                rescan=args.rescan,
                registry=pull,
                progress=bar,
            ):
                outcomes.append(outcome)
                if not _as_json(args):
                    print(output.printable(_outcome_line(outcome)), flush=True)
            where = catalog.url
            total = len(catalog)
    finally:
        if store is not None:
            store.close()
    failed = [o for o in outcomes if o.failure is not None]
    added = sum(o.added for o in outcomes)
    cached = len(outcomes) - added - len(failed)
    if _as_json(args):
        _dump(
            {
                "catalog": where,
                "images": outcomes,
                "added": added,
                "cached": cached,
                "failed": len(failed),
                "stored": total,
            }
        )
    else:
        print(
            f"{_plural(len(outcomes), 'image')}: {added} added, {cached} cached, "
            f"{len(failed)} failed; {where} holds {_plural(total, 'image')}"
        )
    if failed:
        first = failed[0].failure
        assert first is not None
        print(
            f"anchore: error: {len(failed)} of {_plural(len(outcomes), 'image')} failed "
            f"(first: {output.printable(first.message)}); the others were stored",
            file=sys.stderr,
        )
    return _add_exit(outcomes, args.allow_unchecked)


# ---------------------------------------------------------------- list, show
def cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as catalog:
        records = catalog.images(name=args.name)
    if _as_json(args):
        _dump(records)
        return ExitCode.OK
    rows = [
        [
            short_key(r.key),
            ", ".join(r.names) or "-",
            r.distro or "-",
            r.platform,
            r.package_count,
            human_size(r.size) if r.size is not None else "-",
            _when(r.last_seen),
        ]
        for r in records
    ]
    columns = ["image", "names", "distro", "platform", "packages", "size", "last seen"]
    _print_table(columns, rows, keep=[0, 6])  # key (copied into show/rm), time: never cut
    if not records:
        what = f" named {args.name}" if args.name else ""
        print(f"anchore: catalog {catalog.url}: no images{what}", file=sys.stderr)
    return ExitCode.OK


def cmd_show(args: argparse.Namespace) -> int:
    from anchore.catalog import custody

    with _open(args) as catalog:
        record = catalog.image(args.ref)
        runs = catalog.match_runs(record.key)
        latest = runs[-1] if runs else None
        matches = catalog.matches(record.key) if latest is not None else []
        evaluations = catalog.evaluations(record.key)
        chain = custody(catalog, args.ref) if args.ref in catalog.names() else None
    if _as_json(args):
        _dump(
            {
                "image": record,
                "latest_match_run": latest,
                "matches": matches,
                "evaluations": evaluations,
                "custody": chain,
            }
        )
        return ExitCode.OK
    fields = [
        ("image", record.key),
        ("manifest", record.manifest_digest or "- (a docker-save archive: keyed by config)"),
        ("config", record.config_digest),
        ("names", ", ".join(record.names) or "-"),
        ("source", record.source),
        ("platform", record.platform),
        ("distro", record.distro or "- (none found)"),
        ("created", _when(record.created)),
        ("size", human_size(record.size) if record.size is not None else "-"),
        ("layers", "-" if record.layer_count is None else str(record.layer_count)),
        ("packages", str(record.package_count)),
        ("first seen", _when(record.first_seen)),
        ("last seen", _when(record.last_seen)),
    ]
    if latest is None:
        fields.append(("matched", "never (anchore catalog rematch --db STORE)"))
    else:
        fields.append(
            (
                "matched",
                f"{_when(latest.matched_at)}: "
                f"{_plural(len(matches), 'match', 'matches')}; {latest.checked} packages "
                f"checked, {latest.unchecked} unchecked, {latest.declared} declared",
            )
        )
        for feed, dates in sorted(latest.feeds.items()):
            fields.append(
                (
                    f"  feed {feed}",
                    f"checked {dates.get('checked') or '-'}, changed {dates.get('changed') or '-'}",
                )
            )
    for ev in evaluations:
        fields.append(
            (
                "evaluated",
                f"{_when(ev.evaluated_at)}: {ev.final_action} "
                f"({ev.bundle}, {short_key(ev.bundle_digest)})",
            )
        )
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name + ':':{width + 1}} {output.printable(str(value))}")
    if chain is not None:
        print(f"\nchain of custody of {args.ref}:")
        _print_table(
            ["image", "first seen", "last seen", "added", "removed", "changed"],
            [
                [
                    short_key(c.key),
                    _when(c.first_seen),
                    _when(c.last_seen),
                    *("?" if n is None else n for n in (c.added, c.removed, c.changed)),
                ]
                for c in chain
            ],
            keep=[0],
        )
        for c in chain:  # unknown counts are "?", never 0, and say why
            if c.reason:
                print(f"  {short_key(c.key)}: counts unknown: {output.printable(c.reason)}")
    return ExitCode.OK


# ---------------------------------------------------------------- query, diff
def cmd_query(args: argparse.Namespace) -> int:
    from anchore import query as queries
    from anchore.catalog import query
    from anchore.query import QueryNotFoundError, QueryParamError

    if args.list:
        if args.name or args.image:
            raise UsageError("--list takes no query name or --image")
        return list_queries()
    if not args.name:
        raise UsageError("give a query name (or --list)")
    params = parse_params(args.param or [])
    images = args.image or None
    try:
        found = queries.find(args.name)
        if images is None and found.images != "many":
            wanted = "one image" if found.images == "one" else "two images"
            raise UsageError(f"query {found.name!r} takes {wanted}: give them with --image REF")
        # every image (None) counts as one for checking the parameters
        queries.check(found, len(images) if images else 1, params)
    except (QueryNotFoundError, QueryParamError) as exc:
        raise UsageError(str(exc)) from None
    store = _open_store(args.db) if found.needs_store else None
    try:
        with _open(args) as catalog:
            result = query(catalog, found.name, params, images=images, store=store)
    except QueryParamError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if store is not None:
            store.close()
    print_result(result, _as_json(args))
    return ExitCode.OK


def cmd_diff(args: argparse.Namespace) -> int:
    from anchore.catalog import diff
    from anchore.query import QueryParamError
    from anchore.query.diff import DiffRow
    from anchore.query.model import QueryResult

    try:
        with _open(args) as catalog:
            rows: list[Any] = diff(catalog, args.a, args.b, args.kinds)
    except QueryParamError as exc:
        raise UsageError(f"--kinds: {exc}") from None
    columns = tuple(f.name for f in attrs.fields(DiffRow))
    print_result(QueryResult("diff", columns, tuple(rows)), _as_json(args))
    return ExitCode.OK


# ---------------------------------------------------------------- rematch
def _rematch_summary(report: RematchReport) -> str:
    counts = {change: sum(r.change == change for r in report.rows) for change in _CHANGES}
    line = (
        f"{_plural(report.images, 'image')} matched at {_when(report.matched_at)} "
        f"({len(report.first_runs)} for the first time): {counts['new']} newly affected, "
        f"{counts['gone']} no longer"
    )
    if counts["unchecked"]:
        line += f", {counts['unchecked']} previously affected now unchecked"
    if report.removed:
        line += f"; {_plural(len(report.removed), 'image')} removed meanwhile, not matched"
    line += f"; {_plural(report.checked, 'package')} checked"
    if report.unchecked:
        line += (
            f"; {_plural(report.unchecked, 'package')} could not be checked (no advisory "
            "data for their ecosystem or distro release): nothing is known of them"
        )
    return line


#: the changes a rematch row reports, in the order the summary counts them
_CHANGES = ("new", "gone", "unchecked")


def _rematch_exit(args: argparse.Namespace, report: RematchReport) -> ExitCode:
    """1 with --fail-on-new when anything is newly affected; else 3, unless
    --allow-unchecked accepts it, with one line saying why: when an image's stored
    analysis lacks package evidence (an analyzer failed or did not run: what was never
    found was never matched), when any image had none of its packages checked (as
    ``anchore vulns`` for one image, and ``catalog add`` per image; an image of no package
    included), or when packages went unchecked with --fail-on-new (as ``anchore vulns
    --fail-on``: what was not checked cannot pass); else 0."""
    if args.fail_on_new and any(r.change == "new" for r in report.rows):
        return ExitCode.FAILED
    if args.allow_unchecked:
        return ExitCode.OK
    accept = "or accept the gap with --allow-unchecked"
    if report.incomplete_images:
        shown = "; ".join(
            f"{short_key(key)}: INCOMPLETE: {', '.join(gaps)}"
            for key, gaps in report.incomplete_images
        )
        what = f"{_plural(len(report.incomplete_images), 'image')} not fully analyzed"
        print(
            f"anchore: {what} ({shown}): packages never found were never matched, no "
            f"result for them; analyze them again (anchore catalog add --rescan) {accept}",
            file=sys.stderr,
        )
        return ExitCode.UNCHECKED
    unchecked = dict(report.unchecked_images)
    if report.nothing_checked:
        shown = ", ".join(
            f"{short_key(key)}: {unchecked.get(key, 0)}" for key in report.nothing_checked
        )
        print(
            f"anchore: {_plural(len(report.nothing_checked), 'image')} had none of its "
            f"packages checked (none was checked; unchecked: {shown}): no result for them, "
            f"not a clean one; load advisory data for them (anchore db load) {accept}",
            file=sys.stderr,
        )
        return ExitCode.UNCHECKED
    if not args.fail_on_new or not report.unchecked_images:
        return ExitCode.OK
    shown = ", ".join(f"{short_key(key)}: {n}" for key, n in report.unchecked_images)
    print(
        f"anchore: {_plural(report.unchecked, 'package')} in "
        f"{_plural(len(report.unchecked_images), 'image')} could not be checked "
        f"({shown}): --fail-on-new cannot pass; load advisory data for them "
        f"(anchore db load) {accept}",
        file=sys.stderr,
    )
    return ExitCode.UNCHECKED


def cmd_rematch(args: argparse.Namespace) -> int:
    from anchore.catalog import rematch

    if args.db is None:
        raise UsageError("rematch needs the advisory store to match against: --db STORE")
    store = _open_store(args.db)
    try:
        with _open(args) as catalog:
            report = rematch(catalog, store, images=args.image or None)
            where = catalog.url
    finally:
        store.close()
    if report.images == 0:  # "0 newly affected" would read as a clean night
        from anchore.catalog.errors import CatalogError

        raise CatalogError(f"the catalog {where} holds no image: nothing was matched")
    if _as_json(args):
        _dump(report)
        return _rematch_exit(args, report)
    rows = [
        [
            r.change,
            r.image,
            r.advisory_id,
            r.package_type,
            r.package_name,
            r.version,
            r.fixed_in,
            r.rating,
            r.layer_index,
        ]
        for r in report.rows
    ]
    if rows:
        _print_table(
            [
                "change",
                "image",
                "advisory",
                "type",
                "package",
                "version",
                "fixed in",
                "rating",
                "layer",
            ],
            rows,
        )
    print(_rematch_summary(report))
    return _rematch_exit(args, report)


# ---------------------------------------------------------------- rm
def cmd_rm(args: argparse.Namespace) -> int:
    """Every REF is resolved before anything is removed (one unknown: none removed). Each
    removal is then its own transaction: a database error midway leaves the earlier ones
    removed, and the error says which."""
    from anchore.catalog.errors import CatalogError

    with _open(args) as catalog:
        keys = list(dict.fromkeys(catalog.resolve(ref) for ref in args.refs))
        removed: list[str] = []
        for key in keys:
            try:
                record = catalog.remove(key)
            except CatalogError as exc:
                if not removed:
                    raise
                kept = ", ".join(keys[len(removed) :])
                raise CatalogError(
                    f"{exc}; {len(removed)} of {_plural(len(keys), 'image')} removed before "
                    f"it ({', '.join(removed)}), {kept} kept"
                ) from exc
            removed.append(record.key)
            names = f" ({', '.join(record.names)})" if record.names else ""
            print(output.printable(f"removed {record.key}{names}"), flush=True)
    return ExitCode.OK


# ---------------------------------------------------------------- parsers
def _catalog_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--catalog",
        metavar="URL",
        help="the catalog: a path (SQLite) or a postgresql://user@host/db URL (default: "
        "$ANCHORE_CATALOG, else ~/.local/share/anchore/catalog.db)",
    )


def _json_arg(p: argparse.ArgumentParser, what: str) -> None:
    output.output_arg(p)  # table or json (--json); ``what`` is what the JSON holds


def add_parsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    top = sub.add_parser(
        "catalog",
        help="store analyses of many images over time, query and re-match them",
        description="A catalog of analyses keyed by manifest digest, with the names each "
        "image was seen as (docs/catalog.md).",
    )
    commands = top.add_subparsers(dest="catalog_command", required=True, parser_class=type(top))

    p = commands.add_parser(
        "add", help="analyze images and store them (a stored one is a cache hit)"
    )
    p.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="docker-save archive, OCI layout or archive (path[:tag]), or a registry reference",
    )
    p.add_argument(
        "--name",
        action="append",
        default=[],
        help="also record the image as seen under this name (repeatable; one IMAGE)",
    )
    run = p.add_mutually_exclusive_group()
    run.add_argument("--workers", type=int, help="processes analyzing at once (default: the cores)")
    run.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="analyze on this Dask scheduler (tcp://host:8786; anchore[dask])",
    )
    p.add_argument(
        "--db",
        metavar="STORE",
        help="also match each image against this advisory store and record it",
    )
    p.add_argument(
        "--allow-unchecked",
        action="store_true",
        help="with --db: do not exit 3 when packages went unchecked (no advisory data)",
    )
    p.add_argument(
        "--policy",
        metavar="BUNDLE",
        help="also evaluate each image with this policy bundle and record it; "
        "exit 1 on a STOP, 2 on a WARN",
    )
    p.add_argument(
        "--rescan",
        action="store_true",
        help="analyze and store again images the catalog already holds",
    )
    p.add_argument(
        "--platform", type=platform_arg, help="os/arch[/variant] in a multi-platform index"
    )
    p.add_argument("--tag", help="which image, when a source holds several")
    registry_args(p)
    _catalog_arg(p)
    _json_arg(p, "each image's outcome and the summary")
    p.set_defaults(func=cmd_add)

    p = commands.add_parser("list", help="the stored images, most recently seen first")
    p.add_argument("--name", metavar="GLOB", help="only images a name matching GLOB pointed at")
    _catalog_arg(p)
    _json_arg(p, "the image records")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("show", help="one stored image; for a name, its chain of custody")
    p.add_argument(
        "ref",
        metavar="REF",
        help="a digest or unique prefix of one (sha256:3f2a), name@digest, or a name",
    )
    _catalog_arg(p)
    _json_arg(p, "the record, latest match run, evaluations and custody")
    p.set_defaults(func=cmd_show)

    p = commands.add_parser("query", help="run a named query over stored images (no re-reading)")
    p.add_argument("name", nargs="?", help="the query (anchore catalog query --list)")
    p.add_argument(
        "--param",
        "-p",
        action="append",
        metavar="NAME=VALUE",
        help="a parameter of the query (repeatable)",
    )
    p.add_argument(
        "--image",
        action="append",
        metavar="REF",
        help="a stored image to query (repeatable; default: every one)",
    )
    p.add_argument("--db", metavar="STORE", help="the advisory store, for queries that read it")
    p.add_argument("--list", action="store_true", help="list the queries and their parameters")
    _catalog_arg(p)
    _json_arg(p, "the result: query, columns, rows")
    p.set_defaults(func=cmd_query)

    p = commands.add_parser("diff", help="what changed between two stored images")
    p.add_argument("a", metavar="A", help="the image before (a digest, prefix or name)")
    p.add_argument("b", metavar="B", help="the image after")
    p.add_argument(
        "--kinds",
        metavar="KINDS",
        help="only these: package, file, setuid, config (comma-separated)",
    )
    _catalog_arg(p)
    _json_arg(p, "the rows")
    p.set_defaults(func=cmd_diff)

    p = commands.add_parser(
        "rematch", help="match stored images against the store as it is now: what is new"
    )
    p.add_argument("--db", metavar="STORE", help="the advisory store to match against (required)")
    p.add_argument(
        "--image",
        action="append",
        metavar="REF",
        help="only this stored image (repeatable; default: every one)",
    )
    p.add_argument(
        "--fail-on-new",
        action="store_true",
        help="exit 1 when any image is newly affected (before the unchecked rule: 3)",
    )
    p.add_argument(
        "--allow-unchecked",
        action="store_true",
        help="do not exit 3 when packages went unchecked (no advisory data for them)",
    )
    _catalog_arg(p)
    _json_arg(p, "the report")
    p.set_defaults(func=cmd_rematch)

    p = commands.add_parser("rm", help="delete stored images with everything about them")
    p.add_argument("refs", nargs="+", metavar="REF", help="a digest, unique prefix or name")
    _catalog_arg(p)
    p.set_defaults(func=cmd_rm)
