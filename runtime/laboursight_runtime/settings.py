"""Process settings, read from the environment (12-factor); every service uses the same names."""

from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .outbound import IPNetwork, OutboundPolicy

# The OTLP/HTTP receiver's default address (OpenTelemetry's exporter specification).
OTLP_DEFAULT_ENDPOINT: Final = "http://localhost:4318"


def _comma_separated(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


class Settings(BaseSettings):
    """Connection and tuning settings shared by every service.

    The defaults suit a production Apache Kafka; the local launcher exports the values that
    suit the embedded tansu broker (no idempotent producer, short fetch wait and session).
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # tansu cannot run the idempotent producer (INFRA-NOTES.md); Apache Kafka can and should.
    kafka_idempotent_producer: bool = True
    kafka_fetch_max_wait_ms: int = Field(default=10, ge=0)
    # The wait once a consumer has seen no record for kafka_idle_after_s (pipeline.pace): 500
    # halves the idle stack's fetches against 250 (issue 8), at up to ~1 s per hop after a lull.
    kafka_idle_fetch_max_wait_ms: int = Field(default=500, ge=0)
    kafka_idle_after_s: float = Field(default=5.0, ge=0)
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_client_id: str = "laboursight"

    mongodb_uri: str = "mongodb://127.0.0.1:27017/?replicaSet=rs0"
    mongodb_database: str = "laboursight"

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = "INFO"

    # Where webhooks may go besides public addresses (``outbound``): nowhere by default.
    outbound_allow_loopback: bool = False
    # A comma-separated list of networks, e.g. ``10.1.0.0/16,fd12::/48``.
    outbound_allowed_networks: Annotated[
        tuple[IPNetwork, ...], NoDecode, BeforeValidator(_comma_separated)
    ] = ()

    # Tracing (``tracing``), under OpenTelemetry's own variable names: off unless
    # OTEL_TRACES_EXPORTER is ``otlp``, or is unset while an OTLP endpoint is given.
    otel_traces_exporter: Literal["", "otlp", "none"] = ""
    otel_exporter_otlp_endpoint: str = ""
    otel_exporter_otlp_traces_endpoint: str = ""
    otel_sdk_disabled: bool = False

    def outbound_policy(self) -> OutboundPolicy:
        return OutboundPolicy(self.outbound_allow_loopback, self.outbound_allowed_networks)

    def traces_endpoint(self) -> str | None:
        """Where spans are sent (OTLP over HTTP, protobuf), or ``None``: tracing is off.

        As OpenTelemetry's exporters read the variables: the traces endpoint as given, else the
        general endpoint with ``/v1/traces``, else ``http://localhost:4318/v1/traces``.
        """
        exporter = self.otel_traces_exporter
        if self.otel_sdk_disabled or exporter == "none":
            return None
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if exporter == "otlp" or self.otel_exporter_otlp_endpoint:
            base = self.otel_exporter_otlp_endpoint or OTLP_DEFAULT_ENDPOINT
            return base.rstrip("/") + "/v1/traces"
        return None
