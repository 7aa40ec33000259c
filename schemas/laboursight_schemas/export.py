"""JSON Schema of every contract, and the committed snapshot that a test compares against.

Run ``laboursight-schemas`` after a deliberate contract change to refresh the snapshot.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from .cases import AlertDismissedEvent, CaseChangedEvent
from .disclosure import Disclosure, RecruiterDisclosure, SupplierDisclosure
from .envelope import (
    AlertEvent,
    AlertUpdatedEvent,
    FindingsEvent,
    RecruiterDisclosureEvent,
    RedeliveryRequestedEvent,
    SubscriptionTestRequestedEvent,
    SupplierDisclosureEvent,
)

SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "jsonschema"

# What submitters send: the api rejects unknown fields (input validation).
INPUTS: dict[str, type[BaseModel]] = {
    "supplier-disclosure.v1": SupplierDisclosure,
    "recruiter-disclosure.v1": RecruiterDisclosure,
}
# What services read from Kafka: readers ignore unknown fields, as minor versions only add.
EVENTS: dict[str, type[BaseModel]] = {
    "event.supplier-disclosure-submitted.v1": SupplierDisclosureEvent,
    "event.recruiter-disclosure-submitted.v1": RecruiterDisclosureEvent,
    "event.findings-computed.v1": FindingsEvent,
    "event.alert-raised.v1": AlertEvent,
    "event.alert-updated.v1": AlertUpdatedEvent,
    "event.case-changed.v1": CaseChangedEvent,
    "event.alert-dismissed.v1": AlertDismissedEvent,
    "event.redelivery-requested.v1": RedeliveryRequestedEvent,
    "event.subscription-test-requested.v1": SubscriptionTestRequestedEvent,
}


def open_schema(schema: Any) -> Any:
    """``schema`` without ``additionalProperties: false``: the shape a tolerant reader accepts."""
    if isinstance(schema, dict):
        return {
            key: open_schema(value)
            for key, value in schema.items()
            if not (key == "additionalProperties" and value is False)
        }
    if isinstance(schema, list):
        return [open_schema(item) for item in schema]
    return schema


def event_schema(model: type[BaseModel]) -> dict[str, Any]:
    opened: dict[str, Any] = open_schema(model.model_json_schema())
    return opened


def json_schemas() -> dict[str, dict[str, Any]]:
    schemas = {name: model.model_json_schema() for name, model in INPUTS.items()}
    schemas.update({name: event_schema(model) for name, model in EVENTS.items()})
    schemas["disclosure.v1"] = TypeAdapter(Disclosure).json_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="laboursight-schemas",
        description="Write the JSON Schema of every contract (disclosures and events), one file "
        "per contract. Run it after a deliberate contract change to refresh the committed "
        "snapshot that a test compares against.",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=SNAPSHOT_DIR,
        help=f"where to write the schemas (default: the committed snapshot, {SNAPSHOT_DIR})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    target: Path = _arguments(argv).folder
    schemas = json_schemas()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, schema in schemas.items():
            (target / f"{name}.json").write_text(render(schema))
    except OSError as error:
        sys.exit(f"laboursight-schemas: cannot write the schemas: {error}")
    print(f"wrote {len(schemas)} schemas to {target}")
