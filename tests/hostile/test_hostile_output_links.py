"""Links planted inside --out are replaced, never written through; the run's results land in --out only."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_output_helpers import QUICK, check, check_contained, run

FIREWALL = (
    "Mar/08/2023 07:00:43 firewall,info drop-tcp input: in:ether1-WAN out:(unknown 0), connection-state:new "
    "src-mac dc:a6:32:b2:4b:b6, proto TCP (SYN), 93.19.228.74:45727->10.0.0.2:3389, len 48\n"
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "fw.log").write_text(FIREWALL)
    return folder


def test_links_inside_out_are_replaced_not_followed(work: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not overwrite")
    out = work / "out"
    out.mkdir()
    (out / "cleaned").symlink_to(victim, target_is_directory=True)
    (out / "cti").symlink_to(victim, target_is_directory=True)
    for name in ("events.jsonl", "summary.json", "report.html", "insights.json"):
        (out / name).symlink_to(secret)
    (out / "dangling.jsonl").symlink_to(tmp_path / "nowhere")
    result = run("run", "fw.log", "--out", "out", *QUICK, cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    assert {p.name for p in victim.iterdir()} == {"keep.txt"}
    assert (victim / "keep.txt").read_text() == "precious"
    assert secret.read_text() == "do not overwrite"
    for name in ("cleaned", "cti", "events.jsonl", "summary.json", "report.html", "insights.json"):
        assert not (out / name).is_symlink(), name
    assert (out / "cleaned" / "fw.log").is_file()
    assert (out / "cti" / "bundles.jsonl").is_file()
    check_contained(work, {"fw.log", "out"}, tmp_path / "tmp")
    assert {p.name for p in tmp_path.iterdir()} == {"work", "victim", "secret.txt", "tmp"}


def test_cti_command_replaces_links_too(work: Path, tmp_path: Path) -> None:
    first = run("run", "fw.log", "--out", "run", *QUICK, cwd=work, tmpdir=tmp_path / "tmp")
    check(first, codes={0})
    secret = tmp_path / "secret.txt"
    secret.write_text("do not overwrite")
    cti = work / "cti"
    cti.mkdir()
    for name in ("bundles.jsonl", "aggregate.json", "bundles.jsonl.part", "invalid.jsonl"):
        (cti / name).symlink_to(secret)
    result = run("cti", "run", "--out", "cti", cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    assert secret.read_text() == "do not overwrite"
    assert not (cti / "bundles.jsonl").is_symlink()
    assert (cti / "bundles.jsonl").read_text().count("\n") == 1


def test_analyse_into_its_run_folder_replaces_links(work: Path, tmp_path: Path) -> None:
    args = ("run", "fw.log", "--out", "run", *QUICK, "--skip", "analysis")
    first = run(*args, cwd=work, tmpdir=tmp_path / "tmp")
    check(first, codes={0})
    secret = tmp_path / "secret.txt"
    secret.write_text("do not overwrite")
    for name in ("insights.json", "infrastructure.json", "report.html"):
        target = work / "run" / name
        target.unlink(missing_ok=True)
        target.symlink_to(secret)
    result = run("analyse", "run", "--out", "run", cwd=work, tmpdir=tmp_path / "tmp")
    check(result, codes={0})
    assert secret.read_text() == "do not overwrite"
    report = (work / "run" / "report.html").read_text()
    assert "cti/aggregate.json" in report  # the report still links to the run's CTI
    assert not any((work / "run" / n).is_symlink() for n in ("insights.json", "infrastructure.json"))
    check_contained(work, {"fw.log", "run"}, tmp_path / "tmp")
