"""Wrong key, wrong parameters, damaged files: a clear FHEError, never garbage output."""

from __future__ import annotations

from pathlib import Path

import pytest

from ppcti.errors import FHEError, FormatError, InputRefused
from ppcti.fhe import FheParams, correlate, decrypt, encrypt_blacklist, encrypt_cti, keygen


@pytest.fixture
def files(keys: Path, tmp_path: Path) -> Path:
    (tmp_path / "q.txt").write_text("192.0.2.1\n")
    (tmp_path / "bl.txt").write_text("192.0.2.1\n")
    encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe")
    correlate(
        keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / "r.fhe", threads=1
    )
    return tmp_path


def test_blacklist_for_another_key(keys: Path, files: Path) -> None:
    keygen(files / "other")
    encrypt_blacklist([files / "bl.txt"], files / "other/public.key", files / "other.fhe")
    with pytest.raises(FHEError, match=r"made with other FHE parameters|another key"):
        correlate(keys / "public.key", files / "q/query.fhe", files / "other.fhe", files / "x.fhe")


def test_same_parameters_other_key(keys: Path, files: Path) -> None:
    from ppcti.fhe import load_public

    params = load_public(keys / "public.key").params
    keygen(files / "twin", params)  # same hash key and parameters, new key pair
    encrypt_blacklist([files / "bl.txt"], files / "twin/public.key", files / "twin.fhe")
    with pytest.raises(FHEError, match="encrypted for another key"):
        correlate(keys / "public.key", files / "q/query.fhe", files / "twin.fhe", files / "x.fhe")
    with pytest.raises(FHEError, match="another key"):
        decrypt(files / "r.fhe", files / "twin/secret.key", files / "q/mapping.json", files / "out")


def test_parameter_mismatch(keys: Path, files: Path) -> None:
    keygen(files / "p", FheParams(ipv4_prefixes=(8, 16, 24, 32)))
    with pytest.raises(FHEError, match="other FHE parameters"):
        correlate(files / "p/public.key", files / "q/query.fhe", files / "bl.fhe", files / "x.fhe")


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "magic"])
def test_corrupt_or_truncated_files(keys: Path, files: Path, damage: str) -> None:
    target = files / "bl.fhe"
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) - 1000]
    elif damage == "empty":
        data = bytearray()
    else:
        data[:8] = b"NOTMINE!"
    target.write_bytes(bytes(data))
    with pytest.raises(FHEError, match=r"corrupt|truncated|bad magic") as info:
        correlate(keys / "public.key", files / "q/query.fhe", target, files / "x.fhe")
    assert info.value.file == str(target)


def test_wrong_file_kind_and_mapping(keys: Path, files: Path) -> None:
    with pytest.raises(FHEError, match="expected a blacklist file, got query"):
        correlate(keys / "public.key", files / "q/query.fhe", files / "q/query.fhe", files / "x.fhe")
    with pytest.raises(FHEError, match="expected a secret-key file, got public-key"):
        decrypt(files / "r.fhe", keys / "public.key", files / "q/mapping.json", files / "out")
    encrypt_cti(files / "q.txt", keys / "public.key", files / "q2")
    with pytest.raises(FHEError, match="another query"):
        decrypt(files / "r.fhe", keys / "secret.key", files / "q2/mapping.json", files / "out")
    (files / "bad.json").write_text('{"format": "ppcti-fhe-mapping/1", "query')
    with pytest.raises(FHEError, match="mapping file is not valid JSON"):
        decrypt(files / "r.fhe", keys / "secret.key", files / "bad.json", files / "out")


def test_edited_public_parameters_are_refused(keys: Path, tmp_path: Path) -> None:
    data = (keys / "public.key").read_bytes().replace(b'"group_size":8', b'"group_size":4')
    (tmp_path / "public.key").write_bytes(data)
    with pytest.raises(FHEError, match="corrupt"):
        encrypt_cti(tmp_path / "public.key", tmp_path / "public.key", tmp_path / "q")


def test_bad_blacklist_line_names_file_and_line(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "bl.txt").write_text("# ok\n192.0.2.1\nnot-an-address\n")
    with pytest.raises(FormatError) as info:
        encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe")
    assert info.value.line == 3
    assert "not-an-address" not in str(info.value)
    assert not (tmp_path / "bl.fhe").exists()


def test_too_wide_block_is_refused(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "bl.txt").write_text("2000::/8\n")
    with pytest.raises(FormatError, match="wider than"):
        encrypt_blacklist([tmp_path / "bl.txt"], keys / "public.key", tmp_path / "bl.fhe")


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        pytest.param(b"", InputRefused, "no IPv4, IPv6 or e-mail address", id="empty"),
        pytest.param(b"# only a comment\n\n", InputRefused, "no IPv4, IPv6 or e-mail address", id="comments"),
        pytest.param(b"192.0.2.1\nnot-an-address\n", FormatError, r"q\.txt:2: not an IPv4", id="bad-line"),
        pytest.param(bytes(range(256)) * 4, FormatError, "not UTF-8|not an IPv4", id="random-bytes"),
    ],
)
def test_encrypt_cti_refuses_input_without_addresses(
    keys: Path, tmp_path: Path, content: bytes, error: type[Exception], match: str
) -> None:
    """As encrypt-blacklist does: a line that is not an address is named with its line number, and a
    query without a single address is refused instead of reporting "0 addresses"."""
    (tmp_path / "q.txt").write_bytes(content)
    with pytest.raises(error, match=match):
        encrypt_cti(tmp_path / "q.txt", keys / "public.key", tmp_path / "q")
    assert not (tmp_path / "q").exists()


def test_encrypt_cti_refuses_a_run_without_addresses(keys: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").write_bytes(b'{"holder": "h", "emails": []}\n')
    with pytest.raises(InputRefused, match="no IPv4, IPv6 or e-mail address"):
        encrypt_cti(run, keys / "public.key", tmp_path / "q")


@pytest.mark.parametrize(
    "damage",
    [
        {"values": 5},
        {"values": [{"value": 1, "entries": []}]},
        {"batches": [{"slots": [[0, [99]]]}]},
        {"batches": [{"slots": [["x", [0]]]}]},
        {"batches": [{"slots": [[10**9, [0]]]}]},
        {"batches": "x"},
        {"values": [{"value": "192.0.2.1", "entries": 3}]},
    ],
    ids=["values-int", "value-int", "owner-range", "slot-str", "slot-big", "batches-str", "entries-int"],
)
def test_decrypt_with_a_damaged_mapping(keys: Path, files: Path, damage: dict) -> None:
    import orjson

    mapping = orjson.loads((files / "q/mapping.json").read_bytes())
    mapping.update(damage)
    (files / "bad.json").write_bytes(orjson.dumps(mapping))
    with pytest.raises(FHEError, match="mapping file"):
        decrypt(files / "r.fhe", keys / "secret.key", files / "bad.json", files / "out")
