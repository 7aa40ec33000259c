"""The case workflow: an alert triaged or dismissed, a case changed, a case reported overdue.

Each operation reads what it needs, lets the domain (``cases_domain``) decide, stores the new
state with its event in one write (``case_store``) and hands the event to the publisher
(``case_relay``). A change that lost a race with another (the write is conditional on the
revision it read) is decided again on the new state, a few times; one made on an explicit
``revision`` is refused instead, as the caller asked.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from laboursight_schemas.cases import AlertDismissed, CaseChanged

from . import cases_domain
from .case_events import alert_dismissed, case_changed, pending
from .case_relay import CasePublisher
from .case_settings import CaseSettingsStore
from .case_store import (
    AlreadyDecided,
    CaseStore,
    Decision,
    case_of,
    dismissal_id,
    stored_time,
)
from .cases_domain import Case, Change, Triaged

Document = dict[str, Any]
# Conditional writes lost to other changes of the same case before giving up (409).
_ATTEMPTS: Final = 5


class Unknown(Exception):
    """No such alert or case in the caller's tenant."""


class Decided(Exception):
    """The alert is in a case already, or dismissed."""


class Contended(Exception):
    """Other changes of the case kept coming first."""


@dataclass(frozen=True)
class Triage:
    alert_id: str
    case_id: str | None
    owner: str | None
    comment: str | None


class Cases:
    def __init__(
        self,
        store: CaseStore,
        settings: CaseSettingsStore,
        publisher: CasePublisher,
        now: Callable[[], datetime],
        new_id: Callable[[], str],
    ) -> None:
        self._store = store
        self._settings = settings
        self._publisher = publisher
        self._now = now
        self._new_id = new_id

    async def triage(self, tenant_id: str, triage: Triage, actor: str) -> tuple[str, bool]:
        """(the case id, whether the case is new). Raises Unknown, Decided, Contended and the
        domain's errors."""
        alert = await self._store.alert(tenant_id, triage.alert_id)
        if alert is None:
            raise Unknown(f"no alert {triage.alert_id!r}")
        if triage.case_id is not None:
            await self._add(tenant_id, triage, alert, actor)
            return triage.case_id, False
        at = stored_time(self._now())
        case, change = cases_domain.open_case(
            self._new_id(),
            tenant_id,
            alert,
            owner=triage.owner,
            comment=triage.comment,
            actor=actor,
            at=at,
            due=await self._settings.due_days(tenant_id),
        )
        entry = self._entry(case, change)
        try:
            await self._store.open(case, change, entry, self._publisher.lease_until(at))
        except AlreadyDecided:
            raise decided(
                alert.alert_id, await self._store.decision(tenant_id, alert.alert_id)
            ) from None
        self._publisher.offer(case.case_id, [entry])
        return case.case_id, True

    async def dismiss(
        self, tenant_id: str, alert_id: str, reason: str, actor: str
    ) -> AlertDismissed:
        alert = await self._store.alert(tenant_id, alert_id)
        if alert is None:
            raise Unknown(f"no alert {alert_id!r}")
        at = stored_time(self._now())
        dismissed = AlertDismissed(
            alert_id=alert_id,
            entity_kind=alert.entity_kind,
            entity_id=alert.entity_id,
            reason=reason,
            actor=actor,
            at=at,
        )
        event_id, record = alert_dismissed(tenant_id, alert.correlation_id, dismissed)
        entry = pending(event_id, record)
        try:
            await self._store.dismiss(tenant_id, dismissed, entry, self._publisher.lease_until(at))
        except AlreadyDecided:
            raise decided(alert_id, await self._store.decision(tenant_id, alert_id)) from None
        self._publisher.offer(dismissal_id(tenant_id, alert_id), [entry])
        return dismissed

    async def change(self, tenant_id: str, case_id: str, change: Change, actor: str) -> None:
        """Raises Unknown, Contended and the domain's errors."""
        due = await self._settings.due_days(tenant_id)

        def decide(case: Case, at: datetime) -> tuple[Case, CaseChanged]:
            return cases_domain.apply(case, change, actor=actor, at=at, due=due)

        await self._decide(tenant_id, case_id, decide)

    async def report_overdue(self, limit: int = 100) -> int:
        """Report every case past a due date not reported yet; returns how many this call
        reported (another api process may report some of them first)."""
        reported = 0
        while True:
            at = stored_time(self._now())
            due = await self._store.past_due(at, limit)
            done = 0
            for case in due:
                report = cases_domain.overdue(case, at)
                if report is not None and await self._save(*report, at):
                    done += 1
            reported += done
            if len(due) < limit or not done:
                return reported

    async def _add(self, tenant_id: str, triage: Triage, alert: Triaged, actor: str) -> None:
        assert triage.case_id is not None
        # Said first, whatever else is wrong; the unique index still decides a race.
        decision = await self._store.decision(tenant_id, alert.alert_id)
        if decision is not None:
            raise decided(alert.alert_id, decision)
        due = await self._settings.due_days(tenant_id)

        def decide(case: Case, at: datetime) -> tuple[Case, CaseChanged]:
            return cases_domain.add_alert(
                case, alert, comment=triage.comment, actor=actor, at=at, due=due
            )

        try:
            await self._decide(tenant_id, triage.case_id, decide)
        except (AlreadyDecided, cases_domain.InCase):
            raise decided(
                alert.alert_id, await self._store.decision(tenant_id, alert.alert_id)
            ) from None

    async def _decide(
        self,
        tenant_id: str,
        case_id: str,
        decide: Callable[[Case, datetime], tuple[Case, CaseChanged]],
    ) -> None:
        for _ in range(_ATTEMPTS):
            document = await self._store.load(tenant_id, case_id)
            if document is None:
                raise Unknown(f"no case {case_id!r}")
            at = stored_time(self._now())
            if await self._save(*decide(case_of(document), at), at):
                return
        raise Contended(f"case {case_id} kept changing meanwhile; try again")

    async def _save(self, case: Case, change: CaseChanged, at: datetime) -> bool:
        entry = self._entry(case, change)
        if not await self._store.save(case, change, entry, self._publisher.lease_until(at)):
            return False
        self._publisher.offer(case.case_id, [entry])
        return True

    def _entry(self, case: Case, change: CaseChanged) -> Document:
        return pending(*case_changed(case.tenant_id, case.correlation_id, change))


def decided(alert_id: str, decision: Decision | None) -> Decided:
    """The refusal of an alert in a case or dismissed (``decision``: which, when it is known)."""
    if decision is None:
        return Decided(f"alert {alert_id} is in a case or dismissed already")
    if decision.case_id is None:
        return Decided(f"alert {alert_id} was dismissed")
    return Decided(f"alert {alert_id} is in case {decision.case_id} already")
