"""The orchestrator on generated landmark sequences with known answers (no video)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import screener
from screener import capture
from screener.cleaning import mirror_all_labels
from screener.config import AnalysisConfig
from screener.errors import NoPersonError, TooFewEventsError, ViewError
from screener.landmarks import INDEX
from screener.metrics import EVENT_COLUMNS
from tests.synthetic import jog_in_place, make_sequence, rot_y, single_leg_squat

#: Exact synthetic landmarks: the corrections of MediaPipe's under-reading would distort
#: the known answers, so they are off here (tests/test_corrections.py covers them).
CFG = AnalysisConfig(cache_dir=None, corrections_path=None)

SPEC_FRAME_COLUMNS = [
    "frame", "time_s", "detected", "quality", "pelvic_obliquity_deg",
    "left_knee_fppa_deg", "right_knee_fppa_deg", "left_hip_adduction_deg",
    "right_hip_adduction_deg", "left_femoral_ir_deg", "right_femoral_ir_deg",
    "trunk_lean_deg", "left_knee_flexion_deg", "right_knee_flexion_deg",
    "left_in_stance", "right_in_stance",
]  # fmt: skip


def _jog(view: str = "anterior", drops=None, duration_s: float = 6.0):
    figure, _ = jog_in_place(drop_deg=drops or {"left": 1.0, "right": 9.0})
    return make_sequence(figure, fps=60, duration_s=duration_s, view=view)


@pytest.mark.parametrize("view", ["anterior", "posterior"])
def test_jog_pelvic_drop_per_stance_leg(view):
    result = screener.analyze_pose(_jog(view), config=CFG)
    assert result.summary["task"] == "jog"
    assert result.summary["view"] == view
    events = result.events
    right = events[events.side == "right"]
    left = events[events.side == "left"]
    assert len(right) >= 7 and len(left) >= 7
    # planted: 9 deg drop when standing on the right, 1 deg on the left; the filter
    # rounds the peak a little
    assert right.pelvic_drop_deg.median() == pytest.approx(9.0, abs=0.6)
    assert left.pelvic_drop_deg.median() == pytest.approx(1.0, abs=0.6)
    sides = result.summary["sides"]
    assert sides["right"]["n_events"] == len(right)
    assert sides["right"]["pelvic_drop_deg"]["mean"] > sides["left"]["pelvic_drop_deg"]["mean"]


def test_frames_and_events_follow_the_spec_columns():
    result = screener.analyze_pose(_jog(), config=CFG)
    for col in SPEC_FRAME_COLUMNS:
        assert col in result.frames.columns, col
    assert list(result.events.columns) == list(EVENT_COLUMNS)
    assert len(result.frames) == result.raw_pose.n_frames
    assert set(result.frames.left_in_stance.unique()) <= {0, 1}
    prov = result.summary["provenance"]
    assert prov["config_sha256"] == CFG.sha256()
    assert prov["lowpass_cutoff_hz"] == CFG.cutoff_for("jog")


@pytest.mark.parametrize("side", ["left", "right"])
def test_single_leg_squat_reps_and_drop_on_lifted_side(side):
    figure, reps = single_leg_squat(side, n_reps=3, drop_deg=8.0)
    pose = make_sequence(figure, fps=30, duration_s=8.0)
    result = screener.analyze_pose(pose, config=CFG)
    assert result.summary["task"] == "sls"
    assert result.summary["stance_side"] == side
    assert len(result.events) == 3
    assert (result.events.kind == "rep").all() and (result.events.side == side).all()
    # drop planted at the deepest point: 8 deg on the lifted side
    assert result.events.pelvic_drop_deg.to_numpy() == pytest.approx([8.0] * 3, abs=0.5)
    np.testing.assert_allclose(result.events.t_peak_s, [r[1] for r in reps], atol=1 / 30 + 1e-9)


def test_given_view_corrects_a_whole_clip_mislabelling():
    pose = _jog("posterior")
    mislabelled = mirror_all_labels(pose)  # as if the model thought the subject faced us
    auto = screener.analyze_pose(mislabelled, config=CFG)
    assert auto.summary["view"] == "anterior"
    fixed = screener.analyze_pose(mislabelled, view="posterior", config=CFG)
    assert fixed.summary["view_detection"]["labels_mirrored"] is True
    ev = fixed.events
    assert ev[ev.side == "right"].pelvic_drop_deg.median() == pytest.approx(9.0, abs=0.6)
    assert any("exchanged" in w for w in fixed.summary["quality"]["warnings"])


def test_side_view_is_refused_with_a_clear_message():
    figure, _ = jog_in_place()

    def side_on(t):
        return {k: rot_y(90) @ v for k, v in figure(t).items()}

    pose = make_sequence(side_on, fps=60, duration_s=4)
    with pytest.raises(ViewError, match=r"side \(sagittal\) view.*frontal view"):
        screener.analyze_pose(pose, config=CFG)


def test_no_person_is_an_error_not_nan():
    pose = _jog()
    empty = pose.with_arrays(
        detected=np.zeros(pose.n_frames, dtype=bool),
        image_xy_px=np.full_like(pose.image_xy_px, np.nan),
        world_xyz_m=np.full_like(pose.world_xyz_m, np.nan),
        visibility=np.zeros_like(pose.visibility),
    )
    with pytest.raises(NoPersonError, match="no person"):
        screener.analyze_pose(empty, config=CFG)


def _found_only_at_the_end(pose, body_scale: float):
    """``pose`` with its image shrunk about the frame centre by ``body_scale`` and a
    person found only in the last fifth of the frames."""
    centre = 0.5 * np.asarray(pose.image_size_px, dtype=float)
    xy = centre + body_scale * (pose.image_xy_px - centre)
    found = np.arange(pose.n_frames) >= 0.8 * pose.n_frames
    xy[~found] = np.nan
    vis = np.where(found[:, None], pose.visibility, 0.0)
    return pose.with_arrays(image_xy_px=xy, visibility=vis, detected=found)


def test_a_person_found_too_rarely_while_small_is_told_to_film_bigger():
    pose = _jog()
    size = capture.body_height_px(pose) / max(pose.image_size_px)
    assert np.nanmedian(size) > 0.5  # the synthetic body is large
    small = _found_only_at_the_end(pose, 0.2 / np.nanmedian(size))
    with pytest.raises(NoPersonError, match=r"only 2\d%-2\d% of the picture's long side.*portrait"):
        screener.analyze_pose(small, config=CFG)
    # the same detections on a large body: nothing about its size
    with pytest.raises(NoPersonError, match="found in only 20%") as caught:
        screener.analyze_pose(_found_only_at_the_end(pose, 1.0), config=CFG)
    assert "portrait" not in str(caught.value) and "whole body in view" in str(caught.value)


def test_a_person_found_only_at_one_end_while_not_much_bigger_is_told_to_film_bigger():
    pose = _jog()
    size = capture.body_height_px(pose) / max(pose.image_size_px)
    # found only in the last fifth, at about 35 % of the long side (a walk that began far)
    near = _found_only_at_the_end(pose, 0.35 / np.nanmedian(size))
    with pytest.raises(NoPersonError, match="found in only 20%") as caught:
        screener.analyze_pose(near, config=CFG)
    message = str(caught.value)
    assert "only in the last 20% of the clip" in message
    assert "too small to be found farther from the camera" in message and "portrait" in message
    # the same body found only in the first fifth (a walk away from the camera)
    first = near.with_arrays(
        image_xy_px=near.image_xy_px[::-1].copy(),
        visibility=near.visibility[::-1].copy(),
        detected=near.detected[::-1].copy(),
    )
    with pytest.raises(NoPersonError, match="only in the first 20% of the clip"):
        screener.analyze_pose(first, config=CFG)


def test_feet_out_of_frame_is_an_error():
    pose = _jog()
    # both feet seen: no hidden-foot warning
    assert not [w for w in screener.analyze_pose(pose, config=CFG).summary["quality"]["warnings"]
                if "hidden behind" in w]  # fmt: skip
    vis = pose.visibility.copy()
    vis[:, 27:33] = 0.05  # ankles, heels, toes unseen
    with pytest.raises(NoPersonError, match="feet"):
        screener.analyze_pose(pose.with_arrays(visibility=vis), config=CFG)


def _squat_with_lifted_foot_unseen(shift_px: float = 0.0):
    """A right-leg squat whose lifted (left) foot MediaPipe marks as not visible, as when
    it is hidden behind the standing leg; ``shift_px`` moves that foot down the image."""
    figure, _ = single_leg_squat("right", n_reps=3)
    pose = make_sequence(figure, fps=30, duration_s=8.0)
    cols = [INDEX[f"left_{p}"] for p in ("ankle", "heel", "foot_index")]
    vis, xy = pose.visibility.copy(), pose.image_xy_px.copy()
    vis[:, cols] = 0.05
    xy[:, cols, 1] += shift_px
    return pose.with_arrays(visibility=vis, image_xy_px=xy)


def test_a_lifted_foot_hidden_behind_the_body_is_not_a_foot_out_of_frame():
    # the lifted foot lies 950-1050 px down a 1280 px picture: hidden, not cut off (the
    # stance leg is given: with one foot never seen, --side auto asks for it)
    pose = _squat_with_lifted_foot_unseen()
    result = screener.analyze_pose(pose, config=CFG, task="sls", side="right")
    assert result.summary["stance_side"] == "right" and len(result.events) == 3
    # ... and the camera's likely placement is warned about (it was not seen at all)
    hidden = [w for w in result.summary["quality"]["warnings"] if "hidden behind" in w]
    assert len(hidden) == 1 and "100% of the frames" in hidden[0] and "knee height" in hidden[0]
    # the same unseen foot at the picture's bottom edge may be cut off: refused as before
    with pytest.raises(NoPersonError, match="both feet are in view in only 0%"):
        screener.analyze_pose(
            _squat_with_lifted_foot_unseen(shift_px=300.0), config=CFG, task="sls", side="right"
        )


def test_knee_fppa_is_left_empty_where_a_foot_reaches_below_the_pictures_bottom_edge():
    """A foot the frame cuts off: the pose model places its heel and toes below the
    bottom edge (the ankle still inside). That leg's knee FPPA is left empty in those
    frames, flagged, and said once with what to do; the other leg and the other angles
    are read as before."""
    pose = _jog()
    height = pose.image_size_px[1]
    cut = np.zeros(pose.n_frames, dtype=bool)
    cut[: pose.n_frames // 3] = True
    xy = pose.image_xy_px.copy()
    for part in ("heel", "foot_index"):
        xy[cut, INDEX[f"left_{part}"], 1] = 1.06 * height
    before = screener.analyze_pose(pose, config=CFG).frames
    result = screener.analyze_pose(pose.with_arrays(image_xy_px=xy), config=CFG)
    frames = result.frames
    assert before["left_knee_fppa_deg"][cut].notna().any()  # read there before
    np.testing.assert_array_equal(frames["left_knee_fppa_deg"].isna().to_numpy(), cut)
    np.testing.assert_array_equal(
        frames["quality_flags"].str.contains("left_foot_below_picture").to_numpy(), cut
    )
    assert not frames["quality_flags"].str.contains("right_foot_below_picture").any()
    pd.testing.assert_series_equal(frames["right_knee_fppa_deg"], before["right_knee_fppa_deg"])
    pd.testing.assert_series_equal(frames["pelvic_obliquity_deg"], before["pelvic_obliquity_deg"])
    said = [w for w in result.summary["quality"]["warnings"] if "bottom edge" in w]
    events = result.events
    left = events[events["side"] == "left"]
    spans = left[["frame_start", "frame_end"]].to_numpy(dtype=int)
    touched = int(sum(cut[a : b + 1].any() for a, b in spans))
    assert 0 < touched < len(left)
    assert len(said) == 1
    assert f"during {touched} of {len(left)} event(s)" in said[0] and "knee height" in said[0]
    # the events after the cut keep their values
    after = left[left["frame_start"] > np.flatnonzero(cut).max()]
    assert len(after) and after["knee_fppa_deg"].notna().all()


def test_too_short_clip_is_an_error():
    with pytest.raises(TooFewEventsError, match="at least"):
        screener.analyze_pose(_jog(duration_s=0.5), config=CFG)


def test_standing_still_has_no_events_and_says_so():
    figure, _ = jog_in_place()
    still = make_sequence(lambda t: figure(0.1), fps=30, duration_s=3)
    with pytest.raises(TooFewEventsError, match="no complete"):
        screener.analyze_pose(still, task="jog", config=CFG)


@pytest.mark.parametrize(("depth_m", "blanked"), [(0.15, False), (0.3, True)])
def test_knee_angles_left_empty_where_the_thigh_is_foreshortened(depth_m, blanked):
    """A deep squat seen square on: the flexed thigh shrinks to under 60 % of its
    standing length at the bottom, where FPPA and hip adduction are not trusted."""
    figure, _ = single_leg_squat("left", depth_m=depth_m)
    pose = make_sequence(figure, fps=30, duration_s=8.0, view="posterior")
    length = np.linalg.norm(pose.xy("left_hip") - pose.xy("left_knee"), axis=1)
    length /= np.linalg.norm(pose.xy("left_hip") - pose.xy("right_hip"), axis=1)
    expected = length < CFG.angles.thigh_min_visible_fraction * np.percentile(length, 90)
    assert bool(expected.any()) == blanked
    only_thigh = CFG.model_copy(
        update={"angles": CFG.angles.model_copy(update={"posterior_squat_max_depth": 10.0})}
    )  # the depth gate of a squat from behind off: the thigh's gate alone
    result = screener.analyze_pose(pose, task="sls", side="left", config=only_thigh)
    frames = result.frames
    np.testing.assert_array_equal(frames["left_knee_fppa_deg"].isna().to_numpy(), expected)
    np.testing.assert_array_equal(frames["left_hip_adduction_deg"].isna().to_numpy(), expected)
    assert frames["pelvic_obliquity_deg"].notna().all()
    flagged = frames["quality_flags"].str.contains("left_thigh_foreshortened").to_numpy()
    np.testing.assert_array_equal(flagged, expected)
    warned = any("thigh foreshortened" in w for w in result.summary["quality"]["warnings"])
    assert warned is blanked
    if blanked:
        assert result.events["knee_fppa_deg"].isna().all()


def test_knee_fppa_of_a_deep_squat_filmed_from_behind_is_left_empty_and_said_so():
    from screener.angles import foreshortened_thigh, squat_depth_in_image

    figure, _ = single_leg_squat("left", depth_m=0.2)
    behind = make_sequence(figure, fps=30, duration_s=8.0, view="posterior")
    result = screener.analyze_pose(behind, task="sls", side="left", config=CFG)
    pose = result.pose
    limit = CFG.angles.posterior_squat_max_depth
    deep = squat_depth_in_image(pose, "left") > limit
    thigh = foreshortened_thigh(pose, CFG.angles)["left"]
    assert (deep & ~thigh).any() and (~deep).any()  # the case: deep, thigh seen
    frames = result.frames
    fppa_empty = frames["left_knee_fppa_deg"].isna().to_numpy()
    np.testing.assert_array_equal(fppa_empty, deep | thigh)
    np.testing.assert_array_equal(frames["left_hip_adduction_deg"].isna().to_numpy(), thigh)
    flagged = frames["quality_flags"].str.contains("left_deep_squat_from_behind").to_numpy()
    np.testing.assert_array_equal(flagged, deep)
    said = [w for w in result.summary["quality"]["warnings"] if "not measured at" in w]
    assert len(said) == 1 and "film the squat from the front" in said[0]
    # the same squat from the front keeps its FPPA
    front = screener.analyze_pose(
        make_sequence(figure, fps=30, duration_s=8.0), task="sls", side="left", config=CFG
    )
    assert not front.frames["quality_flags"].str.contains("deep_squat_from_behind").any()
    assert not any("not measured at" in w for w in front.summary["quality"]["warnings"])
    assert front.events["knee_fppa_deg"].notna().all()


def test_squat_depth_in_image_is_the_hip_drop_over_the_standing_hip_to_ankle_height():
    from screener.angles import squat_depth_in_image

    figure, _ = single_leg_squat("left", depth_m=0.2)
    pose = make_sequence(figure, fps=30, duration_s=8.0)
    depth = squat_depth_in_image(pose, "left")
    hip_y = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    standing = np.percentile(hip_y, 5)
    leg = np.median(pose.xy("left_ankle")[:, 1]) - standing
    np.testing.assert_allclose(depth, (hip_y - standing) / leg)
    assert depth.min() == pytest.approx(0.0, abs=0.01)
    assert 0.15 < depth.max() < 0.35  # 0.2 m of drop over a leg of about 0.9 m
    no_ankle = pose.with_arrays(image_xy_px=pose.image_xy_px.copy())
    no_ankle.image_xy_px[:, INDEX["left_ankle"], :] = np.nan
    assert np.isnan(squat_depth_in_image(no_ankle, "left")).all()


def test_too_few_repetitions_or_steps_for_a_confident_call_are_warned():
    figure, _ = single_leg_squat("left", n_reps=2)
    squat = screener.analyze_pose(
        make_sequence(figure, fps=30, duration_s=6.0), task="sls", side="left", config=CFG
    )
    warnings = squat.summary["quality"]["warnings"]
    assert any(w.startswith("2 left repetition(s): fewer than the 3") for w in warnings)
    assert not any("right repetition" in w for w in warnings)  # the free leg has none
    jog = screener.analyze_pose(_jog(duration_s=2.5), config=CFG)
    n_left = jog.summary["sides"]["left"]["n_events"]
    assert 1 <= n_left < 7
    assert any(
        w.startswith(f"{n_left} left stance phase(s): fewer than the 7")
        for w in jog.summary["quality"]["warnings"]
    )
    long_squat = screener.analyze_pose(
        make_sequence(single_leg_squat("left", n_reps=3)[0], fps=30, duration_s=8.0),
        task="sls",
        side="left",
        config=CFG,
    )
    assert not any("repetition(s)" in w for w in long_squat.summary["quality"]["warnings"])


def test_swap_search_runs_once_and_the_filter_once_per_cut_off(monkeypatch):
    """A jog with a view given against the model's labels: detection at walking's 6 Hz,
    mirroring, analysis at jogging's 10 Hz. Only one cut-off's landmarks are kept (a long
    clip's copies are tens of MiB), so the second cut-off masks and fills again, but the
    swap search (the costly step) runs once and its frames are reused."""
    import screener.pipeline as pipeline

    given_swaps: list[bool] = []
    filtered: list[float] = []
    real_prepare, real_filter = pipeline.prepare_pose, pipeline.filter_cleaned

    def prepare(raw, config, *, swapped=None):
        given_swaps.append(swapped is not None)
        return real_prepare(raw, config, swapped=swapped)

    def filter_(prepared, cutoff_hz, order, *, in_place=False):
        filtered.append(cutoff_hz)
        return real_filter(prepared, cutoff_hz, order, in_place=in_place)

    monkeypatch.setattr(pipeline, "prepare_pose", prepare)
    monkeypatch.setattr(pipeline, "filter_cleaned", filter_)
    result = screener.analyze_pose(_jog("posterior"), view="anterior", config=CFG)
    assert result.summary["view_detection"]["labels_mirrored"]
    assert result.summary["task"] == "jog"
    assert given_swaps == [False, True]
    assert filtered == [6.0, 10.0]
    assert result.summary["provenance"]["lowpass_cutoff_hz"] == 10.0


@pytest.mark.parametrize("view", ["anterior", "posterior"])
def test_squat_fppa_verdict_follows_the_measured_errors_of_its_view(view):
    """The shipped measured errors decide, per view, whether a squat's FPPA is judged; a
    withheld one says why, and how to record it where another view is judged."""
    from screener.accuracy import load_measured_errors

    assert CFG.measurement_errors_path is not None
    errors = load_measured_errors(CFG.measurement_errors_path)
    measured = errors.for_task("sls", view)["knee_fppa_deg"]
    reason = errors.withheld_because(measured)
    figure, _ = single_leg_squat("left", depth_m=0.15)
    pose = make_sequence(figure, fps=30, duration_s=8.0, view=view)
    result = screener.analyze_pose(pose, task="sls", side="left", view=view, config=CFG)
    (fppa,) = [f for f in result.summary["faults"] if f["metric"] == "knee_fppa_deg"]
    assert fppa["measurement_error"] == measured.rmse_deg
    assert fppa["withheld_because"] == reason
    if reason is None:
        assert fppa["verdict"] != "withheld" and fppa["advice"] is None
        return
    assert fppa["verdict"] == "withheld" and fppa["severity"] == "none"
    other = errors.better_views("sls", view).get("knee_fppa_deg")
    if other is None:
        assert fppa["advice"] is None
    else:
        where = {"anterior": "from the front", "posterior": "from behind"}[other[0]]
        assert f"record the single-leg squat {where}" in fppa["note"]


def test_cleaning_keeps_one_cutoff_and_gives_what_cleaning_afresh_gives():
    from screener.cleaning import clean_pose
    from screener.pipeline import _Cleaning
    from tests.synthetic import jog_in_place, make_sequence

    raw = make_sequence(jog_in_place()[0], fps=60.0, duration_s=3.0)
    config = AnalysisConfig()
    cleaning = _Cleaning(raw, config)
    walk = cleaning.at(6.0).pose.image_xy_px.copy()
    jog = cleaning.at(10.0)
    np.testing.assert_array_equal(
        jog.pose.image_xy_px, clean_pose(raw, config.cleaning, 10.0).pose.image_xy_px
    )
    assert cleaning.at(10.0) is jog
    np.testing.assert_array_equal(cleaning.at(6.0).pose.image_xy_px, walk)
    assert not np.array_equal(walk, jog.pose.image_xy_px)


def _squat_events(side: str, fppa_deg: list[float]) -> pd.DataFrame:
    from screener.metrics import event_metrics

    empty = {m: np.nan for m in event_metrics()}
    return pd.DataFrame({"side": side, "kind": "rep", **empty, "knee_fppa_deg": fppa_deg})


def test_a_squat_knee_reading_beyond_the_norms_floor_warns_about_the_camera():
    from screener.metrics import side_statistics
    from screener.norms import load_norms
    from screener.pipeline import implausible_reading_warnings

    norms = load_norms(CFG.norms_path)
    floor = norms.tasks["sls"].metrics["knee_fppa_deg"].plausible_min
    assert floor is not None
    events = pd.concat(
        [_squat_events("left", [-20.0, -22.0, -19.0]), _squat_events("right", [floor, floor])]
    )
    warnings = implausible_reading_warnings(side_statistics(events), norms, "sls")
    assert len(warnings) == 1  # the right side sits on the floor, not under it
    text = warnings[0]
    assert text.startswith("left knee frontal plane projection angle")
    assert "reads -20°" in text and f"floor of {floor:.0f}°" in text
    assert "doi:10.4236/ijcm.2021.126023" in text and "square to the patient" in text
    # walking has no floor in the norms: nothing to say
    walk = implausible_reading_warnings(side_statistics(events), norms, "walk")
    assert walk == []


def test_the_norms_floor_reaches_the_summary_warnings(tmp_path):
    # a clinic norms file whose floor sits above the synthetic squat's straight knee
    text = CFG.norms_path.read_text().replace("plausible_min = -13.0", "plausible_min = 30.0", 1)
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    figure, _ = single_leg_squat("right", n_reps=3)
    pose = make_sequence(figure, fps=30, duration_s=8.0)
    warned = screener.analyze_pose(pose, config=CFG.model_copy(update={"norms_path": path}))
    plain = screener.analyze_pose(pose, config=CFG)
    floor = [w for w in warned.summary["quality"]["warnings"] if "norms file's floor" in w]
    assert len(floor) == 1 and floor[0].startswith("right knee")
    assert not [w for w in plain.summary["quality"]["warnings"] if "norms file's floor" in w]


def test_a_lens_height_entered_is_checked_reported_and_validated(tmp_path):
    """A squat's lens height cannot be read from its video: given, it is checked (a lens
    at 1.5 m is warned about), recorded in the summary and stated in the report; a value
    no stand gives is refused with the unit."""
    from screener.errors import ConfigError
    from screener.report import write_report

    figure, _ = single_leg_squat("left", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    plain = screener.analyze_pose(pose, task="sls", view="anterior")
    assert plain.summary["capture"]["camera_height_stated_m"] is None
    assert plain.summary["capture"]["unchecked"]
    high = screener.analyze_pose(pose, task="sls", view="anterior", lens_height_m=1.5)
    assert high.summary["capture"]["camera_height_stated_m"] == 1.5
    # the lens height's "not checked" note goes; a front squat's distance and stature
    # notes stay
    distance, stature = high.summary["capture"]["unchecked"]
    assert distance.startswith("The camera's distance was not checked")
    assert stature.startswith("The patient's stature was not checked")
    assert any(
        w.startswith("the lens was 1.50 m above the floor, as entered")
        for w in high.summary["quality"]["warnings"]
    )
    write_report(high, tmp_path)
    assert "lens 1.50 m above the floor (as entered)" in (tmp_path / "report.html").read_text()
    # the measurements themselves do not depend on it
    pd.testing.assert_frame_equal(plain.events, high.events)
    for bad in (15.0, 0.0, float("nan")):
        with pytest.raises(ConfigError, match="lens height"):
            screener.analyze_pose(pose, task="sls", view="anterior", lens_height_m=bad)


def test_a_camera_distance_entered_is_checked_reported_and_validated(tmp_path):
    """A front squat's camera distance is not in its video: given, a close one is warned
    about, recorded in the summary and stated in the report, and the measurements do not
    change; a value no room gives is refused with the unit."""
    from screener.errors import ConfigError
    from screener.report import write_report

    figure, _ = single_leg_squat("left", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    plain = screener.analyze_pose(pose, task="sls", view="anterior")
    assert plain.summary["capture"]["camera_distance_stated_m"] is None
    assert any(n.startswith("The camera's distance") for n in plain.summary["capture"]["unchecked"])
    near = screener.analyze_pose(pose, task="sls", view="anterior", camera_distance_m=1.2)
    assert near.summary["capture"]["camera_distance_stated_m"] == 1.2
    assert not any("distance" in n for n in near.summary["capture"]["unchecked"])
    assert any(
        w.startswith("the camera was 1.2 m from the patient, as entered")
        for w in near.summary["quality"]["warnings"]
    )
    far = screener.analyze_pose(pose, task="sls", view="anterior", camera_distance_m=2.5)
    assert not any("from the patient" in w for w in far.summary["quality"]["warnings"])

    def valgus(result):
        return next(f for f in result.summary["faults"] if f["fault"] == "knee_valgus")

    # closer than validated, knee FPPA is judged with the larger of the task's error and
    # that of squats filmed that close (this stick figure's, geometric, is the larger)
    assert valgus(far)["measurement_error"] == valgus(plain)["measurement_error"]
    assert valgus(near)["measurement_error"] == max(valgus(plain)["measurement_error"], 6.8)
    write_report(near, tmp_path)
    assert "lens 1.2 m from the patient (as entered)" in (tmp_path / "report.html").read_text()
    pd.testing.assert_frame_equal(plain.events, near.events)
    for bad in (0.1, 25.0, float("nan"), True):
        with pytest.raises(ConfigError, match="camera distance"):
            screener.analyze_pose(pose, task="sls", view="anterior", camera_distance_m=bad)


def test_a_patient_height_entered_judges_a_short_patients_squat_with_the_larger_error(
    tmp_path,
):
    """The stature is not in the video: given, a short patient's squat is warned about and
    its knee FPPA judged with the larger error of such squats, a taller one's is not, the
    "not checked" note goes either way and the measurements do not change; a height given
    in the wrong unit is refused."""
    from screener.capture import load_envelope
    from screener.errors import ConfigError
    from screener.report import write_report

    # the shipped geometric error of a front squat's knee FPPA (8.04°) is larger than the
    # short patients' (envelope.toml): an errors file with a smaller one shows the raise
    shipped = AnalysisConfig().measurement_errors_path
    assert shipped is not None
    text = shipped.read_text(encoding="utf-8")
    entry = '[tasks."sls.anterior".knee_fppa_deg]\nrmse_deg = 8.04\n'
    assert entry in text
    smaller = tmp_path / "errors.toml"
    smaller.write_text(text.replace(entry, entry.replace("8.04", "2.0")), encoding="utf-8")
    config = AnalysisConfig(measurement_errors_path=smaller)
    envelope = load_envelope(config.capture.envelope_path)
    figure, _ = single_leg_squat("left", n_reps=3)
    pose = make_sequence(figure, fps=30.0, duration_s=8.0)
    plain = screener.analyze_pose(pose, task="sls", view="anterior", config=config)
    assert plain.summary["capture"]["patient_height_stated_m"] is None
    assert any(n.startswith("The patient's stature") for n in plain.summary["capture"]["unchecked"])
    short, tall = (
        screener.analyze_pose(pose, task="sls", view="anterior", patient_height_m=h, config=config)
        for h in (1.5, 1.8)
    )
    assert short.summary["capture"]["patient_height_stated_m"] == 1.5
    for result in (short, tall):
        assert not any("stature" in n for n in result.summary["capture"]["unchecked"])
    assert any(
        w.startswith("the patient is 1.50 m tall, as entered")
        for w in short.summary["quality"]["warnings"]
    )
    assert not any("m tall, as entered" in w for w in tall.summary["quality"]["warnings"])

    def valgus(result):
        return next(f for f in result.summary["faults"] if f["fault"] == "knee_valgus")

    assert valgus(tall)["measurement_error"] == valgus(plain)["measurement_error"] == 2.0
    assert valgus(short)["measurement_error"] == envelope.squat_short_rmse_deg
    pd.testing.assert_frame_equal(plain.events, short.events)
    write_report(tall, tmp_path)
    assert "the patient 1.80 m tall (as entered)" in (tmp_path / "report.html").read_text()
    # a jog is not judged by the height
    jogger, _ = jog_in_place()
    jog = screener.analyze_pose(
        make_sequence(jogger, fps=60.0, duration_s=6.0), task="jog", patient_height_m=1.5
    )
    assert not any("m tall, as entered" in w for w in jog.summary["quality"]["warnings"])
    for bad in (165.0, 0.5, float("nan"), True):
        with pytest.raises(ConfigError, match="patient's height"):
            screener.analyze_pose(pose, task="sls", view="anterior", patient_height_m=bad)


def test_a_verdict_left_without_values_says_why_instead_of_asking_for_more_events():
    figure, _ = single_leg_squat("left", depth_m=0.2)
    behind = make_sequence(figure, fps=30, duration_s=8.0, view="posterior")
    result = screener.analyze_pose(behind, task="sls", side="left", config=CFG)
    valgus = next(
        f for f in result.summary["faults"] if f["fault"] == "knee_valgus" and f["side"] == "left"
    )
    n_reps = int((result.events["side"] == "left").sum())
    empty = int(result.events.loc[result.events["side"] == "left", "knee_fppa_deg"].isna().sum())
    assert empty > 0 and valgus["n_events_empty"] == empty
    assert valgus["n_events"] == n_reps - empty
    assert valgus["verdict"] == "insufficient events"  # every repetition deep: none left
    assert "Record more" not in valgus["note"]
    assert f"At {empty} event(s) this angle was left empty" in valgus["note"]
    assert "capture warnings" in valgus["note"]
    # a side whose events all have values still asks for more when there are too few
    front = screener.analyze_pose(
        make_sequence(figure, fps=30, duration_s=8.0), task="sls", side="left", config=CFG
    )
    assert all(f["n_events_empty"] == 0 for f in front.summary["faults"] if f["side"] == "left")
