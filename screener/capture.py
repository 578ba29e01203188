"""Capture checks: where the camera stood, how large the subject is, and who else is in view.

Every frontal-plane angle the screener reports is a 2D angle in the image, so it holds
only for a camera square to the subject, level, at about knee-to-hip height. This module
estimates, per clip, what the camera did:

- **roll**: the tilt of the subject's long axis (mid-ankle to mid-shoulder) from the
  image vertical while both feet are on the ground (the trunk over all frames for
  walking and jogging, whose sway averages out); it can be undone by rotating the image
  landmarks
  (:func:`correct_roll`);
- **yaw**: the camera's azimuth around the subject, from the subject's frontal axis:
  the hip and shoulder lines of MediaPipe's metric world landmarks, placed in the
  camera's frame by fitting their projection to the image landmarks;
- **pitch**: the lean of the body's vertical toward the lens in MediaPipe's world
  landmarks (whose axes follow the camera's);
- **lens height**: when the subject walks toward or away from the camera, from how the
  body's image rows change with its image size (:func:`camera_height_from_approach`,
  the one that is checked); otherwise the height on the body that the horizon's assumed
  image row crosses (:func:`camera_height`: reported, not accurate enough to check);
- **subject size**: the standing body's height as a fraction of the frame height, and
  the distance to the camera.

The focal length of the phone is not known; a long-side field of view of
``AnalysisConfig.capture.assumed_long_side_fov_deg`` is assumed and the estimates are
recomputed at the two ends of ``fov_sensitivity_deg``, whose spread is reported.

:func:`check_envelope` compares the estimates with the validated envelope
(``models/envelope.toml``) and returns warnings and refusals worded as instructions.
:func:`detect_other_people` looks for a second person on a few frames of the video
(MediaPipe's pose detector, run again with the tracked person masked out).
"""

from __future__ import annotations

import bisect
import logging
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from screener.clothing import Clothing, ClothingLimits, clothing_warnings
from screener.errors import ConfigError
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX, SIDES
from screener.lighting import LightingLimits
from screener.scene import SceneTilt

if TYPE_CHECKING:
    from screener.camera_model import LearnedYaw

log = logging.getLogger(__name__)

#: Landmarks used to place the body in the camera's frame.
PNP_LANDMARKS: tuple[str, ...] = tuple(
    f"{s}_{p}" for s in SIDES for p in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")
)
#: Landmarks below this visibility are left out of the fit.
PNP_MIN_VISIBILITY = 0.5
#: At most this many frames are posed (evenly spread over the usable ones).
PNP_MAX_FRAMES = 60
#: Feet whose image heights differ by less than this (leg lengths) are both on the ground.
BOTH_FEET_DOWN_MAX_LEG = 0.05
#: A single-leg squat's stand on both feet: the feet level (``BOTH_FEET_DOWN_MAX_LEG``) and
#: each slower than this (leg lengths per second) for at least ``SQUAT_STAND_MIN_S``.
#: Chosen in session 39 on the squats of hold-outs 41-64 (docs/capture.md, "A squat's roll
#: from its stand on both feet"): a lifted foot held back and seen from behind looks
#: level with the planted one, but moves with the body.
SQUAT_STAND_FOOT_SPEED_MAX_LEG_PER_S = 0.1
SQUAT_STAND_MIN_S = 0.5
#: Eye height and shoulder height as fractions of stature (adult anthropometry,
#: e.g. Drillis & Contini 1966): the head's top is above the eyes by
#: (1 - 0.936) / (0.936 - 0.818) = 0.54 of the eye-to-shoulder height.
HEAD_TOP_OVER_EYE_SHOULDER = 0.54
#: A pitch estimate smaller than this is not used to place the horizon (on the sample
#: renders, pitched 1-2° down, it read -4 to +9°: using it would add up to 0.3 m of
#: error to the lens height of a level camera).
PITCH_APPLY_MIN_DEG = 12.0
#: Height of MediaPipe's heel landmark above the floor, metres (back of the heel).
HEEL_ABOVE_FLOOR_M = 0.03
#: The body's image scale must change by this factor (far to near) for the lens height
#: to be read from an approach (the rendered walks: 1.2-2.6).
APPROACH_MIN_SCALE_RATIO = 1.3
#: Fewest frames with a usable row-against-height line for an approach estimate.
APPROACH_MIN_FRAMES = 10
#: Largest scatter about the approach's line (residual SD over the SD of the lines'
#: intercepts) for its lens height to be used: the rendered walks 0.01-0.31 (95th
#: percentile 0.15); the Pose2Sim cam03, two people moving about a lab, 0.54 after the
#: roll correction (an unchecked fit read 1.0 m for a lens at 2.1 m).
APPROACH_MAX_SCATTER = 0.35
#: At most this many frames (evenly spread over those with a pose) give the approach's
#: lines: a long clip costs no more than a 4-second walk at 60 fps.
APPROACH_MAX_FRAMES = 240
#: A walk's path (the mid-hip's, in the camera's frame) must span at least this far,
#: metres along its direction, for the lens' azimuth to be read from it (the rendered
#: walks: 1.4-4.8 m).
WALK_PATH_MIN_SPAN_M = 1.0
#: At most this many frames (evenly spread over those with a pose) place the path.
WALK_PATH_MAX_FRAMES = 120
#: Relative slack on the envelope's frame-rate limits: a rate measured from the frames'
#: time stamps (240.0000000001 for a 240 fps clip; phones' "240 fps" varies by a few
#: tenths) is the nominal rate.
FPS_TOLERANCE = 0.01


