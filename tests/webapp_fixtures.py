"""Fixtures shared by tests/api and tests/web: apps on SQLite or on a throw-away PostgreSQL cluster, users
of two holders, and a finished run of the sample upload."""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from ppcti.api.accounts import ensure_holder
from ppcti.api.security import hash_password
from ppcti.api.settings import ServerSettings
from ppcti.store import Database, Role, User
from ppcti.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample-upload.zip"
PASSWORD = "a-long-test-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster on a loopback port for this test session (Debian's postgresql package)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("PPCTI_REQUIRE_POSTGRES"):
            pytest.fail(
                "PostgreSQL is required (PPCTI_REQUIRE_POSTGRES) but Debian's postgresql is not installed"
            )
        pytest.skip("Debian's postgresql is not installed")
    root = Path(tempfile.mkdtemp(prefix="ppcti-pg-"))
    root.chmod(0o755)
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the package's postgres user
        shutil.chown(root, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "ppcti",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://ppcti@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def new_postgres_db(server: str) -> str:
    import psycopg

    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(
        server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True
    ) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ppcti.db'}"
    return new_postgres_db(request.getfixturevalue("postgres_server"))


@dataclass
class World:
    """An app with two holders (acme, globex), their users and a platform admin."""

    client: TestClient
    app: Any
    data: Path

    def db(self) -> Database:
        return self.app.state.ppcti.db

    def signin(self, email: str) -> dict[str, str]:
        """Sign in with the session cookie; returns headers carrying the CSRF token."""
        r = self.client.post("/api/v1/auth/signin", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"X-CSRF-Token": r.json()["csrf_token"]}

    def token(self, email: str) -> dict[str, str]:
        """An API token of ``email`` (made in a separate client, so no cookie is involved)."""
        other = TestClient(self.app)  # no lifespan: the app's own client runs it
        r = other.post("/api/v1/auth/signin", json={"email": email, "password": PASSWORD})
        csrf = r.json()["csrf_token"]
        t = other.post("/api/v1/tokens", json={"name": "test"}, headers={"X-CSRF-Token": csrf})
        assert t.status_code == 201, t.text
        return {"Authorization": f"Bearer {t.json()['token']}"}


def settings_for(db_url: str, data: Path, **kw: Any) -> ServerSettings:
    return ServerSettings(
        db_url=db_url, data_dir=data, workers=2, worker_kind="thread", job_defaults=(("nlp", "regex"),), **kw
    )


@functools.cache
def password_hash() -> str:
    """One Argon2 hash of PASSWORD for all test users (hashing costs about a second on a busy machine)."""
    return hash_password(PASSWORD)


def add_people(db: Database) -> None:
    db.migrate()
    with db.session() as s:
        if s.query(User).count():
            return
        acme, globex = ensure_holder(s, "acme"), ensure_holder(s, "globex")
        for email, role, holder in (
            ("alice@acme.test", Role.HOLDER_ADMIN, acme),
            ("adam@acme.test", Role.HOLDER_USER, acme),
            ("bob@globex.test", Role.HOLDER_USER, globex),
            ("root@platform.test", Role.PLATFORM_ADMIN, None),
        ):
            s.add(
                User(
                    email=email,
                    password_hash=password_hash(),
                    role=role,
                    holder_id=holder.id if holder else None,
                )
            )


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    app = create_app(settings_for(db_url, tmp_path / "data"))
    add_people(app.state.ppcti.db)
    with TestClient(app) as client:
        yield World(client=client, app=app, data=tmp_path / "data")


def wait_done(
    client: TestClient, upload_id: str, headers: dict[str, str], timeout: float = 240
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/uploads/{upload_id}", headers=headers).json()
        if body["job"]["state"] in ("done", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"upload {upload_id} did not finish in {timeout} s")


def upload_file(
    client: TestClient, headers: dict[str, str], path: Path = SAMPLE, name: str | None = None, **form: Any
) -> Any:
    with path.open("rb") as fh:
        return client.post(
            "/api/v1/uploads",
            files={"file": (name or path.name, fh, "application/zip")},
            data=form,
            headers=headers,
        )


@dataclass
class Finished:
    world: World
    upload_id: str
    acme: dict[str, str]
    globex: dict[str, str]
    upload: dict[str, Any]


def _finish(db_url: str, tmp: Path) -> Iterator[Finished]:
    app = create_app(settings_for(db_url, tmp / "data"))
    add_people(app.state.ppcti.db)
    with TestClient(app) as client:
        w = World(client=client, app=app, data=tmp / "data")
        acme, globex = w.token("adam@acme.test"), w.token("bob@globex.test")
        r = upload_file(client, acme)
        assert r.status_code == 201, r.text
        body = wait_done(client, r.json()["id"], acme)
        assert body["job"]["state"] == "done", body["job"]
        enrich_run_folder(w.db(), w.data, body["id"], tmp)
        body = client.get(f"/api/v1/uploads/{body['id']}", headers=acme).json()
        yield Finished(world=w, upload_id=body["id"], acme=acme, globex=globex, upload=body)


def enrich_run_folder(db: Database, data: Path, upload_id: str, tmp: Path) -> None:
    """Enrich a finished run as ``ppcti enrich`` does, against the fake reputation services of
    tests/enrich (real HTTP servers on loopback), and index its results again: server jobs do not enrich,
    so this is how a run gets the files the enrichment capability reads."""
    import sys

    from sqlalchemy import select

    from ppcti.api.jobs import results_index, run_path
    from ppcti.enrich import EnrichSettings, enrich_run
    from ppcti.store import Job

    sys.path.insert(0, str(ROOT / "tests" / "enrich"))
    from enrich_fakes import FakeServices

    run_dir = run_path(data, upload_id)
    fakes = FakeServices(names=("abuseipdb", "virustotal"))
    try:
        settings = EnrichSettings.from_sources(fakes.env(), {"cache": str(tmp / "enrich-cache.sqlite")})
        enrich_run(run_dir, settings)
    finally:
        fakes.stop()
    with db.session() as s:
        job = s.scalars(select(Job).where(Job.upload_id == upload_id)).one()
        job.results = results_index(run_dir)


@pytest.fixture(scope="session")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    """The sample upload run to the end by acme's user, on SQLite, shared by the session."""
    tmp = tmp_path_factory.mktemp("finished")
    yield from _finish(f"sqlite:///{tmp / 'ppcti.db'}", tmp)


@pytest.fixture(scope="session")
def finished_pg(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[Finished]:
    """The same on PostgreSQL."""
    yield from _finish(new_postgres_db(postgres_server), tmp_path_factory.mktemp("finished-pg"))


@pytest.fixture(scope="session")
def taxii_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real TAXII 2.1 server (medallion) on loopback, as tests/taxii starts it (tests/misp/servers.py)."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "misp"))
    from servers import medallion

    yield from medallion(tmp_path_factory.mktemp("medallion"), 200_000)


@pytest.fixture(scope="session")
def fhe_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A holder's FHE key pair, made on the holder's side (``ppcti fhe keygen``); the server gets only
    ``public.key``."""
    pytest.importorskip("tenseal")
    from ppcti.fhe import keygen

    out = tmp_path_factory.mktemp("holder-keys")
    keygen(out)
    return out
