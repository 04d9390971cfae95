"""Our gates: image config, files, secrets, packages, vulnerabilities, users, config files,
metadata, and ``always``. Each is registered through the ``anchore_gates`` hook.

Each trigger declares the evidence it reads (:class:`~anchore.policy.gate.Need`:
packages from their ecosystem's analyzer, secrets from the secrets analyzer,
users and config files from ``system-files``, the distro from ``distro``);
the image config, history and file inventory are always there and need none.

Gates fail closed: when a trigger cannot tell whether its condition holds (a
version with no order to compare it in, an advisory with no publication date,
a layer with no recorded size, image history or layers an analysis read back
from JSON does not record, packages the vulnerability store could not
check), it fires and says why, rather than passing silently. Packages only a
lock or requirements file declares are not installed: no requirement is met by
one, and other rules see them only with ``include_declared``. Parameters are read with ``is None`` tests, never ``or`` defaults, so
0, ``False`` and the empty string keep their meaning (empty strings and lists
are refused when the bundle is loaded, see :class:`anchore.policy.gate.Param`).
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from anchore import ecosystems
from anchore.analysis.model import AnalyzerError, Distro
from anchore.analyzers.files import is_world_writable
from anchore.analyzers.system import CONFIG_FILES
from anchore.plugins import hookimpl
from anchore.policy.evaluate import EvaluationContext
from anchore.policy.gate import Gate, Hit, Need, Param, Trigger
from anchore.versions import VersionError, compare
from anchore.vulns.severity import rank

if TYPE_CHECKING:
    from anchore.vulns.match import PackageCheck

__all__ = ["BUILTIN_GATES", "PACKAGE_ANALYZERS"]

P = Param


def _first_loc(locations: Any) -> tuple[str | None, int | None]:
    if locations:
        loc = locations[0]
        return loc.path, loc.layer_index
    return None, None


# ---------------------------------------------------------------- image config
def _exposed_ports(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    ports = ctx.config.exposed_ports
    listed = {str(x) for x in p["ports"]}
    for port in ports:
        number = port.split("/")[0]
        inside = port in listed or number in listed
        if (p.get("type", "denylist") == "denylist") == inside:
            yield Hit(f"exposed port {port} is {'denied' if inside else 'not allowed'}", key=port,
                      data={"port": port})  # fmt: skip


_ROOT = frozenset({"root", "0"})


def _effective_user(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    user = (ctx.config.user or "").split(":")[0]
    denied = set(p.get("users", ["root", "0"]))
    if denied & _ROOT:  # root is root whether named or numbered
        denied |= _ROOT
    if user == "" and denied & _ROOT:
        yield Hit("no USER is set: the container runs as root", key="<unset>")
    elif user in denied:
        yield Hit(f"the container runs as {user!r}", key=user)


def _no_healthcheck(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    health = ctx.config.healthcheck
    if health is None or health.disabled:
        yield Hit("the image defines no HEALTHCHECK", key="healthcheck")


def _instruction(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    pattern = re.compile(p["regex"])
    if ctx.image.history is None:  # cannot tell: fail closed
        yield Hit("the image's build history is unknown", key="history:unknown")
        return
    for step in ctx.image.history:
        text = step.created_by or ""
        if pattern.search(text):
            shown = text if len(text) <= 120 else text[:119] + "…"  # the whole step in data
            yield Hit(f"build step matches {p['regex']!r}: {shown}", key=text[:200],
                      layer_index=step.layer_index, data={"instruction": text})  # fmt: skip


def _base_tag(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    tag = ctx.tag or ctx.image.reference or ""
    version = tag.rpartition(":")[2] if ":" in tag.split("/")[-1] else ""
    if not tag:
        yield Hit("the image has no tag", key="<none>")
    elif not version or version == "latest":
        yield Hit(f"the image is tagged {tag!r}: 'latest' or no version", key=tag)


_SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential)"
)


def _env_secrets(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    pattern = _SECRET_NAME if p.get("regex") is None else re.compile(p["regex"])
    for item in ctx.config.env:
        key, _, value = item.partition("=")
        if value and pattern.search(key):
            yield Hit(f"ENV {key} looks like a secret", key=f"env:{key}", data={"variable": key})
    for key, value in ctx.config.labels.items():
        if value and pattern.search(key):
            yield Hit(f"label {key} looks like a secret", key=f"label:{key}", data={"label": key})


def _required_labels(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    labels = ctx.config.labels
    for label in p["labels"]:
        if label not in labels:
            yield Hit(f"required label {label!r} is missing", key=label)


DOCKERFILE = Gate("dockerfile", "The image config and build history (the Dockerfile, as built).", (
    Trigger("exposed_ports", "Ports exposed that a list denies (or does not allow).", _exposed_ports, (
        P("ports", "strings", "ports, like '22' or '8080/tcp' (an empty allowlist allows none)",
          required=True, empty_ok=True, pattern=r"\d{1,5}(/(tcp|udp|sctp))?"),
        P("type", "string", "how to read the list", choices=("denylist", "allowlist"), default="denylist"))),
    Trigger("effective_user", "The container runs as a denied user (no USER means root).", _effective_user, (
        P("users", "strings", "denied user names or ids", default=["root", "0"]),)),
    Trigger("no_healthcheck", "No HEALTHCHECK is defined.", _no_healthcheck),
    Trigger("instruction", "A build step matches a regex (sudo, curl | sh...).", _instruction, (
        P("regex", "regex", "matched against each history step's created_by", required=True),)),
    Trigger("base_tag", "The image is tagged 'latest' or not at all.", _base_tag),
    Trigger("env_secrets", "An ENV variable or label whose name looks like a secret has a value.", _env_secrets, (
        P("regex", "regex", "names to flag (default: password, secret, token, key...)"),)),
    Trigger("required_labels", "Labels that must be present.", _required_labels, (
        P("labels", "strings", "label names", required=True),)),
))  # fmt: skip


# ---------------------------------------------------------------- files
def _name_match(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    pattern = re.compile(p["regex"])
    for f in ctx.analysis.files:
        if pattern.search(f.path):
            yield Hit(f"file {f.path} matches {p['regex']!r}", key=f.path, path=f.path,
                      layer_index=f.layer_index)  # fmt: skip


def _finding_hits(ctx: EvaluationContext, kind: str, p: Mapping[str, Any]) -> Iterator[Hit]:
    """Analyzer findings of one kind (optionally only some rules) as hits."""
    rules = p.get("rules")
    for finding in ctx.analysis.findings:
        if finding.kind == kind and (rules is None or finding.rule in rules):
            path, layer = _first_loc(finding.locations)
            yield Hit(finding.message, key=f"{finding.rule}:{path}:{finding.line}", path=path,
                      layer_index=layer, data={"rule": finding.rule, "line": finding.line})  # fmt: skip


def _content_match(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    return _finding_hits(ctx, "content-match", p)


def _content_needs(p: Mapping[str, Any]) -> tuple[Need, ...]:
    hint = ("analyze the image with a ContentSearchAnalyzer({'rule-name': 'regex'}) from "
            "anchore.analyzers.secrets that has these rules (no registered analyzer searches "
            "content, so the anchore command cannot evaluate this rule)")  # fmt: skip
    return (Need("content-search", "content-match findings", finding_kind="content-match",
                 rules=tuple(p.get("rules") or ()), hint=hint),)  # fmt: skip


def _special_bits(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    base = {f.path for f in ctx.base.files if f.mode & 0o6000} if ctx.base else set()
    only_new = p.get("added_since_base", False)
    for f in ctx.analysis.files:
        if f.type in ("file", "hardlink") and f.mode & 0o6000:
            if only_new and f.path in base:
                continue
            bits = "setuid" if f.mode & 0o4000 else "setgid"
            yield Hit(f"{f.path} is {bits} ({f.mode:04o})", key=f.path, path=f.path,
                      layer_index=f.layer_index, data={"mode": f"{f.mode:04o}"})  # fmt: skip


def _world_writable(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    for f in ctx.analysis.files:
        if is_world_writable(f.type, f.mode):
            yield Hit(f"{f.path} is world-writable ({f.mode:04o})", key=f.path, path=f.path,
                      layer_index=f.layer_index)  # fmt: skip


FILES = Gate("files", "The squashed filesystem.", (
    Trigger("name_match", "A path matches a regex.", _name_match, (
        P("regex", "regex", "matched against absolute paths", required=True),)),
    Trigger("content_match", "The content-search analyzer matched (optionally only these rules).", _content_match, (
        P("rules", "strings", "content-search rule names"),), needs=_content_needs),
    Trigger("suid_or_guid_set", "Setuid or setgid files (optionally only those not in the base image).", _special_bits, (
        P("added_since_base", "boolean", "only files the base image does not have", default=False),)),
    Trigger("world_writable", "World-writable files (sticky directories aside).", _world_writable),
))  # fmt: skip


# ---------------------------------------------------------------- secrets
def _secret(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    return _finding_hits(ctx, "secret", p)


def _secret_needs(p: Mapping[str, Any]) -> tuple[Need, ...]:
    return (Need("secrets", "secret findings", finding_kind="secret",
                 rules=tuple(p.get("rules") or ())),)  # fmt: skip


SECRETS = Gate("secrets", "Findings of the secrets analyzer.", (
    Trigger("content_regex_checks", "A secret was found (optionally only by these rules).", _secret, (
        P("rules", "strings", "secrets rule names, e.g. aws-access-key-id"),), needs=_secret_needs),
))  # fmt: skip


# ---------------------------------------------------------------- packages
class _NoOrder(Exception):
    """Two versions cannot be compared; the message says why (never leaves this module)."""


def _order(pkg: Any, a: str, b: str) -> int:
    """-1, 0 or 1 in the package ecosystem's version order; :class:`_NoOrder` if there is none.

    ``b``, the bundle's version, is written today: it must also parse in the
    ecosystem's stricter ``declared_scheme`` (installed PyPI packages may carry
    pre-PEP 440 versions, 'latest' sorting below 0; a requirement may not)."""
    row = ecosystems.find(pkg.type)
    scheme = row.version_scheme if row is not None else None
    if row is None or scheme is None:
        raise _NoOrder(f"anchore has no version order for {pkg.type} packages")
    try:
        if row.declared_scheme not in (None, scheme):
            compare(row.declared_scheme, b, b)
        return compare(scheme, a, b)
    except VersionError as exc:
        raise _NoOrder(str(exc)) from None


def _same_version(pkg: Any, version: str) -> bool:
    """Equal in the ecosystem's order (PyPI 1.0 == 1.0.0, dpkg 0:1.2 == 1.2), or the same string."""
    if pkg.version == version:
        return True
    try:
        return _order(pkg, pkg.version, version) == 0
    except _NoOrder:
        return False


