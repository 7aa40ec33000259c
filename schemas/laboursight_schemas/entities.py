"""What risk stores in an ``entities`` document that the api reads as it is.

Stored shapes, not events: risk writes them, and every reader ignores fields it does not know,
so risk may add one without the api following in the same release.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ContradictionKind = Literal["unlisted", "workers", "workforce", "fees"]


class SourceContradiction(BaseModel):
    """A recruiter and a supplier disagree about the link between them: what each says, and in
    which disclosure and field (none for a side that says nothing of the link). Neither account
    is taken over the other."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: ContradictionKind = Field(
        description="`unlisted`: one side declares the link, the other disclosed without "
        "listing it; `workers`: they give different numbers of workers; `workforce`: the "
        "recruiter places more workers than the supplier's whole workforce; `fees`: one "
        "side's workers bore recruitment fees or costs, the other, having assessed it, says its "
        "workers bore none"
    )
    recruiter_id: str
    supplier_id: str
    recruiter_says: str
    recruiter_disclosure_id: str | None
    recruiter_field: str | None
    supplier_says: str
    supplier_disclosure_id: str | None
    supplier_field: str | None
    explanation: str
