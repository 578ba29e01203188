"""Whether the top covers the hips (screener.clothing), on frames with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from screener.capture import load_envelope
from screener.clothing import (
    Clothing,
    ClothingLimits,
    clothing_warnings,
    measure_clothing,
    rgb_to_lab8,
)
from screener.config import CaptureConfig
from screener.errors import ConfigError
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, N_LANDMARKS
from tests.conftest import REAL_CLIPS
from tests.synthetic import still_pose

W, H = 360, 640
#: Image rows of the shoulders, hips and knees, and the columns of the left and right leg.
ROWS = {"shoulder": 120.0, "hip": 330.0, "knee": 480.0}
COLS = {"left": 205.0, "right": 155.0}
SHIRT, SHORTS, SKIN, WALL = (40, 90, 200), (30, 30, 35), (200, 150, 120), (150, 150, 140)

LIMITS = load_envelope(CaptureConfig().envelope_path).clothing


def test_lab_of_white_black_and_grey_on_opencvs_8bit_scale() -> None:
    lab = rgb_to_lab8(np.array([[255, 255, 255], [0, 0, 0], [119, 119, 119]], dtype=np.uint8))
    # white: L 100 (255 on the 8-bit scale); black: L 0; greys have a = b = 0 (128)
    np.testing.assert_allclose(lab[0], [255.0, 128.0, 128.0], atol=0.02)
    np.testing.assert_allclose(lab[1], [0.0, 128.0, 128.0], atol=1e-9)
    np.testing.assert_allclose(lab[2, 1:], [128.0, 128.0], atol=0.02)
    # sRGB 119 is about L* 50
    assert abs(lab[2, 0] * 100.0 / 255.0 - 50.0) < 0.2


def test_lab_agrees_with_opencvs_conversion() -> None:
    import cv2

    rgb = np.random.default_rng(3).integers(0, 256, (20000, 1, 3), dtype=np.uint8)
    ours = rgb_to_lab8(rgb)
    theirs = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(float)
    diff = np.abs(ours - theirs)
    assert diff.mean() < 0.35
    assert diff.max() < 2.5


def _pose(n_frames: int = 4) -> PoseSequence:
    xy = np.full((N_LANDMARKS, 2), np.nan)
    for part, row in ROWS.items():
        for side, col in COLS.items():
            xy[INDEX[f"{side}_{part}"]] = (col, row)
    return still_pose(xy, n_frames, (W, H))


def _frame(
    hem_row: float,
    top: tuple[int, int, int] = SHIRT,
    shorts: tuple[int, int, int] = SHORTS,
    legs: tuple[int, int, int] = SKIN,
) -> np.ndarray:
    """A body from the shoulders to below the knees: the top down to ``hem_row``, the
    shorts below it down to 40 % of the thigh, bare legs below."""
    img = np.empty((H, W, 3), dtype=np.uint8)
    img[:] = WALL
    x0, x1 = 120, 240
    shorts_end = round(ROWS["hip"] + 0.4 * (ROWS["knee"] - ROWS["hip"]))
    img[round(ROWS["shoulder"]) : round(hem_row), x0:x1] = top
    img[round(hem_row) : max(round(hem_row), shorts_end), x0:x1] = shorts
    img[max(round(hem_row), shorts_end) : 560, x0:x1] = legs
    return img


#: The thigh's length in pixels (hip to knee).
THIGH = ROWS["knee"] - ROWS["hip"]


def test_a_top_ending_above_the_hips_does_not_cover_them() -> None:
    frame = _frame(hem_row=ROWS["hip"] - 30)
    found = measure_clothing(dict.fromkeys(range(4), frame), _pose())
    assert found is not None and found.frames == 4
    assert found.hip_chest > 0.5 * found.chest_thigh  # the shorts, not the top
    assert LIMITS is not None and LIMITS.covers_hips(found) is False


def test_a_long_top_over_the_hips_covers_them() -> None:
    frame = _frame(hem_row=ROWS["hip"] + 0.3 * THIGH)
    found = measure_clothing(dict.fromkeys(range(4), frame), _pose())
    assert found is not None and found.hip_chest < 1.0
    assert LIMITS is not None and LIMITS.covers_hips(found) is True


def test_frames_at_another_size_read_the_same() -> None:
    """Frames decoded smaller than the pose model's pixels (the searches' 640 px)."""
    import cv2

    small: np.ndarray = cv2.resize(_frame(hem_row=ROWS["hip"] + 0.3 * THIGH), (W // 2, H // 2))
    found = measure_clothing({0: small}, _pose(1))
    assert LIMITS is not None and LIMITS.covers_hips(found) is True


def test_an_outfit_of_one_colour_cannot_be_told() -> None:
    """Top, shorts and legs alike (a tracksuit): no contrast, no verdict, no warning."""
    suit = (60, 60, 70)
    frame = _frame(hem_row=ROWS["hip"] + 0.3 * THIGH, top=suit, shorts=suit, legs=suit)
    found = measure_clothing({0: frame}, _pose(1))
    assert found is not None and found.chest_thigh < 1.0
    assert LIMITS is not None and LIMITS.covers_hips(found) is None
    assert clothing_warnings(found, LIMITS, "sls", "anterior", "envelope.toml") == ([], {})


def test_no_measurement_without_the_landmarks_in_the_picture() -> None:
    pose = _pose(2)
    pose.image_xy_px[:, INDEX["left_knee"]] = np.nan
    assert measure_clothing(dict.fromkeys(range(2), _frame(ROWS["hip"])), pose) is None
    assert LIMITS is not None and LIMITS.covers_hips(None) is None


def _limits() -> ClothingLimits:
    assert LIMITS is not None
    return LIMITS


COVERED = Clothing(8, hip_chest=4.0, hip_thigh=50.0, chest_thigh=48.0)
UNCOVERED = Clothing(8, hip_chest=50.0, hip_thigh=4.0, chest_thigh=48.0)


def test_only_a_front_squat_in_a_covering_top_is_warned_and_judged_with_its_error() -> None:
    limits = _limits()
    warnings, floors = clothing_warnings(COVERED, limits, "sls", "anterior", "envelope.toml")
    (text,) = warnings
    assert "tuck the top in" in text and "knee valgus (FPPA)" in text
    assert "a top and shorts of one colour" in text and "other than the shorts" in text
    rmse, source = floors["knee_fppa_deg"]
    assert rmse == max(limits.squat_front_fppa_rmse_covered_deg)
    assert source.startswith("envelope.toml, [clothing]")
    assert clothing_warnings(UNCOVERED, limits, "sls", "anterior", "e.toml") == ([], {})
    for task, view in (("sls", "posterior"), ("jog", "anterior"), ("walk", "anterior")):
        assert clothing_warnings(COVERED, limits, task, view, "e.toml") == ([], {})


def test_the_shipped_envelope_has_clothing_limits_with_a_source() -> None:
    limits = _limits()
    assert limits.contrast_min > 0 and 0 < limits.hip_chest_ratio_max < 1
    low, high = limits.squat_front_fppa_rmse_covered_deg
    assert low <= high and high > max(limits.squat_front_fppa_rmse_other_deg)
    assert "hold-outs" in limits.source


def test_an_envelope_without_clothing_is_a_clear_error(tmp_path: Path) -> None:
    shipped = CaptureConfig().envelope_path.read_text(encoding="utf-8")
    start, end = shipped.index("[clothing]"), shipped.index("[fps]")
    path = tmp_path / "envelope.toml"
    path.write_text(shipped[:start] + shipped[end:], encoding="utf-8")
    with pytest.raises(ConfigError, match="clothing"):
        load_envelope(path)


def test_an_analysis_warns_a_front_squat_in_a_covering_top_and_widens_its_valgus_error() -> None:
    """The clothing a video's search read reaches the summary; a front squat in a top
    over the hips is warned, with what to do, and its knee-valgus verdict names the
    envelope's error for it; the values themselves are unchanged."""
    import screener
    from screener.config import AnalysisConfig
    from tests.synthetic import make_sequence, single_leg_squat

    figure, _ = single_leg_squat(side="left", n_reps=3, stand_s=1.0)
    raw = make_sequence(figure, fps=30.0, duration_s=8.0)
    config = AnalysisConfig(cache_dir=None, corrections_path=None)

    def run(clothing: Clothing | None) -> dict:
        result = screener.analyze_pose(
            raw, task="sls", side="left", view="anterior", config=config, clothing=clothing
        )
        return result.summary

    covered, uncovered, unread = run(COVERED), run(UNCOVERED), run(None)
    assert covered["capture"]["clothing"]["top_over_hips"] is True
    assert uncovered["capture"]["clothing"]["top_over_hips"] is False
    assert unread["capture"]["clothing"] == {"checked": False}
    assert any("tuck the top in" in w for w in covered["quality"]["warnings"])
    assert not any("tuck the top in" in w for w in uncovered["quality"]["warnings"])

    def valgus(summary: dict) -> dict:
        return next(f for f in summary["faults"] if f["fault"] == "knee_valgus")

    floor = max(_limits().squat_front_fppa_rmse_covered_deg)
    plain_error = valgus(uncovered)["measurement_error"]
    assert valgus(covered)["measurement_error"] == max(plain_error, floor)
    assert ("[clothing]" in valgus(covered)["measurement_error_source"]) == (floor > plain_error)
    assert "[clothing]" not in valgus(uncovered)["measurement_error_source"]
    assert valgus(unread)["measurement_error"] == plain_error
    assert valgus(covered)["value"] == valgus(uncovered)["value"]


