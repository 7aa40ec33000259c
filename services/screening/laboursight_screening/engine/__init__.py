"""The indicator engine: a pure function from a disclosure to findings and a judgement.

No I/O, no clock, no randomness: the same disclosure under the same rule set and reference
data gives byte-identical findings, which is what lets an auditor replay an alert years later.
The rule sets are data (``rulesets/``); a ``Catalogue`` loads them by version.
"""

from .catalogue import SHIPPED, SHIPPED_FOLDER, Catalogue
from .compiled import CompiledRuleSet, compile_rule_set
from .engine import screen
from .outcome import Evidence, Finding, Screening

__all__ = [
    "SHIPPED",
    "SHIPPED_FOLDER",
    "Catalogue",
    "CompiledRuleSet",
    "Evidence",
    "Finding",
    "Screening",
    "compile_rule_set",
    "screen",
]
