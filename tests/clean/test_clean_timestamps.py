from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean.timestamps import STIX_TIMESTAMP, TimeContext, to_stix_timestamp
from ppcti.errors import ConfigError

CASES = [
    ("rfc3339-offset", "2023-03-18T20:35:05.734011+01:00", TimeContext(), "2023-03-18T19:35:05.734011Z"),
    (
        "suricata-offset-no-colon",
        "2017-03-25T16:49:58.856335-0600",
        TimeContext(),
        "2017-03-25T22:49:58.856335Z",
    ),
    ("routeros", "Mar/07/2023 10:38:03", TimeContext(), "2023-03-07T10:38:03Z"),
    (
        "routeros-in-zone",
        "Mar/07/2023 10:38:03",
        TimeContext(timezone="Europe/Berlin"),
        "2023-03-07T09:38:03Z",
    ),
    ("space-separated", "2023-03-07 10:38:03", TimeContext(), "2023-03-07T10:38:03Z"),
    ("dmy", "07/03/2023 10:38", TimeContext(), "2023-03-07T10:38:00Z"),
    ("mdy", "03/07/2023 10:38:03", TimeContext(date_order="MDY"), "2023-03-07T10:38:03Z"),
    ("rfc2822", "Tue, 07 Mar 2023 10:38:03 +0100", TimeContext(), "2023-03-07T09:38:03Z"),
    ("epoch-float", 1678185483.25, TimeContext(), "2023-03-07T10:38:03.25Z"),
    ("epoch-text", "1678185483", TimeContext(), "2023-03-07T10:38:03Z"),
    ("zulu-millis", "2023-03-07T10:38:03.120Z", TimeContext(), "2023-03-07T10:38:03.120Z"),
    ("dst-gap-is-not-invented", "2023-02-30 10:00:00", TimeContext(), None),
    ("garbage", "yesterday", TimeContext(), None),
]


@pytest.mark.parametrize(("raw", "ctx", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_to_stix_timestamp(raw: str, ctx: TimeContext, expected: str | None) -> None:
    assert to_stix_timestamp(raw, ctx) == expected


def test_year_out_of_range_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="year"):
        TimeContext(year=2**31)
    with pytest.raises(ConfigError, match="year"):
        TimeContext(year=0)


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        TimeContext(timezone="Mars/Olympus")


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
    st.integers(min_value=0, max_value=999_999),
)
def test_round_trip_any_offset(moment: datetime, offset_minutes: int, micros: int) -> None:
    moment = moment.replace(microsecond=micros)
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}{sign}{hours:02d}:{minutes:02d}"
    out = to_stix_timestamp(text)
    assert out is not None and STIX_TIMESTAMP.match(out)
    expected = (moment - timedelta(minutes=offset_minutes)).replace(tzinfo=UTC)
    assert out == expected.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"


def test_time_context_defaults_are_utc_without_guesses() -> None:
    ctx = TimeContext()
    assert ctx.timezone == "UTC" and ctx.year is None and ctx.date is None
    assert TimeContext(date=date(2023, 3, 7)).date == date(2023, 3, 7)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 9999),
            st.integers(0, 13),
            st.integers(0, 32),
            st.integers(0, 25),
            st.integers(0, 61),
            st.sampled_from([None, "5", "123456"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_fast_utc_assembly_equals_datetime_path(rows: list[tuple]) -> None:
    import polars as pl

    from ppcti.clean.timestamps import stix_timestamp_expr, utc_parts_expr

    frame = pl.DataFrame(
        {
            "y": [r[0] for r in rows],
            "m": [r[1] for r in rows],
            "d": [r[2] for r in rows],
            "clock": [f"{r[3]:02d}:{r[4]:02d}:{r[4]:02d}" for r in rows],
            "frac": [r[5] for r in rows],
        },
        schema={"y": pl.Int32, "m": pl.Int32, "d": pl.Int32, "clock": pl.String, "frac": pl.String},
    )
    parts = {
        "year": pl.col("y"),
        "month": pl.col("m"),
        "day": pl.col("d"),
        "clock": pl.col("clock"),
        "fraction": pl.col("frac"),
    }
    fast = frame.select(utc_parts_expr(**parts)).to_series().to_list()
    slow = frame.select(
        stix_timestamp_expr(**parts, offset_minutes=pl.lit(None, pl.Int32), zone="UTC")
    ).to_series().to_list()
    assert fast == slow
