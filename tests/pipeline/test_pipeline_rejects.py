"""A batch's rejects written in one pass (``CoreWriters.reject_batch``) give the bytes and counts of
writing each with orjson, in line order."""

from __future__ import annotations

import io
from collections import Counter

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.model import Reject, reason_key
from ppcti.pipeline.core import CoreWriters
from ppcti.pipeline.summary import RunSummary

# every character a line can hold once decoded (no lone surrogates): quotes, backslashes, controls,
# DEL, line separators, non-ASCII
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)
_LINES = st.none() | st.integers(1, 6)


def _summary() -> RunSummary:
    return RunSummary(run_id="r", holder="h", started_at="t")


def _writers() -> tuple[CoreWriters, io.BytesIO]:
    out = io.BytesIO()
    return CoreWriters(events=io.BytesIO(), rejects=out, cleaned=None, dedup=None), out  # type: ignore[arg-type]


@given(
    st.lists(st.tuples(_LINES, _TEXT | st.just("duplicate (exact) of x:1"), _TEXT), max_size=6),
    st.lists(
        st.tuples(st.integers(1, 6), _TEXT, _TEXT, st.sampled_from(["exact", "normalised"])), max_size=6
    ),
)
def test_one_pass_writes_what_orjson_writes_one_by_one(
    parsed: list[tuple[int | None, str, str]], duplicates: list[tuple[int, str, str, str]]
) -> None:
    path = 'mail "export".csv'
    rejects = [Reject(path, line, reason, raw, "repair") for line, reason, raw in parsed]
    dups = pl.DataFrame(
        duplicates,
        schema={"line": pl.Int64, "raw": pl.String, "duplicate_of": pl.String, "duplicate_kind": pl.String},
        orient="row",
    )
    every = rejects + [Reject(path, n, f"duplicate ({k}) of {o}", r, "dedup") for n, r, o, k in duplicates]
    every.sort(key=lambda r: -1 if r.line is None else r.line)
    expected = b"".join(orjson.dumps(r.to_dict()) + b"\n" for r in every)
    counts = Counter(reason_key(r.reason) for r in every)

    writers, out = _writers()
    summary = _summary()
    writers.reject_batch(path, rejects, dups, summary)
    assert out.getvalue() == expected
    assert summary.rejects_by_reason == counts
    assert list(summary.rejects_by_reason) == list(counts)  # first-seen order, as the web page lists them


def test_a_lone_surrogate_takes_the_orjson_path() -> None:
    writers, out = _writers()
    dups = pl.DataFrame(
        schema={"line": pl.Int64, "raw": pl.String, "duplicate_of": pl.String, "duplicate_kind": pl.String}
    )
    writers.reject_batch("f.csv", [Reject("f.csv", 3, "bad", "plain")], dups, _summary())
    assert out.getvalue() == b'{"file":"f.csv","line":3,"stage":"parse","reason":"bad","raw":"plain"}\n'
    with pytest.raises(orjson.JSONEncodeError, match="surrogates"):  # refused as before, by orjson
        writers.reject_batch("f.csv", [Reject("f.csv", 4, "bad", "x\udc80")], dups, _summary())
