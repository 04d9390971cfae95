"""The ``anchore`` command: a thin shell over the same functions a notebook uses.

Each command module parses its arguments, calls the public API and prints; it
parses no domain file itself. Exit codes are :class:`anchore.errors.ExitCode`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from anchore import __version__
from anchore.cli import images, policy, vulns
from anchore.errors import AnchoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anchore", description="Look inside container images, without a daemon."
    )
    parser.add_argument("--version", action="version", version=f"anchore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    images.add_parsers(sub)
    vulns.add_parsers(sub)
    policy.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AnchoreError as exc:
        print(f"anchore: error: {exc}", file=sys.stderr)
        return 3 if args.func is policy.cmd_evaluate else 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
