"""Reading an event that any earlier version of any service wrote (upcast on read).

The disclosure topics are kept forever and replayed for years, so a reader must accept:

- the envelope of schema 1.0 and 1.1, whose extension attributes had names CloudEvents 1.0
  forbids (``tenant_id``, ``correlation_id``, ``schema_version``): renamed on read;
- an older ``dataversion`` of its type: upcast step by step to the current one;
- a newer minor version, or any field it does not know: the unknown fields are ignored, since
  minor versions only add.

Every (type, version) ever published has a golden payload in ``schemas/golden/``; a test reads
each with the current code.
"""

import json
from collections.abc import Callable
from typing import Any, Final, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from .cases import AlertDismissed, CaseChanged
from .delivery_requests import RedeliveryRequested, SubscriptionTestRequested
from .envelope import (
    ALERT_DISMISSED,
    ALERT_RAISED,
    ALERT_UPDATED,
    CASE_CHANGED,
    DATA_VERSIONS,
    FINDINGS_COMPUTED,
    RECRUITER_DISCLOSURE_SUBMITTED,
    REDELIVERY_REQUESTED,
    SUBSCRIPTION_TEST_REQUESTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
)
from .findings import AlertRaised, AlertUpdated, FindingsComputed

EnvelopeT = TypeVar("EnvelopeT", bound=Envelope[Any])
Readable: TypeAlias = type[EnvelopeT] | tuple[type[EnvelopeT], ...]
"""The event model a reader expects, or the models of every type its topic carries."""
Document = dict[str, Any]
Upcaster = Callable[[Document], Document]

EVENT_TYPES: Final[dict[type[BaseModel], str]] = {
    SupplierDisclosureSubmitted: SUPPLIER_DISCLOSURE_SUBMITTED,
    RecruiterDisclosureSubmitted: RECRUITER_DISCLOSURE_SUBMITTED,
    FindingsComputed: FINDINGS_COMPUTED,
    AlertRaised: ALERT_RAISED,
    AlertUpdated: ALERT_UPDATED,
    CaseChanged: CASE_CHANGED,
    AlertDismissed: ALERT_DISMISSED,
    RedeliveryRequested: REDELIVERY_REQUESTED,
    SubscriptionTestRequested: SUBSCRIPTION_TEST_REQUESTED,
}

LEGACY_ATTRIBUTES: Final = {
    "tenant_id": "tenantid",
    "correlation_id": "correlationid",
    "schema_version": "dataversion",
}


class UnreadableEvent(ValueError):
    """The bytes are not an event of the expected type that any version of ours wrote."""


def _unchanged(data: Document) -> Document:
    return data


def _findings_1_0_to_1_1(data: Document) -> Document:
    """1.1 added the rule set's content hash, the recruitment chain and each finding's edition.

    Events of 1.0 were screened before reference-data editions existed, hence ``none``.
    """
    findings = [{"reference_data_edition": "none", **f} for f in data.get("findings", [])]
    return {"rule_set_hash": None, "chain": [], **data, "findings": findings}


# (type, version) → (the next version, what turns data of the first into data of the next).
UPCASTERS: Final[dict[tuple[str, str], tuple[str, Upcaster]]] = {
    (SUPPLIER_DISCLOSURE_SUBMITTED, "1.0"): ("1.1", _unchanged),
    (RECRUITER_DISCLOSURE_SUBMITTED, "1.0"): ("1.1", _unchanged),
    # 1.2 added the payers worker_family and lender, and fees_reimbursed_pct (optional).
    (SUPPLIER_DISCLOSURE_SUBMITTED, "1.1"): ("1.2", _unchanged),
    (RECRUITER_DISCLOSURE_SUBMITTED, "1.1"): ("1.2", _unchanged),
    # Supplier 1.3 added the workforce's young-worker signals (youngest ages, under-18s in
    # hazardous or night work, the hazard), the fee category bribe (both kinds), and the
    # supplier's and recruiter's aliases and address (what a watchlist screening matches), each
    # optional.
    (SUPPLIER_DISCLOSURE_SUBMITTED, "1.2"): ("1.3", _unchanged),
    # Recruiter 1.3 moves with supplier 1.3: both kinds share one contract version.
    (RECRUITER_DISCLOSURE_SUBMITTED, "1.2"): ("1.3", _unchanged),
    (FINDINGS_COMPUTED, "1.0"): ("1.1", _findings_1_0_to_1_1),
    # 1.2 added the entity's name and country, each defaulting to null.
    (FINDINGS_COMPUTED, "1.1"): ("1.2", _unchanged),
    # 1.3 added the judgement's dimensions, elements and contradictions, and the event's
    # context and contradictions (rule sets that judge per dimension), each absent by default.
    (FINDINGS_COMPUTED, "1.2"): ("1.3", _unchanged),
    # 1.4 added the indicators child_labour, hazardous_work_by_children and
    # bribery_in_recruitment (rule set 2026.12.0), and the watchlist screening: the context
    # indicator watchlist_match with its finding's `watchlist` (list, edition, entry, score,
    # matched fields) and the event's `watchlists` screened, each absent by default.
    (FINDINGS_COMPUTED, "1.3"): ("1.4", _unchanged),
    (ALERT_RAISED, "1.0"): ("1.1", _unchanged),
    # 1.2 added the alert type, its reason codes and the country, each with a default.
    (ALERT_RAISED, "1.1"): ("1.2", _unchanged),
    # 1.3 (and updates 1.1) added the alert type watchlist_review.
    (ALERT_RAISED, "1.2"): ("1.3", _unchanged),
    # 1.4 (and updates 1.2) added the alert type source_contradiction, the reason subject
    # source_contradiction and the reason's supplier_id (null by default).
    (ALERT_RAISED, "1.3"): ("1.4", _unchanged),
    (ALERT_UPDATED, "1.0"): ("1.1", _unchanged),
    (ALERT_UPDATED, "1.1"): ("1.2", _unchanged),
}


