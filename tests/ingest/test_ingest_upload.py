"""open_upload on directories, single files and several inputs; random bytes never crash it."""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import FIREWALL_LINE, zip_bytes

import ppcti.ingest
from ppcti.errors import InputRefused, PpctiError
from ppcti.ingest import Limits, open_upload
from ppcti.ingest import upload as upload_mod


def test_public_names_match_all():
    exported = {
        name
        for name in dir(ppcti.ingest)
        if not name.startswith("_") and not inspect.ismodule(getattr(ppcti.ingest, name))
    }
    assert exported == set(ppcti.ingest.__all__)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "fw.txt").write_text(FIREWALL_LINE + "\n")
    (root / "mail.csv").write_text("date,from\n2023-03-07,a@x.org\n")
    (root / "nested.zip").write_bytes(zip_bytes([("ev.json", b'{"a": 1}\n{"b": 2}\n')]))
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    (root / "escape.txt").symlink_to(outside)
    (root / "inside.txt").symlink_to(root / "mail.csv")
    (root / "broken.txt").symlink_to(root / "missing")
    (root / "dirlink").symlink_to(root / "logs")
    os.mkfifo(root / "pipe")
    return root


def test_directory_walk(tree, workdir):
    with open_upload(tree, holder="acme", workdir=workdir) as up:
        assert up.root == "export"
        assert [(f.path, f.kind) for f in up.files] == [
            ("inside.txt", "csv"),
            ("mail.csv", "csv"),
            ("nested.zip/ev.json", "ndjson"),
            ("logs/fw.txt", "text"),
        ]
        assert {(r.member, r.reason) for r in up.refused} == {
            ("escape.txt", "symbolic link leaves the input directory"),
            ("broken.txt", "broken symbolic link"),
            ("dirlink", "symbolic link to a directory (not followed)"),
            ("pipe", "special file (device, FIFO or socket)"),
        }
        by_path = {f.path: f for f in up.files}
        assert by_path["mail.csv"].local_path == tree / "mail.csv"  # read in place
        assert by_path["nested.zip/ev.json"].local_path.is_relative_to(up.workdir)
    assert (tree / "mail.csv").exists()  # close() never deletes inputs


def test_unreadable_file_in_directory_is_refused_not_fatal(tmp_path, workdir, monkeypatch):
    root = tmp_path / "d"
    root.mkdir()
    (root / "a.txt").write_text("fine\n")
    (root / "b.txt").write_text("locked\n")
    real = upload_mod._detect.read_head

    def read_head(path, *args):
        if path.name == "b.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(upload_mod._detect, "read_head", read_head)
    with open_upload(root, holder="acme", workdir=workdir) as up:
        assert [f.path for f in up.files] == ["a.txt"]
        assert [(r.member, r.reason) for r in up.refused] == [
            ("b.txt", "unreadable file (permission denied or I/O error)")
        ]


def test_several_inputs_are_prefixed_by_their_names(tmp_path, workdir):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "logs").mkdir(parents=True)
        (d / "logs" / "x.txt").write_text("hello\n")
    z = tmp_path / "up.zip"
    z.write_bytes(zip_bytes([("m.txt", b"hi\n")]))
    single = tmp_path / "single.log"
    single.write_text("one line\n")
    with open_upload([a / "logs", b / "logs", z, single], holder="acme", workdir=workdir) as up:
        assert up.root == "logs, logs~2, up.zip, single.log"
        assert [f.path for f in up.files] == ["logs/x.txt", "logs~2/x.txt", "up.zip/m.txt", "single.log"]


def test_single_file_path_is_its_name(tmp_path, workdir):
    path = tmp_path / "fw.log"
    path.write_text(FIREWALL_LINE + "\n")
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert (up.root, [f.path for f in up.files]) == ("fw.log", ["fw.log"])
        assert up.holder == "acme"


def test_missing_input_and_missing_holder(tmp_path):
    with pytest.raises(InputRefused, match="input not found"):
        open_upload(tmp_path / "nope.zip", holder="acme")
    (tmp_path / "f.txt").write_text("x\n")
    with pytest.raises(InputRefused, match="holder"):
        open_upload(tmp_path / "f.txt", holder="  ")
    with pytest.raises(InputRefused, match="no input"):
        open_upload([], holder="acme")


def test_nothing_usable_still_returns(tmp_path, workdir):
    path = tmp_path / "u.zip"
    path.write_bytes(zip_bytes([("../x", b"a"), ("b.bin", bytes(range(256)))]))
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert up.files == []
        assert [r.reason for r in up.refused] == ["path traversal", "unrecognised binary content"]


def test_limits_apply_to_directory_inputs(tmp_path, workdir):
    root = tmp_path / "d"
    root.mkdir()
    for i in range(3):
        (root / f"f{i}.txt").write_text("x" * 1000 + "\n")
    with open_upload(root, holder="acme", limits=Limits(max_total_bytes=2500), workdir=workdir) as up:
        assert [f.path for f in up.files] == ["f0.txt", "f1.txt"]
        assert [r.reason for r in up.refused] == ["total size over 2.4 KiB limit"]
    with open_upload(root, holder="acme", limits=Limits(max_members=1), workdir=workdir) as up:
        assert len(up.files) == 1
        assert [r.reason for r in up.refused] == ["member count over 1 limit"] * 2


def test_limits_validate():
    with pytest.raises(ValueError, match="max_members"):
        Limits(max_members=0)
    with pytest.raises(ValueError, match="max_ratio"):
        Limits(max_ratio=1)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=3000), name=st.sampled_from(["x.txt", "x.json", "x.csv", "x.dat", "x.xlsx"]))
def test_random_bytes_never_raise_anything_but_ppcti_errors(data, name):
    base = Path(tempfile.mkdtemp(prefix="ppcti-rand-"))
    try:
        path = base / name
        path.write_bytes(data)
        try:
            with open_upload(path, holder="acme", workdir=base) as up:
                assert len(up.files) + len(up.refused) == 1
                for source in up.files:
                    source.sample_text()
                    if source.kind == "xlsx":
                        list(source.iter_xlsx_rows())
                    else:
                        for batch in source.iter_line_batches(Limits(max_line_bytes=64)):
                            assert batch.lines or batch.oversized
        except PpctiError:
            pass
    finally:
        shutil.rmtree(base)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=1, max_size=2000), cut=st.integers(0, 400))
def test_mutated_zip_never_raises_anything_but_ppcti_errors(data, cut):
    """A valid ZIP with random bytes spliced in: refused or partly read, never a crash."""
    good = bytearray(
        zip_bytes([("a.txt", b"hello\n" * 50), ("b.zip", zip_bytes([("c.csv", b"a,b\n1,2\n")]))])
    )
    at = cut % len(good)
    good[at : at + len(data)] = data
    base = Path(tempfile.mkdtemp(prefix="ppcti-rand-"))
    try:
        path = base / "u.zip"
        path.write_bytes(bytes(good))
        try:
            with open_upload(path, holder="acme", workdir=base) as up:
                for source in up.files:
                    if source.kind != "xlsx":
                        list(source.iter_line_batches(Limits()))
        except PpctiError:
            pass
    finally:
        shutil.rmtree(base)
