"""Clip specifications (the sample and hold-out sets) and rendering one clip to disk."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from screener_synth import __version__
from screener_synth import kinematics as kin
from screener_synth.geometry import PinholeCamera

LOGGER = logging.getLogger(__name__)

FRAME_SIZE = {"portrait": (540, 960), "landscape": (960, 540)}
#: The training corpora's smaller frames: software rendering costs ~5x less, and MediaPipe
#: looks at the body through a 256-pixel crop either way.
CORPUS_FRAME_SIZE = {"portrait": (360, 640), "landscape": (640, 360)}

#: A walk's heel-off (fraction of the stride) and the knee flexion that raises the heel
#: (:func:`screener_synth.kinematics.walk`), drawn per clip from its seed's stream below.
HEEL_OFF_PHASE = (0.25, 0.40)
HEEL_RISE_KNEE_DEG = (10.0, 20.0)
HEEL_RISE_STREAM = 0x4EE1

NORMAL_FAULTS = kin.SideFaults(
    pelvic_drop=1.0, hip_adduction=1.5, femoral_ir=1.0, knee_abduction=0.0
)


@dataclass(frozen=True)
class CameraSpec:
    """Where the camera is, relative to the subject.

    Parameters
    ----------
    height_m
        Camera height above the floor.
    yfov_deg
        Vertical field of view of the upright frame.
    fill
        Fraction of the frame height the standing body fills at the closest distance
        (sets the distance).
    lateral_m
        Sideways offset of the camera from the subject's line (m).
    yaw_deg
        Azimuth of the camera about the vertical through the subject, positive = toward
        the subject's LEFT (for either view); 0 = straight in front of or behind them.
    roll_deg
        Rotation of the camera about its viewing axis (see
        :class:`~screener_synth.geometry.PinholeCamera`); 0 = level.
    """

    height_m: float = 1.0
    yfov_deg: float = 50.0
    fill: float = 0.7
    lateral_m: float = 0.0
    yaw_deg: float = 0.0
    roll_deg: float = 0.0


@dataclass(frozen=True)
class ClipSpec:
    """Everything that defines one rendered clip (and its truth)."""

    name: str
    task: str  # walk | sls | jog
    view: str  # anterior | posterior
    fps: float
    orientation: str  # portrait | landscape
    phenotype: dict[str, float]
    camera: CameraSpec
    faults: dict[str, kin.SideFaults]
    stance_side: str | None = None
    rotation_meta: bool = False
    duration_s: float = 5.0
    cadence_spm: float = 170.0
    n_reps: int = 3
    look: dict[str, Any] = field(default_factory=dict)
    seed: int = 1
    split: str = "sample"
    #: single-leg squat: peak knee flexion, duration of one rep, arms ("out" or "hips")
    depth_deg: float = 62.0
    rep_s: float = 1.6
    arms: str = "out"
    #: single-leg squat: seconds standing on both feet before the foot is lifted (the
    #: capture guide's opening; 0: the clip starts on one leg)
    stand_s: float = 0.0
    #: "camera": the truth's 2D columns through the render camera (samples, hold-out);
    #: "level_frontal": through a level camera straight in front of (behind) the subject
    #: at hip height, whatever the render camera's yaw, roll and height: what a screener
    #: should report however the phone was placed.
    truth_view: str = "camera"
    #: upright (width, height) in pixels; None: :data:`FRAME_SIZE` of the orientation
    frame_size: tuple[int, int] | None = None
    #: walk: seconds after which the walker turns round and walks back (``view`` is the
    #: view before the turn); None: one way only
    turn_at_s: float | None = None
    #: how long the shutter stays open, as a fraction of the frame interval (0: an
    #: instant, every corpus clip; 1: the whole interval, as a phone in a dim room films);
    #: see :func:`exposed_frames`
    exposure: float = 0.0

    def size(self) -> tuple[int, int]:
        """Upright frame size ``(width, height)`` in pixels."""
        return self.frame_size or FRAME_SIZE[self.orientation]


def heel_rise(spec: ClipSpec) -> dict[str, float]:
    """A walk's heel-off phase and heel-raising knee flexion (:func:`kinematics.walk`).

    Drawn from the clip's own seed on a stream of its own, so that every other draw of a
    set, and so every clip rendered before generator 0.3.0, is unchanged.
    """
    rng = np.random.default_rng([spec.seed, HEEL_RISE_STREAM])
    return {
        "heel_off_phase": float(rng.uniform(*HEEL_OFF_PHASE)),
        "heel_rise_knee_deg": float(rng.uniform(*HEEL_RISE_KNEE_DEG)),
    }


def build_motion(spec: ClipSpec) -> kin.Motion:
    """The clip's :class:`~screener_synth.kinematics.Motion`."""
    if spec.task == "sls":
        assert spec.stance_side is not None
        return kin.single_leg_squat(
            spec.stance_side,
            spec.faults[spec.stance_side],
            spec.fps,
            n_reps=spec.n_reps,
            rep_s=spec.rep_s,
            depth_deg=spec.depth_deg,
            arms=spec.arms,
            stand_s=spec.stand_s,
        )
    if spec.task == "stand":
        return kin.standing(spec.fps, spec.duration_s)
    if spec.task == "jog":
        return kin.jog_in_place(spec.faults, spec.fps, spec.duration_s, spec.cadence_spm)
    if spec.task == "walk":
        return kin.walk(
            spec.faults,
            spec.fps,
            spec.duration_s,
            spec.cadence_spm,
            turn_at_s=spec.turn_at_s,
            **heel_rise(spec),
        )
    raise ValueError(f"unknown task {spec.task!r}: expected walk, sls, jog or stand")


