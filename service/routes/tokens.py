"""API tokens: the admin issues and revokes them; anyone may list and revoke their own, or
exchange their email and password for a short-lived one."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import JSONBody

from engine.directory import ApiToken
from service.presenters import token_view
from service.routes.common import READ, WRITE, Caller, PathId, QueryId, Ws, problems
from service.schemas import LoginRequest, TokenCreate, TokenCreated, TokenView
from service.usecases.messages import CreateToken, ListTokens, RevokeToken

__all__ = ["ROUTES"]

TAGS = ["tokens"]


def _created(token: ApiToken, secret: str) -> TokenCreated:
    v = token_view(token)
    return TokenCreated(
        id=v.id,
        person_id=v.person_id,
        name=v.name,
        created_at=v.created_at,
        expires_at=v.expires_at,
        revoked_at=v.revoked_at,
        last_used_at=v.last_used_at,
        issued_by=v.issued_by,
        secret=secret,
    )


@post(
    "/tokens",
    tags=TAGS,
    summary="Issue a token for a person (admin); the secret is shown this once",
    description=(
        "A token made for someone else names its issuer (`issued_by`), the person is told in "
        "their notifications, and what is done with it is recorded in history as done by the "
        "person using a token made by the issuer."
    ),
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def create_token(data: JSONBody[TokenCreate], principal: Caller, ws: Ws) -> Response[TokenCreated]:
    token, secret = ws.handle(
        CreateToken(data.person_id, data.name, data.expires_in_days), principal
    )
    return Response(_created(token, secret), status_code=201, headers={"Cache-Control": "no-store"})


@get(
    "/tokens",
    tags=TAGS,
    summary="Tokens: your own, or anyone's (optionally one person's) as the admin; each "
    "with who made it",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_tokens(
    principal: Caller,
    ws: Ws,
    person: QueryId = None,
) -> list[TokenView]:
    return [token_view(t) for t in ws.handle(ListTokens(person), principal)]


@delete(
    "/tokens/{token_id:str}",
    tags=TAGS,
    summary="Revoke a token (the admin any, anyone their own); it stops working at once",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def revoke_token(token_id: PathId, principal: Caller, ws: Ws) -> TokenView:
    return token_view(ws.handle(RevokeToken(token_id), principal))


@post(
    "/auth/login",
    tags=TAGS,
    summary="Exchange an email and password for a token valid 12 hours",
    responses=problems(400, 401, 413, 415, 422, 429),
    sync_to_thread=True,
)
def login(
    request: Request[Any, Any, Any], data: JSONBody[LoginRequest], ws: Ws
) -> Response[TokenCreated]:
    client = request.client.host if request.client else None
    token, secret = ws.login(data.email, data.password, client=client)
    return Response(_created(token, secret), status_code=201, headers={"Cache-Control": "no-store"})


ROUTES = [create_token, list_tokens, revoke_token, login]
