"""The learned frame model: on by default for the angles its real-video check verified,
and never applied to landmarks unlike its training data (its applicability check)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from screener.config import MODELS_DIR, AnalysisConfig
from screener.errors import ConfigError
from screener.frame_model import TARGETS, apply_frame_model, load_frame_model
from screener.keypoints import PoseSequence
from screener.norms import load_norms
from screener.pipeline import analyze_pose
from screener.report.context import caveats, frame_model_sentence
from tests.synthetic import jog_in_place, make_sequence, single_leg_squat

MODEL = MODELS_DIR / "frame_model.npz"
#: A validation clip of the rendered corpus, camera inside the envelope (yaw 0.9 deg,
#: roll 1.6 deg, lens 0.63 m): MediaPipe's landmarks of a rendered body.
CORPUS_CLIP = Path(__file__).parents[1] / "corpus" / "val" / "jog_ante_24fps_val019"
RESEARCH = {"frame_model_include_unverified": True, "cache_dir": None}


@pytest.fixture(scope="module")
def stick_jog() -> PoseSequence:
    """A stick figure (exact joint centres) jogging with a 9 deg drop of the left hip."""
    figure, _ = jog_in_place(drop_deg={"left": 9.0, "right": 0.0})
    return make_sequence(figure, fps=60, duration_s=4.0)


@pytest.fixture(scope="module")
def corpus_clip() -> tuple[dict, Any]:
    """A rendered validation clip's truth and its analysis with geometric angles only."""
    if not CORPUS_CLIP.with_suffix(".keypoints.npz").exists():
        pytest.skip("no corpus")
    truth = json.loads(CORPUS_CLIP.with_suffix(".truth.json").read_text())
    result = analyze_pose(
        PoseSequence.load(CORPUS_CLIP.with_suffix(".keypoints.npz")),
        task=truth["task"],
        view=truth["view"],
        config=AnalysisConfig(cache_dir=None, frame_model_path=None),
    )
    return truth, result


def test_shipped_model_corrects_by_default_only_what_its_real_video_check_verified():
    model = load_frame_model(MODEL)
    check = model.card["real_video_verification"]
    verified = [t for v in check.values() if v["verified"] for t in v["targets"]]
    assert model.targets(include_unverified=False) == tuple(t for t in TARGETS if t in verified)
    for v in check.values():  # verified: closer to the real reference on >= 2 cameras
        closer = [c["model_rmse_deg"] < c["geometric_rmse_deg"] for c in v["cameras"].values()]
        assert v["verified"] == (len(closer) >= 2 and all(closer))
    assert "--verify-frame-model" in model.card["default_policy"]
    assert model.applicability is not None
    assert model.applicability.basis.shape[1] == model.mean.shape[0]
    assert 0 < model.applicability.limit < 5
    assert "validation clips" in model.applicability.source


def test_without_the_model_the_angles_are_geometric(stick_jog):
    off = AnalysisConfig(frame_model_path=None, cache_dir=None)
    result = analyze_pose(stick_jog, task="jog", view="anterior", config=off)
    assert result.summary["provenance"]["frame_model"] is None
    assert "pelvic_obliquity_geometric_deg" not in result.frames


def test_stick_figure_is_outside_the_models_applicability(stick_jog):
    plain = analyze_pose(
        stick_jog, task="jog", view="anterior", config=AnalysisConfig(frame_model_path=None)
    )
    default = analyze_pose(stick_jog, task="jog", view="anterior", config=AnalysisConfig())
    info = default.summary["provenance"]["frame_model"]
    assert info["targets_corrected"] == []
    assert info["applicability"]["distance"] > info["applicability"]["limit"]
    assert any("frame model was not applied" in w for w in default.summary["quality"]["warnings"])
    # the planted drop is measured geometrically, exactly as without the model
    np.testing.assert_array_equal(
        default.frames["pelvic_obliquity_deg"].to_numpy(),
        plain.frames["pelvic_obliquity_deg"].to_numpy(),
    )
    left = default.events[default.events.side == "left"]["pelvic_drop_deg"]
    assert left.median() == pytest.approx(9.0, abs=1.5)


@pytest.mark.skipif(not CORPUS_CLIP.with_suffix(".keypoints.npz").exists(), reason="no corpus")
def test_rendered_clip_inside_the_envelope_is_corrected_by_default():
    truth = json.loads(CORPUS_CLIP.with_suffix(".truth.json").read_text())
    raw = PoseSequence.load(CORPUS_CLIP.with_suffix(".keypoints.npz"))
    config = AnalysisConfig(cache_dir=None)
    result = analyze_pose(raw, task=truth["task"], view=truth["view"], config=config)
    info = result.summary["provenance"]["frame_model"]
    assert info["applicability"]["distance"] <= info["applicability"]["limit"]
    # by default exactly the targets its real-video check verified (the card's)
    assert config.frame_model_path is not None
    verified = list(load_frame_model(config.frame_model_path).targets(include_unverified=False))
    assert verified
    assert info["targets_corrected"] == verified
    assert info["research_targets"] == []
    frames = result.frames
    for col in TARGETS:
        base = col.removesuffix("_deg")
        if col not in verified:  # an unverified angle stays the geometric one
            assert f"{base}_geometric_deg" not in frames
            continue
        spread = frames[f"{base}_model_sd_deg"].to_numpy(float)
        assert np.nanmin(spread) >= 0
        changed = frames[col] - frames[f"{base}_geometric_deg"]
        assert np.nanmax(np.abs(changed)) > 0.1
    # the report says what corrected the angles, as a note, not as a research option
    said = caveats(result, load_norms(result.config.norms_path), [])
    assert not any(c.startswith("Research option") for c in said)
    note = next(c for c in said if c.startswith("The angles ("))
    named = note.split(")")[0]
    assert "knee" in named and "pelvic" not in named and "adduction" not in named, named
    assert frame_model_sentence(None) == ""


