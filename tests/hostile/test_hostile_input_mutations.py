"""Truncations at every offset, random byte flips and generated files: the run's invariants hold.

Invariants, for every input: the run completes or refuses the input with a ppcti error (exit code 0, 2
or 3 for the CLI), never a traceback; per parsed file, entries == events + rejects + duplicates and
the output files agree with the summary; nothing is written outside the run folder (the upload's
working directory is removed); a planted personal value never reaches stdout or stderr.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_helpers import assert_accounted, fw_line, mail_csv, run, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.errors import PpctiError

PLANTED = "zorro.planted@secret-pii.example"

FW = ("\n".join([fw_line(1), fw_line(2).replace("203.0.113.3", "2001:db8::3"), fw_line(3)]) + "\n").encode()
CSV = ("\n".join(mail_csv(3)).replace("s1@evil.example", PLANTED) + "\n").encode()
EVE = json.dumps(
    [
        {
            "timestamp": "2023-03-07T10:38:03Z",
            "event_type": "alert",
            "src_ip": "198.51.100.4",
            "dest_ip": "10.0.0.6",
            "proto": "TCP",
            "flow_id": 1,
            "email": PLANTED,
        },
        {
            "timestamp": "2023-03-07T10:38:04Z",
            "event_type": "alert",
            "src_ip": "198.51.100.5",
            "dest_ip": "10.0.0.6",
            "proto": "TCP",
            "flow_id": 2,
        },
    ],
    indent=1,
).encode()
SAMPLES = {"fw.log": FW, "mail.csv": CSV, "eve.json": EVE}


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private temporary directory for the run's working files, checked empty afterwards."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == [], "the upload's working directory was left behind"


def _run_checked(inputs: Path, out: Path) -> None:
    try:
        run(inputs, out)
    except PpctiError:
        return  # refused as a whole: a clear error, which is allowed
    assert_accounted(out)


def _only_out_written(base: Path, inputs: set[str]) -> None:
    assert {p.name for p in base.iterdir()} <= inputs | {"out", "scratch"}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_truncated_at_every_offset(tmp_path: Path, private_tmp: Path, name: str) -> None:
    data = SAMPLES[name]
    for cut in range(len(data) + 1):
        case = tmp_path / f"c{cut}"
        case.mkdir()
        (case / name).write_bytes(data[:cut])
        _run_checked(case / name, case / "out")
        _only_out_written(case, {name})


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(SAMPLES)),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_random_byte_flips(tmp_path_factory: pytest.TempPathFactory, private_tmp: Path, name, flips) -> None:
    data = bytearray(SAMPLES[name])
    for at, value in flips:
        data[at % len(data)] = value
    case = tmp_path_factory.mktemp("flip")
    (case / name).write_bytes(bytes(data))
    _run_checked(case / name, case / "out")
    _only_out_written(case, {name})


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.text(max_size=120),
            st.builds(fw_line, st.integers(0, 5000)),
            st.sampled_from(mail_csv(2)),
            st.just('{"timestamp": "2023-03-07T10:38:03Z", "src_ip": "::1", "event_type": "alert"}'),
            st.just('"unclosed, quote'),
            st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
        ),
        max_size=30,
    ),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]),
    name=st.sampled_from(["x.log", "x.csv", "x.json", "x.txt"]),
)
def test_generated_files(
    tmp_path_factory, private_tmp: Path, lines: list[str], encoding: str, name: str
) -> None:
    case = tmp_path_factory.mktemp("gen")
    (case / name).write_bytes("\n".join(lines).encode(encoding, "replace"))
    _run_checked(case / name, case / "out")
    _only_out_written(case, {name})


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("cut", [0.0, 0.3, 0.6, 0.9, 0.97, 1.0])
def test_cli_on_a_truncated_zip_keeps_its_promises(tmp_path: Path, cut: float) -> None:
    data = _zip(SAMPLES)
    upload = tmp_path / "upload.zip"
    upload.write_bytes(data[: int(len(data) * cut)])
    result = run_cli(upload, tmp_path / "out")  # exit code and traceback checked there
    assert PLANTED not in result.stdout + result.stderr
    if result.returncode == 0:
        assert_accounted(tmp_path / "out")
    assert {p.name for p in tmp_path.iterdir()} <= {"upload.zip", "out"}


@pytest.mark.slow
def test_cli_with_flipped_bytes_inside_members_names_no_content(tmp_path: Path) -> None:
    members = {name: data[:40] + b"\x00\xff\xfe" + data[43:] for name, data in SAMPLES.items()}
    upload = tmp_path / "upload.zip"
    upload.write_bytes(_zip(members))
    result = run_cli(upload, tmp_path / "out")
    assert result.returncode == 0
    assert PLANTED not in result.stdout + result.stderr
    assert_accounted(tmp_path / "out")


def _workbook() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for row in mail_csv(3):
        wb.active.append(row.replace('"', "").split(","))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


WORKBOOK = _workbook()


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(
        st.tuples(
            st.sampled_from([*sorted(SAMPLES), "book.xlsx", "inner.zip"]),
            st.integers(0, 10_000),
            st.binary(max_size=6),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_generated_zip_uploads(tmp_path_factory, private_tmp: Path, picks) -> None:
    members: dict[str, bytes] = {}
    for n, (kind, at, patch, cut) in enumerate(picks):
        if kind == "book.xlsx":
            data = WORKBOOK
        elif kind == "inner.zip":
            data = _zip(SAMPLES)
        else:
            data = SAMPLES[kind]
        at %= len(data)
        data = data[:at] if cut else data[:at] + patch + data[at + len(patch) :]
        members[f"d{n}/{kind}"] = data
    case = tmp_path_factory.mktemp("zip")
    (case / "upload.zip").write_bytes(_zip(members))
    _run_checked(case / "upload.zip", case / "out")
    _only_out_written(case, {"upload.zip"})
