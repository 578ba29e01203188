"""Fixtures of the batch tests: analyses of generated landmark sequences with known answers.

The end-to-end fixtures (real MediaPipe on the sample videos) live in
``test_batch_videos.py``; these ones run the real analysis (``screener.analyze_pose``) on
generated sequences, so table and export tests need no video.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import screener
from screener.batch import state
from screener.batch.inputs import VideoJob
from screener.config import AnalysisConfig
from screener.result import AnalysisResult
from tests.synthetic import jog_in_place, make_sequence, single_leg_squat

#: Exact synthetic landmarks with known answers: no MediaPipe corrections.
EXACT = AnalysisConfig(cache_dir=None, corrections_path=None)


@pytest.fixture(scope="session")
def jog_result() -> AnalysisResult:
    """Jogging in place, anterior view, 8 deg pelvic drop in left stance, 2 deg in right."""
    figure, _ = jog_in_place(drop_deg={"left": 8.0, "right": 2.0})
    seq = make_sequence(figure, fps=60.0, duration_s=5.0)
    return screener.analyze_pose(seq, task="auto", config=EXACT)


@pytest.fixture(scope="session")
def sls_result() -> AnalysisResult:
    """Single-leg squats on the right leg (events on one side only)."""
    figure = single_leg_squat("right")[0]
    seq = make_sequence(figure, fps=30.0, duration_s=8.0)
    return screener.analyze_pose(seq, task="sls", config=EXACT)


@pytest.fixture()
def write_result_folder() -> Callable[[Path, VideoJob, AnalysisResult], Path]:
    """A function writing a result folder as a worker leaves it."""
    return _write_result_folder


def _write_result_folder(outdir: Path, job: VideoJob, result: AnalysisResult) -> Path:
    """Write a result folder as a worker leaves it (spec files, keypoints, done.json)."""
    folder = state.video_dir(outdir, job.video_id)
    result.write(folder, report=False)
    result.raw_pose.save(folder / state.KEYPOINTS_FILE)
    marker = {"status": "ok", "video_sha256": "0" * 64, "settings_sha256": "1" * 64}
    (folder / state.DONE_MARKER).write_text(json.dumps(marker))
    return folder
