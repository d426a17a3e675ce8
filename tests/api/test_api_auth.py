"""Accounts on both databases: passwords, sessions, CSRF, API tokens, roles, sign-in rate limit, headers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ppcti.store import ApiToken, User, WebSession
from webapp_fixtures import PASSWORD, World


def test_sign_in_sets_a_strict_http_only_cookie_and_stores_only_hashes(world: World) -> None:
    r = world.client.post("/api/v1/auth/signin", json={"email": "adam@acme.test", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert r.json()["holder"] == "acme" and r.json()["role"] == "holder_user"
    secret = world.client.cookies.get("ppcti_session")
    with world.db().session() as s:
        user = s.scalar(select(User).where(User.email == "adam@acme.test"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        hashes = list(s.scalars(select(WebSession.id_hash)))
    assert secret and secret not in hashes and len(hashes) == 1
    assert world.client.get("/api/v1/me").json()["email"] == "adam@acme.test"


@pytest.mark.parametrize(
    ("email", "password"), [("adam@acme.test", "wrong-password-123"), ("nobody@x.test", PASSWORD)]
)
def test_wrong_credentials_are_refused_alike(world: World, email: str, password: str) -> None:
    r = world.client.post("/api/v1/auth/signin", json={"email": email, "password": password})
    assert r.status_code == 401
    assert r.json() == {"detail": "wrong e-mail or password"}
    assert world.client.get("/api/v1/me").status_code == 401


def test_sign_in_is_rate_limited_per_account(world: World) -> None:
    for _ in range(10):
        r = world.client.post(
            "/api/v1/auth/signin", json={"email": "adam@acme.test", "password": "nope-nope-nope"}
        )
        assert r.status_code == 401
    r = world.client.post("/api/v1/auth/signin", json={"email": "adam@acme.test", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_changes_by_cookie_need_the_csrf_token(world: World) -> None:
    headers = world.signin("adam@acme.test")
    assert world.client.post("/api/v1/tokens", json={"name": "x"}).status_code == 403
    assert (
        world.client.post(
            "/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "forged"}
        ).status_code
        == 403
    )
    assert world.client.post("/api/v1/tokens", json={"name": "x"}, headers=headers).status_code == 201


def test_api_tokens_authenticate_without_csrf_and_can_be_revoked(world: World) -> None:
    headers = world.token("bob@globex.test")
    client = world.client
    assert client.get("/api/v1/me", headers=headers).json()["holder"] == "globex"
    created = client.post("/api/v1/tokens", json={"name": "second"}, headers=headers)
    assert created.status_code == 201 and created.json()["token"].startswith("ppcti_")
    with world.db().session() as s:
        assert created.json()["token"] not in set(s.scalars(select(ApiToken.token_hash)))
    second = {"Authorization": f"Bearer {created.json()['token']}"}
    assert client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=second).status_code == 204
    assert client.get("/api/v1/me", headers=second).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer ppcti_made-up"}).status_code == 401


def test_roles(world: World) -> None:
    c = world.client
    user, admin, root = (
        world.token("adam@acme.test"),
        world.token("alice@acme.test"),
        world.token("root@platform.test"),
    )
    assert c.get("/api/v1/users", headers=user).status_code == 403
    assert {u["email"] for u in c.get("/api/v1/users", headers=admin).json()} == {
        "alice@acme.test",
        "adam@acme.test",
    }
    assert len(c.get("/api/v1/users", headers=root).json()) == 4
    assert c.post("/api/v1/holders", json={"name": "initech"}, headers=admin).status_code == 403
    holder = c.post("/api/v1/holders", json={"name": "initech"}, headers=root)
    assert holder.status_code == 201
    new = {
        "email": "ida@initech.test",
        "password": PASSWORD,
        "role": "holder_admin",
        "holder_id": holder.json()["id"],
    }
    assert c.post("/api/v1/users", json=new, headers=root).status_code == 201
    assert c.post("/api/v1/users", json=new, headers=root).status_code == 409
    escalate = {"email": "eve@acme.test", "password": PASSWORD, "role": "platform_admin"}
    assert c.post("/api/v1/users", json=escalate, headers=admin).status_code == 403
    other = {"email": "eve@acme.test", "password": PASSWORD, "holder_id": holder.json()["id"]}
    assert c.post("/api/v1/users", json=other, headers=admin).status_code == 403
    mine = {"email": "eve@acme.test", "password": PASSWORD}
    made = c.post("/api/v1/users", json=mine, headers=admin)
    assert made.status_code == 201 and made.json()["role"] == "holder_user"
    # the platform admin manages accounts but sees no holder's uploads
    assert c.get("/api/v1/uploads", headers=root).status_code == 403


def test_sign_out_ends_the_session(world: World) -> None:
    headers = world.signin("adam@acme.test")
    assert world.client.post("/api/v1/auth/signout").status_code == 403  # CSRF applies here too
    assert world.client.post("/api/v1/auth/signout", headers=headers).status_code == 204
    assert world.client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/me", "/signin", "/static/app.css", "/api/v1/openapi.json"])
def test_security_headers(world: World, path: str) -> None:
    r = world.client.get(path)
    csp = r.headers["content-security-policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in r.headers  # plain HTTP here


def test_hsts_and_secure_cookies_on_tls(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from ppcti.web.app import create_app
    from webapp_fixtures import add_people, settings_for

    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data", secure_cookies=True)
    )
    add_people(app.state.ppcti.db)
    with TestClient(app, base_url="https://testserver") as client:
        r = client.post("/api/v1/auth/signin", json={"email": "adam@acme.test", "password": PASSWORD})
        assert "max-age=31536000" in r.headers["strict-transport-security"]
        assert r.headers["set-cookie"].startswith("__Host-ppcti_session=")
        assert "secure" in r.headers["set-cookie"].lower()
        assert client.get("/api/v1/me").status_code == 200
