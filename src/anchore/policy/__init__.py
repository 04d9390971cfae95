"""Policy: bundles of gate/trigger rules, allowlists and mappings, and explained decisions."""

from anchore.policy.bundle import Bundle, BundleError, load_bundle, parse_bundle
from anchore.policy.evaluate import Evaluation, TriggeredItem, evaluate
from anchore.policy.gate import Gate, Hit, Param, Trigger

__all__ = [
    "Bundle",
    "BundleError",
    "Evaluation",
    "Gate",
    "Hit",
    "Param",
    "Trigger",
    "TriggeredItem",
    "evaluate",
    "load_bundle",
    "parse_bundle",
]
