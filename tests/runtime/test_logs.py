"""Every line a service logs is JSON with an RFC 3339 UTC time and no ANSI codes: ours, uvicorn's
and FastStream's (whose loggers print coloured text of their own otherwise)."""

import json
import logging
import re
from collections.abc import Iterator

import pytest
from faststream.kafka import KafkaBroker

from laboursight_runtime import logs

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """``configure`` rewires the process's loggers; the tests after this one get them back."""
    names = ["", *(n for n in logging.root.manager.loggerDict if n.startswith("faststream"))]
    saved = {
        n: (
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).propagate,
            logging.getLogger(n).level,
        )
        for n in names
    }
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.propagate, logger.level = handlers, propagate, level


def test_every_line_is_json_with_a_utc_time_and_no_colours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # FastStream sets up its loggers when it is imported and when a broker is made.
    KafkaBroker("127.0.0.1:9", logger=logging.getLogger("faststream.test"))
    logs.configure("test")
    token = logs.correlation_id.set("d-1")
    try:
        logging.getLogger("faststream").info("FastStream app starting...")
        logging.getLogger("faststream.test").info("Consumer assigned to partitions")
        logging.getLogger("uvicorn.error").info(
            "Started server process [%d]",
            7,
            extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
        )
    finally:
        logs.correlation_id.reset(token)

    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 3
    assert "\x1b" not in captured.err
    for line in lines:
        record = json.loads(line)
        assert RFC3339_UTC.match(record["time"]), record["time"]
        assert (record["service"], record["correlation_id"]) == ("test", "d-1")
        assert "color_message" not in record
    assert json.loads(lines[2])["message"] == "Started server process [7]"
