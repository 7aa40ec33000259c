"""What the dashboard's routes share, made once when the api starts (``lifespan``) and found
on the application state."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from jinja2 import Environment

from laboursight_api.context import Context

from .rendering import environment
from .session import Sessions, secret_of

# In a source checkout, the method documents ``make method`` keeps next to the rule sets.
CHECKOUT_METHOD: Final = Path(__file__).parents[3] / "screening" / "method"


@dataclass(frozen=True)
class Dashboard:
    sessions: Sessions
    templates: Environment
    method_dir: Path | None
    replay_reports_dir: Path | None


def dashboard_of(ctx: Context) -> Dashboard:
    settings = ctx.settings
    secret = settings.api_session_secret
    method = settings.api_method_dir
    if method is None and CHECKOUT_METHOD.is_dir():
        method = CHECKOUT_METHOD
    return Dashboard(
        sessions=Sessions(
            secret_of(None if secret is None else secret.get_secret_value()),
            settings.api_session_hours * 3600,
        ),
        templates=environment(),
        method_dir=method,
        replay_reports_dir=settings.api_replay_reports_dir,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the application's lifespan, once its wiring is on the state.
    app.state.dashboard = dashboard_of(app.state.context)
    yield


async def dashboard(request: Request) -> Dashboard:
    found: Dashboard = request.app.state.dashboard
    return found
