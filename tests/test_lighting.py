"""The subject's lighting in the picture (screener.lighting), on frames with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from screener.capture import load_envelope
from screener.errors import ConfigError
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, N_LANDMARKS
from screener.lighting import (
    BODY_LANDMARKS,
    Lighting,
    LightingLimits,
    face_shade_note,
    lighting_warnings,
    measure_lighting,
)
from tests.conftest import REAL_CLIPS
from tests.synthetic import still_pose

W, H = 360, 640
#: The body's box in the picture (x0, y0, x1, y1).
BOX = (130, 100, 230, 560)


def _pose(n_frames: int = 4, image_size: tuple[int, int] = (W, H)) -> PoseSequence:
    """The trunk's and legs' landmarks spread over :data:`BOX`, scaled to ``image_size``."""
    x0, y0, x1, y1 = BOX
    xy = np.full((N_LANDMARKS, 2), np.nan)
    rows = {"shoulder": 0.05, "hip": 0.4, "knee": 0.7, "ankle": 0.95}
    for name in BODY_LANDMARKS:
        side, part = name.split("_")
        x = x0 + (0.3 if side == "left" else 0.7) * (x1 - x0)
        xy[INDEX[name]] = (x, y0 + rows[part] * (y1 - y0))
    xy *= np.array([image_size[0] / W, image_size[1] / H])
    return still_pose(xy, n_frames, image_size)


def _frame(subject: float, background: float, legs: float | None = None) -> np.ndarray:
    """An RGB frame: a grey body over :data:`BOX` on a grey background (the legs, from
    the hips down, at ``legs`` if given: dark trousers)."""
    img = np.full((H, W), background, dtype=np.float64)
    x0, y0, x1, y1 = BOX
    img[y0:y1, x0:x1] = subject
    if legs is not None:
        img[y0 + (y1 - y0) // 2 : y1, x0:x1] = legs
    grey = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def test_a_grey_subject_on_a_grey_background_reads_both_levels() -> None:
    found = measure_lighting({0: _frame(60, 180), 2: _frame(60, 180)}, _pose())
    assert found is not None
    assert found.frames == 2
    assert found.subject_luma == pytest.approx(60, abs=0.5)
    assert found.background_luma == pytest.approx(180, abs=0.5)
    assert found.backlight_ratio == pytest.approx(3.0, abs=0.05)


def test_dark_clothes_in_a_lit_room_read_the_lit_parts() -> None:
    """The subject's brightness is that of its lit parts: a pale top over dark trousers
    reads as the top, not as a dark room."""
    found = measure_lighting({0: _frame(170, 120, legs=25)}, _pose())
    assert found is not None
    assert found.subject_luma == pytest.approx(170, abs=0.5)


def test_frames_at_another_size_are_scaled_to_the_landmarks() -> None:
    import cv2

    small = np.asarray(
        cv2.resize(_frame(50, 200), (W // 2, H // 2), interpolation=cv2.INTER_AREA), np.uint8
    )
    found = measure_lighting({1: small}, _pose())
    assert found is not None
    assert found.subject_luma == pytest.approx(50, abs=1)
    assert found.background_luma == pytest.approx(200, abs=1)


def test_a_turned_video_is_measured_as_the_pose_model_saw_it() -> None:
    # the stored frame is the upright one turned 90 deg counter-clockwise; the pose
    # model was given it turned 90 deg clockwise (upright), with landmarks in those pixels
    stored = np.rot90(_frame(40, 220), k=1).copy()
    found = measure_lighting({0: stored}, _pose(), rotate_cw_deg=90)
    assert found is not None
    assert found.subject_luma == pytest.approx(40, abs=0.5)
    assert found.background_luma == pytest.approx(220, abs=0.5)


def test_no_landmarks_gives_no_reading() -> None:
    pose = _pose()
    pose.image_xy_px[:] = np.nan
    assert measure_lighting({0: _frame(60, 180)}, pose) is None
    assert measure_lighting({}, _pose()) is None


LIMITS = LightingLimits(
    subject_luma_min=30.0, backlight_ratio_max=4.0, face_shade_ratio=2.0, source="test"
)


def test_lighting_inside_the_limits_gives_no_warning() -> None:
    assert lighting_warnings(Lighting(8, 120.0, 150.0), LIMITS) == []
    assert lighting_warnings(None, LIMITS) == []


def test_each_limit_crossed_gives_its_own_instruction() -> None:
    at_35 = LightingLimits(30.0, 3.5, 2.0, "test")
    (just,) = lighting_warnings(Lighting(8, 60.0, 211.8), at_35)  # reads 3.53, not "3.5"
    assert "3.53 times brighter" in just and "up to 3.5" in just
    dark = lighting_warnings(Lighting(8, 20.0, 30.0), LIMITS)
    assert len(dark) == 1 and "dark" in dark[0] and "Turn on" in dark[0]
    backlit = lighting_warnings(Lighting(8, 50.0, 240.0), LIMITS)
    assert len(backlit) == 1 and "4.80 times brighter" in backlit[0]
    assert "behind the camera" in backlit[0]


def test_a_backlit_patient_s_face_may_be_in_shade() -> None:
    assert face_shade_note(Lighting(8, 150.0, 160.0), LIMITS) is None
    assert face_shade_note(None, LIMITS) is None
    note = face_shade_note(Lighting(8, 80.0, 240.0), LIMITS)
    assert note is not None and "3.0 times brighter" in note and "in shade" in note


def test_a_view_refused_in_backlight_names_the_shade() -> None:
    """Labels that say anterior and no face in 12 frames: the view is asked for; with the
    background three times brighter than the patient the message says why."""
    import screener
    from screener.config import AnalysisConfig
    from screener.errors import ViewError
    from screener.view import FaceEvidence
    from tests.synthetic import jog_in_place, make_sequence

    figure, _ = jog_in_place()
    raw = make_sequence(figure, fps=60.0, duration_s=5.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    no_face = FaceEvidence(12, 0)
    with pytest.raises(ViewError, match="--view") as lit:
        screener.analyze_pose(raw, task="jog", config=config, faces=no_face)
    assert "shade" not in str(lit.value)
    with pytest.raises(ViewError, match="in shade") as backlit:
        screener.analyze_pose(
            raw, task="jog", config=config, faces=no_face, lighting=Lighting(8, 80.0, 240.0)
        )
    assert "--view" in str(backlit.value)


def test_the_shipped_envelope_has_lighting_limits() -> None:
    from screener.config import CaptureConfig

    limits = load_envelope(CaptureConfig().envelope_path).lighting
    assert limits.subject_luma_min >= 0
    assert limits.backlight_ratio_max > limits.face_shade_ratio > 1
    assert limits.source


def test_an_envelope_without_lighting_is_a_clear_error(tmp_path: Path) -> None:
    from screener.config import CaptureConfig

    shipped = CaptureConfig().envelope_path.read_text(encoding="utf-8")
    path = tmp_path / "envelope.toml"
    path.write_text(shipped[: shipped.index("[lighting]")], encoding="utf-8")
    with pytest.raises(ConfigError, match="lighting"):
        load_envelope(path)


def test_an_analysis_warns_about_a_dark_subject_and_records_the_lighting() -> None:
    """The lighting a video's search measured reaches the summary; below the shipped
    envelope's limit the analysis says so with an instruction, and measures anyway."""
    import screener
    from screener.config import AnalysisConfig, CaptureConfig
    from tests.synthetic import jog_in_place, make_sequence

    figure, _ = jog_in_place(drop_deg={"left": 3.0, "right": 3.0})
    raw = make_sequence(figure, fps=60.0, duration_s=5.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    limits = load_envelope(CaptureConfig().envelope_path).lighting
    bright = Lighting(8, 150.0, 160.0)
    dark = Lighting(8, limits.subject_luma_min / 2, 20.0)
    lit = screener.analyze_pose(raw, task="jog", view="anterior", config=config, lighting=bright)
    assert lit.summary["capture"]["lighting"]["subject_luma"] == 150.0
    assert not any("dark in the picture" in w for w in lit.summary["quality"]["warnings"])
    dim = screener.analyze_pose(raw, task="jog", view="anterior", config=config, lighting=dark)
    if limits.subject_luma_min > 0:
        assert any("dark in the picture" in w for w in dim.summary["quality"]["warnings"])
    assert dim.summary["sides"] == lit.summary["sides"]
    unmeasured = screener.analyze_pose(raw, task="jog", view="anterior", config=config)
    assert unmeasured.summary["capture"]["lighting"] == {"checked": False}


# --- real pixels --------------------------------------------------------------------


def _darkened(src: Path, dst: Path, gain: float) -> Path:
    """Re-encode ``src`` with every pixel scaled by ``gain`` (an underexposed recording)."""
    from tests.conftest import transform_video

    return transform_video(
        src, dst, lambda rgb: np.clip(rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    )


@pytest.mark.video
def test_a_sample_video_underexposed_is_warned_and_still_measured(
    sample_videos_dir: Path, tmp_path: Path
) -> None:
    """The sample squat as filmed (no lighting warning) and with every pixel at a fifth of
    its value (its lit parts under the envelope's floor): warned, with what to do."""
    import screener
    from screener.config import AnalysisConfig

    src = sample_videos_dir / "sls_left_normal_ant_30fps.mp4"
    dark = _darkened(src, tmp_path / "dark.mp4", 0.2)
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    limits = load_envelope(config.capture.envelope_path).lighting
    lit = screener.analyze(src, task="sls", config=config)
    dim = screener.analyze(dark, task="sls", config=config)
    lit_light, dim_light = lit.summary["capture"]["lighting"], dim.summary["capture"]["lighting"]
    assert lit_light["subject_luma"] > limits.subject_luma_min
    assert dim_light["subject_luma"] < limits.subject_luma_min
    assert dim_light["subject_luma"] == pytest.approx(0.2 * lit_light["subject_luma"], rel=0.15)
    assert not any("dark in the picture" in w for w in lit.summary["quality"]["warnings"])
    assert any("dark in the picture" in w for w in dim.summary["quality"]["warnings"])
    assert dim.summary["stance_side"] == lit.summary["stance_side"] == "left"


@pytest.mark.real_videos
@pytest.mark.parametrize(
    "clip",
    REAL_CLIPS,
)
def test_real_videos_a_lit_lab_and_an_outdoor_clip_get_no_lighting_warning(
    real_videos_dir: Path, tmp_path_factory: pytest.TempPathFactory, clip: str
) -> None:
    """Real footage in ordinary light (a lab, people in dark trousers or shorts; a
    street in daylight) is inside the lighting limits the renders set."""
    from screener.acquire import estimate_video_pose
    from screener.config import AnalysisConfig

    config = AnalysisConfig(cache_dir=tmp_path_factory.getbasetemp() / "lighting_cache")
    found = estimate_video_pose(real_videos_dir / clip, config).lighting
    assert found is not None and found.frames >= 4
    assert lighting_warnings(found, load_envelope(config.capture.envelope_path).lighting) == []


def test_no_person_in_a_dark_picture_says_it_is_dark() -> None:
    from screener.lighting import dark_picture_note

    assert dark_picture_note(None, LIMITS) is None
    assert dark_picture_note(120.0, LIMITS) is None
    note = dark_picture_note(11.2, LIMITS)
    assert note is not None and "11.2 of 255" in note and "lights" in note


@pytest.mark.video
def test_a_sample_video_too_dark_for_the_pose_model_is_refused_as_dark(
    sample_videos_dir: Path, tmp_path: Path
) -> None:
    """At a twentieth of its brightness MediaPipe finds nobody in the sample squat: the
    refusal says the picture is dark and to light the room, not only "no person"."""
    import screener
    from screener.config import AnalysisConfig
    from screener.errors import NoPersonError

    dark = _darkened(sample_videos_dir / "sls_left_normal_ant_30fps.mp4", tmp_path / "d.mp4", 0.05)
    with pytest.raises(NoPersonError, match="no person was found") as err:
        screener.analyze(dark, task="sls", config=AnalysisConfig(cache_dir=None))
    assert "the picture is dark" in str(err.value) and "lights" in str(err.value)
    assert "\n" not in str(err.value)
