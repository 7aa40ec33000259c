"""The api's settings: the shared ones plus the limits of the HTTP edge and of the outbox."""

from pathlib import Path

from pydantic import Field, SecretStr

from laboursight_runtime.settings import Settings


class ApiSettings(Settings):
    # Processes serving the HTTP port (``service.serve``); each also runs the background work,
    # which is safe with several (leases and conditional writes, as with several replicas).
    api_workers: int = Field(default=1, ge=1)
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    api_retry_after_s: int = Field(default=5, ge=1)
    api_idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    # A reservation left pending this long belongs to a request that died mid-flight.
    api_idempotency_lock_s: float = Field(default=60.0, gt=0)
    # How long a verified key's stored document is reused before MongoDB is read again (0: never).
    api_key_cache_s: float = Field(default=10.0, ge=0)
    # How often a process writes when its keys were last used: one bulk write, off the requests.
    api_key_use_interval_s: float = Field(default=60.0, gt=0)
    # Requests a second per API key and per tenant, on average and at once (``rate_limits``),
    # per api process; a rate of 0 turns that limit off.
    api_rate_per_key: float = Field(default=100.0, ge=0)
    api_burst_per_key: int = Field(default=200, ge=1)
    api_rate_per_tenant: float = Field(default=500.0, ge=0)
    api_burst_per_tenant: int = Field(default=1000, ge=1)

    # The deadline of the MongoDB writes that accept a disclosure: acknowledged within it is a
    # 202, otherwise a 503, and a write that reaches MongoDB after it is void (``outbox``).
    api_write_timeout_s: float = Field(default=5.0, gt=0)
    # How far the api's clock may be from MongoDB's when a late write is judged void.
    api_clock_skew_s: float = Field(default=2.0, ge=0)
    # How long a publish to Kafka may wait for the acknowledgement; what is not acknowledged is
    # left to the relay, so this only bounds how long a record occupies the producer.
    api_publish_timeout_s: float = Field(default=5.0, gt=0)

    # The relay leaves a disclosure to the request that accepted it for this long after the
    # request's deadline, then publishes it if it is still unpublished.
    api_relay_delay_s: float = Field(default=5.0, ge=0)
    api_relay_interval_s: float = Field(default=1.0, gt=0)
    # A relay's claim on a batch; past it another replica may publish the batch again.
    api_relay_lease_s: float = Field(default=30.0, gt=0)
    api_relay_batch: int = Field(default=500, ge=1)

    # An accepted disclosure without findings this long after its publication is re-driven.
    api_screening_deadline_s: float = Field(default=300.0, gt=0)
    api_sweep_interval_s: float = Field(default=30.0, gt=0)

    # The consumer group that reads the dead-letter topics into `failed` statuses.
    api_dead_letter_group: str = Field(default="api-dead-letters", min_length=1)

    # Batch ingest (``batches``): an upload is kept as one MongoDB document until its lines are
    # processed, so its body stays well inside MongoDB's 16 MiB document limit.
    api_batch_max_lines: int = Field(default=10_000, ge=1)
    api_batch_max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1, le=15 * 1024 * 1024)
    # How long a batch and its line results are kept; within it, the same upload is the same batch.
    api_batch_ttl_s: int = Field(default=7 * 24 * 3600, ge=3600)
    # A replica's claim on a batch it processes; past it another replica resumes the batch.
    api_batch_lease_s: float = Field(default=30.0, gt=0)
    # How often a replica looks for batches left unfinished (by a replica that died).
    api_batch_poll_s: float = Field(default=2.0, gt=0)

    # Cases (``case_routes``): how often a replica publishes the case events a request left
    # unpublished (its claim on one is ``api_relay_lease_s``), and how often it looks for cases
    # past their due date.
    api_case_relay_interval_s: float = Field(default=1.0, gt=0)
    api_case_overdue_interval_s: float = Field(default=60.0, gt=0)

    # The dashboard (``dashboard``): the key its session cookies are signed with (unset: a
    # random one per process, so sessions end when it restarts and work only on the process
    # that signed them: set it when running several), how long a session lasts, and where the
    # rule sets' method documents and the replay reports it shows are (unset: the method
    # documents of this checkout, and no replay reports).
    api_session_secret: SecretStr | None = None
    api_session_hours: float = Field(default=8.0, gt=0, le=24 * 7)
    api_method_dir: Path | None = None
    api_replay_reports_dir: Path | None = None
