"""``ppcti user add`` and ``ppcti serve``: accounts from the command line, clear errors for bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ppcti.cli import app
from ppcti.errors import ConfigError
from ppcti.store import Database, Role, User


def test_user_add_creates_the_account_and_its_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPCTI_PASSWORD", "a-long-enough-password")
    db = f"sqlite:///{tmp_path / 'ppcti.db'}"
    result = CliRunner().invoke(
        app, ["user", "add", "ann@acme.test", "--holder", "acme", "--role", "holder_admin", "--db", db]
    )
    assert result.exit_code == 0, result.output
    database = Database(db)
    with database.session() as s:
        user = s.scalar(select(User).where(User.email == "ann@acme.test"))
        assert user is not None and user.role is Role.HOLDER_ADMIN and user.holder is not None
        assert user.holder.name == "acme" and "a-long-enough-password" not in user.password_hash
    database.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "add", "x@y.test", "--role", "king"], "--role must be"),
        (["user", "add", "x@y.test", "--role", "holder_user"], "belongs to one"),
        (["user", "add", "x@y.test", "--role", "platform_admin", "--holder", "acme"], "belong to no holder;"),
        (["serve", "--listen", "nowhere"], "--listen must be HOST:PORT"),
        (["serve", "--worker-kind", "fiber"], "--worker-kind must be"),
        (["serve", "--db", "mysql://u@h/d"], "unsupported database"),
    ],
)
def test_bad_settings_are_clear_errors(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PPCTI_PASSWORD", "a-long-enough-password")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, ConfigError), result.output
    assert message in str(result.exception)


def test_short_passwords_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPCTI_PASSWORD", "short")
    result = CliRunner().invoke(
        app, ["user", "add", "x@y.test", "--holder", "h", "--db", f"sqlite:///{tmp_path / 'db.sqlite'}"]
    )
    assert isinstance(result.exception, ConfigError) and "12 characters" in str(result.exception)
