"""Where the CPU of publishing one CTI bundle goes: each part of the batch path on its own.

Why this exists: issue #17 asks publishing to reach half the rate of a bare librdkafka loop; done in
Python per message it reached 0.24-0.29 (``bench/kafka.py``). This script shows why, and what the
compiled batch step leaves on the publishing thread. It times,
per message and in CPU time of this thread (so it is little disturbed by other work on the machine), the
parts a bare loop does not do: the JSON check of each line (``orjson.loads``, as ``jsonl_chunks`` does
it), the content id (BLAKE2b of the payload, as the envelope format defines it), the envelope
formatting, and the produce call with ppcti's headers and failure callback. The bare loop's own produce
call is measured in the same run as the baseline.

Then the path publishing takes today: the compiled batch step (``ppcti_native.EnvelopeFrame.chunk``:
the JSON check, the content ids and the envelopes of a 4 MB chunk, run on a worker thread) and the
produce loop of ``Publisher.send_batch`` (all that is left on the publishing thread), each per message.

No broker is needed: messages queue in librdkafka and are purged, so only the Python-side cost of each
call is measured (the broker and librdkafka's threads cost the same on both sides).

    .venv/bin/python bench/kafka_parts.py [--messages 50000] [--bytes 2200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import orjson


def per_message(name: str, n: int, work: Callable[[], None], rows: list[tuple[str, float]]) -> None:
    started = time.thread_time()
    work()
    rows.append((name, (time.thread_time() - started) / n * 1e6))


def main() -> None:
    from confluent_kafka import Producer

    from ppcti.bus import Publisher
    from ppcti.bus.batches import EnvelopeBatch
    from ppcti.bus.envelope import envelope_parts, envelope_template, id_prefix
    from ppcti.bus.settings import BusSettings
    from ppcti.native import native_module

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--bytes", type=int, default=2_200, help="payload size (a CTI bundle: ~2,200)")
    args = parser.parse_args()
    n = args.messages
    lines = [orjson.dumps({"type": "bundle", "seq": i, "pad": "x" * (args.bytes - 40)}) for i in range(n)]
    config = {
        **BusSettings(bootstrap="127.0.0.1:9").producer_config(),
        "queue.buffering.max.messages": n + 10,
        "queue.buffering.max.kbytes": 4_000_000,
        "log_level": 0,
    }
    template, digest = envelope_template("cti-bundle", "run-1", "acme", "application/stix+json")
    ids = [b"0" * 32] * n
    headers = [
        ("ppcti-schema", "1"),
        ("ppcti-kind", "cti-bundle"),
        ("ppcti-id", "0" * 32),
        ("content-type", "application/stix+json"),
        ("ppcti-produced-at", "2026-12-07T00:00:00Z"),
    ]

    def on_delivery(err: object, msg: object) -> None:
        return None

    rows: list[tuple[str, float]] = []
    producer = Producer(config)
    per_message("bare produce (baseline)", n, lambda: [producer.produce("t", v, b"k") for v in lines], rows)
    producer.purge()
    per_message("JSON check (orjson.loads)", n, lambda: [orjson.loads(v) for v in lines], rows)

    def content_ids() -> None:
        for v in lines:
            h = digest.copy()
            h.update(v)
            h.hexdigest()

    per_message("content id (BLAKE2b)", n, content_ids, rows)
    per_message(
        "envelope formatting",
        n,
        lambda: [template % (i, s, v) for s, (i, v) in enumerate(zip(ids, lines, strict=True))],
        rows,
    )
    producer = Producer(config)
    per_message(
        "produce with headers and callback",
        n,
        lambda: [producer.produce("t", v, b"k", headers=headers, on_delivery=on_delivery) for v in lines],
        rows,
    )
    producer.purge()
    base = rows[0][1]
    extra = sum(us for _name, us in rows[1:]) - base  # the produce call itself is in both
    print(f"{n:,} messages of {args.bytes:,} bytes, CPU of this thread per message\n")
    print("| part | µs per message |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.2f} |")
    print(
        f"\nthe Python parts add {extra:.2f} µs to the bare call's {base:.2f} µs: "
        f"{(base + extra) / base:.1f}x the Python-side cost of the bare loop"
    )

    native = native_module()
    if native is None:
        print("\nppcti_native is not installed (or PPCTI_NATIVE=0): no figures for the compiled step")
        return
    kind, ct = "cti-bundle", "application/stix+json"
    frame = native.EnvelopeFrame(*envelope_parts(kind, "run-1", "acme", ct), id_prefix(kind, "run-1", "acme"))
    per_chunk = max(1, (4 << 20) // (args.bytes + 1))
    chunks = [b"\n".join(lines[i : i + per_chunk]) + b"\n" for i in range(0, n, per_chunk)]
    batches: list[EnvelopeBatch] = []

    def compiled(keep: bool = False) -> None:
        seq = 0
        for data in chunks:
            _newlines, _bad, ids, values, total, longest = frame.chunk(data, len(data), seq)
            seq += len(ids)
            if keep:  # timed without keeping: publishing drops each chunk once it is sent
                batches.append(EnvelopeBatch(ids, values, total, longest))

    after: list[tuple[str, float]] = []
    per_message("compiled batch step (check + id + envelope, worker thread)", n, compiled, after)
    compiled(keep=True)
    publisher = Publisher(BusSettings(bootstrap="127.0.0.1:9"), check=False, extra_config=config)

    def send() -> None:
        for batch in batches:
            publisher.send_batch(kind, ct, batch, run_id="run-1", holder="acme")

    per_message("send_batch produce loop (publishing thread)", n, send, after)
    publisher._producer.purge()
    print("\n| batch path | µs per message |\n|---|---:|")
    for name, us in after:
        print(f"| {name} | {us:.2f} |")
    step, loop = after[0][1], after[1][1]
    print(
        f"\npublishing thread: {loop:.2f} µs per message against the bare call's {base:.2f} µs "
        f"({base / loop:.2f} of its rate); with the compiled step on the same thread {step + loop:.2f} µs "
        f"({base / (step + loop):.2f})"
    )


if __name__ == "__main__":
    main()
