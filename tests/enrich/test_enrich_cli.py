"""``ppcti enrich`` and the enrich stage of ``ppcti run``: settings only from the environment or a file,
counts on the terminal, values and keys never."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from enrich_fakes import KEYS, FakeServices
from enrich_helpers import PUBLIC, SENDERS
from stix2validator import ValidationOptions, validate_string
from typer.testing import CliRunner

from ppcti.analysis.netclass import bogon_range
from ppcti.cli import app
from ppcti.errors import ConfigError

STRICT = ValidationOptions(strict=True, version="2.1")


def invoke(args: list[str], env: dict[str, str]):
    # keys of the developer's own environment must not leak into the test
    clean = {k: "" for k in ("PPCTI_IPQS_KEY", "PPCTI_VT_KEY", "PPCTI_ABUSEIPDB_KEY", "PPCTI_HYBRID_KEY")}
    return CliRunner().invoke(app, args, env={**clean, **env})


def assert_no_secrets(text: str, values: list[str]) -> None:
    for key in KEYS.values():
        assert key not in text
    for value in values:
        assert value not in text


def test_enrich_command(fake: FakeServices, run_dir: Path, tmp_path: Path) -> None:
    env = {**fake.env(("abuseipdb", "ipqs")), "PPCTI_ENRICH_CACHE": str(tmp_path / "c.sqlite")}
    result = invoke(["enrich", str(run_dir), "-q"], env)
    assert result.exit_code == 0, result.output
    assert_no_secrets(result.output, PUBLIC + SENDERS)
    assert "values sent" in result.output
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    enrich = summary["stages"]["enrich"]
    assert sorted(enrich["sent"]["abuseipdb"]) == sorted(PUBLIC)
    assert sorted(enrich["sent"]["ipqs"]) == sorted(PUBLIC + SENDERS)
    assert set(enrich["services"]) == {"abuseipdb", "ipqs"}
    assert fake["virustotal"].values == [] and fake["hybrid"].values == []


def test_enrich_dry_run_and_service_choice(fake: FakeServices, run_dir: Path, tmp_path: Path) -> None:
    env = {**fake.env(), "PPCTI_ENRICH_CACHE": str(tmp_path / "c.sqlite")}
    result = invoke(["enrich", str(run_dir), "--services", "virustotal,hybrid", "--dry-run"], env)
    assert result.exit_code == 0, result.output
    assert fake.all_values() == []
    assert "dry run" in result.output
    assert "virustotal" in result.output and "ipqs" not in result.output
    assert_no_secrets(result.output, PUBLIC + SENDERS)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--services", "shodan"], {}, "unknown services"),
        (["--services", "virustotal"], {"PPCTI_VT_KEY": ""}, "PPCTI_VT_KEY"),
        ([], {"PPCTI_VT_KEY": "s3cr3t-key", "PPCTI_VT_URL": "http://example.org"}, "loopback only"),
        ([], {"PPCTI_VT_KEY": "s3cr3t-key", "PPCTI_VT_RATE": "fast"}, "a rate is"),
        ([], {}, "no enrichment service has a key"),
    ],
)
def test_bad_settings_are_clear_errors(
    run_dir: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = invoke(["enrich", str(run_dir), *args], env)
    assert isinstance(result.exception, ConfigError)  # main() prints it as one line, exit code 2
    assert message in str(result.exception)
    assert "s3cr3t-key" not in str(result.exception)


def test_console_entry_point_prints_one_line(run_dir: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("PPCTI_") and k.endswith("_KEY"))}
    env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", "from ppcti.cli import main; main()", "enrich", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "no enrichment service has a key" in done.stderr
    assert "Traceback" not in done.stderr


def test_keys_from_config_file_never_echoed(fake: FakeServices, run_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "enrich.yaml"
    config.write_text(
        f"abuseipdb:\n  key: {KEYS['abuseipdb']}\n  url: {fake['abuseipdb'].url}\n  rate: 100/s\n"
        f"cache: {tmp_path / 'c.sqlite'}\ntimeout: 3\n"
    )
    result = invoke(["enrich", str(run_dir), "--config", str(config)], {})
    assert result.exit_code == 0, result.output
    assert sorted(fake["abuseipdb"].values) == sorted(PUBLIC)
    assert all(r.key_ok for r in fake["abuseipdb"].requests)
    assert_no_secrets(result.output, PUBLIC + SENDERS)


FW = (
    "Mar/07/2023 10:{m:02d}:03 firewall,info prerouting: in:ether1 out:(unknown 0), connection-state:new "
    "src-mac 00:17:10:88:BC:02, proto TCP (SYN), {src}:51234->10.0.0.5:22, len 60"
)


@pytest.mark.slow
def test_run_has_an_enrich_stage_when_a_key_is_set(fake: FakeServices, tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    sources = [*PUBLIC, "10.9.9.9", "192.168.1.50", "203.0.113.7", "8.8.8.8"]
    (upload / "fw.txt").write_text("\n".join(FW.format(m=i, src=s) for i, s in enumerate(sources)) + "\n")
    out = tmp_path / "run"
    env = {**fake.env(("abuseipdb", "virustotal")), "PPCTI_ENRICH_CACHE": str(tmp_path / "c.sqlite")}
    result = invoke(["run", str(upload), "--holder", "acme", "--out", str(out), "--skip", "pii"], env)
    assert result.exit_code == 0, result.output
    assert_no_secrets(result.output, PUBLIC)
    sent = fake.all_values()
    assert sorted(set(sent)) == sorted(PUBLIC)
    assert all(bogon_range(v) is None for v in sent)
    summary = orjson.loads((out / "summary.json").read_bytes())
    enrich = summary["stages"]["enrich"]
    # the CTI stage already keeps the private and documentation sources to the holder: only the
    # warninglisted public one reaches the enrichment's own filter
    assert enrich["indicators"]["excluded"] == {"warninglist": 1}
    assert summary["stages"]["cti"]["withheld"]
    assert validate_string((out / "cti" / "aggregate.json").read_text(), STRICT).is_valid
    assert b'"type":"opinion"' in (out / "cti" / "aggregate.json").read_bytes()
    report = (out / "report.html").read_text()
    assert 'id="enrichment-table"' in report
    assert PUBLIC[0] in report


def test_run_without_keys_has_no_enrich_stage(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "fw.txt").write_text(FW.format(m=1, src=PUBLIC[0]) + "\n")
    out = tmp_path / "run"
    result = invoke(["run", str(upload), "--holder", "acme", "--out", str(out), "--skip", "pii", "-q"], {})
    assert result.exit_code == 0, result.output
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert "enrich" not in summary["stages"]
    assert not (out / "enrichment.jsonl").exists()
