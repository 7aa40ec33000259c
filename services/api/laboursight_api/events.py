"""The event a submitted disclosure becomes, and the topic it goes to."""

from datetime import datetime
from typing import Any, Final

from laboursight_runtime import tracing
from laboursight_schemas import topics
from laboursight_schemas.disclosure import Disclosure, SupplierDisclosure
from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    now,
)

SOURCE: Final = "/laboursight/api"


def submitted_event(
    disclosure: Disclosure,
    *,
    disclosure_id: str,
    event_id: str,
    tenant_id: str,
    submitted_by: str,
    time: datetime | None = None,
) -> tuple[str, Envelope[Any]]:
    """(topic, event); the topic's key is ``disclosure.entity_id``; ``time``: when it was
    accepted (now by default). The event carries the trace of the span active now (the
    request's), which the consumers continue."""
    common: dict[str, Any] = {
        "id": event_id,
        "source": SOURCE,
        "time": time or now(),
        "tenant_id": tenant_id,
        "correlation_id": disclosure_id,
        **tracing.current(),
    }
    if isinstance(disclosure, SupplierDisclosure):
        supplier = SupplierDisclosureSubmitted(
            disclosure_id=disclosure_id, submitted_by=submitted_by, disclosure=disclosure
        )
        return topics.SUPPLIER_DISCLOSURES, Envelope[SupplierDisclosureSubmitted](
            type=SUPPLIER_DISCLOSURE_SUBMITTED,
            data_version=DATA_VERSIONS[SUPPLIER_DISCLOSURE_SUBMITTED],
            data=supplier,
            **common,
        )
    recruiter = RecruiterDisclosureSubmitted(
        disclosure_id=disclosure_id, submitted_by=submitted_by, disclosure=disclosure
    )
    return topics.RECRUITER_DISCLOSURES, Envelope[RecruiterDisclosureSubmitted](
        type=RECRUITER_DISCLOSURE_SUBMITTED,
        data_version=DATA_VERSIONS[RECRUITER_DISCLOSURE_SUBMITTED],
        data=recruiter,
        **common,
    )
