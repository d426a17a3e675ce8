"""``ppcti run --kafka`` against the real broker: what the pipeline publishes for the bundled samples."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import orjson
import pytest

from ppcti.bus.settings import BusSettings
from ppcti.clean.timestamps import TimeContext
from ppcti.pipeline import RunOptions, run_pipeline

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "sample-upload.zip"


@pytest.mark.kafka
def test_run_publishes_every_result_keyed_by_run(tmp_path: Path, kafka_bootstrap: str, read_topics) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    out = tmp_path / "run"
    summary = run_pipeline(
        SAMPLES,
        RunOptions(
            holder="demo-cert",
            out=out,
            time=TimeContext(year=2023, date=date(2023, 3, 7)),
            skip=frozenset({"report"}),
            nlp="regex",
            kafka=BusSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix),
            kafka_events=True,
        ),
    )
    assert summary.stages["kafka"]["failed"] == 0
    bundles = (out / "cti" / "bundles.jsonl").read_bytes().splitlines()
    runs = read_topics([prefix + "runs"], 1)
    cti = read_topics([prefix + "cti"], len(bundles))
    assert len(runs) == 1 and len(cti) == len(bundles)
    envelope = orjson.loads(runs[0].value())
    assert (envelope["run_id"], envelope["holder"]) == (summary.run_id, "demo-cert")
    assert envelope["payload"]["events"] == summary.events
    keys = {m.key() for m in runs + cti}
    assert len(keys) == 1  # one run, one holder: one key, so one partition keeps them in order
    payloads = [orjson.loads(m.value())["payload"] for m in cti]
    assert payloads == [orjson.loads(line) for line in bundles]
    events = read_topics([prefix + "events"], 1)
    assert events and orjson.loads(events[0].value())["payload"]["count"] > 0
