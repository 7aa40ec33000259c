"""The one event envelope: a CloudEvents 1.0 event in the JSON format (DESIGN.md).

Extension attribute names follow the 1.0 naming rule (lower-case letters and digits only):
``tenantid``, ``correlationid`` (the disclosure id, through the whole chain), ``dataversion``
(the version of ``data`` for this event ``type``) and the distributed-tracing ``traceparent`` and
``tracestate`` (the CloudEvents distributed-tracing extension: W3C Trace Context).
The Python attribute names stay snake case; only the wire names are CloudEvents'.

Readers are tolerant: unknown attributes and unknown ``data`` fields are ignored, and an older
``dataversion`` is upcast on read (``upcasting.read_event``). A new major version gets a new
topic, never a silent change on this one.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from .delivery_requests import RedeliveryRequested, SubscriptionTestRequested
from .disclosure import RecruiterDisclosure, SupplierDisclosure
from .findings import AlertRaised, AlertUpdated, FindingsComputed

SUPPLIER_DISCLOSURE_SUBMITTED: Final = "org.laboursight.disclosure.supplier.submitted"
RECRUITER_DISCLOSURE_SUBMITTED: Final = "org.laboursight.disclosure.recruiter.submitted"
FINDINGS_COMPUTED: Final = "org.laboursight.findings.computed"
ALERT_RAISED: Final = "org.laboursight.alert.raised"
ALERT_UPDATED: Final = "org.laboursight.alert.updated"
CASE_CHANGED: Final = "org.laboursight.case.changed"
ALERT_DISMISSED: Final = "org.laboursight.alert.dismissed"
REDELIVERY_REQUESTED: Final = "org.laboursight.delivery.redelivery_requested"
SUBSCRIPTION_TEST_REQUESTED: Final = "org.laboursight.subscription.test_requested"

# The version of ``data`` each event type is written with today. Bump the minor version for an
# additive change and add a golden payload (schemas/golden/); anything else needs an upcaster.
DATA_VERSIONS: Final[dict[str, str]] = {
    SUPPLIER_DISCLOSURE_SUBMITTED: "1.3",
    RECRUITER_DISCLOSURE_SUBMITTED: "1.3",
    FINDINGS_COMPUTED: "1.4",
    ALERT_RAISED: "1.4",
    ALERT_UPDATED: "1.2",
    CASE_CHANGED: "1.0",
    ALERT_DISMISSED: "1.0",
    REDELIVERY_REQUESTED: "1.0",
    SUBSCRIPTION_TEST_REQUESTED: "1.0",
}

CLOUDEVENTS_JSON: Final = "application/cloudevents+json"
# W3C Trace Context, version 00: version-trace id-parent id-flags.
TRACEPARENT_PATTERN: Final = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
# Optional attributes are left out rather than written as null: CloudEvents has no null attribute.
_OMITTED_WHEN_UNSET: Final = ("traceparent", "tracestate")

DataT = TypeVar("DataT", bound=BaseModel)


class Envelope(BaseModel, Generic[DataT]):
    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, description="unique event id; consumers deduplicate on it")
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    tenant_id: str = Field(alias="tenantid", min_length=1)
    correlation_id: str = Field(
        alias="correlationid",
        min_length=1,
        description="the disclosure id, through the whole chain",
    )
    data_version: str = Field(
        alias="dataversion",
        pattern=r"^1\.\d+$",
        description="version of `data` for this event type; minor versions are additive",
    )
    traceparent: str | None = Field(
        default=None,
        pattern=TRACEPARENT_PATTERN,
        description="W3C Trace Context of the span that produced the event (distributed tracing)",
    )
    tracestate: str | None = Field(
        default=None,
        max_length=512,
        description="W3C Trace Context vendor state that goes with `traceparent`",
    )
    data: DataT

    @model_serializer(mode="wrap")
    def _omit_unset(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for name in _OMITTED_WHEN_UNSET:
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


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
AlertUpdatedEvent = Envelope[AlertUpdated]
RedeliveryRequestedEvent = Envelope[RedeliveryRequested]
SubscriptionTestRequestedEvent = Envelope[SubscriptionTestRequested]
