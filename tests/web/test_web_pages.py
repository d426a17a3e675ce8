"""Pages with hostile uploads: values from an upload (file names, log fields, column headers, raw lines)
are always escaped, and the sign-in page and forms follow the CSRF rules."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ppcti.web.app import create_app
from webapp_fixtures import PASSWORD, World, add_people, settings_for, upload_file, wait_done

PAYLOADS = (
    "<script>alert('xss-a')</script>",
    '"><img src=x onerror=alert("xss-b")>',
    "<svg onload=alert('xss-c')>",
)


def _hostile_zip() -> bytes:
    a, b, c = PAYLOADS
    firewall = (
        f"Mar/08/2023 07:00:43 firewall,info input: in:ether1-WAN{a} out:(unknown 0), proto TCP (SYN), "
        "203.0.113.7:51234->198.51.100.2:22, len 60\n"
        f"Mar/08/2023 07:00:44 this line has no address {b}\n"
    )
    csv = (
        f"date,sender,recipients,subject,verdict,size,{c}\n"
        f"2023-03-09 07:00:13,alerts@partner.example,ana@corp.example,{a},clean,860,{b}\n"
        f"2023-03-09 07:01:13,alerts@partner.example,bo@corp.example,x,clean,861,{c}\n"
    )
    events = (
        '{"ts":1679641224.6,"id.orig_h":"104.157.139.22","id.orig_p":1,"id.resp_h":"203.0.113.9",'
        f'"id.resp_p":22,"proto":"tcp","note":"{b.replace(chr(34), chr(39))}"}}\n{{"broken": "{a}"\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(f"fw{a}.log", firewall)
        zf.writestr(f"mail{c}.csv", csv)
        zf.writestr("zeek-conn.jsonl", events)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    tmp = tmp_path_factory.mktemp("hostile")
    app = create_app(settings_for(f"sqlite:///{tmp / 'db.sqlite'}", tmp / "data"))
    add_people(app.state.ppcti.db)
    with TestClient(app) as client:
        w = World(client, app, tmp / "data")
        headers = w.token("adam@acme.test")
        path = tmp / "hostile.zip"
        path.write_bytes(_hostile_zip())
        r = upload_file(client, headers, path, name='"><img src=x onerror=alert(1)>.zip')
        assert r.status_code == 201, r.text
        body = wait_done(client, r.json()["id"], headers)
        assert body["job"]["state"] == "done", body["job"]
        w.signin("adam@acme.test")
        yield w, body["id"]


@pytest.mark.parametrize(
    "page", ["", "/pii", "/cti", "/analysis", "/attacks", "/assessment", "/export", "/fhe"]
)
def test_upload_values_are_escaped(hostile: tuple[World, str], page: str) -> None:
    world, upload_id = hostile
    r = world.client.get(f"/uploads/{upload_id}{page}")
    assert r.status_code == 200
    html = r.text
    for payload in PAYLOADS:
        assert payload not in html
    assert "<script>alert" not in html and "onerror=alert" not in html.replace("onerror=alert(&#34;", "")
    assert "<script" not in html.replace('<script src="/static/app.js" defer></script>', "")
    if page == "":
        # the values did reach the page, as text
        assert "&lt;script&gt;alert(&#39;xss-a&#39;)&lt;/script&gt;" in html
        assert "&lt;svg onload=alert(&#39;xss-c&#39;)&gt;" in html


def test_upload_list_escapes_the_file_name(hostile: tuple[World, str]) -> None:
    world, _ = hostile
    html = world.client.get("/uploads").text
    assert "<img src=x" not in html and "_img src_x onerror_alert_1_.zip" in html


def test_sign_in_page_flow_and_csrf(tmp_path: Path) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data"))
    add_people(app.state.ppcti.db)
    with TestClient(app) as browser:
        assert browser.get("/uploads", follow_redirects=False).headers["location"] == "/signin"
        bad = browser.post("/signin", data={"email": "adam@acme.test", "password": "wrong-wrong-wrong"})
        assert bad.status_code == 401 and "wrong e-mail or password" in bad.text
        cross = browser.post(
            "/signin",
            data={"email": "adam@acme.test", "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
        ok = browser.post(
            "/signin", data={"email": "adam@acme.test", "password": PASSWORD}, follow_redirects=False
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/uploads"
        page = browser.get("/uploads")
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        files = {"file": ("a.log", b"x")}
        assert browser.post("/uploads", files=files, data={"csrf_token": "forged"}).status_code == 403
        wrong = browser.post("/uploads", files={"file": ("a.exe", b"x")}, data={"csrf_token": token})
        assert wrong.status_code == 415 and "upload a ZIP archive or a log file" in wrong.text
        assert "No uploads yet." in wrong.text
        made = browser.post("/tokens", data={"name": "cli", "csrf_token": token})
        assert made.status_code == 200 and 'id="new-token">ppcti_' in made.text
        assert browser.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
        assert browser.get("/uploads", follow_redirects=False).status_code == 303


def test_holder_admins_add_users_of_their_holder_on_the_users_page(tmp_path: Path) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data"))
    add_people(app.state.ppcti.db)
    with TestClient(app) as browser:
        browser.post("/signin", data={"email": "adam@acme.test", "password": PASSWORD})
        assert browser.get("/users").status_code == 403  # a holder user
        browser.cookies.clear()
        browser.post("/signin", data={"email": "alice@acme.test", "password": PASSWORD})
        page = browser.get("/users")
        assert (
            page.status_code == 200 and "adam@acme.test" in page.text and "bob@globex.test" not in page.text
        )
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"email": "amy@acme.test", "password": PASSWORD, "role": "holder_user", "csrf_token": token}
        assert browser.post("/users", data={**form, "csrf_token": "forged"}).status_code == 403
        added = browser.post("/users", data=form)
        assert added.status_code == 200 and "Added amy@acme.test" in added.text
        again = browser.post("/users", data=form)
        assert again.status_code == 422 and "exists already" in again.text
        escalate = browser.post("/users", data={**form, "email": "eve@acme.test", "role": "platform_admin"})
        assert escalate.status_code == 422 and "eve@acme.test" not in escalate.text
    me = TestClient(app)
    assert (
        me.post("/api/v1/auth/signin", json={"email": "amy@acme.test", "password": PASSWORD}).json()["holder"]
        == "acme"
    )
