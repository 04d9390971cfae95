"""SARIF 2.1.0 logs of a vulnerability scan or a policy evaluation, for code scanning.

GitHub code scanning and other SARIF readers show results as alerts, so the log says
what a reader needs without anchore at hand:

- one rule per advisory (``vulns``) or per gate trigger (``evaluate``), with help text and,
  for GitHub, ``properties.security-severity`` (a number as a string, 0.0-10.0) and the
  ``security`` tag; each result's ``ruleIndex`` points at its rule;
- each result's location is the file that holds the package in the image, as a relative
  URI (``usr/lib/python3/dist-packages/...``), and ``partialFingerprints`` hashed from what
  stays the same across scans (advisory, package, path; policy rule and trigger id), so an
  alert keeps its identity from one build to the next;
- fail closed: packages that could not be checked are results too (rule
  ``anchore/unchecked``), and ``invocations[0]`` carries the exit code, a notification per
  unchecked group and the coverage counts. A log with no vulnerability result therefore
  never hides that nothing, or not everything, was checked.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from anchore import __version__
from anchore.plugins import Registry, default_registry
from anchore.policy import Evaluation, TriggeredItem
from anchore.policy.gate import gates_by_name
from anchore.vulns.match import Match, MatchResult, PackageCheck
from anchore.vulns.suppress import Suppression

__all__ = [
    "SCHEMA_URI",
    "UNCHECKED_RULE",
    "evaluation_log",
    "scan_log",
]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: the rule of the results saying which packages could not be checked
UNCHECKED_RULE = "anchore/unchecked"
#: a result's level from a rating (grype's mapping) or a policy action
_LEVELS = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "STOP": "error",
    "WARN": "warning",
    "GO": "note",
}
#: security-severity for a rating without a CVSS score: the bottom of GitHub's band
_RATING_SCORES = {"critical": 9.0, "high": 7.0, "medium": 4.0, "low": 0.1}
#: a policy action's security-severity: STOP blocks like a high finding, WARN a medium
_ACTION_SCORES = {"STOP": 7.0, "WARN": 4.0}
_FINGERPRINT = "anchore/v1"


def _uri(path: str) -> str:
    """A path in the image as a relative URI reference (``usr/bin/x``, spaces escaped)."""
    return urllib.parse.quote(path.lstrip("/"), safe="/")


def _location(path: str, line: int | None = None, note: str | None = None) -> dict[str, Any]:
    where: dict[str, Any] = {
        "artifactLocation": {"uri": _uri(path)},
        "region": {"startLine": line if line and line > 0 else 1},
    }
    location: dict[str, Any] = {"physicalLocation": where}
    if note:
        location["message"] = {"text": note}
    return location


def _fingerprint(*parts: str) -> dict[str, str]:
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
    return {_FINGERPRINT: digest[:32]}


def _accepted(justification: str) -> list[dict[str, str]]:
    """A result's suppressions: accepted outside the scan (ignore rule, VEX, allowlist)."""
    return [{"kind": "external", "status": "accepted", "justification": justification}]


def _score_text(score: float) -> str:
    return f"{min(max(score, 0.0), 10.0):.1f}"


