"""bench/reencode.py: a folder's videos as a messaging app sends them, every frame kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.reencode import main, scaled_size
from screener.video import iter_frames, probe_video

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "jog_faulty_post_30fps.mp4"


def test_scaled_size_shrinks_the_short_side_only_and_keeps_it_even() -> None:
    assert scaled_size(1080, 1920, 480) == (480, 854)
    assert scaled_size(1920, 1080, 360) == (640, 360)
    assert scaled_size(360, 640, 480) == (360, 640)  # never enlarged


@pytest.mark.parametrize("restore", [False, True])
def test_copies_keep_every_frame_and_its_time_and_lose_detail(
    tmp_path: Path, restore: bool
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    (src / "notes.txt").write_text("kept as is\n")
    args = [str(src), str(tmp_path / "dst"), "--short-side", "240", "--kbps", "150"]
    assert main([*args, "--restore-size"] if restore else args) == 0
    copy = tmp_path / "dst" / SAMPLE.name
    assert (tmp_path / "dst" / "notes.txt").read_text() == "kept as is\n"
    original, again = probe_video(SAMPLE), probe_video(copy)
    assert (again.width_px, again.height_px) == (
        (original.width_px, original.height_px) if restore else (240, 426)
    )
    assert again.fps_nominal == pytest.approx(original.fps_nominal)
    times = [f.time_s for f in iter_frames(SAMPLE, max_long_side_px=None)]
    frames = list(iter_frames(copy, max_long_side_px=None))
    assert [f.time_s for f in frames] == pytest.approx(times, abs=1e-3)
    if restore:  # same size, detail lost: not the original's pixels, but close to them
        first = next(iter_frames(SAMPLE, max_long_side_px=None)).rgb.astype(float)
        diff = np.abs(frames[0].rgb.astype(float) - first)
        assert 0.5 < diff.mean() < 20.0


def test_a_missing_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nothing"), str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err