def _name_is(pkg: Any, pattern: str) -> bool:
    """A name glob, compared as the ecosystem compares names (PyPI: PEP 503)."""
    row = ecosystems.find(pkg.type)
    if row is None:
        return fnmatch.fnmatchcase(pkg.name, pattern)
    return row.same_name(pkg.name, pattern)


def _with_declared(ctx: EvaluationContext, p: Mapping[str, Any]) -> bool:
    """Whether a rule sees packages only a lock or requirements file declares: when the
    evaluation (``include_declared``) or the rule's own parameter asks for them."""
    return bool(ctx.include_declared or p.get("include_declared", False))


def _packages(
    ctx: EvaluationContext, p: Mapping[str, Any], packages: Any = None, *, declared: bool = False
) -> Iterator[Any]:
    """The packages (of ``p``'s ``package_types``) a rule sees: installed ones, and
    declared ones only when ``declared`` or :func:`_with_declared` says so."""
    types = p.get("package_types")
    declared = declared or _with_declared(ctx, p)
    for pkg in ctx.analysis.packages if packages is None else packages:
        if (types is None or pkg.type in types) and (declared or not pkg.declared):
            yield pkg


def _pkg_hit(pkg: Any, message: str, **kw: Any) -> Hit:
    path, layer = _first_loc(pkg.locations)
    return Hit(message, key=kw.pop("key", f"{pkg.type}:{pkg.name}"), package=pkg.purl, path=path,
               layer_index=layer, **kw)  # fmt: skip