def place_camera(spec: ClipSpec, pelvis_xy: np.ndarray, stature: float) -> PinholeCamera:
    """Camera in front of (anterior) or behind (posterior) the subject's path.

    The distance makes the standing body fill ``spec.camera.fill`` of the frame height at
    the closest point of the path. A yawed camera is swung about the vertical through
    the point it looks at; a rolled one is turned about its viewing axis.
    """
    width, height = spec.size()
    cam = spec.camera
    x0, y_cam, target_y = _frontal_line(spec, pelvis_xy, stature)
    target_z = 0.5 * stature if spec.task != "walk" else 0.45 * stature
    # yaw toward the subject's left (+X) whichever side of the subject the camera is on
    yaw = np.radians(cam.yaw_deg if spec.view == "anterior" else -cam.yaw_deg)
    dy = y_cam - target_y
    pos_x = x0 + cam.lateral_m - np.sin(yaw) * dy
    pos_y = target_y + np.cos(yaw) * dy
    return PinholeCamera(
        position=(float(pos_x), float(pos_y), cam.height_m),
        target=(x0, target_y, target_z),
        yfov_deg=cam.yfov_deg,
        width=width,
        height=height,
        roll_deg=cam.roll_deg,
    )


def level_frontal_camera(
    spec: ClipSpec, pelvis_xy: np.ndarray, stature: float, hip_height_m: float
) -> PinholeCamera:
    """The reference camera of ``truth_view="level_frontal"``: straight in front (behind),
    level, lens at hip height, at the render camera's distance, looking horizontally."""
    width, height = spec.size()
    x0, y_cam, target_y = _frontal_line(spec, pelvis_xy, stature)
    return PinholeCamera(
        position=(x0, y_cam, hip_height_m),
        target=(x0, target_y, hip_height_m),
        yfov_deg=spec.camera.yfov_deg,
        width=width,
        height=height,
    )


def _frontal_line(
    spec: ClipSpec, pelvis_xy: np.ndarray, stature: float
) -> tuple[float, float, float]:
    """``(x0, y_camera, y_target)`` of an unyawed camera for the clip."""
    half = np.radians(spec.camera.yfov_deg) / 2
    distance = (stature / spec.camera.fill) / (2 * np.tan(half))
    x0 = float(np.mean(pelvis_xy[:, 0]))
    ahead = 1.0 if spec.task == "walk" else 0.0
    if spec.view == "anterior":
        y_near = float(pelvis_xy[:, 1].min())
        return x0, y_near - distance, y_near + ahead
    y_near = float(pelvis_xy[:, 1].max())
    return x0, y_near + distance, y_near - ahead


def _check_in_frame(vertices: np.ndarray, camera: PinholeCamera, name: str) -> float:
    pts = camera.project(vertices[:, ::9])
    inside = (
        (pts[..., 0] >= 0)
        & (pts[..., 0] < camera.width)
        & (pts[..., 1] >= 0)
        & (pts[..., 1] < camera.height)
    )
    frac = float(inside.all(axis=1).mean())
    if frac < 1.0:
        LOGGER.warning("%s: body fully in frame in only %.0f%% of frames", name, 100 * frac)
    return frac


def _json_default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))


