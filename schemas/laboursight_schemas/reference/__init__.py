"""Versioned reference data: the DOL goods list and an exchange-rate table, one edition per folder.

Editions live under ``editions/<edition>/`` with a manifest of sha256s; they are never edited in
place, so a finding that names an edition can always be reproduced from it.
"""

from .dol import ListedGood
from .edition import ReferenceData
from .fx import ExchangeRates
from .loader import CURRENT_EDITION, EDITIONS, known_currencies, load_reference

__all__ = [
    "CURRENT_EDITION",
    "EDITIONS",
    "ExchangeRates",
    "ListedGood",
    "ReferenceData",
    "known_currencies",
    "load_reference",
]