@dataclass(frozen=True)
class CameraEstimate:
    """Where the camera was relative to the subject, for one clip.

    Attributes
    ----------
    roll_deg
        Image rotation: the angle of the subject's upward axis from the image's upward
        direction, positive clockwise as seen on screen (the head toward the image's
        right). Rotating the image landmarks by ``-roll_deg`` about the image centre
        makes the subject upright.
    roll_source
        Which frames gave the roll (``"both feet down"``, ``"all frames"``...), or
        ``"room's vertical lines"`` when :func:`with_scene_tilt` replaced it.
    yaw_deg
        Camera azimuth around the subject from the frontal axis it films (anterior or
        posterior), positive when the camera is toward the SUBJECT's left. NaN if unknown.
        For a walk toward or away from the camera, the mean of the walking line's angle
        to the line of sight (``path_yaw_deg``) and the body's reading (``body_yaw_deg``);
        otherwise the body's.
    yaw_method
        ``"walking line and body"``, ``"body"`` or ``"learned"`` (:func:`with_learned_yaw`):
        what gave ``yaw_deg``.
    body_yaw_deg
        The azimuth read from the body's hip and shoulder lines in every task.
    path_yaw_deg
        A walk's walking line against the line of sight (:func:`walking_path_yaw_deg`);
        NaN for the other tasks or a path too short to read.
    pitch_deg
        The camera's downward tilt (:func:`estimate_pitch_deg`); NaN for a squat with no
        frames standing on both feet.
    camera_height_m
        Lens height above the floor, metres (scaled by MediaPipe's metric body, which is
        an average adult's size): from the subject's approach
        (:func:`camera_height_from_approach`) when the clip has one, else the height the
        horizon crosses on the body, the horizon taken at the image's centre row unless
        the pitch is at least :data:`PITCH_APPLY_MIN_DEG` (:func:`camera_height`).
    camera_height_method
        ``"approach"`` or ``"horizon"``: which of the two gave ``camera_height_m``. Only
        an approach's estimate is checked against the envelope.
    camera_height_landmark
        The body level the lens is at: ``"below the knee"``, ``"knee to hip"``,
        ``"hip to shoulder"`` or ``"above the shoulder"``.
    knee_height_m, hip_height_m
        The subject's knee and hip heights above the floor, metres (world landmarks).
    distance_m
        Camera to mid-hip, metres.
    subject_height_fraction
        Standing body height (floor to top of head) over the frame height; the 90th
        percentile over frames (the nearest point of a walk).
    subject_height_fraction_min
        The 10th percentile over frames (the farthest point of a walk).
    assumed_long_side_fov_deg
        Field of view assumed for the frame's long side.
    sensitivity
        The yaw and distance recomputed at other fields of view.
    n_frames_posed
        Frames whose camera pose was fitted.
    body_roll_deg
        The roll read from the subject's long axis (:func:`estimate_roll_deg`), kept
        when the room's verticals set ``roll_deg``.
    geometric_yaw_deg
        The yaw read geometrically (body, or walking line and body), where the learned
        model was run.
    learned_yaw_deg, learned_yaw_spread_deg
        The learned model's reading and its ensemble spread (NaN where it was not run or
        the clip is outside its applicability); ``yaw_deg`` when ``yaw_method`` is
        ``"learned"``.
    """

    roll_deg: float
    roll_source: str
    yaw_deg: float
    pitch_deg: float
    camera_height_m: float
    camera_height_landmark: str
    knee_height_m: float
    hip_height_m: float
    distance_m: float
    subject_height_fraction: float
    subject_height_fraction_min: float
    assumed_long_side_fov_deg: float
    sensitivity: dict[str, dict[str, float]] = field(default_factory=dict)
    n_frames_posed: int = 0
    camera_height_method: str = "horizon"
    body_roll_deg: float = float("nan")
    yaw_method: str = "body"
    body_yaw_deg: float = float("nan")
    path_yaw_deg: float = float("nan")
    geometric_yaw_deg: float = float("nan")
    learned_yaw_deg: float = float("nan")
    learned_yaw_spread_deg: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (NaN becomes None)."""
        return _jsonable(asdict(self))


# --- roll -----------------------------------------------------------------------------


def both_feet_down(pose: PoseSequence) -> BoolArray:
    """Frames in which both feet are at the same image height (both on the ground)."""
    from screener.events import feet_height_difference_leg

    with np.errstate(invalid="ignore"):
        return np.asarray(np.abs(feet_height_difference_leg(pose)) < BOTH_FEET_DOWN_MAX_LEG)


def squat_stand_frames(pose: PoseSequence) -> BoolArray:
    """Frames of a stand on both feet in a single-leg squat clip.

    Runs of frames with both feet at one image height (:func:`both_feet_down`) and each
    foot slower than :data:`SQUAT_STAND_FOOT_SPEED_MAX_LEG_PER_S`, lasting at least
    :data:`SQUAT_STAND_MIN_S`: the capture guide's stand before the first repetition, or
    a foot put down between repetitions.

    Notes
    -----
    Feet level in the image are not enough: seen from behind, a lifted foot held back
    looks level with the planted one. On the squats of hold-outs 41-64 with no stand on
    both feet (never in double support), 88 of 156 filmed from behind had such frames,
    and the roll read from them was off by more than 3° on 17; kept only where both feet
    are also still for half a second, 23 remain, none off by more than 3°, and the squats
    that stand first keep their roll (230 of 231, as before).
    """
    from screener.cleaning import true_runs
    from screener.events import foot_speed_leg_per_s, leg_length_px

    scale = leg_length_px(pose)
    with np.errstate(invalid="ignore"):
        still = np.ones(pose.n_frames, dtype=bool)
        for side in SIDES:
            still &= foot_speed_leg_per_s(pose, side, scale) < SQUAT_STAND_FOOT_SPEED_MAX_LEG_PER_S
    stand = both_feet_down(pose) & still
    out = np.zeros(pose.n_frames, dtype=bool)
    least = SQUAT_STAND_MIN_S * pose.fps if np.isfinite(pose.fps) else np.inf
    for start, stop in true_runs(stand):
        if stop - start >= least:
            out[start:stop] = True
    return out


def task_stand_frames(pose: PoseSequence, task: str | None) -> BoolArray:
    """The frames a task stands on both feet: a single-leg squat's stands
    (:func:`squat_stand_frames`), any other task's frames with both feet down
    (:func:`both_feet_down`)."""
    return squat_stand_frames(pose) if task == "sls" else both_feet_down(pose)


def estimate_roll_deg(
    pose: PoseSequence, task: str | None = None, stand_frames: BoolArray | None = None
) -> tuple[float, str]:
    """The image's roll from the subject's long axis.

    Parameters
    ----------
    pose
        Cleaned (or raw) landmarks.
    task
        ``"walk"``, ``"jog"`` or ``"sls"`` if known. A single-leg squat uses only its
        stands on both feet (:func:`squat_stand_frames`; on the rendered squats the
        stance foot to mid-shoulder line leaned 4-6° with a level camera, so it is not
        used).
    stand_frames
        The frames taken as a stand on both feet; by default :func:`squat_stand_frames`
        for a single-leg squat, else :func:`both_feet_down` (``bench.squat_roll`` passes
        the latter for a squat, the rule before session 39).

    Returns
    -------
    roll_deg
        See :attr:`CameraEstimate.roll_deg`; NaN if no frame shows the whole body.
    source
        Which frames were used.

    Notes
    -----
    Standing on both feet, the line from the mid-ankle to the mid-shoulder is vertical
    within a degree or two: a squat (and a clip of unknown task) uses the frames with
    both feet at one image height. Walking and jogging sway the trunk both ways and its
    median over the clip is vertical: the mid-hip to mid-shoulder line over all frames
    is used. The mid-ankle line of a walk or jog is not: filmed off axis, the legs'
    forward and backward reach tilts it (on the rendered corpus its error followed the
    camera's yaw, r = -0.94, SD 3° for jogging; the trunk's SD was 1.0°). A real,
    constant lateral lean of the subject is read as roll: that is why the correction is
    bounded (``models/envelope.toml``).
    """
    shoulder = 0.5 * (pose.xy("left_shoulder") + pose.xy("right_shoulder"))
    ankle = 0.5 * (pose.xy("left_ankle") + pose.xy("right_ankle"))
    hip = 0.5 * (pose.xy("left_hip") + pose.xy("right_hip"))
    down = stand_frames if stand_frames is not None else task_stand_frames(pose, task)
    min_frames = max(5, int(0.3 * pose.fps)) if np.isfinite(pose.fps) else 5
    every = np.ones(pose.n_frames, dtype=bool)
    standing = (down, ankle, "both feet down")
    trunk = (every, hip, "trunk, all frames")
    candidates: list[tuple[BoolArray, FloatArray, str]] = {
        "walk": [trunk],
        "jog": [trunk],
        "sls": [standing],
    }.get(task or "", [standing, trunk])
    for use, base, source in candidates:
        d = shoulder - base
        ok = use & np.isfinite(d).all(axis=1)
        if ok.sum() >= min_frames:
            tilt = np.degrees(np.arctan2(d[ok, 0], -d[ok, 1]))
            return float(np.median(tilt)), source
    return float("nan"), "no frames with both feet on the ground"


#: Frames rotated at a time by :func:`rotation_about_centre` (its temporaries stay small).
_ROTATION_CHUNK_FRAMES = 2048


def rotation_about_centre(pose: PoseSequence, angle_deg: float) -> FloatArray:
    """Image landmarks rotated by ``angle_deg`` about the image centre (clockwise on
    screen for a positive angle, image y pointing down).

    Notes
    -----
    Computed a block of frames at a time into the output, so a long clip needs no
    temporaries of its own size (each frame's values are those of the whole-array
    expression: the product is taken frame by frame either way).
    """
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    width, height = pose.image_size_px
    centre = np.array([width / 2.0, height / 2.0])
    image = pose.image_xy_px
    out = np.empty_like(image)
    for start in range(0, image.shape[0], _ROTATION_CHUNK_FRAMES):
        block = slice(start, start + _ROTATION_CHUNK_FRAMES)
        out[block] = (image[block] - centre) @ rot.T + centre
    return out


def correct_roll(pose: PoseSequence, roll_deg: float) -> PoseSequence:
    """Undo a roll of the camera: rotate the image landmarks by ``-roll_deg``.

    The world landmarks are left as they are (they are used for depth only).
    """
    if not np.isfinite(roll_deg) or roll_deg == 0.0:
        return pose
    return pose.with_arrays(image_xy_px=rotation_about_centre(pose, -roll_deg))


# --- camera pose ----------------------------------------------------------------------


def focal_px(image_size_px: tuple[int, int], long_side_fov_deg: float) -> float:
    """Focal length in pixels for a field of view across the frame's long side."""
    return 0.5 * max(image_size_px) / math.tan(math.radians(long_side_fov_deg) / 2.0)


def _unit(v: FloatArray) -> FloatArray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(v / n)


def pose_in_camera(
    pose: PoseSequence, frames: np.ndarray, focal: float
) -> tuple[FloatArray, np.ndarray]:
    """MediaPipe's world landmarks placed in the camera's frame.

    MediaPipe's world axes follow the camera's (the model rotates them back from its
    upright crop), so only the translation is fitted: linear least squares of the
    pinhole projection, ``(u - cx)(Z + tz) = f (X + tx)`` and the same for ``v``.
    A full :func:`cv2.solvePnP` (rotation too) was measured on the sample renders and
    gave worse yaw (errors up to 13° against up to 12° here, and 9° instead of 1° on
    the anterior jog), so it is not used.

    Parameters
    ----------
    pose
        Landmarks.
    frames
        Indices of the frames to pose.
    focal
        Assumed focal length, pixels (principal point at the image centre).

    Returns
    -------
    points
        ``(n, 33, 3)`` camera coordinates (x right, y down, z forward, metres) of the
        landmarks of the given frames; NaN where not posed.
    posed
        Indices (into ``frames``) of the frames whose fit succeeded.
    """
    width, height = pose.image_size_px
    centre = np.array([width / 2.0, height / 2.0])
    cols = np.array([INDEX[n] for n in PNP_LANDMARKS])
    out = np.full((len(frames), pose.world_xyz_m.shape[1], 3), np.nan)
    posed = []
    for j, i in enumerate(frames):
        world = pose.world_xyz_m[i]
        img = pose.image_xy_px[i]
        use = cols[
            (pose.visibility[i, cols] >= PNP_MIN_VISIBILITY)
            & np.isfinite(world[cols]).all(axis=1)
            & np.isfinite(img[cols]).all(axis=1)
        ]
        if use.size < 6:
            continue
        obj, uv = world[use].astype(np.float64), img[use].astype(np.float64) - centre
        # (u - cx) (Z + tz) = f (X + tx), and the same for v: linear in t
        n = len(use)
        a = np.zeros((2 * n, 3))
        b = np.zeros(2 * n)
        a[:n, 0] = focal
        a[:n, 2] = -uv[:, 0]
        b[:n] = uv[:, 0] * obj[:, 2] - focal * obj[:, 0]
        a[n:, 1] = focal
        a[n:, 2] = -uv[:, 1]
        b[n:] = uv[:, 1] * obj[:, 2] - focal * obj[:, 1]
        t, *_ = np.linalg.lstsq(a, b, rcond=None)
        if not np.isfinite(t).all() or t[2] <= 0:
            continue
        out[j] = world + t
        posed.append(j)
    return out, np.asarray(posed, dtype=int)


