"""The ``screener`` command: one-line errors, exit codes, nothing that looks like a result."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from screener.cli import main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "screener.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("screener: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_not_a_video_gives_one_line_naming_the_file(tmp_path):
    fake = tmp_path / "walk.mp4"
    fake.write_text("this is a text file, not a video\n")
    out = tmp_path / "out"
    proc = _run("analyze", str(fake), "-o", str(out))
    assert proc.returncode == 2
    line = _error_line(proc.stderr)
    assert str(fake) in line
    assert not out.exists()


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    proc = _run("analyze", str(empty), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "empty" in _error_line(proc.stderr)


def test_missing_file(tmp_path):
    proc = _run("analyze", str(tmp_path / "nope.mp4"))
    assert proc.returncode == 2
    assert "nope.mp4" in _error_line(proc.stderr)


def test_video_without_a_person(make_video, tmp_path):
    def grey(height: int, width: int, index: int) -> np.ndarray:
        return np.full((height, width, 3), 90 + index % 5, np.uint8)

    blank = make_video("blank.mp4", n_frames=60, fps=30.0, size=(320, 240), frame_fn=grey)
    out = tmp_path / "out"
    assert main(["analyze", str(blank), "-o", str(out)]) == 2
    assert not out.exists()


def test_invalid_pain_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(tmp_path / "x.mp4"), "--pain", "12"])
    assert exc.value.code == 2
    assert "pain must be from 0 to 10" in capsys.readouterr().err


def test_bad_settings_file_is_a_clear_error(tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text('{"cleaning": {"cutoff_hz": {"walk": -1}}}')
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    assert main(["analyze", str(video), "--config", str(settings)]) == 2
    err = capsys.readouterr().err
    assert "settings.json" in err and "invalid settings" in err


def test_help_lists_every_subcommand():
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("analyze", "batch", "serve", "worker"):
        assert command in proc.stdout
