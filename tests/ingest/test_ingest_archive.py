"""Hostile and over-limit archives: each refused member is named with its reason, the rest proceeds."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest
from ingest_helpers import (
    CHAR_DEVICE_MODE,
    FIFO_MODE,
    FIREWALL_LINE,
    SYMLINK_MODE,
    info,
    mark_encrypted,
    nested_zip,
    zip_bytes,
)

from ppcti.errors import InputRefused, PpctiError
from ppcti.ingest import Limits, open_upload
from ppcti.ingest import archive as archive_mod

GOOD = ("logs/fw.txt", (FIREWALL_LINE + "\n").encode())


def _reasons(upload) -> dict[str, str]:
    return {r.member: r.reason for r in upload.refused}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", "path traversal"),
        ("a/../../x", "path traversal"),
        ("a/../b", "path traversal"),
        ("/etc/x", "absolute path"),
        ("C:/x", "absolute path (drive letter)"),
        ("C:\\x", "backslash in path (Windows separator)"),
        ("..\\..\\x", "backslash in path (Windows separator)"),
        ("a/\x1b[31mx", "control characters in name"),
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "inner-dotdot",
        "absolute",
        "drive",
        "drive-backslash",
        "backslash",
        "ctrl",
    ],
)
def test_unsafe_names_are_refused_and_the_rest_extracted(make_zip, workdir, name, reason):
    path = make_zip([GOOD, (name, b"secret payload\n")])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert [f.path for f in up.files] == ["logs/fw.txt"]
        assert len(up.refused) == 1
        assert up.refused[0].reason == reason
        assert "\x1b" not in up.refused[0].member
        # nothing with the payload was written anywhere
        extracted = [p.read_bytes() for p in up.workdir.rglob("*") if p.is_file()]
        assert b"secret payload\n" not in extracted
    assert not (workdir.parent / "x").exists()


def test_refusal_member_is_prefixed_by_nested_archive(make_zip, workdir):
    inner = zip_bytes([("../../etc/passwd", b"root:x:0:0\n"), ("ok.txt", b"hello\n")])
    path = make_zip([("outer.zip", inner)], name="upload.zip")
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert _reasons(up) == {"outer.zip/../../etc/passwd": "path traversal"}
        assert [f.path for f in up.files] == ["outer.zip/ok.txt"]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (SYMLINK_MODE, "symbolic link"),
        (FIFO_MODE, "special file (device, FIFO or socket)"),
        (CHAR_DEVICE_MODE, "special file (device, FIFO or socket)"),
    ],
    ids=["symlink", "fifo", "device"],
)
def test_member_types_refused(make_zip, workdir, mode, reason):
    path = make_zip([GOOD, (info("link.txt", mode=mode), b"/etc/passwd")])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert _reasons(up) == {"link.txt": reason}
        assert [f.path for f in up.files] == ["logs/fw.txt"]


def test_encrypted_member_refused(tmp_path, workdir):
    path = tmp_path / "enc.zip"
    path.write_bytes(mark_encrypted(zip_bytes([GOOD, ("secret.txt", b"hello\n")]), "secret.txt"))
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert _reasons(up) == {"secret.txt": "encrypted member"}
        assert [f.path for f in up.files] == ["logs/fw.txt"]


def test_regular_unix_mode_member_is_accepted(make_zip, workdir):
    path = make_zip([(info("a.txt", mode=stat.S_IFREG | 0o644), b"hello\n")])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert up.refused == []
        assert [f.path for f in up.files] == ["a.txt"]


def test_duplicate_names_keep_the_first(make_zip, workdir):
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = make_zip([("a.txt", b"first\n"), ("./a.txt", b"second\n"), ("a.txt", b"third\n")])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert [f.path for f in up.files] == ["a.txt"]
        assert up.files[0].local_path.read_bytes() == b"first\n"
        assert [r.reason for r in up.refused] == ["duplicate name (would overwrite an earlier member)"] * 2


def test_file_and_folder_of_the_same_name(make_zip, workdir):
    path = make_zip([("a", b"file\n"), ("a/b.txt", b"x\n"), ("c/d.txt", b"y\n"), ("c", b"z\n")])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert [f.path for f in up.files] == ["a", "c/d.txt"]
        assert _reasons(up) == {
            "a/b.txt": "name clashes with a folder of the same name",
            "c": "name clashes with a folder of the same name",
        }


def test_refused_after_extraction_leaves_no_bytes(make_zip, workdir):
    path = make_zip([("bin.txt", bytes(range(256)) * 4), GOOD])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        on_disk = sorted(p for p in up.workdir.rglob("*") if p.is_file())
        assert on_disk == [up.files[0].local_path]


def test_zip_bomb_ratio_refused(make_zip, workdir):
    bomb = b"\0" * (3 * 1024**2)  # compresses ~1000:1
    path = make_zip([GOOD, ("bomb.log", bomb)])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        (refusal,) = up.refused
        assert refusal.member == "bomb.log"
        assert refusal.reason.startswith("compression ratio ")
        ratio = int(refusal.reason.split()[2])
        assert ratio > 200
        assert refusal.reason.endswith("> 200")
        assert [f.path for f in up.files] == ["logs/fw.txt"]


def test_small_compressible_member_is_not_a_bomb(make_zip, workdir):
    path = make_zip([("blank.txt", b" " * 100_000 + b"\n")])  # ratio ~500 but tiny
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert up.refused == []


def test_total_size_limit(make_zip, workdir):
    chunk = os.urandom(40_000)  # incompressible, so the ratio check does not fire first
    path = make_zip([(f"f{i}.bin.txt", chunk.hex().encode()) for i in range(5)])
    limits = Limits(max_total_bytes=250_000)
    with open_upload(path, holder="acme", limits=limits, workdir=workdir) as up:
        assert len(up.files) == 3  # 3 * 80,000 bytes fit, the 4th would pass 250,000
        assert [r.reason for r in up.refused] == ["total size over 244.1 KiB limit"] * 2
        assert sum(f.size for f in up.files) <= 250_000


def test_member_size_limit(make_zip, workdir):
    path = make_zip([("big.txt", os.urandom(50_000).hex().encode()), GOOD])
    with open_upload(path, holder="acme", limits=Limits(max_member_bytes=60_000), workdir=workdir) as up:
        assert _reasons(up) == {"big.txt": "member size over 58.6 KiB limit"}
        assert [f.path for f in up.files] == ["logs/fw.txt"]


def test_streaming_check_stops_bomb_even_if_declared_sizes_were_not_checked(make_zip, workdir, monkeypatch):
    """The second line of defence: bytes are counted while inflating, the partial file is deleted."""
    monkeypatch.setattr(archive_mod, "check_declared_sizes", lambda *a, **k: None)
    path = make_zip([("bomb.log", b"A" * (5 * 1024**2)), GOOD])
    limits = Limits(max_ratio=50, ratio_min_bytes=512 * 1024)
    with open_upload(path, holder="acme", limits=limits, workdir=workdir) as up:
        (refusal,) = up.refused
        assert refusal.member == "bomb.log"
        assert refusal.reason.startswith("compression ratio ")
        files = [p for p in up.workdir.rglob("*") if p.is_file()]
        assert len(files) == 1  # only logs/fw.txt; the partial bomb was removed
        assert max(p.stat().st_size for p in files) < 1024


def test_member_count_limit(make_zip, workdir):
    path = make_zip([(f"f{i}.txt", b"x\n") for i in range(12)])
    with open_upload(path, holder="acme", limits=Limits(max_members=10), workdir=workdir) as up:
        assert len(up.files) == 10
        assert [r.reason for r in up.refused] == ["member count over 10 limit"] * 2


def test_archive_declaring_absurd_member_count_refused_up_front(make_zip):
    path = make_zip([(f"f{i}.txt", b"x\n") for i in range(1100)])
    with pytest.raises(InputRefused, match="declares 1100 members"):
        open_upload(path, holder="acme", limits=Limits(max_members=10))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_nesting_within_depth_is_opened(tmp_path, workdir, depth):
    path = tmp_path / "level1.zip"
    path.write_bytes(nested_zip(depth))
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert up.refused == []
        expected = "/".join([f"level{n}.zip" for n in range(2, depth + 1)] + ["data.csv"])
        assert [f.path for f in up.files] == [expected]
        assert up.files[0].kind == "csv"
        # nested archives themselves are deleted once their members are out
        assert not any(p.suffix == ".zip" for p in up.workdir.rglob("*"))


def test_nesting_beyond_depth_refused(tmp_path, workdir):
    path = tmp_path / "level1.zip"
    path.write_bytes(nested_zip(5))
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert up.files == []
        assert _reasons(up) == {"level2.zip/level3.zip/level4.zip": "nesting depth 4 > 3"}


def test_nested_zip_detected_by_content_not_extension(make_zip, workdir):
    inner = zip_bytes([("a.txt", b"hello\n")])
    path = make_zip([("inner.dat", inner)])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert [f.path for f in up.files] == ["inner.dat/a.txt"]


def test_corrupt_outer_zip_raises(tmp_path):
    good = zip_bytes([GOOD])
    path = tmp_path / "broken.zip"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputRefused, match="corrupt ZIP archive") as exc:
        open_upload(path, holder="acme")
    assert exc.value.exit_code == 3


def test_not_a_zip_with_zip_extension_raises(tmp_path):
    path = tmp_path / "upload.zip"
    path.write_text("just text\n")
    with pytest.raises(InputRefused, match="not a ZIP archive"):
        open_upload(path, holder="acme")


def test_corrupt_nested_zip_is_a_refusal_not_an_error(make_zip, workdir):
    inner = zip_bytes([("a.txt", b"hello\n" * 100)])
    path = make_zip([("inner.zip", inner[:-30]), GOOD])
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert list(_reasons(up)) == ["inner.zip"]
        assert "corrupt ZIP archive" in _reasons(up)["inner.zip"]
        assert [f.path for f in up.files] == ["logs/fw.txt"]


def test_corrupt_member_data_refused(tmp_path, workdir):
    data = bytearray(zip_bytes([("a.txt", b"hello world, some text\n" * 200), GOOD]))
    start = data.index(b"a.txt") + len(b"a.txt")  # first local header's name, then deflate data
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    path = tmp_path / "u.zip"
    path.write_bytes(bytes(data))
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert _reasons(up) == {"a.txt": "corrupt or unsupported member data"}
        assert [f.path for f in up.files] == ["logs/fw.txt"]


def test_refusal_messages_never_quote_content(make_zip, workdir):
    secret = b"alice@example.com 10.0.0.1"
    path = make_zip(
        [
            ("../leak.txt", secret),
            (info("l", mode=SYMLINK_MODE), secret),
            ("bin.txt", b"\x00\x01\x02\x03" * 100 + secret),
        ]
    )
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert len(up.refused) == 3
        for refusal in up.refused:
            assert "alice" not in refusal.reason
            assert "10.0.0.1" not in refusal.reason


def test_workdir_is_private_and_removed_on_close(make_zip, workdir):
    path = make_zip([GOOD])
    up = open_upload(path, holder="acme", workdir=workdir)
    assert up.workdir.parent == workdir
    assert stat.S_IMODE(up.workdir.stat().st_mode) == 0o700
    assert up.files[0].local_path.is_relative_to(up.workdir)
    up.close()
    assert not up.workdir.exists()
    assert path.exists()  # the input is never touched


def test_failed_open_leaves_no_workdir(tmp_path, workdir):
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(PpctiError):
        open_upload(path, holder="acme", workdir=workdir)
    assert list(workdir.iterdir()) == []


def test_xlsx_bomb_refused(tmp_path, workdir):
    parts = [
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", b" " * (3 * 1024**2)),
    ]
    path = tmp_path / "book.xlsx"
    path.write_bytes(zip_bytes(parts))
    holder = tmp_path / "in"
    holder.mkdir()
    (holder / "book.xlsx").write_bytes(path.read_bytes())
    with open_upload(holder, holder="acme", workdir=workdir) as up:
        assert up.files == []
        (refusal,) = up.refused
        assert refusal.member == "book.xlsx"
        assert refusal.reason.startswith("workbook part compression ratio")


def test_zip_stored_members_and_empty_zip(tmp_path, workdir):
    path = tmp_path / "s.zip"
    path.write_bytes(zip_bytes([GOOD], compression=zipfile.ZIP_STORED))
    with open_upload(path, holder="acme", workdir=workdir) as up:
        assert [f.kind for f in up.files] == ["text"]
    empty = tmp_path / "e.zip"
    empty.write_bytes(zip_bytes([]))
    with open_upload(empty, holder="acme", workdir=workdir) as up:
        assert up.files == []
        assert up.refused == []
