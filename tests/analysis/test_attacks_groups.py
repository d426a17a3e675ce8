"""Profiles, campaigns (k-means on attacker features), unusual attackers and anomalous windows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
from analysis_helpers import fw, numbered, write_events
from hypothesis import given
from hypothesis import strategies as st

from ppcti.analysis import analyse
from ppcti.analysis.attacks import AttackOptions
from ppcti.analysis.attacks.anomalies import anomalies
from ppcti.analysis.attacks.campaigns import robust_z


def _two_behaviours(n_each: int = 12) -> list[dict]:
    events = []
    for a in range(n_each):  # brute forcers: 15 attempts each on SSH of one server
        src = f"198.51.100.{a + 1}"
        events += [fw("acme", a * 900 + i * 20, src, "10.0.0.5", port=22, file="bf.log") for i in range(15)]
    for a in range(n_each):  # scanners: 12 ports each of one server (vertical scans)
        src = f"203.0.113.{a + 1}"
        events += [
            fw("acme", a * 900 + i, src, f"10.0.2.{a}", port=1000 + i, file="scan.log") for i in range(12)
        ]
    return events


def test_campaigns_separate_brute_forcers_from_scanners(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.jsonl", numbered(_two_behaviours()))
    attacks = analyse(path, tmp_path / "out")["attacks"]
    campaign_of = {a["attacker"]: a["campaign"] for a in attacks["attackers"]}
    brute = {campaign_of[f"198.51.100.{a + 1}"] for a in range(12)}
    scans = {campaign_of[f"203.0.113.{a + 1}"] for a in range(12)}
    assert brute.isdisjoint(scans)
    assert attacks["counts"]["attackers"] == 24
    assert 2 <= attacks["counts"]["campaigns"] <= 4  # round(sqrt(24 / 2)) = 3 at most
    mains = {c["main_class"] for c in attacks["campaigns"]}
    assert mains == {"brute-force", "port-scan"}
    brute_campaign = next(c for c in attacks["campaigns"] if c["main_class"] == "brute-force")
    assert {"id": "T1110", "name": "Brute Force"} in brute_campaign["techniques"]
    assert brute_campaign["ports"][0] == 22
    # reproducible: the same input gives the same campaigns
    again = analyse(path, tmp_path / "out2")["attacks"]
    assert again["campaigns"] == attacks["campaigns"]


def test_an_analysis_never_imports_scikit_learn(tmp_path: Path) -> None:
    """Campaigns are clustered in NumPy (ppcti.analysis.attacks.kmeans): scikit-learn's import, with
    SciPy and pandas, cost more CPU than the whole clustering at 5 M events."""
    path = write_events(tmp_path / "events.jsonl", numbered(_two_behaviours()))
    code = (
        "import sys\n"
        "from ppcti.analysis import analyse\n"
        f"found = analyse({str(path)!r}, {str(tmp_path / 'out')!r})['attacks']['counts']['campaigns']\n"
        "assert found >= 2, found\n"
        "assert not {m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_an_attacker_unlike_its_campaign_is_an_outlier(tmp_path: Path) -> None:
    events = _two_behaviours(20)
    # one brute forcer that hammers 40 servers 100 times each: far from every other member
    events += [
        fw("acme", 50_000 + i, "198.51.100.200", f"10.0.3.{i % 40}", port=22, file="big.log")
        for i in range(4000)
    ]
    path = write_events(tmp_path / "events.jsonl", numbered(events))
    attacks = analyse(path, tmp_path / "out")["attacks"]
    outliers = {o["attacker"] for o in attacks["outliers"]}
    assert "198.51.100.200" in outliers
    assert not outliers & {f"203.0.113.{a + 1}" for a in range(20)}


def _attacked(counts: list[int], holder: str = "acme") -> pl.DataFrame:
    rows = []
    for hour, n in enumerate(counts):
        rows += [
            {
                "holder": holder,
                "cls": "port-scan",
                "t": hour * 3_600_000_000 + i * 1_000_000,
                "target": "10.0.0.1",
            }
            for i in range(n)
        ]
    return pl.DataFrame(rows)


def test_a_burst_hour_is_anomalous_and_a_steady_series_is_not() -> None:
    counts = [20, 22, 19, 21, 20, 18, 23, 20, 400, 21, 19, 20]
    frame = _attacked(counts)
    hits = frame.with_columns(target_kind=pl.lit("ip"), private=pl.lit(True))
    found = anomalies(frame, hits, AttackOptions())
    assert {(a["scope"], a["window_start"]) for a in found} == {
        ("holder", "1970-01-01T08:00:00Z"),
        ("class", "1970-01-01T08:00:00Z"),
        ("target", "1970-01-01T08:00:00Z"),
    }
    assert all(a["events"] == 400 and a["z"] >= 3.5 for a in found)
    steady = _attacked([20, 22, 19, 21, 20, 18, 23, 20, 24, 21, 19, 20])
    assert (
        anomalies(
            steady, steady.with_columns(target_kind=pl.lit("ip"), private=pl.lit(True)), AttackOptions()
        )
        == []
    )


@given(st.lists(st.integers(0, 10**6), min_size=3, max_size=50))
def test_robust_z_is_scale_free_and_centred(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    z = robust_z(x)
    assert z.shape == x.shape and np.all(np.isfinite(z))
    assert np.allclose(robust_z(x * 3 + 7), z, atol=1e-6)
    assert abs(float(np.median(z))) < 1e-6


def test_attack_chart_bins_by_span_and_marks_anomalies() -> None:
    from ppcti.analysis.attacks.charts import attack_timeline

    short = {
        "cls": "port-scan",
        "per_hour": [{"t": "2023-03-07T10:00:00Z", "n": 3}, {"t": "2023-03-07T12:00:00Z", "n": 4}],
    }
    anomaly = {
        "scope": "holder",
        "holder": "acme",
        "window_start": "2023-03-07T12:00:00Z",
        "window_end": "2023-03-07T13:00:00Z",
        "events": 4,
        "baseline_median": 0.0,
        "z": 9.1,
    }
    fig = attack_timeline({"attacks": {"timeline": [short], "anomalies": [anomaly]}})
    assert fig is not None
    assert fig["data"][0]["width"] == 3_600_000 and fig["data"][0]["y"] == [3, 4]
    assert len(fig["layout"]["shapes"]) == 1 and fig["data"][-1]["name"] == "anomaly"
    long = {
        "cls": "xss",
        "per_hour": [
            {"t": "2023-03-01T10:00:00Z", "n": 1},
            {"t": "2023-03-01T11:00:00Z", "n": 2},
            {"t": "2023-04-20T10:00:00Z", "n": 5},
        ],
    }
    fig = attack_timeline({"attacks": {"timeline": [long], "anomalies": []}})
    assert fig is not None and fig["data"][0]["width"] == 86_400_000
    assert fig["data"][0]["y"] == [3, 5]
    assert attack_timeline({"summary": {}}) is None
