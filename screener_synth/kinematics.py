"""Smooth, plausible joint-angle curves for the three screening tasks, with planted faults.

Pure NumPy/SciPy. A :class:`Motion` holds, per frame, the anatomical angles that
:mod:`screener_synth.body` turns into a posed anny body, which foot anchors the body to the
floor, and the true stance phases or repetitions.

Angle conventions (degrees; hip and knee angles relative to the pelvis and femur frames of
the neutral pose, see :func:`screener_synth.geometry.hip_rotation`):

- ``pelvis_obliquity``: rotation about the antero-posterior axis, positive = LEFT hip lower
  (the spec's sign); ``pelvis_tilt``: anterior tilt; ``pelvis_yaw``: about the vertical;
- ``{side}_hip_flexion``, ``{side}_hip_adduction``, ``{side}_hip_ir``;
- ``{side}_knee_flexion`` (absolute, 0 = straight), ``{side}_knee_abduction`` (valgus of
  the knee joint itself, distal shank lateral);
- ``{side}_foot_plant`` 0-1 (1 = foot flat on the floor), ``{side}_ankle_plantar``
  (plantar flexion relative to the shank when the foot is not planted);
- ``trunk_lean`` (world lateral lean, positive toward the subject's LEFT),
  ``trunk_flexion`` (forward);
- ``{side}_shoulder_flexion``, ``{side}_shoulder_abduction``, ``{side}_elbow_flexion``.

Faults are planted on the stance leg and grow with the stance "load" (depth of a squat,
mid-stance of a step): contralateral pelvic drop, hip adduction, femoral internal rotation
and knee abduction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline

from screener_synth.geometry import FloatArray

SIDES = ("left", "right")

ANGLE_NAMES = (
    "pelvis_obliquity",
    "pelvis_tilt",
    "pelvis_yaw",
    "trunk_lean",
    "trunk_flexion",
    *(
        f"{s}_{j}"
        for s in SIDES
        for j in (
            "hip_flexion",
            "hip_adduction",
            "hip_ir",
            "knee_flexion",
            "knee_abduction",
            "foot_plant",
            "ankle_plantar",
            "shoulder_flexion",
            "shoulder_abduction",
            "elbow_flexion",
        )
    ),
)


@dataclass(frozen=True)
class SideFaults:
    """Peak planted values on one stance leg (degrees).

    Parameters
    ----------
    pelvic_drop
        Contralateral pelvic drop at the peak of stance load (positive = drop).
    hip_adduction
        Stance hip adduction relative to the pelvis, added at the peak.
    femoral_ir
        Femoral internal rotation relative to the pelvis, added at the peak.
    knee_abduction
        Knee-joint abduction (valgus of the joint itself) at the peak.
    trunk_lean
        Lateral trunk lean toward the stance leg at the peak.
    """

    pelvic_drop: float = 1.0
    hip_adduction: float = 2.0
    femoral_ir: float = 1.0
    knee_abduction: float = 0.0
    trunk_lean: float = 0.0


NORMAL = SideFaults()


@dataclass
class Event:
    """A true stance phase or repetition.

    ``t_peak_s`` is filled by the truth computation (maximum pelvic drop in stance) for
    stance phases; for repetitions it is the deepest point.
    """

    kind: str
    side: str
    t_start_s: float
    t_end_s: float
    t_peak_s: float | None = None


@dataclass
class Motion:
    """Per-frame angles, floor anchoring and true events of one clip.

    Attributes
    ----------
    time_s
        ``(n,)`` frame times.
    angles
        Name -> ``(n,)`` degrees (see :data:`ANGLE_NAMES`; ``*_foot_plant`` is 0-1).
    in_stance
        Side -> ``(n,)`` bool: the foot is loaded.
    anchor
        ``(n,)`` int: 0 = the left foot holds the body, 1 = the right, -1 = flight.
    in_place
        True when each foot lands where it started (jog in place, squat); False when the
        contact point follows the body (walk).
    events
        True stance phases (complete ones only) or repetitions.
    load
        Side -> ``(n,)`` 0-1 stance load that scales the planted faults.
    toe_pivot
        Side -> ``(n,)`` bool: stance frames in which the foot pivots on planted toes, its
        heel rising (a walk's terminal stance and double support, heel-off to toe-off).
        Empty: no pivot (jog, squat, standing).
    pivot_knee_deg
        Side -> ``(n,)`` knee flexion (degrees) added to ``angles`` after the body is put
        on the floor: the leg shortens, and to keep its toes planted the foot pitches, so
        the heel rises while the pelvis keeps its path.
    """

    task: str
    time_s: FloatArray
    angles: dict[str, FloatArray]
    in_stance: dict[str, np.ndarray]
    anchor: np.ndarray
    in_place: bool
    events: list[Event] = field(default_factory=list)
    load: dict[str, FloatArray] = field(default_factory=dict)
    toe_pivot: dict[str, np.ndarray] = field(default_factory=dict)
    pivot_knee_deg: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.time_s.size)


# --------------------------------------------------------------------------- helpers
def frame_times(duration_s: float, fps: float) -> FloatArray:
    """Times ``k / fps`` of the frames of a clip of ``duration_s`` seconds."""
    return np.arange(round(duration_s * fps)) / fps


def sin2_bump(t: FloatArray, t0: float, t1: float) -> FloatArray:
    """``sin²(π (t - t0) / (t1 - t0))`` inside ``[t0, t1]``, 0 outside (smooth, peak 1)."""
    u = (np.asarray(t) - t0) / (t1 - t0)
    return np.where((u >= 0) & (u <= 1), np.sin(np.pi * np.clip(u, 0, 1)) ** 2, 0.0)


def smooth_step(t: FloatArray, t0: float, t1: float) -> FloatArray:
    """0 before ``t0``, 1 after ``t1``, ``sin²`` in between (smooth)."""
    u = np.clip((np.asarray(t) - t0) / (t1 - t0), 0.0, 1.0)
    return np.asarray(np.sin(0.5 * np.pi * u) ** 2)


def periodic_curve(knots: list[tuple[float, float]]) -> CubicSpline:
    """Periodic cubic spline through ``(phase, value)`` knots on ``[0, 1)``."""
    x = np.array([k[0] for k in knots] + [1.0])
    y = np.array([k[1] for k in knots] + [knots[0][1]])
    return CubicSpline(x, y, bc_type="periodic")


def _zeros(n: int) -> dict[str, FloatArray]:
    angles = {name: np.zeros(n) for name in ANGLE_NAMES}
    for s in SIDES:
        angles[f"{s}_shoulder_abduction"] += 12.0
        angles[f"{s}_elbow_flexion"] += 10.0
        angles[f"{s}_hip_adduction"] += 1.5
        angles[f"{s}_knee_flexion"] += 4.0
    return angles


def _plant_faults(
    angles: dict[str, FloatArray], side: str, load: FloatArray, faults: SideFaults
) -> None:
    """Add one stance leg's planted faults, scaled by its 0-1 ``load``, in place."""
    sign = 1.0 if side == "left" else -1.0
    # contralateral drop: the other hip goes down; obliquity > 0 = left hip lower
    angles["pelvis_obliquity"] += -sign * faults.pelvic_drop * load
    angles[f"{side}_hip_adduction"] += faults.hip_adduction * load
    angles[f"{side}_hip_ir"] += faults.femoral_ir * load
    angles[f"{side}_knee_abduction"] += faults.knee_abduction * load
    angles["trunk_lean"] += sign * faults.trunk_lean * load


# --------------------------------------------------------------------------- tasks
def single_leg_squat(
    stance_side: str,
    faults: SideFaults,
    fps: float,
    n_reps: int = 3,
    rep_s: float = 1.6,
    pause_s: float = 0.25,
    lead_s: float = 0.4,
    depth_deg: float = 62.0,
    arms: str = "out",
    stand_s: float = 0.0,
    lift_s: float = 0.6,
) -> Motion:
    """Single-leg squat on ``stance_side``: ``n_reps`` reps, the other leg lifted behind.

    Parameters
    ----------
    stance_side
        ``"left"`` or ``"right"``: the supporting leg.
    faults
        Peak planted values at the deepest point (they grow with depth as ``sin²``).
    fps
        Frame rate.
    n_reps, rep_s, pause_s, lead_s
        Repetitions, duration of one (down and up), standing pause between reps, and
        standing time before the first and after the last.
    depth_deg
        Peak stance knee flexion added to the standing 4°.
    arms
        ``"out"`` (arms forward and out for balance) or ``"hips"`` (hands on the hips, as
        the single-leg squat norms were measured).
    stand_s, lift_s
        The capture guide's opening (``screener/models/capture.toml``): ``stand_s``
        seconds standing still on both feet, then the other foot lifted over ``lift_s``
        seconds, before the ``lead_s`` on one leg. ``stand_s = 0`` (the corpora rendered
        before session 21): the clip starts on one leg.

    Returns
    -------
    Motion
        With one ``rep`` event per repetition (start of descent, deepest point, standing).
    """
    swing = "right" if stance_side == "left" else "left"
    opening = stand_s + lift_s if stand_s > 0 else 0.0
    duration = opening + 2 * lead_s + n_reps * rep_s + (n_reps - 1) * pause_s
    t = frame_times(duration, fps)
    n = t.size
    angles = _zeros(n)
    depth = np.zeros(n)
    events = []
    for k in range(n_reps):
        t0 = opening + lead_s + k * (rep_s + pause_s)
        depth += sin2_bump(t, t0, t0 + rep_s)
        events.append(Event("rep", stance_side, t0, t0 + rep_s, t0 + rep_s / 2))
    # 0 while both feet are down, rising smoothly to 1 as the other foot is lifted
    lifted = np.ones(n) if stand_s <= 0 else smooth_step(t, stand_s, stand_s + lift_s)
    angles[f"{stance_side}_hip_flexion"] += 8.0 * lifted + 0.85 * depth_deg * depth
    angles[f"{stance_side}_knee_flexion"] += depth_deg * depth
    angles["pelvis_tilt"] += 12.0 * depth
    angles["trunk_flexion"] += 4.0 * lifted + 22.0 * depth
    angles[f"{stance_side}_foot_plant"][:] = 1.0
    angles[f"{swing}_foot_plant"] += 1.0 - lifted
    # lifted leg: thigh slightly forward, shank behind, foot pointed
    angles[f"{swing}_hip_flexion"] += 20.0 * lifted + 22.0 * depth
    angles[f"{swing}_knee_flexion"] += 75.0 * lifted + 25.0 * depth
    angles[f"{swing}_ankle_plantar"] += 25.0 * lifted
    for s in SIDES:
        if arms == "hips":  # hands on the hips: elbows out and bent
            angles[f"{s}_shoulder_abduction"] += 30.0
            angles[f"{s}_shoulder_flexion"] += -10.0
            angles[f"{s}_elbow_flexion"] += 95.0
        else:  # arms out for balance, away from the hips
            angles[f"{s}_shoulder_abduction"] += 18.0 + 6.0 * depth
            angles[f"{s}_shoulder_flexion"] += 10.0 + 25.0 * depth
            angles[f"{s}_elbow_flexion"] += 10.0
    _plant_faults(angles, stance_side, depth, faults)
    in_stance = {s: np.full(n, s == stance_side) for s in SIDES}
    in_stance[swing] = lifted == 0.0
    anchor = np.full(n, SIDES.index(stance_side))
    return Motion("sls", t, angles, in_stance, anchor, True, events, {stance_side: depth})


def standing(fps: float, duration_s: float = 3.0, sway_deg: float = 1.5) -> Motion:
    """Quiet standing on both feet with a slow weight shift: no stance phase, no repetition.

    A screener must never read this as a single-leg squat or a gait.

    Parameters
    ----------
    fps, duration_s
        Frame rate and clip length.
    sway_deg
        Peak pelvic obliquity of the side-to-side weight shift.
    """
    t = frame_times(duration_s, fps)
    n = t.size
    angles = _zeros(n)
    shift = np.sin(2 * np.pi * t / max(duration_s, 1.0))
    angles["pelvis_obliquity"] += sway_deg * shift
    for s in SIDES:
        angles[f"{s}_foot_plant"][:] = 1.0
        angles[f"{s}_knee_flexion"] += 2.0 + 2.0 * np.abs(shift)
        angles[f"{s}_hip_flexion"] += 2.0
    in_stance = {s: np.ones(n, dtype=bool) for s in SIDES}
    return Motion("stand", t, angles, in_stance, np.zeros(n, dtype=int), True, [], {})


_JOG_STANCE_FRACTION = 0.36
# Since session 5 the swing lifts the foot clear of the floor: the knee flexes fast after
# toe-off and stays flexed until 0.9 of the stride, the ankle is dorsiflexed in swing, the
# stance knee bends to 28 degrees (was 36). The toes then touch down 40-80 ms before the
# foot is flat (a forefoot landing) and leave the floor within about 30 ms of the labelled
# toe-off; before, they skimmed the floor for most of the swing, touching down about 200 ms
# before the label (docs/accuracy.md).
_JOG_HIP = periodic_curve(
    [(0.0, 10.0), (0.18, 8.0), (0.36, 4.0), (0.5, 28.0), (0.72, 45.0), (0.93, 30.0)]
)
_JOG_KNEE = periodic_curve(
    [(0.0, 14.0), (0.18, 28.0), (0.36, 22.0), (0.5, 75.0), (0.62, 100.0), (0.9, 65.0), (0.97, 20.0)]
)
_JOG_PLANTAR = periodic_curve([(0.0, 12.0), (0.36, 18.0), (0.46, 0.0), (0.62, 0.0), (0.92, 8.0)])
_WALK_STANCE_FRACTION = 0.62
_WALK_HIP = periodic_curve(
    [(0.0, 22.0), (0.15, 18.0), (0.5, -7.0), (0.62, -3.0), (0.75, 13.0), (0.87, 25.0)]
)
_WALK_KNEE = periodic_curve(
    [(0.0, 4.0), (0.14, 16.0), (0.38, 6.0), (0.5, 16.0), (0.6, 38.0), (0.73, 60.0), (0.87, 24.0)]
)
_WALK_PLANTAR = periodic_curve([(0.0, 0.0), (0.62, 20.0), (0.75, 5.0), (0.9, 0.0)])


def _gait(
    task: str,
    faults: dict[str, SideFaults],
    fps: float,
    duration_s: float,
    cadence_spm: float,
    stance_fraction: float,
    curves: tuple[CubicSpline, CubicSpline, CubicSpline],
    first_contact_s: float,
    heel_off_phase: float | None = None,
    heel_rise_knee_deg: float = 0.0,
) -> Motion:
    """Alternating gait shared by walk and jog: per-side phase, stance, anchoring, faults.

    With ``heel_off_phase`` (a fraction of the stride) the stance foot pivots on its toes
    from then to toe-off, ``heel_rise_knee_deg`` of extra knee flexion (a sin² bump over
    that window) making the heel rise (:attr:`Motion.pivot_knee_deg`).
    """
    stride_s = 120.0 / cadence_spm
    t = frame_times(duration_s, fps)
    n = t.size
    angles = _zeros(n)
    hip, knee, plantar = curves
    in_stance: dict[str, np.ndarray] = {}
    load: dict[str, FloatArray] = {}
    toe_pivot: dict[str, np.ndarray] = {}
    pivot_knee: dict[str, FloatArray] = {}
    last_contact = {}
    events: list[Event] = []
    for i, side in enumerate(SIDES):
        t_contact0 = first_contact_s + i * stride_s / 2
        phase = ((t - t_contact0) / stride_s) % 1.0
        angles[f"{side}_hip_flexion"] += hip(phase)
        angles[f"{side}_knee_flexion"] += knee(phase) - 4.0
        stance = phase < stance_fraction
        in_stance[side] = stance
        # flat on the floor through stance; the foot turns to its swing attitude after
        # toe-off and back to flat just before contact
        after_off = np.clip((phase - stance_fraction) / 0.1, 0.0, 1.0)
        before_on = np.clip((1.0 - phase) / 0.06, 0.0, 1.0)
        plant = 1.0 - np.sin(0.5 * np.pi * np.minimum(after_off, before_on)) ** 2
        angles[f"{side}_foot_plant"] = np.where(stance, 1.0, plant)
        angles[f"{side}_ankle_plantar"] += plantar(phase)
        if heel_off_phase is not None:
            toe_pivot[side] = (phase >= heel_off_phase) & stance
            u = (phase - heel_off_phase) / (stance_fraction - heel_off_phase)
            pivot_knee[side] = np.where(
                toe_pivot[side], heel_rise_knee_deg * np.sin(np.pi * np.clip(u, 0, 1)) ** 2, 0.0
            )
        last_contact[side] = t - phase * stride_s
        side_load = np.zeros(n)
        k0 = int(np.floor((t[0] - t_contact0) / stride_s)) - 1
        k1 = int(np.ceil((t[-1] - t_contact0) / stride_s)) + 1
        for k in range(k0, k1 + 1):
            c = t_contact0 + k * stride_s
            off = c + stance_fraction * stride_s
            side_load += sin2_bump(t, c, off)
            if c >= t[0] and off <= t[-1]:
                events.append(Event("stance", side, float(c), float(off)))
        load[side] = side_load
        _plant_faults(angles, side, side_load, faults[side])
        # arm swing opposite to the leg of the same side
        other_phase = (phase + 0.5) % 1.0
        swing = np.cos(2 * np.pi * (other_phase - 0.8))
        amp = 16.0 if task == "walk" else 22.0
        angles[f"{side}_shoulder_flexion"] += amp * swing + (5.0 if task == "walk" else 10.0)
        angles[f"{side}_elbow_flexion"] += (12.0 if task == "walk" else 75.0) + 6.0 * swing
    # the most recent contact holds the body (stance only; flight for the jog)
    latest = np.where(last_contact["left"] >= last_contact["right"], 0, 1)
    any_stance = in_stance["left"] | in_stance["right"]
    anchor = np.where(any_stance, latest, -1)
    if task == "walk":
        anchor = latest
        angles["trunk_flexion"] += 3.0
    else:
        angles["trunk_flexion"] += 7.0
        angles["pelvis_tilt"] += 6.0
    events.sort(key=lambda e: e.t_start_s)
    return Motion(
        task, t, angles, in_stance, anchor, task == "jog", events, load, toe_pivot, pivot_knee
    )


def jog_in_place(
    faults: dict[str, SideFaults], fps: float, duration_s: float = 5.0, cadence_spm: float = 170.0
) -> Motion:
    """Jog in place: alternating stance (36 % of the stride) with flight phases.

    Parameters
    ----------
    faults
        Side -> planted peak values at mid-stance (asymmetry allowed).
    fps, duration_s
        Frame rate and clip length.
    cadence_spm
        Steps per minute (both feet counted).
    """
    return _gait(
        "jog",
        faults,
        fps,
        duration_s,
        cadence_spm,
        _JOG_STANCE_FRACTION,
        (_JOG_HIP, _JOG_KNEE, _JOG_PLANTAR),
        first_contact_s=0.12,
    )


def walk(
    faults: dict[str, SideFaults],
    fps: float,
    duration_s: float = 4.5,
    cadence_spm: float = 104.0,
    heel_off_phase: float = 0.32,
    heel_rise_knee_deg: float = 15.0,
    turn_at_s: float | None = None,
) -> Motion:
    """Walk toward -Y (toward an anterior camera): stance 62 % of the stride.

    The stance foot is held fixed on the floor by the body model's root solve, so the
    forward progression comes from the hip and knee curves (no skating).

    Parameters
    ----------
    heel_off_phase
        Fraction of the stride (from the foot's contact) at which its heel starts to rise;
        from then to toe-off (0.62) the foot pivots on planted toes.
    heel_rise_knee_deg
        Peak knee flexion added over that window, which sets how fast the heel rises.
    turn_at_s
        If given, the walker turns round (the pelvis' yaw goes smoothly from 0 to 180°
        over :data:`TURN_S`, still stepping) from this time on, and walks back toward +Y:
        a walk away from the camera and back. None: no turn.

    Notes
    -----
    Gait texts put heel-off at 30-40 % of the stride; a real walker filmed from the side
    (``bench/real_walk_events.py``) lifts the heel 100-467 ms (median 283 ms) before the
    toes leave. Before generator 0.3.0 the heel rose only in double support (from 50 %),
    120-150 ms before toe-off. The knee flexes more (peak at about 50 %) instead of the
    pelvis rising, so that the other foot lands where it did.
    """
    motion = _gait(
        "walk",
        faults,
        fps,
        duration_s,
        cadence_spm,
        _WALK_STANCE_FRACTION,
        (_WALK_HIP, _WALK_KNEE, _WALK_PLANTAR),
        first_contact_s=0.08,
        heel_off_phase=heel_off_phase,
        heel_rise_knee_deg=heel_rise_knee_deg,
    )
    if turn_at_s is not None:
        motion.angles["pelvis_yaw"] += 180.0 * smooth_step(
            motion.time_s, turn_at_s, turn_at_s + TURN_S
        )
    return motion


#: How long the walker of :func:`walk` takes to turn round, seconds.
TURN_S = 1.0
