"""Which failures are the infrastructure's (retried, never dead-lettered) and which are final."""

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
    UnknownError,
)
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from laboursight_runtime.failures import is_transient


def labelled(label: str) -> OperationFailure:
    return OperationFailure("write failed", code=91, details={"errorLabels": [label]})


@pytest.mark.parametrize(
    "error",
    [
        UnknownError(),  # what the broker answers for its own faults (the broker stall)
        RequestTimedOutError(),
        NotLeaderForPartitionError(),
        KafkaConnectionError("no broker"),
        KafkaTimeoutError(),
        AutoReconnect("mongod unreachable"),
        labelled("RetryableWriteError"),
        labelled("TransientTransactionError"),
    ],
    ids=type,
)
def test_infrastructure_failures_are_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        MessageSizeTooLargeError(),
        DuplicateKeyError("E11000"),
        OperationFailure("bad"),
        ValueError("a bug"),
        OverflowError("MongoDB can only handle up to 8-byte ints"),
    ],
    ids=type,
)
def test_other_failures_are_final(error: BaseException) -> None:
    assert not is_transient(error)
