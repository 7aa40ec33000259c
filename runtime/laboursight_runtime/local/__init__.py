"""Embedded development servers: a real Kafka-protocol broker and MongoDB on loopback."""

from .servers import LocalServers, LocalServersError

__all__ = ["LocalServers", "LocalServersError"]
