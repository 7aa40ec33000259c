"""Where the tests find Kafka and MongoDB; the same tests run on every route (DESIGN.md).

In order of preference: servers named by KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI; Apache Kafka
and MongoDB in containers when a Docker engine answers; the embedded tansu and mongod.

The containers' images: LABOURSIGHT_TEST_MONGO_IMAGE (default mongo:7) and, in place of Apache
Kafka, tansu when LABOURSIGHT_TEST_TANSU_IMAGE names its image (`make test-containers` passes
the stand-ins of `make images`). LABOURSIGHT_TEST_ROUTE=testcontainers allows that route only:
its failure fails the run instead of falling back to the embedded servers.
"""

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from laboursight_runtime.local import LocalServers, LocalServersError
from laboursight_runtime.local.servers import free_ports
from laboursight_runtime.settings import Settings
from laboursight_runtime.topics import create_topics

TUNING_VARIABLES = (
    "KAFKA_IDEMPOTENT_PRODUCER",
    "KAFKA_SESSION_TIMEOUT_MS",
    "KAFKA_HEARTBEAT_INTERVAL_MS",
    "KAFKA_FETCH_MAX_WAIT_MS",
)
_READY_TIMEOUT = 30.0
ROUTE_VARIABLE = "LABOURSIGHT_TEST_ROUTE"
TANSU_IMAGE_VARIABLE = "LABOURSIGHT_TEST_TANSU_IMAGE"
MONGO_IMAGE_VARIABLE = "LABOURSIGHT_TEST_MONGO_IMAGE"
_TUNING = {
    "KAFKA_SESSION_TIMEOUT_MS": "2000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "KAFKA_FETCH_MAX_WAIT_MS": "10",
}


class Infra(Protocol):
    @property
    def kafka_bootstrap_servers(self) -> str: ...

    @property
    def mongodb_uri(self) -> str: ...

    def environment(self) -> dict[str, str]: ...


class InfraUnavailable(Exception):
    """No route gave the tests a broker and a database; the message says why for each route."""


@dataclass(frozen=True)
class Route:
    name: str
    infra: Infra
    start_seconds: float

    def describe(self) -> str:
        return (
            f"infra: {self.name}, ready in {self.start_seconds:.2f} s: "
            f"kafka {self.infra.kafka_bootstrap_servers}, mongodb {self.infra.mongodb_uri}"
        )


@dataclass(frozen=True)
class _Servers:
    kafka_bootstrap_servers: str
    mongodb_uri: str
    tuning: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "MONGODB_URI": self.mongodb_uri,
            # The tests' webhook receivers listen on loopback, which production refuses.
            "OUTBOUND_ALLOW_LOOPBACK": "true",
            **self.tuning,
        }


def start_infra(stack: contextlib.ExitStack) -> Route:
    """Start (or find) the servers; everything started is stopped when `stack` closes."""
    started = time.monotonic()
    only = os.environ.get(ROUTE_VARIABLE, "")
    if only not in ("", "testcontainers"):
        raise InfraUnavailable(f"{ROUTE_VARIABLE}={only!r}: the only value is testcontainers")
    given = None if only else _given_servers()
    if given is not None:
        return Route("servers from the environment", given, time.monotonic() - started)
    failures = ["environment: KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI are not set"]

    docker_problem = _docker_problem()
    if docker_problem is None:
        try:
            infra = _start_containers(stack)
            return Route("testcontainers", infra, time.monotonic() - started)
        except Exception as exc:  # any failure here leaves the local route to try
            failures.append(f"testcontainers: {exc!r}")
    else:
        failures.append(f"testcontainers: {docker_problem}")
    if only:
        raise InfraUnavailable(f"{ROUTE_VARIABLE}={only}, but {failures[-1]}")

    started = time.monotonic()
    try:
        servers = stack.enter_context(LocalServers())
        return Route("embedded tansu + mongod", servers, time.monotonic() - started)
    except LocalServersError as exc:
        failures.append(f"embedded tansu + mongod: {exc}")
    raise InfraUnavailable("no Kafka and MongoDB for the tests:\n- " + "\n- ".join(failures))


