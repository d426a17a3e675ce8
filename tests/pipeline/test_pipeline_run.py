import json
import zipfile
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ppcti.clean.minimise import load_profile
from ppcti.cli import app
from ppcti.errors import ConfigError, InputRefused
from ppcti.pipeline import RunOptions, run_pipeline

FW = (
    "Mar/07/2023 10:38:03 firewall,info prerouting: in:ether1 out:(unknown 0), connection-state:new "
    "src-mac 00:17:10:88:BC:02, proto TCP (SYN), 203.0.113.7:51234->10.0.0.5:22, len 60"
)
MAIL = (
    "date,sender,recipients,subject,verdict\n"
    "2023-03-07 10:38:03,<a@Evil.example>,bob@corp.example,Hi Bob,spam\n"
)
EVE = {
    "timestamp": "2023-03-07T10:38:03Z",
    "event_type": "alert",
    "src_ip": "198.51.100.4",
    "src_port": 1,
    "dest_ip": "10.0.0.6",
    "dest_port": 443,
    "proto": "TCP",
    "flow_id": 9,
}
SKIP_LATER = frozenset({"pii", "cti", "analysis", "report"})


def make_upload(tmp_path: Path) -> Path:
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "fw.txt").write_text("\n".join([FW, FW, "garbage line without address", ""]) + "\n")
    (folder / "mail.csv").write_text(MAIL)
    (folder / "eve.json").write_text(json.dumps([EVE]))
    (folder / "notes.txt").write_text("Meeting notes: nothing to see here.\nSecond line.\n")
    return folder


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_run_writes_the_output_contract(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_pipeline(make_upload(tmp_path), RunOptions(holder="acme", out=out, skip=SKIP_LATER))
    events = read_jsonl(out / "events.jsonl")
    assert {e["format"] for e in events} == {"firewall-text", "email-csv", "events-json"}
    assert all(e["holder"] == "acme" for e in events)
    fw = next(e for e in events if e["format"] == "firewall-text")
    assert (fw["source_file"], fw["line"], fw["src_mac"], fw["timestamp"]) == (
        "fw.txt",
        1,
        "00:17:10:88:bc:02",
        "2023-03-07T10:38:03Z",
    )
    mail = next(e for e in events if e["format"] == "email-csv")
    assert mail["emails"] == ["a@evil.example", "bob@corp.example"]
    assert "subject" not in (mail.get("extra") or {})  # minimised by the default profile
    assert all(v != "" for e in events for v in e.values())

    rejects = read_jsonl(out / "rejects.jsonl")
    assert [(r["file"], r["line"], r["stage"]) for r in rejects] == [
        ("fw.txt", 2, "dedup"),
        ("fw.txt", 3, "parse"),
    ]
    assert rejects[1]["raw"] == "garbage line without address"

    data = json.loads((out / "summary.json").read_text())
    assert data["events"] == 3 and data["rejects"] == 2
    assert data["unrecognised_files"] == ["notes.txt"]
    assert data["duplicates"] == {"exact": 1, "normalised": 0}
    assert set(data["stage_seconds"]) >= {"ingest", "detect", "parse", "clean", "write"}
    assert summary.completed

    assert (out / "cleaned" / "fw.txt").read_text().splitlines() == [FW]
    assert (out / "cleaned" / "mail.csv").read_text().splitlines()[1] == (
        "2023-03-07T10:38:03Z,a@evil.example,bob@corp.example,Hi Bob,spam"
    )
    assert (out / "cleaned" / "eve.jsonl").exists()


def test_runs_are_reproducible(tmp_path: Path) -> None:
    upload = make_upload(tmp_path)
    for name in ("a", "b"):
        run_pipeline(upload, RunOptions(holder="acme", out=tmp_path / name, skip=SKIP_LATER))
    for name in ("events.jsonl", "rejects.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_profiles_minimise_features(tmp_path: Path) -> None:
    upload = make_upload(tmp_path)
    run_pipeline(
        upload,
        RunOptions(holder="acme", out=tmp_path / "n", skip=SKIP_LATER, profile=load_profile("network")),
    )
    assert all("emails" not in e for e in read_jsonl(tmp_path / "n" / "events.jsonl"))
    run_pipeline(
        upload, RunOptions(holder="acme", out=tmp_path / "f", skip=SKIP_LATER, profile=load_profile("full"))
    )
    mail = next(e for e in read_jsonl(tmp_path / "f" / "events.jsonl") if e["format"] == "email-csv")
    assert mail["extra"]["subject"] == "Hi Bob"
    custom = tmp_path / "p.yaml"
    custom.write_text("name: tiny\nfields: [timestamp, src_ip]\nextra: []\n")
    run_pipeline(
        upload, RunOptions(holder="acme", out=tmp_path / "c", skip=SKIP_LATER, profile=load_profile(custom))
    )
    keys = {k for e in read_jsonl(tmp_path / "c" / "events.jsonl") for k in e}
    assert keys <= {"holder", "format", "source_file", "line", "timestamp", "src_ip"}


def test_bad_profile_and_holder_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("fields: [nonsense]\n")
    with pytest.raises(ConfigError, match="unknown fields"):
        load_profile(bad)
    with pytest.raises(ConfigError, match="holder"):
        RunOptions(holder=" ", out=tmp_path)


def test_hostile_zip_members_are_refused_and_listed(tmp_path: Path) -> None:
    archive = tmp_path / "up.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.txt", FW)
        zf.writestr("logs/fw.log", FW + "\n")
    out = tmp_path / "run"
    run_pipeline(archive, RunOptions(holder="acme", out=out, skip=SKIP_LATER))
    data = json.loads((out / "summary.json").read_text())
    assert [m["member"] for m in data["refused_members"]] == ["../../evil.txt"]
    assert data["events"] == 1


def test_nothing_recognised_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("just prose\n")
    with pytest.raises(InputRefused, match="no file"):
        run_pipeline(tmp_path / "a.txt", RunOptions(holder="acme", out=tmp_path / "run", skip=SKIP_LATER))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["unrecognised_files"] == ["a.txt"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    upload = make_upload(tmp_path)
    args = ["run", str(upload), "--holder", "acme", "--out", str(tmp_path / "r"), "-q"]
    for stage in sorted(SKIP_LATER):
        args += ["--skip", stage]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (tmp_path / "prose.txt").write_text("nothing here\n")
    result = runner.invoke(
        app, ["run", str(tmp_path / "prose.txt"), "--holder", "a", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code != 0
    result = runner.invoke(app, ["run", "--help"])
    assert result.exit_code == 0 and "--holder" in result.output
    # --skip also takes a list, and an unknown stage in it is a usage error that names it
    listed = ["run", str(upload), "--holder", "acme", "--out", str(tmp_path / "t"), "-q"]
    result = runner.invoke(app, [*listed, "--skip", ",".join(sorted(SKIP_LATER))])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t" / "events.jsonl").exists() and not (tmp_path / "t" / "pii.json").exists()
    result = runner.invoke(app, [*listed[:-2], str(tmp_path / "u"), "--skip", "pii,bogus"])
    assert result.exit_code != 0 and "bogus" in f"{result.output}{result.exception}"


def test_forced_format(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_text("1.2.3.4 seen at Mar/07/2023 10:38:03\n")  # no header timestamp: rejected, not lost
    out = tmp_path / "run"
    run_pipeline(path, RunOptions(holder="acme", out=out, format="firewall-text", skip=SKIP_LATER))
    assert read_jsonl(out / "rejects.jsonl")[0]["reason"] == "no timestamp at the start of the line"


def test_user_json_mapping(tmp_path: Path) -> None:
    feed = tmp_path / "fw.jsonl"
    feed.write_text(
        json.dumps(
            {"when": "2023-03-07T10:38:03Z", "srcaddr": "203.0.113.9", "dstaddr": "10.1.1.1", "dpt": 3389}
        )
        + "\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: my-fw\nsignature: [srcaddr, dstaddr, when]\n"
        "fields:\n  timestamp: [when]\n  src_ip: [srcaddr]\n  dst_ip: [dstaddr]\n  dst_port: [dpt]\n"
    )
    out = tmp_path / "run"
    run_pipeline(
        feed,
        RunOptions(holder="acme", out=out, format="events-json", skip=SKIP_LATER, json_mappings=(mapping,)),
    )
    (event,) = read_jsonl(out / "events.jsonl")
    assert (event["src_ip"], event["dst_port"], event["extra"]["mapping"]) == ("203.0.113.9", 3389, "my-fw")


def test_repaired_row_repeating_a_clean_one_is_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "mail.csv"
    path.write_text(
        "date,sender,recipients,subject,verdict\n"
        "2023-03-07 10:38:03,a@b.com,c@corp.example,Hello,spam\n"
        "2023-03-07 10:38:03a@b.com,c@corp.example,Hello,spam\n"
    )
    out = tmp_path / "run"
    summary = run_pipeline(path, RunOptions(holder="acme", out=out, skip=SKIP_LATER))
    assert summary.events == 1
    (dup,) = read_jsonl(out / "rejects.jsonl")
    assert (dup["line"], dup["reason"]) == (3, "duplicate (normalised) of mail.csv:2")


def test_config_file_sets_defaults_and_flags_win(tmp_path: Path) -> None:
    upload = make_upload(tmp_path)
    config = tmp_path / "ppcti.yaml"
    config.write_text("timezone: Europe/Berlin\nprofile: network\nskip: [pii, cti, analysis, report]\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(upload),
            "--holder",
            "a",
            "--out",
            str(out),
            "-q",
            "--config",
            str(config),
            "--profile",
            "full",
        ],
    )
    assert result.exit_code == 0, result.output
    events = read_jsonl(out / "events.jsonl")
    fw = next(e for e in events if e["format"] == "firewall-text")
    assert fw["timestamp"] == "2023-03-07T09:38:03Z"  # Berlin local time, from the file
    assert any("emails" in e for e in events)  # --profile full on the command line beat the file's network
    assert not (out / "cti").exists()
    config.write_text("tiemzone: UTC\n")
    result = CliRunner().invoke(
        app, ["run", str(upload), "--holder", "a", "--out", str(out), "--config", str(config)]
    )
    assert result.exit_code != 0
