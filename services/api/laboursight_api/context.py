"""What the routes need, wired once by ``create_app`` and found on the application state."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pymongo.asynchronous.database import AsyncDatabase

from .bus import EventBus
from .disclosure_store import DisclosureStore
from .findings_view import FindingsView
from .keys import KeyCache
from .outbox import Timing
from .publishing import Handoff
from .rate_limits import RateLimits
from .settings import ApiSettings
from .withdrawals import Withdrawals


@dataclass(frozen=True)
class Context:
    settings: ApiSettings
    db: AsyncDatabase[dict[str, Any]]
    bus: EventBus
    timing: Timing
    disclosures: DisclosureStore
    findings: FindingsView
    handoff: Handoff
    withdrawals: Withdrawals
    keys: KeyCache
    limits: RateLimits


async def context(request: Request) -> Context:
    # Async although it awaits nothing: FastAPI runs a plain function in a worker thread.
    found: Context = request.app.state.context
    return found
