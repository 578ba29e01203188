"""The learned frame model: off by default, and never applied to landmarks unlike its
training data (its applicability check)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from screener.config import MODELS_DIR, AnalysisConfig
from screener.errors import ConfigError
from screener.frame_model import TARGETS, load_frame_model
from screener.keypoints import PoseSequence
from screener.norms import load_norms
from screener.pipeline import analyze_pose
from screener.report.context import caveats, frame_model_sentence
from tests.synthetic import jog_in_place, make_sequence

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


def test_shipped_model_is_off_by_default_and_carries_its_applicability():
    model = load_frame_model(MODEL)
    assert model.targets(include_unverified=False) == ()
    assert model.card["default_off_reason"]
    assert model.applicability is not None
    assert model.applicability.basis.shape[1] == model.mean.shape[0]
    assert 0 < model.applicability.limit < 5
    assert "validation clips" in model.applicability.source


def test_default_analysis_does_not_use_the_model(stick_jog):
    result = analyze_pose(stick_jog, task="jog", view="anterior", config=AnalysisConfig())
    assert result.summary["provenance"]["frame_model"] is None
    assert "pelvic_obliquity_geometric_deg" not in result.frames


def test_stick_figure_is_outside_the_models_applicability(stick_jog):
    plain = analyze_pose(stick_jog, task="jog", view="anterior", config=AnalysisConfig())
    research = analyze_pose(
        stick_jog, task="jog", view="anterior", config=AnalysisConfig(**RESEARCH)
    )
    info = research.summary["provenance"]["frame_model"]
    assert info["targets_corrected"] == []
    assert info["applicability"]["distance"] > info["applicability"]["limit"]
    assert any("frame model was not applied" in w for w in research.summary["quality"]["warnings"])
    # the planted drop is measured geometrically, exactly as without the option
    np.testing.assert_array_equal(
        research.frames["pelvic_obliquity_deg"].to_numpy(),
        plain.frames["pelvic_obliquity_deg"].to_numpy(),
    )
    left = research.events[research.events.side == "left"]["pelvic_drop_deg"]
    assert left.median() == pytest.approx(9.0, abs=1.5)


@pytest.mark.skipif(not CORPUS_CLIP.with_suffix(".keypoints.npz").exists(), reason="no corpus")
def test_rendered_clip_inside_the_envelope_is_corrected():
    truth = json.loads(CORPUS_CLIP.with_suffix(".truth.json").read_text())
    raw = PoseSequence.load(CORPUS_CLIP.with_suffix(".keypoints.npz"))
    result = analyze_pose(
        raw, task=truth["task"], view=truth["view"], config=AnalysisConfig(**RESEARCH)
    )
    info = result.summary["provenance"]["frame_model"]
    assert info["applicability"]["distance"] <= info["applicability"]["limit"]
    assert info["targets_corrected"] == list(TARGETS)
    for col in TARGETS:
        base = col.removesuffix("_deg")
        assert f"{base}_geometric_deg" in result.frames
        spread = result.frames[f"{base}_model_sd_deg"].to_numpy(float)
        assert np.nanmin(spread) >= 0
    frames = result.frames
    changed = frames["pelvic_obliquity_deg"] - frames["pelvic_obliquity_geometric_deg"]
    assert np.nanmax(np.abs(changed)) > 0.1
    # the report says so, first among its caveats; a default analysis says nothing of it
    said = caveats(result, load_norms(result.config.norms_path), [])
    assert said[0].startswith("Research option: the angles (pelvic obliquity")
    assert frame_model_sentence(None) == ""


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    bad = tmp_path / "model.npz"
    np.savez(bad, mean=np.zeros(3))
    with pytest.raises(ConfigError, match="not a frame model"):
        load_frame_model(bad)
