"""Ed25519 signatures over checkpoints (``laboursight_schemas.ledger.Checkpoint.text``)."""

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from laboursight_schemas.ledger import Checkpoint


class Signer:
    def __init__(self, private_key: str) -> None:
        """``private_key``: base64 of the raw 32 bytes."""
        try:
            raw = base64.b64decode(private_key, validate=True)
            self._key = Ed25519PrivateKey.from_private_bytes(raw)
        except ValueError as error:
            raise ValueError(f"LEDGER_SIGNING_KEY is not a base64 Ed25519 key: {error}") from None
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = base64.b64encode(public).decode()

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        signature = base64.b64encode(self._key.sign(checkpoint.text())).decode()
        return Checkpoint(
            checkpoint.tenant_id,
            checkpoint.day,
            checkpoint.seq,
            checkpoint.entry_hash,
            signature,
            self.public_key,
        )


def new_private_key() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return base64.b64encode(raw).decode()


def signed_by(checkpoint: Checkpoint, public_key: str) -> bool:
    """Whether ``public_key`` (base64, raw) signed ``checkpoint``."""
    if checkpoint.signature is None:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.text())
    except (InvalidSignature, ValueError):
        return False
    return True
