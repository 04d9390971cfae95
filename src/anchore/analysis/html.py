"""An analysis as HTML sections: the notebook cell of an Analysis and the report share them.

Each function returns one :func:`anchore.display.section`, built only from
:mod:`anchore.display` (every value escaped: names and paths come from the image).
They are cheap on a large image: the summary and the layers read the image's layer
metadata and the package list, never the file inventory; tables stop at
:data:`~anchore.display.ROW_CAP` rows.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from anchore import display

if TYPE_CHECKING:  # the model imports this module for its _repr_html_
    from anchore.analysis.model import Analysis, Finding, Package

__all__ = ["findings", "layers", "packages", "sections", "summary"]

#: findings shown first: what a reviewer acts on
_FINDING_ORDER = {"secret": 0, "setuid": 1, "setgid": 2, "world-writable": 3}
_SEVERITY_ORDER = {"critical": 0, "high": 1, "warning": 2, "medium": 2, "low": 3, "info": 4}
#: analyzers whose findings the section names, and what is missing without them
_FINDING_ANALYZERS = (("secrets", "secrets"), ("file-permissions", "setuid/setgid files"))


def _distro(analysis: Analysis) -> str:
    d = analysis.distro
    if d is None:
        return "none identified"
    return d.pretty_name or f"{d.id} {d.version_id or ''}".strip()


def summary(analysis: Analysis, title: str = "Image") -> str:
    """What the image is: source, digests, platform, distro, size, counts."""
    image = analysis.image
    pairs = [
        ("source", image.source or "-"),
        ("reference", image.reference or "-"),
        ("digest", image.manifest_digest or image.config_digest or "-"),
        ("platform", str(image.platform)),
        ("created", image.created.isoformat() if image.created else "-"),
        ("distro", _distro(analysis)),
        ("size", display.human_size(image.size)),
        ("layers", len(image.layers) if image.layers is not None else "not known"),
        ("packages", f"{len(analysis.packages):,}"),
        ("files", f"{len(analysis.files):,}" if analysis.files_known else "not known"),
        ("findings", _findings_count(analysis)),
        ("analyzers", ", ".join(analysis.analyzers) or "-"),
    ]
    if analysis.failed_analyzers:
        pairs.append(("FAILED analyzers", ", ".join(analysis.failed_analyzers)))
    if analysis.errors:
        pairs.append(("analyzer errors", f"{len(analysis.errors):,}"))
    if analysis.origin != "image":
        pairs.append(("read from", analysis.origin))
    return display.section(title, display.definitions(pairs))


def _not_checked(analysis: Analysis) -> list[str]:
    """What the finding analyzers that did not run (or failed) would have looked for."""
    return [what for analyzer, what in _FINDING_ANALYZERS if not analysis.ran(analyzer)]


def _findings_count(analysis: Analysis) -> str:
    # "0" alone would read as "clean" when the secret and setuid scans never ran
    missing = _not_checked(analysis)
    count = f"{len(analysis.findings):,}"
    return f"{count} ({', '.join(missing)} not checked)" if missing else count


#: package names shown per layer in the layers table (the count says how many in all)
NAMES_PER_LAYER = 6


def _added_per_layer(analysis: Analysis) -> dict[int, list[str]]:
    """Names of the packages each layer added: its package changes when known, else the
    packages' first locations."""
    added: dict[int, list[str]] = {}
    if analysis.package_changes is not None:
        for c in analysis.package_changes:
            if c.change == "added":
                added.setdefault(c.layer_index, []).append(c.name)
    else:
        for p in analysis.packages:
            added.setdefault(p.layer_index, []).append(p.name)
    return added


def _names(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:NAMES_PER_LAYER])
    more = len(names) - NAMES_PER_LAYER
    return f"{shown} … (+{more:,})" if more > 0 else shown


def layers(analysis: Analysis) -> str:
    """Size per layer (an inline SVG bar chart) and what each layer added."""
    infos = analysis.image.layers
    if infos is None:
        # say why only when it is known: a hand-built Analysis is not an SBOM
        origin = analysis.origin
        why = f" (read from a {origin[5:]} SBOM)" if origin.startswith("sbom:") else ""
        return display.section("Layers", f"<p>layers: not known{display.escape(why)}</p>")
    added = _added_per_layer(analysis)
    labels = [f"#{i.index} {i.created_by or ''}".strip() for i in infos]
    chart = display.bar_chart(
        labels, [i.uncompressed_size for i in infos], title="uncompressed size per layer"
    )
    rows = [
        (
            i.index,
            display.human_size(i.uncompressed_size),
            f"{i.files:,}",
            f"{i.whiteouts:,}",
            f"{len(added.get(i.index, [])):,}",
            _names(added.get(i.index, [])),
            i.created_by or "",
        )
        for i in infos
    ]
    columns = (
        "layer", "size", "files added or changed", "deleted", "packages added", "packages",
        "created by",
    )  # fmt: skip
    table = display.table(
        columns,
        rows,
        total=len(rows),
        numeric=("layer", "size", "files added or changed", "deleted", "packages added"),
    )
    return display.section("Layers", chart + table)


