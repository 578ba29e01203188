"""bench/task_detection.py: the task read from stored landmarks (known answers on
synthetic clips saved as a corpus would store them)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.task_detection import main, read_clip, summarise
from screener.config import AnalysisConfig
from screener.keypoints import PoseSequence
from tests.synthetic import make_sequence, single_leg_squat, standing_figure


def _store(folder: Path, name: str, task: str, pose: PoseSequence) -> Path:
    pose.save(folder / f"{name}.keypoints.npz")
    truth = folder / f"{name}.truth.json"
    truth.write_text(
        json.dumps(
            {
                "video": f"{name}.mp4",
                "task": task,
                "view": "anterior",
                "keypoints": f"{name}.keypoints.npz",
            }
        )
    )
    return truth


def test_a_shallow_squat_a_deep_one_and_a_standing_clip_are_read_and_summarised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shallow, _ = single_leg_squat("left", n_reps=3, rep_s=2.0, depth_m=0.08)
    deep, _ = single_leg_squat("right", n_reps=3)
    _store(tmp_path, "shallow", "sls", make_sequence(shallow, fps=30.0, duration_s=8.0))
    _store(tmp_path, "deep", "sls", make_sequence(deep, fps=30.0, duration_s=8.0))
    _store(
        tmp_path,
        "stand",
        "stand",
        make_sequence(lambda t: standing_figure(), fps=30.0, duration_s=4.0),
    )
    (tmp_path / "no_landmarks.truth.json").write_text(
        json.dumps({"video": "x.mp4", "task": "jog", "view": "anterior"})
    )
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    assert read_clip(tmp_path / "no_landmarks.truth.json", config) is None
    rows = {
        name: read_clip(tmp_path / f"{name}.truth.json", config)
        for name in ("shallow", "deep", "stand")
    }
    assert rows["shallow"] is not None and rows["deep"] is not None and rows["stand"] is not None
    assert rows["shallow"]["read"] == "sls" and rows["shallow"]["confidence"] == 0.3
    assert rows["shallow"]["still"] and rows["shallow"]["held_up"]
    rhythm_hz = rows["shallow"]["rhythm_hz"]
    assert isinstance(rhythm_hz, float) and 0.3 < rhythm_hz < 0.5  # reps every 2.6 s
    assert rows["deep"]["read"] == "sls" and not rows["deep"]["still"]
    assert rows["stand"]["read"] == "none" and rows["stand"]["still"]
    assert not rows["stand"]["held_up"]
    text = summarise(pd.DataFrame(list(rows.values())), config)
    assert "(analysed with a warning): 1 of 2; by true task: sls 1" in text
    still = text.split("standing person's:\n")[1].splitlines()
    assert still[1].split()[:3] == ["sls", "1", "1"]  # one still squat, its foot held up
    assert still[2].split()[:3] == ["stand", "1", "0"]
    assert still[1].split()[-1] == "1" and still[2].split()[-1] == "0"  # read as sls
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("3 clips")


def test_a_squat_filmed_as_the_guide_asks_is_read_after_its_stand(tmp_path: Path) -> None:
    figure, _ = single_leg_squat("left", n_reps=3, stand_s=2.0)
    _store(tmp_path, "guide", "sls", make_sequence(figure, fps=30.0, duration_s=11.0))
    row = read_clip(tmp_path / "guide.truth.json", AnalysisConfig(cache_dir=None))
    assert row is not None and row["read"] == "sls" and row["confidence"] == 1.0
    left_out = row["stand_left_out_s"]
    assert isinstance(left_out, float) and 2.0 <= left_out <= 2.3
    same_foot_up = row["same_foot_up"]
    assert isinstance(same_foot_up, float)
    assert same_foot_up > 0.95  # read on the frames after the stand (81 % over all)