#: How :attr:`CameraEstimate.camera_height_landmark` reads in an instruction.
HEIGHT_LANDMARK_WORDS = {
    "below the knee": "below the patient's knees",
    "knee to hip": "between the patient's knee and hip",
    "hip to shoulder": "between the patient's hip and shoulder",
    "above the shoulder": "above the patient's shoulders",
}


def _height_landmark(camera_h: float, knee_h: float, hip_h: float, shoulder_h: float) -> str:
    if not np.isfinite(camera_h):
        return "unknown"
    if camera_h < knee_h:
        return "below the knee"
    if camera_h <= hip_h:
        return "knee to hip"
    if camera_h <= shoulder_h:
        return "hip to shoulder"
    return "above the shoulder"


def _yaw_and_distance(pose: PoseSequence, frames: np.ndarray, focal: float) -> tuple[float, float]:
    """Camera azimuth around the subject (degrees, + toward the subject's left) and the
    lens to mid-hip distance (metres), from the frames posed at one focal length."""
    pts, posed = pose_in_camera(pose, frames, focal)
    if posed.size == 0:
        return float("nan"), float("nan")
    pts = pts[posed]

    def p(name: str) -> FloatArray:
        return pts[:, INDEX[name]]

    lateral = _unit(p("left_hip") - p("right_hip")) + _unit(
        p("left_shoulder") - p("right_shoulder")
    )
    lateral = np.nanmean(_unit(lateral), axis=0)  # toward the subject's left
    up = np.array([0.0, -1.0, 0.0])  # MediaPipe's world axes follow the (upright) camera
    lateral = _unit(lateral - np.dot(lateral, up) * up)
    anterior = np.cross(lateral, up)
    hip = np.nanmedian(0.5 * (p("left_hip") + p("right_hip")), axis=0)
    to_camera = -hip
    az = math.degrees(math.atan2(float(to_camera @ lateral), float(to_camera @ anterior)))
    yaw = az if abs(az) <= 90 else math.copysign(180.0 - abs(az), az)
    return yaw, float(np.linalg.norm(hip))


def walking_path_yaw_deg(pose: PoseSequence, focal: float) -> float:
    """The lens' azimuth from a walk's path: the angle between the walking line and the
    camera's line of sight.

    Parameters
    ----------
    pose
        Landmarks of a walk toward or away from the camera.
    focal
        Assumed focal length, pixels.

    Returns
    -------
    float
        Degrees, positive when the camera is toward the walker's left of the walking line
        (the sign of :attr:`CameraEstimate.yaw_deg`, in either view); NaN when the path
        spans less than :data:`WALK_PATH_MIN_SPAN_M`.

    Notes
    -----
    :func:`pose_in_camera` places the mid-hip of up to :data:`WALK_PATH_MAX_FRAMES`
    frames in the camera's frame; the path's direction is the principal axis of those
    points on the floor plane (x, z), oriented by time. With ``m`` that direction, the
    azimuth is ``atan2(-m_x, |m_z|)``: walking straight along the line of sight reads 0
    toward or away from the camera. The body's own axes (:func:`_yaw_and_distance`) read
    a walker's azimuth with more scatter (docs/capture.md), and they give the direction
    to the walker at each moment, which changes along the path whenever the camera is
    off the walking line; the walking line is what a clinician places the phone against.
    The depth of each point scales with the assumed focal length: a narrower true field
    of view than assumed reads the azimuth larger (renders at 41-45° against the assumed
    65°: about 1.4 times at 25-35°).
    """
    usable = np.flatnonzero(usable_frames(pose))
    if usable.size > WALK_PATH_MAX_FRAMES:
        usable = usable[np.linspace(0, usable.size - 1, WALK_PATH_MAX_FRAMES).round().astype(int)]
    pts, posed = pose_in_camera(pose, usable, focal)
    hip = 0.5 * (pts[posed, INDEX["left_hip"]] + pts[posed, INDEX["right_hip"]])
    keep = np.isfinite(hip).all(axis=1)
    floor = hip[keep][:, [0, 2]]
    if floor.shape[0] < 10:
        return float("nan")
    centred = floor - floor.mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    along = centred @ direction
    lo, hi = np.percentile(along, [5, 95])
    if hi - lo < WALK_PATH_MIN_SPAN_M:
        return float("nan")
    order = usable[posed][keep].astype(float)
    if np.corrcoef(order, along)[0, 1] < 0:  # orient the direction by time
        direction = -direction
    return math.degrees(math.atan2(-direction[0], abs(direction[1])))


def estimate_pitch_deg(pose: PoseSequence, frames: np.ndarray) -> float:
    """The camera's downward tilt from the body's vertical in MediaPipe's world landmarks.

    MediaPipe's world axes follow the camera, so a camera looking down by ``p`` degrees
    sees the body's mid-ankle to mid-shoulder axis leaning its top toward the lens by
    ``p``. Measured on the Pose2Sim lab cameras (pitched down 18-25°): 19-26°, within
    4°; on the sample renders (pitched down 1-2°): -4 to +9°. A squat's forward trunk
    lean reads as pitch, so only upright frames should be given.

    Returns
    -------
    float
        Degrees, positive looking down; NaN without usable frames.
    """
    w = pose.world_xyz_m[frames]

    def mid(part: str) -> FloatArray:
        return 0.5 * (w[:, INDEX[f"left_{part}"]] + w[:, INDEX[f"right_{part}"]])

    tilt = lean_toward_lens_deg(mid("shoulder") - mid("ankle"))
    tilt = tilt[np.isfinite(tilt)]
    return float(np.median(tilt)) if tilt.size else float("nan")


def lean_toward_lens_deg(vectors: FloatArray) -> FloatArray:
    """Each world vector's lean toward the lens, degrees (+: its top toward the lens).

    ``vectors`` are ``(n, 3)`` in MediaPipe's world axes (x right, y down, z away from the
    lens), pointing up the body; the lean is ``atan2(-dz, -dy)``, the angle
    :func:`estimate_pitch_deg` reads as the camera's pitch.
    """
    v = np.asarray(vectors)
    return np.asarray(np.degrees(np.arctan2(-v[:, 2], -v[:, 1])))


def usable_frames(pose: PoseSequence) -> BoolArray:
    """Frames with a pose and world landmarks, the frames the camera is estimated from."""
    return np.asarray(pose.detected & np.isfinite(pose.world_xyz_m[:, INDEX["left_hip"], 0]))


#: Fewest frames on both feet for the camera to be read from them (and a squat's pitch).
STAND_MIN_FRAMES = 10