#: the layer cell of a package whose layer is not known (no location: a foreign SBOM)
UNKNOWN_LAYER = "-"

#: the "installed" cell of a package only a lock or requirements file names
DECLARED = "declared only"


def _layer(p: Package) -> int | str:
    return p.locations[0].layer_index if p.locations else UNKNOWN_LAYER


def _layer_key(layer: int | str) -> tuple[bool, int]:
    """Known layers in order, the unknown one last."""
    return (not isinstance(layer, int), layer if isinstance(layer, int) else 0)


def _installed(p: Package) -> str:
    return DECLARED if p.declared else "installed"


def _package_row(p: Package) -> tuple[object, ...]:
    path = p.locations[0].path if p.locations else ""
    return (p.type, p.name, p.version, _layer(p), _installed(p), ", ".join(p.licenses), path)


def packages(analysis: Analysis, *, cap: int | None = display.ROW_CAP) -> str:
    """Package counts by type and layer, then the packages, layer by layer. Packages only
    a lock or requirements file names are marked "declared only" (not installed, not
    matched for vulnerabilities). ``cap`` limits the listing (the report passes None)."""
    pkgs = analysis.packages
    if not pkgs:
        ran = ", ".join(analysis.analyzers) or "no analyzer"
        return display.section("Packages", f"<p>no packages found ({display.escape(ran)} ran)</p>")
    counts = Counter((p.type, _layer(p), _installed(p)) for p in pkgs)
    by_type = display.table(
        ("type", "layer", "installed", "packages"),
        (
            (t, layer, how, f"{n:,}")
            for (t, layer, how), n in sorted(
                counts.items(), key=lambda kv: (kv[0][0], _layer_key(kv[0][1]), kv[0][2])
            )
        ),
        total=len(counts),
        numeric=("layer", "packages"),
    )
    declared = sum(1 for p in pkgs if p.declared)
    head = (
        f"<p>{declared:,} declared only: named by a lock or requirements file, not "
        "installed (vulnerability matching skips them)</p>"
        if declared
        else ""
    )
    ordered = sorted(pkgs, key=lambda p: (_layer_key(_layer(p)), p.type, p.name, p.version))
    listing = display.table(
        ("type", "name", "version", "layer", "installed", "licenses", "path"),
        (_package_row(p) for p in ordered),
        total=len(ordered),
        cap=cap,
        numeric=("layer",),
    )
    return display.section(f"Packages ({len(pkgs):,})", head + by_type + listing)


def _finding_key(f: Finding) -> tuple[int, int, str, str]:
    path = f.locations[0].path if f.locations else ""
    return (_FINDING_ORDER.get(f.kind, 9), _SEVERITY_ORDER.get(f.severity, 5), f.kind, path)


def _finding_row(f: Finding) -> tuple[object, ...]:
    where = f.locations[0] if f.locations else None
    path = where.path if where else ""
    if f.line is not None:
        path = f"{path}:{f.line}"
    return (f.kind, f.severity, f.rule, path, where.layer_index if where else "", f.message)


def findings(analysis: Analysis, *, cap: int | None = display.ROW_CAP) -> str:
    """What was not checked first, then findings (secrets and setuid files first) and
    the analyzers' errors. "none found" only when the secret and setuid scans both ran."""
    body = ""
    for analyzer, what in _FINDING_ANALYZERS:
        if not analysis.ran(analyzer):
            body += (
                f"<p><strong>{display.escape(what)}: not checked</strong> (the "
                f"{display.escape(analyzer)} analyzer did not run or failed)</p>"
            )
    found = sorted(analysis.findings, key=_finding_key)
    kinds = Counter(f.kind for f in found)
    if found:
        head = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    elif not _not_checked(analysis):
        head = "none found"
    else:
        ran = [a for a, _ in _FINDING_ANALYZERS if analysis.ran(a)]
        head = f"none found by {', '.join(ran)}" if ran else ""
    body += f"<p>{display.escape(head)}</p>" if head else ""
    if found:
        body += display.table(
            ("kind", "severity", "rule", "path", "layer", "message"),
            (_finding_row(f) for f in found),
            total=len(found),
            cap=cap,
            numeric=("layer",),
        )
    if analysis.errors:
        body += display.section(
            f"Analyzer errors ({len(analysis.errors):,})",
            display.table(
                ("analyzer", "path", "message"),
                ((e.analyzer, e.path or "", e.message) for e in analysis.errors),
                total=len(analysis.errors),
                cap=cap,
            ),
            level=3,
        )
    return display.section("Findings", body)


def sections(analysis: Analysis) -> str:
    """Every section of an analysis, in the report's order."""
    return summary(analysis) + layers(analysis) + packages(analysis) + findings(analysis)
