"""Policy command: evaluate."""

from __future__ import annotations

import argparse
import json
from typing import Any

from anchore.cli.common import analysis_of, image_args, registry_options
from anchore.errors import ExitCode


def cmd_evaluate(args: argparse.Namespace) -> ExitCode:
    from anchore.policy import evaluate, load_bundle
    from anchore.vulns.store import open_store

    bundle = load_bundle(args.bundle)
    # a --db that names no store is an error at once; without --db the default
    # store is opened only if the mapped policies have vulnerability rules
    store = open_store(args.db) if args.db else None
    try:
        # one set of registry options (and one read of --password-stdin) for both images
        pull = registry_options(args, images=[args.image, *([args.base] if args.base else [])])
        result = analysis_of(args.image, platform=args.platform, tag=args.tag,
                             registry_options=pull)  # fmt: skip
        base = analysis_of(args.base, registry_options=pull) if args.base else None
        evaluation = evaluate(result, bundle, tag=args.tag_as, base=base, store=store,
                              include_declared=args.include_declared)  # fmt: skip
    finally:
        if store is not None:
            store.close()
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2))
    else:
        print(evaluation.table())
    return evaluation.exit_code


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
    p.add_argument("--json", action="store_true", help="the Evaluation as JSON")
    p.set_defaults(func=cmd_evaluate)
