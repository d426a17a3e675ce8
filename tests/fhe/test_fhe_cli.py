"""``ppcti fhe …`` drives the four tools with the documented interface."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

import ppcti.fhe
from ppcti.errors import FHEError
from ppcti.fhe.cli import register


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """Test root."""

    register(root)
    return root


def test_documented_interface(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "cti.txt").write_text("203.0.113.7\n192.0.2.1\n")
    (tmp_path / "drop.txt").write_text("203.0.113.0/24 ; SBL1\n")

    def ok(*args: str) -> str:
        result = runner.invoke(app, ["fhe", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    k, q = tmp_path / "keys", tmp_path / "q"
    ok("keygen", "--out", str(k))
    ok("encrypt-cti", str(tmp_path / "cti.txt"), "--public", str(k / "public.key"), "--out", str(q))
    out = ok(
        "encrypt-blacklist",
        str(tmp_path / "drop.txt"),
        "--public",
        str(k / "public.key"),
        "--out",
        str(tmp_path / "bl.fhe"),
        "--name",
        "drop",
    )
    assert "1 entries" in out
    ok(
        "correlate",
        "--public",
        str(k / "public.key"),
        "--query",
        str(q / "query.fhe"),
        "--blacklist",
        str(tmp_path / "bl.fhe"),
        "--out",
        str(tmp_path / "r.fhe"),
        "--threads",
        "1",
    )
    out = ok(
        "decrypt",
        str(tmp_path / "r.fhe"),
        "--secret",
        str(k / "secret.key"),
        "--mapping",
        str(q / "mapping.json"),
        "--out",
        str(tmp_path / "out"),
    )
    assert "1 of 2 addresses on blacklist drop" in out
    matches = orjson.loads((tmp_path / "out/fhe_matches.json").read_bytes())
    assert list(matches) == ["matches"]
    assert [(m["value"], m["found"]) for m in matches["matches"]] == [
        ("203.0.113.7", True),
        ("192.0.2.1", False),
    ]
    assert set(matches["matches"][0]) == {"value", "found", "entries"}
    assert (k / "secret.key").stat().st_mode & 0o077 == 0
    assert (q / "mapping.json").stat().st_mode & 0o077 == 0

    result = runner.invoke(
        app,
        [
            "fhe",
            "correlate",
            "--public",
            str(k / "public.key"),
            "--query",
            str(q / "query.fhe"),
            "--blacklist",
            str(q / "query.fhe"),
            "--out",
            "x",
        ],
    )
    assert isinstance(result.exception, FHEError)


@pytest.mark.parametrize(
    "command",
    [
        "keygen",
        "encrypt-cti",
        "encrypt-blacklist",
        "correlate",
        "decrypt",
        "serve",
        "request",
        "lookup",
        "shard-blacklist",
    ],
)
def test_every_command_has_help(app: typer.Typer, command: str) -> None:
    result = CliRunner().invoke(app, ["fhe", command, "--help"])
    assert result.exit_code == 0
    assert "--public" in result.output or "--out" in result.output or "--server" in result.output


def test_all_matches_the_package() -> None:
    assert sorted(ppcti.fhe.__all__) == sorted(ppcti.fhe._WHERE)
    for name in ppcti.fhe.__all__:
        assert getattr(ppcti.fhe, name).__name__ == name
    with pytest.raises(AttributeError):
        _ = ppcti.fhe.not_there


def test_cli_module_does_not_load_numpy_or_seal() -> None:
    import subprocess
    import sys

    code = "import sys, ppcti.fhe.cli; print('numpy' in sys.modules, 'tenseal' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(
    "where", [[], ["--server", "http://127.0.0.1:9", "--kafka", "127.0.0.1:9"]], ids=["neither", "both"]
)
def test_request_needs_exactly_one_of_server_and_kafka(app: typer.Typer, tmp_path: Path, where: list) -> None:
    from ppcti.errors import ConfigError

    args = ["fhe", "request", "--query", str(tmp_path / "q.fhe"), "--out", str(tmp_path / "r.fhe"), *where]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, ConfigError)
    assert "either --server URL or --kafka BOOTSTRAP" in str(result.exception)
    assert not (tmp_path / "r.fhe").exists()
