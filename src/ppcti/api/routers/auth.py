"""Accounts: sign-in and out, who am I, API tokens, and holder/user administration by role."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select

from ppcti.api.accounts import create_user, set_session_cookie, sign_in, sign_out
from ppcti.api.deps import CurrentUser, DbSession, Principal, authenticate
from ppcti.api.schemas import (
    HolderCreate,
    HolderOut,
    Me,
    SignIn,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
)
from ppcti.api.security import TOKEN_PREFIX, digest, new_secret
from ppcti.errors import ConfigError
from ppcti.store import ApiToken, Holder, Role, User

router = APIRouter()


def _me(p: Principal) -> Me:
    return Me(id=p.user_id, email=p.email, role=p.role, holder=p.holder_name, csrf_token=p.csrf_token)


@router.post(
    "/auth/signin",
    tags=["auth"],
    summary="Sign in; sets the session cookie",
    responses={401: {"description": "Wrong e-mail or password"}, 429: {"description": "Too many attempts"}},
)
def api_sign_in(body: SignIn, request: Request, response: Response, s: DbSession) -> Me:
    secret, ws, user = sign_in(request, s, body.email, body.password)
    set_session_cookie(request, response, secret)
    return Me(
        id=user.id,
        email=user.email,
        role=user.role,
        holder=user.holder.name if user.holder else None,
        csrf_token=ws.csrf_token,
    )


@router.post("/auth/signout", tags=["auth"], status_code=204, summary="End the browser session")
def api_sign_out(request: Request, s: DbSession) -> Response:
    principal = authenticate(request, s)
    if principal is not None and principal.via == "session":
        from ppcti.api.deps import check_csrf

        check_csrf(request, principal)
    response = Response(status_code=204)
    sign_out(request, s, response)
    return response


@router.get("/me", tags=["auth"], summary="The signed-in user")
def me(principal: CurrentUser) -> Me:
    return _me(principal)


@router.get("/tokens", tags=["auth"], summary="My API tokens")
def list_tokens(principal: CurrentUser, s: DbSession) -> list[TokenOut]:
    rows = s.scalars(
        select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.created_at)
    )
    return [TokenOut.model_validate(t) for t in rows]


@router.post("/tokens", tags=["auth"], status_code=201, summary="Create an API token (shown once)")
def create_token(body: TokenCreate, principal: CurrentUser, s: DbSession) -> TokenCreated:
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(user_id=principal.user_id, name=body.name, token_hash=digest(secret))
    s.add(token)
    s.flush()
    return TokenCreated(
        id=token.id, name=token.name, created_at=token.created_at, last_used_at=None, token=secret
    )


@router.delete("/tokens/{token_id}", tags=["auth"], status_code=204, summary="Revoke an API token")
def delete_token(token_id: str, principal: CurrentUser, s: DbSession) -> Response:
    token = s.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == principal.user_id))
    if token is None:
        raise HTTPException(404, "token not found")
    s.delete(token)
    return Response(status_code=204)


def _require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise HTTPException(403, "your role may not do this")


@router.get("/holders", tags=["admin"], summary="Data holders (platform admins)")
def list_holders(principal: CurrentUser, s: DbSession) -> list[HolderOut]:
    _require(principal, Role.PLATFORM_ADMIN)
    return [HolderOut.model_validate(h) for h in s.scalars(select(Holder).order_by(Holder.name))]


@router.post("/holders", tags=["admin"], status_code=201, summary="Add a data holder (platform admins)")
def create_holder(body: HolderCreate, principal: CurrentUser, s: DbSession) -> HolderOut:
    _require(principal, Role.PLATFORM_ADMIN)
    if s.scalar(select(Holder).where(Holder.name == body.name)) is not None:
        raise HTTPException(409, "a holder with this name exists already")
    holder = Holder(name=body.name)
    s.add(holder)
    s.flush()
    return HolderOut.model_validate(holder)


@router.get(
    "/users", tags=["admin"], summary="Users (all for platform admins, their holder's for holder admins)"
)
def list_users(principal: CurrentUser, s: DbSession) -> list[UserOut]:
    _require(principal, Role.PLATFORM_ADMIN, Role.HOLDER_ADMIN)
    query = select(User).order_by(User.email)
    if principal.role is Role.HOLDER_ADMIN:
        query = query.where(User.holder_id == principal.holder_id)
    return [UserOut.model_validate(u) for u in s.scalars(query)]


@router.post(
    "/users",
    tags=["admin"],
    status_code=201,
    summary="Add a user",
    responses={409: {"description": "E-mail taken or role not allowed"}},
)
def add_user(body: UserCreate, principal: CurrentUser, s: DbSession) -> UserOut:
    _require(principal, Role.PLATFORM_ADMIN, Role.HOLDER_ADMIN)
    if principal.role is Role.HOLDER_ADMIN:
        if body.role is Role.PLATFORM_ADMIN or body.holder_id not in (None, principal.holder_id):
            raise HTTPException(403, "holder admins add users to their own holder only")
        holder = s.get(Holder, principal.holder_id)
    else:
        holder = s.get(Holder, body.holder_id) if body.holder_id else None
        if body.holder_id and holder is None:
            raise HTTPException(404, "holder not found")
    try:
        user = create_user(s, body.email, body.password, body.role, holder)
    except ConfigError as exc:
        raise HTTPException(409, exc.message) from None
    return UserOut.model_validate(user)