# --- real pixels --------------------------------------------------------------------


@pytest.mark.real_videos
@pytest.mark.parametrize(
    "clip",
    REAL_CLIPS,
)
def test_real_videos_no_top_over_the_hips_is_read(
    real_videos_dir: Path, tmp_path_factory: pytest.TempPathFactory, clip: str
) -> None:
    """Real footage: the lab's subject bare-chested in shorts, a walker in a T-shirt
    and trousers: no top over the hips is read (the lab's decidably not)."""
    from screener.acquire import estimate_video_pose
    from screener.config import AnalysisConfig

    # the lighting test's cache: the pose and the searches are estimated once
    config = AnalysisConfig(cache_dir=tmp_path_factory.getbasetemp() / "lighting_cache")
    found = estimate_video_pose(real_videos_dir / clip, config).clothing
    assert found is not None and found.frames >= 4
    covers = _limits().covers_hips(found)
    assert covers is not True
    if clip.startswith("pose2sim"):
        assert covers is False


def test_the_report_states_the_clothing_read() -> None:
    from screener.report.context import capture_sentence

    def said(covers: bool | None) -> str:
        return capture_sentence({"clothing": {"checked": True, "top_over_hips": covers}})

    assert "the top read as covering the hips" in said(True)
    assert "the top read as ending above the hips" in said(False)
    assert "too alike to tell where the top ends" in said(None)
    assert capture_sentence({"clothing": {"checked": False}}) == ""


