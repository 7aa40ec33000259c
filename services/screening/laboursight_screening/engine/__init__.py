"""The indicator engine: a pure function from a disclosure to findings and a judgement.

No I/O, no clock, no randomness: the same disclosure under the same rule-set version gives the
same result, which is what lets an auditor replay an alert years later.
"""

from .engine import REFERENCE_DATA_EDITION, RULE_SET_VERSION, Screening, screen

__all__ = ["REFERENCE_DATA_EDITION", "RULE_SET_VERSION", "Screening", "screen"]
