"""The bundle's JSON Schema, generated from the gate declarations so it cannot drift.

``python -m anchore.policy.schema > docs/policy-schema.json`` writes it; a test
checks the committed file equals what the gates declare today.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from anchore.policy.gate import PARAM_TYPES, Gate

__all__ = ["bundle_schema"]


def _rule_schemas(gates: Sequence[Gate]) -> list[dict[str, Any]]:
    rules = []
    for gate in gates:
        for trigger in gate.triggers:
            props: dict[str, Any] = {}
            for p in trigger.params:
                spec = dict(PARAM_TYPES[p.type], description=p.description)
                if p.choices:
                    if p.type.endswith("s") and p.type != "string":
                        spec["items"] = {"enum": list(p.choices)}
                    else:
                        spec["enum"] = list(p.choices)
                if p.default is not None:
                    spec["default"] = p.default
                props[p.name] = spec
            rules.append({
                "description": f"{gate.name}.{trigger.name}: {trigger.description}",
                "type": "object",
                "required": ["gate", "trigger", "action"],
                "properties": {
                    "id": {"type": "string"},
                    "gate": {"const": gate.name},
                    "trigger": {"const": trigger.name},
                    "action": {"enum": ["STOP", "WARN", "GO"]},
                    "params": {"type": "object", "properties": props, "additionalProperties": False,
                               "required": [p.name for p in trigger.params if p.required]},
                },
            })  # fmt: skip
    return rules


def bundle_schema(gates: Sequence[Gate] | None = None) -> dict[str, Any]:
    if gates is None:
        from anchore.plugins.manager import gates as registered

        gates = registered()
    image = {
        "type": "object",
        "properties": {"type": {"enum": ["tag", "digest"]}, "value": {"type": "string"}},
    }
    image_entry = {"type": "object", "properties": {
        "name": {"type": "string"}, "registry": {"type": "string"}, "repository": {"type": "string"},
        "image": image}}  # fmt: skip
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "anchore policy bundle",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "policies": {"type": "array", "items": {
                "type": "object", "required": ["id"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                               "rules": {"type": "array", "items": {"oneOf": _rule_schemas(gates)}}}}},
            "allowlists": {"type": "array", "items": {
                "type": "object", "required": ["id"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "items": {
                    "type": "array", "items": {"type": "object", "required": ["gate", "trigger_id", "reason"],
                    "properties": {"id": {"type": "string"}, "gate": {"enum": [g.name for g in gates]},
                                   "trigger_id": {"type": "string", "description": "a glob over gate:trigger:key"},
                                   "package": {"type": "string"}, "path": {"type": "string"},
                                   "expires_on": {"type": "string", "format": "date"},
                                   "reason": {"type": "string"}}}}}}},
            "mappings": {"type": "array", "items": {
                "type": "object", "required": ["policy_ids"],
                "properties": {"name": {"type": "string"}, "registry": {"type": "string"},
                               "repository": {"type": "string"}, "image": image,
                               "policy_ids": {"type": "array", "items": {"type": "string"}},
                               "allowlist_ids": {"type": "array", "items": {"type": "string"}}}}},
            "allowed_images": {"type": "array", "items": image_entry},
            "denied_images": {"type": "array", "items": image_entry},
        },
    }  # fmt: skip


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(bundle_schema(), indent=2, sort_keys=True))
