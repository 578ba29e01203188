"""Generated landmark sequences with known answers.

A stick figure is posed in the SUBJECT's frame (metres): X anterior, Y up, Z to the
subject's right. It is seen by an orthographic camera from the front (anterior view) or
from behind (posterior view) and turned into a :class:`PoseSequence` with both image and
MediaPipe-style world coordinates, so every angle of the screener has an analytic answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from screener.config import AnalysisConfig
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, N_LANDMARKS

PX_PER_M = 400.0
IMAGE_SIZE = (720, 1280)
CENTRE = np.array([360.0, 1100.0])  # image position of the subject frame's origin (floor)

HIP_HALF_WIDTH = 0.09
THIGH = 0.45
SHANK = 0.43
HIP_HEIGHT = THIGH + SHANK + 0.06


def rot_x(deg: float) -> np.ndarray:
    """Rotation about the subject's anterior axis (frontal-plane tilt)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(deg: float) -> np.ndarray:
    """Rotation about the subject's vertical axis."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(deg: float) -> np.ndarray:
    """Rotation about the subject's medio-lateral (rightward) axis."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def rot_axis(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotation by ``deg`` about a unit ``axis`` (right-hand rule, Rodrigues)."""
    axis = axis / np.linalg.norm(axis)
    a = np.radians(deg)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


