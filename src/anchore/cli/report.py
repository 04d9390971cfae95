"""``anchore report IMAGE -o report.html``: one self-contained HTML page of an image.

The page is :func:`anchore.report.render` of the analysis, the vulnerability matches
and (with ``--bundle``) the policy evaluation. It fails closed as ``anchore vulns``
does: without a usable vulnerability store it is an error, not a page that reads as
clean; ``--no-vulns`` asks for a page without vulnerabilities, and the page says
"vulnerabilities: not checked" (and the policy's vulnerability rules fire for every
package, as for any package the store could not check).

The page is written whatever the verdict; the exit code then says it, as ``anchore
evaluate`` and ``anchore vulns`` would (docs/report.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from anchore.cli.common import UsageError, analysis_of, image_args, registry_options
from anchore.cli.output import progress
from anchore.errors import AnchoreError, ExitCode

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis
    from anchore.policy.evaluate import Evaluation
    from anchore.vulns.match import MatchResult

__all__ = ["add_parsers", "cmd_report", "write_atomically"]

#: why every package is unchecked on a ``--no-vulns`` page (and for the policy)
NOT_CHECKED = "vulnerabilities not checked (anchore report --no-vulns)"


class ReportWriteError(AnchoreError, OSError):
    """The report file could not be written (no such directory, no permission)."""


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, renamed over it:
    a reader (a CI artifact upload, a browser) never sees half a page, and a failed
    run leaves an older report as it was.

    A ``path`` that is a symbolic link is refused: renaming over it would replace the
    link with a plain file and leave its target stale, and following it would write
    wherever the link points (a CI workspace an image's build could prepare). Give the
    real path instead."""
    _refuse_link(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".anchore-report-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ReportWriteError(
            f"{path}: cannot write the report: {exc.strerror or exc}", source=path
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ReportWriteError(
            f"{path}: cannot write the report: {exc.strerror or exc}", source=path
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _refuse_link(path: str) -> None:
    if os.path.islink(path):
        raise ReportWriteError(
            f"{path}: is a symbolic link (to {os.readlink(path)}); anchore report does not "
            "write through or replace links: give the real path with -o",
            source=path,
        )


def _umask() -> int:
    """The process's umask (mkstemp makes 0600 files; a report is as readable as any)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _not_checked(analysis: Analysis) -> MatchResult:
    """A result in which every package is unchecked: what ``--no-vulns`` gives the policy,
    so its vulnerability rules fire (unless a rule allows unchecked packages)."""
    from anchore.vulns.match import UNCHECKED, MatchResult, PackageCheck

    checks = tuple(PackageCheck(p, None, UNCHECKED, NOT_CHECKED) for p in analysis.packages)
    return MatchResult(matches=(), packages=checks)


def _scan(args: argparse.Namespace) -> tuple[Analysis, MatchResult | None, Evaluation | None]:
    from anchore.policy import evaluate, load_bundle
    from anchore.vulns import match
    from anchore.vulns.store import open_store

    bundle = load_bundle(args.bundle) if args.bundle else None  # a bad bundle fails first
    store = None if args.no_vulns else open_store(args.db)
    try:
        if store is not None:
            store.require_data()  # an empty store would check nothing: an error, as vulns
        with progress(args.quiet, "report") as step:
            analysis = analysis_of(args.image, platform=args.platform, tag=args.tag,
                                   registry_options=registry_options(args),
                                   progress=step)  # fmt: skip
            result = None if store is None else match(analysis, store)
            evaluation = None
            if bundle is not None:
                given = result if result is not None else _not_checked(analysis)
                evaluation = evaluate(analysis, bundle, matches=given, store=store,
                                      tag=args.tag_as)  # fmt: skip
    finally:
        if store is not None:
            store.close()
    return analysis, result, evaluation


def _exit_code(args: argparse.Namespace, result: MatchResult | None,
               evaluation: Evaluation | None) -> ExitCode:  # fmt: skip
    """The policy's STOP or WARN (as ``anchore evaluate``); else UNCHECKED when the store
    could check none of the packages (as ``anchore vulns``): a GO from a policy without
    vulnerability rules does not make a scan that checked nothing a success; else OK."""
    if evaluation is not None and evaluation.exit_code != ExitCode.OK:
        return evaluation.exit_code
    if result is not None and not result.checked:
        skipped = len(result.unchecked) + len(result.declared)
        what = f"none of the {skipped} packages could be checked" if skipped else \
               "no package was found"  # fmt: skip
        print(f"anchore: {args.image}: {what}: the report says so; no result, not a clean one",
              file=sys.stderr)  # fmt: skip
        return ExitCode.UNCHECKED
    return ExitCode.OK


def _title(args: argparse.Namespace, analysis: Analysis) -> str:
    """``--title``, else ``anchore report: IMAGE``; with ``--no-vulns`` the heading (and the
    browser tab) says so too, not only the vulnerabilities section further down."""
    image = analysis.image
    title: str = args.title or f"anchore report: {image.reference or image.source or args.image}"
    return f"{title} (vulnerabilities: not checked)" if args.no_vulns else title


def cmd_report(args: argparse.Namespace) -> ExitCode:
    from anchore.report import render

    if args.output != "-" and os.path.isdir(args.output):
        raise UsageError(f"-o {args.output}: a directory; give the report's file name")
    if args.output != "-":
        _refuse_link(args.output)  # before the work, not after it
    analysis, result, evaluation = _scan(args)
    page = render(analysis, matches=result, evaluation=evaluation, title=_title(args, analysis))
    if args.output == "-":
        sys.stdout.write(page)
    else:
        write_atomically(args.output, page)
        if not args.quiet:
            print(f"{args.output}: report written ({len(page.encode()):,} bytes)",
                  file=sys.stderr)  # fmt: skip
    return _exit_code(args, result, evaluation)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML page: summary, layers, packages, "
        "vulnerabilities, policy decision",
        description="Write one self-contained HTML page of an image (no script, no external "
        "asset): the summary, size per layer, packages by type and layer, vulnerabilities "
        "by severity with fixes, the policy decision with its evidence, secrets and setuid "
        "files. The page is written whatever the verdict; the exit code says it: 1 for a "
        "policy STOP, 2 for WARN, else 3 when no package could be checked, else 0.",
    )
    image_args(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the HTML file to write (replaced atomically), or - for stdout",
    )
    p.add_argument("--bundle", help="a policy bundle (JSON or YAML): the page shows its decision")
    p.add_argument(
        "--db",
        help="the vulnerability store (default: $ANCHORE_VULN_DB, else $XDG_CACHE_HOME/"
        "anchore/vulnerabilities.sqlite); a missing or empty store is an error, never a "
        "page without vulnerabilities",
    )
    p.add_argument(
        "--no-vulns",
        action="store_true",
        help="do not match vulnerabilities: the page says 'vulnerabilities: not checked' and "
        "the policy's vulnerability rules fire for every package; no store is opened (--db, "
        "$ANCHORE_VULN_DB and the config file's db are not used)",
    )
    p.add_argument("--tag-as", help="the tag the policy's mappings see (default: the image's)")
    p.add_argument("--title", help="the page's title (default: anchore report: IMAGE)")
    p.set_defaults(func=cmd_report)
