"""Suppressions: ignore rules (with reasons and expiry dates) and VEX documents.

A suppressed match is never dropped silently: it moves to the report's
``suppressed`` list with the rule or VEX statement that suppressed it.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from anchore.errors import AnchoreError
from anchore.vulns.match import Match

__all__ = ["IgnoreRule", "Suppression", "VexStatement", "apply", "read_vex"]


class VexError(AnchoreError):
    """A VEX document that cannot be read."""


@attrs.frozen
class IgnoreRule:
    """Ignore matches by advisory (id or alias), package (name or purl prefix) and/or path glob.

    Every given criterion must hold. An expired rule (``expires`` before today)
    no longer suppresses anything.
    """

    reason: str
    id: str | None = None
    package: str | None = None
    path: str | None = None
    expires: datetime.date | None = None

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("an ignore rule needs a reason")
        if self.id is None and self.package is None and self.path is None:
            raise ValueError("an ignore rule needs an id, a package or a path")

    def applies(self, m: Match, today: datetime.date) -> bool:
        if self.expires is not None and self.expires < today:
            return False
        if self.id is not None and self.id not in (m.advisory_id, *m.aliases):
            return False
        if self.package is not None and not (
            self.package == m.package_name or m.purl.startswith(self.package)
        ):
            return False
        return self.path is None or any(
            fnmatch.fnmatchcase(loc.path, self.path) for loc in m.locations
        )


@attrs.frozen
class VexStatement:
    vulnerability: str
    products: tuple[str, ...]
    #: not_affected, fixed, affected, under_investigation
    status: str
    justification: str = ""
    source: str = ""

    def applies(self, m: Match) -> bool:
        if self.vulnerability not in (m.advisory_id, *m.aliases):
            return False
        return any(_purl_matches(product, m.purl) for product in self.products)


def _purl_matches(product: str, purl: str) -> bool:
    """A product purl names the package if it is equal, or equal up to what it leaves out."""
    if product == purl:
        return True
    bare, _, _ = purl.partition("?")
    if product == bare:
        return True
    return "@" not in product and bare.split("@", 1)[0] == product.partition("?")[0]


@attrs.frozen
class Suppression:
    match: Match
    #: "ignore rule" or "vex"
    kind: str
    reason: str
    expires: datetime.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"match": self.match.to_dict(), "kind": self.kind, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None}  # fmt: skip


def read_vex(path: str | os.PathLike[str]) -> list[VexStatement]:
    """OpenVEX or CSAF VEX statements from a JSON file."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise VexError(f"{path}: cannot read a VEX document: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("statements"), list):
        return _openvex(doc, path)
    if isinstance(doc, dict) and isinstance(doc.get("vulnerabilities"), list):
        return _csaf(doc, path)
    raise VexError(f"{path}: neither OpenVEX (statements) nor CSAF VEX (vulnerabilities)")


def _openvex(doc: dict[str, Any], path: str) -> list[VexStatement]:
    out = []
    for i, st in enumerate(doc["statements"]):
        vuln = st.get("vulnerability")
        name = vuln.get("name") if isinstance(vuln, dict) else vuln
        products = []
        for p in st.get("products") or []:
            ident = p.get("@id") if isinstance(p, dict) else p
            if isinstance(ident, str):
                products.append(ident)
            if isinstance(p, dict):
                for sub in p.get("subcomponents") or []:
                    if isinstance(sub, dict) and isinstance(sub.get("@id"), str):
                        products.append(sub["@id"])
        if not isinstance(name, str) or not products or not isinstance(st.get("status"), str):
            raise VexError(f"{path}: statement {i} needs a vulnerability, products and a status")
        out.append(VexStatement(name, tuple(products), st["status"],
                                str(st.get("justification") or st.get("impact_statement") or ""),
                                path))  # fmt: skip
    return out


def _csaf_products(tree: Any) -> dict[str, str]:
    """product_id -> purl, from a CSAF product tree (branches nest)."""
    found: dict[str, str] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            full = node.get("product")
            for candidate in (node, full):
                if isinstance(candidate, dict) and "product_id" in candidate:
                    helper = candidate.get("product_identification_helper") or {}
                    if isinstance(helper.get("purl"), str):
                        found[candidate["product_id"]] = helper["purl"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(tree)
    return found


def _csaf(doc: dict[str, Any], path: str) -> list[VexStatement]:
    products = _csaf_products(doc.get("product_tree"))
    out = []
    statuses = {
        "known_not_affected": "not_affected",
        "fixed": "fixed",
        "known_affected": "affected",
        "under_investigation": "under_investigation",
    }
    for vuln in doc["vulnerabilities"]:
        name = vuln.get("cve") or next(
            (i.get("text") for i in vuln.get("ids") or [] if isinstance(i, dict)), None
        )
        if not isinstance(name, str):
            raise VexError(f"{path}: a vulnerability without a cve or id")
        flags = {
            pid: f.get("label", "")
            for f in vuln.get("flags") or []
            for pid in f.get("product_ids") or []
        }
        for key, status in statuses.items():
            for pid in (vuln.get("product_status") or {}).get(key) or []:
                purl = products.get(pid)
                if purl:
                    out.append(VexStatement(name, (purl,), status, flags.get(pid, ""), path))
    return out


def apply(
    matches: Sequence[Match],
    *,
    ignore_rules: Iterable[IgnoreRule] = (),
    vex: Iterable[VexStatement] = (),
    today: datetime.date | None = None,
) -> tuple[list[Match], list[Suppression]]:
    """Split matches into those that stand and those suppressed (with why)."""
    today = today or datetime.date.today()
    rules, statements = list(ignore_rules), list(vex)
    kept, suppressed = [], []
    for m in matches:
        rule = next((r for r in rules if r.applies(m, today)), None)
        if rule is not None:
            suppressed.append(Suppression(m, "ignore rule", rule.reason, rule.expires))
            continue
        statement = next((s for s in statements if s.status in ("not_affected", "fixed")
                          and s.applies(m)), None)  # fmt: skip
        if statement is not None:
            why = f"VEX {statement.status}" + (
                f": {statement.justification}" if statement.justification else ""
            )
            suppressed.append(Suppression(m, "vex", f"{why} ({statement.source})"))
            continue
        kept.append(m)
    return kept, suppressed
