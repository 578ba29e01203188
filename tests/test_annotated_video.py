"""The optional annotated video: one frame per analysed frame, faces blurred, values drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import screener
from screener.cli import main as cli_main
from screener.config import AnalysisConfig
from screener.report.annotated import annotate_frame, write_annotated_video
from screener.report.images import face_box
from screener.result import AnalysisResult
from screener.video import iter_frames, probe_video

pytestmark = pytest.mark.video

CLIP = Path(__file__).resolve().parents[1] / "sample_videos" / "sls_left_faulty_ant_30fps.mp4"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    cache = tmp_path_factory.mktemp("pose_cache")
    return screener.analyze(CLIP, task="sls", config=AnalysisConfig(cache_dir=cache))


def test_every_frame_is_written_upright_and_playable(result, tmp_path):
    out = write_annotated_video(result, tmp_path / "annotated.mp4", max_height_px=360)
    info = probe_video(out)
    assert info.n_frames_expected == len(result.frames)
    decoded = list(iter_frames(out, max_long_side_px=None))
    assert len(decoded) == len(result.frames)
    height, width = decoded[0].rgb.shape[:2]
    assert height <= 360 and height % 2 == 0 and width % 2 == 0
    src_w, src_h = result.pose.image_size_px
    assert width / height == pytest.approx(src_w / src_h, rel=0.02)  # landscape stays so
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


def test_face_is_blurred_and_values_are_drawn(result):
    index = int(result.events["frame_peak"].iloc[0])
    original = next(f for f in iter_frames(CLIP) if f.index == index).rgb
    annotated = annotate_frame(result, index, original)
    box = face_box(result.pose.image_xy_px[index], (original.shape[0], original.shape[1]))
    assert box is not None
    x0, y0, x1, y1 = box
    detail = np.abs(np.diff(original[y0:y1, x0:x1].astype(float), axis=1)).mean()
    blurred = np.abs(np.diff(annotated[y0:y1, x0:x1].astype(float), axis=1)).mean()
    assert blurred < 0.5 * detail
    panel = (slice(0, 60), slice(0, 200))
    assert np.abs(annotated[panel].astype(int) - original[panel].astype(int)).mean() > 20


def test_cli_writes_annotated_video_only_when_asked(tmp_path, monkeypatch, result):
    monkeypatch.setenv("SCREENER_CACHE_DIR", str(result.config.cache_dir))
    plain, annotated = tmp_path / "plain", tmp_path / "annotated"
    assert cli_main(["analyze", str(CLIP), "--task", "sls", "--no-report", "-o", str(plain)]) == 0
    assert not (plain / "annotated.mp4").exists()
    args = ["analyze", str(CLIP), "--task", "sls", "--no-report", "--annotated-video"]
    assert cli_main([*args, "-o", str(annotated)]) == 0
    assert (annotated / "annotated.mp4").stat().st_size > 10_000


def test_landmarks_only_result_cannot_make_a_video(result, tmp_path):
    no_video = screener.analyze_pose(result.raw_pose, task="sls", config=result.config)
    with pytest.raises(ValueError, match="video file"):
        write_annotated_video(no_video, tmp_path / "x.mp4")


def test_cli_analyses_again_into_the_same_folder(tmp_path, monkeypatch, result):
    """A second run into a folder holding a first run's results (its stills/ folder too)
    replaces them instead of refusing the folder."""
    monkeypatch.setenv("SCREENER_CACHE_DIR", str(result.config.cache_dir))
    out = tmp_path / "out"
    args = ["analyze", str(CLIP), "--task", "sls", "-o", str(out)]
    assert cli_main(args) == 0
    assert (out / "stills").is_dir()
    first = (out / "summary.json").stat().st_mtime_ns
    assert cli_main(args) == 0
    assert (out / "stills" / "index.json").is_file()
    assert (out / "summary.json").stat().st_mtime_ns >= first
