"""Who publishes what to which topic, and who reads it: the Kafka contract as data.

The AsyncAPI document (``asyncapi.py``) is generated from this module, and tests hold it to the
code: the consumer groups that each service's ``bootstrap`` really subscribes, the topics and
partition counts that ``laboursight-topics`` really creates, and the headers the dead-letter path
really writes. Change the code and this module together.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from pydantic import BaseModel

from . import topics
from .cases import AlertDismissedEvent, CaseChangedEvent
from .envelope import (
    ALERT_DISMISSED,
    ALERT_RAISED,
    ALERT_UPDATED,
    CASE_CHANGED,
    FINDINGS_COMPUTED,
    RECRUITER_DISCLOSURE_SUBMITTED,
    REDELIVERY_REQUESTED,
    SUBSCRIPTION_TEST_REQUESTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    AlertEvent,
    AlertUpdatedEvent,
    FindingsEvent,
    RecruiterDisclosureEvent,
    RedeliveryRequestedEvent,
    SubscriptionTestRequestedEvent,
    SupplierDisclosureEvent,
)

API: Final = "api"
SCREENING: Final = "screening"
RISK: Final = "risk"
NOTIFY: Final = "notify"
LEDGER: Final = "ledger"
SERVICES: Final = (API, SCREENING, RISK, NOTIFY, LEDGER)

# ``retention.ms`` / ``retention.bytes`` of -1: the topic keeps its records forever.
FOREVER: Final[Mapping[str, int]] = MappingProxyType({"retention.ms": -1, "retention.bytes": -1})


@dataclass(frozen=True)
class Message:
    """One kind of event on a topic: a CloudEvents ``type`` and the envelope model it decodes to."""

    name: str
    event_type: str
    model: type[BaseModel]
    title: str
    summary: str


@dataclass(frozen=True)
class Subscription:
    service: str
    group_id: str


def ledger_group(topic: str) -> str:
    return f"ledger-{topic}"


@dataclass(frozen=True)
class Topic:
    name: str
    channel_id: str
    title: str
    description: str
    key: str
    messages: tuple[Message, ...]
    publishers: tuple[str, ...]
    subscriptions: tuple[Subscription, ...]
    partitions: int
    config: Mapping[str, int] = field(default_factory=dict)
    # Operation ids: ``<service>.send<Noun>`` and ``<service>.receive<Nouns>``.
    noun: str = ""
    nouns: str = ""

    def __post_init__(self) -> None:
        # The auditors' ledger records every event on every topic: no topic can be added
        # without it, so its subscription is not left to each declaration to remember. A group
        # per topic, so that one topic's rebalance never pauses the others'.
        ledger = Subscription(LEDGER, ledger_group(self.name))
        if ledger not in self.subscriptions:
            object.__setattr__(self, "subscriptions", (*self.subscriptions, ledger))


@dataclass(frozen=True)
class DeadLetterTopic:
    """``<topic>.dlq``: what a consumer group of ``source`` could never process."""

    source: Topic
    partitions: int = 1
    config: Mapping[str, int] = field(default_factory=lambda: FOREVER)
    # Who reads the dead letters: the api marks a disclosure whose event or findings ended here
    # ``failed``, with a reason the submitter can read.
    readers: tuple[Subscription, ...] = ()

    @property
    def name(self) -> str:
        return topics.dead_letter_topic(self.source.name)

    @property
    def channel_id(self) -> str:
        return f"{self.source.channel_id}DeadLetters"

    @property
    def publishers(self) -> tuple[Subscription, ...]:
        """Every consumer group of the source topic dead-letters here."""
        return self.source.subscriptions


SUPPLIER_DISCLOSURE = Message(
    name="SupplierDisclosureSubmitted",
    event_type=SUPPLIER_DISCLOSURE_SUBMITTED,
    model=SupplierDisclosureEvent,
    title="Supplier disclosure submitted",
    summary="A supplier's disclosure about one factory site, accepted by the api.",
)
RECRUITER_DISCLOSURE = Message(
    name="RecruiterDisclosureSubmitted",
    event_type=RECRUITER_DISCLOSURE_SUBMITTED,
    model=RecruiterDisclosureEvent,
    title="Recruiter disclosure submitted",
    summary="A labour recruiter's disclosure about one recruitment agency, accepted by the api.",
)
FINDINGS = Message(
    name="FindingsComputed",
    event_type=FINDINGS_COMPUTED,
    model=FindingsEvent,
    title="Findings computed",
    summary="The findings, with evidence, and the judgement of one screened disclosure, with the "
    "rule-set version and hash and the reference-data edition that produced them.",
)
ALERT = Message(
    name="AlertRaised",
    event_type=ALERT_RAISED,
    model=AlertEvent,
    title="Alert raised",
    summary="A new alert for one (tenant, entity, reason): the entity's level rose to high or "
    "critical, a strong indicator appeared for it, or the forced-labour threshold was met.",
)
ALERT_UPDATE = Message(
    name="AlertUpdated",
    event_type=ALERT_UPDATED,
    model=AlertUpdatedEvent,
    title="Alert updated",
    summary="A later revision of an alert, whole: escalated, new evidence, resolved, reopened, "
    "triaged or dismissed. Its event id is new for every revision.",
)
REDELIVERY_REQUEST = Message(
    name="RedeliveryRequested",
    event_type=REDELIVERY_REQUESTED,
    model=RedeliveryRequestedEvent,
    title="Redelivery requested",
    summary="An analyst asked for a subscription's dead (or delivered) webhook deliveries, or "
    "one of them, to be sent again: notify makes them pending with a new retry horizon and the "
    "same webhook-id. Its event id is the request id.",
)
TEST_REQUEST = Message(
    name="SubscriptionTestRequested",
    event_type=SUBSCRIPTION_TEST_REQUESTED,
    model=SubscriptionTestRequestedEvent,
    title="Subscription test requested",
    summary="An analyst asked for a signed test event to be posted to a subscription's "
    "endpoint: notify records it as a delivery of its own (`<request id>:<subscription id>`) "
    "and attempts it once.",
)
CASE_CHANGE = Message(
    name="CaseChanged",
    event_type=CASE_CHANGED,
    model=CaseChangedEvent,
    title="Case changed",
    summary="One change to a case (opened, acknowledged, a CAP set, closed, overdue…) with the "
    "case's state after it; `revision` numbers a case's changes from 1, and its event id "
    "derives from the case id and the revision.",
)
ALERT_DISMISSAL = Message(
    name="AlertDismissed",
    event_type=ALERT_DISMISSED,
    model=AlertDismissedEvent,
    title="Alert dismissed",
    summary="An analyst dismissed an alert instead of opening a case, with the reason.",
)

TOPICS: Final[tuple[Topic, ...]] = (
    Topic(
        name=topics.SUPPLIER_DISCLOSURES,
        channel_id="supplierDisclosures",
        title="Supplier disclosures",
        description="Every accepted supplier disclosure: the system of record that auditors "
        "replay.",
        key="the supplier id (`data.disclosure.supplier.supplier_id`), UTF-8: ordering per "
        "supplier",
        messages=(SUPPLIER_DISCLOSURE,),
        publishers=(API,),
        subscriptions=(Subscription(SCREENING, "screening-supplier"),),
        partitions=6,
        config=FOREVER,
        noun="SupplierDisclosure",
        nouns="SupplierDisclosures",
    ),
    Topic(
        name=topics.RECRUITER_DISCLOSURES,
        channel_id="recruiterDisclosures",
        title="Recruiter disclosures",
        description="Every accepted recruiter disclosure: the system of record that auditors "
        "replay.",
        key="the recruiter id (`data.disclosure.recruiter.recruiter_id`), UTF-8: ordering per "
        "recruiter",
        messages=(RECRUITER_DISCLOSURE,),
        publishers=(API,),
        subscriptions=(Subscription(SCREENING, "screening-recruiter"),),
        partitions=6,
        config=FOREVER,
        noun="RecruiterDisclosure",
        nouns="RecruiterDisclosures",
    ),
    Topic(
        name=topics.FINDINGS,
        channel_id="findings",
        title="Findings",
        description="One FindingsComputed per screened disclosure, with a deterministic event id: "
        "a redelivered disclosure republishes the same event.",
        key="the screened entity's id (`data.entity_id`: a supplier or recruiter id), UTF-8",
        messages=(FINDINGS,),
        publishers=(SCREENING,),
        subscriptions=(Subscription(RISK, "risk"),),
        partitions=6,
        noun="Findings",
        nouns="Findings",
    ),
    Topic(
        name=topics.ALERTS,
        channel_id="alerts",
        title="Alerts",
        description="Alerts raised by the risk service from its MongoDB outbox, delivered to the "
        "tenants' webhooks by notify.",
        key="the alerted entity's id (`data.entity_id`), UTF-8",
        messages=(ALERT, ALERT_UPDATE),
        publishers=(RISK,),
        subscriptions=(Subscription(NOTIFY, "notify"),),
        partitions=3,
        noun="Alert",
        nouns="Alerts",
    ),
    Topic(
        name=topics.DELIVERY_REQUESTS,
        channel_id="deliveryRequests",
        title="Delivery requests",
        description="What analysts ask of the webhook deliveries through the api (redeliver, "
        "test-send), carried out by notify, the only writer of the delivery log.",
        key="the subscription id (`data.subscription_id`), UTF-8: one subscription's requests "
        "in order",
        messages=(REDELIVERY_REQUEST, TEST_REQUEST),
        publishers=(API,),
        subscriptions=(Subscription(NOTIFY, "notify-requests"),),
        partitions=3,
        noun="DeliveryRequest",
        nouns="DeliveryRequests",
    ),
    Topic(
        name=topics.CASES,
        channel_id="cases",
        title="Cases",
        description="Every change to an analyst's case and every dismissed alert, published by "
        "the api from its MongoDB outbox: kept forever, as the auditors' record of what was done "
        "about each alert. Risk sets the alerts' status from it.",
        key="the case id (`data.case_id`), or for a dismissal the alert id (`data.alert_id`), "
        "UTF-8: one case's changes in order",
        messages=(CASE_CHANGE, ALERT_DISMISSAL),
        publishers=(API,),
        subscriptions=(Subscription(RISK, "risk-cases"),),
        partitions=3,
        config=FOREVER,
        noun="CaseChange",
        nouns="CaseChanges",
    ),
)

API_DEAD_LETTERS: Final = Subscription(API, "api-dead-letters")
# The topics whose dead letters name a disclosure, which the api marks failed.
_DISCLOSURE_CHAIN: Final = (
    topics.SUPPLIER_DISCLOSURES,
    topics.RECRUITER_DISCLOSURES,
    topics.FINDINGS,
)
DEAD_LETTER_TOPICS: Final[tuple[DeadLetterTopic, ...]] = tuple(
    DeadLetterTopic(topic, readers=(API_DEAD_LETTERS,) if topic.name in _DISCLOSURE_CHAIN else ())
    for topic in TOPICS
)

# What ``laboursight_runtime.dead_letters.error_headers`` adds to the original headers.
DEAD_LETTER_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "dlq.error.type": "the exception's class name, e.g. `UnreadableEvent`",
        "dlq.error.message": "the exception's message (at most 2,000 characters)",
        "dlq.stage": "where processing failed, e.g. `decode` or `handle`",
        "dlq.source.topic": "the topic the record was read from",
        "dlq.source.partition": "its partition, in decimal",
        "dlq.source.offset": "its offset, in decimal",
        "dlq.consumer_group": "the consumer group that gave up on it",
        "dlq.time": "when it was dead-lettered, ISO 8601 in UTC",
    }
)


def topic_names() -> list[str]:
    """Every topic, dead-letter topics included."""
    return [t.name for t in TOPICS] + [d.name for d in DEAD_LETTER_TOPICS]
