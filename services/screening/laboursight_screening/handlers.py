"""Screening a submitted disclosure: run the engine, publish one FindingsComputed event.

Idempotent without state: the findings event id derives from the disclosure event id and the
rule-set version, so a redelivered disclosure republishes the same event, which downstream
consumers recognise.
"""

from typing import Any

from laboursight_runtime.kafka import Publisher
from laboursight_schemas import topics
from laboursight_schemas.envelope import (
    FINDINGS_COMPUTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    derived_event_id,
    now,
)
from laboursight_schemas.findings import FindingsComputed

from .engine import REFERENCE_DATA_EDITION, RULE_SET_VERSION, screen

SOURCE = "/laboursight/screening"

DisclosureEvent = Envelope[SupplierDisclosureSubmitted] | Envelope[RecruiterDisclosureSubmitted]


def findings_event(event: DisclosureEvent) -> Envelope[FindingsComputed]:
    disclosure = event.data.disclosure
    result = screen(disclosure)
    return Envelope[FindingsComputed](
        id=derived_event_id("findings", event.id, RULE_SET_VERSION),
        type=FINDINGS_COMPUTED,
        source=SOURCE,
        time=now(),
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
        data=FindingsComputed(
            disclosure_id=event.data.disclosure_id,
            disclosure_event_id=event.id,
            entity_kind=disclosure.kind,
            entity_id=disclosure.entity_id,
            period=disclosure.period,
            rule_set_version=RULE_SET_VERSION,
            reference_data_edition=REFERENCE_DATA_EDITION,
            findings=result.findings,
            judgement=result.judgement,
        ),
    )


class Screener:
    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def __call__(self, event: Envelope[Any]) -> None:
        out = findings_event(event)
        await self._publisher.publish(topics.FINDINGS, out.data.entity_id, out)
