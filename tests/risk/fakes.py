"""An in-memory RiskStore with the same guarantees as the MongoDB one."""

from collections.abc import Collection
from functools import partial

from laboursight_risk.profile import Profile
from laboursight_risk.propagation import Decide, Outcome
from laboursight_risk.store import screening_id
from laboursight_schemas.collections import entity_key
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import AlertRaised, FindingsComputed


class InMemoryRiskStore:
    def __init__(self) -> None:
        self.processed: set[str] = set()
        self.findings: dict[tuple[str, str], FindingsComputed] = {}
        self.profiles: dict[str, Profile] = {}
        self.alerts: dict[tuple[str, str], tuple[AlertRaised, str, bool]] = {}

    async def record(
        self, tenant_id: str, event_id: str, computed: FindingsComputed, decide: Decide
    ) -> None:
        while event_id not in self.processed:
            read: dict[str, Profile | None] = {}
            outcome = await decide(partial(self._load, tenant_id, read))
            # Like a transaction's write-conflict check: a decision taken on profiles that
            # changed meanwhile is taken again.
            if event_id not in self.processed and all(
                self.profiles.get(k) is p for k, p in read.items()
            ):
                self._commit(tenant_id, event_id, computed, outcome)

    async def _load(
        self,
        tenant_id: str,
        read: dict[str, Profile | None],
        kind: EntityKind,
        ids: Collection[str],
    ) -> dict[str, Profile]:
        keys = {i: entity_key(tenant_id, kind, i) for i in ids}
        read.update({k: self.profiles.get(k) for k in keys.values()})
        return {i: self.profiles[k] for i, k in keys.items() if k in self.profiles}

    def _commit(
        self, tenant_id: str, event_id: str, computed: FindingsComputed, outcome: Outcome
    ) -> None:
        self.processed.add(event_id)
        self.findings[(tenant_id, screening_id(computed))] = computed
        for profile in outcome.profiles:
            self.profiles[entity_key(tenant_id, profile.entity_kind, profile.entity_id)] = profile
        for alert in outcome.alerts:
            self.alerts.setdefault((tenant_id, alert.alert_id), (alert, event_id, False))

    async def unpublished_alerts(self, tenant_id: str, source_event_id: str) -> list[AlertRaised]:
        return [
            alert
            for (tenant, _), (alert, source, published) in self.alerts.items()
            if tenant == tenant_id and source == source_event_id and not published
        ]

    async def mark_published(self, tenant_id: str, alert_id: str) -> None:
        alert, source, _ = self.alerts[(tenant_id, alert_id)]
        self.alerts[(tenant_id, alert_id)] = (alert, source, True)

    async def profile(self, tenant_id: str, entity_kind: str, entity_id: str) -> Profile | None:
        return self.profiles.get(entity_key(tenant_id, entity_kind, entity_id))
