"""The research silhouette reading of knee FPPA: outlines drawn with known edges."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

import screener
from screener import silhouette
from screener.angles import knee_fppa_deg
from screener.config import SILHOUETTE_MODEL_PATH, AnalysisConfig
from screener.errors import ConfigError
from tests.conftest import slice_to_clip
from tests.test_pipeline import CFG, _jog

LATERAL = np.array([1.0, 0.0])  # the leg's lateral side is +x in these drawings


def band(
    shape: tuple[int, int],
    start: tuple[float, float],
    end: tuple[float, float],
    half_widths: tuple[float, float],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """A filled quadrilateral around start -> end, half-width tapering from the first to
    the second value: a limb's outline with known edges."""
    mask = np.zeros(shape, bool) if mask is None else mask
    a, b = np.asarray(start, float), np.asarray(end, float)
    unit = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-unit[1], unit[0]])
    corners = np.array(
        [
            a + half_widths[0] * normal,
            b + half_widths[1] * normal,
            b - half_widths[1] * normal,
            a - half_widths[0] * normal,
        ]
    )
    canvas = mask.astype(np.uint8)
    cv2.fillConvexPoly(canvas, np.rint(corners).astype(np.int32), (1,))
    return canvas.astype(bool)


def test_edge_slopes_read_a_limb_leaning_off_its_landmarks():
    lean_deg = 5.0
    end = (100.0 + 200.0 * np.tan(np.radians(lean_deg)), 300.0)
    mask = band((400, 300), (100.0, 100.0), end, (20.0, 20.0))
    slopes = silhouette.edge_slopes(
        mask, np.array([100.0, 100.0]), np.array([100.0, 300.0]), (0.3, 0.4, 0.5, 0.6, 0.7),
        0.3, LATERAL,
    )  # fmt: skip
    for edge in ("lateral", "medial", "midline"):
        assert np.degrees(slopes[edge]) == pytest.approx(lean_deg, abs=0.6)


def test_edge_slopes_tell_a_taper_from_a_lean():
    mask = band((400, 300), (100.0, 100.0), (100.0, 300.0), (30.0, 15.0))
    slopes = silhouette.edge_slopes(
        mask, np.array([100.0, 100.0]), np.array([100.0, 300.0]), (0.3, 0.4, 0.5, 0.6, 0.7),
        0.3, LATERAL,
    )  # fmt: skip
    taper_deg = np.degrees(np.arctan(15.0 / 200.0))
    assert np.degrees(slopes["lateral"]) == pytest.approx(-taper_deg, abs=0.6)
    assert np.degrees(slopes["medial"]) == pytest.approx(taper_deg, abs=0.6)
    assert np.degrees(slopes["midline"]) == pytest.approx(0.0, abs=0.6)


def test_touching_legs_lose_the_medial_edge_only():
    mask = band((400, 400), (200.0, 100.0), (200.0, 300.0), (20.0, 20.0))
    mask[:, 100:200] = True  # the other leg against this one's medial side (-x)
    slopes = silhouette.edge_slopes(
        mask, np.array([200.0, 100.0]), np.array([200.0, 300.0]), (0.3, 0.4, 0.5, 0.6, 0.7),
        0.3, LATERAL,
    )  # fmt: skip
    assert np.degrees(slopes["lateral"]) == pytest.approx(0.0, abs=0.6)
    assert np.isnan(slopes["medial"])
    assert np.isnan(slopes["midline"])


def _valgus_leg() -> tuple[np.ndarray, ...]:
    hip, knee, ankle = np.array([100.0, 100.0]), np.array([85.0, 300.0]), np.array([100.0, 500.0])
    other_hip = np.array([0.0, 100.0])  # medial is -x, lateral +x
    return hip, knee, ankle, other_hip


def test_an_outline_on_the_landmarks_reads_the_geometric_angle():
    hip, knee, ankle, other_hip = _valgus_leg()
    mask = band((600, 300), tuple(hip), tuple(knee), (25.0, 25.0))
    mask = band((600, 300), tuple(knee), tuple(ankle), (18.0, 18.0), mask)
    readings = silhouette.frame_readings(mask, hip, knee, ankle, other_hip)
    geometric = knee_fppa_deg(hip[None], knee[None], ankle[None], other_hip[None])[0]
    assert geometric > 5.0  # a valgus knee
    for value in readings.values():
        assert value == pytest.approx(geometric, abs=0.8)