def _given_servers() -> _Servers | None:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongodb = os.environ.get("MONGODB_URI")
    if not kafka and not mongodb:
        return None
    if not (kafka and mongodb):
        # Half a configuration is a mistake; starting other servers would hide it.
        raise InfraUnavailable(
            "set both KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI, or neither "
            f"(KAFKA_BOOTSTRAP_SERVERS={kafka!r}, MONGODB_URI={mongodb!r})"
        )
    tuning = {name: os.environ[name] for name in TUNING_VARIABLES if name in os.environ}
    servers = _Servers(kafka, mongodb, tuning)
    try:
        _provision(servers, Settings().kafka_replication_factor)
    except Exception as exc:
        raise InfraUnavailable(
            f"KAFKA_BOOTSTRAP_SERVERS={kafka!r} and MONGODB_URI={mongodb!r} are set, but the "
            f"servers do not answer: {exc!r} (unset both to let the tests start servers)"
        ) from exc
    return servers


def _provision(servers: Infra, replication_factor: int = 1) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(
        servers.mongodb_uri, serverSelectionTimeoutMS=int(_READY_TIMEOUT * 1000)
    )
    with client:
        client.admin.command("ping")
    asyncio.run(
        asyncio.wait_for(
            create_topics(servers.kafka_bootstrap_servers, replication_factor), _READY_TIMEOUT
        )
    )


def _docker_problem() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception as exc:  # the SDK raises several unrelated types when no engine answers
        return f"no Docker engine answers ({exc})"
    return None


def _start_containers(stack: contextlib.ExitStack) -> Infra:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    with contextlib.ExitStack() as containers:
        tansu_image = os.environ.get(TANSU_IMAGE_VARIABLE)
        if tansu_image:
            kafka_bootstrap_servers = _start_tansu(containers, tansu_image)
            # tansu cannot run the idempotent producer (INFRA-NOTES.md).
            tuning = {"KAFKA_IDEMPOTENT_PRODUCER": "false", **_TUNING}
        else:
            kafka_bootstrap_servers = _start_kafka(containers)
            tuning = {"KAFKA_IDEMPOTENT_PRODUCER": "true", **_TUNING}
        mongo = containers.enter_context(
            DockerContainer(os.environ.get(MONGO_IMAGE_VARIABLE, "mongo:7"))
            .with_command("--replSet rs0 --bind_ip_all")
            .with_exposed_ports(27017)
            .waiting_for(LogMessageWaitStrategy("Waiting for connections"))
        )
        # The replica set names the container's own address, unreachable from here, so the
        # tests talk to the one node directly.
        host, port = mongo.get_container_host_ip(), mongo.get_exposed_port(27017)
        mongodb_uri = f"mongodb://{host}:{port}/?directConnection=true"
        _initiate_replica_set(mongodb_uri)
        servers = _Servers(kafka_bootstrap_servers, mongodb_uri, tuning)
        _provision(servers)
        stack.enter_context(containers.pop_all())
    return servers


def _start_kafka(containers: contextlib.ExitStack) -> str:
    from testcontainers.community.kafka import KafkaContainer

    # Apache Kafka refuses session timeouts under 6 s by default; lowering the floor lets
    # every route run with the short session the tests use to join groups quickly.
    kafka = containers.enter_context(
        KafkaContainer().with_kraft().with_env("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "1000")
    )
    return str(kafka.get_bootstrap_server())


def _start_tansu(containers: contextlib.ExitStack, image: str) -> str:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    # tansu advertises the address it is given, which must be the one the tests dial: a host
    # port chosen here, published on the engine's host (a local engine: this machine).
    (port,) = free_ports(1)
    advertised = f"tcp://127.0.0.1:{port}"
    containers.enter_context(
        DockerContainer(image)
        .with_command(
            "broker --listener-url tcp://0.0.0.0:9092 "
            f"--advertised-listener-url {advertised} --storage-engine memory://tansu/"
        )
        .with_bind_ports(9092, port)
        .waiting_for(LogMessageWaitStrategy("ready in"))
    )
    return f"127.0.0.1:{port}"


def _initiate_replica_set(mongodb_uri: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    with client:
        client.admin.command("replSetInitiate")
        deadline = time.monotonic() + _READY_TIMEOUT
        while not client.admin.command("hello").get("isWritablePrimary"):
            if time.monotonic() > deadline:
                raise PyMongoError(f"MongoDB at {mongodb_uri} did not become primary")
            time.sleep(0.1)
