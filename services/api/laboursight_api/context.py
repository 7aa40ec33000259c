"""What the routes need, wired once by ``create_app`` and found on the application state."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pymongo.asynchronous.database import AsyncDatabase

from .bus import EventBus
from .settings import ApiSettings


@dataclass(frozen=True)
class Context:
    settings: ApiSettings
    db: AsyncDatabase[dict[str, Any]]
    bus: EventBus


def context(request: Request) -> Context:
    found: Context = request.app.state.context
    return found
