"""The line between a failure worth retrying and one that is final.

Transient means the infrastructure failed, not the message: the same attempt may succeed later,
so it is retried and rewound, never dead-lettered. Broker faults count as transient when
aiokafka marks them ``retriable``, and also the broker's ``UnknownError`` (error code -1): a
broker answers it for faults on its side (tansu does while its storage fails), never for a bad
record, so dead-lettering on it would throw good messages away during a broker fault.
"""

from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NotEnoughReplicasError,
    UnknownError,
)
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    NotPrimaryError,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)


class Contended(Exception):
    """A write lost a race with another writer's, again and again: it clears as they finish, so
    it is retried and rewound like any infrastructure fault, never dead-lettered."""


TRANSIENT = (
    Contended,
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    NotPrimaryError,
    ServerSelectionTimeoutError,
    WTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NotEnoughReplicasError,
    UnknownError,
)

_TRANSIENT_LABELS = ("TransientTransactionError", "RetryableWriteError")


def is_transient(exc: BaseException) -> bool:
    """True when the same attempt may succeed later: the infrastructure failed, not the message."""
    if isinstance(exc, TRANSIENT):
        return True
    if isinstance(exc, KafkaError):
        return bool(exc.retriable)
    return isinstance(exc, PyMongoError) and any(map(exc.has_error_label, _TRANSIENT_LABELS))
