"""What the web application needs at run time ships in the package: templates, static files and
migrations are covered by the package-data patterns, and every code folder is a regular package."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "ppcti"


def test_package_data_covers_templates_static_files_and_migrations() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    checked = 0
    for package, folders in (("web", ("templates", "static")), ("store", ("migrations",))):
        patterns = data[f"ppcti.{package}"]
        for folder in folders:
            for path in (SRC / package / folder).rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    relative = path.relative_to(SRC / package).as_posix()
                    assert any(fnmatch(relative, p) for p in patterns), f"{relative} is not shipped"
                    checked += 1
    assert checked >= 15


def test_code_folders_are_regular_packages() -> None:
    for package in ("api", "web", "store"):
        for folder in [SRC / package, *(p for p in (SRC / package).rglob("*") if p.is_dir())]:
            if "__pycache__" in folder.parts or "migrations" in folder.parts:
                continue
            if any(folder.glob("*.py")):
                assert (folder / "__init__.py").is_file(), f"{folder} lacks __init__.py"
