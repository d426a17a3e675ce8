import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.clean.mac import mac_expr, normalise_mac, normalise_mac_series

CASES = [
    ("colon", "00:17:10:88:BC:02", "00:17:10:88:bc:02"),
    ("dash-ecs", "00-17-10-88-BC-02", "00:17:10:88:bc:02"),
    ("cisco-dotted", "0017.1088.bc02", "00:17:10:88:bc:02"),
    ("bare", "00171088BC02", "00:17:10:88:bc:02"),
    ("single-digit-groups", "0:17:10:88:bc:2", "00:17:10:88:bc:02"),
    ("padded", "  00:17:10:88:bc:02 ", "00:17:10:88:bc:02"),
    ("truncated-mikrotik", "1:1:1:1:", None),
    ("mixed-separators", "00:17-10:88:bc:02", None),
    ("seven-groups", "00:17:10:88:bc:02:03", None),
    ("not-hex", "00:17:10:88:bc:zz", None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_normalise_mac(raw: str, expected: str | None) -> None:
    assert normalise_mac(raw) == expected


def test_vectorised_forms_agree_with_row_function() -> None:
    values = [c[1] for c in CASES] + [None]
    frame = pl.DataFrame({"m": values})
    expected = [normalise_mac(v) for v in values]
    assert frame.select(mac_expr(pl.col("m")))["m"].to_list() == expected
    assert normalise_mac_series(frame["m"]).to_list() == expected


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ".", ""]), st.booleans())
def test_any_mac_in_any_spelling_normalises_to_the_same(raw: bytes, sep: str, upper: bool) -> None:
    hexes = raw.hex().upper() if upper else raw.hex()
    if sep == ".":
        text = ".".join(hexes[i : i + 4] for i in range(0, 12, 4))
    else:
        text = sep.join(hexes[i : i + 2] for i in range(0, 12, 2))
    canonical = ":".join(raw.hex()[i : i + 2] for i in range(0, 12, 2))
    assert normalise_mac(text) == canonical
    assert normalise_mac_series(pl.Series([text])).to_list() == [canonical]


@given(st.text(max_size=30))
def test_vectorised_matches_row_function_on_arbitrary_text(text: str) -> None:
    assert normalise_mac_series(pl.Series([text], dtype=pl.String)).to_list() == [normalise_mac(text)]
