"""The sign-in rate limit is counted in the database: two server instances on one database (SQLite file
or PostgreSQL) enforce one limit together, it ends with its window, a success clears the account's
count, and the table holds no address or e-mail in clear."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from ppcti.api.security import RateLimiter
from ppcti.store import Database, SigninFailure
from ppcti.web.app import create_app
from webapp_fixtures import PASSWORD, add_people, settings_for

WRONG = {"email": "adam@acme.test", "password": "not-the-password-1"}
RIGHT = {"email": "adam@acme.test", "password": PASSWORD}


def test_two_server_instances_share_one_sign_in_limit(db_url: str, tmp_path: Path) -> None:
    apps = [
        create_app(settings_for(db_url, tmp_path / "data", signin_attempts=4), start_workers=False)
        for _ in range(2)
    ]
    add_people(apps[0].state.ppcti.db)
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        for i in range(4):  # the failures alternate between the two servers: each saw only two
            r = (a, b)[i % 2].post("/api/v1/auth/signin", json=WRONG)
            assert r.status_code == 401, r.text
        for client in (a, b):
            r = client.post("/api/v1/auth/signin", json=RIGHT)
            assert r.status_code == 429, r.text
            assert 1 <= int(r.headers["Retry-After"]) <= 301
        page = b.post("/signin", data=RIGHT, follow_redirects=False)  # the sign-in page too
        assert page.status_code == 429
        with apps[0].state.ppcti.db.session() as s:
            keys = list(s.scalars(select(SigninFailure.key)))
        assert len(keys) == 8  # per address and per account
        assert all(len(k) == 64 and "adam" not in k and "testclient" not in k for k in keys)


def test_the_limit_ends_with_its_window_and_a_success_clears_the_account(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    one, other = RateLimiter(db, 2, 1.0), RateLimiter(Database(db_url), 2, 1.0)
    one.failed("ip:192.0.2.1", "user:x@y.test")
    assert other.blocked("ip:192.0.2.1") == 0
    other.failed("ip:192.0.2.1", "user:x@y.test")
    assert 0 < one.blocked("ip:192.0.2.9", "user:x@y.test") <= 1.0
    other.reset("user:x@y.test")
    assert one.blocked("user:x@y.test") == 0 and one.blocked("ip:192.0.2.1") > 0
    time.sleep(1.1)
    assert one.blocked("ip:192.0.2.1") == 0
    one.failed("ip:192.0.2.2")  # old failures are removed as new ones come
    with db.session() as s:
        assert s.query(SigninFailure).count() == 1
    other.db.dispose()
    db.dispose()
