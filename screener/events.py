"""Events: stance phases of walking and jogging, repetitions of the single-leg squat,
and which of the three tasks a clip shows.

Signals are normalised by the leg's length in the image, so thresholds hold at any
distance from the camera and any resolution.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

from screener.cleaning import true_runs
from screener.config import EventConfig
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import SIDES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Span:
    """One event: a stance phase or a repetition, as frame indices (stop exclusive).

    ``t_start_s`` and ``t_end_s``, when given, time the event between frames (the learned
    stance model, :mod:`screener.event_model`); otherwise the event starts at frame
    ``start`` and ends at frame ``stop - 1``.
    """

    kind: str
    side: str
    start: int
    stop: int
    peak: int | None = None
    t_start_s: float | None = None
    t_end_s: float | None = None


class RepEdges(NamedTuple):
    """A squat repetition's frames (:func:`locate_rep`); ``cut``: by the clip's edge."""

    start: int
    deepest: int
    end: int
    cut: bool


@dataclass(frozen=True)
class TaskEstimate:
    """Which task a clip shows, with the evidence."""

    task: str
    confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


def leg_length_px(pose: PoseSequence) -> FloatArray:
    """Per-frame leg length in the image (hip-knee + knee-ankle), median of both legs.

    Smoothed over about one second and filled across gaps, so it can normalise speeds
    and heights in every frame.
    """
    stacked = _leg_lengths_px(pose)
    length = np.full(pose.n_frames, np.nan)
    some = np.isfinite(stacked).any(axis=0)
    length[some] = np.nanmedian(stacked[:, some], axis=0)
    valid = np.isfinite(length)
    if not valid.any():
        return np.full(pose.n_frames, np.nan)
    idx = np.arange(pose.n_frames)
    filled = np.interp(idx, idx[valid], length[valid])
    window = max(3, round(pose.fps) | 1) if np.isfinite(pose.fps) else 3
    return np.asarray(median_filter(filled, size=window, mode="nearest"))


def _leg_lengths_px(pose: PoseSequence) -> FloatArray:
    """``(2, n_frames)``: each leg's hip-knee + knee-ankle image length (left, right)."""
    lengths = []
    for side in SIDES:
        hip, knee, ankle = (pose.xy(f"{side}_{p}") for p in ("hip", "knee", "ankle"))
        lengths.append(np.linalg.norm(hip - knee, axis=1) + np.linalg.norm(knee - ankle, axis=1))
    return np.vstack(lengths)


