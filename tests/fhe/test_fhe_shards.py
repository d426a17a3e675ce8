"""Sharded blacklists, no Kafka: each shard answers for its rows, the merge equals the unsharded answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ppcti.errors import FHEError
from ppcti.fhe import correlate, decrypt
from ppcti.fhe.fileformat import read_file, write_file
from ppcti.fhe.shards import MANIFEST_NAME, ShardSet, merge_results, shard_blacklist, shard_name


def _found(result: Path, case: dict[str, Any], out: Path) -> dict[str, bool]:
    tmp, keys = case["dir"], case["keys"]
    decrypt(result, keys / "secret.key", tmp / "q/mapping.json", out)
    return {m["value"]: m["found"] for m in orjson.loads((out / "fhe_matches.json").read_bytes())["matches"]}


def test_every_shard_answers_for_its_rows_and_the_merge_is_the_unsharded_answer(
    shard_case: dict[str, Any], tmp_path: Path
) -> None:
    tmp, keys = shard_case["dir"], shard_case["keys"]
    summary = shard_blacklist(tmp / "bl.fhe", keys / "public.key", 3, tmp_path / "shards")
    assert summary.shards == 3 and all(r["ip"] > 0 for r in summary.rows)
    whole = read_file(tmp / "bl.fhe", "blacklist").header["tables"]
    assert sum(r["ip"] for r in summary.rows) == next(t["rows"] for t in whole if t["name"] == "ip")

    partials = {}
    per_shard = []
    for k in range(3):
        shard_file = tmp_path / "shards" / shard_name(k, 3)
        correlate(keys / "public.key", tmp / "q/query.fhe", shard_file, tmp_path / f"r{k}.fhe", threads=1)
        per_shard.append(_found(tmp_path / f"r{k}.fhe", shard_case, tmp_path / f"out{k}"))
        rfile = read_file(tmp_path / f"r{k}.fhe", "result")
        partials[k] = (rfile.header, [bytes(b) for b in rfile.blobs])

    expected = shard_case["found"]
    hits_per_shard = [{v for v, f in found.items() if f} for found in per_shard]
    assert sum(1 for hits in hits_per_shard if hits) >= 2, "hits should fall into several shards"
    assert set().union(*hits_per_shard) == {v for v, f in expected.items() if f}
    # a shard never claims what the whole list does not hold
    assert all(hits <= {v for v, f in expected.items() if f} for hits in hits_per_shard)

    qheader = read_file(tmp / "q/query.fhe", "query").header
    header, blobs = merge_results(qheader, partials)
    unsharded = read_file(tmp / "r.fhe", "result").header
    assert header["batches"] == unsharded["batches"]  # whole groups: the same layout as unsharded
    write_file(tmp_path / "merged.fhe", header, blobs)
    assert _found(tmp_path / "merged.fhe", shard_case, tmp_path / "merged") == expected


def test_shard_set_refuses_mismatches(shard_case: dict[str, Any], tmp_path: Path) -> None:
    tmp, keys = shard_case["dir"], shard_case["keys"]
    with pytest.raises(FHEError, match="splits into 1 to"):
        shard_blacklist(tmp / "bl.fhe", keys / "public.key", 99, tmp_path / "too-many")
    shard_blacklist(tmp / "bl.fhe", keys / "public.key", 2, tmp_path / "two")
    with pytest.raises(FHEError, match="already a shard"):
        shard_blacklist(tmp_path / "two" / shard_name(0, 2), keys / "public.key", 2, tmp_path / "again")
    shards = ShardSet(tmp_path / "two", keys / "public.key")
    with pytest.raises(FHEError, match="no shard 2"):
        shards.shard(2)
    # a shard of another split in the right place is refused, not answered with the wrong rows
    shard_blacklist(tmp / "bl.fhe", keys / "public.key", 3, tmp_path / "three")
    (tmp_path / "two" / shard_name(1, 2)).write_bytes((tmp_path / "three" / shard_name(1, 3)).read_bytes())
    with pytest.raises(FHEError, match="does not belong"):
        shards.shard(1)
    assert (tmp_path / "two" / MANIFEST_NAME).exists()


def test_merge_refuses_answers_to_another_query(shard_case: dict[str, Any], tmp_path: Path) -> None:
    tmp = shard_case["dir"]
    rfile = read_file(tmp / "r.fhe", "result")
    qheader = dict(read_file(tmp / "q/query.fhe", "query").header, query_id="another")
    with pytest.raises(FHEError, match="query_id"):
        merge_results(qheader, {0: (rfile.header, [bytes(b) for b in rfile.blobs])})


def test_a_partial_answer_in_many_parts_is_reassembled_per_attempt(shard_case: dict[str, Any]) -> None:
    """Results are cut into messages of whole ciphertexts; two computations of one shard (a replay after
    a crash) are never mixed, and the first complete attempt wins, whatever the arrival order."""
    from ppcti.bus.envelope import Envelope, encode
    from ppcti.bus.fhe import PartialAnswers, partial_outputs

    rfile = read_file(shard_case["dir"] / "r.fhe", "result")
    blobs = [bytes(b) for b in rfile.blobs]
    assert len(blobs) >= 3
    first = partial_outputs("req", 1, rfile.header, blobs, max_message_bytes=300_000)
    replay = partial_outputs("req", 1, rfile.header, [b[::-1] for b in blobs], max_message_bytes=300_000)
    assert len(first) >= 2 and all(len(encode(o, run_id="req", holder="")[1]) <= 300_000 for o in first)
    payloads = [Envelope.decode(encode(o, run_id="req", holder="")[1]).payload for o in first + replay]
    replayed = payloads[len(first) :]
    assert len(replayed) == len(first)
    # interleaved: the replay completes first (its last part comes before the first attempt's part 0)
    arrival = replayed[:-1] + payloads[1 : len(first)] + replayed[-1:] + payloads[:1]
    gathered = PartialAnswers(shards=2)
    for payload in arrival:
        gathered.add(payload)
    assert gathered.missing() == [0]
    header, got = gathered.done[1]
    assert got == [b[::-1] for b in blobs] and header == rfile.header
    with pytest.raises(FHEError, match="shard 0 refused the query: bad"):
        gathered.add({"shard": 0, "attempt": "x", "error": "bad"})
