"""A real TAXII 2.1 server (medallion, memory backend) on loopback, in its own environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "misp"))


@pytest.fixture(scope="session")
def taxii_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from servers import medallion

    # a small request limit on purpose: pushes need several envelopes
    yield from medallion(tmp_path_factory.mktemp("medallion"), 30_000)