def foot_point_px(pose: PoseSequence, side: str) -> FloatArray:
    """Image position of a foot: the mean of its ankle, heel and toe landmarks."""
    pts = np.stack([pose.xy(f"{side}_{p}") for p in ("ankle", "heel", "foot_index")])
    count = np.isfinite(pts).sum(axis=0)
    total = np.nansum(pts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def feet_height_difference_leg(pose: PoseSequence, scale: FloatArray | None = None) -> FloatArray:
    """Per frame, how far the left foot is below the right one in the image, in leg lengths.

    Positive when the left foot is lower (image rows grow downward); NaN where a foot is
    not seen. ``scale`` is :func:`leg_length_px` of ``pose`` (computed if None).
    """
    scale = leg_length_px(pose) if scale is None else scale
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(
            (foot_point_px(pose, "left")[:, 1] - foot_point_px(pose, "right")[:, 1]) / scale
        )


def _foot_ranges_leg(pose: PoseSequence, typical_px: float) -> dict[str, float]:
    """Each foot's vertical image range (5th to 95th percentile) over ``typical_px``."""
    with np.errstate(all="ignore"):
        return {
            side: float(np.nanpercentile(y, 95) - np.nanpercentile(y, 5)) / typical_px
            for side, y in ((s, foot_point_px(pose, s)[:, 1]) for s in SIDES)
        }


def foot_speed_leg_per_s(
    pose: PoseSequence, side: str, scale: FloatArray | None = None
) -> FloatArray:
    """Image speed of the slower of a foot's heel and toe, in leg lengths per second.

    Each of the two falls back to the foot's mean point (:func:`foot_point_px`) where it
    is not seen; ``scale`` is :func:`leg_length_px` of ``pose`` (computed if None). The
    speed :func:`detect_stance` holds stance on.
    """
    t = pose.time_s
    scale = leg_length_px(pose) if scale is None else scale
    foot = foot_point_px(pose, side)
    speeds = []
    for part in ("heel", "foot_index"):
        xy = pose.xy(f"{side}_{part}")
        xy = np.where(np.isfinite(xy), xy, foot)
        with np.errstate(all="ignore"):
            speeds.append(np.linalg.norm(np.gradient(xy, t, axis=0), axis=1) / scale)
    return np.asarray(np.fmin(*speeds))


def detect_stance(pose: PoseSequence, task: str, config: EventConfig) -> dict[str, BoolArray]:
    """Per-frame stance of each foot for walking or jogging.

    Parameters
    ----------
    pose
        Cleaned landmarks.
    task
        ``"walk"`` or ``"jog"``.
    config
        Event settings (minimum and maximum stance duration).

    Returns
    -------
    dict
        ``{"left": mask, "right": mask}``, True where the foot is loaded.

    Notes
    -----
    A loaded foot does not move in the image (the camera is still), whatever the
    subject's distance. From heel strike to heel-off the heel is still, and the toe
    until toe-off; stance is where the slower of heel and toe moves at less than
    ``stance_heel_speed_max_leg_per_s`` leg lengths per second (the foot's mean position
    stands in where either is not seen). Jogging in
    place adds a second condition: the foot is within ``stance_height_max_leg`` of its
    ground level (its height during its longest rest within the surrounding second),
    which excludes the instant of zero speed at the top of the swing. The ground
    level is not the foot's lowest point in the image: a foot kicked back toward a camera
    behind and above the subject looks lower than the planted one. Breaks of up to two
    frames or ``stance_gap_max_s`` are closed, then runs shorter than the task's ``min_stance_s``
    are dropped.
    """
    t = pose.time_s
    scale = leg_length_px(pose)
    speed_max = config.stance_heel_speed_max_leg_per_s[task]
    out: dict[str, BoolArray] = {}
    for side in SIDES:
        speed = foot_speed_leg_per_s(pose, side, scale)
        with np.errstate(all="ignore"):
            stance = speed < speed_max
            if task == "jog":
                foot = foot_point_px(pose, side)
                ground = _ground_level_px(foot[:, 1], stance, t)
                height = np.abs(foot[:, 1] - ground)
                stance &= height / scale < config.stance_height_max_leg
        stance &= np.isfinite(speed)
        min_stance_s = config.min_stance_s[task]
        out[side] = tidy_mask(stance, t, min_stance_s, config.stance_gap_max_s)
    return out


def _long_enough(
    swing: slice,
    time_s: FloatArray,
    config: EventConfig,
    probability: FloatArray | None,
) -> bool:
    """A swing at the clip's edge long enough to show a real heel-off or heel strike: at
    least ``edge_swing_min_frames`` frames over ``edge_swing_min_s``, or (with the learned
    model's contact ``probability``) ``edge_swing_confident_frames`` frames in which the
    probability falls to ``edge_swing_confident_max_probability``."""
    times = time_s[swing]
    if (
        times.size >= config.edge_swing_min_frames
        and times[-1] - times[0] >= config.edge_swing_min_s
    ):
        return True
    return (
        probability is not None
        and times.size >= config.edge_swing_confident_frames
        and float(np.min(probability[swing])) <= config.edge_swing_confident_max_probability
    )


def stance_spans(
    stance: dict[str, BoolArray],
    time_s: FloatArray,
    config: EventConfig,
    probability: dict[str, FloatArray] | None = None,
) -> list[Span]:
    """Stance phases as spans, dropping those cut by the clip's start or end or too long.

    Parameters
    ----------
    stance
        Per side, the frames in stance.
    time_s
        Frame times.
    config
        Event settings (the edge swing's minimum, the longest stance).
    probability
        Per side, the learned stance model's per-frame contact probability, if the model
        timed the stance: a short swing at the clip's edge that the model is sure of then
        closes a phase.

    Notes
    -----
    A stance phase is complete when the swing before and after it is seen. A swing that
    runs into the clip's first or last frame must last at least ``edge_swing_min_s``
    and ``edge_swing_min_frames`` frames: a shorter one is more often the filter's
    edge or a landmark's last jump than a real heel-off, and the phase would be reported
    shorter than it is. With the model's probability, ``edge_swing_confident_frames``
    frames in which the probability falls to ``edge_swing_confident_max_probability``
    also count: on the validation clips (session 17) this kept 90 of 95 real edge phases
    whose swing was shorter, and 1 of 8 false ones; the probability of a one-frame swing
    at the edge, or of one the filter's edge makes, rarely falls that low.
    """
    spans = []
    n = len(time_s)
    for side, mask in stance.items():
        prob = None if probability is None else probability[side]
        for start, stop in true_runs(mask):
            if start == 0 or stop == n:
                continue
            swing_to_end = not mask[stop:].any()
            swing_from_start = not mask[:start].any()
            if swing_to_end and not _long_enough(slice(stop, n), time_s, config, prob):
                continue
            if swing_from_start and not _long_enough(slice(0, start), time_s, config, prob):
                continue
            duration = time_s[stop - 1] - time_s[start]
            if duration > config.max_stance_s:
                continue
            spans.append(Span("stance", side, start, stop))
    return sorted(spans, key=lambda s: s.start)


def detect_sls_side(pose: PoseSequence) -> tuple[str | None, float]:
    """The stance leg of a single-leg squat: the foot that stays lower in the image.

    Returns
    -------
    side
        ``"left"`` or ``"right"``; None when no frame shows both feet (never a guess).
    lift_leg
        Median height of the lifted foot above the stance foot, in leg lengths (a
        measure of how clearly one foot is off the ground); 0 when ``side`` is None.
    """
    diff = feet_height_difference_leg(pose)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return None, 0.0
    median = float(np.median(diff))
    return ("left" if median > 0 else "right"), abs(median)


def steadier_foot(pose: PoseSequence) -> tuple[str | None, float]:
    """The foot that moves least up and down in the image, and by how much less.

    Returns
    -------
    side
        ``"left"`` or ``"right"``; None when a foot is never seen.
    ratio
        The steadier foot's vertical range (5th to 95th percentile) over the other's
        (0-1; NaN with ``side`` None). A squat's planted foot stays put while the lifted
        one goes down and up with the body, whichever looks higher in the image.
    """
    scale = float(np.nanmedian(leg_length_px(pose)))
    seen = [int(np.isfinite(foot_point_px(pose, s)[:, 1]).sum()) for s in SIDES]
    if min(seen) < 3 or not np.isfinite(scale):
        return None, float("nan")
    ranges = _foot_ranges_leg(pose, scale)
    steady = min(SIDES, key=lambda s: ranges[s])
    other = ranges["right" if steady == "left" else "left"]
    return steady, ranges[steady] / other if other > 0 else 1.0


def foot_nearer_m(pose: PoseSequence, side: str) -> float:
    """How much nearer the lens the pose model's 3D places one foot than the other.

    Parameters
    ----------
    pose
        Landmarks of a single-leg squat (the frames after a stand on both feet).
    side
        ``"left"`` or ``"right"``: the foot asked about.

    Returns
    -------
    float
        The other ankle's world depth minus this one's, median over the frames where both
        are seen (metres of MediaPipe's world landmarks; positive: this foot nearer the
        lens); NaN when both are seen in fewer than 3 frames.

    Notes
    -----
    MediaPipe's world landmarks put the depth axis along the camera's line of sight
    (smaller is nearer). Filmed from behind by a lens looking down, a lifted foot held back
    is nearer the lens and looks lower in the image than the planted one; on the stored
    renders the pose model's depth then puts the lower-looking foot well nearer the lens
    (docs/capture.md, "A lifted foot nearer the lens").
    """
    other = "right" if side == "left" else "left"
    difference = pose.xyz(f"{other}_ankle")[:, 2] - pose.xyz(f"{side}_ankle")[:, 2]
    seen = np.isfinite(difference)
    if seen.sum() < 3:
        return float("nan")
    return float(np.median(difference[seen]))


#: Below this standard deviation (pixels) an image row is taken as not moving.
_STILL_PX = 1e-6


def foot_following_hips(pose: PoseSequence) -> tuple[str | None, float]:
    """The foot whose image height does not follow the hips', and how clearly.

    Returns
    -------
    side
        ``"left"`` or ``"right"``: the foot whose image row correlates less with the
        mid-hip's over the frames (the planted foot of a single-leg squat; a foot that
        does not move counts as r 0); None when a foot or the hips are seen in fewer
        than 10 frames, or the hips do not move.
    r_difference
        The other foot's Pearson r minus this one's (0-2; NaN with ``side`` None).

    Notes
    -----
    A lifted foot goes down and up with the body, so its row rises and falls with the
    hips' (r near 1), while the planted foot's stays put or moves with the image's noise.
    Unlike a foot's height in the image (:func:`detect_sls_side`) this does not depend on
    where the lifted foot is held: filmed from behind, a foot bent behind the body is
    nearer the lens and can look level with the planted one, or lower, yet it still moves
    with the body. Unlike the range of a foot's movement (:func:`steadier_foot`) it does
    not count the planted foot's jitter as movement.
    """
    hips = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    seen = np.isfinite(hips)
    if seen.sum() < 10 or np.std(hips[seen]) < _STILL_PX:
        return None, float("nan")
    r = {}
    for side in SIDES:
        foot = foot_point_px(pose, side)[:, 1]
        ok = np.isfinite(foot) & np.isfinite(hips)
        if ok.sum() < 10:
            return None, float("nan")
        # a foot that does not move at all follows nothing
        still = np.std(foot[ok]) < _STILL_PX
        r[side] = 0.0 if still else float(np.corrcoef(foot[ok], hips[ok])[0, 1])
    planted = min(SIDES, key=lambda s: r[s])
    other = "right" if planted == "left" else "left"
    return planted, r[other] - r[planted]


def _level_crossing(signal: FloatArray, level: float, lo: int, hi: int, rising: bool) -> float:
    """Fractional frame index where ``signal`` crosses ``level`` within ``[lo, hi]``.

    ``rising``: the last upward crossing before ``hi`` (the descent into a repetition);
    otherwise the first downward crossing after ``lo`` (the return). NaN when none.
    """
    if rising:
        for i in range(hi, lo, -1):
            if signal[i - 1] <= level < signal[i]:
                return i - 1 + (level - signal[i - 1]) / (signal[i] - signal[i - 1])
    else:
        for i in range(lo, hi):
            if signal[i] > level >= signal[i + 1]:
                return i + (signal[i] - level) / (signal[i] - signal[i + 1])
    return float("nan")


def _half_depth_times(
    depth: FloatArray, peak: int, lo: int, hi: int, transform: str
) -> tuple[float, float]:
    """Fractional frames where a repetition's descent and return pass half its depth,
    each side measured from its own standing level (``transform``: ``"linear"`` depth, or
    ``"angle"``: the angle a hinged leg of unit length turns through to lower its top by
    that depth, ``arccos(1 - depth)``)."""
    out = []
    for a, b, rising in ((lo, peak, True), (peak, hi, False)):
        base = float(np.min(depth[a : b + 1]))
        excess = np.clip(depth - base, 0.0, None)
        signal = np.arccos(np.clip(1.0 - excess, -1.0, 1.0)) if transform == "angle" else excess
        out.append(_level_crossing(signal, 0.5 * float(signal[peak]), a, b, rising))
    return out[0], out[1]


def detect_sls_reps(pose: PoseSequence, side: str, config: EventConfig) -> list[Span]:
    """Repetitions of a single-leg squat on ``side``.

    Parameters
    ----------
    pose
        Cleaned landmarks.
    side
        The stance leg.
    config
        Event settings (minimum depth).

    Returns
    -------
    list of Span
        One span per repetition: start of the descent, deepest point (``peak``), return.

    Notes
    -----
    Depth is the pelvis' descent in the image (mid-hip y below its standing level) in
    leg lengths. Peaks at least ``min_rep_depth_leg`` deep and ``min_rep_interval_s``
    apart are repetitions.

    The deepest point is the midpoint of the two times the pelvis passes half the
    repetition's depth, going down and coming up: the bottom of a squat is flat, so the
    frame of largest depth wanders with landmark noise, while the half-depth crossings
    are on the steep parts. On the rendered training clips (114 repetitions) the
    midpoint was within 50 ms of the true deepest point for all of them (the frame of
    largest depth: 91 %).

    The start and end of a repetition are where the knee starts to bend and comes back
    straight. The pelvis, the only thing a frontal camera sees move, descends as
    ``1 - cos`` of the leg's joint angles, so it barely moves for the first 100-200 ms:
    any threshold on its descent is late (3 % of the depth: 187 ms late on average on
    the training clips, SD 128 ms). Instead the depth is turned into the angle a hinged
    leg of unit length turns through to lower its top that far, ``arccos(1 - depth)``,
    which grows about linearly with the joint angles; a bell-shaped angular velocity (as
    in any smooth point-to-point movement) passes half its excursion halfway through the
    movement. So the repetition is taken to span the two half-excursion crossings of
    that angle, extended on each side by half the interval between them: a shape
    assumption, not a fit to the data. On the rendered training clips (114
    repetitions): start 31 ms early (SD 40 ms), end 76 ms late (SD 52 ms); on the
    validation clips start and end were both within 50 ms for 17 % of repetitions (the
    threshold rule: 0 %). Applied to the renders' exact joint centres the rule is 55 ms
    early and 55 ms late (SD 23 ms): half the error is the assumed shape, half
    MediaPipe's landmarks. A repetition cut by the clip's edge (``CUT_DEPTH_FRACTION``)
    keeps the threshold rule's edges (``rep_edge_fraction`` of the depth) and the frame
    of largest depth.
    """
    depth = pelvis_depth_leg(pose)
    if depth is None:
        return []
    distance = max(1, round(config.min_rep_interval_s * pose.fps))
    peaks, _ = find_peaks(depth, prominence=config.min_rep_depth_leg, distance=distance)
    spans = []
    for k, peak in enumerate(peaks):
        lo = int(peaks[k - 1]) if k > 0 else 0
        hi = int(peaks[k + 1]) if k + 1 < len(peaks) else pose.n_frames - 1
        rep = locate_rep(
            depth, int(peak), lo, hi, config.rep_edge_fraction, k == 0, k + 1 == len(peaks)
        )
        if rep.cut:
            log.info("repetition at %.2f s is cut by the clip's edge; kept", pose.time_s[peak])
        spans.append(Span("rep", side, rep.start, rep.end + 1, rep.deepest))
    return spans


def pelvis_depth_leg(pose: PoseSequence) -> FloatArray | None:
    """A single-leg squat's depth per frame: the pelvis' descent in the image below its
    standing level, in leg lengths (:func:`detect_sls_reps`).

    Mid-hip image height, gaps filled linearly, less its 5th percentile over the clip,
    over the leg's image length (:func:`leg_length_px`). None with the hips in fewer than
    3 frames.
    """
    mid_hip_y = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1])
    valid = np.isfinite(mid_hip_y)
    if valid.sum() < 3:
        return None
    idx = np.arange(pose.n_frames)
    y = np.interp(idx, idx[valid], mid_hip_y[valid])
    standing = float(np.percentile(y[valid], 5))
    return np.asarray((y - standing) / leg_length_px(pose))


