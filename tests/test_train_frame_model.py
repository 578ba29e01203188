"""The frame model's training data: a task's own model is trained on that task's clips
only (``bench.train_frame_model --tasks``). Runs MediaPipe on the bundled sample clips."""

from pathlib import Path

import numpy as np
import pytest

from bench.accuracy import find_clips, load_truth
from bench.train_frame_model import TASKS, collect
from screener.frame_model import TARGETS

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"


def _sample_folder(tmp_path: Path, names: list[str]) -> Path:
    """A corpus folder holding links to some of the bundled sample clips."""
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in names:
        for suffix in (".mp4", ".truth.json", ".truth.csv"):
            (folder / f"{name}{suffix}").symlink_to(SAMPLES / f"{name}{suffix}")
    return folder


@pytest.mark.video
def test_collect_keeps_only_the_tasks_asked_for(tmp_path):
    folder = _sample_folder(
        tmp_path, ["jog_normal_ant_60fps", "sls_left_normal_ant_30fps", "walk_normal_ant_30fps"]
    )
    assert {load_truth(p)[0]["task"] for p in find_clips([folder])} == set(TASKS)
    x, y, m, clips = collect([folder], ("jog",))
    assert set(clips) == {"samples/jog_normal_ant_60fps.mp4"}
    assert len(x) == len(y) == len(m) == len(clips) > 0
    assert y.shape[1] == len(TARGETS)
    assert m.any()  # the jog's stance frames carry targets
    x_all, _, _, clips_all = collect([folder])
    assert {c.split("/")[1].split("_")[0] for c in clips_all} == set(TASKS)
    jog_rows = np.asarray(clips_all) == "samples/jog_normal_ant_60fps.mp4"
    np.testing.assert_allclose(x_all[jog_rows], x, equal_nan=True)