def _required_package(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    """Missing, or no copy at the version: fires. A version that cannot be compared
    does not meet a minimum (fail closed); the hit says why."""
    name, version, how = p["name"], p.get("version"), p.get("version_match", "exact")
    named = [pkg for pkg in _packages(ctx, p, declared=True) if _name_is(pkg, name)]
    found = [pkg for pkg in named if not pkg.declared]  # a lock-file line installs nothing
    if not found:
        only = sorted({loc.path for pkg in named for loc in pkg.locations})
        why = f" (only declared in {', '.join(only)}, not installed)" if named else ""
        yield Hit(f"required package {name} is missing{why}", key=f"missing:{name}",
                  data={"declared_in": only} if named else {})  # fmt: skip
        return
    if version is None:
        return
    unknown: list[str] = []
    for pkg in found:
        if how == "exact" and _same_version(pkg, version):
            return
        if how == "minimum":
            try:
                if _order(pkg, pkg.version, version) >= 0:
                    return
            except _NoOrder as exc:
                unknown.append(f"{pkg.version}: {exc}")
    have = ", ".join(pkg.version for pkg in found)
    why = f" (cannot compare {'; '.join(unknown)})" if unknown else ""
    yield _pkg_hit(found[0], f"required package {name} is {have}, not {how} {version}{why}",
                   key=f"version:{name}", data={"versions": [pkg.version for pkg in found]})  # fmt: skip


def _denied_package(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    """A version that cannot be compared with ``version_less_than`` counts as below it
    (fail closed); the hit says why."""
    exact, below = p.get("version"), p.get("version_less_than")
    for pkg in _packages(ctx, p):
        if not _name_is(pkg, p["name"]):
            continue
        if exact is not None and not _same_version(pkg, exact):
            continue
        why = ""
        if below is not None:
            try:
                if _order(pkg, pkg.version, below) >= 0:
                    continue
            except _NoOrder as exc:
                why = f": cannot tell whether it is below {below} ({exc}), so it is denied"
        yield _pkg_hit(pkg, f"denied package {pkg.name} {pkg.version} ({pkg.type}){why}",
                       key=f"{pkg.type}:{pkg.name}:{pkg.version}")  # fmt: skip


def _denied_license(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    denied = p["licenses"]
    substring = p.get("match", "exact") == "substring"
    for pkg in _packages(ctx, p):
        for lic in pkg.licenses:
            if any((d.lower() in lic.lower()) if substring else d == lic for d in denied):
                yield _pkg_hit(pkg, f"{pkg.name} {pkg.version} is licensed {lic}",
                               key=f"{pkg.type}:{pkg.name}:{lic}", data={"license": lic})  # fmt: skip
                break


def _versus_base(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    if ctx.base is None:
        return
    kinds = set(p.get("changes", ["added", "removed", "changed"]))
    ours = {(pkg.type, pkg.name): pkg for pkg in _packages(ctx, p)}
    # the base's packages seen the same way: of the same types (every other type would
    # look removed), declared ones only when ours include them
    theirs = {(pkg.type, pkg.name): pkg for pkg in _packages(ctx, p, ctx.base.packages)}
    for key, pkg in ours.items():
        old = theirs.get(key)
        if old is None and "added" in kinds:
            yield _pkg_hit(pkg, f"{pkg.name} {pkg.version} was added since the base image",
                           key=f"added:{pkg.type}:{pkg.name}")  # fmt: skip
        elif old is not None and old.version != pkg.version and "changed" in kinds:
            yield _pkg_hit(pkg, f"{pkg.name} changed from {old.version} to {pkg.version}",
                           key=f"changed:{pkg.type}:{pkg.name}")  # fmt: skip
    if "removed" in kinds:
        for key, old in theirs.items():
            if key not in ours:
                yield Hit(f"{old.name} {old.version} was removed since the base image",
                          key=f"removed:{old.type}:{old.name}", package=old.purl)  # fmt: skip


def _allowed_types(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    allowed = set(p["types"])
    for pkg in _packages(ctx, p):
        if pkg.type not in allowed:
            yield _pkg_hit(pkg, f"{pkg.name} is a {pkg.type} package, not an allowed type")


#: the package types anchore's analyzers report (the ecosystem table's; a test keeps them in step)
PACKAGE_TYPES = ecosystems.PACKAGE_TYPES


def _types(description: str = "only these package types (deb, python, npm...)") -> Param:
    return P("package_types", "strings", description, choices=PACKAGE_TYPES)


def _declared_param(what: str = "see") -> Param:
    return P("include_declared", "boolean",
             f"{what} packages only a lock or requirements file declares (not installed) too, "
             "as evaluate(include_declared=True) does for every rule", default=False)  # fmt: skip


#: the analyzer that reports each package type (a test keeps this in step with them)
PACKAGE_ANALYZERS = {e.package_type: e.analyzers[0] for e in ecosystems.ECOSYSTEMS}


def _needs_types(types: Any, *, in_base: bool = False, reports_unread: bool = False
                 ) -> tuple[Need, ...]:  # fmt: skip
    """The analyzers of these package types (every type when None): a rule about packages
    of a type whose analyzer did not run would find none, and pass."""
    hint = None
    if types is None:
        hint = ("analyze the image with every analyzer (analyzers=None, as the anchore command "
                "does), or limit the rule to the package types analyzed (package_types)")  # fmt: skip
    chosen = PACKAGE_TYPES if types is None else sorted(set(types))
    return tuple(Need(PACKAGE_ANALYZERS[t], f"{t} packages", in_base=in_base, hint=hint,
                      reports_unread=reports_unread) for t in chosen)  # fmt: skip


def _package_needs(p: Mapping[str, Any]) -> tuple[Need, ...]:
    return _needs_types(p.get("package_types"))


def _versus_base_needs(p: Mapping[str, Any]) -> tuple[Need, ...]:
    """Both sides: a type the base analysis did not look for would all look added."""
    return _needs_types(p.get("package_types"), in_base=True)


def _allowed_types_needs(p: Mapping[str, Any]) -> tuple[Need, ...]:
    """Every type that is not allowed must have been looked for."""
    return _needs_types([t for t in PACKAGE_TYPES if t not in p["types"]])


PACKAGES = Gate("packages", "The packages the analysis found.", (
    Trigger("required_package", "A package must be installed (optionally at a version); one a lock file only declares is missing.", _required_package, (
        P("name", "string", "package name", required=True),
        P("version", "string", "version"),
        P("version_match", "string", "how to compare", choices=("exact", "minimum"), default="exact"),
        _types()), needs=_package_needs),
    Trigger("denied_package", "A package (name glob) must not be present, at a version or below one.", _denied_package, (
        P("name", "string", "package name or glob", required=True),
        P("version", "string", "only this exact version"),
        P("version_less_than", "string", "only versions below this (the ecosystem's order)"),
        _types(), _declared_param()), needs=_package_needs),
    Trigger("denied_license", "A package carries a denied license.", _denied_license, (
        P("licenses", "strings", "license names or SPDX ids", required=True),
        P("match", "string", "exact or substring", choices=("exact", "substring"), default="exact"),
        _types(), _declared_param()), needs=_package_needs),
    Trigger("changed_versus_base", "Packages added, removed or changed since the base image.", _versus_base, (
        P("changes", "strings", "which changes", choices=("added", "removed", "changed")),
        _types(), _declared_param("compare")), needs=_versus_base_needs),
    Trigger("allowed_types", "Only these package types may be present.", _allowed_types, (
        P("types", "strings", "allowed package types", required=True, choices=PACKAGE_TYPES),
        _declared_param()), needs=_allowed_types_needs),
))  # fmt: skip


# ---------------------------------------------------------------- vulnerabilities
def _vuln_package(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    """Matches at or above the severity (with filters); and, unless ``allow_unchecked``,
    the packages in scope the store could not check: nothing is known of their
    advisories, so none of the filters can clear them (fail closed)."""
    threshold = rank(p.get("severity", "low"))
    types = set(p.get("package_types") or [])
    declared = _with_declared(ctx, p)
    for m in ctx.matches_for(declared):
        if types and m.package_type not in types:
            continue
        if rank(m.rating) < threshold:
            continue
        if p.get("fix_available", False) and not m.fixed_in:
            continue
        if p.get("score_above") is not None and (m.score is None or m.score <= p["score_above"]):
            continue
        age_days = p.get("older_than_days")
        if age_days is not None:
            # no publication date: it may well be old enough, so it counts (fail closed)
            published = ctx.published(m.advisory_id)
            if published is not None and (ctx.now - published).days < age_days:
                continue
        path, layer = _first_loc(m.locations)
        fix = f", fixed in {m.fixed_in}" if m.fixed_in else ", no fix yet"
        yield Hit(f"{m.advisory_id} ({m.rating}) in {m.package_name} {m.installed_version}{fix}",
                  key=f"{m.advisory_id}:{m.package_type}:{m.package_name}", package=m.purl,
                  path=path, layer_index=layer, advisory=m.advisory_id,
                  data={"severity": m.rating, "score": m.score, "fixed_in": m.fixed_in})  # fmt: skip
    if p.get("allow_unchecked", False):
        return
    for group, checks in _unchecked(ctx, p).items():
        yield _unchecked_hit(group, checks, "unchecked:", " (allow_unchecked: true accepts it)")
    yield from _unread_hits(ctx, p, "unchecked:", " (allow_unchecked: true accepts it)")


def _unread_hits(ctx: EvaluationContext, p: Mapping[str, Any], prefix: str, accept: str
                 ) -> Iterator[Hit]:  # fmt: skip
    """One hit per file the analyzers of the rule's package types could not read (a jar
    that is no zip, an odd ELF): whatever packages it holds went unchecked. Coverage
    lets these through (``Need.reports_unread``), so one such file does not make the
    image unevaluable; an analyzer that failed as a whole still does."""
    chosen = p.get("package_types") or PACKAGE_TYPES
    analyzers = {a for e in ecosystems.ECOSYSTEMS if e.package_type in chosen
                 for a in e.analyzers}  # fmt: skip
    unread: dict[str, list[AnalyzerError]] = {}
    for error in ctx.analysis.errors:
        if error.path and error.analyzer in analyzers:
            unread.setdefault(error.path, []).append(error)
    for path, errors in sorted(unread.items()):
        names = list(dict.fromkeys(e.analyzer for e in errors))
        why = "; ".join(f"{e.analyzer}: {e.message}" for e in errors)
        yield Hit(f"{path} could not be read, so its packages could not be checked ({why})"
                  f"{accept}", key=f"{prefix}unread:{path}", path=path,
                  data={"unread": path, "analyzers": names,
                        "errors": [e.message for e in errors]})  # fmt: skip


def _unchecked_group(check: PackageCheck, distro: Distro | None) -> str:
    """What unchecked packages are counted by, in trigger ids: the advisory ecosystem
    (``Debian:12``, ``npm``); OS packages with none by distro (``ubuntu:22.04``,
    ``unknown-distro``); other packages with none by type (``no-ecosystem:java-archive``)."""
    if check.ecosystem:
        return check.ecosystem
    if check.package.type in ecosystems.OS_PACKAGE_TYPES:
        return f"{distro.id}:{distro.version_id or '?'}" if distro else "unknown-distro"
    return f"no-ecosystem:{check.package.type}"


def _unchecked(ctx: EvaluationContext, p: Mapping[str, Any]) -> dict[str, list[PackageCheck]]:
    """The packages in the rule's scope the store could not check, by group (sorted)."""
    types = p.get("package_types")
    groups: dict[str, list[PackageCheck]] = {}
    for check in ctx.unchecked_for(_with_declared(ctx, p)):
        if types is None or check.package.type in types:
            group = _unchecked_group(check, ctx.analysis.distro)
            groups.setdefault(group, []).append(check)
    return dict(sorted(groups.items()))


def _unchecked_hit(group: str, checks: list[PackageCheck], prefix: str, accept: str) -> Hit:
    """One hit for a group of unchecked packages: how many, of what type, and why."""
    reasons: dict[str, int] = {}
    for check in checks:
        reasons[check.reason] = reasons.get(check.reason, 0) + 1
    kinds = "/".join(dict.fromkeys(c.package.type for c in checks))
    count = len(checks)
    if len(reasons) == 1:
        why = checks[0].reason
    else:
        why = "; ".join(f"{n} because {reason}" for reason, n in
                        sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))  # fmt: skip
    names = [c.package.purl or f"{c.package.type}:{c.package.name}@{c.package.version}"
             for c in checks]  # fmt: skip
    return Hit(f"{count} {kinds} package{'s' if count != 1 else ''} could not be checked: {why}"
               f"{accept}", key=f"{prefix}{group}",
               data={"group": group, "unchecked": count, "reasons": reasons,
                     "packages": names})  # fmt: skip


def _stale_feed(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    updated = ctx.store_updated
    if updated is None:
        yield Hit("no vulnerability data was given to the evaluation", key="no-store")
    elif (ctx.now - updated).days > p.get("max_days", 2):
        yield Hit(f"vulnerability data is {(ctx.now - updated).days} days old", key="stale")


_DISTRO = Need("distro", "the distro (OS packages are matched by release)")


def _vuln_needs(p: Mapping[str, Any]) -> tuple[Need, ...]:
    types = p.get("package_types")
    chosen = PACKAGE_TYPES if types is None else types
    os_types = any(t in ecosystems.OS_PACKAGE_TYPES for t in chosen)
    return _needs_types(types, reports_unread=True) + ((_DISTRO,) if os_types else ())


def _data_unavailable(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    """Packages (of any type, or of ``package_types``) the store cannot check: no feed
    for their ecosystem or release, no matcher for the distro (Ubuntu, RHEL...), an
    unknown distro, no ecosystem for the type, a version that does not parse; and one
    item per file the analyzers of those types could not read (its packages are unknown)."""
    if ctx.match_result is not None:  # else the caller's matches: stale_feed_data says so
        for group, checks in _unchecked(ctx, p).items():
            yield _unchecked_hit(group, checks, "", "")
    yield from _unread_hits(ctx, p, "", "")


VULNERABILITIES = Gate("vulnerabilities", "Matches against the vulnerability store.", (
    Trigger("package", "A vulnerability at or above a severity (with filters), or packages the store could not check.", _vuln_package, (
        P("severity", "string", "lowest rating that triggers",
          choices=("unknown", "negligible", "low", "medium", "high", "critical"), default="low"),
        P("fix_available", "boolean", "only vulnerabilities with a fix", default=False),
        P("score_above", "number", "only CVSS base scores above this"),
        P("older_than_days", "integer", "only advisories published at least this long ago"),
        P("allow_unchecked", "boolean", "do not fire for packages the store could not check "
          "(no data for their ecosystem or release) or files of theirs an analyzer could not "
          "read; by default each such group and file fires, since none of their "
          "vulnerabilities is known", default=False),
        _types(), _declared_param("match")), needs=_vuln_needs),
    Trigger("stale_feed_data", "The vulnerability data is missing or older than allowed.", _stale_feed, (
        P("max_days", "integer", "largest allowed age in days", default=2),)),
    Trigger("vulnerability_data_unavailable", "Packages the store cannot check (no data for their ecosystem or release...).", _data_unavailable, (
        _types(), _declared_param("count")), needs=_vuln_needs),
))  # fmt: skip


# ---------------------------------------------------------------- passwd/group
def _passwd(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    data = ctx.analysis.datasets.get("passwd")
    if data is None:
        return
    path, layer = _first_loc(data.locations)
    for entry in data.value:
        reasons = []
        if entry["name"] in (p.get("usernames") or []):
            reasons.append(f"user {entry['name']}")
        if entry["uid"] in (p.get("uids") or []):
            reasons.append(f"uid {entry['uid']}")
        if entry["gid"] in (p.get("gids") or []):
            reasons.append(f"gid {entry['gid']}")
        if entry["shell"] in (p.get("shells") or []):
            reasons.append(f"shell {entry['shell']}")
        if entry["line"] in (p.get("entries") or []):
            reasons.append("entry")
        if reasons:
            yield Hit(f"/etc/passwd entry {entry['name']}: denied {', '.join(reasons)}",
                      key=f"passwd:{entry['name']}", path=path, layer_index=layer)  # fmt: skip


def _group(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    data = ctx.analysis.datasets.get("group")
    if data is None:
        return
    path, layer = _first_loc(data.locations)
    for entry in data.value:
        if entry["name"] in (p.get("names") or []) or entry["gid"] in (p.get("gids") or []):
            yield Hit(f"/etc/group entry {entry['name']} (gid {entry['gid']}) is denied",
                      key=f"group:{entry['name']}", path=path, layer_index=layer)  # fmt: skip


_SYSTEM_FILES = (Need("system-files", "/etc/passwd, /etc/group and config file settings"),)

PASSWD = Gate("passwd_file", "Users and groups (/etc/passwd, /etc/group).", (
    Trigger("denied_users", "Denied user names, UIDs, GIDs, shells or whole entries.", _passwd, (
        P("usernames", "strings", "user names"), P("uids", "integers", "user ids"),
        P("gids", "integers", "primary group ids"), P("shells", "strings", "login shells"),
        P("entries", "strings", "whole /etc/passwd lines")), needs=_SYSTEM_FILES),
    Trigger("denied_groups", "Denied group names or GIDs.", _group, (
        P("names", "strings", "group names"), P("gids", "integers", "group ids")), needs=_SYSTEM_FILES),
))  # fmt: skip


# ---------------------------------------------------------------- config files
def _key_value(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    data = ctx.analysis.datasets.get(f"config:{p['path']}")
    if data is None:
        if p.get("missing_triggers"):
            yield Hit(f"{p['path']} is missing", key=f"missing:{p['path']}", path=p["path"])
        return
    values = data.value.get(p["key"])
    path, layer = _first_loc(data.locations)
    pattern = re.compile(p["value_regex"])
    if values and pattern.search(values[0]):
        yield Hit(f"{p['path']}: {p['key']} {values[0]}", key=f"{p['path']}:{p['key']}",
                  path=path, layer_index=layer, data={"value": values[0]})  # fmt: skip


CONFIG = Gate("config_files", "Settings in well-known configuration files.", (
    Trigger("key_value", "A key's value (the first) matches a regex.", _key_value, (
        P("path", "string", "the file", required=True, choices=CONFIG_FILES),
        P("key", "string", "the setting, e.g. PermitRootLogin", required=True),
        P("value_regex", "regex", "matched against the value, e.g. (?i)^yes$", required=True),
        P("missing_triggers", "boolean", "trigger when the file is absent", default=False)),
        needs=_SYSTEM_FILES),
))  # fmt: skip


# ---------------------------------------------------------------- metadata
def _size(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    total = ctx.image.size
    if total is None:  # cannot tell: fail closed
        why = "its layers are not known" if ctx.image.layers is None else "a layer has no size"
        yield Hit(f"the image's size is unknown ({why})", key="size")
        return
    if total > p["max_bytes"]:
        yield Hit(f"the image is {total} bytes, more than {p['max_bytes']}", key="size")


def _layers(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    if ctx.image.layers is None:  # cannot tell: fail closed
        yield Hit("the image's layer count is unknown", key="layers:unknown")
        return
    count = len(ctx.image.layers)
    if count > p["max"]:
        yield Hit(f"the image has {count} layers, more than {p['max']}", key="layers")


def _arch(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    arch = ctx.image.architecture
    if arch not in p["allowed"]:
        yield Hit(f"architecture {arch} is not allowed", key=f"arch:{arch}")


def _distro(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    d = ctx.analysis.distro
    if d is None:
        if p.get("unknown_triggers", True):
            yield Hit("the distro is unknown", key="distro:unknown")
        return
    name = f"{d.id}:{d.version_id or ''}"
    for denied in p.get("denied", []):
        if fnmatch.fnmatchcase(name, denied) or d.id == denied:
            yield Hit(f"distro {d.pretty_name or name} is denied", key=f"distro:{name}")
    for eol in p.get("end_of_life", []):
        # "debian:9=2022-06-30": the release and the day support ended (checked with the bundle)
        release, _, day = eol.partition("=")
        if fnmatch.fnmatchcase(name, release) and datetime.date.fromisoformat(day) <= ctx.now:
            yield Hit(f"{d.pretty_name or name} reached end of life on {day}", key=f"eol:{name}")


def _eol_dates(entries: list[str]) -> str | None:
    """Each 'id:version=YYYY-MM-DD' names a real day (the pattern checks the shape)."""
    for entry in entries:
        day = entry.rpartition("=")[2]
        try:
            datetime.date.fromisoformat(day)
        except ValueError:
            return f"{entry!r}: {day!r} is not a date (YYYY-MM-DD)"
    return None


METADATA = Gate("metadata", "Image size, layers, architecture and distro.", (
    Trigger("image_size", "The image (uncompressed) is larger than allowed.", _size, (
        P("max_bytes", "integer", "largest size in bytes", required=True),)),
    Trigger("layer_count", "The image has more layers than allowed.", _layers, (
        P("max", "integer", "most layers", required=True),)),
    Trigger("architecture", "The architecture is not in a list.", _arch, (
        P("allowed", "strings", "allowed architectures (amd64, arm64...)", required=True),)),
    Trigger("distro", "Denied or end-of-life distros (data given as 'id:version=YYYY-MM-DD').", _distro, (
        P("denied", "strings", "'id' or 'id:version' globs, e.g. 'centos' or 'debian:9*'"),
        P("end_of_life", "strings", "'id:version=YYYY-MM-DD' entries",
          pattern=r"[^=]+=\d{4}-\d{2}-\d{2}", validator=_eol_dates),
        P("unknown_triggers", "boolean", "trigger when the distro is unknown", default=True)),
        needs=(Need("distro", "the distro"),)),
))  # fmt: skip


def _always(ctx: EvaluationContext, p: Mapping[str, Any]) -> Iterator[Hit]:
    yield Hit("always triggers (for testing mappings)", key="always")


ALWAYS = Gate("always", "Triggers on every image; for testing mappings.", (
    Trigger("always", "Always triggers.", _always),
))  # fmt: skip

BUILTIN_GATES = (
    DOCKERFILE,
    FILES,
    SECRETS,
    PACKAGES,
    VULNERABILITIES,
    PASSWD,
    CONFIG,
    METADATA,
    ALWAYS,
)


@hookimpl
def anchore_gates() -> list[Gate]:
    """Our gates, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return list(BUILTIN_GATES)
