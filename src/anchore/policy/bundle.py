"""Policy bundles: loading and validating before anything is evaluated.

A bundle (JSON, or YAML) holds ``policies`` (rules: gate, trigger, action,
params), ``allowlists`` (items: gate, trigger_id glob, optional package and
path globs, expiry, reason), ``mappings`` (registry/repository/tag globs to
policies and allowlists, first match wins) and ``allowed_images`` /
``denied_images``. Every mistake is a :class:`BundleError` naming the bundle,
the place in it and the valid choices.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
from collections.abc import Sequence
from typing import Any

import attrs

from anchore.errors import AnchoreError
from anchore.policy.gate import Gate, Hit, gates_by_name

__all__ = [
    "Allowlist",
    "AllowlistItem",
    "Bundle",
    "BundleError",
    "Mapping_",
    "Policy",
    "Rule",
    "load_bundle",
]

ACTIONS = ("STOP", "WARN", "GO")


class BundleError(AnchoreError):
    """The bundle is malformed or names what does not exist."""


@attrs.frozen
class Rule:
    id: str
    gate: str
    trigger: str
    action: str
    params: dict[str, Any]


@attrs.frozen
class Policy:
    id: str
    name: str
    rules: tuple[Rule, ...]


@attrs.frozen
class AllowlistItem:
    id: str
    gate: str
    #: a glob over trigger ids (gate:trigger:key)
    trigger_id: str
    reason: str
    package: str | None = None
    path: str | None = None
    expires_on: datetime.date | None = None

    def covers(self, gate: str, trigger_id: str, hit: Hit, today: datetime.date) -> bool:
        if self.expires_on is not None and self.expires_on < today:
            return False
        if gate != self.gate or not fnmatch.fnmatchcase(trigger_id, self.trigger_id):
            return False
        if self.package is not None and not fnmatch.fnmatchcase(hit.package or "", self.package):
            return False
        return self.path is None or fnmatch.fnmatchcase(hit.path or "", self.path)


@attrs.frozen
class Allowlist:
    id: str
    name: str
    items: tuple[AllowlistItem, ...]


@attrs.frozen
class Mapping_:
    name: str
    policy_ids: tuple[str, ...]
    allowlist_ids: tuple[str, ...]
    raw: dict[str, Any]

    @property
    def matches_all(self) -> bool:
        image = self.raw.get("image") or {}
        return (
            all(self.raw.get(k, "*") == "*" for k in ("registry", "repository"))
            and image.get("value", "*") == "*"
        )


@attrs.frozen
class Bundle:
    id: str
    name: str
    policies: tuple[Policy, ...]
    allowlists: tuple[Allowlist, ...]
    mappings: tuple[Mapping_, ...]
    allowed_images: tuple[dict[str, Any], ...]
    denied_images: tuple[dict[str, Any], ...]
    source: str

    def policy(self, policy_id: str) -> Policy:
        return next(p for p in self.policies if p.id == policy_id)

    def allowlist(self, allowlist_id: str) -> Allowlist:
        return next(a for a in self.allowlists if a.id == allowlist_id)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> BundleError:
        return BundleError(f"{self.source}: {where}: {problem}", source=self.source, member=where)

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object")
        return value

    def text(self, value: Any, where: str, field: str, required: bool = True) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            raise self.fail(where, f"'{field}' must be a non-empty string")
        return value

    def items(self, doc: dict[str, Any], field: str, where: str) -> list[Any]:
        value = doc.get(field, [])
        if not isinstance(value, list):
            raise self.fail(f"{where}.{field}" if where else field, "must be a list")
        return value


def _params(reader: _Reader, raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, list):  # Anchore's [{"name": ..., "value": ...}] form
        out = {}
        for i, item in enumerate(raw):
            item = reader.obj(item, f"{where}[{i}]")
            out[str(reader.text(item.get("name"), f"{where}[{i}]", "name"))] = item.get("value")
        return out
    return dict(reader.obj(raw, where))


def _rule(reader: _Reader, raw: Any, where: str, gates: dict[str, Gate]) -> Rule:
    doc = reader.obj(raw, where)
    gate_name = str(reader.text(doc.get("gate"), where, "gate"))
    gate = gates.get(gate_name)
    if gate is None:
        raise reader.fail(where, f"unknown gate {gate_name!r}; gates: {', '.join(sorted(gates))}")
    trigger_name = str(reader.text(doc.get("trigger"), where, "trigger"))
    trigger = gate.trigger(trigger_name)
    if trigger is None:
        choices = ", ".join(t.name for t in gate.triggers)
        raise reader.fail(
            where, f"gate {gate_name} has no trigger {trigger_name!r}; triggers: {choices}"
        )
    action = str(doc.get("action", "")).upper()
    if action not in ACTIONS:
        raise reader.fail(where, f"action {doc.get('action')!r} is not one of {', '.join(ACTIONS)}")
    params = _params(reader, doc.get("params"), f"{where}.params")
    for name, value in params.items():
        spec = trigger.param(name)
        if spec is None:
            known = ", ".join(p.name for p in trigger.params) or "none"
            raise reader.fail(
                f"{where}.params.{name}",
                f"{gate_name}.{trigger_name} has no parameter {name!r}; parameters: {known}",
            )
        problem = spec.check(value)
        if problem:
            raise reader.fail(f"{where}.params.{name}", problem)
    for spec in trigger.params:
        if spec.required and spec.name not in params:
            raise reader.fail(where, f"{gate_name}.{trigger_name} needs parameter {spec.name!r}")
    return Rule(str(doc.get("id") or where), gate_name, trigger_name, action, params)


def _date(reader: _Reader, value: Any, where: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise reader.fail(where, f"expires_on {value!r} is not a date (YYYY-MM-DD)") from None


def parse_bundle(doc: Any, source: str = "<bundle>", gates: Sequence[Gate] | None = None) -> Bundle:
    """Validate a bundle document against the registered gates."""
    if gates is None:
        from anchore.plugins.manager import gates as registered

        gates = registered()
    known = gates_by_name(gates)
    r = _Reader(source)
    doc = r.obj(doc, "bundle")
    policies = []
    for i, raw in enumerate(r.items(doc, "policies", "")):
        where = f"policies[{i}]"
        p = r.obj(raw, where)
        pid = str(r.text(p.get("id"), where, "id"))
        rules = tuple(
            _rule(r, rule, f"{where}.rules[{j}]", known)
            for j, rule in enumerate(r.items(p, "rules", where))
        )
        policies.append(Policy(pid, str(p.get("name") or pid), rules))
    allowlists = []
    for i, raw in enumerate(r.items(doc, "allowlists", "")):
        where = f"allowlists[{i}]"
        a = r.obj(raw, where)
        aid = str(r.text(a.get("id"), where, "id"))
        items = []
        for j, item in enumerate(r.items(a, "items", where)):
            w = f"{where}.items[{j}]"
            it = r.obj(item, w)
            gate = str(r.text(it.get("gate"), w, "gate"))
            if gate not in known:
                raise r.fail(w, f"unknown gate {gate!r}; gates: {', '.join(sorted(known))}")
            items.append(
                AllowlistItem(
                    id=str(it.get("id") or w),
                    gate=gate,
                    trigger_id=str(r.text(it.get("trigger_id"), w, "trigger_id")),
                    reason=str(r.text(it.get("reason"), w, "reason")),
                    package=r.text(it.get("package"), w, "package", required=False),
                    path=r.text(it.get("path"), w, "path", required=False),
                    expires_on=_date(r, it.get("expires_on"), w),
                )
            )
        allowlists.append(Allowlist(aid, str(a.get("name") or aid), tuple(items)))
    policy_ids = {p.id for p in policies}
    allowlist_ids = {a.id for a in allowlists}
    if len(policy_ids) != len(policies) or len(allowlist_ids) != len(allowlists):
        raise r.fail("bundle", "policy and allowlist ids must be unique")
    mappings = []
    for i, raw in enumerate(r.items(doc, "mappings", "")):
        where = f"mappings[{i}]"
        m = r.obj(raw, where)
        pids = r.items(m, "policy_ids", where)
        aids = r.items(m, "allowlist_ids", where)
        for pid in pids:
            if pid not in policy_ids:
                raise r.fail(
                    where, f"unknown policy {pid!r}; policies: {', '.join(sorted(policy_ids))}"
                )
        for aid in aids:
            if aid not in allowlist_ids:
                have = ", ".join(sorted(allowlist_ids)) or "none"
                raise r.fail(where, f"unknown allowlist {aid!r}; allowlists: {have}")
        if not pids:
            raise r.fail(where, "a mapping needs at least one policy id")
        image = m.get("image", {"type": "tag", "value": "*"})
        if not isinstance(image, dict) or image.get("type", "tag") not in ("tag", "digest"):
            raise r.fail(where, "image must be {'type': 'tag' or 'digest', 'value': ...}")
        mappings.append(Mapping_(str(m.get("name") or where), tuple(pids), tuple(aids), m))
    if not mappings and policies:
        raise r.fail("mappings", "a bundle needs at least one mapping")
    image_lists = {}
    for field in ("allowed_images", "denied_images"):
        entries = r.items(doc, field, "")
        for i, entry in enumerate(entries):
            r.obj(entry, f"{field}[{i}]")
        image_lists[field] = tuple(entries)
    return Bundle(
        id=str(doc.get("id") or source),
        name=str(doc.get("name") or ""),
        policies=tuple(policies),
        allowlists=tuple(allowlists),
        mappings=tuple(mappings),
        allowed_images=image_lists["allowed_images"],
        denied_images=image_lists["denied_images"],
        source=source,
    )


def load_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read and validate a bundle file (JSON, or YAML by its extension)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise BundleError(f"{path}: cannot read the bundle: {exc}", source=path) from None
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            doc = yaml.safe_load(data)
        else:
            doc = json.loads(data)
    except Exception as exc:
        raise BundleError(f"{path}: not valid JSON/YAML: {exc}", source=path) from None
    return parse_bundle(doc, path)