def event_type_of(model: type[Envelope[Any]]) -> str:
    """The CloudEvents ``type`` an envelope model carries, e.g. ``FindingsEvent`` → findings."""
    data = model.model_fields["data"].annotation
    if not isinstance(data, type) or data not in EVENT_TYPES:
        raise TypeError(f"{model.__name__} is not an envelope of a published event type")
    return EVENT_TYPES[data]


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        raise UnreadableEvent(f"dataversion {text!r} is not a version number") from None


def read_event(raw: bytes | str, model: Readable[EnvelopeT]) -> EnvelopeT:
    """The event in ``raw`` as ``model``, whichever version of ours wrote it. Given several
    models, the one of the event's ``type``.

    Raises ``UnreadableEvent`` or pydantic's ``ValidationError`` (both ``ValueError``) when the
    bytes cannot be such an event; that is final, so the caller dead-letters it.
    """
    if isinstance(model, tuple):
        model = _of_type(raw, model)
    expected = event_type_of(model)
    try:
        event = model.model_validate_json(raw, extra="ignore")
    except ValidationError:
        # Not today's shape: an older one perhaps. Upcasting decides, and explains a failure.
        return _read_upcast(raw, model, expected)
    if event.type != expected:
        raise UnreadableEvent(f"type is {event.type!r}, expected {expected!r}")
    if _version(event.data_version) < _version(DATA_VERSIONS[expected]):
        return _read_upcast(raw, model, expected)
    return event


class _Typed(BaseModel):
    type: str


def _of_type(raw: bytes | str, models: tuple[type[EnvelopeT], ...]) -> type[EnvelopeT]:
    try:
        kind = _Typed.model_validate_json(raw, extra="ignore").type
    except ValidationError as error:
        raise UnreadableEvent(f"no event type: {error.errors()[0]['msg']}") from error
    for model in models:
        if event_type_of(model) == kind:
            return model
    expected = ", ".join(repr(event_type_of(m)) for m in models)
    raise UnreadableEvent(f"type is {kind!r}, expected one of {expected}")


def _read_upcast(raw: bytes | str, model: type[EnvelopeT], expected: str) -> EnvelopeT:
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise UnreadableEvent(f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise UnreadableEvent("an event is a JSON object")
    document = upcast(document, expected)
    return model.model_validate(document, extra="ignore")


def upcast(document: Document, expected: str) -> Document:
    """``document`` with today's attribute names and its ``data`` at today's version."""
    document = {LEGACY_ATTRIBUTES.get(name, name): value for name, value in document.items()}
    if document.get("type") != expected:
        raise UnreadableEvent(f"type is {document.get('type')!r}, expected {expected!r}")
    version = document.get("dataversion")
    if not isinstance(version, str):
        raise UnreadableEvent("dataversion is missing")
    current = DATA_VERSIONS[expected]
    data = document.get("data")
    while _version(version) < _version(current):
        step = UPCASTERS.get((expected, version))
        if step is None:
            raise UnreadableEvent(f"no upcaster from {expected} {version}")
        if not isinstance(data, dict):
            raise UnreadableEvent("data is not a JSON object")
        version, upcaster = step[0], step[1]
        data = upcaster(data)
    return {**document, "dataversion": version, "data": data}
