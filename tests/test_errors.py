"""ppcti's errors survive pickling whole (they cross from worker processes to the run that waits)."""

from __future__ import annotations

import inspect
import pickle

import pytest

from ppcti import errors

SAMPLES: dict[str, errors.PpctiError] = {
    "MissingExtra": errors.MissingExtra("nlp", "--nlp spacy"),
    "ArchiveRefused": errors.ArchiveRefused("too deep", member="a/b.zip", file="up.zip"),
    "AttestationRefused": errors.AttestationRefused(["debug enclave", "old evidence"]),
    "EnrichError": errors.EnrichError("virustotal", "quota", "429", retry_after=60.0),
    "TeeError": errors.TeeError("session gone", http_status=410),
    "FormatError": errors.FormatError("bad row", file="x.csv", line=7),
}


def _every_error() -> list[type[errors.PpctiError]]:
    return [
        cls
        for _name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.PpctiError)
    ]


@pytest.mark.parametrize("cls", _every_error(), ids=lambda c: c.__name__)
def test_every_error_round_trips_through_pickle(cls: type[errors.PpctiError]) -> None:
    error = SAMPLES.get(cls.__name__) or cls("something went wrong", file="f.log", line=3)
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert str(back) == str(error) and back.args == error.args
    assert back.__dict__ == error.__dict__
    assert (back.exit_code, back.http_status) == (error.exit_code, error.http_status)
