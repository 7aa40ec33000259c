"""JSON Schema of every contract, and the committed snapshot that a test compares against.

Run ``laboursight-schemas`` after a deliberate contract change to refresh the snapshot.
"""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from .disclosure import Disclosure, RecruiterDisclosure, SupplierDisclosure
from .envelope import (
    AlertEvent,
    FindingsEvent,
    RecruiterDisclosureEvent,
    SupplierDisclosureEvent,
)

SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "jsonschema"

MODELS: dict[str, type[BaseModel]] = {
    "supplier-disclosure.v1": SupplierDisclosure,
    "recruiter-disclosure.v1": RecruiterDisclosure,
    "event.supplier-disclosure-submitted.v1": SupplierDisclosureEvent,
    "event.recruiter-disclosure-submitted.v1": RecruiterDisclosureEvent,
    "event.findings-computed.v1": FindingsEvent,
    "event.alert-raised.v1": AlertEvent,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    schemas = {name: model.model_json_schema() for name, model in MODELS.items()}
    schemas["disclosure.v1"] = TypeAdapter(Disclosure).json_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SNAPSHOT_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (target / f"{name}.json").write_text(render(schema))
    print(f"wrote {len(json_schemas())} schemas to {target}")