def _long_top(rgb: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """``rgb`` with the shirt's colour painted from the shoulders to 30 % of the way down
    the thighs, a little wider than the hips: a loose top over the hips."""
    import cv2

    def at(name: str) -> np.ndarray:
        return np.asarray(xy[INDEX[name]], dtype=float)

    shoulders = [at("left_shoulder"), at("right_shoulder")]
    hems = [at(f"{s}_hip") + 0.3 * (at(f"{s}_knee") - at(f"{s}_hip")) for s in ("left", "right")]
    if not np.isfinite(np.stack(shoulders + hems)).all():
        return rgb
    centre = 0.5 * (hems[0] + hems[1])
    hems = [centre + 1.3 * (h - centre) for h in hems]  # loose: wider than the hips
    chest = 0.5 * (shoulders[0] + shoulders[1])
    chest = chest + 0.4 * (0.5 * (at("left_hip") + at("right_hip")) - chest)
    x, y = (round(v) for v in chest)
    colour = np.median(rgb[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3), axis=0)
    out = rgb.copy()
    quad = np.round(np.stack([shoulders[0], shoulders[1], hems[1], hems[0]])).astype(np.int32)
    cv2.fillPoly(out, [quad], [int(c) for c in colour])
    return out


@pytest.mark.video
def test_a_sample_squat_repainted_in_a_long_top_is_read_so_and_warned(
    sample_videos_dir: Path, tmp_path: Path
) -> None:
    """Real pixels: the sample squat from the front (a top ending above the hips) read
    as such; the same clip with its top painted down over the hips read as covering
    them, and its analysis warned with what to do."""
    import screener
    from screener.acquire import estimate_video_pose
    from screener.config import AnalysisConfig
    from screener.video import iter_frames
    from tests.conftest import encode_frames

    src = sample_videos_dir / "sls_left_normal_ant_30fps.mp4"
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    plain = estimate_video_pose(src, config)
    width, height = plain.raw.image_size_px  # the frames below are at the pose's pixels
    assert next(iter_frames(src)).rgb.shape[:2] == (height, width)
    painted = encode_frames(
        tmp_path / "long_top.mp4",
        ((f.time_s, _long_top(f.rgb, plain.raw.image_xy_px[f.index])) for f in iter_frames(src)),
    )
    limits = _limits()
    assert limits.covers_hips(plain.clothing) is False
    assert limits.covers_hips(estimate_video_pose(painted, config).clothing) is True
    result = screener.analyze(painted, task="sls", config=config)
    assert result.summary["capture"]["clothing"]["top_over_hips"] is True
    assert any("tuck the top in" in w for w in result.summary["quality"]["warnings"])
