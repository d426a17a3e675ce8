"""``ppcti samples`` writes the same files as the library call and explains itself."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ppcti.cli import app
from ppcti.samples import GeneratedSet


def test_cli_writes_the_default_set(tmp_path: Path, default_set: GeneratedSet) -> None:
    result = CliRunner().invoke(app, ["samples", "--out", str(tmp_path), "--rows", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    for item in default_set.files:
        assert (tmp_path / item.name).read_bytes() == item.path.read_bytes(), item.name
    assert (tmp_path / "ground_truth.jsonl").read_bytes() == default_set.ground_truth.read_bytes()
    assert (tmp_path / "sample-upload.zip").read_bytes() == default_set.zip_path.read_bytes()  # type: ignore[union-attr]


def test_cli_no_zip_and_holder(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["samples", "--out", str(tmp_path), "--rows", "40", "--no-zip", "--holder", "acme"]
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "sample-upload.zip").exists()
    assert '"holder":"acme"' in (tmp_path / "ground_truth.jsonl").read_text()


def test_cli_refuses_too_few_rows(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["samples", "--out", str(tmp_path), "--rows", "3"])
    assert result.exit_code != 0
    assert not any(tmp_path.iterdir())


def test_cli_help() -> None:
    result = CliRunner().invoke(app, ["samples", "--help"])
    assert result.exit_code == 0
    assert "--seed" in result.output and "ground truth" in result.output


def test_public_names_exist() -> None:
    import ppcti.samples as package

    assert sorted(package.__all__) == sorted(set(package.__all__))
    for name in package.__all__:
        assert getattr(package, name) is not None, name