def render_clip(spec: ClipSpec, outdir: Path, crf: int = 29) -> Path:
    """Render one clip and write ``NAME.mp4``, ``NAME.truth.json`` and ``NAME.truth.csv``.

    Returns
    -------
    Path
        The video file.
    """
    from screener_synth.body import AnnyBody
    from screener_synth.encode import write_h264
    from screener_synth.render import Look, SceneRenderer, vertex_colours
    from screener_synth.truth import event_rows, planted_summary, truth_frames

    t0 = time.time()
    outdir.mkdir(parents=True, exist_ok=True)
    motion = build_motion(spec)
    body = AnnyBody(spec.phenotype)
    posed = body.pose(motion)
    pelvis = 0.5 * (posed.joints["left_hip"] + posed.joints["right_hip"])
    camera = place_camera(spec, pelvis[:, :2], body.stature)
    frac = _check_in_frame(posed.vertices, camera, spec.name)
    below = float(posed.vertices[:, :, 2].min())
    if below < -0.02:
        LOGGER.warning("%s: a vertex goes %.0f mm below the floor", spec.name, -1000 * below)
    truth_camera = camera
    if spec.truth_view == "level_frontal":
        hips = 0.5 * (posed.joints["left_hip"] + posed.joints["right_hip"])
        hip_z = float(np.median(hips[:, 2]))
        truth_camera = level_frontal_camera(spec, pelvis[:, :2], body.stature, hip_z)
    frames = truth_frames(motion, posed, truth_camera)
    # the body's extent in the rendered image (for the subject's size in the frame)
    body_y = camera.project(posed.vertices[:, ::9])[..., 1]
    frames["body_top_px"] = body_y.min(axis=1)
    frames["body_bottom_px"] = body_y.max(axis=1)
    events = event_rows(motion, frames)
    planted = {s: asdict(f) for s, f in spec.faults.items()}
    planted_values, expected = planted_summary(motion, frames, events, planted)
    look = Look(**spec.look)
    colours = vertex_colours(
        body.labels, body.dominant_bone, body.neutral_vertices, body.neutral_hip_z, look
    )
    far_y = pelvis[:, 1].max() + 1.2 if spec.view == "anterior" else pelvis[:, 1].min() - 1.2
    room = (float(pelvis[:, 0].mean()), float(far_y))
    renderer = SceneRenderer(body.faces, colours, camera, room, look, spec.seed)
    video = outdir / f"{spec.name}.mp4"
    try:
        write_h264(
            video,
            with_sensor_noise(
                exposed_frames(renderer.render, posed.vertices, spec.exposure),
                look.sensor_noise,
                spec.seed,
            ),
            spec.fps,
            (camera.width, camera.height),
            crf=crf,
            store_rotated=spec.rotation_meta,
        )
    finally:
        renderer.close()
    frames.to_csv(outdir / f"{spec.name}.truth.csv", index=False, float_format="%.4f")
    truth = {
        "video": video.name,
        "task": spec.task,
        "view": spec.view,
        "stance_side": spec.stance_side,
        "fps": float(spec.fps),
        "n_frames": motion.n_frames,
        "orientation": spec.orientation,
        "rotation_meta_deg": 270 if spec.rotation_meta else 0,
        "rotation_meta_note": (
            "stored landscape (frames turned 90 deg clockwise) with a display matrix of 90 deg "
            "counter-clockwise; a reader turns the stored frame 270 deg clockwise to show it "
            "upright. Times and pixels in the truth refer to the upright frame."
            if spec.rotation_meta
            else "none"
        ),
        "frame_size_upright": [camera.width, camera.height],
        "body": {
            **spec.phenotype,
            "stature_m": round(body.stature, 3),
            "anny_version": _anny_version(),
        },
        "camera": {
            "position_m": [round(c, 4) for c in camera.position],
            "target_m": [round(c, 4) for c in camera.target],
            "yfov_deg": camera.yfov_deg,
            "height_m": spec.camera.height_m,
            "distance_to_nearest_m": round(
                float(abs(camera.position[1] - camera.target[1]))
                - (1.0 if spec.task == "walk" else 0.0),
                3,
            ),
            "fraction_frames_body_in_view": round(frac, 3),
            "yaw_deg": spec.camera.yaw_deg,
            "roll_deg": spec.camera.roll_deg,
            "fill": spec.camera.fill,
        },
        "truth_view": spec.truth_view,
        "exposure": {
            "fraction_of_frame_interval": spec.exposure,
            "samples": exposure_samples(spec.exposure),
        },
        "look": {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.look.items()},
        "squat": (
            {
                "depth_deg": spec.depth_deg,
                "rep_s": spec.rep_s,
                "arms": spec.arms,
                "stand_s": spec.stand_s,
            }
            if spec.task == "sls"
            else None
        ),
        "walk": heel_rise(spec) if spec.task == "walk" else None,
        "turn": (
            {
                "at_s": spec.turn_at_s,
                "duration_s": kin.TURN_S,
                "view_after": "posterior" if spec.view == "anterior" else "anterior",
            }
            if spec.turn_at_s is not None
            else None
        ),
        "seed": spec.seed,
        "generator": {"name": "screener_synth", "version": __version__},
        "planted": planted_values,
        "planted_parameters": planted,
        "expected_faults": expected,
        "events": events,
        "split": spec.split,
        "notes": _notes(spec),
    }
    (outdir / f"{spec.name}.truth.json").write_text(
        json.dumps(truth, indent=1, default=_json_default) + "\n"
    )
    LOGGER.info("%s: %d frames in %.0f s", spec.name, motion.n_frames, time.time() - t0)
    return video


