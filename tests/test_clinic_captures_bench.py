"""bench/clinic_captures.py on generated clips stored as a corpus stores them (known
answers: each clip one way and one leg; joined, a turn and both legs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.clinic_captures import join, main, read_stored, squat_pairs, walk_pairs
from screener.keypoints import PoseSequence
from tests.synthetic import (
    make_sequence,
    perspective_sequence,
    rot_y,
    single_leg_squat,
    stance_rule_config,
    walk_toward_camera,
)


def _store(folder: Path, name: str, truth: dict, pose: PoseSequence) -> None:
    pose.save(folder / f"{name}.keypoints.npz")
    (folder / f"{name}.truth.json").write_text(
        json.dumps({"video": f"{name}.mp4", "keypoints": f"{name}.keypoints.npz", **truth})
    )


def _walk_away() -> PoseSequence:
    walk, _ = walk_toward_camera()
    turned = rot_y(180.0)

    def figure(t: float) -> dict[str, np.ndarray]:
        return {k: turned @ p + np.array([-0.5, 0.0, 0.0]) for k, p in walk(t).items()}

    return perspective_sequence(figure, fps=30.0, duration_s=4.0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    walk, _ = walk_toward_camera()
    toward = perspective_sequence(walk, fps=30.0, duration_s=4.0)
    _store(folder, "walk_ante", {"task": "walk", "view": "anterior"}, toward)
    _store(folder, "walk_post", {"task": "walk", "view": "posterior"}, _walk_away())
    for side in ("left", "right"):
        figure, _ = single_leg_squat(side, n_reps=3)
        _store(
            folder,
            f"sls_{side}",
            {"task": "sls", "view": "anterior", "stance_side": side},
            make_sequence(figure, fps=30.0, duration_s=8.4),
        )
    return folder


CONFIG = stance_rule_config()


def test_join_keeps_the_frame_interval_and_every_frame() -> None:
    figure, _ = single_leg_squat("left", n_reps=1)
    a = make_sequence(figure, fps=30.0, duration_s=2.0)
    joined = join(a, a)
    assert joined.n_frames == 2 * a.n_frames
    assert np.allclose(np.diff(joined.time_s), 1 / 30.0)


def test_every_stored_clip_is_one_way_and_one_leg(corpus: Path) -> None:
    table = read_stored([corpus], CONFIG)
    assert len(table) == 4
    assert not table["turn"].any()
    assert (table["both_legs"] == False).all()  # noqa: E712 (a column of bools)
    squats = table[table["task"] == "sls"]
    assert list(squats["side"]) == ["right", "right"]


def test_walks_joined_turn_and_keep_one_halfs_stance_phases(corpus: Path) -> None:
    walks = walk_pairs([corpus], CONFIG, per_group=1)
    assert list(walks["order"]) == ["front-back", "back-front"]
    assert (walks["outcome"] == "turn found").all()
    assert (walks["other_half"] == 0).all()
    assert (walks["as_alone"] >= walks["alone"] - 1).all() and (walks["alone"] >= 2).all()


def test_squats_joined_are_found_on_both_legs_and_keep_one_legs_repetitions(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legs = squat_pairs([corpus], CONFIG, per_group=1)
    assert len(legs) == 6  # two orders, three ways of giving the leg
    assert (legs["outcome"] == "both legs found").all()
    assert (legs["other_half"] == 0).all() and (legs["as_alone"] == legs["alone"]).all()
    given = legs[legs["side"] != "auto"]
    assert (given["leg"] == given["side"]).all()
    assert main([str(corpus)]) == 0
    assert capsys.readouterr().out.startswith("4 stored clips")
