"""Kafka topic names: the major schema version is part of the name (DESIGN.md, Kafka contract)."""

from typing import Final

SUPPLIER_DISCLOSURES: Final = "disclosures.supplier.v1"
RECRUITER_DISCLOSURES: Final = "disclosures.recruiter.v1"
FINDINGS: Final = "findings.v1"
ALERTS: Final = "alerts.v1"
CASES: Final = "cases.v1"
DELIVERY_REQUESTS: Final = "deliveries.requests.v1"

DLQ_SUFFIX: Final = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"
