"""Topic provisioning: every topic is created explicitly with its partition count.

Disclosure topics are the system of record that auditors replay, so they keep events forever.
"""

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from laboursight_schemas import topology

from .settings import Settings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


# The partition counts and retention are the Kafka contract's (laboursight_schemas.topology).
_CONTRACT: tuple[topology.Topic | topology.DeadLetterTopic, ...] = (
    *topology.TOPICS,
    *topology.DEAD_LETTER_TOPICS,
)
TOPICS: tuple[TopicSpec, ...] = tuple(
    TopicSpec(t.name, t.partitions, {name: str(value) for name, value in t.config.items()})
    for t in _CONTRACT
)


async def create_topics(bootstrap_servers: str, replication_factor: int = 1) -> list[str]:
    """Create every missing topic; returns the names created. Safe to run again."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in TOPICS if spec.name not in existing]
        if missing:
            # Another provisioner may win the race; the topics then exist, which is the goal.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            name=spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=replication_factor,
                            topic_configs=spec.config,
                        )
                        for spec in missing
                    ]
                )
        return [spec.name for spec in missing]
    finally:
        await admin.close()


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="laboursight-topics",
        description="Create every missing laboursight topic (and its .dlq) with its partition "
        "count; topics that exist are left alone, so it is safe to run again. Configured by "
        "the environment: KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092) and "
        "KAFKA_REPLICATION_FACTOR (default 1).",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    _arguments(argv)
    settings = Settings()
    servers = settings.kafka_bootstrap_servers
    # aiokafka logs each failed connection; the one line below says it all.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        created = asyncio.run(create_topics(servers, settings.kafka_replication_factor))
    except KafkaConnectionError:
        sys.exit(f"laboursight-topics: cannot reach Kafka at {servers}")
    except KafkaError as error:
        sys.exit(f"laboursight-topics: Kafka at {servers} refused the topics: {error}")
    print(f"created {len(created)} topic(s): {', '.join(created) or 'none missing'}")
