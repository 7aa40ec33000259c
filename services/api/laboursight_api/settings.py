"""The api's settings: the shared ones plus the limits of the HTTP edge."""

from pydantic import Field

from laboursight_runtime.settings import Settings


class ApiSettings(Settings):
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # How long a submitter waits for Kafka before a 503; the producer may still deliver later,
    # which is why a retry carrying the same Idempotency-Key republishes the same event id.
    api_publish_timeout_s: float = Field(default=5.0, gt=0)
    api_retry_after_s: int = Field(default=5, ge=1)
    api_idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    # A reservation left pending this long belongs to a request that died mid-flight.
    api_idempotency_lock_s: float = Field(default=60.0, gt=0)
