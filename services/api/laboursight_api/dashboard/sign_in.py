"""Signing in with an API key (checked as the JSON api checks a Bearer key) and out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from laboursight_api.keys import authenticate

from . import csrf
from .access import SIGN_IN, Ctx, PageRoute, Refusal, form_of, render, signed_in
from .session import COOKIE, PATH
from .wiring import Dashboard, dashboard

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Board = Annotated[Dashboard, Depends(dashboard)]


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _form(request: Request, board: Dashboard, *, status: int, error: str | None) -> Response:
    """The sign-in form, with a new pre-session cookie its CSRF token is bound to."""
    nonce = csrf.sign_in_nonce()
    answer = render(
        request,
        "sign_in.html",
        viewer=None,
        status=status,
        csrf_token=csrf.sign_in_token(board.sessions, nonce),
        error=error,
    )
    _cookie(answer, request, csrf.SIGN_IN_COOKIE, nonce, 3600)
    return answer


@router.get(SIGN_IN, response_class=HTMLResponse)
async def sign_in_page(request: Request, board: Board) -> Response:
    if await signed_in(request) is not None:
        return RedirectResponse(PATH, status_code=303)
    return _form(request, board, status=200, error=None)


@router.post(SIGN_IN, response_class=HTMLResponse)
async def sign_in(request: Request, board: Board, ctx: Ctx) -> Response:
    form = await form_of(request)
    nonce = request.cookies.get(csrf.SIGN_IN_COOKIE)
    if nonce is None or not csrf.matches(
        form.get(csrf.FIELD), csrf.sign_in_token(board.sessions, nonce)
    ):
        raise Refusal(
            403,
            "Form expired",
            "The sign-in form's security token is missing or wrong; open the sign-in page again.",
        )
    principal = await authenticate(ctx.keys, form.get("api_key", "").strip())
    key = None if principal is None else ctx.keys.kept(principal.key_id)
    if principal is not None and key is None:
        key = await ctx.keys.load(principal.key_id)
    if key is None:
        return _form(
            request,
            board,
            status=401,
            error="That API key is unknown, revoked or expired. Check it and try again.",
        )
    answer = RedirectResponse(PATH, status_code=303)
    _cookie(answer, request, COOKIE, board.sessions.issue(key), board.sessions.lifetime_s)
    answer.delete_cookie(csrf.SIGN_IN_COOKIE, path=PATH)
    return answer


@router.post(f"{PATH}/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request) -> Response:
    viewer = await signed_in(request)
    if viewer is not None:
        form = await form_of(request)
        if not csrf.matches(form.get(csrf.FIELD), viewer.csrf):
            raise Refusal(403, "Form expired", "Reload the page and sign out again.")
    answer = RedirectResponse(SIGN_IN, status_code=303)
    answer.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
    return answer
