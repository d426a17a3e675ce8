"""HTTP request parts of JSON feeds reach the payload detectors in a real run, and stay in the run."""

import json
from pathlib import Path

import pytest

from ppcti.pipeline import RunOptions, run_pipeline

pytest.importorskip("libinjection")

REQUESTS = [  # (mapping, record builder)
    ("suricata", "/item.php?id=1' UNION SELECT username,password FROM users--", "sql-injection"),
    ("ecs", "/search?q=<script>alert(document.cookie)</script>", "xss"),
    ("zeek", "/static/../../../../etc/passwd", "path-traversal"),
    ("suricata", "/products?page=2&sort=price", None),
]


def _record(kind: str, i: int, url: str) -> dict:
    src, ts = f"203.0.113.{10 + i}", f"2023-03-01T10:00:0{i}"
    if kind == "suricata":
        return {"timestamp": ts + ".000000+0000", "flow_id": 100 + i, "event_type": "http", "src_ip": src,
                "src_port": 40000 + i, "dest_ip": "10.0.0.5", "dest_port": 80, "proto": "TCP",
                "http": {"url": url, "http_method": "GET", "http_user_agent": "Mozilla/5.0"}}
    if kind == "ecs":
        return {"@timestamp": ts + "Z", "ecs": {"version": "8.11"}, "event": {"action": "request"},
                "network": {"transport": "tcp"}, "source": {"ip": src, "port": 40000 + i},
                "destination": {"ip": "10.0.0.5", "port": 80}, "url": {"original": url},
                "http": {"request": {"method": "GET"}}, "user_agent": {"original": "curl/8.0"}}
    return {"ts": 1677664800.0 + i, "uid": f"C{i}", "id.orig_h": src, "id.orig_p": 40000 + i,
            "id.resp_h": "10.0.0.5", "id.resp_p": 80, "method": "GET", "uri": url, "user_agent": "curl/8.0"}


def test_http_fields_are_classified(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for kind in ("suricata", "ecs", "zeek"):
        lines = [json.dumps(_record(k, i, url)) for i, (k, url, _c) in enumerate(REQUESTS) if k == kind]
        (src / f"{kind}.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    run_pipeline([src], RunOptions(holder="h", out=out, skip=frozenset({"pii", "report"})))
    events = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    assert {e["extra"]["url"] for e in events} == {url for _k, url, _c in REQUESTS}
    attacks = [json.loads(x) for x in (out / "attacks.jsonl").read_text().splitlines()]
    found = {a["attacker"]: a["attack"]["class"] for a in attacks}
    for i, (_k, _url, expected) in enumerate(REQUESTS):
        assert found.get(f"203.0.113.{10 + i}") == expected
    shared = (out / "cti" / "attacks.json").read_text() + (out / "insights.json").read_text()
    assert "UNION SELECT" not in shared and "<script>" not in shared  # payloads never leave the run
