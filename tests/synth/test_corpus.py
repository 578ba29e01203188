"""The training corpus' randomisation and camera placement (pure NumPy, no torch)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from screener_synth import geometry as geo
from screener_synth.clips import CameraSpec, ClipSpec, level_frontal_camera, place_camera
from screener_synth.kinematics import SideFaults, standing
from screener_synth.sets import CORPUS_FAULT_MAX, CORPUS_RANGES, corpus_specs


def test_corpus_is_reproducible_and_splits_differ() -> None:
    a, b = corpus_specs("train", 20), corpus_specs("train", 30)
    assert a == b[:20]  # a longer corpus extends the shorter one
    names = {s.name for s in corpus_specs("val", 20)} | {s.name for s in a}
    assert len(names) == 40
    assert corpus_specs("final", 5)[0].seed != a[0].seed


def test_corpus_ranges_are_respected_and_covered() -> None:
    specs = corpus_specs("train", 200)
    yaw = np.array([s.camera.yaw_deg for s in specs])
    roll = np.array([s.camera.roll_deg for s in specs])
    height = np.array([s.camera.height_m for s in specs])
    for values, key in ((yaw, "yaw_deg"), (roll, "roll_deg"), (height, "camera_height_m")):
        lo, hi = CORPUS_RANGES[key]
        assert values.min() >= lo and values.max() <= hi
        assert values.min() < lo + 0.15 * (hi - lo) and values.max() > hi - 0.15 * (hi - lo)
    assert {s.task for s in specs} == {"walk", "jog", "sls", "stand"}
    assert {s.fps for s in specs} >= {24.0, 30.0, 60.0}
    assert any(s.look["trousers"] for s in specs) and not all(s.look["trousers"] for s in specs)
    assert {s.truth_view for s in specs} == {"level_frontal"}


def test_planted_faults_are_drawn_independently() -> None:
    specs = corpus_specs("train", 400)
    names = list(CORPUS_FAULT_MAX)
    values = np.array(
        [[getattr(s.faults[side], n) for n in names] for s in specs for side in ("left", "right")]
    )
    corr = np.corrcoef(values.T)
    off_diagonal = corr[~np.eye(len(names), dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.15
    left = np.array([s.faults["left"].pelvic_drop for s in specs])
    right = np.array([s.faults["right"].pelvic_drop for s in specs])
    assert abs(np.corrcoef(left, right)[0, 1]) < 0.15
    for k, name in enumerate(names):
        assert values[:, k].max() <= CORPUS_FAULT_MAX[name]


def test_camera_roll_turns_the_vertical_in_the_image() -> None:
    for roll in (-5.0, 3.0):
        cam = geo.PinholeCamera((0, -4, 1.0), (0, 0, 1.0), 50, 360, 640, roll_deg=roll)
        top, bottom = cam.project(np.array([[0, 0, 1.5], [0, 0, 0.5]]))
        d = top - bottom
        seen = np.degrees(np.arctan2(-d[0], -d[1]))  # counter-clockwise from image up
        assert seen == pytest.approx(roll, abs=0.05)


def _spec(view: str, yaw: float) -> ClipSpec:
    return ClipSpec(
        "t", "sls", view, 30.0, "portrait", {}, CameraSpec(1.0, 50.0, 0.7, 0.0, yaw, 0.0),
        {"left": SideFaults(), "right": SideFaults()}, stance_side="left",
    )  # fmt: skip


@pytest.mark.parametrize("view", ["anterior", "posterior"])
def test_positive_yaw_puts_the_camera_on_the_subjects_left(view: str) -> None:
    pelvis = np.zeros((5, 2))
    straight = place_camera(_spec(view, 0.0), pelvis, 1.7)
    yawed = place_camera(_spec(view, 30.0), pelvis, 1.7)
    assert straight.position[0] == pytest.approx(0.0)
    assert yawed.position[0] > 0.5  # +X is the subject's left
    d0 = np.hypot(straight.position[0], straight.position[1])
    d1 = np.hypot(yawed.position[0], yawed.position[1])
    assert d1 == pytest.approx(d0)  # swung about the subject, same distance
    azimuth = np.degrees(np.arctan2(yawed.position[0], abs(yawed.position[1])))
    assert azimuth == pytest.approx(30.0, abs=1e-6)


def test_level_frontal_camera_is_level_and_in_line() -> None:
    spec = _spec("anterior", 25.0)
    cam = level_frontal_camera(spec, np.zeros((5, 2)), 1.7, 0.9)
    assert cam.position[0] == pytest.approx(0.0) and cam.position[2] == pytest.approx(0.9)
    assert cam.target[2] == pytest.approx(0.9) and cam.roll_deg == 0.0


def test_standing_has_no_event_and_both_feet_down() -> None:
    motion = standing(30.0, 2.0)
    assert motion.events == []
    assert motion.in_stance["left"].all() and motion.in_stance["right"].all()
    assert np.abs(motion.angles["pelvis_obliquity"]).max() <= 1.5 + 1e-9


def test_a_frame_rate_override_changes_nothing_else() -> None:
    """``--fps 120,240``: the same bodies, cameras, tasks and faults at high speed."""
    base = corpus_specs("final", 6, 9000, "inside")
    fast = corpus_specs("final", 6, 9000, "inside", (120.0, 240.0))
    assert [s.fps for s in fast] == [120.0, 240.0] * 3
    for a, b in zip(base, fast, strict=True):
        assert (a.task, a.view, a.phenotype, a.camera, a.faults, a.look, a.seed) == (
            b.task, b.view, b.phenotype, b.camera, b.faults, b.look, b.seed
        )  # fmt: skip
        assert a.fps in (24.0, 25.0, 30.0, 50.0, 60.0)


@pytest.mark.parametrize("lighting", ["dim", "backlit"])
def test_another_rooms_light_changes_only_the_light(lighting: str) -> None:
    """``--lighting``: the same clips with the light drawn within its ranges, the draw
    its own (reproducible, and the two rooms' draws differ)."""
    from screener_synth.sets import LIGHTING_RANGES, with_lighting

    base = corpus_specs("val", 12, 9100, "inside")
    lit = with_lighting(base, lighting, 9100)
    assert with_lighting(base, lighting, 9100) == lit
    assert with_lighting(base, "room", 9100) == base
    keys = set(LIGHTING_RANGES[lighting])
    for a, b in zip(base, lit, strict=True):
        assert (a.name, a.task, a.phenotype, a.camera, a.faults, a.seed) == (
            b.name, b.task, b.phenotype, b.camera, b.faults, b.seed
        )  # fmt: skip
        assert {k: v for k, v in a.look.items() if k not in keys} == {
            k: v for k, v in b.look.items() if k not in keys
        }
        for key, (lo, hi) in LIGHTING_RANGES[lighting].items():
            assert lo <= b.look[key] <= hi
    other = "backlit" if lighting == "dim" else "dim"
    assert [s.look["light"] for s in with_lighting(base, other, 9100)] != [
        s.look["light"] for s in lit
    ]
    with pytest.raises(ValueError, match="unknown lighting"):
        with_lighting(base, "candle", 9100)


def test_sensor_noise_is_added_per_frame_and_none_at_zero() -> None:
    from screener_synth.clips import with_sensor_noise

    frames = [np.full((40, 60, 3), 100, dtype=np.uint8) for _ in range(3)]
    clean = list(with_sensor_noise(iter(frames), 0.0, seed=1))
    assert all(np.array_equal(a, b) for a, b in zip(frames, clean, strict=True))
    noisy = list(with_sensor_noise(iter(frames), 5.0, seed=1))
    assert all(f.dtype == np.uint8 for f in noisy)
    assert [float(np.std(f.astype(float))) for f in noisy] == pytest.approx([5.0] * 3, rel=0.1)
    assert not np.array_equal(noisy[0], noisy[1])  # a new draw in every frame
    again = list(with_sensor_noise(iter(frames), 5.0, seed=1))
    assert all(np.array_equal(a, b) for a, b in zip(noisy, again, strict=True))


def test_the_guides_protocol_changes_only_the_squats_opening() -> None:
    """``--protocol guide``: each single-leg squat opens standing on both feet for
    1.5-2.5 s; every other clip and draw is the corpus' own."""
    from screener_synth.sets import GUIDE_STAND_S, with_protocol

    base = corpus_specs("val", 20, 9200, "inside")
    guided = with_protocol(base, "guide", 9200)
    assert with_protocol(base, "guide", 9200) == guided
    assert with_protocol(base, "corpus", 9200) == base
    assert any(s.task == "sls" for s in base) and any(s.task != "sls" for s in base)
    for a, b in zip(base, guided, strict=True):
        if a.task == "sls":
            assert GUIDE_STAND_S[0] <= b.stand_s <= GUIDE_STAND_S[1]
            assert dataclasses.replace(b, stand_s=0.0) == a
        else:
            assert b == a
    with pytest.raises(ValueError, match="unknown protocol"):
        with_protocol(base, "lab", 9200)


def test_the_other_leg_swaps_only_a_squats_stance_side_and_name() -> None:
    """``--other-leg``: each single-leg squat is the same patient, phone and draws on the
    other leg; walks and jogs are unchanged."""
    from screener_synth.sets import with_other_leg

    base = corpus_specs("val", 20, 9200, "inside")
    other = with_other_leg(base)
    squats = [(a, b) for a, b in zip(base, other, strict=True) if a.task == "sls"]
    assert squats and any(a.task != "sls" for a in base)
    for a, b in zip(base, other, strict=True):
        if a.task != "sls":
            assert b == a
            continue
        assert {a.stance_side, b.stance_side} == {"left", "right"}
        assert b.name == a.name.replace(f"sls_{a.stance_side}_", f"sls_{b.stance_side}_")
        assert dataclasses.replace(b, stance_side=a.stance_side, name=a.name) == a
    assert with_other_leg(other) == base


def _dot_renderer(width: int = 64) -> Callable[[np.ndarray], np.ndarray]:
    """A renderer that draws the first vertex' x as one white pixel on a black row."""

    def render(vertices: np.ndarray) -> np.ndarray:
        frame = np.zeros((1, width, 3), dtype=np.uint8)
        frame[0, round(float(vertices[0, 0]))] = 255
        return frame

    return render


def test_an_instant_exposure_renders_each_frame_once() -> None:
    from screener_synth.clips import exposed_frames, exposure_samples

    vertices = np.zeros((5, 2, 3))
    vertices[:, 0, 0] = [3.0, 10.0, 20.0, 30.0, 40.0]
    frames = list(exposed_frames(_dot_renderer(), vertices, 0.0))
    assert exposure_samples(0.0) == 1
    assert [int(np.argmax(f[0, :, 0])) for f in frames] == [3, 10, 20, 30, 40]
    assert all(f.max() == 255 and (f > 0).sum() == 3 for f in frames)  # one sharp pixel


def test_a_long_exposure_smears_the_moving_body_over_its_path() -> None:
    """A point moving 16 px a frame, shutter open the whole interval: 8 renders centred
    on the frame's time, spread over 16 px, each an eighth of the brightness; a point at
    rest stays sharp."""
    from screener_synth.clips import EXPOSURE_SAMPLES_FULL, exposed_frames, exposure_samples

    vertices = np.zeros((5, 1, 3))
    vertices[:, 0, 0] = [8.0, 24.0, 40.0, 56.0, 72.0]  # 16 px a frame, uniformly
    frames = list(exposed_frames(_dot_renderer(80), vertices, 1.0))
    assert exposure_samples(1.0) == EXPOSURE_SAMPLES_FULL == 8
    lit = np.flatnonzero(frames[2][0, :, 0])
    assert lit.tolist() == [33, 35, 37, 39, 41, 43, 45, 47]  # 40 ± 7 px, every 2 px
    assert frames[2][0, lit, 0] == pytest.approx([32] * 8, abs=1)  # 255 / 8
    half = list(exposed_frames(_dot_renderer(80), vertices, 0.5))
    assert np.flatnonzero(half[2][0, :, 0]).tolist() == [37, 39, 41, 43]  # half the smear
    still = np.zeros((3, 1, 3)) + 30.0
    assert all(int(np.argmax(f[0, :, 0])) == 30 for f in exposed_frames(_dot_renderer(), still, 1))
    with pytest.raises(ValueError, match="fraction of the frame interval"):
        exposure_samples(1.5)


def test_exposure_changes_no_draw() -> None:
    """``corpus --exposure``: the same clips, only the shutter changed."""
    from screener_synth.cli import drawn_specs

    def args(exposure: float) -> object:
        return type(
            "Args",
            (),
            {"split": "val", "n": 6, "seed": 9300, "envelope": "inside", "fps": None,
             "lighting": "room", "protocol": "corpus", "exposure": exposure},
        )()  # fmt: skip

    base, folder = drawn_specs(args(0.0))  # type: ignore[arg-type]
    blurred, blurred_folder = drawn_specs(args(1.0))  # type: ignore[arg-type]
    assert (folder, blurred_folder) == ("val_inside", "val_inside_exposure100")
    assert [dataclasses.replace(b, exposure=0.0) for b in blurred] == base
    assert {s.exposure for s in blurred} == {1.0} and {s.exposure for s in base} == {0.0}


def test_a_frame_scale_renders_the_same_picture_with_more_pixels() -> None:
    """``--frame-scale 2``: the same clips, frames twice as wide and tall, and the camera
    placed as before, so every world point lands at twice its pixel coordinates."""
    from screener_synth.sets import with_frame_scale

    base = corpus_specs("val", 6, 9200, "inside")
    big = with_frame_scale(base, 2)
    assert with_frame_scale(base, 1) == base
    pelvis = np.zeros((10, 2))
    for a, b in zip(base, big, strict=True):
        assert dataclasses.replace(b, frame_size=a.frame_size) == a
        assert b.size() == (2 * a.size()[0], 2 * a.size()[1])
        point = np.array([[0.1, 0.2, 0.9]])
        pa = place_camera(a, pelvis, 1.7).project(point)
        pb = place_camera(b, pelvis, 1.7).project(point)
        np.testing.assert_allclose(pb, 2.0 * pa, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="frame scale"):
        with_frame_scale(base, 0)
