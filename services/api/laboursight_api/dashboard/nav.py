"""The main navigation: each section with the operations its page shows, so a key sees only
the sections its role may open (tests/dashboard/test_access.py holds the two in step)."""

from dataclasses import dataclass
from typing import Final

from laboursight_api.rights import Operation

from .session import PATH


@dataclass(frozen=True)
class Section:
    href: str
    label: str
    operations: tuple[Operation, ...]


SECTIONS: Final = (
    Section(PATH, "Overview", ("read alerts", "read cases", "read findings", "read entities")),
    Section(f"{PATH}/map", "Map", ("read entities",)),
    Section(f"{PATH}/inbox", "Inbox", ("read alerts",)),
    Section(f"{PATH}/cases", "Cases", ("read cases",)),
    Section(f"{PATH}/method", "Method", ("read findings",)),
    Section(f"{PATH}/ledger", "Ledger", ("verify the ledger",)),
)
