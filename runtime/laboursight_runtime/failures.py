"""The line between a failure worth retrying and one that is final."""

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NotEnoughReplicasError
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    NotPrimaryError,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

TRANSIENT = (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    NotPrimaryError,
    ServerSelectionTimeoutError,
    WTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NotEnoughReplicasError,
)


def is_transient(exc: BaseException) -> bool:
    """True when the same attempt may succeed later: the infrastructure failed, not the message."""
    if isinstance(exc, TRANSIENT):
        return True
    return isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError")
