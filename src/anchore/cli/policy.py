"""Policy command: evaluate."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import TYPE_CHECKING, Any

from anchore.cli import output
from anchore.cli.common import analysis_of, image_args, registry_options
from anchore.cli.vulns import artifact_name, severity_style
from anchore.errors import ExitCode

if TYPE_CHECKING:
    from anchore.policy import Evaluation

#: the order items are listed in: what blocks first
_ORDER = {"STOP": 0, "WARN": 1, "GO": 2}


def cmd_evaluate(args: argparse.Namespace) -> ExitCode:
    from anchore.policy import evaluate, load_bundle
    from anchore.vulns.store import open_store

    fmt = output.output_format(args)
    bundle = load_bundle(args.bundle)
    # a --db that names no store is an error at once; without --db the default
    # store is opened only if the mapped policies have vulnerability rules
    store = open_store(args.db) if args.db else None
    try:
        # one set of registry options (and one read of --password-stdin) for both images
        pull = registry_options(args, images=[args.image, *([args.base] if args.base else [])])
        with output.progress(args.quiet, "analyzing") as bar:
            result = analysis_of(args.image, platform=args.platform, tag=args.tag,
                                 registry_options=pull, progress=bar)  # fmt: skip
        with output.progress(args.quiet, "analyzing the base") as bar:
            base = (
                analysis_of(args.base, registry_options=pull, progress=bar) if args.base else None
            )
        evaluation = evaluate(result, bundle, tag=args.tag_as, base=base, store=store,
                              include_declared=args.include_declared)  # fmt: skip
    finally:
        if store is not None:
            store.close()
    if fmt == "json":
        print(json.dumps(evaluation.to_dict(), indent=2))
    elif fmt == "sarif":
        from anchore.report.sarif import evaluation_log

        command = shlex.join(["anchore", *sys.argv[1:]]) if sys.argv[1:] else None
        log = evaluation_log(evaluation, artifact=artifact_name(args.image), command_line=command)
        print(json.dumps(log, indent=2))
    else:
        print_evaluation(evaluation)
    return evaluation.exit_code


def print_evaluation(evaluation: Evaluation) -> None:
    """The triggered items (blocking ones first) in a table fitted to the terminal, the
    allowlisted ones in another (they do not count), the vulnerability coverage, then the
    decision."""
    items = sorted(evaluation.items, key=lambda i: (_ORDER.get(i.action, 3), i.gate, i.trigger_id))
    counted = [(i.action, i.gate, i.trigger, i.message) for i in items if not i.allowlisted]
    if counted:
        output.print_table(("ACTION", "GATE", "TRIGGER", "MESSAGE"), counted, keep=(0,),
                           styles={0: severity_style})  # fmt: skip
    else:
        print("no rule triggered" if not items else "every triggered rule is allowlisted")
    allowed = [(i.allowlist_item, i.action, i.gate, i.trigger, i.message)
               for i in items if i.allowlisted]  # fmt: skip
    if allowed:
        print()
        output.print_table(("ALLOWLISTED", "ACTION", "GATE", "TRIGGER", "MESSAGE"), allowed)
    line = evaluation.coverage_line()  # what the vulnerability rules could check
    if line is not None and evaluation.coverage is not None:
        print()
        width = output.terminal_width()
        if width is None or len(line) <= width:
            print(line)
        else:  # the same counts as a table that fits, rather than a wrapped line
            rows = [(status, sum(counts.values()), counts)
                    for status, counts in evaluation.coverage.items() if counts]  # fmt: skip
            output.print_table(("COVERAGE", "PACKAGES", "BY ECOSYSTEM"), rows, keep=(0, 1))
    print()
    out = output.console()
    reason = output.printable(evaluation.reason)  # it may quote a name from the image
    out.print(f"final action: {evaluation.final_action} ({reason})",
              style=severity_style(evaluation.final_action) or "bold green",
              overflow="ignore", crop=False, markup=False)  # fmt: skip


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate", help="evaluate a policy bundle: exit 0 for GO, 1 for STOP, 2 for WARN"
    )
    image_args(p)
    p.add_argument("--bundle", required=True, help="the policy bundle (JSON or YAML)")
    p.add_argument(
        "--db",
        help="the vulnerability store, for vulnerability rules (default: the store "
        "'anchore db load' fills: $ANCHORE_VULN_DB, else $XDG_CACHE_HOME/anchore/"
        "vulnerabilities.sqlite); a missing store is an error, never a silent GO",
    )
    p.add_argument("--base", help="the base image (or its SBOM), for 'added since base' triggers")
    p.add_argument("--tag-as", help="the tag mappings see (default: the image's own)")
    p.add_argument(
        "--include-declared",
        action="store_true",
        help="package and vulnerability rules also see packages only a lock or requirements "
        "file declares (no required_package is ever met by one)",
    )
    output.output_arg(p, ("table", "json", "sarif"))
    p.set_defaults(func=cmd_evaluate)
