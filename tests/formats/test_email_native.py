"""The compiled row reader of ``email-csv`` (``ppcti-native``) against the Python reference.

The reference (``PPCTI_NATIVE=0``: ``CsvRecords`` and ``_Rows.add`` per row) is the specification: with
the compiled reader on, a run must write the same bytes to ``events.jsonl``, ``rejects.jsonl`` and the
cleaned copy, and a parse must give the same frames, rejects and notes. The property test builds files
from the near misses of every rule the reader decides itself (dates in each style and just outside it,
addresses with stray characters, upper-case domains, Unicode and white space, quoted fields with
delimiters, doubled quotes, line breaks and unbalanced quotes, rows with fields missing or spilled, blank
and binary lines, a byte-order mark, CRLF), in chunks small enough that records cross them, so that each
rule's "certain" and "leave it to Python" sides are both reached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from formats_helpers import assert_same_outputs, core_run, source_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from native_marks import native_part
from ppcti.clean.timestamps import TimeContext
from ppcti.formats import ParseOptions, email_csv, get
from ppcti.samples import generate

ppcti_native, pytestmark = native_part("EmailCsvReader")


class _Spy:
    """A compiled reader that counts what it decided, to prove it ran."""

    def __init__(self, reader: Any, decided: Counter[str]) -> None:
        self.reader, self.decided = reader, decided

    def read(self, lines: list[str], start: int, first_line: int) -> Any:
        return self._count(self.reader.read(lines, start, first_line))

    def read_bytes(self, data: bytes, start: int, first_line: int) -> Any:
        read = self.reader.read_bytes(data, start, first_line)
        self.decided["byte chunks"] += 1
        return None if read is None else self._count(read)

    def _count(self, read: Any) -> Any:
        table, fallback, blank, rejects = read
        self.decided["chunks"] += 1
        self.decided["events"] += pl.DataFrame(table).height
        self.decided["fallback"] += len(fallback)
        self.decided["blank"] += len(blank)
        self.decided["rejects"] += len(rejects)
        return table, fallback, blank, rejects


@contextmanager
def _native(on: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """``PPCTI_NATIVE`` set for the block; counts what the compiled reader decided."""
    decided: Counter[str] = Counter()
    real = email_csv.native_reader

    def spy(*args: Any) -> Any:
        reader = real(*args)
        return None if reader is None else _Spy(reader, decided)

    with monkeypatch.context() as m:
        m.setenv("PPCTI_NATIVE", "1" if on else "0")
        m.setattr(email_csv, "native_reader", spy)
        yield decided


def _parse(path: Path, options: ParseOptions, native: bool) -> tuple[pl.DataFrame, list, Counter, Counter]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        _native(native, monkeypatch) as decided,
        source_for(path) as source,
    ):
        batches = list(get("email-csv").parse(source, options))
    events = pl.concat([b.events for b in batches], how="vertical")
    # the pipeline sorts each batch's rejects by line, and both paths reject in line order
    rejects = sorted(
        ((r.line, r.reason, r.raw, r.stage) for b in batches for r in b.rejects), key=lambda r: r[0] or -1
    )
    notes: Counter[str] = Counter()
    for b in batches:
        notes.update(b.notes)
    headers = {b.cleaned_header for b in batches}
    assert len(headers) <= 1
    return events, rejects, +notes, decided


def _same(path: Path, options: ParseOptions | None = None) -> Counter:
    options = options or ParseOptions(batch_bytes=512)
    fast = _parse(path, options, native=True)
    reference = _parse(path, options, native=False)
    assert_frame_equal(fast[0], reference[0])
    assert fast[1] == reference[1]
    assert fast[2] == reference[2]
    assert reference[3]["chunks"] == 0
    return fast[3]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    generate(out, rows=4000, seed=7, formats=("email-csv",))
    return out


@pytest.mark.parametrize("name", ["mail-export.csv", "mail-gateway.csv", "mail-quarantine.csv"])
def test_sample_exports_parse_identically_and_mostly_natively(samples: Path, name: str) -> None:
    decided = _same(samples / name, ParseOptions(batch_bytes=16 * 1024))
    assert decided["chunks"] > 1
    assert decided["byte chunks"] == decided["chunks"]  # UTF-8: read as bytes, split by the reader
    # the compiled reader decided most rows itself; the reference read the rest
    assert decided["events"] > 5 * decided["fallback"] > 0


def test_run_outputs_are_byte_identical(
    samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = [samples / "mail-export.csv", samples / "mail-gateway.csv", samples / "mail-quarantine.csv"]
    outs = {}
    for on in (True, False):
        out = tmp_path / ("native" if on else "reference")
        with _native(on, monkeypatch) as decided:
            core_run(inputs, out, batch_bytes=32 * 1024)
        assert (decided["events"] > 0) == on
        outs[on] = out
    assert assert_same_outputs(outs[True], outs[False]) == 3


def test_a_quoted_line_break_across_chunks_is_read_by_the_reference(tmp_path: Path) -> None:
    row = "2023-03-07 10:38:{:02d},a@b.example,c@d.example,Hello,clean"
    lines = ["date,sender,recipients,subject,verdict"]
    lines += [row.format(i) for i in range(30)]
    # a subject over three lines whose middle line is a valid row on its own
    lines += ['2023-03-07 10:39:00,a@b.example,c@d.example,"Re: see', row.format(59), 'below",clean']
    lines += [row.format(i) for i in range(30)]
    path = tmp_path / "mail.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for size in (256, 512, 1000, 1 << 20):
        decided = _same(path, ParseOptions(batch_bytes=size))
        assert decided["events"] >= 60


def test_other_time_zone_leaves_naive_dates_to_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "mail.csv"
    path.write_text(
        "date,sender,recipients,subject,verdict\n"
        "2023-03-07 10:38:03,a@b.example,c@d.example,Hello,clean\n"
        '"Tue, 07 Mar 2023 10:38:03 +0100",a@b.example,c@d.example,Hello,clean\n'
        "2023-03-07T10:38:03+01:00,a@b.example,c@d.example,Hello,clean\n",
        encoding="utf-8",
    )
    decided = _same(path, ParseOptions(time=TimeContext(timezone="Europe/Vienna")))
    assert decided["events"] == 1 and decided["fallback"] == 2


# --- property test over the near misses --------------------------------------------------------------

_DATES = [  # the first 12 are decided by the compiled reader, the others by the reference
    "2023-03-07 10:38:03",
    "2023-03-07T10:38:03Z",
    "2023-03-07T10:38:03.250+01:00",
    "2023-03-07 10:38",
    "2024-02-29 10:00:00",
    " 2023-03-07 10:38:03 ",
    "14/03/2023 07:00",
    "7/3/2023 7:05:09",
    "07.03.2023 10:38:03.5",
    '"Sat, 11 Mar 2023 02:00:01 -0500"',
    '"Sat, 11 Mar 2023 02:00:01 +0530"',
    '"Sat, 1 mar 2023 02:00:01 -0000"',
    "2023-02-29 10:00:00",
    "2023-03-07 24:00:00",
    "2023-03-07\u00a010:38:03",
    "0999-01-01 00:00:00",
    "03/14/2023 07:00",
    "07/03/2023 10:38:",
    "31/02/2023 10:00",
    "07/03/23 10:00",
    '"Sat, 11 Mar 2023 02:00:01 +2400"',
    '"Sat, 11 Mar 2023 02:00:61 +0000"',
    '"Sat, 11 Foo 2023 02:00:01 +0000"',
    '"11 Mar 2023 02:00:01 GMT"',
    "Mar/07/2023 10:38:03",
    "1678185483",
    "",
    "yesterday",
]
_ADDRESSES = [  # the first 11 are decided
    "alice@corp.example",
    "Alice.Smith@Corp.EXAMPLE",
    "<bob@corp.example>",
    "<-carol@corp.example",
    "'dave@corp.example'",
    "erin@corp.example;",
    "frank@corp.example.",
    " grace@corp.example ",
    "niaj@sub.corp-x.example",
    "oscar@corp.example\u00a0",
    "",
    "heidi@corp",
    "ivan@-corp.example",
    "judy..x@corp.example",
    "mallory@corp.example1",
    "ölaf@corp.example",
    "peggy@@corp.example",
    "trent@corp.e",
    "not an address",
]
_SUBJECTS = [  # the first 10 are decided
    "Hello",
    "Invoice, urgent",
    'Say "hi"',
    "ürün ǅ",
    "  padded  ",
    "x@y.example in text",
    "a" * 70,
    "",
    "=cmd|' /C calc'!A0",
    "tab\there",
    "Line one\nline two",
]
_VERDICTS = ["clean", "spam", "phishing", "", " quarantined ", "a" * 65, "v@x"]


def _field(text: str, rng: st.DrawFn) -> str:
    if text.startswith('"'):
        return text  # already written quoted
    how = rng(st.sampled_from(["plain", "plain", "quoted", "bare"]))
    if how == "quoted" or (how == "plain" and ("," in text or '"' in text or "\n" in text)):
        return '"' + text.replace('"', '""') + '"'
    return text


@st.composite
def _row(draw: st.DrawFn) -> str:
    def pick(values: list[str], good: int) -> str:
        # mostly a value the compiled reader decides, one time in four any near miss
        return draw(st.sampled_from(values if draw(st.integers(0, 3)) == 0 else values[:good]))

    recipients = [pick(_ADDRESSES, 11) for _ in range(draw(st.integers(0, 3)))]
    separator = draw(st.sampled_from([";", "; ", ",", " "]))
    cells = [
        _field(pick(_DATES, 12), draw),
        _field(pick(_ADDRESSES, 11), draw),
        _field(separator.join(recipients), draw),
        _field(pick(_SUBJECTS, 10), draw),
        _field(pick(_VERDICTS, 5), draw),
        _field(pick(["", "192.0.2.1", "01.2.3.4", "2001:db8::1", "x"], 1), draw),
    ]
    tweak = draw(
        st.sampled_from(["", "", "", "", "drop", "spill", "merge", "quote", "stray", "blank", "nul", "dup"])
    )
    if tweak == "drop":
        del cells[draw(st.integers(0, len(cells) - 1))]
    elif tweak == "spill":
        cells[2:3] = [_field(r, draw) for r in recipients] or [""]
    elif tweak == "merge":
        cells[0:2] = [cells[0] + cells[1]]
    elif tweak == "quote":
        at = draw(st.integers(0, len(cells) - 1))
        cells[at] = '"' + cells[at]
    elif tweak == "stray":
        at = draw(st.integers(0, len(cells) - 1))
        cells[at] = f'"{cells[at]}"x' if not cells[at].startswith('"') else cells[at] + "x"
    elif tweak == "blank":
        return draw(st.sampled_from(["", " ", ",,,,,", "\t", "\u00a0,\u2003", '""']))
    elif tweak == "nul":
        cells[3] = "a\x00b"
    elif tweak == "dup":
        cells = cells[:-1]
    return ",".join(cells)


_HEADERS = st.sampled_from(
    [
        "date,sender,recipients,subject,verdict,sender ip",
        "Received,From,To,Subject,Action,Client IP",
        "date,sender,recipients,subject,verdict,size",
        "sender,date,recipients,subject,verdict,cc",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=_HEADERS,
    rows=st.lists(_row(), min_size=1, max_size=40),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_random_rows_parse_identically(
    header: str, rows: list[str], bom: bool, newline: str, tmp_path: Path
) -> None:
    path = tmp_path / "mail.csv"
    text = ("\ufeff" if bom else "") + newline.join([header, *rows]) + newline
    path.write_bytes(text.encode("utf-8"))
    _same(path, ParseOptions(batch_bytes=300))


def test_near_miss_rows_are_decided_both_ways(tmp_path: Path) -> None:
    """The property test's material reaches both sides of the reader: rows it decides, rows it leaves."""
    path = tmp_path / "mail.csv"
    rows = [
        '2023-03-07 10:38:03,<Bob@Corp.EXAMPLE>,a@b.example; c@d.example,"Invoice, urgent",spam,192.0.2.1',
        '"Sat, 11 Mar 2023 02:00:01 +0530",\'dave@corp.example\',,"Say ""hi""",,',
        "14/03/2023 07:00,<-carol@corp.example,erin@corp.example;,  padded  ,clean,",
        "2023-03-07 10:38:03,a@b.example,c@d.example,Invoice, urgent,spam,",  # repaired: a stray comma
        "2023-03-07 10:38:04a@b.example,c@d.example,Hello,clean,",  # repaired: a missing comma
        "2023-03-07 10:38:03,a@b.example,c@d.example,e@f.example,Hi,spam,",  # repaired: spilled
        "2023-03-07 10:38:05,a@b.comc@corp.example,Hello,clean,",  # ambiguous: rejected
        '2023-03-07 10:38:03,a@b.example,c@d.example,"open,spam,',  # an unbalanced quote
        "2023-03-07 10:38:03,ölaf@corp.example,c@d.example,Hi,spam,",  # no address in the sender column
        ",,,,,",
    ]
    path.write_text("\n".join(["date,sender,recipients,subject,verdict,sender ip", *rows]) + "\n")
    decided = _same(path)
    assert decided["events"] == 6 and decided["blank"] == 1
    # the ambiguous repair and the sender that is no address are rejected with the reference's reasons
    assert decided["rejects"] == 2 and decided["fallback"] == 1