#: Renders per frame for a shutter open the whole frame interval (fewer for a shorter one).
EXPOSURE_SAMPLES_FULL = 8


def exposure_samples(exposure: float) -> int:
    """Renders averaged into one frame for a shutter open ``exposure`` of the interval."""
    if not 0.0 <= exposure <= 1.0:
        raise ValueError(f"exposure {exposure} is not a fraction of the frame interval (0-1)")
    return max(1, int(np.ceil(EXPOSURE_SAMPLES_FULL * exposure)))


def exposed_frames(
    render: Callable[[np.ndarray], np.ndarray], vertices: np.ndarray, exposure: float
) -> Iterator[np.ndarray]:
    """RGB uint8 frames of a body that moves while the shutter is open (motion blur).

    Parameters
    ----------
    render
        Renders one frame from the body's vertices (``SceneRenderer.render``).
    vertices
        The posed body's vertices at the frame times, ``(frame, vertex, xyz)``.
    exposure
        How long the shutter is open, as a fraction of the frame interval, centred on
        the frame's time (0: an instant, one render per frame).

    Notes
    -----
    Each frame is the mean of :func:`exposure_samples` renders at evenly spaced instants
    within the exposure (midpoints of equal parts). The body between two frame times is
    a Catmull-Rom spline through the vertices of the frames around it (the clip's first
    and last frames repeated at its edges), rather than the clip posed again at the
    instants: posing places the body's root by holding the planted foot frame by frame,
    which at another frame rate drifts by up to 0.2 m, and the truth is of the frames'
    poses. The mean is taken of the 8-bit colours, not of linear light, and the
    instants are discrete: a fast foot leaves overlapping copies of itself rather than a
    continuous streak.
    """
    samples = exposure_samples(exposure)
    n = len(vertices)
    if samples == 1:
        for v in vertices:
            yield render(v)
        return
    offsets = ((np.arange(samples) + 0.5) / samples - 0.5) * exposure
    for i in range(n):
        total = None
        for offset in offsets:
            frame = render(_spline_vertices(vertices, i + float(offset))).astype(np.float32)
            total = frame if total is None else total + frame
        assert total is not None
        yield np.clip(np.rint(total / samples), 0, 255).astype(np.uint8)


def _spline_vertices(vertices: np.ndarray, t: float) -> np.ndarray:
    """Vertices at fractional frame ``t`` on a Catmull-Rom spline through the frames."""
    last = len(vertices) - 1
    k = int(np.floor(t))
    u = t - k
    p0, p1, p2, p3 = (vertices[min(max(j, 0), last)] for j in (k - 1, k, k + 1, k + 2))
    return 0.5 * (
        2.0 * p1
        + (p2 - p0) * u
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * u * u
        + (3.0 * p1 - p0 - 3.0 * p2 + p3) * u * u * u
    )


def with_sensor_noise(
    frames: Iterable[np.ndarray], sigma: float, seed: int
) -> Iterator[np.ndarray]:
    """RGB uint8 frames with Gaussian noise of ``sigma`` 8-bit levels added (none at 0).

    Notes
    -----
    A phone in a dim room raises its gain, and with it the sensor's noise: a different
    draw in every frame and pixel, as the sensor's. Its colour and the encoder's
    smoothing of it are not modelled.
    """
    rng = np.random.default_rng(seed + 7)
    for frame in frames:
        if sigma <= 0:
            yield frame
            continue
        noisy = frame.astype(np.float32) + rng.normal(0.0, sigma, frame.shape).astype(np.float32)
        yield np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _anny_version() -> str:
    import anny

    return str(anny.__version__)


def _notes(spec: ClipSpec) -> str:
    base = (
        "Frame columns of the truth CSV come from joint centres projected through the render "
        "camera; *_surface from anny's COCO surface keypoints; femoral IR is the third angle of "
        "an ISB-like hip joint coordinate system (zero = neutral standing)."
    )
    if spec.task == "walk":
        base += (
            " Walking pelvic drop has no credible norm: a screener may report it without a verdict."
        )
    return base
