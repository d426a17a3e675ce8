from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean import datesource
from ppcti.clean.datesource import _FULL_DATE, _may_hold_date, latest_date

#: Pieces that make near-misses of both date spellings: digits, separators, month names, letters.
PIECES = st.sampled_from(
    ["2023", "1999", "03", "9", "-", "/", "T", " ", ":", "07", "Mar", "mar", "Foo", "x", "é", "\n", "12"]
)


def _scan_everything(sample: str) -> date | None:
    """``latest_date`` with its pre-check answering yes: the full regex over the whole sample."""
    original = datesource._may_hold_date
    datesource._may_hold_date = lambda _sample: True
    try:
        return latest_date(sample)
    finally:
        datesource._may_hold_date = original


def test_finds_the_latest_iso_and_routeros_dates() -> None:
    sample = "x 2023-03-07 10:00 y\nmar/09/2023 10:00:00 z\n2021-01-01T00:00"
    assert latest_date(sample) == date(2023, 3, 9)
    assert latest_date("no date at all, 14/03/2023 07:00 is day-first") is None


def test_the_pre_check_says_no_where_the_regex_finds_nothing() -> None:
    assert not _may_hold_date("14/03/2023 07:00,a@b.example\n" * 100)
    assert not _may_hold_date('"Sat, 11 Mar 2023 07:00:00 +0530",a@b.example')
    assert _may_hold_date("Mar/09/2023")
    assert _may_hold_date("2023-03-09 07:00")


TWO = st.sampled_from(["09", "12", "9", "123", "31", "00"])
FOUR = st.sampled_from(["2023", "1999", "1989", "202", "20231"])
#: Near-misses of one date: each part right or slightly off.
ISO_LIKE = st.tuples(
    FOUR, st.sampled_from("-/"), TWO, st.just("-"), TWO, st.sampled_from("T x"), TWO, st.just(":"), TWO
).map("".join)
SLASH_LIKE = st.tuples(
    st.sampled_from(["Mar", "mar", "Xyz", "ab", "Mars", "é", " "]),
    st.sampled_from("/-"),
    TWO,
    st.just("/"),
    FOUR,
).map("".join)


@given(st.lists(st.one_of(PIECES, ISO_LIKE, SLASH_LIKE), max_size=12).map("".join))
def test_pre_check_never_hides_a_date(sample: str) -> None:
    if _FULL_DATE.search(sample) is not None:
        assert _may_hold_date(sample)
    assert latest_date(sample) == _scan_everything(sample)
