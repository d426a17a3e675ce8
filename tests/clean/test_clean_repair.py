import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean.repair import Role, read_row
from ppcti.clean.timestamps import TimeContext

ROLES = [Role.DATE, Role.ADDRESS, Role.ADDRESSES, Role.TEXT, Role.TOKEN]
T = TimeContext()
D = "2023-03-07 10:38:03"


def test_row_that_fits_is_kept_as_is() -> None:
    (reading,) = read_row([D, "a@b.com", "c@d.com", "Hello", "spam"], ROLES, ",", T)
    assert reading.repair is None
    assert reading.values == (D, "a@b.com", "c@d.com", "Hello", "spam")


def test_spilled_recipients_and_unquoted_comma_are_joined() -> None:
    fields = [D, "a@b.com", "c@d.com", "e@f.com", "Invoice", " urgent", "spam"]
    (reading,) = read_row(fields, ROLES, ",", T)
    assert reading.repair == "extra"
    assert reading.values == (D, "a@b.com", "c@d.com,e@f.com", "Invoice, urgent", "spam")


def test_missing_comma_between_date_and_sender_is_split() -> None:
    (reading,) = read_row([D + "a@b.com", "c@d.com", "Hello", "spam"], ROLES, ",", T)
    assert reading.repair == "merged"
    assert reading.values[:2] == (D, "a@b.com")


def test_two_glued_addresses_are_ambiguous() -> None:
    readings = read_row([D, "a@b.comc@d.com", "Hello", "spam"], ROLES, ",", T)
    assert len(readings) != 1


def test_no_reading_when_types_do_not_fit() -> None:
    assert read_row(["not a date", "a@b.com", "c@d.com", "Hello", "spam"], ROLES, ",", T) == []


@given(st.lists(st.text(alphabet='ab@.c, "<>-0123:', max_size=12), max_size=9))
def test_never_raises_and_readings_cover_all_fields(fields: list[str]) -> None:
    for reading in read_row(fields, ROLES, ",", T):
        if reading.values:
            assert len(reading.values) == len(ROLES)
            if reading.repair != "merged":
                assert ",".join(reading.values) == ",".join(fields)


@pytest.mark.parametrize("extra_subject", ["Re: invoice", "a, b, c"])
def test_subject_with_commas_only_repairs_when_unique(extra_subject: str) -> None:
    fields = [D, "a@b.com", "c@d.com", *extra_subject.split(","), "spam"]
    readings = read_row(fields, ROLES, ",", T)
    assert len(readings) == 1
    assert readings[0].values[3] == extra_subject
