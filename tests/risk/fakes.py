"""An in-memory RiskStore with the same guarantees as the MongoDB one."""

from laboursight_risk.profile import Profile, entity_key
from laboursight_risk.store import Decide
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
        if event_id in self.processed:
            return
        self.processed.add(event_id)
        self.findings[(tenant_id, f"{computed.disclosure_id}:{computed.rule_set_version}")] = (
            computed
        )
        key = entity_key(tenant_id, computed.entity_kind, computed.entity_id)
        updated, alert = decide(self.profiles.get(key))
        if updated is not None:
            self.profiles[key] = updated
        if alert is not None:
            self.alerts[(tenant_id, alert.alert_id)] = (alert, event_id, False)

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
