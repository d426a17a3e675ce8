"""A CTI worker with a stand-in bundle function, run as a subprocess by the crash tests.

``python bus_worker_proc.py BOOTSTRAP OUTPUT_PREFIX INPUT_TOPIC GROUP IDLE_S DELAY_S`` prints one line per
processed input message, so the test knows when the worker is mid-stream before it kills it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson

from ppcti.bus import BusSettings, Worker, WorkerOptions
from ppcti.bus.processors import cti_step


def fake_bundle(event: dict[str, Any]) -> bytes | None:
    """Deterministic stand-in for ppcti.stix.bundle_json: no CTI for every seventh event."""
    n = event["n"]
    if n % 7 == 0:
        return None
    return orjson.dumps({"type": "bundle", "id": f"bundle--{n:08d}", "objects": [{"n": n, "sq": n * n}]})


def slow_step(delay: float, announce: bool):
    step = cti_step(fake_bundle)

    def process(envelope):
        time.sleep(delay)
        out = step(envelope)
        if announce:
            print("processed", flush=True)
        return out

    return process


def main(argv: list[str]) -> None:
    bootstrap, prefix, topic, group, idle, delay = argv
    settings = BusSettings(
        bootstrap, topic_prefix=prefix, connect_timeout_s=10.0, delivery_timeout_s=20.0, linger_ms=5
    )
    options = WorkerOptions(group=group, input_topic=topic, batch=5, idle_timeout_s=float(idle))
    worker = Worker(slow_step(float(delay), announce=True), settings, options)
    worker.install_signal_handlers()
    stats = worker.run()
    print(f"done consumed={stats.consumed} produced={stats.produced}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
