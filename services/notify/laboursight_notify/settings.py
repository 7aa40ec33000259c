"""Notify's own settings, from ``NOTIFY_*`` variables; an empty variable means the default."""

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import wait_random_exponential

from .circuits import Circuits
from .retries import RetryPolicy


class NotifySettings(BaseSettings):
    """How webhook deliveries are retried, paced and guarded.

    ``attempt_timeout_s`` must be shorter than ``lease_s``, so a claim outlives the attempt it
    covers and no other dispatcher sends the same delivery meanwhile.
    """

    model_config = SettingsConfigDict(env_prefix="NOTIFY_", env_ignore_empty=True, extra="ignore")

    # How long a delivery is retried after it was recorded; past it, the delivery is dead.
    retry_horizon_s: float = Field(default=24 * 3600.0, ge=0)
    # Full-jitter exponential backoff: the n-th retry waits uniformly up to first * 2^(n-1), capped.
    retry_first_wait_s: float = Field(default=1.0, ge=0)
    retry_max_wait_s: float = Field(default=600.0, ge=0)
    # Consecutive failed attempts that open an endpoint's circuit, and how long it stays open.
    circuit_failures: int = Field(default=5, ge=1)
    circuit_cooldown_s: float = Field(default=30.0, ge=0)
    # Attempts in flight in this process, and to any one endpoint.
    concurrency: int = Field(default=64, ge=1)
    endpoint_concurrency: int = Field(default=16, ge=1)
    attempt_timeout_s: float = Field(default=10.0, gt=0)
    lease_s: float = Field(default=30.0, gt=0)
    # How often the queue is read without a wake-up: retries, and other replicas' new work.
    poll_interval_s: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _lease_covers_an_attempt(self) -> "NotifySettings":
        if self.attempt_timeout_s >= self.lease_s:
            raise ValueError("NOTIFY_ATTEMPT_TIMEOUT_S must be shorter than NOTIFY_LEASE_S")
        return self

    @property
    def retry_horizon(self) -> timedelta:
        return timedelta(seconds=self.retry_horizon_s)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            wait=wait_random_exponential(
                multiplier=self.retry_first_wait_s, max=self.retry_max_wait_s
            ),
        )

    def circuits(self) -> Circuits:
        return Circuits(
            failures_to_open=self.circuit_failures,
            cooldown=timedelta(seconds=self.circuit_cooldown_s),
            max_in_flight=self.endpoint_concurrency,
        )
