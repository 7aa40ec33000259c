"""Session fixtures; how the servers are found or started lives in tests/infra.py."""

import contextlib
from collections.abc import Iterator

import pytest

from tests.infra import Infra, InfraUnavailable, Route, start_infra
from tests.own_broker import OwnBroker


@pytest.fixture(scope="session")
def infra(pytestconfig: pytest.Config) -> Iterator[Infra]:
    """A Kafka-protocol broker and a MongoDB replica set with every topic created."""
    with contextlib.ExitStack() as stack:
        route = _start(stack)
        _show(pytestconfig, route.describe())
        yield route.infra


def _start(stack: contextlib.ExitStack) -> Route:
    try:
        return start_infra(stack)
    except InfraUnavailable as exc:
        problem = str(exc)
    # Outside the except block, so the report shows the reasons once, without a chained traceback.
    pytest.fail(problem, pytrace=False)


def _show(config: pytest.Config, line: str) -> None:
    # Fixture output is captured; the route must be visible in every run, failing or not.
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture
def own_broker() -> Iterator[OwnBroker]:
    """A broker of the test's own, to kill and start again empty (``tests.own_broker``)."""
    broker = OwnBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()
