"""Reads the dead-letter topics of disclosure events and marks those disclosures ``failed``.

At-least-once: offsets are committed only after MongoDB holds the status of every record read
before them, and marking is idempotent (a disclosure is failed once), so a redelivery changes
nothing. A transient MongoDB failure is retried until it passes, holding the offsets back; a
record that names no disclosure is counted (``laboursight_api_dead_letters_unmatched_total``)
and passed over. Replicas share the work through one consumer group (``api_dead_letter_group``).
Dead letters are rare and not urgent, so the consumer polls at the client's default pace
rather than the pipeline's low fetch wait.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from laboursight_runtime.failures import is_transient

from .disclosure_store import DisclosureStore
from .failures import DISCLOSURE_DEAD_LETTERS, failure_from
from .metrics import DEAD_LETTERS_UNMATCHED, FAILED
from .settings import ApiSettings

log = logging.getLogger(__name__)


class DeadLetterRecorder:
    def __init__(self, store: DisclosureStore, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now

    async def __call__(self, topic: str, value: bytes | None, headers: Mapping[str, str]) -> None:
        failure = failure_from(topic, value, headers, self._now())
        if failure is None:
            DEAD_LETTERS_UNMATCHED.labels(topic).inc()
            log.warning("a dead letter names no disclosure", extra={"topic": topic})
            return
        if await self._store.mark_failed(
            failure.tenant_id, failure.disclosure_id, failure.document()
        ):
            FAILED.labels(failure.stage).inc()
            log.warning(
                "disclosure failed",
                extra={"disclosure_id": failure.disclosure_id, "stage": failure.stage},
            )


async def read_dead_letters(settings: ApiSettings, record: DeadLetterRecorder) -> None:
    """Runs until cancelled; raises when Kafka fails, to be started again (``Background``)."""
    consumer = AIOKafkaConsumer(
        *DISCLOSURE_DEAD_LETTERS,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.kafka_client_id}-api-dead-letters",
        group_id=settings.api_dead_letter_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )
    try:
        await consumer.start()
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for records in batches.values():
                for found in records:
                    await _record_with_retries(record, found)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()


async def _record_with_retries(
    record: DeadLetterRecorder, found: "ConsumerRecord[Any, Any]"
) -> None:
    headers = {name: value.decode(errors="replace") for name, value in found.headers or ()}
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            reraise=True,
        ):
            with attempt:
                await record(found.topic, found.value, headers)
    except Exception:
        # A bug, not an outage: the disclosure stays accepted, so the sweeper re-drives it and
        # its next dead letter is tried again.
        log.exception(
            "could not record a dead letter",
            extra={"topic": found.topic, "offset": found.offset},
        )