def locate_rep(
    depth: FloatArray,
    peak: int,
    lo: int,
    hi: int,
    edge_fraction: float,
    first: bool = False,
    last: bool = False,
) -> RepEdges:
    """Start, deepest point and end (frame indices) of one squat repetition.

    Parameters
    ----------
    depth
        ``(n,)`` pelvis descent below standing, leg lengths (no NaN).
    peak
        Frame of largest depth of the repetition.
    lo, hi
        The search window: the neighbouring repetitions' peaks or the clip's ends.
    edge_fraction
        The threshold rule's fraction of the depth (used where the repetition is cut by
        the clip's edge).
    first, last
        Whether this is the clip's first (last) repetition, which the clip's edge can cut.

    Returns
    -------
    RepEdges
        ``end`` is inclusive.

    Notes
    -----
    The rules and their measured timing are in :func:`detect_sls_reps`' Notes.
    """
    cut = (first and depth[lo : peak + 1].min() > CUT_DEPTH_FRACTION * depth[peak]) or (
        last and depth[peak : hi + 1].min() > CUT_DEPTH_FRACTION * depth[peak]
    )
    deepest = peak
    if not cut:
        down, up = _half_depth_times(depth, peak, lo, hi, "linear")
        if np.isfinite(down) and np.isfinite(up):
            deepest = int(np.clip(round(0.5 * (down + up)), down, up))
        down, up = _half_depth_times(depth, peak, lo, hi, "angle")
        if np.isfinite(down) and np.isfinite(up):
            half = 0.5 * (up - down)
            start = int(np.clip(round(down - half), lo, deepest))
            end = int(np.clip(round(up + half), deepest, hi))
            return RepEdges(start, deepest, end, cut=False)
    start, end = _threshold_edges(depth, peak, lo, hi, edge_fraction)
    return RepEdges(start, deepest, end, cut=bool(cut))


