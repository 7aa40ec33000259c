"""What the ledger reads of a record: its envelope, whatever event of ours it carries.

The ledger keeps the bytes as they were read; of the event it needs only the attributes that
place it (id, tenant, correlation id). It does not judge ``data``, nor keep it: an event another
service can read is recorded, whichever type or version it is, and a record that is no envelope
at all (``data`` not a JSON object included) is a dead letter.
"""

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from laboursight_schemas.envelope import Envelope
from laboursight_schemas.upcasting import LEGACY_ATTRIBUTES, UnreadableEvent


class Opaque(BaseModel):
    """An event's ``data``: a JSON object, read past and not kept. The ledger records the bytes,
    so the payload as Python objects too would only take memory (several times its size, for
    every event of a batch at once)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


Recorded = Envelope[Opaque]


def read_envelope(raw: bytes) -> Recorded:
    """The envelope in ``raw``, with the attribute names of schema 1.0 read as today's.

    Raises ``UnreadableEvent`` or ``ValidationError`` (both ``ValueError``): a dead letter.
    """
    try:
        return Recorded.model_validate_json(raw)
    except ValidationError:
        try:
            document: Any = json.loads(raw)
        except ValueError as error:
            raise UnreadableEvent(f"not JSON: {error}") from error
        if not isinstance(document, dict):
            raise UnreadableEvent("an event is a JSON object") from None
        renamed = {LEGACY_ATTRIBUTES.get(name, name): value for name, value in document.items()}
        return Recorded.model_validate(renamed)
