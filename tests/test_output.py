"""Where results go: checked before the analysis, written all together or not at all."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import screener
import screener.result as result_module
from screener.cli import main
from screener.config import AnalysisConfig
from screener.errors import OutputError
from screener.fileio import check_output_dir
from tests.synthetic import jog_in_place, make_sequence

CFG = AnalysisConfig(cache_dir=None, corrections_path=None)


@pytest.fixture(scope="module")
def result():
    figure, _ = jog_in_place(drop_deg={"left": 1.0, "right": 9.0})
    return screener.analyze_pose(make_sequence(figure, fps=60, duration_s=6.0), config=CFG)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("screener: error:"), err
    return lines[0]


def _not_a_video(tmp_path: Path) -> Path:
    video = tmp_path / "clip.mp4"
    video.write_text("not a video")
    return video


def test_output_folder_that_is_a_file_is_refused_before_the_video_is_read(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("a file")
    # The video is not one either: the output problem is found first (nothing analysed).
    assert main(["analyze", str(_not_a_video(tmp_path)), "-o", str(target)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(target) in line and "is a file" in line
    assert target.read_text() == "a file"


def test_output_folder_below_a_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    target = blocker / "run1"
    assert main(["analyze", str(_not_a_video(tmp_path)), "-o", str(target)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(target) in line and "notes.txt is a file" in line


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "read-only"), (errno.EACCES, "permission denied")],
)
def test_unwritable_output_folder_is_refused_before_the_analysis(
    tmp_path, capsys, monkeypatch, code, words
):
    def refuse(*args, **kwargs):
        raise OSError(code, "refused")

    monkeypatch.setattr("screener.fileio.tempfile.mkstemp", refuse)
    target = tmp_path / "new" / "results"
    assert main(["analyze", str(_not_a_video(tmp_path)), "-o", str(target)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(target) in line and words in line and "-o" in line
    assert not (tmp_path / "new").exists()


def test_check_leaves_no_trace_and_names_a_folder_in_the_way(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_output_dir(target) == target
    assert list(tmp_path.iterdir()) == []  # nothing created by the check
    target.mkdir(parents=True)
    (target / "summary.json").mkdir()
    with pytest.raises(OutputError, match=r"summary\.json there is a folder"):
        check_output_dir(target, ["frames.csv", "summary.json"])


def _full_disk_at(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make writing ``name`` fail as on a full disk (after the files before it were written)."""
    real = result_module.atomic_write

    def write(path, fn):
        if path.name == name:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, fn)

    monkeypatch.setattr(result_module, "atomic_write", write)


def test_full_disk_leaves_no_partial_result(result, tmp_path, monkeypatch):
    _full_disk_at("summary.json", monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="the disk is full") as info:
        result.write(out, report=False)
    assert str(out) in info.value.one_line()
    assert not out.exists()  # frames.csv was written, but only in the temporary folder
    assert list(tmp_path.iterdir()) == []


def test_full_disk_keeps_the_previous_result_whole(result, tmp_path, monkeypatch):
    out = tmp_path / "out"
    result.write(out, report=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _full_disk_at("events.csv", monkeypatch)
    with pytest.raises(OutputError, match="disk is full"):
        result.write(out, report=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_rewrite_replaces_every_file_and_drops_stale_ones(result, tmp_path):
    out = tmp_path / "out"
    first = result.write(out, report=True)
    assert (out / "report.html").is_file() and all(p.parent == out for p in first)
    (out / "notes.txt").write_text("mine")  # not ours: kept
    second = result.write(out, report=False)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["events.csv", "frames.csv", "frames.parquet", "notes.txt", "summary.json"]
    assert sorted(p.name for p in second) == [n for n in names if n != "notes.txt"]
    assert json.loads((out / "summary.json").read_text())["task"] == "jog"


def test_unexpected_file_system_error_in_a_command_is_one_line(tmp_path, monkeypatch, capsys):
    def broken(args):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / "x"))

    monkeypatch.setattr("screener.cli_analyze.run", broken)
    assert main(["analyze", str(tmp_path / "v.mp4")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "Input/output error" in line and str(tmp_path / "x") in line


@pytest.mark.video
def test_native_log_lines_do_not_precede_the_error(make_video, tmp_path):
    """MediaPipe runs (and logs from C++) on a clip without a person: stderr is one line."""

    def grey(height: int, width: int, index: int) -> np.ndarray:
        return np.full((height, width, 3), 90 + index % 5, np.uint8)

    blank = make_video("blank.mp4", n_frames=45, fps=30.0, size=(320, 240), frame_fn=grey)
    command = [sys.executable, "-m", "screener.cli"]
    args = ["analyze", str(blank), "-o", str(tmp_path / "out"), "--no-cache"]
    quiet = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert quiet.returncode == 2
    line = _one_error_line(quiet.stderr)
    assert "blank.mp4" in line and "no person" in line
    # With -vv the same run shows what the native libraries wrote: lines that are neither
    # the screener's log records nor its error line (-v shows library warnings only).
    verbose = subprocess.run(
        [*command, "-vv", *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert verbose.returncode == 2
    ours = ("INFO ", "DEBUG ", "WARNING ", "ERROR ", "screener: error:")
    native = [ln for ln in verbose.stderr.splitlines() if ln and not ln.startswith(ours)]
    assert native, verbose.stderr


def test_check_accepts_an_earlier_runs_folder_and_names_a_file_in_its_place(tmp_path):
    target = tmp_path / "out"
    (target / "stills").mkdir(parents=True)
    assert check_output_dir(target, ["summary.json"], ["stills"]) == target
    (target / "stills").rmdir()
    (target / "stills").write_text("not a folder")
    with pytest.raises(OutputError, match=r"stills there is a file"):
        check_output_dir(target, ["summary.json"], ["stills"])
