"""Known non-personal log fields (rule names, user agents, certificate DNs) yield no PII findings on the
real corpora in tests/data/corpora, while prose columns elsewhere are still analysed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ppcti.pii import PiiOptions, classify_table, scan_paths
from ppcti.pii.columns import non_personal_field

CORPORA = Path(__file__).resolve().parents[1] / "data" / "corpora"
NON_PERSONAL = ("signature", "user_agent", "issuerdn", "subject", "category", "ja3", "sni")


@pytest.mark.parametrize("corpus", ["suricata", "mikrotik"])
def test_no_findings_on_non_personal_log_fields(corpus: str) -> None:
    report = scan_paths([CORPORA / corpus], options=PiiOptions(nlp="auto"))
    bad = [
        (f.column, f.type)
        for f in report.findings
        if f.column is not None and any(k in f.column.lower() for k in NON_PERSONAL)
    ]
    assert bad == []
    if corpus == "suricata":  # the addresses in the same events are still found
        assert {"src_ip", "dest_ip"} <= {f.column for f in report.findings if f.type == "IP_ADDRESS"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("alert.signature", True), ("http.http_user_agent", True), ("tls.issuerdn", True), ("ja3s.hash", True),
     ("src_ip", False), ("comment", False), ("customer.notes", False), ("user.name", False)],
)  # fmt: skip
def test_non_personal_field_names(name: str, expected: bool) -> None:
    assert non_personal_field(name) is expected


def test_prose_column_with_another_header_is_still_analysed() -> None:
    notes = [
        f"Call back Maria Rossi on +44 20 7946 09{i:02d} about the refund of order {i}." for i in range(40)
    ]
    df = pl.DataFrame({"notes": notes, "alert.signature": notes})
    found = {(f.column, f.type) for f in classify_table(df, file="t.csv", options=PiiOptions(nlp="regex"))}
    assert ("notes", "PHONE_NUMBER") in found
    assert not any(col == "alert.signature" for col, _ in found)
