"""The ledger's settings beside every service's (``LEDGER_`` prefix)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    signing_key: SecretStr | None = Field(
        default=None,
        description="base64 of a 32-byte Ed25519 private key (`laboursight-ledger new-key`); "
        "without it checkpoints are recorded unsigned",
    )
    checkpoint_interval_s: float = Field(default=3600.0, gt=0)