def _threshold_edges(
    depth: FloatArray, peak: int, lo: int, hi: int, fraction: float
) -> tuple[int, int]:
    """Last frame before ``peak`` and first after it within ``fraction`` of the depth of
    the lowest level on that side."""
    base_before = float(np.min(depth[lo : peak + 1]))
    base_after = float(np.min(depth[peak : hi + 1]))
    level_before = base_before + fraction * (depth[peak] - base_before)
    level_after = base_after + fraction * (depth[peak] - base_after)
    before = np.flatnonzero(depth[lo:peak] <= level_before)
    after = np.flatnonzero(depth[peak : hi + 1] <= level_after)
    return lo + int(before[-1]), peak + int(after[0])


#: A first (last) repetition whose pelvis never rises above this fraction of its depth
#: before (after) it is cut by the clip's edge: its edges and deepest point are read
#: from the frames (threshold rule, frame of largest depth), not extrapolated.
CUT_DEPTH_FRACTION = 0.25


#: A clip too slow for jogging in place, with a foot lifted, whose pelvis rises and falls
#: by at least this fraction of ``squat_pelvis_range_min_leg`` is a (shallow) single-leg
#: squat, with :data:`SHALLOW_SQUAT_CONFIDENCE`. On the rendered corpora (every opened
#: set, 299 clips) six squats of 0.08-0.15 leg length of pelvis range, at 0.4-0.5 Hz,
#: were read as jogs before this rule; with it five are squats and one (its lifted foot
#: looking low from behind) is not guessed; every jog bounced at 1.3 Hz or faster and
#: no walk, jog or standing clip changed.
SHALLOW_SQUAT_RANGE_FRACTION = 0.5
SHALLOW_SQUAT_CONFIDENCE = 0.3


