"""The learned event model (screener/event_model.py) and how the stance detector uses it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.train_event_model import contact_truth, heel_rises_late, mask_terminal_stance
from screener.cleaning import true_runs
from screener.config import EVENT_MODEL_PATH, REP_MODEL_PATH, AnalysisConfig, EventConfig
from screener.errors import ConfigError
from screener.event_model import (
    CONTACT_TARGETS,
    REP_TARGETS,
    _crossing_s,
    contact_features,
    find_stance,
    load_event_model,
    load_rep_model,
    refine_rep_edges,
)
from screener.events import Span
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX
from screener.pipeline import analyze_pose
from tests.synthetic import jog_in_place, make_sequence

MODEL = EVENT_MODEL_PATH
CORPUS = Path(__file__).parents[1] / "corpus" / "val"
#: Validation clips of the rendered corpus (the model never trained on them), with the
#: posed mesh's floor contacts in their truth: a jog at 24 fps and a walk at 25 fps whose
#: heel rises from terminal stance (screener_synth 0.3.0; the model reads the toe-off of
#: the older walks, whose heel rose late, about 100 ms late).
CORPUS_CLIPS = ("val/jog_ante_24fps_val019", "walks_heel_val/walk_ante_25fps_val029")


def _mirrored(pose: PoseSequence) -> PoseSequence:
    """The same pose seen in a mirror: x flipped about the image, left and right exchanged."""
    perm = np.arange(len(INDEX))
    for name, k in INDEX.items():
        if name.startswith("left_"):
            perm[k] = INDEX["right_" + name.removeprefix("left_")]
        elif name.startswith("right_"):
            perm[k] = INDEX["left_" + name.removeprefix("right_")]
    image = pose.image_xy_px[:, perm].copy()
    image[..., 0] = pose.image_size_px[0] - image[..., 0]
    world = pose.world_xyz_m[:, perm].copy()
    world[..., 0] *= -1
    return pose.with_arrays(
        image_xy_px=image, world_xyz_m=world, visibility=pose.visibility[:, perm]
    )


def test_left_and_right_feet_are_read_alike() -> None:
    figure, _ = jog_in_place(drop_deg={"left": 4.0, "right": 0.0})
    pose = make_sequence(figure, fps=30.0, duration_s=2.0)
    mirrored = _mirrored(pose)
    left = contact_features(pose, "left", "jog")
    np.testing.assert_allclose(contact_features(mirrored, "right", "jog"), left, atol=1e-9)
    # and the two feet of one clip differ (the figure's feet are half a stride apart)
    assert not np.allclose(contact_features(pose, "right", "jog"), left)


def test_features_of_a_chunk_are_those_of_the_whole_clip() -> None:
    figure, _ = jog_in_place()
    pose = make_sequence(figure, fps=60.0, duration_s=2.0)
    whole = contact_features(pose, "left", "walk")
    np.testing.assert_allclose(contact_features(pose, "left", "walk", slice(30, 70)), whole[30:70])


def test_phase_edges_are_timed_between_frames() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.3])
    prob = np.array([0.1, 0.3, 0.9, 0.2])
    assert _crossing_s(prob, t, 1, 2) == pytest.approx(0.1 + 0.1 * (0.2 / 0.6))
    assert _crossing_s(prob, t, 2, 3) == pytest.approx(0.2 + 0.1 * (0.4 / 0.7))
    assert _crossing_s(prob, t, -1, 0) == 0.0  # the clip's first frame
    assert _crossing_s(prob, t, 3, 4) == 0.3  # its last


def test_contact_truth_reads_the_floor_contact_not_the_label() -> None:
    t = np.arange(0.0, 2.0, 0.1)
    in_stance = {"left": ((t >= 0.5) & (t <= 0.9)).astype(float), "right": np.zeros(t.size)}
    in_stance["right"][:3] = 1  # a right stance cut by the clip's start: contact not seen
    truth = {
        "events": [
            {
                "kind": "stance",
                "side": "left",
                "t_start_s": 0.5,
                "t_end_s": 0.9,
                "t_floor_on_s": 0.35,
                "t_floor_off_s": 0.85,
            }
        ]
    }
    contact, known = contact_truth(truth, t, in_stance)
    np.testing.assert_array_equal(np.flatnonzero(contact["left"]), [4, 5, 6, 7, 8])
    assert known["left"].all()
    assert not contact["right"].any()
    np.testing.assert_array_equal(np.flatnonzero(~known["right"]), [0, 1, 2, 3, 4])


def test_a_contact_the_posing_made_can_be_left_out_of_the_targets() -> None:
    t = np.round(np.arange(0.0, 3.0, 0.05), 2)
    in_stance = {
        "left": ((t >= 0.5) & (t <= 1.2)).astype(float),
        "right": ((t >= 1.1) & (t <= 1.8)).astype(float),
    }
    # the left foot leaves the floor at 0.9 s, 0.3 s (43 % of its stance) before its
    # labelled toe-off: lifted by the posing; the right one's contact is a toe-off's
    left = {"kind": "stance", "side": "left", "t_start_s": 0.5, "t_end_s": 1.2}
    right = {"kind": "stance", "side": "right", "t_start_s": 1.1, "t_end_s": 1.8}
    truth = {
        "task": "walk",
        "events": [
            {**left, "t_floor_on_s": 0.55, "t_floor_off_s": 0.9},
            {**right, "t_floor_on_s": 1.15, "t_floor_off_s": 1.78},
        ],
    }
    contact, known = contact_truth(truth, t, in_stance)
    assert known["left"].all() and contact["left"][t == 1.0] == 0.0  # "swing", as posed
    contact, known = contact_truth(truth, t, in_stance, posing_artefacts="mask")
    # the lifted stance is not known (its labelled run and 0.25 s around it) ...
    np.testing.assert_array_equal(t[~known["left"]], np.round(np.arange(0.3, 1.401, 0.05), 2))
    assert not contact["left"].any()
    # ... the other foot's contact is a target as before
    assert known["right"].all()
    np.testing.assert_array_equal(
        t[contact["right"] == 1.0], np.round(np.arange(1.15, 1.751, 0.05), 2)
    )


def test_older_walks_lose_their_terminal_stance_only() -> None:
    t = np.round(np.arange(0.0, 2.0, 0.05), 2)
    event = {"kind": "stance", "side": "left", "t_floor_on_s": 0.2, "t_floor_off_s": 1.0}
    truth = {"task": "walk", "generator": {"version": "0.2.0"}, "events": [event]}
    assert heel_rises_late(truth)
    assert not heel_rises_late({**truth, "generator": {"version": "0.3.0"}})
    assert not heel_rises_late({**truth, "task": "jog"})
    known = {"left": np.ones(t.size, dtype=bool), "right": np.ones(t.size, dtype=bool)}
    mask_terminal_stance(truth, t, known)
    # 0.35 s before the toe-off to 0.1 s after it, on that foot only
    np.testing.assert_array_equal(t[~known["left"]], np.round(np.arange(0.65, 1.101, 0.05), 2))
    assert known["right"].all()


def test_shipped_event_model_carries_its_card_and_applicability() -> None:
    model = load_event_model(MODEL)
    assert model.card["targets"] == list(CONTACT_TARGETS)
    assert model.card["tasks"] == ["walk", "jog"]
    assert model.applicability is not None and model.applicability.limit > 0


def test_a_file_that_is_not_an_event_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.npz"
    np.savez(bad, mean=np.zeros(3))
    with pytest.raises(ConfigError, match="not a stance event model"):
        load_event_model(bad)
    frame_model = AnalysisConfig().frame_model_path
    assert frame_model is not None
    with pytest.raises(ConfigError, match="targets"):
        load_event_model(frame_model)


def test_the_stick_figure_jog_is_timed_by_the_model() -> None:
    figure, in_stance = jog_in_place()
    raw = make_sequence(figure, fps=60.0, duration_s=4.0)
    learned = find_stance(raw, "jog", load_event_model(MODEL), AnalysisConfig().events)
    assert learned.provenance["applied"] is True
    truth = np.array([in_stance(float(t))["left"] for t in raw.time_s])
    complete = [(a, b) for a, b in true_runs(truth) if a > 0 and b < truth.size]
    found = sorted(s.t_end_s for s in learned.spans if s.side == "left" and s.t_end_s)
    assert len(found) == len(complete)
    # the figure's foot leaves the floor at the end of its stance (its landing is a
    # smooth approach of the floor, so the start is not a sharp event)
    ends = np.array([raw.time_s[b - 1] for _, b in complete])
    np.testing.assert_allclose(found, ends, atol=0.05)


def test_landmarks_unlike_the_training_data_are_timed_by_the_rule_and_said_so() -> None:
    figure, _ = jog_in_place()
    pose = make_sequence(figure, fps=60.0, duration_s=4.0)
    raw = pose.with_arrays(world_xyz_m=pose.world_xyz_m * 4.0)  # a giant in the world
    config = AnalysisConfig(events=EventConfig(event_model_path=MODEL))
    result = analyze_pose(raw, task="jog", view="anterior", config=config)
    info = result.summary["provenance"]["event_model"]
    assert info["applied"] is False
    assert info["applicability"]["distance"] > info["applicability"]["limit"]
    warnings = result.summary["quality"]["warnings"]
    assert any("learned screener event model was not applied" in w for w in warnings)
    rule = AnalysisConfig(events=EventConfig(event_model_path=None))
    plain = analyze_pose(raw, task="jog", view="anterior", config=rule)
    np.testing.assert_array_equal(result.events["t_start_s"], plain.events["t_start_s"])
    assert plain.summary["provenance"]["event_model"] is None


@pytest.mark.parametrize("name", CORPUS_CLIPS)
def test_rendered_clip_stance_is_timed_by_the_model(name: str) -> None:
    clip = CORPUS.parent / name
    if not clip.with_suffix(".keypoints.npz").exists():
        pytest.skip("no corpus")
    truth = json.loads(clip.with_suffix(".truth.json").read_text())
    raw = PoseSequence.load(clip.with_suffix(".keypoints.npz"))
    config = AnalysisConfig(events=EventConfig(event_model_path=MODEL))
    result = analyze_pose(raw, task=truth["task"], view=truth["view"], config=config)
    info = result.summary["provenance"]["event_model"]
    assert info["applied"] is True and info["name"] == "screener event model"
    events = result.events
    on_frames = np.isin(events["t_start_s"], result.frames["time_s"]).mean()
    assert on_frames < 0.5  # timed between frames
    errors = []
    for ev in truth["events"]:
        if ev.get("t_floor_on_s") is None:
            continue
        same = events[events.side == ev["side"]]
        if same.empty:
            continue
        nearest = same.iloc[int(np.argmin(np.abs(same.t_start_s - ev["t_floor_on_s"])))]
        errors.append(abs(nearest.t_start_s - ev["t_floor_on_s"]))
        errors.append(abs(nearest.t_end_s - ev["t_floor_off_s"]))
    assert len(errors) >= 6
    assert np.median(errors) <= 0.05
    # the stance columns are the model's frames
    assert result.frames["left_in_stance"].sum() > 0


def test_a_long_clip_is_read_in_chunks_with_the_same_result(monkeypatch) -> None:
    import screener.event_model as event_model

    figure, _ = jog_in_place()
    pose = make_sequence(figure, fps=60.0, duration_s=5.0)  # 300 frames
    model = replace(load_event_model(MODEL), applicability=None)  # a stick figure: force it
    config = AnalysisConfig().events
    whole = find_stance(pose, "jog", model, config)
    monkeypatch.setattr(event_model, "CHUNK_FRAMES", 70)
    chunked = find_stance(pose, "jog", model, config)
    for side in ("left", "right"):
        np.testing.assert_allclose(chunked.probability[side], whole.probability[side])
    assert chunked.spans == whole.spans


#: A validation squat of the rendered corpus (never trained on), with labelled repetitions.
SQUAT_CLIP = CORPUS / "sls_left_ante_24fps_val000"


def _always_out(member: tuple) -> tuple:
    """A member whose output is -10 (probability ~0) whatever its inputs."""
    *hidden, (w, b) = member
    return (*hidden, (np.zeros_like(w), np.full_like(b, -10.0)))


def test_shipped_rep_model_carries_its_card() -> None:
    model = load_rep_model(REP_MODEL_PATH)
    assert model.card["targets"] == list(REP_TARGETS)
    assert model.card["tasks"] == ["sls"]
    assert model.applicability is not None


def test_rep_model_times_the_rules_repetitions_between_frames() -> None:
    if not SQUAT_CLIP.with_suffix(".keypoints.npz").exists():
        pytest.skip("no corpus")
    truth = json.loads(SQUAT_CLIP.with_suffix(".truth.json").read_text())
    raw = PoseSequence.load(SQUAT_CLIP.with_suffix(".keypoints.npz"))
    choices = {"task": "sls", "side": truth["stance_side"], "view": truth["view"]}
    config = AnalysisConfig(events=EventConfig(rep_model_path=REP_MODEL_PATH))
    research = analyze_pose(raw, config=config, **choices)
    plain = analyze_pose(raw, config=AnalysisConfig(), **choices)
    info = research.summary["provenance"]["event_model"]
    assert info["applied"] is True and info["name"] == "screener squat repetition model"
    # the same repetitions at the same deepest points; the edges read by the model
    assert len(research.events) == len(plain.events) == info["reps_timed"]
    np.testing.assert_array_equal(research.events["t_peak_s"], plain.events["t_peak_s"])
    labels = [ev for ev in truth["events"] if ev["kind"] == "rep"]
    for what in ("start", "end"):
        found = research.events[f"t_{what}_s"].to_numpy()
        true = np.array([ev[f"t_{what}_s"] for ev in labels])
        errors = [float(np.min(np.abs(found - t))) for t in true]
        assert np.median(errors) <= 0.1


def test_a_rep_model_that_finds_no_repetition_keeps_the_rules_edges() -> None:
    if not SQUAT_CLIP.with_suffix(".keypoints.npz").exists():
        pytest.skip("no corpus")
    raw = PoseSequence.load(SQUAT_CLIP.with_suffix(".keypoints.npz"))
    model = load_rep_model(REP_MODEL_PATH)
    silent = replace(model, layers=tuple(_always_out(m) for m in model.layers))
    truth = json.loads(SQUAT_CLIP.with_suffix(".truth.json").read_text())
    plain = analyze_pose(raw, task="sls", side=truth["stance_side"], view=truth["view"])
    side = truth["stance_side"]
    frames = plain.events[["frame_start", "frame_end", "frame_peak"]].to_numpy(int)
    spans = [Span("rep", side, int(a), int(b) + 1, int(p)) for a, b, p in frames]
    assert spans
    kept, info = refine_rep_edges(plain.pose, side, spans, replace(silent, applicability=None))
    assert kept == spans and info["reps_timed"] == 0


def test_the_report_notes_the_stance_model_and_flags_the_repetition_model_as_research() -> None:
    from screener.report.context import event_model_sentence, is_research_timing

    stance = {"name": "screener event model", "version": "v", "applied": True}
    reps = {"name": "screener squat repetition model", "version": "v", "applied": True}
    assert event_model_sentence(stance).startswith("The stance phases were timed")
    assert not is_research_timing(stance)
    assert event_model_sentence(reps).startswith("Research option: the repetitions'")
    assert is_research_timing(reps)
    # a model that was not applied (the rule timed the events) is not mentioned
    assert event_model_sentence({**stance, "applied": False}) == ""
    assert not is_research_timing({**reps, "applied": False})
