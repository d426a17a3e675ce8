"""All four tools end to end against plain set membership: no false negatives, no false positives."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest
from fhe_helpers import Pipeline, plain_membership

from ppcti.errors import InputRefused
from ppcti.fhe import FheParams, correlate, decrypt, encrypt_blacklist, encrypt_cti, keygen

CIDR_LIST = [
    "# FireHOL-style comment",
    "10.0.0.0/8",
    "172.16.0.0/16 ; SBL0001",
    "192.168.7.0/24",
    "203.0.113.7/32",
    "198.51.100.0/20",  # becomes 198.51.96.0/20 (host bits dropped), split into /24s
    "100.64.0.0/12",
    "192.0.2.128/28",
    "8.8.8.8",
]

CIDR_QUERIES = [
    "10.0.0.0",
    "10.255.255.255",
    "9.255.255.255",
    "11.0.0.0",  # /8 edges
    "172.16.0.1",
    "172.16.255.255",
    "172.15.255.255",
    "172.17.0.0",  # /16 edges
    "192.168.7.0",
    "192.168.7.255",
    "192.168.6.255",
    "192.168.8.0",  # /24 edges
    "203.0.113.7",
    "203.0.113.6",
    "203.0.113.8",  # /32
    "198.51.96.0",
    "198.51.111.255",
    "198.51.95.255",
    "198.51.112.0",  # /20
    "100.64.0.0",
    "100.79.255.255",
    "100.63.255.255",
    "100.80.0.0",  # /12
    "192.0.2.128",
    "192.0.2.143",
    "192.0.2.127",
    "192.0.2.144",  # /28
    "8.8.8.8",
    "8.8.4.4",
]


def test_ipv4_cidr_edges(pipeline: Pipeline) -> None:
    got = pipeline(CIDR_QUERIES, CIDR_LIST)
    want = plain_membership(CIDR_QUERIES, CIDR_LIST)
    assert got == want
    assert sum(want.values()) == 14


def test_emails_and_ipv6(pipeline: Pipeline) -> None:
    blacklist = [
        "phish@evil.example",
        "Boss@Corp.Example",
        "2001:db8::/32",
        "2a00:1450:4001:80b::200e",
        "fe80::/64",
    ]
    queries = [
        "phish@evil.example",
        "PHISH@evil.example",
        "boss@corp.example",
        "phish@evil.example.org",
        "2001:db8:ffff::1",
        "2001:db9::1",
        "2a00:1450:4001:80b::200e",
        "2a00:1450:4001:80b::200f",
        "fe80::1234",
        "fe80:0:0:1::1",
        "::ffff:203.0.113.7",
    ]
    assert pipeline(queries, blacklist) == plain_membership(queries, blacklist)


def test_random_ipv4_against_sets(pipeline: Pipeline) -> None:
    rng = random.Random(7)
    listed = {f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(300)}
    queries = [f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(200)]
    queries += rng.sample(sorted(listed), 50)
    got = pipeline(queries, sorted(listed))
    assert got == {q: q in listed for q in queries}
    assert 50 <= sum(got.values()) < 250


def test_several_batches_and_duplicates(tmp_path: Path, pipeline: Pipeline) -> None:
    keygen(tmp_path / "small", FheParams(batch_capacity=100))
    queries = [f"192.0.2.{i}" for i in range(256)] * 2 + ["a@b.example"] * 3
    blacklist = ["192.0.2.10", "192.0.2.10", "192.0.2.200/29", "a@b.example", "a@b.example"]
    got = pipeline(queries, blacklist, key_dir=tmp_path / "small")
    assert len(got) == 257
    assert got == plain_membership(queries, blacklist)
    mapping = orjson.loads((tmp_path / "q/mapping.json").read_bytes())
    # 256 /32 items + one shared /24 and /16 item = 258 ip items in 3 batches, plus 1 e-mail batch
    assert len(mapping["batches"]) == 4


def test_empty_blacklist_and_empty_query(pipeline: Pipeline) -> None:
    got = pipeline(["203.0.113.7", "x@y.example"], ["# nothing listed"])
    assert got == {"203.0.113.7": False, "x@y.example": False}
    with pytest.raises(InputRefused, match="no IPv4, IPv6 or e-mail address"):
        pipeline([], ["203.0.113.7"])  # an empty query is refused, not answered "0 found"


def test_two_worker_processes_give_the_same_answer(pipeline: Pipeline) -> None:
    queries = ["203.0.113.7", "203.0.113.9", "10.9.9.9"]
    assert pipeline(queries, CIDR_LIST, threads=2) == plain_membership(queries, CIDR_LIST)


def test_run_folder_entries_and_roles(keys: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    events = [
        {
            "holder": "h",
            "format": "firewall-text",
            "source_file": "fw.log",
            "line": 3,
            "src_ip": "203.0.113.7",
            "dst_ip": "192.168.7.9",
            "nat_ip": "198.51.100.1",
        },
        {
            "holder": "h",
            "format": "email-csv",
            "source_file": "mail.csv",
            "line": 2,
            "emails": ["phish@evil.example"],
            "extra": {"sender": "phish@evil.example", "recipients": ["me@corp.example"]},
        },
    ]
    (run / "events.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    blist = tmp_path / "drop.txt"
    blist.write_text("203.0.113.0/24 ; SBL1\nphish@evil.example\n")
    encrypt_cti(run, keys / "public.key", tmp_path / "q")
    encrypt_blacklist([blist], keys / "public.key", tmp_path / "bl.fhe", name="drop")
    correlate(
        keys / "public.key", tmp_path / "q/query.fhe", tmp_path / "bl.fhe", tmp_path / "r.fhe", threads=1
    )
    summary = decrypt(tmp_path / "r.fhe", keys / "secret.key", tmp_path / "q/mapping.json", tmp_path / "out")
    matches = {
        m["value"]: m for m in orjson.loads((tmp_path / "out/fhe_matches.json").read_bytes())["matches"]
    }
    assert summary.found == 2
    assert set(matches) == {
        "203.0.113.7",
        "192.168.7.9",
        "198.51.100.1",
        "phish@evil.example",
        "me@corp.example",
    }
    assert matches["203.0.113.7"]["found"]
    assert matches["203.0.113.7"]["entries"] == [{"source_file": "fw.log", "line": 3, "role": "attacker"}]
    roles = {e["role"] for e in matches["phish@evil.example"]["entries"]}
    assert roles == {"email", "sender"}
    assert matches["phish@evil.example"]["found"]
    assert not matches["me@corp.example"]["found"]


@pytest.mark.slow
def test_larger_blacklist_several_groups(pipeline: Pipeline) -> None:
    rng = random.Random(11)
    listed = sorted(
        {
            f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
            for _ in range(30_000)
        }
    )
    queries = rng.sample(listed, 300) + [f"{rng.randrange(1, 224)}.1.2.{i}" for i in range(200)]
    assert pipeline(queries, listed, threads=2) == plain_membership(queries, listed)
