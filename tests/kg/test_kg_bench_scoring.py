"""The PII benchmark's generator and scorers (bench/pii_eval.py): wrong labels or a wrong scorer would
make every reported figure meaningless, so they are tested like product code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn

_PATH = Path(__file__).resolve().parents[2] / "bench" / "pii_eval.py"
_spec = importlib.util.spec_from_file_location("ppcti_bench_pii_eval", _PATH)
assert _spec is not None
assert _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)


def _ds(name, style, cols):
    return bench.Dataset(name=name, locale="en_US", style=style,
                         columns=[bench.Column(header=h, values=["x"], label=lab, scored=sc)
                                  for h, lab, sc in cols])


def test_score_columns_counts_tp_fp_fn_and_skips_unscored():
    ds = _ds("d", "clear", [("a", "EMAIL_ADDRESS", True), ("b", "PERSON", True), ("c", None, True),
                            ("d", "AGE", False), ("e", "IBAN_CODE", True)])
    preds = {"d": {"a": "EMAIL_ADDRESS", "b": "LOCATION", "c": "PHONE_NUMBER", "d": "DATE_TIME"}}
    s = bench.score_columns([ds], preds)
    assert dict(s.tp) == {"EMAIL_ADDRESS": 1}
    assert dict(s.fn) == {"PERSON": 1, "IBAN_CODE": 1}
    assert dict(s.fp) == {"LOCATION": 1, "PHONE_NUMBER": 1}
    assert s.prf("EMAIL_ADDRESS") == (1.0, 1.0, 1.0)
    assert s.prf("PERSON") == (0.0, 0.0, 0.0)
    # types without support do not dilute the macro average; AGE was unscored
    assert s.macro_f1(["EMAIL_ADDRESS", "PERSON", "IBAN_CODE", "AGE", "URL"]) == pytest.approx(1 / 3)
    errors = bench.confusions([ds], preds)
    assert errors[("PERSON", "LOCATION", "clear")] == 1
    assert errors[("-", "PHONE_NUMBER", "clear")] == 1
    assert ("AGE", "DATE_TIME", "clear") not in errors


def test_score_spans_iou_type_and_single_use():
    truth = [(0, 10, "PERSON"), (20, 30, "EMAIL_ADDRESS"), (40, 50, "IP_ADDRESS")]
    pred = [(0, 9, "PERSON"), (0, 10, "PERSON"), (20, 24, "EMAIL_ADDRESS"), (40, 50, "URL"), (60, 70, "URL")]
    s = bench.score_spans(truth, pred)
    assert s.tp["PERSON"] == 1
    assert s.fp["PERSON"] == 1  # second prediction of the same span is not a second hit
    assert s.fn["EMAIL_ADDRESS"] == 1  # IoU 0.4
    assert s.fp["EMAIL_ADDRESS"] == 1
    assert s.fn["IP_ADDRESS"] == 1
    assert s.fp["URL"] == 2
    p, r, f1 = s.micro()
    assert (p, r) == (pytest.approx(1 / 5), pytest.approx(1 / 3))
    assert f1 == pytest.approx(2 * p * r / (p + r))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 20), st.sampled_from(["A", "B"])), max_size=15))
def test_perfect_prediction_scores_one(spans):
    truth = sorted({(s, s + n, t) for s, n, t in spans})
    s = bench.score_spans(truth, list(truth))
    assert sum(s.fp.values()) == 0
    assert sum(s.fn.values()) == 0
    if truth:
        assert s.micro() == (1.0, 1.0, 1.0)


@pytest.fixture(scope="module")
def datasets():
    return bench.generate_datasets(seed=3, rows=12)


def test_generator_is_deterministic_and_complete(datasets):
    again = bench.generate_datasets(seed=3, rows=12)
    assert [[(c.header, c.values) for c in d.columns] for d in datasets] == \
           [[(c.header, c.values) for c in d.columns] for d in again]
    assert len(datasets) == len(bench.LOCALES) * len(bench.STYLES)
    labels = {c.label for d in datasets for c in d.columns}
    assert labels - {None} == set(bench.HEADERS)
    for d in datasets:
        assert len({c.header for c in d.columns}) == len(d.columns)
        frame = d.frame()
        assert frame.columns == [c.header for c in d.columns]
        assert frame.height == 12


def test_weak_types_unscored_only_without_a_header(datasets):
    for d in datasets:
        names = d.frame().columns
        for c in d.columns:
            opaque = d.style == "headerless" or c.header.startswith("c_")
            assert c.scored == (not (c.label in bench.WEAK_TYPES and opaque)), (d.name, c.header)
            if d.style == "headerless":
                assert c.header.startswith("column_")
                assert c.header in names


def test_generated_values_carry_the_labelled_type(datasets):
    from stdnum.br import cpf
    from stdnum.de import idnr
    from stdnum.es import dni, nie
    from stdnum.fr import nif, nir
    from stdnum.it import codicefiscale
    from stdnum.nl import bsn
    from stdnum.us import itin, ssn

    checks = {
        "CREDIT_CARD": lambda v: luhn.is_valid(v),
        "IBAN_CODE": lambda v: iban.is_valid(v),
        "MEDICAL_LICENSE": lambda v: int(v[-1])
        == (sum(map(int, v[2:8:2])) + 2 * sum(map(int, v[3:8:2]))) % 10,
        "TAX_ID": lambda v: any(m.is_valid(v) for m in (idnr, cpf, nif, itin)),
        "NATIONAL_ID": lambda v: any(m.is_valid(v) for m in (ssn, nir, bsn, dni, nie, codicefiscale)),
        "CRYPTO": lambda v: v.startswith(("1", "3", "bc1", "0x")),
    }
    for d in datasets:
        for c in d.columns:
            if c.label in checks:
                assert all(checks[c.label](v) for v in c.values), (d.name, c.label, c.header)


def test_bitcoin_addresses_have_valid_checksums():
    import hashlib
    import random

    rng = random.Random(1)
    alphabet = bench._B58
    for _ in range(30):
        addr = bench.crypto_address(rng)
        if addr[0] in "13":
            n = 0
            for ch in addr:
                n = n * 58 + alphabet.index(ch)
            raw = n.to_bytes(25, "big")
            assert hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]
        elif addr.startswith("bc1"):
            assert len(addr) == 42
            assert set(addr[3:]) <= set(bench._BECH32)


def test_free_text_spans_point_at_the_values():
    text, spans = bench.free_text_corpus(40, seed=5)
    assert spans
    assert spans == sorted(spans)
    for start, end, typ in spans:
        piece = text[start:end]
        assert piece
        assert piece == piece.strip()
        assert "\n" not in piece
        if typ == "EMAIL_ADDRESS":
            assert "@" in piece


def test_render_reports_figures_and_shortfalls():
    ours, theirs = bench.Scores(), bench.Scores()
    for _ in range(4):
        ours.add("EMAIL_ADDRESS", "EMAIL_ADDRESS")
        theirs.add("EMAIL_ADDRESS", "EMAIL_ADDRESS")
    ours.add("AGE", None)
    ours.add("AGE", "AGE")
    theirs.add("AGE", None)
    text = bench.Scores()
    text.add("PHONE_NUMBER", None)
    text.fp["NATIONALITY"] += 1
    res = {
        "command": "python bench/pii_eval.py --quick", "when": "now", "machine": "test", "seed": 1,
        "rows": 10,
        "n_datasets": 1, "n_columns": 6, "n_unscored": 0, "n_neg": 2, "presidio_sample": 5,
        "ppcti_scores": ours, "presidio_scores": theirs,
        "ppcti_errors": bench.Counter({("AGE", "-", "clear"): 1}),
        "neg_fp_ours": 0, "neg_fp_theirs": 1, "ppcti_s": 1.0, "ppcti_cells": 60, "presidio_s": 2.0,
        "presidio_cells": 30, "by_style": {"clear": (0.83, 0.5)},
        "throughput": {"rows": 10, "columns": 20, "cells": 200, "csv_mb": 0.1, "read_s": 0.1,
                       "classify_s": 0.2, "total_s": 0.3, "cells_per_s": 666.0, "correct_columns": 15,
                       "negatives_flagged": 0},
        "text": {"sentences": 1, "chars": 10, "truth_spans": 1, "ppcti": text, "ppcti_s": 0.1},
    }
    md = bench.render(res)
    assert "**AGE** P 1.000 R 0.500 F1 0.667. Missed: 1x as - (clear)" in md
    assert "| EMAIL_ADDRESS | 4 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |" in md
    assert "PHONE_NUMBER (1 of 1 spans missed, 0 false spans)" in md
    assert "1x NATIONALITY" in md
    assert "python bench/pii_eval.py --quick" in md
