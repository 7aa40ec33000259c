"""The one event envelope, aligned with CloudEvents 1.0 attribute names (DESIGN.md).

Minor schema versions are additive: a reader accepts any ``1.x`` and fills what it lacks with
defaults. A new major version gets a new topic, never a silent change on this one.
"""

import uuid
from datetime import UTC, datetime
from typing import Final, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .disclosure import RecruiterDisclosure, SupplierDisclosure
from .findings import AlertRaised, FindingsComputed

SCHEMA_VERSION: Final = "1.1"

SUPPLIER_DISCLOSURE_SUBMITTED: Final = "org.laboursight.disclosure.supplier.submitted"
RECRUITER_DISCLOSURE_SUBMITTED: Final = "org.laboursight.disclosure.recruiter.submitted"
FINDINGS_COMPUTED: Final = "org.laboursight.findings.computed"
ALERT_RAISED: Final = "org.laboursight.alert.raised"

DataT = TypeVar("DataT", bound=BaseModel)


class Envelope(BaseModel, Generic[DataT]):
    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, description="unique event id; consumers deduplicate on it")
    type: str
    source: str
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    tenant_id: str = Field(min_length=1)
    correlation_id: str = Field(
        min_length=1, description="the disclosure id, through the whole chain"
    )
    schema_version: str = Field(default=SCHEMA_VERSION, pattern=r"^1\.\d+$")
    data: DataT


def derived_event_id(*parts: str) -> str:
    """A deterministic event id, so that reprocessing one input republishes the same event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "laboursight:" + "/".join(parts)))


def now() -> datetime:
    return datetime.now(UTC)


class SupplierDisclosureSubmitted(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    disclosure_id: str
    submitted_by: str = Field(description="the API key id that submitted it")
    disclosure: SupplierDisclosure


class RecruiterDisclosureSubmitted(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    disclosure_id: str
    submitted_by: str = Field(description="the API key id that submitted it")
    disclosure: RecruiterDisclosure


SupplierDisclosureEvent = Envelope[SupplierDisclosureSubmitted]
RecruiterDisclosureEvent = Envelope[RecruiterDisclosureSubmitted]
FindingsEvent = Envelope[FindingsComputed]
AlertEvent = Envelope[AlertRaised]
