"""``ppcti assess`` end to end: a real run of an upload with a patient table, then the assessment, checked
against figures computed here directly from the table."""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
PLANTED = "Zofia Wiśniewska-Planted"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from ppcti.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("assess")
    up = base / "upload"
    up.mkdir()
    with zipfile.ZipFile(ROOT / "samples" / "sample-upload.zip") as z:
        (up / "firewall.log").write_bytes(z.read("firewall.log"))
    r = random.Random(11)
    name = f"patients {XSS}.csv"
    with (up / name).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["patient_name", "email", "date_of_birth", "gender", "zip_code", "age", "smoking_status"])
        for i in range(400):
            age = r.randint(18, 90)
            person = PLANTED if i == 0 else f"Person{i} Example"
            born = f"{2026 - age}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
            postal = f"{r.randint(10, 14)}{r.randint(100, 999)}"
            smoking = r.choice(["smoker", "non-smoker", "former smoker"])
            w.writerow([person, f"p{i}@example.org", born, r.choice("MF"), postal, age, smoking])
    out = base / "run"
    done = _cli("run", str(up), "--holder", "clinic", "--out", str(out), "--skip", "cti", "--skip",
                "analysis", "--skip", "report", "--nlp", "regex", cwd=base)
    assert done.returncode == 0, done.stderr[-2000:]
    return up, out


def test_assessment_of_a_run_with_a_patient_table(run_dir: tuple[Path, Path], tmp_path: Path) -> None:
    up, run = run_dir
    shutil.copy(ROOT / "samples" / "sample-upload.zip", tmp_path / "unused.zip")
    (run / "report.html").write_text("<html><body><h1>report</h1></body></html>", encoding="utf-8")
    out = tmp_path / "assessed"
    done = _cli("assess", str(run), "--upload", str(up), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and PLANTED not in done.stderr + done.stdout
    doc = json.loads((out / "assessment.json").read_text())
    assert doc["schema"] == "ppcti-assessment/1"
    [table] = doc["reidentification"]["tables"]
    qis = table["quasi_identifiers"]
    assert {"AGE", "BIRTH_DATE", "GENDER", "POSTAL_CODE"} <= set(table["types"].values())
    frame = pl.read_csv(next(up.glob("patients*.csv")), infer_schema=False)
    sizes = frame.group_by(qis).len()["len"]
    assert table["k_anonymity"] == sizes.min()
    assert table["classes"] == sizes.len()
    assert table["prosecutor"]["average"] == pytest.approx(sizes.len() / frame.height)
    assert "smoking_status" in table["t_closeness"]  # special category: the sensitive column by default
    assert doc["severity"]["dpc"]["category"] == "sensitive"
    assert doc["severity"]["band"] == "very high"
    assert doc["recommendation"]["top"]
    assert doc["cost"]["average_breach_cost"]["year"] == 2025
    assert all(k in doc["sources"] for k in ("ibm-2025", "enisa-severity-2013", "gdpr-art83"))
    html = (out / "report.html").read_text()
    assert "<h1>report</h1>" in html and 'id="ppcti-assessment"' in html
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert PLANTED not in html and PLANTED not in (out / "assessment.json").read_text()
    assert not (run / "assessment.json").exists()  # output only under --out
    again = _cli("assess", str(run), "--upload", str(up), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0
    assert (out / "report.html").read_text().count('id="ppcti-assessment"') == 1  # replaced, not added


def test_init_and_errors(run_dir: tuple[Path, Path], tmp_path: Path) -> None:
    _up, run = run_dir
    first = _cli("assess", "init", "--out", "org.yaml", cwd=tmp_path)
    assert first.returncode == 0 and (tmp_path / "org.yaml").read_text().startswith("# ppcti assessment")
    again = _cli("assess", "init", "--out", "org.yaml", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert _cli("assess", "init", "--out", "org.yaml", "--force", cwd=tmp_path).returncode == 0

    (tmp_path / "bad.yaml").write_text("priorities: {trust: 10}\n")
    bad = _cli("assess", str(run), "--profile", "bad.yaml", "--out", "o", cwd=tmp_path)
    assert bad.returncode == 2 and "priorities.trust" in bad.stderr and "Traceback" not in bad.stderr

    missing = _cli("assess", str(tmp_path / "nope"), "--out", "o", cwd=tmp_path)
    assert missing.returncode == 2 and "not a run folder" in missing.stderr

    empty = tmp_path / "empty-run"
    empty.mkdir()
    (empty / "summary.json").write_text("{}")
    refused = _cli("assess", str(empty), "--out", "o", cwd=tmp_path)
    assert refused.returncode == 3 and "pii.json is missing" in refused.stderr
    (empty / "pii.json").write_text("{not json")
    broken = _cli("assess", str(empty), "--out", "o", cwd=tmp_path)
    assert broken.returncode == 3 and "not valid JSON" in broken.stderr and "Traceback" not in broken.stderr

    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")
    linked = _cli("assess", str(run), "--out", "link", cwd=tmp_path)
    assert linked.returncode == 2 and "symbolic link" in linked.stderr
    assert not any((tmp_path / "target").iterdir())
