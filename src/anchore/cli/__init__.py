"""The ``anchore`` command: a thin shell over the same functions a notebook uses.

Each command module parses its arguments, calls the public API and prints; it
parses no domain file itself. :func:`main` alone turns outcomes into exit
codes (:class:`anchore.errors.ExitCode`), so that a pipeline can tell a bad
image from a bad command line, an unusable input or a crash:

- a bad command line prints argparse's usage and error and exits USAGE_ERROR;
- an :class:`~anchore.errors.AnchoreError` prints ``anchore: error: MESSAGE``
  (one line) and exits INPUT_ERROR;
- anything else is a bug: one line, ``anchore: internal error: ...``, and
  INTERNAL_ERROR; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from anchore import __version__
from anchore.cli import cache, catalog, config, images, policy, query, report, sbom, vulns
from anchore.cli.common import UsageError
from anchore.errors import AnchoreError, ExitCode, one_line

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, exiting USAGE_ERROR (its default 2 is ExitCode.WARN here), and taking no
    abbreviated option: ``--conf`` for ``--config`` or ``--fail`` for ``--fail-on`` would
    be read by argparse but not by what looks for the full name first (the
    configuration, ``--config``), so a prefix could change one and not the other."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _add_global(parser: argparse.ArgumentParser, top: bool) -> None:
    """``--debug`` and ``-q`` before or after any (sub)command; only the top level sets
    their defaults."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="on an error, show the full traceback",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="no progress bars (they are drawn only when stderr is a terminal)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _add_global(child, top=False)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="anchore", description="Look inside container images, without a daemon.")
    parser.add_argument("--version", action="version", version=f"anchore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    images.add_parsers(sub)
    vulns.add_parsers(sub)
    policy.add_parsers(sub)
    query.add_parsers(sub)
    sbom.add_parsers(sub)
    cache.add_parsers(sub)
    catalog.add_parsers(sub)
    report.add_parsers(sub)
    config.add_parsers(sub)
    _add_global(parser, top=True)
    return parser


def _usage_error(parser: argparse.ArgumentParser, args: argparse.Namespace, exc: UsageError) -> int:
    """A command's own argument check failed: report it as argparse reports its own."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and args.command in action.choices:
            parser = action.choices[args.command]
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {exc}", file=sys.stderr)
    return ExitCode.USAGE_ERROR


def _quiet_stdout() -> None:
    """After a broken pipe, send what is left to /dev/null so that exit does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout replaced (tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its :class:`~anchore.errors.ExitCode` (never raise)."""
    parser = build_parser()
    try:  # anchore.yaml and ANCHORE_* become the defaults the flags override
        config.apply(parser, sys.argv[1:] if argv is None else list(argv))
    except AnchoreError as exc:
        print(f"anchore: error: {one_line(str(exc))}", file=sys.stderr)
        return ExitCode.INPUT_ERROR
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (USAGE_ERROR)
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE_ERROR
    debug: bool = args.debug
    try:
        code = ExitCode(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not as a warning at exit
        return code
    except UsageError as exc:
        return _usage_error(parser, args, exc)
    except AnchoreError as exc:
        if debug:
            traceback.print_exc()
        print(f"anchore: error: {one_line(str(exc))}", file=sys.stderr)
        return ExitCode.INPUT_ERROR
    except BrokenPipeError:
        _quiet_stdout()
        return ExitCode.BROKEN_PIPE
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"anchore: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(run with --debug for the traceback; please report it)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
