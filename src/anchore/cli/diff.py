"""``anchore diff OLD NEW``: what changed between two images (or SBOMs).

The rows are :func:`anchore.query.diff.diff`'s, the same the ``diff`` query and a
notebook get. By default every kind both sides can answer is compared; a kind one side
cannot answer (an SBOM without a file inventory or config) is named on stderr and in the
JSON's ``not_compared``, never shown as "no change". Asked for with ``--kinds``, such a
kind is an error instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from anchore.analysis.model import Analysis
from anchore.cli.common import image_options, open_analysis, registry_options
from anchore.cli.output import output_arg, output_format, print_line, print_table, printable
from anchore.errors import ExitCode
from anchore.query.diff import KINDS, DiffRow, diff, image_label, parse_kinds
from anchore.query.errors import QueryParamError, UnanswerableQueryError
from anchore.query.evidence import require_config
from anchore.query.evidence import require_packages as _require_packages
from anchore.serialize import plain

__all__ = ["DIFF_COLUMNS", "add_parsers", "cmd_diff"]

#: the table of ``diff``
DIFF_COLUMNS = ("KIND", "CHANGE", "TYPE", "NAME", "LAYER", "WHAT")
#: the order of a person's table: the few rows that matter before the many files
_SHOWN_FIRST = ("package", "setuid", "config", "file")

_CHANGE_STYLES = {"added": "green", "removed": "red", "changed": "yellow"}


def require_packages(analysis: Analysis, query: str) -> None:
    """Every ecosystem's packages were looked for (else "removed" would be a guess)."""
    _require_packages(analysis, None, query)


def _why_not(kind: str, old: Analysis, new: Analysis) -> str | None:
    """Why ``kind`` cannot be compared between these two analyses (None: it can)."""
    if kind in ("file", "setuid"):
        for side in (old, new):
            if not side.files_known:
                return f"{image_label(side)} ({side.origin}) has no file inventory"
    checks = {"package": require_packages, "config": require_config}
    if kind in checks:
        for side in (old, new):
            try:
                checks[kind](side, "diff")
            except UnanswerableQueryError as exc:
                return str(exc).removeprefix("query 'diff': ")
    return None


def _kinds_arg(text: str) -> frozenset[str]:
    try:
        return parse_kinds(text)
    except QueryParamError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _summary(rows: list[DiffRow], kinds: set[str]) -> list[str]:
    """One line per kind compared: how many rows were added, removed and changed."""
    lines = []
    for kind in _SHOWN_FIRST:
        if kind in kinds:
            counts = {c: sum(1 for r in rows if r.kind == kind and r.change == c) for c in
                      ("added", "removed", "changed")}  # fmt: skip
            lines.append(
                f"{kind + ':':9}{counts['added']} added, {counts['removed']} removed, "
                f"{counts['changed']} changed"
            )
    return lines


def _what(row: DiffRow) -> str | None:
    """A row's change in a few words: the new value, the old one, or both and how."""
    if row.detail:
        return row.detail
    if row.change == "changed":
        return f"{row.before} -> {row.after}"
    return row.after if row.change == "added" else row.before


def _record(row: DiffRow) -> dict[str, Any]:
    """A row as JSON: the library's fields, the layer under the key every ``-o json`` and
    ``to_records()`` uses (``layer``, as in packages and layers), in the same place."""
    return {("layer" if k == "layer_index" else k): v for k, v in plain(row).items()}


def cmd_diff(args: argparse.Namespace) -> ExitCode:
    pull = registry_options(args, images=[args.old, args.new])
    old = open_analysis(args, args.old, pull=pull)
    new = open_analysis(args, args.new, pull=pull)
    if args.kinds is not None:
        kinds = set(args.kinds)  # asked for: a kind that cannot be compared is an error
        skipped: dict[str, str] = {}
        refused = {k: why for k in KINDS if k in kinds and (why := _why_not(k, old, new))}
        if refused:
            able = ",".join(k for k in KINDS if _why_not(k, old, new) is None)
            names = " and ".join(refused)
            reasons = "; ".join(dict.fromkeys(refused.values()))  # file and setuid: one why
            hint = f" (--kinds {able})" if able else ""
            raise UnanswerableQueryError(
                f"diff {args.old} {args.new}: {names} changes cannot be compared: {reasons}; "
                f"leave {names} out of --kinds{hint}"
            )
    else:
        skipped = {k: why for k in KINDS if (why := _why_not(k, old, new)) is not None}
        kinds = set(KINDS) - set(skipped)
        if not kinds:  # nothing compared is not "no differences"
            reasons = "; ".join(f"{k}: {why}" for k, why in skipped.items())
            raise UnanswerableQueryError(
                f"diff {args.old} {args.new}: nothing could be compared ({reasons})"
            )
    rows = diff(old, new, ",".join(k for k in KINDS if k in kinds))
    if output_format(args) == "json":
        data = {
            "old": image_label(old),
            "new": image_label(new),
            "kinds": [k for k in KINDS if k in kinds],
            "not_compared": skipped,
            "rows": [_record(r) for r in rows],
        }
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    for kind, why in skipped.items():
        print(printable(f"anchore: note: {kind} changes not compared: {why}"), file=sys.stderr)
    print_line(f"old      {image_label(old)}")
    print_line(f"new      {image_label(new)}")
    for line in _summary(rows, kinds):
        print_line(line)
    if rows:
        shown = sorted(rows, key=lambda r: _SHOWN_FIRST.index(r.kind))  # stable within a kind
        table = [[r.kind, r.change, r.type, r.name, r.layer_index, _what(r)] for r in shown]
        print_table(DIFF_COLUMNS, table, keep=(0, 1, 4), styles={1: _CHANGE_STYLES.get})
    return ExitCode.OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "diff",
        help="what changed from OLD to NEW: packages, files, setuid bits, config",
        description="Packages added, removed and changed (with the direction of a version "
        "change), files, setuid/setgid bits and config, from image OLD to image NEW. Either "
        "may be an SBOM: what it does not record is named and not compared.",
    )
    p.add_argument(
        "old",
        help="the image before: a registry reference, an archive or layout (path[:tag]), "
        "or an SBOM file",
    )
    p.add_argument("new", help="the image after (the same kinds of source)")
    image_options(p)
    p.add_argument(
        "--kinds",
        type=_kinds_arg,
        metavar="KIND[,KIND]",
        help=f"only these kinds ({', '.join(KINDS)}); a kind an input cannot answer is "
        "then an error (default: every kind both can answer)",
    )
    output_arg(p)
    p.set_defaults(func=cmd_diff)
