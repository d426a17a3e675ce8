"""ppcti.outdir: staged results appear whole or not at all, links in --out are replaced, stale folders
of dead processes are swept and live ones kept."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.errors import ConfigError
from ppcti.outdir import STAGING_PREFIX, Staged, check_out, private_tempdir, staged_output, sweep


def test_new_out_appears_in_one_rename(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with staged_output(out) as stage:
        (stage.path / "events.jsonl").write_text("{}\n")
        (stage.path / "cti").mkdir()
        (stage.path / "cti" / "aggregate.json").write_text("{}")
        assert not out.exists()
        stage.commit()
    assert sorted(p.name for p in out.iterdir()) == ["cti", "events.jsonl"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_leaving_without_commit_discards_everything(tmp_path: Path) -> None:
    out = tmp_path / "run"
    stage = staged_output(out)
    with pytest.raises(RuntimeError, match="stage failed"):
        _fail_inside(stage)
    assert list(tmp_path.iterdir()) == []


def _fail_inside(stage: Staged) -> None:
    with stage:
        (stage.path / "events.jsonl").write_text("{}\n")
        raise RuntimeError("stage failed")


def test_existing_out_entries_replaced_others_kept(tmp_path: Path) -> None:
    out = tmp_path / "run"
    (out / "cti").mkdir(parents=True)
    (out / "cti" / "old.json").write_text("old")
    (out / "report.html").write_text("old report")
    (out / "notes.txt").write_text("the user's own file")
    with staged_output(out) as stage:
        (stage.path / "cti").mkdir()
        (stage.path / "cti" / "new.json").write_text("new")
        (stage.path / "summary.json").write_text("{}")
        stage.commit(remove=("report.html", "cti", "summary.json"))
    assert sorted(p.name for p in out.iterdir()) == ["cti", "notes.txt", "summary.json"]
    assert [p.name for p in (out / "cti").iterdir()] == ["new.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_links_are_replaced_never_followed(tmp_path: Path) -> None:
    target_dir = tmp_path / "elsewhere"
    target_dir.mkdir()
    target_file = tmp_path / "secret"
    target_file.write_text("keep")
    out = tmp_path / "run"
    out.mkdir()
    (out / "cti").symlink_to(target_dir)
    (out / "summary.json").symlink_to(target_file)
    (out / "gone").symlink_to(tmp_path / "missing")
    with staged_output(out) as stage:
        (stage.path / "cti").mkdir()
        (stage.path / "cti" / "a.json").write_text("new")
        (stage.path / "summary.json").write_text("{}")
        (stage.path / "gone").write_text("x")
        stage.commit()
    assert not any((out / n).is_symlink() for n in ("cti", "summary.json", "gone"))
    assert list(target_dir.iterdir()) == []
    assert target_file.read_text() == "keep"


@pytest.mark.parametrize("case", ["file", "under-file", "dangling-link"])
def test_check_out_refuses_what_cannot_be_a_folder(tmp_path: Path, case: str) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "missing")
    places = {"file": "f", "under-file": "f/run", "dangling-link": "link"}
    with pytest.raises(ConfigError, match="--out"):
        check_out(tmp_path / places[case])


def test_sweep_removes_dead_keeps_live(tmp_path: Path) -> None:
    dead = tmp_path / f"{STAGING_PREFIX}dead"
    dead.mkdir()
    (dead / ".ppcti-lock").write_text("")
    with private_tempdir(tmp_path, STAGING_PREFIX) as live:
        assert not dead.exists()  # swept on the way in: its process is gone
        assert sweep(tmp_path, STAGING_PREFIX) == []
        assert live.is_dir()
        # another process (here: another open file description) cannot take the live lock
        fd = os.open(live / ".ppcti-lock", os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert list(tmp_path.iterdir()) == []


names = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="/\x00"), min_size=1)


file_names = names.filter(lambda n: n not in (".", "..", "stale") and len(n.encode()) < 100)


@given(st.dictionaries(file_names, st.binary(), max_size=5))
def test_commit_moves_every_file_exactly(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    root = tmp_path_factory.mktemp("commit")
    out = root / "run"
    out.mkdir()
    (out / "stale").write_text("old")
    with staged_output(out) as stage:
        for name, data in files.items():
            (stage.path / name).write_bytes(data)
        stage.commit(remove=("stale",))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files
    assert [p.name for p in root.iterdir()] == ["run"]


def test_out_that_is_a_link_to_a_folder_is_written_into(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    with staged_output(tmp_path / "link") as stage:
        (stage.path / "summary.json").write_text("{}")
        stage.commit()
    assert (real / "summary.json").read_text() == "{}"
    assert (tmp_path / "link").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_errors_name_out_not_the_staging_folder(tmp_path: Path) -> None:
    from ppcti.errors import InputRefused

    out = tmp_path / "run"
    stage = staged_output(out)
    with pytest.raises(InputRefused) as caught:
        _refuse_inside(stage)
    assert str(caught.value) == f"{out}/insights.json: damaged"


def _refuse_inside(stage: Staged) -> None:
    from ppcti.errors import InputRefused

    with stage:
        raise InputRefused("damaged", file=str(stage.path / "insights.json"))