@pytest.mark.parametrize("delimiter", [";", "\t", "|"], ids=["semicolon", "tab", "pipe"])
def test_other_delimiters_parse_identically(tmp_path: Path, delimiter: str) -> None:
    rows = [
        ["date", "sender", "recipients", "subject", "verdict"],
        ["2023-03-07 10:38:03", "<a@b.example>", "c@d.example, e@f.example", "Hello", "clean"],
        ["2023-03-07 10:38:04", "a@b.example", "c@d.example", f'"Re{delimiter} quoted ""x"""', "spam"],
        ["2023-03-07 10:38:05", "a@b.example", "c@d.example", "g@h.example", "Hi", "spam"],  # spilled
        ["2023-03-07 10:38:06", "a@b.example", "c@d.example", "Hello", "clean"],
        ["2023-03-07 10:38:07", "a@b.example", "c@d.example", "Hello", "clean"],
    ]
    path = tmp_path / "mail.csv"
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    decided = _same(path)
    assert decided["events"] == 5 and decided["fallback"] == 0


def test_plain_rows_with_two_dates_cc_and_repeated_addresses(tmp_path: Path) -> None:
    """Rows the one-pass reading of plain rows takes: every field fits, so no search runs. The second date
    column's value is replaced by the first's timestamp in the cleaned row, repeats across sender,
    recipients and cc are kept once, and cc addresses are no recipients."""
    rows = [
        "date,sender,to,cc,subject,received,verdict,client ip",
        "2023-03-07 10:38:03,a@b.example,A@B.EXAMPLE; c@d.example,c@D.example,Hi,07/03/2023 10:40,spam,"
        "192.0.2.1",
        '2023-03-07 10:38:04,<a@b.example>,,"e@f.example, a@b.example",,2023-03-08 00:00:00,clean,',
        "2023-03-07 10:38:05,,c@d.example,,Re: x,2023-03-08 00:00:00,,",
        "2023-03-07 10:38:06,,,,no address at all,2023-03-08 00:00:00,clean,",
    ]
    path = tmp_path / "mail.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    decided = _same(path)
    assert decided["events"] == 3 and decided["rejects"] == 1 and decided["fallback"] == 0
