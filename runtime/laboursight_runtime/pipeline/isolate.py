"""The handle step: the batch handler over a batch, retried when the infrastructure fails, and
bisected when an event does, so that only the events that fail alone become dead letters."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from laboursight_runtime import logs
from laboursight_runtime.dead_letters import DeadLetter
from laboursight_runtime.failures import is_transient

from .handler import Decoded, EventT, RecordsHandler
from .retry import Retry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Isolated:
    """``dead``: the events that failed alone, in offset order. ``rewind_at``: the offset of the
    first event whose effect is not known to be durable (a transient failure outlasted the retry
    budget), or ``None`` when every event was handled or dead-lettered."""

    dead: list[DeadLetter] = field(default_factory=list)
    rewind_at: int | None = None


async def handle_isolating(
    items: Sequence[Decoded[EventT]], handle: RecordsHandler[EventT], retry: Retry
) -> Isolated:
    """Handle ``items`` (in offset order, not empty).

    Guarantees: every event before ``rewind_at`` that is not in ``dead`` was handled, its effect
    durable; an event is dead-lettered only after failing, alone, with a non-transient error; the
    halves of a failed batch are handled left then right, so effects keep offset order.
    """
    try:
        if len(items) == 1:
            token = logs.correlation_id.set(items[0].event.correlation_id)
            try:
                await retry(lambda: handle(items[:1]))
            finally:
                logs.correlation_id.reset(token)
        else:
            await retry(lambda: handle(items))
    except Exception as error:
        if is_transient(error):
            log.warning(
                "transient failure outlasted the retry budget, batch rewound",
                extra={"error": repr(error), "offset": items[0].record.offset},
            )
            return Isolated(rewind_at=items[0].record.offset)
        if len(items) == 1:
            return Isolated(dead=[DeadLetter(items[0].record, error, "handle")])
        middle = len(items) // 2
        left = await handle_isolating(items[:middle], handle, retry)
        if left.rewind_at is not None:
            return left
        right = await handle_isolating(items[middle:], handle, retry)
        return Isolated(left.dead + right.dead, right.rewind_at)
    return Isolated()
