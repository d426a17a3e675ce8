"""The behavioural windows: the count sketches that prefilter them never change what they find."""

from __future__ import annotations

from collections import defaultdict

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ppcti.analysis.attacks.behaviour import _DAY_US, _may_reach, _may_reach_near, _windowed

_WIDTH = 600_000_000  # 10 minutes


def _exact(rows: list[tuple[int, int, int]], value: bool, threshold: int) -> dict[int, int]:
    """Per row, the largest count (or distinct values) of a window of its key holding ``threshold``."""
    best: dict[int, int] = {}
    for shift in (0, _WIDTH // 2):
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, (key, t, _v) in enumerate(rows):
            groups[(key, (t + shift) // _WIDTH)].append(i)
        for members in groups.values():
            n = len({rows[i][2] for i in members}) if value else len(members)
            if n >= threshold:
                for i in members:
                    best[i] = max(best.get(i, 0), n)
    return best


_UNIT = _WIDTH // 3
#: Times: around midnight of day 1 (windows straddling the coarse buckets' edge), or anywhere in 90 days.
_TIMES = st.one_of(
    st.integers(-4, 3).map(lambda u: _DAY_US + u * _UNIT),
    st.integers(0, 90 * _DAY_US // _UNIT).map(lambda u: u * _UNIT),
)
_ROWS = st.lists(
    st.tuples(st.integers(0, 15), _TIMES, st.integers(0, 6)),  # few keys: many share counters
    max_size=400,
)


@settings(max_examples=60, deadline=None)
@given(rows=_ROWS, value=st.booleans(), threshold=st.integers(1, 10))
# a window across midnight: two entries before, two after; no day holds three, the window does
@example(
    rows=[(1, _DAY_US - _UNIT, 0), (1, _DAY_US - 2 * _UNIT, 0), (1, _DAY_US, 0), (1, _DAY_US + _UNIT, 0)],
    value=False,
    threshold=3,
)
def test_windows_match_an_exact_count(rows: list[tuple[int, int, int]], value: bool, threshold: int) -> None:
    frame = pl.DataFrame(
        {
            "row": list(range(len(rows))),
            "key": [k * 0x9E3779B1 for k, _, _ in rows],
            "t": [t for _, t, _ in rows],
            "v": [v for _, _, v in rows],
        },
        schema={"row": pl.UInt32, "key": pl.UInt64, "t": pl.Int64, "v": pl.Int64},
    )
    found = _windowed(frame, "key", _WIDTH, "v" if value else None, threshold)
    assert dict(found.iter_rows()) == _exact(rows, value, threshold)


def test_sketches_keep_every_row_of_a_busy_key_and_drop_quiet_ones() -> None:
    # 50 keys of 3 entries each, spread over days, and one key with 12 entries within an hour
    quiet = [(k, d * _DAY_US) for k in range(50) for d in (0, 10, 20)]
    busy = [(999, 5 * _DAY_US + i * 60_000_000) for i in range(12)]
    frame = pl.DataFrame(
        {"key": [k for k, _ in quiet + busy], "t": [t for _, t in quiet + busy]},
        schema={"key": pl.UInt64, "t": pl.Int64},
    )
    total = _may_reach(frame, "key", 10)
    near = _may_reach_near(frame, "key", _DAY_US, 10)
    assert total[len(quiet) :].all() and near[len(quiet) :].all()
    assert total[: len(quiet)].sum() < len(quiet) // 2  # the sketch is a filter, not a pass-through
    assert near[: len(quiet)].sum() < len(quiet) // 2
