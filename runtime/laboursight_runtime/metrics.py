"""Prometheus metrics every consumer reports, labelled by topic (and consumer group)."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "laboursight_messages_total",
    "Records a consumer finished with, by outcome (processed, dead_lettered, rewound)",
    ["topic", "outcome"],
)
BATCH_RECORDS = Histogram(
    "laboursight_batch_records",
    "Records in one partition's batch as the handler received it",
    ["topic"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
BATCH_SECONDS = Histogram(
    "laboursight_batch_seconds",
    "Time from receiving a fetched batch to committing it, all its partitions together",
    ["topic"],
)
DEAD_LETTERS = Counter(
    "laboursight_dead_letters_total",
    "Records sent to the dead-letter topic, by the step that could not take them",
    ["topic", "group", "stage"],
)
TRANSIENT_FAILURES = Counter(
    "laboursight_transient_failures_total",
    "Attempts that failed because the infrastructure did (retried, never dead-lettered)",
    ["topic", "group"],
)
HALTED = Gauge(
    "laboursight_consumer_halted",
    "1 while a consumer is halted by its dead-letter guard",
    ["topic", "group"],
)
CONSUMER_LAG = Gauge(
    "laboursight_consumer_lag",
    "Records of a partition not yet finished with: its high watermark at the last fetch minus "
    "the offset the group goes on from, after each batch; removed when the partition moves",
    ["group", "topic", "partition"],
)
LOG_RESETS = Counter(
    "laboursight_log_resets_total",
    "Partitions read again from their start because the broker's log restarted behind the consumer",
    ["topic"],
)
