"""Screening submitted disclosures: run the engine, publish one FindingsComputed event each.

Idempotent without state: the findings event id derives from the disclosure event id, the
rule-set version and the reference-data edition, so a redelivered disclosure republishes the
same event, which downstream consumers recognise.
"""

from collections.abc import Sequence
from typing import Any

from laboursight_runtime import tracing
from laboursight_runtime.kafka import BatchPublisher
from laboursight_schemas import topics
from laboursight_schemas.disclosure import SupplierDisclosure
from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    FINDINGS_COMPUTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    derived_event_id,
    now,
)
from laboursight_schemas.findings import Contradiction, Finding, FindingsComputed
from laboursight_schemas.reference import ReferenceData

from .chain import chain_links
from .engine import CompiledRuleSet, screen
from .watchlists.edition import Watchlist

SOURCE = "/laboursight/screening"

DisclosureEvent = Envelope[SupplierDisclosureSubmitted] | Envelope[RecruiterDisclosureSubmitted]


def findings_event(
    event: DisclosureEvent,
    rules: CompiledRuleSet,
    reference: ReferenceData,
    watchlists: Sequence[Watchlist] = (),
) -> Envelope[FindingsComputed]:
    """The findings of ``event``'s disclosure; a rule set that screens watchlists screens it
    against ``watchlists`` (the event id does not depend on them: one screening per
    disclosure, rule set and reference edition)."""
    disclosure = event.data.disclosure
    result = screen(disclosure, rules, reference, watchlists)
    party = (
        disclosure.supplier if isinstance(disclosure, SupplierDisclosure) else disclosure.recruiter
    )
    return Envelope[FindingsComputed](
        id=derived_event_id("findings", event.id, rules.version, reference.edition),
        type=FINDINGS_COMPUTED,
        data_version=DATA_VERSIONS[FINDINGS_COMPUTED],
        source=SOURCE,
        time=now(),
        tenant_id=event.tenant_id,
        correlation_id=event.correlation_id,
        **tracing.for_event(event.id),
        data=FindingsComputed(
            disclosure_id=event.data.disclosure_id,
            disclosure_event_id=event.id,
            entity_kind=disclosure.kind,
            entity_id=disclosure.entity_id,
            period=disclosure.period,
            rule_set_version=rules.version,
            rule_set_hash=rules.content_hash,
            reference_data_edition=reference.edition,
            findings=[Finding.model_validate(f, from_attributes=True) for f in result.findings],
            judgement=result.judgement,
            chain=chain_links(disclosure),
            entity_name=party.name,
            entity_country=party.country,
            entity_workforce=disclosure.workforce.total_workers
            if isinstance(disclosure, SupplierDisclosure)
            else None,
            context=None
            if result.context is None
            else [Finding.model_validate(f, from_attributes=True) for f in result.context],
            contradictions=None
            if result.contradictions is None
            else [
                Contradiction(
                    rule_id=c.rule_id,
                    fields=list(c.fields),
                    values=list(c.values),
                    explanation=c.explanation,
                    assessed=c.assessed,
                )
                for c in result.contradictions
            ],
            watchlists=None if result.watchlists is None else list(result.watchlists),
        ),
    )


class Screener:
    """A batch handler (``laboursight_runtime.pipeline.BatchHandler``): screens every disclosure
    of the batch, then publishes all the findings at once and returns when the broker has
    acknowledged every one. An engine error on one disclosure fails the batch, and the pipeline
    isolates that disclosure; findings already published for the others are published again,
    with the same event ids."""

    def __init__(
        self,
        publisher: BatchPublisher,
        rules: CompiledRuleSet,
        reference: ReferenceData,
        watchlists: Sequence[Watchlist] = (),
    ) -> None:
        self._publisher = publisher
        self._rules = rules
        self._reference = reference
        self._watchlists = tuple(watchlists)

    async def __call__(self, events: Sequence[Envelope[Any]]) -> None:
        outgoing = [
            findings_event(event, self._rules, self._reference, self._watchlists)
            for event in events
        ]
        await self._publisher.publish_all(
            [(topics.FINDINGS, out.data.entity_id, out) for out in outgoing]
        )
