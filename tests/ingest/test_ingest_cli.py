"""`ppcti inspect` lists accepted and refused members."""

from __future__ import annotations

import json

import typer
from ingest_helpers import FIREWALL_LINE, zip_bytes
from typer.testing import CliRunner

from ppcti.ingest.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # a second command keeps `inspect` a subcommand
    return app


def test_inspect_json(tmp_path):
    path = tmp_path / "u.zip"
    path.write_bytes(zip_bytes([("fw.txt", (FIREWALL_LINE + "\n").encode()), ("../x", b"a")]))
    result = CliRunner().invoke(_app(), ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(f["path"], f["kind"]) for f in data["files"]] == [("fw.txt", "text")]
    assert data["refused"] == [{"member": "../x", "reason": "path traversal"}]


def test_inspect_table(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a;b\n1;2\n")
    result = CliRunner().invoke(_app(), ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "m.csv" in result.stdout
    assert "csv (';')" in result.stdout