@dataclass(frozen=True)
class StillnessEvidence:
    """What :func:`detect_task` reads first: how much the feet and the pelvis move and
    whether one foot is held up (heights in leg lengths, 5th to 95th percentile)."""

    scale_px: FloatArray  #: per-frame leg length in the image (:func:`leg_length_px`)
    foot_range_leg: float  #: the larger of the two feet's vertical ranges
    pelvis_range_leg: float  #: the hips' midpoint's vertical range
    lift_leg: float  #: median height of the lifted foot above the other
    same_foot_up: float  #: share of frames with the same foot up
    held_up: bool  #: one foot held up throughout (a single-leg task)
    rhythm_hz: float  #: dominant frequency of the pelvis' height
    still: bool  #: feet and pelvis within the standing limits


def active_span(pose: PoseSequence, config: EventConfig | None = None) -> tuple[int, int]:
    """The frames ``[start, stop)`` between a stand on both feet at the clip's start and
    one at its end.

    Parameters
    ----------
    pose
        Cleaned landmarks.
    config
        Event settings (``opening_min_s``, ``opening_foot_speed_max_leg_per_s``,
        ``sls_foot_up_leg``); the defaults if None.

    Returns
    -------
    tuple of int
        ``(0, n_frames)`` when neither end stands on both feet for ``opening_min_s``, or
        when what is left between them is shorter than that (a clip of standing).

    Notes
    -----
    A frame stands on both feet when the feet are at one image height (within
    ``sls_foot_up_leg``) and neither moves faster than
    ``opening_foot_speed_max_leg_per_s``; a stand runs from the clip's first (to its
    last) frame. The capture guide asks for 2 s on both feet before a single-leg squat,
    and a patient may put the foot down after the last one. A walk or a jog moves a foot
    from its first frames; a squat filmed from behind whose lifted foot looks low can
    look like a stand between repetitions (:func:`detect_task` uses the span only when
    what it leaves holds one foot up).
    """
    config = config or EventConfig()
    n = pose.n_frames
    if n < 2 or not np.isfinite(pose.fps):
        return 0, n
    scale = leg_length_px(pose)
    apart = np.abs(feet_height_difference_leg(pose, scale))
    with np.errstate(all="ignore"):
        slow = [
            foot_speed_leg_per_s(pose, s, scale) < config.opening_foot_speed_max_leg_per_s
            for s in SIDES
        ]
        standing = (apart < config.sls_foot_up_leg) & slow[0] & slow[1]
    moving = np.flatnonzero(~standing)
    if moving.size == 0:
        return 0, n
    least = round(config.opening_min_s * pose.fps)
    first, last = int(moving[0]), int(moving[-1])
    start = first if first >= least else 0
    stop = last + 1 if n - 1 - last >= least else n
    if stop - start < least:
        return 0, n
    return start, stop


def single_leg_span(pose: PoseSequence, config: EventConfig | None = None) -> tuple[int, int]:
    """:func:`active_span` when what it leaves holds one foot up (a stand before or after
    a one-leg task), else the whole clip: the frames :func:`detect_task` reads and the
    stance leg of a single-leg squat is told from (``sls_events``)."""
    start, stop = active_span(pose, config)
    trimmed = (start, stop) != (0, pose.n_frames)
    if trimmed and read_stillness(pose.take(slice(start, stop)), config).held_up:
        return start, stop
    return 0, pose.n_frames


class StanceStretch(NamedTuple):
    """A stretch of frames in which one leg bears the body: a single-leg squat's stance.

    ``start``/``stop`` are frames (stop exclusive), ``start_s``/``end_s`` their times;
    ``leg`` the stance leg the cue that found the stretch names.
    """

    start: int
    stop: int
    start_s: float
    end_s: float
    leg: str


def _stretches(pose: PoseSequence, label: FloatArray, min_s: float) -> list[StanceStretch]:
    """Runs of ``label`` (+1: left, -1: right, 0: neither) lasting ``min_s`` or more."""
    out = []
    for leg, value in (("left", 1), ("right", -1)):
        for start, stop in true_runs(label == value):
            t0, t1 = float(pose.time_s[start]), float(pose.time_s[stop - 1])
            if t1 - t0 >= min_s:
                out.append(StanceStretch(start, stop, t0, t1, leg))
    return sorted(out)


