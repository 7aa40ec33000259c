"""Who may do what: every operation of the HTTP api and the roles whose keys may do it.

This table is the whole access policy. Each route names its operation
(``require(*roles("read findings"))``) and nothing else decides who gets past the door;
``tests/api/test_access_matrix.py`` calls every route of the app with every role of two tenants
and fails on any route that is not in it or does not keep it.

- ``submitter``: submits disclosures (one by one or as a batch) for the supplier and recruiter
  ids its key is bound to, and sees only its own: disclosures of those ids, batches its key
  uploaded.
- ``analyst``: runs the inbox and the cases: reads everything of its tenant, manages its
  webhook subscriptions and redelivers their deliveries.
- ``auditor``: reads everything of its tenant (subscriptions without their signing secrets),
  verifies its ledger, and changes nothing.
- ``admin``: manages the tenant's API keys and its subscriptions (with their deliveries), sets
  how long its records are kept and places and releases its legal holds, and reads its records
  as an auditor does. It neither submits nor works alerts and cases: who
  does so holds an analyst's key, which the key list shows the admin created.

Keys are shown to admins only. Whatever the role, a key sees only its own tenant: another
tenant's id is a 404, as an unknown id is.
"""

from collections.abc import Mapping
from typing import Final, Literal

from .keys import Role

Operation = Literal[
    "submit disclosures",
    "read disclosures",
    "read findings",
    "read entities",
    "read alerts",
    "read cases",
    "work cases",
    "read subscriptions",
    "manage subscriptions",
    "read deliveries",
    "redeliver",
    "manage keys",
    "verify the ledger",
    "read retention",
    "manage retention",
    "export evidence",
]

_READERS: Final[tuple[Role, ...]] = ("analyst", "auditor", "admin")

RIGHTS: Final[Mapping[Operation, tuple[Role, ...]]] = {
    "submit disclosures": ("submitter",),
    # A submitter's own only (see above); the routes filter what it sees.
    "read disclosures": ("submitter", *_READERS),
    "read findings": _READERS,
    "read entities": _READERS,
    "read alerts": _READERS,
    "read cases": _READERS,
    # Triage or dismiss an alert, change a case, set the tenant's case due dates.
    "work cases": ("analyst",),
    "read subscriptions": _READERS,
    # Test-sends and secret rotation too.
    "manage subscriptions": ("analyst", "admin"),
    "read deliveries": _READERS,
    "redeliver": ("analyst", "admin"),
    "manage keys": ("admin",),
    "verify the ledger": ("auditor",),
    # The retention and the legal holds: what is kept, and for how long.
    "read retention": _READERS,
    "manage retention": ("admin",),
    # An entity's evidence pack: what an analyst answers a regulator with, or an auditor checks.
    "export evidence": _READERS,
}


def roles(operation: Operation) -> tuple[Role, ...]:
    """The roles that may do ``operation``."""
    return RIGHTS[operation]
