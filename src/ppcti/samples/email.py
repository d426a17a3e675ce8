"""``email-csv``: e-mail security gateway exports (CSV and XLSX) with the defects of real exports.

The header is ``date,sender,recipients,subject,verdict,size``. ``recipients`` holds one address or
several joined with ``;``; a broken exporter sometimes spills them into extra columns, so the row has
more fields than the header. Every defect is generated only where the field types make the repair
unambiguous: the date and sender are merged only when the address starts with a letter, a stray comma
is left unquoted only in the subject (the one free-text field) with no white space beside it, and
addresses never contain a comma or appear in subjects. Rows no repair can save (a merged sender and
recipient, a repeated header, a footer) are expected rejects.

Date styles, one per file: ``2023-03-09 10:38:03`` (no zone), RFC 2822 with an offset, and
``14/03/2023 10:38`` (day first; every such date has a day above 12, so the order cannot be misread).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ppcti.samples import timefmt as tf
from ppcti.samples.common import Clock, FilePlan, forced_positions
from ppcti.samples.pools import COMMA_SUBJECTS, LURE_SUBJECTS, STRAY_COMMA_SUBJECTS, SUBJECTS, VERDICTS, Pools
from ppcti.samples.truth import KeyGuard, TruthWriter

FORMAT = "email-csv"
HEADER: tuple[str, ...] = ("date", "sender", "recipients", "subject", "verdict", "size")

#: Spreadsheets are slow to write and rarely huge in practice, so the XLSX member is capped.
XLSX_MAX_ROWS = 20_000

PLANS: tuple[FilePlan, ...] = (
    FilePlan("mail-export.csv", FORMAT, "iso", 35, (2023, 3, 9)),
    FilePlan("mail-gateway.csv", FORMAT, "rfc2822", 30, (2023, 3, 11)),
    FilePlan("mail-quarantine.csv", FORMAT, "dmy", 20, (2023, 3, 14)),
    FilePlan("mail-export.xlsx", FORMAT, "xlsx", 15, (2023, 3, 16), max_rows=XLSX_MAX_ROWS),
)
_RFC2822_OFFSETS = (60, 60, 0, -300, 330, 120)

P_DUP_EXACT = 0.015
P_DUP_NORM = 0.012
P_AMBIGUOUS = 0.01
P_MERGED = 0.02
P_STRAY_COMMA = 0.015
P_SPILL = 0.08  # of rows with several recipients
P_DECORATE = 0.015  # per address
P_UPPER_DOMAIN = 0.008


@dataclass(frozen=True, slots=True)
class _Mail:
    us: int
    sender: str
    recipients: tuple[str, ...]
    subject: str
    verdict: str
    size: int


def _draw_mail(rng: random.Random, pools: Pools, us: int) -> _Mail:
    q = rng.random()
    verdict = rng.choices(VERDICTS, weights=pools.verdict_weights)[0]
    if verdict in ("phishing", "malware", "suspicious") or (verdict == "spam" and rng.random() < 0.6):
        sender = pools.hostile_users[rng.randrange(len(pools.hostile_users))]
        rcpt_pool = pools.internal_users
    elif q < 0.7:
        sender = pools.external_users[rng.randrange(len(pools.external_users))]
        rcpt_pool = pools.internal_users
    elif q < 0.88:
        sender = pools.internal_users[rng.randrange(len(pools.internal_users))]
        rcpt_pool = pools.external_users
    else:
        sender = pools.internal_users[rng.randrange(len(pools.internal_users))]
        rcpt_pool = pools.internal_users
    k = 1 if rng.random() < 0.7 else rng.randrange(2, 6)
    recipients: dict[str, None] = {}
    while len(recipients) < k:
        address = rcpt_pool[rng.randrange(len(rcpt_pool))]
        if address != sender:
            recipients.setdefault(address, None)
    subjects = LURE_SUBJECTS if sender in pools.hostile_users else SUBJECTS
    if rng.random() < 0.08:
        subject = COMMA_SUBJECTS[rng.randrange(len(COMMA_SUBJECTS))]
    else:
        subject = subjects[rng.randrange(len(subjects))]
    return _Mail(us, sender, tuple(recipients), subject, verdict, rng.randrange(900, 4_000_000))


def _decorate(rng: random.Random, address: str, defects: list[str], *, alone: bool) -> str:
    """The address as a sloppy exporter writes it; ``alone`` when it is the only one in its field."""
    if rng.random() < P_UPPER_DOMAIN:
        local, domain = address.split("@")
        address = f"{local}@{domain.upper()}"
        defects.append("uppercase_domain")
    if rng.random() < P_DECORATE:
        forms = ("<{}>", "<-{}", "'{}'", '"{}"', "{};", "{}.", "{},") if alone else ("<{}>", "'{}'")
        address = forms[rng.randrange(len(forms))].format(address)
        defects.append("email_stray_chars")
    return address


def _field(text: str) -> str:
    if "," in text or '"' in text or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _date_text(style: str, us: int, rng: random.Random) -> str:
    if style == "iso":
        return tf.iso_space(us)
    if style == "dmy":
        return tf.dmy_minutes(us)
    return _field(tf.rfc2822(us, _RFC2822_OFFSETS[rng.randrange(len(_RFC2822_OFFSETS))]))


def _cells(rng: random.Random, mail: _Mail, spill: bool, defects: list[str]) -> tuple[str, list[str]]:
    """Sender text and recipient field texts (one field, or one per address when spilled)."""
    sender = _decorate(rng, mail.sender, defects, alone=True)
    if spill:
        return sender, [_decorate(rng, r, defects, alone=True) for r in mail.recipients]
    if len(mail.recipients) == 1:
        return sender, [_decorate(rng, mail.recipients[0], defects, alone=True)]
    sep = ";" if rng.random() < 0.3 else "; "
    return sender, [sep.join(_decorate(rng, r, defects, alone=False) for r in mail.recipients)]


def _truth_fields(mail: _Mail, ts: str) -> dict[str, object]:
    """The expected event; e-mail events carry ``protocol: SMTP`` (the transport of every such entry)."""
    return {
        "timestamp": ts,
        "protocol": "SMTP",
        "emails": [mail.sender, *mail.recipients],
        "extra": {
            "sender": mail.sender,
            "recipients": list(mail.recipients),
            "subject": mail.subject,
            "verdict": mail.verdict,
        },
    }


def _structural(rng: random.Random, style: str, mail: _Mail) -> str | None:
    """At most one row-level defect per row, so each repair stays unambiguous."""
    r = rng.random()
    if len(mail.recipients) > 1 and r < P_SPILL:
        return "spilled_recipients"
    r = rng.random()
    if r < P_MERGED:
        return "merged_field" if style != "rfc2822" else None
    if r < P_MERGED + P_STRAY_COMMA:
        return "stray_comma"
    return None


def _csv_row(rng: random.Random, style: str, mail: _Mail, structural: str | None, defects: list[str]) -> str:
    """Render one mail as a CSV line with the given row-level defect (or none)."""
    sender, rcpt_fields = _cells(rng, mail, structural == "spilled_recipients", defects)
    date = _date_text(style, mail.us, rng)
    if structural == "merged_field":
        # The sender stays plain: the split point is where the date pattern ends and a letter begins.
        defects[:] = [d for d in defects if d not in ("email_stray_chars", "uppercase_domain")]
        _, rcpt_fields = _cells(rng, mail, False, defects)
        head = [date + mail.sender]
    else:
        head = [date, _field(sender)]
    subject = mail.subject if structural == "stray_comma" else _field(mail.subject)
    if structural:
        defects.append(structural)
    return ",".join([*head, *(_field(f) for f in rcpt_fields), subject, mail.verdict, str(mail.size)])


def write_csv(
    handle: IO[str], plan: FilePlan, rows: int, seed: int, pools: Pools, truth: TruthWriter
) -> None:
    """Write one CSV export of ``rows`` data rows (header not counted) and its ground truth."""
    rng = random.Random(f"ppcti-samples:{seed}:{plan.name}")
    clock = Clock(rng, plan.day, rows)
    guard = KeyGuard()
    newline = "\r\n" if plan.style == "rfc2822" else "\n"
    if plan.style == "rfc2822":
        handle.write("\ufeff")  # exported on Windows: BOM and CRLF
    out: list[str] = [",".join(HEADER)]
    recent: list[tuple[int, _Mail, str, bool]] = []  # (line, mail, text, row-level defect)
    repeat_header_at = rng.randrange(rows // 3, rows) + 2 if rows >= 60 else -1
    footer = rows >= 30 and rng.random() < 0.6
    kinds = ("dup_exact", "dup_norm", "ambiguous", "stray_comma", "spilled_recipients")
    forced = forced_positions(rng, rows, (*kinds, "merged_field") if plan.style != "rfc2822" else kinds)
    name = plan.name
    for number in range(2, rows + 2):
        us = clock.tick()
        if plan.style == "dmy":
            us = clock.now = us - us % (60 * tf.US)
        ts = tf.stix(us)
        r = rng.random()
        force = forced.get(number - 2)
        r = {"dup_exact": 0.0, "dup_norm": P_DUP_EXACT, "ambiguous": P_DUP_EXACT + P_DUP_NORM}.get(
            force or "", r
        )
        if number == repeat_header_at:
            out.append(",".join(HEADER))
            truth.reject(FORMAT, name, number, "not_a_record", defects=("repeated_header",))
        elif footer and number == rows + 1:
            out.append(f"Total: {rows - 1} messages")
            truth.reject(FORMAT, name, number, "not_a_record", defects=("footer",))
        elif r < P_DUP_EXACT + P_DUP_NORM and recent:
            of_line, mail, text, structural_defect = recent[rng.randrange(len(recent))]
            original = text
            if r >= P_DUP_EXACT and not structural_defect:
                # The same message exported again with other address spellings. Not done for repaired
                # rows: whether a repair marker is part of the event would be a second reading.
                text = _csv_row(rng, plan.style, mail, None, [])
            out.append(text)
            truth.duplicate(FORMAT, name, number, of_line, "exact" if text == original else "normalised")
        elif r < P_DUP_EXACT + P_DUP_NORM + P_AMBIGUOUS:
            # Sender and recipient run together: no field type says where one address ends.
            mail = _draw_mail(rng, pools, us)
            out.append(
                ",".join(
                    [
                        _date_text(plan.style, us, rng),
                        mail.sender + mail.recipients[0],
                        _field(mail.subject),
                        mail.verdict,
                        str(mail.size),
                    ]
                )
            )
            truth.reject(FORMAT, name, number, "ambiguous_repair", defects=("merged_field_ambiguous",))
        else:
            for _ in range(50):
                mail = _draw_mail(rng, pools, us)
                structural = _structural(rng, plan.style, mail)
                if force in ("stray_comma", "merged_field", "spilled_recipients"):
                    if force == "spilled_recipients" and len(mail.recipients) < 2:
                        continue
                    structural = force
                if structural == "stray_comma":
                    mail = replace(
                        mail, subject=STRAY_COMMA_SUBJECTS[rng.randrange(len(STRAY_COMMA_SUBJECTS))]
                    )
                if guard.claim(ts, (mail.sender, mail.recipients, mail.subject, mail.verdict)):
                    break
            if structural == "spilled_recipients" and len(mail.recipients) < 2:
                structural = None
            defects: list[str] = []
            text = _csv_row(rng, plan.style, mail, structural, defects)
            out.append(text)
            truth.event(FORMAT, name, number, _truth_fields(mail, ts), defects=defects)
            recent.append((number, mail, text, structural is not None))
            if len(recent) > 64:
                del recent[:32]
        if len(out) >= 2048:
            handle.write(newline.join(out) + newline)
            out.clear()
    if out:
        handle.write(newline.join(out) + newline)


def write_xlsx(path: Path, plan: FilePlan, rows: int, seed: int, pools: Pools, truth: TruthWriter) -> None:
    """Write the spreadsheet export: real date cells, spilled recipients, sloppy addresses, a footer."""
    from openpyxl import Workbook

    from ppcti.samples.archive import deterministic_zip_rewrite

    rng = random.Random(f"ppcti-samples:{seed}:{plan.name}")
    clock = Clock(rng, plan.day, rows)
    guard = KeyGuard()
    wb = Workbook()  # not write-only: that mode leaves out the sheet dimension readers rely on
    ws = wb.active
    ws.title = "Messages"
    ws.append(list(HEADER))
    recent: list[tuple[int, _Mail, list[object], bool]] = []
    footer = rows >= 30 and rng.random() < 0.6
    forced = forced_positions(rng, rows, ("dup_exact", "dup_norm", "spilled_recipients"))
    for number in range(2, rows + 2):
        us = clock.tick()
        ts = tf.stix(us - us % tf.US)
        r = rng.random()
        force = forced.get(number - 2)
        r = {"dup_exact": 0.0, "dup_norm": P_DUP_EXACT}.get(force or "", r)
        if footer and number == rows + 1:
            ws.append([f"Total: {rows - 1} messages"])
            truth.reject(FORMAT, plan.name, number, "not_a_record", defects=("footer",))
            continue
        if r < P_DUP_EXACT + P_DUP_NORM and recent:
            of_line, mail, original, spilled = recent[rng.randrange(len(recent))]
            cells = original
            if r >= P_DUP_EXACT:
                sender, rcpt = _cells(rng, mail, spilled, [])
                cells = [original[0], sender, *rcpt, mail.subject, mail.verdict, mail.size]
            ws.append(cells)
            truth.duplicate(
                FORMAT, plan.name, number, of_line, "exact" if cells == original else "normalised"
            )
            continue
        for _ in range(50):
            mail = _draw_mail(rng, pools, us)
            if force == "spilled_recipients" and len(mail.recipients) < 2:
                continue
            if guard.claim(ts, (mail.sender, mail.recipients, mail.subject, mail.verdict)):
                break
        defects: list[str] = []
        spill = len(mail.recipients) > 1 and (rng.random() < P_SPILL or force == "spilled_recipients")
        if spill:
            defects.append("spilled_recipients")
        sender, rcpt = _cells(rng, mail, spill, defects)
        when = datetime.fromtimestamp(us // tf.US, UTC).replace(tzinfo=None)
        cells = [when, sender, *rcpt, mail.subject, mail.verdict, mail.size]
        ws.append(cells)
        truth.event(FORMAT, plan.name, number, _truth_fields(mail, ts), defects=defects)
        recent.append((number, mail, cells, spill))
        if len(recent) > 64:
            del recent[:32]
    buffer = io.BytesIO()
    wb.save(buffer)
    deterministic_zip_rewrite(buffer.getvalue(), path)
