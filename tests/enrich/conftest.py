"""Fixtures for the enrichment tests: the four fake services, the real warninglists, a run folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from enrich_fakes import FakeServices
from enrich_helpers import ALL_IPS, ALL_SENDERS, LISTED, OWN, PUBLIC, make_run

from ppcti.enrich.warninglists import WarninglistIndex, load_lists


@pytest.fixture(scope="session")
def fakes() -> Iterator[FakeServices]:
    services = FakeServices()
    yield services
    services.stop()


@pytest.fixture
def fake(fakes: FakeServices) -> Iterator[FakeServices]:
    fakes.reset()
    yield fakes
    fakes.reset()


@pytest.fixture(scope="session")
def warninglists() -> WarninglistIndex:
    index = WarninglistIndex.build(load_lists())
    assert not any(index.contains_ipv4([*PUBLIC, OWN])), "a test address landed on a warninglist"
    assert all(index.contains_ipv4(LISTED))
    return index


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path, ALL_IPS, ALL_SENDERS)
