"""Policy command: evaluate."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from anchore.cli.common import image_args, open_from
from anchore.image import open_image


def cmd_evaluate(args: argparse.Namespace) -> int:
    from anchore.analysis.engine import analyze
    from anchore.policy import evaluate, load_bundle
    from anchore.vulns import Store

    bundle = load_bundle(args.bundle)
    with open_from(args) as image:
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


def add_parsers(sub: Any) -> None:
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
