from __future__ import annotations

from pathlib import Path

import pytest

from ppcti.samples import GeneratedSet, generate


@pytest.fixture(scope="session")
def default_set(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSet:
    """The default sample set (300 rows per format, seed 7), generated once."""
    out: Path = tmp_path_factory.mktemp("samples-default")
    return generate(out)