def test_an_angle_not_verified_on_real_video_is_corrected_only_on_request_and_said_so(
    corpus_clip,
):
    truth, result = corpus_clip
    shipped = load_frame_model(MODEL)
    partly = dataclasses.replace(
        shipped, card={**shipped.card, "verified_targets": ["pelvic_obliquity_deg"]}
    )
    view = truth["view"]
    _, by_default = apply_frame_model(result.frames, result.pose, view, partly)
    assert by_default is not None and by_default["targets_corrected"] == ["pelvic_obliquity_deg"]
    _, research = apply_frame_model(result.frames, result.pose, view, partly, True)
    assert research is not None
    assert research["research_targets"] == [t for t in TARGETS if t != "pelvic_obliquity_deg"]
    assert frame_model_sentence(research).startswith("Research option: the angles (left knee FPPA")
    assert not frame_model_sentence(by_default).startswith("Research option")


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    bad = tmp_path / "model.npz"
    np.savez(bad, mean=np.zeros(3))
    with pytest.raises(ConfigError, match="not a frame model"):
        load_frame_model(bad)


def test_a_long_clip_is_corrected_in_chunks_with_the_same_result(corpus_clip, monkeypatch):
    import screener.frame_model as frame_model

    truth, result = corpus_clip
    model = load_frame_model(MODEL)
    assert result.pose.n_frames > 2 * 37  # several chunks below, one uneven
    whole, whole_info = apply_frame_model(result.frames, result.pose, truth["view"], model)
    monkeypatch.setattr(frame_model, "CHUNK_FRAMES", 37)
    chunked, chunked_info = apply_frame_model(result.frames, result.pose, truth["view"], model)
    assert whole_info is not None and whole_info["targets_corrected"]
    assert chunked_info == whole_info  # the same applicability distance
    corrected = [c for c in whole.columns if c.endswith("_model_sd_deg")]
    assert corrected
    np.testing.assert_allclose(chunked[corrected].to_numpy(), whole[corrected].to_numpy())
    np.testing.assert_allclose(chunked[list(TARGETS)].to_numpy(), whole[list(TARGETS)].to_numpy())


SQUAT_CLIP = Path(__file__).parents[1] / "corpus" / "val" / "sls_left_ante_24fps_val000"


@pytest.mark.skipif(not SQUAT_CLIP.with_suffix(".keypoints.npz").exists(), reason="no corpus")
def test_a_task_with_its_own_frame_model_is_corrected_by_it_and_judged_with_its_errors():
    """The single-leg squat's knee FPPA comes from the squat's own frame model (retrained
    in session 33), every other task's from the general one; the geometric angles switch
    both off."""
    from screener.config import DEFAULT_TASK_FRAME_MODELS

    squat_model = DEFAULT_TASK_FRAME_MODELS["sls"]
    assert squat_model.model_path.exists() and squat_model.measurement_errors_path is not None
    assert squat_model.measurement_errors_path.exists()
    truth = json.loads(SQUAT_CLIP.with_suffix(".truth.json").read_text())
    raw = PoseSequence.load(SQUAT_CLIP.with_suffix(".keypoints.npz"))
    args = {"task": "sls", "side": truth["stance_side"], "view": truth["view"]}
    own = analyze_pose(raw, config=AnalysisConfig(cache_dir=None), **args)
    general = analyze_pose(
        raw, config=AnalysisConfig(cache_dir=None, frame_model_by_task={}), **args
    )
    geometric = analyze_pose(
        raw, config=AnalysisConfig(cache_dir=None, frame_model_path=None), **args
    )
    card = load_frame_model(squat_model.model_path).card
    info = own.summary["provenance"]["frame_model"]
    assert (info["name"], info["version"]) == (card["name"], card["version"])
    assert "single-leg squat" in info["name"]
    assert info["targets_corrected"] == ["left_knee_fppa_deg", "right_knee_fppa_deg"]
    assert (
        general.summary["provenance"]["frame_model"]["name"] == load_frame_model(MODEL).card["name"]
    )
    assert geometric.summary["provenance"]["frame_model"] is None
    mine = own.frames["left_knee_fppa_deg"].to_numpy(float)
    theirs = general.frames["left_knee_fppa_deg"].to_numpy(float)
    assert np.nanmax(np.abs(mine - theirs)) > 0.1  # another model, other readings
    np.testing.assert_array_equal(  # the geometric angle under both is the same
        own.frames["left_knee_fppa_geometric_deg"].to_numpy(float),
        general.frames["left_knee_fppa_geometric_deg"].to_numpy(float),
    )
    # the settings' hash changes with the task models (cached results are not reused)
    assert AnalysisConfig().sha256() != AnalysisConfig(frame_model_by_task={}).sha256()


@pytest.mark.parametrize("view", ["anterior", "posterior"])
def test_a_stick_figure_squat_is_outside_the_squat_models_applicability(view):
    """Exact joint centres are not MediaPipe's landmarks: the squat's model leaves them
    alone as the general model does (its limit comes from the validation squats inside the
    envelope; the looser limit over every validation clip admitted this figure)."""
    figure, _ = single_leg_squat("left", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0, view=view)
    result = analyze_pose(pose, task="sls", view=view, config=AnalysisConfig(cache_dir=None))
    info = result.summary["provenance"]["frame_model"]
    assert "single-leg squat" in info["name"]
    assert info["targets_corrected"] == []
    assert info["applicability"]["distance"] > info["applicability"]["limit"]
    guard = load_frame_model(MODELS_DIR / "frame_model_sls.npz").applicability
    assert guard is not None
    assert "validation single-leg squats inside the envelope" in guard.source