def test_a_shank_outline_more_valgus_than_its_landmarks_reads_larger():
    hip, knee, ankle, other_hip = _valgus_leg()
    turn = np.radians(-4.0)  # the outline's ankle 4 deg further lateral about the knee
    shank = ankle - knee
    rotated = np.array(
        [
            np.cos(turn) * shank[0] - np.sin(turn) * shank[1],
            np.sin(turn) * shank[0] + np.cos(turn) * shank[1],
        ]
    )
    assert rotated[0] > shank[0]  # moved laterally (+x)
    mask = band((600, 300), tuple(hip), tuple(knee), (25.0, 25.0))
    mask = band((600, 300), tuple(knee), tuple(knee + rotated), (18.0, 18.0), mask)
    readings = silhouette.frame_readings(mask, hip, knee, ankle, other_hip)
    geometric = knee_fppa_deg(hip[None], knee[None], ankle[None], other_hip[None])[0]
    for value in readings.values():
        assert value - geometric == pytest.approx(4.0, abs=0.8)


def _model(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return path


MODEL_TOML = """
name = "test"
version = "1"
task = "jog"
features = ["knee_fppa_deg", "sil_lateral"]
source = "hand-made"
[views.anterior]
fill = [0.0, 10.0]
mean = [5.0, 8.0]
scale = [2.0, 4.0]
coef = [1.0, 3.0, -2.0]
"""


def test_the_model_standardises_fills_and_keeps_an_empty_angle_empty(tmp_path):
    model = silhouette.load_silhouette_model(_model(tmp_path, MODEL_TOML))
    inputs = pd.DataFrame(
        {"knee_fppa_deg": [7.0, 7.0, np.nan], "sil_lateral": [12.0, np.nan, 12.0]}
    )
    out = model.predict("anterior", inputs)
    assert out[0] == pytest.approx(1.0 + 3.0 * 1.0 - 2.0 * 1.0)
    assert out[1] == pytest.approx(1.0 + 3.0 * 1.0 - 2.0 * 0.5)  # 10 stands in for NaN
    assert np.isnan(out[2])


def test_a_model_file_with_missing_or_mismatched_keys_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="invalid silhouette model"):
        silhouette.load_silhouette_model(_model(tmp_path, MODEL_TOML.replace("coef", "coeff")))
    with pytest.raises(ConfigError, match="do not match"):
        silhouette.load_silhouette_model(
            _model(tmp_path, MODEL_TOML.replace("[0.0, 10.0]", "[0.0]"))
        )


def test_the_shipped_model_covers_both_views_of_the_jog():
    model = silhouette.load_silhouette_model(SILHOUETTE_MODEL_PATH)
    assert model.task == "jog"
    assert set(model.views) == {"anterior", "posterior"}
    assert model.features[:2] == ("knee_fppa_deg", "knee_fppa_geometric_deg")
    assert "renders" in model.provenance()["status"]


def test_without_the_video_the_option_says_why_and_adds_nothing():
    config = CFG.model_copy(update={"silhouette_model_path": SILHOUETTE_MODEL_PATH})
    result = screener.analyze_pose(_jog(), config=config)
    assert silhouette.EVENT_COLUMN not in result.events
    provenance = result.summary["provenance"]["silhouette_model"]
    assert provenance["applied"] is False
    assert "needs the video" in provenance["reason"]
    assert any("outline (research) not read" in w for w in result.summary["quality"]["warnings"])


def test_off_by_default():
    assert AnalysisConfig().silhouette_model_path is None
    result = screener.analyze_pose(_jog(), config=CFG)
    assert "silhouette_model" not in result.summary["provenance"]


def test_a_sample_jog_gets_the_research_column(sample_videos_dir, tmp_path):
    video = slice_to_clip(
        sample_videos_dir / "jog_normal_ant_60fps.mp4", tmp_path / "jog.mp4", seconds=3.0
    )
    config = AnalysisConfig(cache_dir=None, silhouette_model_path=SILHOUETTE_MODEL_PATH)
    result = screener.analyze(video, task="jog", view="anterior", config=config)
    events = result.events
    assert result.summary["provenance"]["silhouette_model"]["applied"] is True
    read = events["knee_fppa_deg"].notna()
    assert read.sum() >= 4
    values = events.loc[read, silhouette.EVENT_COLUMN]
    assert values.notna().all()
    # a second reading of the same knees: near the first, not a copy of it
    assert (values - events.loc[read, "knee_fppa_deg"]).abs().max() < 8.0
    assert not np.allclose(values, events.loc[read, "knee_fppa_deg"])


def test_the_cli_flag_writes_the_column_to_events_csv(sample_videos_dir, tmp_path):
    from screener.cli import main

    video = slice_to_clip(
        sample_videos_dir / "jog_faulty_post_30fps.mp4", tmp_path / "jog.mp4", seconds=3.0
    )
    out = tmp_path / "out"
    argv = ["analyze", str(video), "--task", "jog", "--view", "posterior", "--no-cache"]
    assert main([*argv, "--research-silhouette", "-o", str(out)]) == 0
    events = pd.read_csv(out / "events.csv")
    assert silhouette.EVENT_COLUMN in events
    assert events.loc[events["knee_fppa_deg"].notna(), silhouette.EVENT_COLUMN].notna().all()