def camera_frame_pool(
    pose: PoseSequence, stand: BoolArray, task: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """The frames :func:`estimate_camera` reads the camera from, and those it reads the
    pitch from.

    The usable frames (:func:`usable_frames`) on both feet (``stand``) if there are at
    least :data:`STAND_MIN_FRAMES`, else every usable frame; at most
    :data:`PNP_MAX_FRAMES`, evenly spread. The pitch is read on the same frames, except
    that a single-leg squat without such a stand has none (its trunk leans forward in
    the other frames).
    """
    usable = usable_frames(pose)
    down = usable & stand
    stood = bool(down.sum() >= STAND_MIN_FRAMES)
    pool = np.flatnonzero(down) if stood else np.flatnonzero(usable)
    if pool.size > PNP_MAX_FRAMES:
        pool = pool[np.linspace(0, pool.size - 1, PNP_MAX_FRAMES).round().astype(int)]
    return pool, (pool if stood or task != "sls" else pool[:0])


#: Landmarks whose heights above the floor place the lens (heels to shoulders).
_HEIGHT_LANDMARKS = np.array(
    [INDEX[f"{s}_{q}"] for q in ("heel", "ankle", "knee", "hip", "shoulder") for s in SIDES]
)
#: The landmarks the floor is taken under.
_FOOT_LANDMARKS = np.array([INDEX[f"{s}_{q}"] for s in SIDES for q in ("heel", "foot_index")])


def _above_floor_m(world_xyz_m: FloatArray, up: FloatArray) -> FloatArray | None:
    """One frame's landmark heights above the floor along ``up``, metres: the floor
    :data:`HEEL_ABOVE_FLOOR_M` below the lowest heel or toe; None without a foot."""
    level = world_xyz_m @ up
    if not np.isfinite(level[_FOOT_LANDMARKS]).any():
        return None
    return np.asarray(level - (float(np.nanmin(level[_FOOT_LANDMARKS])) - HEEL_ABOVE_FLOOR_M))


def camera_height(
    pose: PoseSequence, frames: np.ndarray, pitch_deg: float = 0.0, focal: float = 1.0
) -> dict[str, float]:
    """Lens height: the height on the body that the horizon crosses.

    A point ``h`` above the floor at horizontal distance ``D`` is seen
    ``atan((H - h) / D)`` below the horizontal from a lens at height ``H``: its image
    row gives that angle (``atan((y - cy) / focal)`` plus the camera's pitch), so the
    tangents of the angles of the heels, ankles, knees, hips and shoulders are linear in
    their heights above the floor (MediaPipe's metric world landmarks along the body's
    vertical, tilted by the pitch; the floor just below the lowest heel or toe), and the
    fit's zero is the lens height. For a level camera this is the height the image's
    centre row crosses, whatever the focal length. Returns the median lens, knee, hip
    and shoulder heights (metres).
    """
    p = math.radians(pitch_deg) if np.isfinite(pitch_deg) else 0.0
    cy = pose.image_size_px[1] / 2.0
    up = np.array([0.0, -math.cos(p), -math.sin(p)])
    cols = _HEIGHT_LANDMARKS
    out: dict[str, list[float]] = {"height": [], "knee": [], "hip": [], "sh": []}
    for i in frames:
        above = _above_floor_m(pose.world_xyz_m[i], up)
        if above is None:
            continue
        h = above[cols]
        # tangent of each point's angle below the horizontal: (H - h) / D
        below = np.tan(np.arctan((pose.image_xy_px[i, cols, 1] - cy) / focal) + p)
        ok = np.isfinite(h) & np.isfinite(below)
        if ok.sum() < 6 or np.ptp(h[ok]) < 0.3:
            continue
        slope, intercept = np.polyfit(h[ok], below[ok], 1)
        if slope >= 0:
            continue  # higher on the body must be higher in the image
        out["height"].append(-intercept / slope)
        for key, part in (("knee", "knee"), ("hip", "hip"), ("sh", "shoulder")):
            pair = above[[INDEX[f"{s}_{part}"] for s in SIDES]]
            if np.isfinite(pair).any():  # a frame that lost both knees says nothing of them
                out[key].append(float(np.mean(pair[np.isfinite(pair)])))
    return {k: float(np.median(v)) if v else float("nan") for k, v in out.items()}


def camera_height_from_approach(pose: PoseSequence) -> float:
    """Lens height from a subject walking toward or away from the camera.

    In a frame where the subject is ``Z`` metres away, a body point ``h`` metres above
    the floor is seen at image row ``y = y0 + f (H - h) / Z`` for a lens at height ``H``
    whose horizon is at row ``y0``. Each frame's rows of the heels, ankles, knees, hips
    and shoulders against their heights (MediaPipe's metric world landmarks along the
    camera's vertical) give a line ``y = a + b h`` with ``b = -f / Z`` and
    ``a = y0 + f H / Z = y0 - H b``. Across frames at different distances ``a`` is
    linear in ``b`` with slope ``-H``: neither the focal length nor the horizon's row
    (the phone's tilt) needs to be known.

    Parameters
    ----------
    pose
        Landmarks, with the camera's roll undone (:func:`correct_roll`).

    Returns
    -------
    float
        Lens height above the floor, metres, in MediaPipe's metric scale (an average
        adult body); NaN when the body's image scale changes by less than
        :data:`APPROACH_MIN_SCALE_RATIO`, fewer than :data:`APPROACH_MIN_FRAMES`
        frames give a line, or the frames scatter about the approach's line by more
        than :data:`APPROACH_MAX_SCATTER` (not one person walking straight).

    Notes
    -----
    On 94 rendered walks toward or away from the camera (lens 0.4-1.8 m, yaw up to
    35°, pitch up to 25°, bodies 1.22-2.36 m tall; 92 gave an estimate): error SD
    0.22 m on the training and validation walks, 0.20 m on those of the opened
    hold-outs, bias within 0.01 m; as a fraction of the subject's shoulder height
    r 0.99, RMSE 0.07. On real video (the Pose2Sim lab, two people moving about, lens
    2.1 m) a fit without roll correction or gates read 1.0 m; with them there is none
    (scale ratio 1.28, scatter 0.54).
    Most of the error in metres is the subject's size, which MediaPipe normalises. A
    camera pitched down bends the row-to-height relation slightly (it is the tangent
    that is linear): on exact synthetic landmarks the estimate is within 0.05 m for a
    level camera and up to 0.13 m high at 15-25° of pitch. Squats and jogging in place have
    no approach and get NaN.
    """
    up = np.array([0.0, -1.0, 0.0])  # MediaPipe's world axes follow the camera's
    cols = _HEIGHT_LANDMARKS
    a, b = [], []
    frames = np.flatnonzero(pose.detected)
    if frames.size > APPROACH_MAX_FRAMES:
        frames = frames[np.linspace(0, frames.size - 1, APPROACH_MAX_FRAMES).round().astype(int)]
    for i in frames:
        above = _above_floor_m(pose.world_xyz_m[i], up)
        if above is None:
            continue
        h = above[cols]
        y = pose.image_xy_px[i, cols, 1].astype(np.float64)
        ok = np.isfinite(h) & np.isfinite(y) & (pose.visibility[i, cols] >= PNP_MIN_VISIBILITY)
        if ok.sum() < 6 or np.ptp(h[ok]) < 0.3:
            continue
        slope, intercept = np.polyfit(h[ok], y[ok], 1)
        if slope < 0:  # higher on the body is higher in the image
            a.append(intercept)
            b.append(slope)
    if len(b) < APPROACH_MIN_FRAMES:
        return float("nan")
    scale = -np.asarray(b)
    if np.percentile(scale, 90) < APPROACH_MIN_SCALE_RATIO * np.percentile(scale, 10):
        return float("nan")
    k, c = np.polyfit(np.asarray(b), np.asarray(a), 1)
    scatter = np.std(np.asarray(a) - (k * np.asarray(b) + c)) / np.std(a)
    if not scatter <= APPROACH_MAX_SCATTER:
        log.info("no lens height from the approach: scatter %.2f about its line", scatter)
        return float("nan")
    return float(-k)


def subject_height_fraction(pose: PoseSequence) -> tuple[float, float]:
    """The standing body's height in the image over the frame height.

    Returns the 90th and 10th percentiles over frames (NaN without a whole body). The
    top of the head is extrapolated above the eyes (:data:`HEAD_TOP_OVER_EYE_SHOULDER`).
    """
    frac = body_height_px(pose) / pose.image_size_px[1]
    frac = frac[np.isfinite(frac)]
    if frac.size == 0:
        return float("nan"), float("nan")
    return float(np.percentile(frac, 90)), float(np.percentile(frac, 10))


def body_height_px(pose: PoseSequence) -> FloatArray:
    """Per frame, the body's image height from the top of the head to the lower foot.

    Returns
    -------
    ndarray
        ``(n_frames,)`` pixels; NaN where the eyes, shoulders or both feet are not seen.

    Notes
    -----
    The top of the head is extrapolated above the eyes
    (:data:`HEAD_TOP_OVER_EYE_SHOULDER`). A crouching or leaning body is shorter than
    its standing height.
    """
    eye = 0.5 * (pose.xy("left_eye")[:, 1] + pose.xy("right_eye")[:, 1])
    sh = 0.5 * (pose.xy("left_shoulder")[:, 1] + pose.xy("right_shoulder")[:, 1])
    feet = np.stack(
        [pose.xy(f"{s}_{q}")[:, 1] for s in SIDES for q in ("heel", "foot_index")], axis=1
    )
    floor = np.full(pose.n_frames, np.nan)
    seen = np.isfinite(feet).any(axis=1)
    floor[seen] = np.nanmax(feet[seen], axis=1)
    with np.errstate(invalid="ignore"):
        top = eye - HEAD_TOP_OVER_EYE_SHOULDER * (sh - eye)
        return floor - top


def estimate_camera(
    pose: PoseSequence,
    task: str | None = None,
    *,
    long_side_fov_deg: float = 65.0,
    fov_sensitivity_deg: tuple[float, ...] = (55.0, 75.0),
) -> CameraEstimate:
    """Estimate the camera's roll, yaw, lens height and distance, and the subject's size
    in the frame.

    Parameters
    ----------
    pose
        Landmarks as MediaPipe gave them, or cleaned (not roll-corrected).
    task
        The task if known (selects the frames that give the roll).
    long_side_fov_deg
        Assumed field of view across the frame's long side (phones: 60-75°).
    fov_sensitivity_deg
        Other fields of view at which yaw and distance are recomputed.

    Returns
    -------
    CameraEstimate

    Notes
    -----
    The camera is placed on at most :data:`PNP_MAX_FRAMES` frames with both feet on the
    ground (all frames if there are too few): :func:`pose_in_camera` puts each frame's
    world landmarks (metric, centred on the hips) in camera coordinates. The lateral
    axis is the mean of the hip and shoulder lines; the yaw is the azimuth of the lens
    around the camera's vertical from the subject's frontal axis, except on a walk whose
    path spans at least :data:`WALK_PATH_MIN_SPAN_M`, where it is the mean of that and the
    angle between the walking line and the line of sight (:func:`walking_path_yaw_deg`).
    The two err apart (the body's reading is biased toward the direction to the walker,
    which changes along the path; the path's depth scatters with MediaPipe's scale): on
    the stored walks within 20° of the axis (179, session 10), the body's alone RMSE 5.4°
    from in front and 6.0° from behind, the path's 3.7° and 3.8°, their mean 2.9° and 3.5°.
    The lens height is :func:`camera_height_from_approach` when the subject walks toward
    or away from the camera, else :func:`camera_height`. MediaPipe scales every body to an
    average adult, so heights and the distance scale with the subject's true size, and the
    distance with the assumed focal length.
    """
    stand = task_stand_frames(pose, task)
    roll, source = estimate_roll_deg(pose, task, stand_frames=stand)
    fill, fill_min = subject_height_fraction(pose)
    pool, pitch_frames = camera_frame_pool(pose, stand, task)
    focal = focal_px(pose.image_size_px, long_side_fov_deg)
    pitch = estimate_pitch_deg(pose, pitch_frames)
    applied = pitch if np.isfinite(pitch) and abs(pitch) >= PITCH_APPLY_MIN_DEG else 0.0
    heights = camera_height(pose, pool, applied, focal)
    approach = camera_height_from_approach(correct_roll(pose, roll))
    method = "horizon"
    if np.isfinite(approach):
        heights["height"], method = approach, "approach"
    body_yaw, distance = _yaw_and_distance(pose, pool, focal)
    path_yaw = walking_path_yaw_deg(pose, focal) if task == "walk" else float("nan")
    on_path = bool(np.isfinite(path_yaw) and np.isfinite(body_yaw))
    yaw = 0.5 * (path_yaw + body_yaw) if on_path else body_yaw
    sensitivity = {}
    for fov in fov_sensitivity_deg:
        other = focal_px(pose.image_size_px, fov)
        y, d = _yaw_and_distance(pose, pool, other)
        if on_path:
            y = 0.5 * (y + walking_path_yaw_deg(pose, other))
        sensitivity[f"fov_{fov:g}_deg"] = {"yaw_deg": y, "distance_m": d}
    return CameraEstimate(
        roll_deg=roll,
        roll_source=source,
        body_roll_deg=roll,
        yaw_deg=yaw,
        yaw_method=YAW_FROM_WALK if on_path else "body",
        body_yaw_deg=body_yaw,
        path_yaw_deg=path_yaw,
        pitch_deg=pitch,
        camera_height_m=heights["height"],
        camera_height_landmark=_height_landmark(
            heights["height"], heights["knee"], heights["hip"], heights["sh"]
        ),
        knee_height_m=heights["knee"],
        hip_height_m=heights["hip"],
        distance_m=distance,
        subject_height_fraction=fill,
        subject_height_fraction_min=fill_min,
        assumed_long_side_fov_deg=long_side_fov_deg,
        sensitivity=sensitivity,
        n_frames_posed=int(pool.size),
        camera_height_method=method,
    )


#: ``CameraEstimate.yaw_method`` of a walk whose path was read.
YAW_FROM_WALK = "walking line and body"

#: ``CameraEstimate.yaw_method`` when the learned model gave the yaw.
YAW_LEARNED = "learned"


#: The learned yaw model was trained on lenses within this azimuth (degrees): beyond it
#: its output saturates (a real camera 59° off axis read 25°, a side view 0°), so a
#: geometric reading beyond it is kept.
LEARNED_YAW_RANGE_DEG = 35.0


def with_learned_yaw(camera: CameraEstimate, learned: LearnedYaw) -> CameraEstimate:
    """The estimate with the learned model's yaw, where the model applies to the clip.

    The geometric reading is kept in ``geometric_yaw_deg``. The geometric yaw stays
    when the clip is unlike the model's training inputs, or when the geometric reading
    (body, or a walk's walking line) is beyond the model's training range
    (:data:`LEARNED_YAW_RANGE_DEG`).
    """
    read = replace(
        camera,
        geometric_yaw_deg=camera.yaw_deg,
        learned_yaw_deg=learned.yaw_deg,
        learned_yaw_spread_deg=learned.spread_deg if np.isfinite(learned.yaw_deg) else np.nan,
    )
    beyond = [abs(v) > LEARNED_YAW_RANGE_DEG for v in (camera.yaw_deg, camera.path_yaw_deg)]
    if not np.isfinite(learned.yaw_deg) or any(beyond):
        return read
    return replace(read, yaw_deg=learned.yaw_deg, yaw_method=YAW_LEARNED)


def _yaw_readings_conflict(camera: CameraEstimate, envelope: Envelope) -> bool:
    """The body's outline reads the camera beyond the learned model's range while the
    model (applied to the clip) reads it within the envelope.

    Notes
    -----
    On the 924 opened renders every body reading beyond ±35° came with a learned one at
    least 22° off axis on the same side; on the twentieth hold-out a squat filmed 2.8° off
    axis read 57° by its outline and 2.8° by the model. A real side view can also read
    near 0° by the model, which never saw one, so the clip is still refused, with both
    readings named rather than a placement that may be false.
    """
    learned = camera.learned_yaw_deg
    return (
        camera.yaw_method != YAW_LEARNED
        and np.isfinite(learned)
        and abs(learned) <= envelope.yaw_warn_abs_deg
        and abs(camera.yaw_deg) > LEARNED_YAW_RANGE_DEG
    )


#: ``CameraEstimate.roll_source`` when the room's verticals gave the roll.
ROLL_FROM_ROOM = "room's vertical lines"


def with_scene_tilt(camera: CameraEstimate, scene: SceneTilt | None) -> CameraEstimate:
    """The estimate with its roll read from the room's verticals where they were read.

    Notes
    -----
    The room's vertical lines give the picture's tilt at the subject whatever the
    subject's posture (:func:`screener.scene.estimate_scene_tilt`); the subject's long
    axis gives it only for an upright subject, and reads a lateral lean held throughout
    as a tilt. Where the room gives no reading (a plain wall) the body's stays.
    """
    if scene is None or scene.tilt_deg is None or not scene.read:
        return camera
    return replace(camera, roll_deg=scene.tilt_deg, roll_source=ROLL_FROM_ROOM)


@dataclass(frozen=True)
class Envelope:
    """The validated capture envelope (``models/envelope.toml``)."""

    yaw_warn_abs_deg: float
    yaw_refuse_abs_deg: float
    pitch_warn_abs_deg: float
    roll_min_correct_abs_deg: float
    roll_correct_abs_deg: float
    roll_refuse_abs_deg: float
    lean_warn_abs_deg: float
    fill_min: float
    fill_max: float
    fill_refuse_min: float
    camera_height_min_m: float
    camera_height_max_m: float
    camera_height_warn_above_m: float
    fps_min: float
    fps_max: float
    lighting: LightingLimits
    source: str
    path: str
    #: An estimate this close to ``yaw_warn_abs_deg`` (within the estimate's own error)
    #: warns too: the camera may be beyond the limit.
    yaw_warn_margin_deg: float = 0.0
    #: The lens' distance a single-leg squat filmed from the front was validated from
    #: (not read from the video: checked on the distance entered, else the check says it
    #: was not; None: neither).
    squat_front_distance_min_m: float | None = None
    #: Knee FPPA RMSE ranges (low, high) of such squats filmed closer and farther.
    squat_front_rmse_closer_deg: tuple[float, float] = (float("nan"), float("nan"))
    squat_front_rmse_farther_deg: tuple[float, float] = (float("nan"), float("nan"))
    #: The stature at or under which a patient's single-leg squats were measured less
    #: well (not read from the video: checked on the height entered, else every squat's
    #: check says it was not; None: neither).
    squat_short_stature_max_m: float | None = None
    #: Knee FPPA RMSE of the squats of patients at or under that stature and above it.
    squat_short_rmse_deg: float = float("nan")
    squat_taller_rmse_deg: float = float("nan")
    #: The clothing the measurements were validated in (a top over the hips is found on
    #: the video; ``[clothing]``).
    clothing: ClothingLimits | None = None


def load_envelope(path: Path) -> Envelope:
    """Read the envelope file.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or lacks a limit.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return Envelope(
            yaw_warn_abs_deg=float(data["yaw_deg"]["warn_abs"]),
            yaw_refuse_abs_deg=float(data["yaw_deg"]["refuse_abs"]),
            pitch_warn_abs_deg=float(data["pitch_deg"]["warn_abs"]),
            roll_min_correct_abs_deg=float(data["roll_deg"]["min_correct_abs"]),
            roll_correct_abs_deg=float(data["roll_deg"]["correct_abs"]),
            roll_refuse_abs_deg=float(data["roll_deg"]["refuse_abs"]),
            lean_warn_abs_deg=float(data["roll_deg"]["lean_warn_abs"]),
            fill_min=float(data["subject_height_fraction"]["min"]),
            fill_max=float(data["subject_height_fraction"]["max"]),
            fill_refuse_min=float(data["subject_height_fraction"]["refuse_min"]),
            camera_height_min_m=float(data["camera_height_m"]["min"]),
            camera_height_max_m=float(data["camera_height_m"]["max"]),
            camera_height_warn_above_m=float(data["camera_height_m"]["warn_above_approach"]),
            fps_min=float(data["fps"]["min"]),
            fps_max=float(data["fps"]["max"]),
            lighting=LightingLimits(
                subject_luma_min=float(data["lighting"]["subject_luma_min"]),
                backlight_ratio_max=float(data["lighting"]["backlight_ratio_max"]),
                face_shade_ratio=float(data["lighting"]["face_shade_ratio"]),
                source=str(data["lighting"]["source"]),
            ),
            source=str(data["source"]["text"]),
            path=str(path),
            yaw_warn_margin_deg=float(data["yaw_deg"].get("warn_margin", 0.0)),
            squat_front_distance_min_m=float(data["squat_front_distance_m"]["min"]),
            squat_front_rmse_closer_deg=_pair(
                data["squat_front_distance_m"]["fppa_rmse_closer_deg"]
            ),
            squat_front_rmse_farther_deg=_pair(
                data["squat_front_distance_m"]["fppa_rmse_farther_deg"]
            ),
            squat_short_stature_max_m=float(data["squat_stature_m"]["short_max"]),
            squat_short_rmse_deg=float(data["squat_stature_m"]["fppa_rmse_short_deg"]),
            squat_taller_rmse_deg=float(data["squat_stature_m"]["fppa_rmse_taller_deg"]),
            clothing=ClothingLimits(
                contrast_min=float(data["clothing"]["contrast_min"]),
                hip_chest_ratio_max=float(data["clothing"]["hip_chest_ratio_max"]),
                squat_front_fppa_rmse_covered_deg=_pair(
                    data["clothing"]["squat_front_fppa_rmse_covered_deg"]
                ),
                squat_front_fppa_rmse_other_deg=_pair(
                    data["clothing"]["squat_front_fppa_rmse_other_deg"]
                ),
                source=str(data["clothing"]["source"]),
            ),
        )
    except OSError as exc:
        raise ConfigError(f"cannot read the envelope file ({exc})", path=path) from exc
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"invalid envelope file ({type(exc).__name__}: {exc})",
            path=path,
            remedy="See screener/models/envelope.toml for the expected keys.",
        ) from exc


def _pair(values: Any) -> tuple[float, float]:
    """Two numbers (low, high) from the envelope file."""
    low, high = (float(v) for v in values)
    return low, high


@dataclass(frozen=True)
class EnvelopeCheck:
    """What the capture checks decided for one clip.

    Attributes
    ----------
    roll_correction_deg
        The rotation applied to the image landmarks (``-roll``), 0 if none.
    warnings
        Sentences for the summary's warnings and the report, each with an instruction.
    refusal
        Why the clip cannot be measured, with the instruction; None if it can.
    unchecked
        Limits of the envelope this clip could not be checked against, each a sentence
        saying what the user should confirm (for the report's caveats).
    error_floors
        Metric -> (RMSE in degrees, where it comes from): the measured error of the
        conditions this clip was filmed in, where the envelope file gives one larger than
        the task's over the whole envelope (a front squat filmed closer than the validated
        distance, as entered). The verdicts judge the metric with it.
    """

    roll_correction_deg: float
    warnings: tuple[str, ...]
    refusal: str | None
    unchecked: tuple[str, ...] = ()
    error_floors: Mapping[str, tuple[float, str]] = field(default_factory=dict)


def _place(view: str) -> str:
    return (
        "straight behind the patient" if view == "posterior" else "straight in front of the patient"
    )


def roll_correction_deg(roll_deg: float, envelope: Envelope, *, correct: bool = True) -> float:
    """The rotation the analysis applies to the image landmarks for a camera rolled by
    ``roll_deg``: ``-roll_deg`` from the envelope's smallest corrected roll up to its
    refusal limit (beyond it the clip is refused), else 0."""
    if not correct or not np.isfinite(roll_deg):
        return 0.0
    if envelope.roll_min_correct_abs_deg <= abs(roll_deg) <= envelope.roll_refuse_abs_deg:
        return -roll_deg
    return 0.0


def check_envelope(
    camera: CameraEstimate,
    envelope: Envelope,
    view: str,
    fps: float,
    *,
    correct: bool = True,
    stated_height_m: float | None = None,
    stated_distance_m: float | None = None,
    task: str | None = None,
    clothing: Clothing | None = None,
    stated_stature_m: float | None = None,
) -> EnvelopeCheck:
    """Compare a clip's camera (and the patient's clothing) with the validated envelope.

    Parameters
    ----------
    camera
        The estimate of :func:`estimate_camera`.
    envelope
        The limits (:func:`load_envelope`).
    view
        ``"anterior"`` or ``"posterior"``: where the camera should be.
    fps
        The clip's frame rate.
    correct
        Whether a roll within the envelope is corrected.
    stated_height_m
        The lens height measured at the recording (metres), or None. Given, it is what
        the lens height is checked on (a tape reads it better than the approach's 0.2 m
        SD, and it is the only reading a squat or a jog has), and the "not checked" note
        is not made.
    stated_distance_m
        The camera's distance from the patient as measured at the recording (metres), or
        None. A single-leg squat filmed from the front is checked on it
        (``Envelope.squat_front_distance_min_m``; closer, its knee FPPA gets the larger
        error of such squats in ``error_floors``); the video does not give it.
    task
        The task, if known: a single-leg squat (``"sls"``) filmed from the front gets a
        warning when ``stated_distance_m`` is closer than the envelope's distance, and
        without it a note that the distance was not checked, what it was validated for
        and how to have it checked; every single-leg squat gets the note of
        :func:`squat_stature_note` unless ``stated_stature_m`` is given.
    clothing
        The clothes' colours read from the video (:func:`screener.clothing.
        measure_clothing`), or None: a single-leg squat filmed from the front in a top
        over the hips gets a warning and its knee FPPA the error of such squats in
        ``error_floors`` (:func:`screener.clothing.clothing_warnings`).
    stated_stature_m
        The patient's height as entered (metres), or None. A single-leg squat of a
        patient at or under ``Envelope.squat_short_stature_max_m`` is told so, and its knee
        FPPA gets the larger error of such squats in ``error_floors``; taller, nothing is
        said; not given, the note of :func:`squat_stature_note`.

    Returns
    -------
    EnvelopeCheck

    Notes
    -----
    The yaw warns from ``yaw_warn_abs_deg - yaw_warn_margin_deg`` on, not from the limit:
    an estimate within its own error of the limit cannot tell a camera inside from one
    beyond it, and the warning says so (session 18: on the renders that chose the margin,
    cameras 10-15° off axis read within the limit in about one clip of five).
    """
    correction = roll_correction_deg(camera.roll_deg, envelope, correct=correct)
    warnings: list[str] = []
    refusals: list[str] = []
    for found in (
        _yaw_finding(camera, envelope, view),
        _pitch_finding(camera, envelope),
        _height_finding(camera, envelope, stated_height_m),
        _roll_finding(camera.roll_deg, envelope, correction),
    ):
        if found is not None:
            (refusals if found.refuse else warnings).append(found.text)
    warnings.extend(lean_warnings(camera, envelope, view))
    fill = _fill_finding(camera, envelope)
    if fill is not None:
        (refusals if fill.refuse else warnings).append(fill.text)
    fill_min = camera.subject_height_fraction_min
    if np.isfinite(fill_min) and fill_min < envelope.fill_refuse_min and not refusals:
        warnings.append(
            f"at its farthest the patient fills only {fill_min:.0%} of the frame height: "
            "those frames are less accurate; start the walk closer to the camera"
        )
    low, high = envelope.fps_min * (1 - FPS_TOLERANCE), envelope.fps_max * (1 + FPS_TOLERANCE)
    if np.isfinite(fps) and not low <= fps <= high:
        warnings.append(
            f"the clip is {fps:.0f} fps (validated {envelope.fps_min:.0f}-"
            f"{envelope.fps_max:.0f} fps): record at 30-60 fps, 120 fps or more for jogging"
        )
    unchecked = []
    if camera.camera_height_method != "approach" and stated_height_m is None:
        unchecked.append(_lens_height_note(envelope))
    floors: dict[str, tuple[float, str]] = {}
    if task == "sls":
        squat = _squat_findings(envelope, view, stated_distance_m, stated_stature_m)
        warnings.extend(squat.warnings)
        unchecked.extend(squat.unchecked)
        for metric, floor in squat.floors:
            _raise_floor(floors, metric, floor)
    if clothing is not None and envelope.clothing is not None and task is not None:
        worn, worn_floors = clothing_warnings(
            clothing, envelope.clothing, task, view, Path(envelope.path).name
        )
        warnings.extend(worn)
        for metric, floor in worn_floors.items():
            _raise_floor(floors, metric, floor)
    return EnvelopeCheck(
        roll_correction_deg=correction,
        warnings=tuple(warnings),
        refusal="; ".join(refusals) if refusals else None,
        unchecked=tuple(unchecked),
        error_floors=floors,
    )


@dataclass(frozen=True)
class _Finding:
    """One condition outside the envelope: what to tell the user, and whether to refuse."""

    text: str
    refuse: bool = False


@dataclass(frozen=True)
class _SquatFindings:
    """What a single-leg squat's stated distance and stature add to the check."""

    warnings: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()
    floors: tuple[tuple[str, tuple[float, str]], ...] = ()


def _yaw_finding(camera: CameraEstimate, envelope: Envelope, view: str) -> _Finding | None:
    """The camera's yaw: warned from the limit less its margin, refused beyond the refusal."""
    yaw = camera.yaw_deg
    limit = envelope.yaw_warn_abs_deg
    if not (np.isfinite(yaw) and abs(yaw) > limit - envelope.yaw_warn_margin_deg):
        return None
    place = _place(view)
    side = "left" if yaw > 0 else "right"
    on_path = np.isfinite(camera.path_yaw_deg)  # a walk whose walking line was read
    where = (
        f"the patient walks about {abs(yaw):.0f}° off the camera's line of sight, the "
        f"camera to the {side} of their walking line"
        if on_path
        else f"the camera is about {abs(yaw):.0f}° to the patient's {side}"
    )
    fix = f"place it {place}" + (" on the line they walk along" if on_path else "")
    if abs(yaw) <= limit:
        text = (
            f"{where}, at the edge of the validated ±{limit:.0f}° (this estimate may be "
            f"{envelope.yaw_warn_margin_deg:.0f}° or more off, so the camera may be beyond "
            f"it): {fix}, lens at knee height"
        )
    elif not on_path and _yaw_readings_conflict(camera, envelope):
        text = (
            f"the camera's direction could not be read consistently: the body's outline "
            f"puts it about {abs(yaw):.0f}° to the patient's {side}, the landmarks "
            f"within {limit:.0f}° of straight on (validated within ±{limit:.0f}°): check "
            f"that the phone is {place}, lens at knee height, and that the patient faces "
            "it squarely"
        )
    else:
        text = f"{where} (validated within ±{limit:.0f}°): {fix}, lens at knee height"
    return _Finding(text, refuse=abs(yaw) > envelope.yaw_refuse_abs_deg)


def _pitch_finding(camera: CameraEstimate, envelope: Envelope) -> _Finding | None:
    """The camera's pitch, warned beyond the envelope's."""
    pitch = camera.pitch_deg
    if not (np.isfinite(pitch) and abs(pitch) > envelope.pitch_warn_abs_deg):
        return None
    way = "down" if pitch > 0 else "up"
    return _Finding(
        f"the camera looks {way} at the patient by about {abs(pitch):.0f}° (validated "
        f"within ±{envelope.pitch_warn_abs_deg:.0f}°): hold the phone upright and level, "
        "lens at knee height, rather than tilting it"
    )


def _height_finding(
    camera: CameraEstimate, envelope: Envelope, stated_height_m: float | None
) -> _Finding | None:
    """The lens height: the one entered if given, else the one a walk's approach reads."""
    low_m, high_m = envelope.camera_height_min_m, envelope.camera_height_max_m
    if stated_height_m is not None:
        if low_m <= stated_height_m <= high_m:
            return None
        return _Finding(
            f"the lens was {stated_height_m:.2f} m above the floor, as entered (validated "
            f"{low_m:.1f}-{high_m:.1f} m): film again with the lens between the "
            "patient's knee and hip height, the phone held upright"
        )
    height = camera.camera_height_m
    if not (
        camera.camera_height_method == "approach"
        and np.isfinite(height)
        and height > envelope.camera_height_warn_above_m
    ):
        return None
    level = HEIGHT_LANDMARK_WORDS.get(camera.camera_height_landmark)
    return _Finding(
        f"the lens is about {height:.1f} m above the floor"
        + (f", {level}" if level else "")
        + f" (validated up to {envelope.camera_height_max_m:.1f} m): lower the phone "
        "to between the patient's knee and hip height, held upright"
    )


def _roll_finding(roll: float, envelope: Envelope, correction: float) -> _Finding | None:
    """The picture's roll: not read, too large to correct, or corrected beyond the envelope."""
    if not np.isfinite(roll):
        return _Finding(
            "the camera's tilt could not be checked (no frames with both feet on the "
            "ground): hold the phone upright and level, and have the patient stand on both "
            "feet for a second before starting"
        )
    if abs(roll) > envelope.roll_refuse_abs_deg:
        return _Finding(
            f"the picture is tilted about {abs(roll):.0f}° (more than "
            f"{envelope.roll_refuse_abs_deg:.0f}°, too much to correct): hold the phone "
            "upright and level, on a tripod if possible",
            refuse=True,
        )
    if correction and abs(roll) > envelope.roll_correct_abs_deg:
        return _Finding(
            f"the picture was tilted about {abs(roll):.0f}° and was straightened "
            f"(validated up to {envelope.roll_correct_abs_deg:.0f}°): hold the phone "
            "level next time, on a tripod if possible"
        )
    return None


def _fill_finding(camera: CameraEstimate, envelope: Envelope) -> _Finding | None:
    """The patient's share of the frame height: refused when tiny, warned outside."""
    fill = camera.subject_height_fraction
    if not np.isfinite(fill):
        return None
    if fill < envelope.fill_refuse_min:
        return _Finding(
            f"the patient fills only {fill:.0%} of the frame height: move the camera "
            "closer so that head to feet fill most of the frame",
            refuse=True,
        )
    if fill < envelope.fill_min:
        return _Finding(
            f"the patient fills only {fill:.0%} of the frame height (validated "
            f"{envelope.fill_min:.0%}-{envelope.fill_max:.0%}): move the camera closer, "
            "head to feet filling about three quarters of the frame"
        )
    if fill > envelope.fill_max:
        return _Finding(
            f"the patient fills {fill:.0%} of the frame height (validated up to "
            f"{envelope.fill_max:.0%}): move the camera back so that the head and feet "
            "stay in view with some floor below the feet"
        )
    return None


def _lens_height_note(envelope: Envelope) -> str:
    """The note of a clip whose lens height was neither read nor entered."""
    return (
        "The lens height was not checked: it is read only when the patient walks toward "
        "or away from the camera. The measurements were validated with the lens "
        f"{envelope.camera_height_min_m:.1f}-{envelope.camera_height_max_m:.1f} m above "
        "the floor; if the phone was higher or lower, record again with the lens between "
        "the patient's knee and hip height. To have it checked, give the height measured "
        "when filming (the upload form's lens height, or --lens-height-cm)."
    )


def _squat_findings(
    envelope: Envelope,
    view: str,
    stated_distance_m: float | None,
    stated_stature_m: float | None,
) -> _SquatFindings:
    """A single-leg squat's camera distance (from the front) and the patient's stature.

    Each is checked when entered (a warning and a larger knee FPPA error where it falls
    outside what was validated) and noted as not checked when not.
    """
    warnings: list[str] = []
    unchecked: list[str] = []
    floors: list[tuple[str, tuple[float, str]]] = []
    file_name = Path(envelope.path).name
    closest = envelope.squat_front_distance_min_m
    if view == "anterior" and closest is not None:
        if stated_distance_m is None:
            unchecked.append(squat_distance_note(envelope))
        elif stated_distance_m < closest:
            warnings.append(squat_distance_warning(stated_distance_m, envelope))
            floors.append(
                (
                    "knee_fppa_deg",
                    (
                        max(envelope.squat_front_rmse_closer_deg),
                        f"{file_name}, [squat_front_distance_m]: the camera closer than "
                        f"{closest:.1f} m, as entered",
                    ),
                )
            )
    short = envelope.squat_short_stature_max_m
    if short is not None:
        if stated_stature_m is None:
            unchecked.append(squat_stature_note(envelope))
        elif stated_stature_m <= short:
            warnings.append(squat_stature_warning(stated_stature_m, envelope))
            floors.append(
                (
                    "knee_fppa_deg",
                    (
                        envelope.squat_short_rmse_deg,
                        f"{file_name}, [squat_stature_m]: a patient at or under "
                        f"{short:.2f} m tall, as entered",
                    ),
                )
            )
    return _SquatFindings(tuple(warnings), tuple(unchecked), tuple(floors))


def _raise_floor(
    floors: dict[str, tuple[float, str]], metric: str, floor: tuple[float, str]
) -> None:
    """Keep the larger of ``metric``'s errors, its own and ``floor`` (RMSE, source): a clip
    filmed in several conditions with measured errors is judged with the largest."""
    if metric not in floors or floor[0] > floors[metric][0]:
        floors[metric] = floor


def squat_distance_note(envelope: Envelope) -> str:
    """What a single-leg squat filmed from the front is told of the camera's distance.

    Notes
    -----
    The distance cannot be read from a video without the lens' field of view
    (docs/capture.md, "Not handled"); the figures are the rendered squats' knee FPPA
    errors by the lens' true distance (``models/envelope.toml``,
    ``[squat_front_distance_m]``).
    """
    near = envelope.squat_front_distance_min_m
    return (
        "The camera's distance was not checked: the video does not give it. "
        f"{_squat_distance_errors(envelope)}; if the phone was closer than "
        f"{near:.1f} m, record again with it 2-3 m from the patient. To have it checked, "
        "give the distance measured when filming (the upload form's camera distance, or "
        "--camera-distance-m)."
    )


def squat_stature_note(envelope: Envelope) -> str:
    """What a single-leg squat is told of the patient's stature.

    Notes
    -----
    The stature is not read (MediaPipe's world landmarks are scaled to a standard body),
    so the note is given on every squat whose patient's height was not entered, with the
    rendered squats' knee FPPA errors at or under the envelope file's stature and above
    it (``models/envelope.toml``, ``[squat_stature_m]``; docs/accuracy.md, "A squat's
    knee FPPA and the patient's stature"). The edge was seen after looking at hold-outs 65-86
    and has been checked on every untouched hold-out since (met on a minority, the pooled
    difference's interval holding zero; the file's comment and that section give the
    figures): a measured tendency, not a correction; no verdict changes
    with the note (a height entered makes a short patient's knee FPPA verdict use the
    larger error, :func:`check_envelope`).
    """
    return (
        "The patient's stature was not checked: the video does not give it. "
        f"{_squat_stature_errors(envelope)}; for a patient that short, give the knee valgus "
        "verdict less weight and confirm it clinically. To have it taken into account, give "
        "the patient's height (the patient's record in the web app, or --patient-height-cm)."
    )


def squat_stature_warning(stated_stature_m: float, envelope: Envelope) -> str:
    """What the single-leg squat of a patient at or under the envelope file's stature is
    told, the height as entered (``models/envelope.toml``, ``[squat_stature_m]``)."""
    return (
        f"the patient is {stated_stature_m:.2f} m tall, as entered. "
        f"{_squat_stature_errors(envelope)}: the knee valgus verdict is judged with the "
        "larger error; confirm it clinically"
    )


def _squat_stature_errors(envelope: Envelope) -> str:
    """The rendered squats' knee FPPA errors at or under the stature edge and above."""
    return (
        "On test renders, the single-leg squats of people at or under "
        f"{envelope.squat_short_stature_max_m:.2f} m tall read knee valgus (FPPA) about "
        f"{envelope.squat_short_rmse_deg:.1f}° off (RMSE), against "
        f"{envelope.squat_taller_rmse_deg:.1f}° for taller people"
    )


def squat_distance_warning(stated_distance_m: float, envelope: Envelope) -> str:
    """The warning of a single-leg squat filmed from the front from closer than the
    envelope's distance, as entered (``models/envelope.toml``,
    ``[squat_front_distance_m]``)."""
    return (
        f"the camera was {stated_distance_m:.1f} m from the patient, as entered (validated "
        f"from {envelope.squat_front_distance_min_m:.1f} m for a single-leg squat filmed "
        f"from the front). {_squat_distance_errors(envelope)}: film again with the phone "
        "2-3 m from the patient"
    )


def _squat_distance_errors(envelope: Envelope) -> str:
    """The rendered front squats' knee FPPA errors closer and farther than the limit."""
    near = envelope.squat_front_distance_min_m
    closer, farther = envelope.squat_front_rmse_closer_deg, envelope.squat_front_rmse_farther_deg
    return (
        f"On test renders, single-leg squats filmed from the front with the camera closer "
        f"than {near:.1f} m read knee valgus (FPPA) {closer[0]:.0f}-{closer[1]:.0f}° off "
        f"(RMSE), {farther[0]:.0f}-{farther[1]:.0f}° from farther"
    )


def lean_warnings(camera: CameraEstimate, envelope: Envelope, view: str) -> list[str]:
    """A warning when the subject's long axis leans from the room's vertical throughout.

    Only when the room's verticals gave the roll (:func:`with_scene_tilt`): the body's
    reading minus the room's is then the subject's own lean (the trunk's over a walk or
    jog, the whole body's standing between squats), which the angles measured against
    the room's vertical include.
    """
    body, room = camera.body_roll_deg, camera.roll_deg
    if camera.roll_source != ROLL_FROM_ROOM or not (np.isfinite(body) and np.isfinite(room)):
        return []
    lean = body - room
    if abs(lean) <= envelope.lean_warn_abs_deg:
        return []
    # the top of the body toward the image's right is toward the patient's left when
    # they face the camera
    toward_image_right = lean > 0
    patients_left = toward_image_right == (view == "anterior")
    return [
        f"the patient's body leans about {abs(lean):.0f}° to their "
        f"{'left' if patients_left else 'right'} of the room's vertical throughout (the "
        f"picture's own tilt, {room:+.1f}°, was read from the room's vertical lines): the "
        "angles include that lean; check it on the report's stills"
    ]


@dataclass(frozen=True)
class OtherPeople:
    """Whether someone besides the tracked subject is in view.

    Attributes
    ----------
    frames_checked
        Frame indices searched.
    frames_with_other
        Those in which a second person was found.
    """

    frames_checked: tuple[int, ...]
    frames_with_other: tuple[int, ...]

    @property
    def found(self) -> bool:
        """A second person in at least :data:`OTHER_PERSON_MIN_FRAMES` searched frames."""
        return len(self.frames_with_other) >= OTHER_PERSON_MIN_FRAMES

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "checked": True,
            "found": self.found,
            "frames_checked": list(self.frames_checked),
            "frames_with_other": list(self.frames_with_other),
            "method": "MediaPipe pose detector re-run with the tracked person masked out",
        }


#: A second person must be found in this many searched frames (one can be a fluke).
OTHER_PERSON_MIN_FRAMES = 2
#: The tracked person's box is widened by these fractions of its width and height
#: before it is masked (hands and hair stray beyond the landmarks).
MASK_MARGIN_X, MASK_MARGIN_TOP, MASK_MARGIN_BOTTOM = 0.15, 0.12, 0.05


#: Decoding size (long side, px) of the frames searched for a second person.
OTHER_PEOPLE_LONG_SIDE_PX = 640


def other_people_frames(pose: PoseSequence, n_frames: int = 8) -> list[int]:
    """The frames :func:`detect_other_people` searches: about ``n_frames`` frames with a
    pose, spread over the clip (the rule of :class:`OtherPeopleFramePicker`)."""
    picker = OtherPeopleFramePicker(pose.n_frames, n_frames)
    for index, detected in enumerate(pose.detected.tolist()):
        picker.offer(index, bool(detected))
    return picker.picked()


class OtherPeopleFramePicker:
    """Picks the frames searched for a second person, one frame at a time, in order.

    Parameters
    ----------
    n_total
        Frames in the clip.
    n_frames
        Frames to search.

    Notes
    -----
    The rule: ``n_frames`` targets evenly spread over the clip, its first and last frame
    included (:func:`screener.video.spread_indices`); each target but the last takes the
    first frame with a pose from it up to the next target, the last target the last frame
    with a pose after the one before it. A target whose stretch has no pose takes
    nothing. With a pose in every frame the targets themselves are searched, the frames
    the former rule (``n_frames`` evenly spread over the frames with a pose) chose.

    All but the last target are decided as soon as a frame with a pose comes, so the
    pose pass can keep the frames as it decodes them (:mod:`screener.acquire`) instead
    of decoding the clip again; :func:`other_people_frames` applies the same rule to a
    finished pose.
    """

    def __init__(self, n_total: int, n_frames: int) -> None:
        from screener.video import spread_indices

        self.targets = spread_indices(n_total, n_frames)
        self.slots: list[int | None] = [None] * len(self.targets)

    def _slots_of(self, index: int) -> list[int]:
        """The targets whose stretch holds frame ``index``."""
        targets = self.targets
        last = len(targets) - 1
        if last < 0 or index < targets[0]:
            return []
        if last == 0:
            return [0]
        found = []
        k = bisect.bisect_right(targets, index) - 1
        if k < last:
            found.append(k)
        if targets[last - 1] < index <= targets[last]:
            found.append(last)
        return found

    def could_pick(self, index: int) -> bool:
        """Frame ``index`` is a target, or the first frame with a pose from here on would
        be picked (its target has none yet).

        Notes
        -----
        A frame with a pose before the last target, after the one before it, can be
        picked too (when no later frame has one); it is not reported here, as only
        the end of the clip would tell.
        """
        if index in self.targets:
            return True
        last = len(self.targets) - 1
        return any(self.slots[k] is None for k in self._slots_of(index) if k < last or last == 0)

    def offer(self, index: int, detected: bool) -> bool:
        """Frame ``index`` (offered in order), with a pose or not; True if it is picked
        (for now: the last target's pick is replaced by any later frame with a pose)."""
        if not detected:
            return False
        picked = False
        last = len(self.targets) - 1
        for k in self._slots_of(index):
            if self.slots[k] is None or (k == last and last > 0):
                self.slots[k] = index
                picked = True
        return picked

    def picked(self) -> list[int]:
        """The frames picked so far, sorted."""
        return sorted({index for index in self.slots if index is not None})


def detect_other_people(
    video: Path,
    pose: PoseSequence,
    n_frames: int = 8,
    rotate_cw_deg: int = 0,
    frames: Mapping[int, npt.NDArray[np.uint8]] | None = None,
) -> OtherPeople:
    """Look for a second person on a few frames of the video.

    Parameters
    ----------
    video
        The video the pose was estimated from.
    pose
        Its landmarks as MediaPipe gave them (the tracked person).
    n_frames
        Frames searched, spread over the clip (:func:`other_people_frames`).
    rotate_cw_deg
        The turn the pose model's frames were given.
    frames
        The frames of :func:`other_people_frames` already decoded at
        :data:`OTHER_PEOPLE_LONG_SIDE_PX` (by index); None: read from ``video``.

    Returns
    -------
    OtherPeople

    Notes
    -----
    MediaPipe's pose solution follows one person. Each searched frame is blanked over
    the tracked person's landmarks' box (with a margin) and given to MediaPipe's pose
    detector again, as a still image: whatever it finds there is someone else. On the
    project's sample renders (one person) it found nobody in 32 of 32 frames; on the
    Pose2Sim lab clips (two people) and the Sports2D demo (several) it found the other
    person in 5-8 of 8 frames.
    """
    from screener.upright import rotate_image
    from screener.video import read_frames

    wanted = other_people_frames(pose, n_frames)
    if not wanted:
        return OtherPeople((), ())
    if frames is None:
        frames = read_frames(video, {OTHER_PEOPLE_LONG_SIDE_PX: wanted})[OTHER_PEOPLE_LONG_SIDE_PX]
    from screener.pose import import_mediapipe

    mp = import_mediapipe()
    width, height = pose.image_size_px
    found = []
    with mp.solutions.pose.Pose(
        static_image_mode=True, model_complexity=1, min_detection_confidence=0.5
    ) as detector:
        for index in wanted:
            frame_rgb = frames.get(index)
            if frame_rgb is None:
                continue
            rgb = rotate_image(frame_rgb, rotate_cw_deg).copy()  # as the pose model saw it
            h, w = rgb.shape[:2]
            xy = pose.image_xy_px[index]
            xy = xy[np.isfinite(xy).all(axis=1)]
            if xy.size:
                (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
                bw, bh = x1 - x0, y1 - y0
                x0, x1 = x0 - MASK_MARGIN_X * bw, x1 + MASK_MARGIN_X * bw
                y0, y1 = y0 - MASK_MARGIN_TOP * bh, y1 + MASK_MARGIN_BOTTOM * bh
                sx, sy = w / width, h / height
                rgb[
                    max(0, int(y0 * sy)) : max(0, int(y1 * sy) + 1),
                    max(0, int(x0 * sx)) : max(0, int(x1 * sx) + 1),
                ] = 0
            if detector.process(rgb).pose_landmarks is not None:
                found.append(index)
    log.info("another person found in %d of %d frames", len(found), len(wanted))
    return OtherPeople(tuple(wanted), tuple(found))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
