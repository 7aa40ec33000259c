"""Who is looking at a page, and whether they may: the api's roles and tenant, from a session.

A page or an action is admitted for exactly the roles ``rights`` admits for every JSON
operation it shows or performs (``page("read alerts")``), so the dashboard can show a key
nothing its key could not read over HTTP. Without a session a page answers 303 to the sign-in
page; a role that may not answers a 403 page; an action without its CSRF token a 403 page. A
refusal is raised from anywhere in a request (``Refusal``) and answered as a page by
``PageRoute``.
"""

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from laboursight_api.context import Context, context
from laboursight_api.keys import Principal, Role
from laboursight_api.rights import Operation, roles

from . import csrf
from .session import COOKIE, PATH
from .wiring import Dashboard, dashboard

SIGN_IN: str = f"{PATH}/sign-in"


def admitted(*operations: Operation) -> tuple[Role, ...]:
    """The roles admitted to every one of ``operations``."""
    return reduce(
        lambda kept, op: tuple(r for r in kept if r in roles(op)),
        operations[1:],
        roles(operations[0]),
    )


@dataclass(frozen=True)
class Viewer:
    """A signed-in key looking at the dashboard."""

    principal: Principal
    csrf: str

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    def may(self, *operations: Operation) -> bool:
        return self.principal.role in admitted(*operations)


class Refusal(Exception):
    """A request the dashboard answers with a page other than the one asked for."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        *,
        redirect: str | None = None,
        back: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message
        self.redirect, self.back = redirect, back


def not_found(what: str) -> Refusal:
    return Refusal(404, "Not found", f"There is no {what} here.")


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    board: Dashboard = request.app.state.dashboard
    page = board.templates.get_template(template).render(
        viewer=viewer, path=request.url.path, **values
    )
    return HTMLResponse(page, status_code=status, headers=NO_STORE)


# Pages hold a tenant's data: no cache may keep them.
NO_STORE: Mapping[str, str] = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}


class PageRoute(APIRoute):
    """A route whose refusals are pages: a redirect, or the error page with the viewer's nav."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Refusal as refusal:
                if refusal.redirect is not None:
                    return RedirectResponse(refusal.redirect, status_code=303)
                return render(
                    request,
                    "error.html",
                    viewer=getattr(request.state, "viewer", None),
                    status=refusal.status,
                    title=refusal.title,
                    message=refusal.message,
                    back=refusal.back,
                )

        return answer


async def signed_in(request: Request) -> Viewer | None:
    """The viewer of the request's session, if it has a sound one; 429 past its rate limit."""
    ctx: Context = await context(request)
    board = await dashboard(request)
    session = await board.sessions.resume(ctx.keys, request.cookies.get(COOKIE))
    if session is None:
        return None
    viewer = Viewer(session.principal, csrf.session_token(board.sessions, session.token))
    request.state.viewer = viewer
    wait = ctx.limits.retry_after(session.principal)
    if wait is not None:
        raise Refusal(429, "Too many requests", f"Too many requests; retry in {wait} s.")
    return viewer


def page(*operations: Operation) -> Callable[[Request], Awaitable[Viewer]]:
    """The viewer of a page that shows ``operations``."""
    allowed = admitted(*operations)

    async def viewer(request: Request) -> Viewer:
        found = await signed_in(request)
        if found is None:
            raise Refusal(303, "Sign in", "Sign in first.", redirect=SIGN_IN)
        if found.principal.role not in allowed:
            raise Refusal(
                403,
                "Not for this key",
                f"This page needs a key with role {' or '.join(allowed)}; "
                f"this key's role is {found.principal.role}.",
            )
        return found

    return viewer


@dataclass(frozen=True)
class Posted:
    viewer: Viewer
    form: dict[str, str]

    def text(self, name: str) -> str | None:
        """The field, stripped; None when absent or blank."""
        value = self.form.get(name, "").strip()
        return value or None


async def form_of(request: Request) -> dict[str, str]:
    """A form-encoded body (the body limit of the api applies); the last of repeated fields."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def action(*operations: Operation) -> Callable[[Request], Awaitable[Posted]]:
    """The viewer and form of a POST that performs ``operations``, its CSRF token checked."""
    viewer_of = page(*operations)

    async def posted(request: Request) -> Posted:
        viewer = await viewer_of(request)
        form = await form_of(request)
        if not csrf.matches(form.get(csrf.FIELD), viewer.csrf):
            raise Refusal(
                403,
                "Form expired",
                "The form's security token is missing or wrong; reload the page and send it again.",
            )
        return Posted(viewer, form)

    return posted


Ctx = Annotated[Context, Depends(context)]
