"""The committed OpenAPI document matches the app, and the app conforms to it under schemathesis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from webapp_fixtures import ROOT, Finished

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy import delete  # noqa: E402

from ppcti.api.capabilities import load_capabilities  # noqa: E402
from ppcti.api.settings import ServerSettings  # noqa: E402
from ppcti.store.models import SigninFailure  # noqa: E402
from ppcti.web.app import create_app  # noqa: E402


def test_committed_openapi_matches_the_app(tmp_path: Path) -> None:
    app = create_app(ServerSettings(db_url=f"sqlite:///{tmp_path / 'x.db'}", data_dir=tmp_path))
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(app.openapi())), (
        "docs/openapi.json is stale: ppcti serve --write-openapi docs/openapi.json"
    )
    assert committed["openapi"].startswith("3.1")


def test_a_capability_whose_dependencies_are_missing_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ppcti_cap_needs_extra.py").write_text("import ppcti_missing_extra_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = load_capabilities(("ppcti.api.routers.pii", "ppcti_cap_needs_extra"))
    assert [c.name for c in found] == ["pii"]
    with pytest.raises(ModuleNotFoundError):  # a misspelt capability module is an error, not absent
        load_capabilities(("ppcti.api.routers.no_such_capability",))


@pytest.mark.slow
def test_api_conforms_to_its_schema(finished: Finished) -> None:
    """Every operation, with generated parameters and bodies: no server error, and every response matches
    the schema (status, media type, body). Driven through Hypothesis directly, one operation at a time."""
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", finished.world.app)
    # deleting would remove the shared upload; the event stream lasts until its job ends; a TAXII push
    # requests the server address in its body (fuzzed, any host), and is tested against medallion instead
    schema = schema.exclude(method="DELETE").exclude(path_regex=r"/(events|auth/signout|export/taxii)$")
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=12, suppress_health_check=list(HealthCheck), deadline=None, database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            if "upload_id" in (case.path_parameters or {}):
                case.path_parameters["upload_id"] = finished.upload_id  # real results, fuzzed options
            case.call_and_validate(
                headers=finished.acme,
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )

        check()
        tested.append(operation.label)
    # fuzzed sign-ins count as failures of the test client's address in the shared limiter: forget
    # them, so later tests on the same app may still sign in
    with finished.world.db().session() as s:
        s.execute(delete(SigninFailure))
    assert len(tested) >= 18, tested