def find_one_leg_holds(
    pose: PoseSequence, min_lift_leg: float, min_s: float
) -> list[StanceStretch]:
    """Stretches in which one foot stays higher in the image than the other.

    Parameters
    ----------
    pose
        Cleaned landmarks of a frontal view.
    min_lift_leg
        The feet's image heights must differ by this much (leg lengths, after a median
        over half a second).
    min_s
        Shortest stretch kept, seconds.

    Returns
    -------
    list of StanceStretch
        In time order, ``leg`` the lower foot's (the stance foot, unless a lifted foot
        filmed from behind looks lower). A single-leg squat on one leg gives stretches of
        one leg; a clip of squats on one leg and then the other, of both.

    Notes
    -----
    Walking and jogging hold a foot up for a step's swing, under half a second; standing
    holds none. On every stored clip (session 22: 1,934 renders of the three tasks) no
    clip held each foot up by 0.05 leg for 2 s or more.
    """
    diff = feet_height_difference_leg(pose)
    seen = np.isfinite(diff)
    if seen.sum() < 3 or not np.isfinite(pose.fps):
        return []
    frames = np.arange(pose.n_frames)
    diff = np.interp(frames, frames[seen], diff[seen])
    diff = median_filter(diff, size=max(3, round(pose.fps / 2) | 1), mode="nearest")
    label = np.where(diff >= min_lift_leg, 1.0, np.where(diff <= -min_lift_leg, -1.0, 0.0))
    return _stretches(pose, label, min_s)


def find_steady_foot_stretches(
    pose: PoseSequence, window_s: float, ratio_max: float, min_s: float
) -> list[StanceStretch]:
    """Stretches in which one foot stays put in the image while the other moves.

    Parameters
    ----------
    pose
        Cleaned landmarks of a frontal view.
    window_s
        Each frame's feet are compared over a window this long, centred on it.
    ratio_max
        The steady foot's vertical range (5th to 95th percentile) over the window is at
        most this fraction of the other's.
    min_s
        Shortest stretch kept, seconds.

    Returns
    -------
    list of StanceStretch
        In time order, ``leg`` the steady foot's.

    Notes
    -----
    The planted foot of a single-leg squat stays put while the lifted one goes down and
    up with the body, whether it looks higher or lower (filmed from behind): this finds
    the stance leg where :func:`find_one_leg_holds` cannot (feet at one image height).
    On every stored clip (session 22: 1,934 renders) no clip had each foot steady for
    2 s or more (windows of 2 s, ratio 0.5).
    """
    scale = float(np.nanmedian(leg_length_px(pose))) if pose.n_frames else float("nan")
    half = round(window_s * pose.fps / 2) if np.isfinite(pose.fps) else 0
    if not np.isfinite(scale) or half < 1 or pose.n_frames < 2 * half + 1:
        return []
    ranges = {}
    for side in SIDES:
        y = np.pad(foot_point_px(pose, side)[:, 1] / scale, half, constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(y, 2 * half + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a window without the foot
            hi, lo = np.nanpercentile(windows, [95, 5], axis=1)
        ranges[side] = hi - lo
    left, right = ranges["left"], ranges["right"]
    with np.errstate(invalid="ignore"):
        label = np.where(
            left <= ratio_max * right, 1.0, np.where(right <= ratio_max * left, -1.0, 0.0)
        )
    label[~(np.isfinite(left) & np.isfinite(right))] = 0.0
    return _stretches(pose, label, min_s)


def read_stillness(pose: PoseSequence, config: EventConfig | None = None) -> StillnessEvidence:
    """Read the feet's and the pelvis' motion and the held-up foot of a cleaned clip.

    Parameters
    ----------
    pose
        Cleaned landmarks of a frontal view.
    config
        Event settings (the task detection thresholds); the defaults if None.

    Returns
    -------
    StillnessEvidence

    Notes
    -----
    ``still``: both feet move less than ``standing_foot_range_max_leg`` and the pelvis
    less than ``squat_pelvis_range_min_leg``; ``held_up``: the same foot is higher by
    ``sls_foot_up_leg`` in ``sls_same_foot_up_fraction`` of the frames and by
    ``sls_foot_lift_min_leg`` at the median (:func:`detect_sls_side`).
    """
    config = config or EventConfig()
    scale = leg_length_px(pose)
    typical = float(np.nanmedian(scale)) if np.isfinite(scale).any() else float("nan")
    with np.errstate(all="ignore"):
        hip_y = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1]) / typical
        pelvis_range = float(np.nanpercentile(hip_y, 95) - np.nanpercentile(hip_y, 5))
    foot_range = max(_foot_ranges_leg(pose, typical).values())
    diff = feet_height_difference_leg(pose, scale)
    _, lift = detect_sls_side(pose)
    diff = diff[np.isfinite(diff)]
    up = config.sls_foot_up_leg
    same_foot_up = float(max(np.mean(diff > up), np.mean(diff < -up))) if diff.size else 0.0
    return StillnessEvidence(
        scale_px=scale,
        foot_range_leg=foot_range,
        pelvis_range_leg=pelvis_range,
        lift_leg=lift,
        same_foot_up=same_foot_up,
        held_up=same_foot_up >= config.sls_same_foot_up_fraction
        and lift >= config.sls_foot_lift_min_leg,
        rhythm_hz=dominant_frequency_hz(hip_y, pose.time_s),
        still=foot_range < config.standing_foot_range_max_leg
        and pelvis_range < config.squat_pelvis_range_min_leg,
    )


