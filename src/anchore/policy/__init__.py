"""Policy: bundles of gate/trigger rules, allowlists and mappings, and explained decisions."""

from anchore.policy.bundle import Bundle, BundleError, load_bundle, parse_bundle
from anchore.policy.coverage import MissingEvidenceError
from anchore.policy.evaluate import Evaluation, TriggeredItem, evaluate
from anchore.policy.gate import Gate, Hit, Need, Param, Trigger

__all__ = [
    "Bundle",
    "BundleError",
    "Evaluation",
    "Gate",
    "Hit",
    "MissingEvidenceError",
    "Need",
    "Param",
    "Trigger",
    "TriggeredItem",
    "evaluate",
    "load_bundle",
    "parse_bundle",
]
