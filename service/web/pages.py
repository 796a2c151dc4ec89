"""The pages people use: sign in, my tasks, a cycle and its moves, the inbox.

Like the JSON routes, a page only parses, calls one use case and renders its result; access
is the use cases' decision. Pages are sent with `Cache-Control: no-store` (they hold
confidential content) and a Content-Security-Policy that allows no inline script.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from engine.access import Principal
from engine.diagram_svg import STYLE_CSP_SOURCE
from engine.errors import (
    AccessDenied,
    CycleClosed,
    NotFound,
    PeerloopError,
    RequirementsUnmet,
    RoleNotAllowed,
    StaleCycle,
    TransitionNotAvailable,
)
from service.auth import TooManyAttempts, Unauthenticated
from service.routes.common import PathId
from service.usecases import UseCases
from service.usecases.messages import (
    CyclePage,
    FireTransition,
    ListNotifications,
    MarkNotificationsRead,
    MyTasks,
    Navigation,
)
from service.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_HOURS,
    csrf_for,
    new_login_csrf,
    same,
)
from service.web.view import size_in_words

__all__ = ["PAGE_ROUTES", "SECURITY_HEADERS", "error_page"]

_log = structlog.get_logger("peerloop.web")

SECURITY_HEADERS = {
    # The workflow diagram's one <style> is allowed by its hash; no other inline style or script.
    "Content-Security-Policy": (
        f"default-src 'self'; script-src 'self'; style-src 'self' {STYLE_CSP_SOURCE}; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
ChosenForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A form whose checkboxes may repeat a name: a value, or a list of them (`chosen`)."""


def chosen(form: dict[str, Any], name: str) -> list[str]:
    """The values ticked under `name` (none, one or several)."""
    raw = form.get(name, [])
    return [str(v) for v in (raw if isinstance(raw, list) else [raw]) if v]


class SignInNeeded(Exception):
    """No (valid) session: the person is sent to sign in, and back here afterwards."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path
        super().__init__(next_path)


class BadForm(Exception):
    """A form that did not come from our page (a missing or wrong CSRF token)."""


def _ws(request: Request[Any, Any, Any]) -> UseCases:
    ws: UseCases = request.app.state["workspace"]
    return ws


def _secure(request: Request[Any, Any, Any]) -> bool:
    setting = request.app.state.get("secure_cookies")
    return bool(setting) if setting is not None else request.url.scheme == "https"


def _viewer(request: Request[Any, Any, Any]) -> tuple[Principal, str]:
    """The signed-in person and their session secret."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise SignInNeeded(request.url.path)
    try:
        principal = _ws(request).authenticate(f"Bearer {secret}")
    except Unauthenticated as exc:
        raise SignInNeeded(request.url.path) from exc
    return principal, secret


def _check_csrf(form: dict[str, str], secret: str) -> None:
    if not same(form.get("csrf"), csrf_for(secret)):
        raise BadForm


def _page(
    request: Request[Any, Any, Any],
    name: str,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name=name,
        context={"path": request.url.path, **context},
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
        cookies=cookies or [],
    )


def _local(next_path: str | None) -> str:
    """Only a path of ours is followed after sign-in (no open redirect)."""
    if not next_path:
        return "/app"
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/app"):
        return "/app"
    return parts.path


def _chrome(request: Request[Any, Any, Any], principal: Principal, secret: str) -> dict[str, Any]:
    """What every signed-in page shows: who, the CSRF token, the unread count."""
    signposts = _ws(request).handle(Navigation(), principal)
    return {
        "me": principal.person,
        "csrf": csrf_for(secret),
        "unread": signposts.unread,
        "max_upload": request.app.state.get("max_upload_bytes"),
        "nav_network": signposts.networks,
        "nav_admin": signposts.admin,
    }


# -- signing in and out -------------------------------------------------------------------


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/app", status_code=303)


def _login_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    """The sign-in form's double-submit CSRF cookie (there is no session yet)."""
    return Cookie(
        key=LOGIN_CSRF_COOKIE,
        value=token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/app/sign-in",
        max_age=3600,
    )