def leg_points(
    side: str,
    hip: np.ndarray,
    *,
    adduction_deg: float = 0.0,
    flexion_hip_deg: float = 0.0,
    knee_flexion_deg: float = 0.0,
    internal_rotation_deg: float = 0.0,
    pelvis_obliquity_rot: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """3D points of one leg with known hip and knee angles (subject frame).

    The leg hangs straight down, then: knee flexes (shank swings backward), the femur
    rotates about its long axis (internal rotation positive), the hip flexes (knee
    forward) and adducts (knee toward the midline), all relative to the pelvis, which
    may itself be tilted by ``pelvis_obliquity_rot``.
    """
    medial = 1.0 if side == "left" else -1.0  # +Z is the subject's right
    thigh = np.array([0.0, -THIGH, 0.0])
    shank = rot_z(-knee_flexion_deg) @ np.array([0.0, -SHANK, 0.0])  # ankle moves backward
    # internal rotation about the femur (vertical before hip motion): for the left leg
    # internal = toward +Z (medial) for the anterior axis: a negative turn about +Y.
    r_axial = rot_y(-medial * internal_rotation_deg)
    shank = r_axial @ shank
    # ISB hip joint coordinate system order: flexion, then adduction, then axial rotation
    r_hip = rot_z(flexion_hip_deg) @ rot_x(-medial * adduction_deg)
    if pelvis_obliquity_rot is not None:
        r_hip = pelvis_obliquity_rot @ r_hip
    knee = hip + r_hip @ thigh
    ankle = knee + r_hip @ shank
    heel = ankle + np.array([-0.05, -0.05, 0.0])
    toe = ankle + np.array([0.15, -0.06, 0.0])
    return {"hip": hip, "knee": knee, "ankle": ankle, "heel": heel, "foot_index": toe}


def standing_figure(
    *,
    obliquity_deg: float = 0.0,
    trunk_lean_deg: float = 0.0,
    left: dict[str, float] | None = None,
    right: dict[str, float] | None = None,
    pelvis_offset: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """All landmarks of a figure in the subject frame.

    ``obliquity_deg`` > 0 lowers the LEFT hip; ``trunk_lean_deg`` > 0 leans toward the
    subject's LEFT; ``left``/``right`` are keyword arguments of :func:`leg_points`.
    """
    centre = np.array([0.0, HIP_HEIGHT, 0.0]) + (pelvis_offset if pelvis_offset is not None else 0)
    r_pelvis = rot_x(-obliquity_deg)  # a negative turn about +X lowers the -Z (left) hip
    pts: dict[str, np.ndarray] = {}
    for side, kwargs in (("left", left or {}), ("right", right or {})):
        z = -HIP_HALF_WIDTH if side == "left" else HIP_HALF_WIDTH
        hip = centre + r_pelvis @ np.array([0.0, 0.0, z])
        for part, p in leg_points(side, hip, pelvis_obliquity_rot=r_pelvis, **kwargs).items():
            pts[f"{side}_{part}"] = p
    trunk = rot_x(-trunk_lean_deg) @ np.array([0.0, 0.5, 0.0])  # +: toward -Z (left)
    mid_shoulder = centre + trunk
    pts["left_shoulder"] = mid_shoulder + np.array([0.0, 0.0, -0.18])
    pts["right_shoulder"] = mid_shoulder + np.array([0.0, 0.0, 0.18])
    head = mid_shoulder + trunk / np.linalg.norm(trunk) * 0.25
    pts["nose"] = head + np.array([0.1, 0.0, 0.0])
    for name, dz in (
        ("left_eye", -0.03),
        ("right_eye", 0.03),
        ("left_ear", -0.07),
        ("right_ear", 0.07),
    ):
        pts[name] = head + np.array([0.07 if "eye" in name else 0.0, 0.03, dz])
    return pts


def to_camera(points: dict[str, np.ndarray], view: str) -> tuple[np.ndarray, np.ndarray]:
    """Image (n=33, 2) and MediaPipe world (33, 3) coordinates of one frame's points."""
    image = np.full((N_LANDMARKS, 2), np.nan)
    world = np.full((N_LANDMARKS, 3), np.nan)
    hips = 0.5 * (points["left_hip"] + points["right_hip"])
    for name, p in points.items():
        X, Y, Z = p
        if view == "anterior":
            w = np.array([-Z, -Y, -X])
        elif view == "posterior":
            w = np.array([Z, -Y, X])
        else:
            raise ValueError(view)
        image[INDEX[name]] = CENTRE + PX_PER_M * w[:2]
        hx, hy, hz = hips
        origin = np.array([-hz, -hy, -hx]) if view == "anterior" else np.array([hz, -hy, hx])
        world[INDEX[name]] = w - origin
    return image, world


def still_pose(xy: np.ndarray, n_frames: int, image_size_px: tuple[int, int]) -> PoseSequence:
    """``n_frames`` frames at 30 fps whose image landmarks are all ``xy`` ``(33, 2)``
    (pixels; NaN: missing), every landmark visible, the world landmarks at the origin."""
    return PoseSequence(
        time_s=np.arange(n_frames) / 30.0,
        image_xy_px=np.repeat(np.asarray(xy, dtype=float)[None], n_frames, axis=0),
        world_xyz_m=np.zeros((n_frames, N_LANDMARKS, 3)),
        visibility=np.ones((n_frames, N_LANDMARKS)),
        detected=np.ones(n_frames, dtype=bool),
        image_size_px=image_size_px,
    )


def make_sequence(
    figure_at: Callable[[float], dict[str, np.ndarray]],
    *,
    fps: float = 60.0,
    duration_s: float = 2.0,
    view: str = "anterior",
    time_s: np.ndarray | None = None,
) -> PoseSequence:
    """A PoseSequence of the figure ``figure_at(t)`` over time."""
    t = np.arange(0.0, duration_s, 1.0 / fps) if time_s is None else np.asarray(time_s, float)
    image = np.full((len(t), N_LANDMARKS, 2), np.nan)
    world = np.full((len(t), N_LANDMARKS, 3), np.nan)
    vis = np.zeros((len(t), N_LANDMARKS))
    for i, ti in enumerate(t):
        img, wld = to_camera(figure_at(float(ti)), view)
        image[i], world[i] = img, wld
        vis[i] = np.where(np.isfinite(img[:, 0]), 0.99, 0.0)
    return PoseSequence(
        time_s=t,
        image_xy_px=image,
        world_xyz_m=world,
        visibility=vis,
        detected=np.ones(len(t), dtype=bool),
        image_size_px=IMAGE_SIZE,
        source={"generator": "tests.synthetic"},
    )


# --- whole tasks with known event timing --------------------------------------------


def knee_by_ik(hip: np.ndarray, ankle: np.ndarray, bend: float = 1.0) -> np.ndarray:
    """Knee position of a two-segment leg from hip to ankle, bending forward (+X)."""
    d = ankle - hip
    dist = min(float(np.linalg.norm(d)), THIGH + SHANK - 1e-6)
    u = d / np.linalg.norm(d)
    a = (THIGH**2 - SHANK**2 + dist**2) / (2 * dist)
    h = np.sqrt(max(THIGH**2 - a**2, 0.0))
    forward = np.array([1.0, 0.0, 0.0])
    perp = forward - np.dot(forward, u) * u
    perp /= np.linalg.norm(perp)
    return hip + a * u + bend * h * perp


def _figure_from_feet(
    centre: np.ndarray, ankles: dict[str, np.ndarray], obliquity_deg: float = 0.0
) -> dict[str, np.ndarray]:
    pts: dict[str, np.ndarray] = {}
    r = rot_x(-obliquity_deg)
    for side in ("left", "right"):
        z = -HIP_HALF_WIDTH if side == "left" else HIP_HALF_WIDTH
        hip = centre + r @ np.array([0.0, 0.0, z])
        ankle = ankles[side]
        pts[f"{side}_hip"] = hip
        pts[f"{side}_knee"] = knee_by_ik(hip, ankle)
        pts[f"{side}_ankle"] = ankle
        pts[f"{side}_heel"] = ankle + np.array([-0.05, -0.05, 0.0])
        pts[f"{side}_foot_index"] = ankle + np.array([0.15, -0.05, 0.0])
    mid_sh = centre + np.array([0.0, 0.5, 0.0])
    pts["left_shoulder"] = mid_sh + np.array([0.0, 0.0, -0.18])
    pts["right_shoulder"] = mid_sh + np.array([0.0, 0.0, 0.18])
    head = mid_sh + np.array([0.0, 0.25, 0.0])
    pts["nose"] = head + np.array([0.1, 0.0, 0.0])
    pts["left_eye"] = head + np.array([0.07, 0.03, -0.03])
    pts["right_eye"] = head + np.array([0.07, 0.03, 0.03])
    return pts


def jog_in_place(
    step_hz: float = 2.8,
    stance_fraction: float = 0.35,
    drop_deg: dict[str, float] | None = None,
    swing_toward_camera_m: float = 0.0,
) -> tuple[Callable[[float], dict[str, np.ndarray]], Callable[[float], dict[str, bool]]]:
    """Jogging in place: each foot is on the ground for ``stance_fraction`` of its stride.

    Returns the figure as a function of time and the true stance of each foot. The
    pelvis drops on the side opposite the stance leg by ``drop_deg[stance side]`` at
    mid-stance. ``swing_toward_camera_m`` moves the swinging foot that far toward a
    camera at +X (a kick seen by a camera on that side).
    """
    drop = drop_deg or {"left": 0.0, "right": 0.0}
    stride_s = 2.0 / step_hz

    def phase(t: float, side: str) -> float:
        offset = 0.0 if side == "left" else 0.5
        return ((t / stride_s) + offset) % 1.0

    def in_stance(t: float) -> dict[str, bool]:
        return {s: phase(t, s) < stance_fraction for s in ("left", "right")}

    def figure(t: float) -> dict[str, np.ndarray]:
        centre = np.array([0.0, HIP_HEIGHT - 0.02, 0.0])
        ankles = {}
        obliquity = 0.0
        for side in ("left", "right"):
            ph = phase(t, side)
            z = -HIP_HALF_WIDTH if side == "left" else HIP_HALF_WIDTH
            lift = 0.0
            forward = 0.0
            if ph >= stance_fraction:
                s = (ph - stance_fraction) / (1 - stance_fraction)
                lift = 0.25 * np.sin(np.pi * s) ** 2
                forward = swing_toward_camera_m * np.sin(np.pi * s)
            else:
                s = ph / stance_fraction
                sign = 1.0 if side == "right" else -1.0  # right stance: left hip drops (+)
                obliquity += sign * drop[side] * np.sin(np.pi * s)
            ankles[side] = np.array([forward, 0.06 + lift, z])
        return _figure_from_feet(centre, ankles, obliquity)

    return figure, in_stance


def walk_toward_camera(
    speed_m_s: float = 1.2, step_hz: float = 1.8, stance_fraction: float = 0.62
) -> tuple[Callable[[float], dict[str, np.ndarray]], Callable[[float], dict[str, bool]]]:
    """Walking toward the camera (+X) with each stance foot planted (no sliding)."""
    stride_s = 2.0 / step_hz
    stride_m = speed_m_s * stride_s

    def phase(t: float, side: str) -> float:
        offset = 0.0 if side == "left" else 0.5
        return ((t / stride_s) + offset) % 1.0

    def in_stance(t: float) -> dict[str, bool]:
        return {s: phase(t, s) < stance_fraction for s in ("left", "right")}

    def figure(t: float) -> dict[str, np.ndarray]:
        x_pelvis = speed_m_s * t - 4.0
        centre = np.array([x_pelvis, HIP_HEIGHT - 0.03, 0.0])
        ankles = {}
        for side in ("left", "right"):
            offset = 0.0 if side == "left" else 0.5
            cycle = np.floor(t / stride_s + offset)
            ph = phase(t, side)
            z = -HIP_HALF_WIDTH - 0.01 if side == "left" else HIP_HALF_WIDTH + 0.01
            # contact at the start of each cycle: foot placed ahead of the pelvis
            t_contact = (cycle - offset) * stride_s
            x_contact = speed_m_s * t_contact - 4.0 + 0.3
            if ph < stance_fraction:
                x, lift = x_contact, 0.0
            else:
                s = (ph - stance_fraction) / (1 - stance_fraction)
                x = x_contact + stride_m * (0.5 - 0.5 * np.cos(np.pi * s))
                lift = 0.08 * np.sin(np.pi * s)
            ankles[side] = np.array([x, 0.06 + lift, z])
        return _figure_from_feet(centre, ankles)

    return figure, in_stance


#: Knee flexion at the deepest point of :func:`single_leg_squat`, degrees.
SQUAT_KNEE_DEG = 70.0


def single_leg_squat(
    side: str = "right",
    n_reps: int = 3,
    rep_s: float = 2.0,
    depth_m: float = 0.2,
    drop_deg: float = 0.0,
    pause_s: float = 0.6,
    lifted_ankle_height_m: float | None = None,
    stand_s: float = 0.0,
    lift_s: float = 0.5,
    foot_down_s: float | None = None,
) -> tuple[Callable[[float], dict[str, np.ndarray]], list[tuple[float, float, float]]]:
    """Single-leg squat on ``side`` with the other foot held up; returns truth reps.

    The truth is a list of (start, deepest, end) times. The leg's joint angles follow
    a ``sin²`` bump from 0 to ``SQUAT_KNEE_DEG`` over each repetition, and the pelvis
    descends as ``1 - cos`` of them (as a hinged leg does), reaching ``depth_m`` at the
    deepest point. The pelvis drops on the lifted side by ``drop_deg`` times the angle
    fraction. ``lifted_ankle_height_m`` pins the
    lifted ankle at that height (a foot that looks low in the image, as a foot bent
    behind the body does from behind). ``stand_s`` > 0: the clip opens standing on both
    feet for that long, then the foot is lifted over ``lift_s`` (the capture guide's
    opening); ``foot_down_s``: the foot is put down again from then on.
    """
    opening = stand_s + lift_s if stand_s > 0 else 0.0
    reps = []
    for k in range(n_reps):
        start = opening + pause_s + k * (rep_s + pause_s)
        reps.append((start, start + rep_s / 2, start + rep_s))
    lifted = "left" if side == "right" else "right"
    sign = 1.0 if side == "right" else -1.0

    def figure(t: float) -> dict[str, np.ndarray]:
        frac = 0.0
        for start, _, end in reps:
            if start <= t <= end:
                frac = 0.5 - 0.5 * np.cos(2 * np.pi * (t - start) / rep_s)
        knee = np.radians(SQUAT_KNEE_DEG)
        descent = (1.0 - np.cos(knee * frac)) / (1.0 - np.cos(knee))
        centre = np.array([-0.15 * frac, HIP_HEIGHT - 0.01 - depth_m * descent, 0.0])
        z_stance = HIP_HALF_WIDTH if side == "right" else -HIP_HALF_WIDTH
        ankles = {
            side: np.array([0.0, 0.06, z_stance]),
            lifted: centre + np.array([-0.35, -0.55, -z_stance]),
        }
        if lifted_ankle_height_m is not None:
            ankles[lifted] = np.array([-0.35, lifted_ankle_height_m, -z_stance])
        up = 1.0
        if stand_s > 0:
            up = float(np.clip((t - stand_s) / lift_s, 0.0, 1.0))
        if foot_down_s is not None:
            up = min(up, float(np.clip(1.0 - (t - foot_down_s) / lift_s, 0.0, 1.0)))
        down = np.array([0.0, 0.06, -z_stance])
        ankles[lifted] = down + up * (ankles[lifted] - down)
        return _figure_from_feet(centre, ankles, sign * drop_deg * frac)

    return figure, reps


def perspective_sequence(
    figure_at: Callable[[float], dict[str, np.ndarray]],
    *,
    fps: float = 30.0,
    duration_s: float = 4.0,
    camera_distance_m: float = 8.0,
    camera_height_m: float = 1.0,
) -> PoseSequence:
    """Like :func:`make_sequence` (anterior view) with a pinhole camera at +X."""
    seq = make_sequence(figure_at, fps=fps, duration_s=duration_s, view="anterior")
    image = np.full_like(seq.image_xy_px, np.nan)
    focal = PX_PER_M * camera_distance_m
    centre = np.array([IMAGE_SIZE[0] / 2, IMAGE_SIZE[1] / 2])
    for i, ti in enumerate(seq.time_s):
        for name, p in figure_at(float(ti)).items():
            depth = camera_distance_m - p[0]
            rel = np.array([-p[2], -(p[1] - camera_height_m)])
            image[i, INDEX[name]] = centre + focal * rel / depth
    return seq.with_arrays(image_xy_px=image)


def stance_rule_config() -> AnalysisConfig:
    """Settings for analysing the generated walks: no cache, no corrections, and walking
    stance timed by the stance rule (the learned stance model was not trained on stick
    figures)."""
    config = AnalysisConfig(cache_dir=None, corrections_path=None)
    return config.model_copy(
        update={"events": config.events.model_copy(update={"event_model_path": None})}
    )
