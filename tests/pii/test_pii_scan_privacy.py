"""Whole uploads: CSV, NDJSON, JSON, XLSX and TXT through scan_paths and the CLI; no raw PII in any output,
log or error; no network access."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import orjson
import pytest
from faker import Faker
from typer.testing import CliRunner

from ppcti.kg import annotate
from ppcti.pii import PiiOptions, scan_paths, write_pii_json
from ppcti.pii.scan import flatten, records_frame

REGEX = PiiOptions(nlp="regex")


def _people(n: int = 60) -> list[dict[str, str]]:
    fk = Faker(["en_US", "de_DE", "fr_FR"])
    fk.seed_instance(2026)
    return [
        {
            "full_name": fk.name(),
            "email": fk.email(),
            "iban": fk.iban(),
            "ip": fk.ipv4_public(),
            "dob": fk.date_of_birth().isoformat(),
            "card": fk.credit_card_number(card_type="visa16"),
        }
        for _ in range(n)
    ]


def _upload(root: Path) -> list[dict[str, str]]:
    people = _people()
    root.mkdir()
    header = list(people[0])
    lines = [",".join(header)] + [",".join(p[h] for h in header) for p in people]
    (root / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    nested = [{"user": {"contact": {"mail": p["email"]}, "ip": p["ip"]}, "tags": ["a", "b"]} for p in people]
    (root / "events.ndjson").write_bytes(b"\n".join(orjson.dumps(r) for r in nested) + b"\n")
    notes = [
        f"Ticket {i}: customer {p['full_name']} wrote from {p['email']} about card {p['card']}."
        for i, p in enumerate(people[:10])
    ]
    (root / "notes.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
    (root / "broken.json").write_text('{"email": "' + people[0]["email"] + '", ', encoding="utf-8")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Staff"
    ws.append(["Name", "Telefon", "E-Mail"])
    for p in people[:30]:
        ws.append([p["full_name"], "+49 30 " + str(9018200 + len(ws["A"])), p["email"]])
    wb.save(root / "staff.xlsx")
    return people


def _raw_values(people: list[dict[str, str]]) -> set[str]:
    values = {v for p in people for v in p.values() if len(v) >= 6}
    values |= {p["card"].replace(" ", "") for p in people}
    return values


def test_scan_paths_finds_types_per_file(tmp_path: Path) -> None:
    _upload(tmp_path / "up")
    report = annotate(scan_paths([tmp_path / "up"], holder="acme", options=REGEX))
    by_file: dict[str, dict[str, str]] = {}
    for f in report.findings:
        by_file.setdefault(f.file, {})[f.column or f"{f.start}"] = f.type
    csv = by_file["customers.csv"]
    assert csv == {
        "full_name": "PERSON",
        "email": "EMAIL_ADDRESS",
        "iban": "IBAN_CODE",
        "ip": "IP_ADDRESS",
        "dob": "BIRTH_DATE",
        "card": "CREDIT_CARD",
    }
    assert by_file["events.ndjson"] == {"user.contact.mail": "EMAIL_ADDRESS", "user.ip": "IP_ADDRESS"}
    assert {"Staff!Telefon": "PHONE_NUMBER", "Staff!E-Mail": "EMAIL_ADDRESS"}.items() <= by_file[
        "staff.xlsx"
    ].items()
    text_types = {f.type for f in report.findings if f.file == "notes.txt"}
    assert {"EMAIL_ADDRESS", "CREDIT_CARD"} <= text_types
    assert all(f.line is not None and f.start is not None for f in report.findings if f.file == "notes.txt")
    statuses = {e["path"]: e["status"] for e in report.files}
    assert statuses["broken.json"] in ("skipped", "scanned")
    assert report.holder == "acme" and report.generated_at
    assert report.use_case is not None


def test_no_raw_pii_in_report_logs_or_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    people = _upload(tmp_path / "up")
    with caplog.at_level(logging.DEBUG):
        report = annotate(scan_paths([tmp_path / "up"], holder="acme", options=REGEX))
    out = tmp_path / "pii.json"
    write_pii_json(report, out)
    written = out.read_text(encoding="utf-8")
    assert '"findings"' in written
    leaked = [v for v in _raw_values(people) if v in written or v in caplog.text]
    assert leaked == []
    reasons = " ".join(str(e.get("reason", "")) for e in report.files)
    assert people[0]["email"] not in reasons


def test_no_network_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Presidio's e-mail recogniser calls tldextract, which would fetch the public suffix list."""
    import tldextract

    from ppcti.pii import text as text_mod

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    text_mod._analyzer_for.cache_clear()
    for mode in ("regex", "spacy"):
        found = text_mod.analyze_text(
            "reach me at jo@example.co.uk or www.example.org", file="a.txt", options=PiiOptions(nlp=mode)
        )
        assert "EMAIL_ADDRESS" in {f.type for f in found}
    assert tldextract.extract("mail.example.co.uk").suffix == "co.uk"
    import tldextract.tldextract as tt

    assert tt.TLD_EXTRACTOR.suffix_list_urls == ()  # even with an empty cache nothing would be fetched


def test_cli_writes_pii_json_and_kg(tmp_path: Path) -> None:
    from ppcti.cli import app

    _upload(tmp_path / "up")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["pii", str(tmp_path / "up"), "--out", str(out), "--holder", "acme", "--nlp", "regex"]
    )
    assert result.exit_code == 0, result.output
    data = orjson.loads((out / "pii.json").read_bytes())
    assert {f["type"] for f in data["findings"]} >= {"EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD"}
    assert all("examples" not in f or all("*" in e for e in f["examples"]) for f in data["findings"])
    assert (out / "kg.ttl").read_text(encoding="utf-8").strip()


def test_cli_bad_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    from ppcti.cli import app

    (tmp_path / "in.txt").write_text("nothing here\n", encoding="utf-8")
    rules = tmp_path / "r.yaml"
    rules.write_text("rules: [{name: X_ID, regex: '(secret-value'}]", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "pii",
            str(tmp_path / "in.txt"),
            "--out",
            str(tmp_path / "o"),
            "--rules",
            str(rules),
            "--nlp",
            "regex",
        ],
    )
    assert result.exit_code != 0
    assert "secret-value" not in str(result.exception) + result.output


def test_flatten_json_paths() -> None:
    record = {"user": {"address": {"zip": "10115"}, "mails": ["a@x.org", "b@x.org"]}, "n": 3, "none": None}
    assert list(flatten(record)) == [
        ("user.address.zip", "10115"),
        ("user.mails[]", "a@x.org"),
        ("user.mails[]", "b@x.org"),
        ("n", 3),
    ]
    df = records_frame(iter([record, {"user": {"address": {"zip": "20095"}}}]))
    assert df["user.address.zip"].to_list() == ["10115", None, "20095"]
    assert df["user.mails[]"].to_list() == ["a@x.org", "b@x.org", None]