@get("/app/sign-in", include_in_schema=False, sync_to_thread=False)
def sign_in_form(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
    token = new_login_csrf()
    cookie = _login_cookie(request, token)
    return _page(
        request, "sign_in.html", cookies=[cookie], csrf=token, next=_local(next), errors=[]
    )


@post("/app/sign-in", include_in_schema=False, sync_to_thread=True, status_code=303)
def sign_in(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    email = (data.get("email") or "").strip()
    password = data.get("password") or ""
    next_path = _local(data.get("next"))
    errors = []
    if not same(data.get("csrf"), expected):
        errors.append(
            ("email", "The sign-in form had expired: enter your email and password again")
        )
    if not email:
        errors.append(("email", "Enter your email address"))
    if not password:
        errors.append(("password", "Enter your password"))
    wait = 0
    if not errors:
        client = request.client.host if request.client else None
        try:
            _, secret = _ws(request).login(
                email, password, SESSION_HOURS, "web session", client=client
            )
        except TooManyAttempts as exc:
            wait = exc.retry_after_seconds
            errors.append(("email", f"Too many wrong passwords: try again in {_wait_words(wait)}"))
        except Unauthenticated:
            errors.append(("email", "The email address or password is not right"))
        else:
            _end_earlier_session(request)
            session = Cookie(
                key=SESSION_COOKIE,
                value=secret,
                httponly=True,
                samesite="lax",
                secure=_secure(request),
                path="/",
                max_age=SESSION_HOURS * 3600,
            )
            gone = Cookie(key=LOGIN_CSRF_COOKIE, value="", path="/app/sign-in", max_age=0)
            return Redirect(path=next_path, status_code=303, cookies=[session, gone])
    token = new_login_csrf()
    cookie = _login_cookie(request, token)
    status = 429 if wait else 401 if errors and errors[0][1].startswith("The email") else 400
    return _page(
        request,
        "sign_in.html",
        status=status,
        cookies=[cookie],
        headers={"Retry-After": str(wait)} if wait else None,
        csrf=token,
        next=next_path,
        errors=errors,
        email=email,
    )


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' * (minutes != 1)}"


def _end_earlier_session(request: Request[Any, Any, Any]) -> None:
    """A browser signing in again gets a new session; the one it had stops working."""
    earlier = request.cookies.get(SESSION_COOKIE)
    if not earlier:
        return
    with contextlib.suppress(Unauthenticated):  # it had expired or was revoked already
        _ws(request).sign_out(_ws(request).authenticate(f"Bearer {earlier}"))


@post("/app/sign-out", include_in_schema=False, sync_to_thread=True, status_code=303)
def sign_out(request: Request[Any, Any, Any], data: Form) -> Redirect:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    _ws(request).sign_out(principal)
    gone = Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0)
    return Redirect(path="/app/sign-in?signed_out=1", status_code=303, cookies=[gone])


# -- my tasks and the inbox ---------------------------------------------------------------


@get("/app", include_in_schema=False, sync_to_thread=True)
def my_tasks(request: Request[Any, Any, Any]) -> Template:
    principal, secret = _viewer(request)
    tasks = _ws(request).handle(MyTasks(), principal)
    return _page(request, "tasks.html", tasks=tasks, **_chrome(request, principal, secret))


@get("/app/notifications", include_in_schema=False, sync_to_thread=True)
def notifications(request: Request[Any, Any, Any]) -> Template:
    principal, secret = _viewer(request)
    inbox = _ws(request).handle(ListNotifications(False, 100), principal)
    return _page(request, "inbox.html", inbox=inbox, **_chrome(request, principal, secret))


@post("/app/notifications/read", include_in_schema=False, sync_to_thread=True, status_code=303)
def read_notifications(request: Request[Any, Any, Any], data: Form) -> Redirect:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    _ws(request).handle(MarkNotificationsRead(None), principal)
    return Redirect(path="/app/notifications", status_code=303)


# -- a cycle and its moves ----------------------------------------------------------------


def _cycle_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    secret: str,
    cycle_id: str,
    status: int = 200,
    **extra: Any,
) -> Template:
    page = _ws(request).handle(CyclePage(cycle_id), principal)
    return _page(
        request,
        "cycle.html",
        status=status,
        page=page,
        moved=request.query_params.get("moved"),
        signed=request.query_params.get("signed"),
        started=request.query_params.get("started"),
        joined=request.query_params.get("joined"),
        left=request.query_params.get("left"),
        **_chrome(request, principal, secret),
        **extra,
    )


