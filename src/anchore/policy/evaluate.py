"""``evaluate()``: a bundle's mapped policies over an analysis, and a decision you can explain.

The final action: a denied image is STOP and an allowed image GO, before any
rule; otherwise STOP if any triggered STOP rule is not allowlisted, else WARN
if any WARN is, else GO. Every triggered item is kept, allowlisted ones
included, with the allowlist item that covered it.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from anchore import display
from anchore.analysis.model import Analysis, ImageInfo
from anchore.errors import ExitCode
from anchore.image.model import ContainerConfig
from anchore.plugins import Registry, default_registry
from anchore.policy import html
from anchore.policy.bundle import Bundle, BundleError, Mapping_, load_bundle, parse_bundle
from anchore.policy.coverage import check_evidence
from anchore.policy.gate import Gate, gates_by_name
from anchore.serialize import as_json, plain, to_dict
from anchore.vulns.match import Match, MatchResult, PackageCheck, analysis_of, match
from anchore.vulns.store import Store, StoreLike, open_store

if TYPE_CHECKING:
    from anchore.image import Image

__all__ = [
    "ITEM_COLUMNS",
    "Evaluation",
    "EvaluationContext",
    "TriggeredItem",
    "evaluate",
    "parse_reference",
]

ACTIONS = ("GO", "WARN", "STOP")


def parse_reference(tag: str) -> tuple[str, str, str]:
    """(registry, repository, tag), with docker's defaults.

    ``debian`` is ``docker.io``, ``library/debian``, ``latest``.
    """
    name, tagpart = tag, "latest"
    last = tag.rsplit("/", 1)[-1]
    if "@" in tag:
        name, tagpart = tag.split("@", 1)
    elif ":" in last:
        name, _, tagpart = tag.rpartition(":")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = "docker.io", name
    if registry == "docker.io" and "/" not in repository:
        repository = "library/" + repository
    return registry, repository, tagpart


@attrs.define
class EvaluationContext:
    """What gates see: the analysis, its image metadata, vulnerability matches, a base image.

    The store is opened, and the analysis matched against it, the first time a
    gate asks (``matches``, ``store``, ``store_updated``...): a policy with no
    vulnerability rule needs no store, and one with them fails with a
    :class:`~anchore.vulns.StoreError` (no store, an empty one) instead of
    finding nothing. ``store`` may be a Store, a path, or None for the default
    store; only when ``matches`` are given and no store is there none.
    """

    analysis: Analysis
    tag: str | None
    base: Analysis | None
    _matches: Sequence[Match] | None
    now: datetime.date
    _store: StoreLike | None = None
    #: match packages only a lock or requirements file declares, too
    include_declared: bool = False
    _opened: Store | None = attrs.field(default=None, init=False)
    _results: dict[bool, MatchResult] = attrs.field(factory=dict, init=False)

    @property
    def store(self) -> Store | None:
        """The vulnerability store, opened on first use (a missing one is an error)."""
        if isinstance(self._store, Store):
            return self._store
        if self._opened is None:
            if self._store is None and self._matches is not None:
                return None  # the caller matched already and gave no store
            self._opened = open_store(self._store)
        return self._opened

    def result_for(self, include_declared: bool = False) -> MatchResult | None:
        """What the store says of the analysis: matches, and which packages were checked.

        ``include_declared`` (or the evaluation's own) matches declared packages too.
        Matches the caller gave as a :class:`~anchore.vulns.match.MatchResult` are
        used as they are; a plain sequence of matches says nothing of what was
        checked, so the store (when one was given too) is asked, and with no store
        the answer is None: the caller's matches are taken as the whole answer.
        """
        if isinstance(self._matches, MatchResult):
            return self._matches
        if self._matches is not None and self._store is None:
            return None
        declared = include_declared or self.include_declared
        if declared not in self._results:
            store = self.store
            assert store is not None  # None only when matches were given with no store
            self._results[declared] = match(self.analysis, store, include_declared=declared)
        return self._results[declared]

    @property
    def match_result(self) -> MatchResult | None:
        """The store's answer for the analysis (see :meth:`result_for`)."""
        return self.result_for(self.include_declared)

    def matches_for(self, include_declared: bool = False) -> Sequence[Match]:
        """The matches: the caller's when given, else the store's (see :meth:`result_for`)."""
        if self._matches is not None:
            return self._matches
        result = self.result_for(include_declared)
        assert result is not None
        return result.matches

    @property
    def matches(self) -> Sequence[Match]:
        return self.matches_for(self.include_declared)

    def unchecked_for(self, include_declared: bool = False) -> tuple[PackageCheck, ...]:
        """Packages the store could not check (no data for their ecosystem or release...)."""
        result = self.result_for(include_declared)
        return result.unchecked if result is not None else ()

    @property
    def unchecked(self) -> tuple[PackageCheck, ...]:
        """Packages the store could not check (no data for their ecosystem or release...)."""
        return self.unchecked_for(self.include_declared)

    @property
    def coverage(self) -> MatchResult | None:
        """The evaluation's own match result, if a store (or a MatchResult) was used."""
        if isinstance(self._matches, MatchResult):
            return self._matches
        if not self._results:
            return None  # no rule asked the store
        return self.match_result

    def close(self) -> None:
        """Close the store this context opened (never one the caller passed)."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    @property
    def image(self) -> ImageInfo:
        return self.analysis.image

    @property
    def config(self) -> ContainerConfig:
        return self.analysis.image.config

    @property
    def store_updated(self) -> datetime.date | None:
        if self.store is None or self.store.updated is None:
            return None
        return self.store.updated.date()

    @property
    def store_ecosystems(self) -> set[str] | None:
        return self.store.ecosystems() if self.store is not None else None

    def published(self, advisory_id: str) -> datetime.date | None:
        if self.store is None:
            return None
        advisory = self.store.get(advisory_id)
        if advisory is None or not advisory.published:
            return None
        try:
            return datetime.date.fromisoformat(advisory.published[:10])
        except ValueError:
            return None


@attrs.frozen
class TriggeredItem:
    gate: str
    trigger: str
    #: stable across rebuilds: gate:trigger:key (the key names packages, paths, advisories)
    trigger_id: str
    policy_id: str
    rule_id: str
    action: str
    message: str
    evidence: dict[str, Any]
    allowlisted: bool = False
    allowlist_item: str | None = None
    allowlist_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class Evaluation:
    __json_keys__: ClassVar[tuple[str, ...]] = (
        "final_action", "reason", "bundle_id", "mapping", "policy_ids", "allowlist_ids", "tag",
        "image_digest", "evaluated_at", "coverage", "items",
    )  # fmt: skip

    final_action: str
    #: why, in a sentence
    reason: str
    bundle_id: str
    mapping: str | None
    policy_ids: tuple[str, ...]
    allowlist_ids: tuple[str, ...]
    tag: str | None
    image_digest: str | None
    items: tuple[TriggeredItem, ...]
    evaluated_at: str
    #: packages by status (``checked``, ``unchecked``, ``declared``), then by ecosystem,
    #: when vulnerability rules asked a store; None when none did
    coverage: dict[str, dict[str, int]] | None = None
    #: the analysis evaluated and the vulnerability matches the rules saw (a
    #: MatchResult when a store was asked), for :meth:`to_html`; not in the JSON, not
    #: compared; None for an evaluation made by hand or read back
    analysis: Analysis | None = attrs.field(
        default=None, eq=False, repr=False, metadata=as_json(omit=True)
    )
    matches: MatchResult | Sequence[Match] | None = attrs.field(
        default=None, eq=False, repr=False, metadata=as_json(omit=True)
    )

    @property
    def exit_code(self) -> ExitCode:
        """The CLI's exit status: OK (0) for GO, FAILED (1) for STOP, WARN (2) for WARN."""
        return {"GO": ExitCode.OK, "STOP": ExitCode.FAILED, "WARN": ExitCode.WARN}[
            self.final_action
        ]

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def __repr__(self) -> str:
        # the generated repr wrote every item and its evidence (85,800 characters)
        standing = [i.action for i in self.items if not i.allowlisted]
        counts = ", ".join(f"{standing.count(a)} {a}" for a in html.ACTION_ORDER if a in standing)
        allowlisted = len(self.items) - len(standing)
        image = display.short_repr(self.tag or self.image_digest, 60)
        return (
            f"<Evaluation {self.final_action}: {len(self.items):,} items"
            + (f" ({counts})" if counts else "")
            + (f", {allowlisted:,} allowlisted" if allowlisted else "")
            + f"; bundle {display.short_repr(self.bundle_id, 40)}; image {image}>"
        )

    def _repr_html_(self) -> str:
        return display.fragment(html.decision(self))

    def to_html(self, title: str | None = None) -> str:
        """A self-contained HTML page: the decision, then the image's analysis and the
        vulnerability matches when the evaluation holds them (:func:`evaluate` keeps
        them); the same page as :func:`anchore.report.render`."""
        return html.page(self.analysis, matches=self.matches, evaluation=self, title=title)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per triggered item, :data:`ITEM_COLUMNS` in order; the evidence's
        usual keys have their own columns, and ``evidence`` is all of it as JSON."""
        return [_item_record(i) for i in self.items]

    def to_dataframe(self) -> Any:
        """:meth:`to_records` as a ``pandas.DataFrame`` (``pip install 'anchore[pandas]'``)."""
        return display.dataframe(self.to_records(), ITEM_COLUMNS)

    def coverage_line(self) -> str | None:
        """What the vulnerability rules could check, in a line (None when they used no store)."""
        if self.coverage is None:
            return None

        def part(status: str) -> str:
            counts = self.coverage.get(status, {}) if self.coverage else {}
            total = sum(counts.values())
            each = ", ".join(f"{group} {n}" for group, n in counts.items())
            return f"{total} {status}" + (f" ({each})" if each else "")

        parts = [part("checked"), part("unchecked")]
        if self.coverage.get("declared"):
            parts.append(part("declared") + " not matched")
        return "vulnerability coverage: packages " + "; ".join(parts)

    def table(self) -> str:
        """A readable table of every triggered item, then the decision."""
        rows = [("ACTION", "GATE", "TRIGGER", "MESSAGE", "ALLOWLISTED")]
        for i in sorted(self.items, key=lambda i: (-ACTIONS.index(i.action), i.gate, i.trigger_id)):
            rows.append(
                (
                    i.action,
                    i.gate,
                    i.trigger,
                    i.message if len(i.message) <= 90 else i.message[:89] + "…",
                    f"yes ({i.allowlist_item})" if i.allowlisted else "",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        coverage = self.coverage_line()
        if coverage is not None:
            lines.append(coverage)
        lines.append(f"final action: {self.final_action} ({self.reason})")
        return "\n".join(lines)


#: the columns of :meth:`Evaluation.to_records`, in order (stable: new ones go at the end)
ITEM_COLUMNS = (
    "action", "gate", "trigger", "message", "package", "path", "layer", "advisory",
    "evidence", "allowlisted", "allowlist_item", "allowlist_reason", "policy_id", "rule_id",
    "trigger_id",
)  # fmt: skip


def _item_record(i: TriggeredItem) -> dict[str, Any]:
    e = i.evidence
    return {
        "action": i.action, "gate": i.gate, "trigger": i.trigger, "message": i.message,
        "package": e.get("package"), "path": e.get("path"), "layer": e.get("layer_index"),
        "advisory": e.get("advisory"),
        "evidence": json.dumps(e, default=plain, sort_keys=True),
        "allowlisted": i.allowlisted, "allowlist_item": i.allowlist_item,
        "allowlist_reason": i.allowlist_reason, "policy_id": i.policy_id, "rule_id": i.rule_id,
        "trigger_id": i.trigger_id,
    }  # fmt: skip


def coverage_of(result: MatchResult | None) -> dict[str, dict[str, int]] | None:
    """Package counts by status and ecosystem, as :attr:`Evaluation.coverage` holds them."""
    if result is None:
        return None
    return {status: result.counts(status) for status in ("checked", "unchecked", "declared")}


def _matches_image(entry: dict[str, Any], tag: str | None, digest: str | None) -> bool:
    image = entry.get("image") or {}
    if image.get("type") == "digest":
        return digest is not None and image.get("value") == digest
    if tag is None:
        return False
    registry, repository, version = parse_reference(tag)
    return (
        fnmatch.fnmatchcase(registry, entry.get("registry", "*"))
        and fnmatch.fnmatchcase(repository, entry.get("repository", "*"))
        and fnmatch.fnmatchcase(version, image.get("value", "*"))
    )


def _select_mapping(bundle: Bundle, tag: str | None, digest: str | None) -> Mapping_ | None:
    for mapping in bundle.mappings:
        if _matches_image(mapping.raw, tag or "", digest) or (tag is None and mapping.matches_all):
            return mapping
    return None


def evaluate(
    analysis: Analysis | Image | str | os.PathLike[str],
    bundle: Bundle | str | os.PathLike[str] | Mapping[str, Any],
    *,
    tag: str | None = None,
    base: Analysis | Image | str | os.PathLike[str] | None = None,
    store: StoreLike | None = None,
    matches: Sequence[Match] | None = None,
    now: datetime.date | None = None,
    include_declared: bool = False,
    registry: Registry | None = None,
) -> Evaluation:
    """Evaluate ``analysis`` against ``bundle`` (see the module docstring for the decision).

    Each argument takes what a user naturally has: ``analysis`` and ``base`` an
    :class:`Analysis`, an :class:`Image` or an image path (analyzed here);
    ``bundle`` a :class:`Bundle`, the path of one, or its parsed document (a
    mapping, validated as a file is); ``store`` a
    :class:`~anchore.vulns.Store`, a path, or None for the default store
    (the one ``anchore db load`` fills). The store is used only if the mapped
    policies have vulnerability rules; then a missing or empty store is a
    :class:`~anchore.vulns.StoreError`, never a silent GO. Give ``matches`` to
    use matches of your own instead: a :class:`~anchore.vulns.match.MatchResult`
    (what :func:`~anchore.vulns.match.match` returns) says which packages it could
    not check, and vulnerability rules fire for them; a plain sequence of matches
    says nothing of that, so with a ``store`` too the store is asked which
    packages it covers, and with no store the matches are taken as the whole answer.

    Package and vulnerability rules see installed packages only: packages that only
    a lock or requirements file declares count when ``include_declared`` (or the
    rule's own ``include_declared`` parameter) says so, and never satisfy
    ``packages.required_package``. Vulnerability rules fire for the packages the
    store could not check, unless the rule says ``allow_unchecked``; the
    evaluation's ``coverage`` counts them.

    A mapped rule whose evidence the analysis did not collect (an analysis made
    with ``analyzers=["dpkg"]`` and a secrets rule; a secrets rule name the
    analysis's secrets analyzer did not run) is a
    :class:`~anchore.policy.coverage.MissingEvidenceError`, not a pass.

    The gates are those of ``registry`` (None: the default registry), and so are the
    analyzers when ``analysis`` or ``base`` is analyzed here.
    """
    registry = registry or default_registry()
    gates = gates_by_name(registry.gates())
    if isinstance(bundle, Mapping):  # a bundle document already parsed (json.load, yaml)
        bundle = parse_bundle(bundle, "<bundle given as a mapping>", list(gates.values()))
    elif isinstance(bundle, Bundle):
        _check_gates(bundle, gates)  # parsed against other gates, perhaps
    else:
        if not isinstance(bundle, (str, os.PathLike)):
            raise TypeError(
                f"a bundle is a Bundle, a path or a mapping, not {type(bundle).__name__}"
            )
        bundle = load_bundle(bundle, registry=registry)
    analysis = analysis_of(analysis, registry)
    base = analysis_of(base, registry) if base is not None else None
    now = now or datetime.date.today()
    tag = tag or analysis.image.reference
    digest = analysis.image.manifest_digest or analysis.image.config_digest or None
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()

    def decided(
        action: str,
        reason: str,
        mapping: Any = None,
        items: tuple[TriggeredItem, ...] = (),
        coverage: MatchResult | None = None,
    ) -> Evaluation:
        return Evaluation(
            action,
            reason,
            bundle.id,
            mapping.name if mapping else None,
            tuple(mapping.policy_ids) if mapping else (),
            tuple(mapping.allowlist_ids) if mapping else (),
            tag,
            digest,
            items,
            stamp,
            coverage_of(coverage),
            analysis=analysis,
            # what the rules saw: the store's answer, else the caller's own matches
            matches=coverage if coverage is not None else matches,
        )

    for entry in bundle.denied_images:
        if _matches_image(entry, tag, digest):
            return decided("STOP", f"the image is on the deny list ({entry.get('name', '')})")
    for entry in bundle.allowed_images:
        if _matches_image(entry, tag, digest):
            return decided("GO", f"the image is on the allow list ({entry.get('name', '')})")
    mapping = _select_mapping(bundle, tag, digest)
    if mapping is None:
        return decided("STOP", f"no mapping of bundle {bundle.id} matches {tag or digest}")
    check_evidence(bundle, mapping, analysis, base, gates)  # never GO on what was not collected

    if matches is not None and not isinstance(matches, MatchResult):
        matches = list(matches)  # a MatchResult is kept whole: it says what was checked
    ctx = EvaluationContext(analysis, tag, base, matches, now, store, include_declared)
    try:
        return _decide(bundle, mapping, ctx, gates, decided)
    finally:
        ctx.close()


def _check_gates(bundle: Bundle, gates: Mapping[str, Gate]) -> None:
    """Refuse a bundle with a rule whose gate or trigger the registry lacks (it was parsed
    against another registry's gates): evaluating without it would say GO unchecked."""
    for policy in bundle.policies:
        for rule in policy.rules:
            gate = gates.get(rule.gate)
            if gate is None or gate.trigger(rule.trigger) is None:
                raise BundleError(
                    f"{bundle.source}: policy {policy.id!r} rule {rule.id!r} uses "
                    f"{rule.gate}.{rule.trigger}, which no gate of this registry provides",
                    source=bundle.source,
                )


def _decide(
    bundle: Bundle,
    mapping: Mapping_,
    ctx: EvaluationContext,
    gates: dict[str, Gate],
    decided: Callable[
        [str, str, Mapping_, tuple[TriggeredItem, ...], MatchResult | None], Evaluation
    ],
) -> Evaluation:
    """Run the mapping's rules over ``ctx`` and decide."""
    now = ctx.now
    allow_items = [item for aid in mapping.allowlist_ids for item in bundle.allowlist(aid).items]
    items: list[TriggeredItem] = []
    for policy_id in mapping.policy_ids:
        for rule in bundle.policy(policy_id).rules:
            trigger = gates[rule.gate].trigger(rule.trigger)
            assert trigger is not None  # validated with the bundle
            params = {p.name: p.default for p in trigger.params if p.default is not None}
            params.update(rule.params)
            for hit in trigger.check(ctx, params):
                trigger_id = f"{rule.gate}:{rule.trigger}:{hit.key}"
                evidence = {
                    k: v
                    for k, v in (
                        ("package", hit.package),
                        ("path", hit.path),
                        ("layer_index", hit.layer_index),
                        ("advisory", hit.advisory),
                    )
                    if v is not None
                }
                evidence.update(hit.data)
                covered = next(
                    (a for a in allow_items if a.covers(rule.gate, trigger_id, hit, now)), None
                )
                items.append(
                    TriggeredItem(
                        gate=rule.gate,
                        trigger=rule.trigger,
                        trigger_id=trigger_id,
                        policy_id=policy_id,
                        rule_id=rule.id,
                        action=rule.action,
                        message=hit.message,
                        evidence=evidence,
                        allowlisted=covered is not None,
                        allowlist_item=covered.id if covered else None,
                        allowlist_reason=covered.reason if covered else None,
                    )
                )
    standing = [i.action for i in items if not i.allowlisted]
    if "STOP" in standing:
        action = "STOP"
        reason = f"{standing.count('STOP')} STOP rule(s) triggered and not allowlisted"
    elif "WARN" in standing:
        action, reason = "WARN", f"{standing.count('WARN')} WARN rule(s) triggered, no STOP"
    else:
        action, reason = "GO", "no STOP or WARN rule triggered outside the allowlists"
    return decided(action, reason, mapping, tuple(items), ctx.coverage)