class _Rules:
    """The run's rules in first-use order, so every result's ruleIndex is its rule's."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._scores: dict[str, float] = {}

    def index(self, rule_id: str, make: Any, score: float | None = None) -> int:
        if rule_id not in self._index:
            self._index[rule_id] = len(self.rules)
            self.rules.append(make())
        if score is not None and score > self._scores.get(rule_id, -1.0):
            self._scores[rule_id] = score
            rule = self.rules[self._index[rule_id]]
            rule.setdefault("properties", {})["security-severity"] = _score_text(score)
        return self._index[rule_id]


def _log(
    rules: _Rules,
    results: list[dict[str, Any]],
    invocation: dict[str, Any],
    properties: dict[str, Any],
) -> dict[str, Any]:
    driver = {
        "name": "anchore",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules.rules,
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": properties,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _notification(level: str, text: str, rule_id: str = UNCHECKED_RULE) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}, "descriptor": {"id": rule_id}}


# ---------------------------------------------------------------- vulns
def _advisory_rule(match: Match) -> dict[str, Any]:
    aliases = ", ".join(match.aliases)
    title = match.summary or f"{match.advisory_id} in {match.package_name}"
    about = f"{match.advisory_id}" + (f" (also {aliases})" if aliases else "")
    url = f"https://osv.dev/vulnerability/{urllib.parse.quote(match.advisory_id)}"
    text = f"{about}: {title}. Rated {match.rating}" + (
        f" (CVSS {match.score:.1f})." if match.score is not None else "."
    )
    markdown = f"**{about}**: {title}\n\nRated {match.rating}. Details: [{url}]({url})"
    return {
        "id": match.advisory_id,
        "shortDescription": {"text": f"{match.advisory_id}: {title}"[:1000]},
        "fullDescription": {"text": text},
        "helpUri": url,
        "help": {
            "text": f"{text} Upgrade the package to a fixed version. {url}",
            "markdown": markdown + "\n\nUpgrade the package to a fixed version.",
        },
        "defaultConfiguration": {"level": _LEVELS.get(match.rating, "note")},
        "properties": {
            "tags": ["security", "vulnerability", match.ecosystem],
            "aliases": list(match.aliases),
        },
    }


def _match_score(match: Match) -> float | None:
    if match.score is not None:
        return match.score
    return _RATING_SCORES.get(match.rating)


def _match_result(rules: _Rules, match: Match, suppression: Suppression | None) -> dict[str, Any]:
    index = rules.index(match.advisory_id, lambda: _advisory_rule(match), _match_score(match))
    fix = match.fixed_in
    aliases = f" ({', '.join(match.aliases)})" if match.aliases else ""
    text = (
        f"{match.package_name} {match.installed_version} is affected by {match.advisory_id}"
        f"{aliases}, rated {match.rating}; "
        + (f"fixed in {fix}" if fix else "no fixed version is known")
    )
    paths = [loc.path for loc in match.locations] or [match.purl]
    first = match.locations[0] if match.locations else None
    result: dict[str, Any] = {
        "ruleId": match.advisory_id,
        "ruleIndex": index,
        "level": _LEVELS.get(match.rating, "note"),
        "message": {"text": text + (f" (layer {first.layer_index})" if first else "")},
        "locations": [
            _location(p, note=f"{match.package_name} {match.installed_version}") for p in paths[:10]
        ],
        "partialFingerprints": _fingerprint(match.advisory_id, match.purl, paths[0]),
        "properties": {
            "purl": match.purl,
            "package": match.package_name,
            "installedVersion": match.installed_version,
            "fixedVersion": fix,
            "ecosystem": match.ecosystem,
            "rating": match.rating,
            "layer": first.layer_index if first else None,
        },
    }
    if suppression is not None:
        result["suppressions"] = _accepted(f"{suppression.kind}: {suppression.reason}")
    return result


def _unchecked_rule() -> dict[str, Any]:
    text = (
        "Packages anchore could not check for vulnerabilities: no advisory data for their "
        "ecosystem or distro release, or a version that does not parse. Their absence from "
        "the results is no evidence that they are free of vulnerabilities."
    )
    return {
        "id": UNCHECKED_RULE,
        "shortDescription": {"text": "packages that could not be checked for vulnerabilities"},
        "fullDescription": {"text": text},
        "help": {
            "text": text + " Load advisory data for them (anchore db update or anchore "
            "db load), or accept the gap with --allow-unchecked.",
            "markdown": text + "\n\nLoad advisory data for them (`anchore db update` or "
            "`anchore db load`), or accept the gap with `--allow-unchecked`.",
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["coverage"]},
    }


def _unchecked_results(
    rules: _Rules, checks: Sequence[PackageCheck], level: str, artifact: str
) -> list[dict[str, Any]]:
    """One result per ecosystem group and reason: how many packages, which, and why."""
    groups: dict[tuple[str, str], list[PackageCheck]] = {}
    for c in checks:
        groups.setdefault((c.group, c.reason), []).append(c)
    results = []
    for (group, reason), members in groups.items():
        index = rules.index(UNCHECKED_RULE, _unchecked_rule)
        paths = list(dict.fromkeys(loc.path for c in members for loc in c.package.locations))
        names = ", ".join(c.package.name for c in members[:20])
        more = f" and {len(members) - 20} more" if len(members) > 20 else ""
        results.append(
            {
                "ruleId": UNCHECKED_RULE,
                "ruleIndex": index,
                "level": level,
                "message": {
                    "text": f"{len(members)} {group} packages could not be checked: "
                    f"{reason} ({names}{more})"
                },
                "locations": [_location(p) for p in (paths or [artifact])[:10]],
                "partialFingerprints": _fingerprint(UNCHECKED_RULE, group, reason),
                "properties": {
                    "group": group,
                    "count": len(members),
                    "purls": [c.package.purl for c in members],
                },
            }
        )
    return results


def _coverage(result: MatchResult) -> dict[str, Any]:
    return {status: result.counts(status) for status in ("checked", "unchecked", "declared")}


def scan_log(
    result: MatchResult,
    kept: Iterable[Match],
    suppressed: Iterable[Suppression] = (),
    *,
    artifact: str,
    exit_code: int,
    command_line: str | None = None,
) -> dict[str, Any]:
    """The SARIF log of ``anchore vulns``: a result per match (suppressed ones with their
    suppression), one per group of unchecked packages, and the invocation's exit code.
    ``artifact`` (the image or SBOM scanned) locates what has no path in the image."""
    rules = _Rules()
    results = [_match_result(rules, m, None) for m in kept]
    results += [_match_result(rules, s.match, s) for s in suppressed]
    nothing = not result.checked
    level = "error" if nothing else "warning"
    results += _unchecked_results(rules, result.unchecked, level, artifact)
    notes = [
        _notification(level, f"{n} {group} packages could not be checked")
        for group, n in result.counts("unchecked").items()
    ]
    if nothing:
        notes.insert(
            0,
            _notification(
                "error", f"{artifact}: no package could be checked: no result, not a clean one"
            ),
        )
    if result.declared:
        notes.append(
            _notification(
                "note",
                f"{len(result.declared)} packages only a lock or requirements file declares "
                "were not matched (--include-declared matches them)",
            )
        )
    invocation = _invocation(exit_code, not nothing, notes, command_line)
    return _log(rules, results, invocation, {"artifact": artifact, "coverage": _coverage(result)})


def _invocation(
    exit_code: int, successful: bool, notes: list[dict[str, Any]], command_line: str | None
) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": successful,
        "exitCode": int(exit_code),
        "toolExecutionNotifications": notes,
    }
    if command_line:
        invocation["commandLine"] = command_line
    return invocation


# ---------------------------------------------------------------- evaluate
def _trigger_rule(item: TriggeredItem, described: Mapping[str, Any]) -> dict[str, Any]:
    gate = described.get(item.gate)
    trigger = gate.trigger(item.trigger) if gate is not None else None
    what = (
        trigger.description.rstrip(". ") if trigger is not None else f"{item.gate} {item.trigger}"
    )
    gate_text = f" (gate {item.gate}: {gate.description.rstrip('. ')})" if gate is not None else ""
    text = f"{what}{gate_text}."
    return {
        "id": f"{item.gate}/{item.trigger}",
        "name": f"{item.gate}.{item.trigger}",
        "shortDescription": {"text": what + "."},
        "fullDescription": {"text": text},
        "help": {
            "text": f"Policy trigger {item.gate}/{item.trigger}: {text} The policy "
            "bundle's rule decides its action (STOP, WARN, GO); an allowlist entry "
            "accepts one finding.",
            "markdown": f"Policy trigger `{item.gate}/{item.trigger}`: {text}\n\nThe "
            "policy bundle's rule decides its action (STOP, WARN, GO); an allowlist "
            "entry accepts one finding.",
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["security", "policy", item.gate]},
    }


def _item_result(
    rules: _Rules, item: TriggeredItem, described: Mapping[str, Any], artifact: str
) -> dict[str, Any]:
    rule_id = f"{item.gate}/{item.trigger}"
    index = rules.index(
        rule_id, lambda: _trigger_rule(item, described), _ACTION_SCORES.get(item.action)
    )
    evidence = item.evidence
    path = evidence.get("path")
    line = evidence.get("line")
    location = (
        _location(str(path), line if isinstance(line, int) else None)
        if isinstance(path, str) and path
        else _location(artifact, note="the image as a whole")
    )
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": _LEVELS.get(item.action, "note"),
        "message": {
            "text": f"{item.action}: {item.message} (policy {item.policy_id}, rule {item.rule_id})"
        },
        "locations": [location],
        "partialFingerprints": _fingerprint(item.policy_id, item.rule_id, item.trigger_id),
        "properties": {
            "action": item.action,
            "policy": item.policy_id,
            "rule": item.rule_id,
            "triggerId": item.trigger_id,
            "layer": evidence.get("layer_index"),
        },
    }
    if item.allowlisted:
        why = item.allowlist_reason or "no reason given"
        result["suppressions"] = _accepted(f"allowlist {item.allowlist_item}: {why}")
    return result


def evaluation_log(
    evaluation: Evaluation,
    *,
    artifact: str,
    registry: Registry | None = None,
    command_line: str | None = None,
) -> dict[str, Any]:
    """The SARIF log of ``anchore evaluate``: a result per triggered item (allowlisted ones
    suppressed), rules from the gates' own descriptions, the final action and the
    vulnerability coverage in the run's properties and the invocation's exit code."""
    described = gates_by_name((registry or default_registry()).gates())
    rules = _Rules()
    results = [_item_result(rules, i, described, artifact) for i in evaluation.items]
    notes = [
        _notification(
            "note" if evaluation.final_action == "GO" else "error",
            f"final action: {evaluation.final_action} ({evaluation.reason})",
            "anchore/decision",
        )
    ]
    unchecked = (evaluation.coverage or {}).get("unchecked") or {}
    for group, n in unchecked.items():
        notes.append(_notification("warning", f"{n} {group} packages could not be checked"))
    invocation = _invocation(evaluation.exit_code, True, notes, command_line)
    properties = {
        "artifact": artifact,
        "finalAction": evaluation.final_action,
        "reason": evaluation.reason,
        "bundle": evaluation.bundle_id,
        "policies": list(evaluation.policy_ids),
        "imageDigest": evaluation.image_digest,
        "coverage": evaluation.coverage,
    }
    return _log(rules, results, invocation, properties)