@get("/app/cycles/{cycle_id:str}", include_in_schema=False, sync_to_thread=True)
def cycle(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    principal, secret = _viewer(request)
    return _cycle_page(request, principal, secret, cycle_id)


@get(
    "/app/cycles/{cycle_id:str}/moves/{transition:str}",
    include_in_schema=False,
    sync_to_thread=True,
)
def confirm_move(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    transition: PathId,
    version: FromQuery[int],
    seen: FromQuery[int] = 0,
) -> Template:
    """Are you sure? Before a move that ends the cycle (the page links here, not to the POST)."""
    principal, secret = _viewer(request)
    page = _ws(request).handle(CyclePage(cycle_id), principal)
    option = next((o for o in page.moves if o.transition == transition), None)
    if option is None:
        raise NotFound("move", transition)
    return _page(
        request,
        "confirm_move.html",
        page=page,
        option=option,
        version=version,
        seen=seen,
        **_chrome(request, principal, secret),
    )


@post(
    "/app/cycles/{cycle_id:str}/moves/{transition:str}",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def make_move(
    request: Request[Any, Any, Any], cycle_id: PathId, transition: PathId, data: Form
) -> Response[Any]:
    return move(request, cycle_id, transition, data)


def move(
    request: Request[Any, Any, Any],
    cycle_id: str,
    transition: str,
    data: dict[str, str],
    when_blocked: Callable[[RequirementsUnmet], Response[Any]] | None = None,
) -> Response[Any]:
    """Make a move sent from a page; `when_blocked` shows the page it was sent from with what
    must be true first (the cycle page does, by default)."""
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    try:
        version = int(data.get("version", ""))
        seen = int(data.get("seen", "0"))
    except ValueError:
        raise BadForm from None
    try:
        _ws(request).handle(FireTransition(cycle_id, transition, version), principal)
    except StaleCycle:
        return _cycle_page(request, principal, secret, cycle_id, 409, conflict_after=seen)
    except RequirementsUnmet as exc:
        if when_blocked is not None:
            return when_blocked(exc)
        reasons = [r.message for r in exc.reasons]
        return _cycle_page(
            request, principal, secret, cycle_id, 409, blocked=transition, reasons=reasons
        )
    except (TransitionNotAvailable, CycleClosed, RoleNotAllowed) as exc:
        return _cycle_page(
            request, principal, secret, cycle_id, 409, blocked=transition, reasons=[str(exc)]
        )
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}?moved={quote(transition)}", status_code=303
    )


# -- errors as pages ----------------------------------------------------------------------


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInNeeded):
        return Redirect(path=f"/app/sign-in?next={quote(exc.next_path)}", status_code=303)
    if isinstance(exc, BadForm):
        status, title = 400, "This form had expired"
        text = "Go back, reload the page and try again."
    elif isinstance(exc, NotFound):
        status, title = 404, "Page not found"
        text = (
            "There is nothing here, or nothing you may see. Check the address, or go to your tasks."
        )
    elif isinstance(exc, AccessDenied):
        status, title, text = 403, "You cannot see this part", str(exc)
    elif isinstance(exc, PeerloopError):
        status, title, text = 409, "That could not be done", str(exc)
    elif isinstance(exc, HTTPException) and exc.status_code == 413:
        status, title = 413, "What you sent is too large"
        limit = size_in_words(request.app.state.get("max_upload_bytes"))
        text = (
            f"Nothing was saved. Send at most five files at once, each of at most {limit}: "
            "go back and send fewer or smaller files."
        )
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, title = exc.status_code, "That could not be done"
        text = "Nothing was changed. Go back, reload the page and try again."
    else:
        _log.exception("page.failed", path=request.url.path)
        status, title = 500, "Sorry, something went wrong"
        text = "Nothing was changed. Try again in a minute."
    return _page(request, "error.html", status=status, title=title, text=text)


PAGE_ROUTES = [
    home,
    sign_in_form,
    sign_in,
    sign_out,
    my_tasks,
    notifications,
    read_notifications,
    cycle,
    confirm_move,
    make_move,
]
"""This module's pages; `service.web.router` gathers every page module's."""