def detect_task(pose: PoseSequence, config: EventConfig | None = None) -> TaskEstimate:
    """Tell a walk toward the camera, a single-leg squat and jogging in place apart.

    Parameters
    ----------
    pose
        Cleaned landmarks of a frontal view.
    config
        Event settings (the task detection thresholds); the defaults if None.

    Returns
    -------
    TaskEstimate

    Notes
    -----
    A stand on both feet at the clip's start or end is left out first when what follows
    holds one foot up (:func:`single_leg_span`: the capture guide's 2 s before a squat).

    - single-leg squat: one foot stays clearly higher than the other for most of the clip
      (``sls_foot_lift_min_leg``, ``sls_same_foot_up_fraction``);
    - walk: the subject comes toward (or goes away from) the camera, so the body's size
      in the image (the longer leg at its longest, over the first and the last fifth of
      the clip) changes by more than ``walk_size_change_min`` (15 %), or the pelvis
      travels more than ``walk_travel_min_leg`` (a leg length), and no foot is held up
      as for the first rule (no rendered walk holds one, 153 of 153; a shallow squat
      whose leg shortened in the image by 21 % was read as a walk before this);
    - single-leg squat, second chance (the lifted foot can look low, e.g. bent behind
      the body and seen from behind by a camera above the floor): the pelvis goes down and
      up by ``squat_pelvis_range_min_leg`` or more at the slow rhythm of repetitions
      (dominant frequency below ``squat_rhythm_max_hz``), where jogging in place bounces
      at the step rate;
    - single-leg squat, third chance: the pelvis moves by at least half
      ``squat_pelvis_range_min_leg``, too slowly for jogging in place (below
      ``squat_rhythm_max_hz``), with one foot lifted (``sls_foot_lift_min_leg``): a
      shallow squat, confidence 0.3; the same without a lifted foot: not guessed
      (confidence 0);
    - one foot held up (as for the first rule) but the pelvis hardly moving: not
      guessed (confidence 0), since jogging in place alternates the feet;
    - jog in place: none of these — the feet alternate on the spot;
    - none of the three (confidence 0): the subject stands still, both feet
      (``standing_foot_range_max_leg``) and the pelvis nearly motionless. A person
      standing on both feet is never a single-leg squat: a squat must also lower the
      pelvis (the first rule asks for the squatting rhythm's pelvis range too), since a
      staggered stance seen from above also shows one foot higher than the other;
    - except, with the feet that still: one foot held up (as for the first rule) and the
      pelvis moving by at least half ``squat_pelvis_range_min_leg`` at a squat's rhythm
      (below ``shallow_squat_rhythm_max_hz``) is a shallow single-leg squat, confidence
      0.3. A person shifting her weight on both feet moves the pelvis as much, and a
      staggered stance filmed from above shows a foot held up, but sways faster than
      repetitions go (the Pose2Sim lab clips: 1.05-1.35 Hz; rendered squats 0.42-0.72
      Hz).
    """
    config = config or EventConfig()
    reasons: list[str] = []
    start, stop = single_leg_span(pose, config)
    if (start, stop) != (0, pose.n_frames):
        time_s = pose.time_s
        standing = [f"the first {time_s[start] - time_s[0]:.1f} s"] if start else []
        if stop < pose.n_frames:
            standing.append(f"the last {time_s[-1] - time_s[stop - 1]:.1f} s")
        reasons.append(f"{' and '.join(standing)} on both feet left out")
        pose = pose.take(slice(start, stop))
    still = read_stillness(pose, config)
    scale, held_up = still.scale_px, still.held_up
    pelvis_range = still.pelvis_range_leg
    reasons.append(
        f"one foot higher in {still.same_foot_up:.0%} of frames "
        f"(median lift {still.lift_leg:.2f} leg)"
    )
    if still.still:
        if (
            held_up
            and pelvis_range >= SHALLOW_SQUAT_RANGE_FRACTION * config.squat_pelvis_range_min_leg
            and still.rhythm_hz < config.shallow_squat_rhythm_max_hz
        ):
            reasons.append(
                f"pelvis moves {pelvis_range:.2f} leg up and down at {still.rhythm_hz:.1f} Hz: "
                "a shallow squat rhythm with one foot held up"
            )
            return TaskEstimate("sls", SHALLOW_SQUAT_CONFIDENCE, tuple(reasons))
        return TaskEstimate(
            "jog",
            0.0,
            (
                f"the subject seems to stand still: feet move {still.foot_range_leg:.2f} and "
                f"the pelvis {pelvis_range:.2f} leg length",
            ),
        )
    if held_up and pelvis_range >= config.squat_pelvis_range_min_leg:
        confidence = float(
            np.clip((still.same_foot_up - config.sls_same_foot_up_fraction) / 0.15, 0.3, 1.0)
        )
        return TaskEstimate("sls", confidence, tuple(reasons))
    mid_hip_all = 0.5 * (pose.xy("left_hip") + pose.xy("right_hip"))
    valid = np.isfinite(scale) & np.isfinite(mid_hip_all).all(axis=1)
    n = int(valid.sum())
    if n < 4:
        return TaskEstimate("jog", 0.0, ("too few frames with legs to tell the task",))
    k = max(1, n // 5)
    s = scale[valid]
    # the body's size: the longer leg, which a lifted or swinging leg does not shorten,
    # at its longest (a squatting leg bends) over the first and the last fifth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a fifth without legs: NaN
        longer = np.nanmax(_leg_lengths_px(pose), axis=0)[valid]
        growth = float(np.log(np.nanpercentile(longer[-k:], 90) / np.nanpercentile(longer[:k], 90)))
    if not np.isfinite(growth):
        growth = float(np.log(np.median(s[-k:]) / np.median(s[:k])))
    mid_hip = mid_hip_all[valid]
    travel = float(
        np.linalg.norm(np.median(mid_hip[-k:], axis=0) - np.median(mid_hip[:k], axis=0))
        / np.median(s)
    )
    reasons.append(f"body size changes by {np.expm1(growth):+.0%}, pelvis travels {travel:.2f} leg")
    # walking alternates the feet: one foot held up throughout is never a walk, whatever
    # the body's size does (a squatting leg shortens in the image as its knee bends)
    if not held_up and (
        abs(growth) > config.walk_size_change_min or travel > config.walk_travel_min_leg
    ):
        margin = max(
            abs(growth) / (2 * config.walk_size_change_min),
            travel / (2 * config.walk_travel_min_leg),
        )
        confidence = float(np.clip(margin, 0.3, 1.0))
        return TaskEstimate("walk", confidence, tuple(reasons))
    height = 0.5 * (pose.xy("left_hip")[:, 1] + pose.xy("right_hip")[:, 1]) / np.median(s)
    rhythm_hz = still.rhythm_hz  # of the same series, scaled: the frequency is the same
    pelvis_range = float(np.nanpercentile(height, 95) - np.nanpercentile(height, 5))
    reasons.append(f"pelvis moves {pelvis_range:.2f} leg up and down at {rhythm_hz:.1f} Hz")
    if pelvis_range >= config.squat_pelvis_range_min_leg and rhythm_hz < config.squat_rhythm_max_hz:
        return TaskEstimate("sls", 0.5, tuple(reasons))
    moving = pelvis_range >= SHALLOW_SQUAT_RANGE_FRACTION * config.squat_pelvis_range_min_leg
    if moving and rhythm_hz < config.squat_rhythm_max_hz:
        # too slow for jogging in place, which bounces at the step rate (a pelvis that
        # barely moves has no rhythm to speak of: left to the jog below)
        if still.lift_leg >= config.sls_foot_lift_min_leg:
            reasons.append("a shallow squat rhythm with one foot lifted")
            return TaskEstimate("sls", SHALLOW_SQUAT_CONFIDENCE, tuple(reasons))
        reasons.append(f"too slow for jogging in place (under {config.squat_rhythm_max_hz} Hz)")
        return TaskEstimate("jog", 0.0, tuple(reasons))
    if held_up:
        reasons.append("one foot held up throughout: not jogging in place, whose feet alternate")
        return TaskEstimate("jog", 0.0, tuple(reasons))
    walk_likeness = max(
        abs(growth) / config.walk_size_change_min, travel / config.walk_travel_min_leg
    )
    confidence = float(np.clip(1.0 - walk_likeness, 0.3, 1.0))
    return TaskEstimate("jog", confidence, tuple(reasons))


def dominant_frequency_hz(signal: FloatArray, time_s: FloatArray) -> float:
    """Frequency of the largest spectral peak between 0.2 and 6 Hz of a signal.

    Parameters
    ----------
    signal, time_s
        Samples (NaN allowed) and their times in seconds.

    Returns
    -------
    float
        Hz; NaN when fewer than 8 samples are finite.

    Notes
    -----
    The signal is linearly interpolated onto a uniform 30 Hz grid (frame times may be
    irregular), detrended to zero mean, Hann-windowed and zero-padded four times before
    the FFT.
    """
    ok = np.isfinite(signal)
    if ok.sum() < 8:
        return float("nan")
    t, y = time_s[ok], signal[ok]
    rate_hz = 30.0
    grid = np.arange(t[0], t[-1], 1.0 / rate_hz)
    if grid.size < 8:
        return float("nan")
    u = np.interp(grid, t, y)
    u = (u - u.mean()) * np.hanning(u.size)
    power = np.abs(np.fft.rfft(u, n=4 * u.size))
    freq = np.fft.rfftfreq(4 * u.size, 1.0 / rate_hz)
    band = (freq > 0.2) & (freq < 6.0)
    return float(freq[band][np.argmax(power[band])])


def _ground_level_px(foot_y: FloatArray, still: BoolArray, time_s: FloatArray) -> FloatArray:
    """Image height at which a foot rests: its height during its longest rest nearby.

    For every frame, among the runs of still frames that overlap the surrounding second,
    the longest is taken and its median height is the ground. A planted foot rests for
    the whole stance at one height; a swinging foot is slow only for a few frames at a
    time, however low it looks in the image.
    """
    ok = still & np.isfinite(foot_y)
    out = np.full(foot_y.shape, np.nan)
    longest = np.zeros(foot_y.shape, dtype=int)  # length of the run giving ``out``
    for a, b in true_runs(ok):  # in time order: the earliest of equally long runs wins
        near = (time_s >= time_s[a] - 0.5) & (time_s <= time_s[b - 1] + 0.5)
        better = near & (b - a > longest)
        out[better] = float(np.median(foot_y[a:b]))
        longest[better] = b - a
    return out


def tidy_mask(mask: BoolArray, t: FloatArray, min_true_s: float, max_gap_s: float) -> BoolArray:
    """Close inner gaps of at most ``max_gap_s`` (or two frames), then drop short runs."""
    out = mask.copy()
    n = len(out)
    for start, stop in true_runs(~out):
        if start == 0 or stop == n:
            continue
        gap_s = t[stop] - t[start - 1]  # from the last True before to the first True after
        if stop - start <= 2 or gap_s <= max_gap_s + 1e-9:
            out[start:stop] = True
    for start, stop in true_runs(out):
        if t[stop - 1] - t[start] < min_true_s:
            out[start:stop] = False
    return out
