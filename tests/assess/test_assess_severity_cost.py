"""ENISA severity and the cost figures."""

from __future__ import annotations

import pytest

from ppcti.assess import cost
from ppcti.assess.catalogue import candidates, sources
from ppcti.assess.severity import band, severity

BREACH = {"confidentiality": "unknown", "integrity": "none", "availability": "none", "malicious": True,
          "volume_high": False, "publicly_available": False}


@pytest.mark.parametrize(("score", "expected"), [
    (0.25, "low"), (1.99, "low"), (2.0, "medium"), (2.99, "medium"), (3.0, "high"), (3.99, "high"),
    (4.0, "very high"), (5.5, "very high"),
])
def test_enisa_bands(score: float, expected: str) -> None:
    assert band(score) == expected


def test_enisa_example_financial_data_to_unknown_recipients() -> None:
    # ENISA (2013): financial data (DPC 3), identification maximum (EI 1), confidentiality lost to
    # unknown recipients (+0.5) with malicious intent (+0.5): SE = 3 x 1 + 1 = 4, very high.
    s = severity(types={"IBAN_CODE", "PERSON"}, special=set(), direct={"PERSON"}, quasi=set(), min_k=None,
                 reid_flag=False, breach=BREACH, subjects=["customers"])
    assert (s["dpc"]["value"], s["ei"]["value"], s["cb"]["value"], s["score"]) == (3, 1.0, 1.0, 4.0)
    assert s["band"] == "very high"


def test_simple_data_limited_identification_known_recipient() -> None:
    breach = {**BREACH, "confidentiality": "known", "malicious": False}
    s = severity(types={"AGE", "GENDER"}, special=set(), direct=set(), quasi={"AGE", "GENDER"}, min_k=8,
                 reid_flag=False, breach=breach, subjects=["customers"])
    assert s["dpc"]["category"] == "simple" and s["ei"]["level"] == "limited"
    assert s["score"] == pytest.approx(1 * 0.5 + 0.25) and s["band"] == "low"


def test_context_adjusts_dpc_within_bounds() -> None:
    vulnerable = severity(types={"SMOKING_STATUS"}, special={"SMOKING_STATUS"}, direct=set(), quasi=set(),
                          min_k=None, reid_flag=False, breach=BREACH, subjects=["minors"])
    assert vulnerable["dpc"]["base"] == 4 and vulnerable["dpc"]["value"] == 4  # capped at 4
    public = severity(types={"PERSON"}, special=set(), direct={"PERSON"}, quasi=set(), min_k=None,
                      reid_flag=False, breach={**BREACH, "publicly_available": True}, subjects=[])
    assert public["dpc"]["value"] == 1  # floor 1
    singled = severity(types={"AGE"}, special=set(), direct=set(), quasi={"AGE"}, min_k=1, reid_flag=False,
                       breach=BREACH, subjects=[])
    assert singled["ei"]["level"] == "significant"


def test_fines_take_the_higher_of_cap_and_turnover_share() -> None:
    small = {f["article"]: f["max_eur"] for f in cost.fines(1e6)}
    big = {f["article"]: f["max_eur"] for f in cost.fines(2e9)}
    assert small == {"83(4)": 10_000_000, "83(5)": 20_000_000}
    assert big == {"83(4)": pytest.approx(40e6), "83(5)": pytest.approx(80e6)}


def test_average_cost_most_specific_then_newest() -> None:
    assert cost.average_cost("healthcare", "EU") == {
        "scope": "sector:healthcare", "usd": 7_420_000, "source": "ibm-2025", "year": 2025}
    assert cost.average_cost("public", "US")["usd"] == 10_220_000
    assert cost.average_cost("financial", "EU") == {
        "scope": "sector:financial", "usd": 6_080_000, "source": "ibm-2024", "year": 2024}
    assert cost.average_cost("retail", "other")["usd"] == 4_440_000


def test_monte_carlo_annual_loss() -> None:
    a = cost.annual_loss(2.0, 1_000_000, draws=200_000)
    assert a["mean"] == pytest.approx(2_000_000, rel=0.03)  # E[N] x E[X]
    assert a["median"] < a["mean"] < a["p90"]
    assert cost.annual_loss(2.0, 1_000_000, draws=1000) == cost.annual_loss(2.0, 1_000_000, draws=1000)
    assert cost.annual_loss(0.0, 1_000_000, draws=1000)["p90"] == 0
    one = cost.per_breach(1_000_000)
    assert one["median"] < one["mean"] < one["p90"]


def test_every_cited_source_and_cell_exists() -> None:
    known = sources()
    for key, pet in candidates().items():
        for cell in pet["scores"].values():
            assert cell["source"] in known, key
            assert cell["note"]
        for field in ("latency_s", "loss_reduction", "annual_cost_eur"):
            assert pet[field]["source"] in known
    for row in cost.costs()["average_breach_cost"]:
        assert row["source"] in known and known[row["source"]]["year"]
    rows = cost.rosi(100_000, candidates())
    assert [r["rosi"] for r in rows] == sorted((r["rosi"] for r in rows), reverse=True)
