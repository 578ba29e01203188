"""Stance phases read by a learned model from the feet's landmarks over a short window.

The stance rule of :func:`screener.events.detect_stance` holds a foot loaded where it is
still in the image. Filmed from the front that is late at a jog's landing (the forefoot
lands and the foot is still only once the heel is down) and scattered in a walk toward
the camera (a planted foot moves little in the image however it moves). This model reads,
for each frame and foot, the probability that the foot touches the floor from the feet's
image and world landmarks over the surrounding 0.3 s, trained on rendered clips against
the posed mesh's floor contact (``bench/train_event_model.py``, model card
``models/event_model.md``). The frames with a probability above one half are the foot's
stance; the clip's stance phases are then cut from them as from the rule's.

Notes
-----
The window is read at fixed times around each frame (linear interpolation between
frames), so the same model serves 24-240 fps. Left and right feet are read by the same
network, each with the image's horizontal axis turned so that the foot's own side is
positive, so the two legs are treated alike and the view (front or back) does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.cleaning import true_runs
from screener.config import EventConfig
from screener.errors import ConfigError
from screener.events import Span, leg_length_px, stance_spans, tidy_mask
from screener.fileio import cached_by_file
from screener.frame_model import CHUNK_FRAMES, FrameModel, read_ensemble
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX, SIDES

#: What the model predicts (the log-odds of floor contact).
CONTACT_TARGETS = ("floor_contact_logit",)
#: Times around each frame (s) at which the landmarks are read.
WINDOW_OFFSETS_S: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(-6, 7))
#: Foot landmarks read, for the foot itself and the other one.
FOOT_PARTS: tuple[str, ...] = ("ankle", "heel", "foot_index")
#: Tasks the model knows (one-hot input).
TASKS: tuple[str, ...] = ("walk", "jog")
#: What the squat repetition model predicts (the log-odds of being within a repetition).
REP_TARGETS = ("in_rep_logit",)
#: Times around each frame (s) at which the squat model reads the landmarks.
REP_WINDOW_OFFSETS_S: tuple[float, ...] = tuple(round(0.15 * k, 2) for k in range(-10, 11))
#: Landmarks the squat model reads, of each leg.
REP_LANDMARKS: tuple[str, ...] = ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")


def _facing_sign(left: FloatArray, right: FloatArray) -> float:
    """+1 when the subject's left hip is at larger x than the right (median), else -1."""
    diff = left[:, 0] - right[:, 0]
    diff = diff[np.isfinite(diff)]
    return 1.0 if diff.size == 0 or float(np.median(diff)) >= 0 else -1.0


@dataclass(frozen=True)
class _LegFrame:
    """Where a leg's inputs are measured from: signs that make the leg's own side positive
    (image and world horizontal axes), the world mid-hip and the leg length in the image."""

    image_sign: float
    world_sign: float
    world_mid: FloatArray
    scale: FloatArray

    @classmethod
    def of(cls, pose: PoseSequence, side: str) -> _LegFrame:
        side_sign = 1.0 if side == "left" else -1.0
        world_l = np.asarray(pose.world_xyz_m[:, INDEX["left_hip"]], float)
        world_r = np.asarray(pose.world_xyz_m[:, INDEX["right_hip"]], float)
        return cls(
            image_sign=side_sign * _facing_sign(pose.xy("left_hip"), pose.xy("right_hip")),
            world_sign=side_sign * _facing_sign(world_l, world_r),
            world_mid=0.5 * (world_l + world_r),
            scale=leg_length_px(pose)[:, None],
        )

    def image(self, points_px: FloatArray, origin_px: FloatArray) -> FloatArray:
        """Image points relative to ``origin_px``, in leg lengths, signed."""
        return (points_px - origin_px) / self.scale * np.array([self.image_sign, 1.0])

    def world(self, points_m: npt.NDArray[np.floating[Any]]) -> FloatArray:
        """World points relative to the world mid-hip, metres, signed."""
        return (points_m - self.world_mid) * np.array([self.world_sign, 1.0, 1.0])


def _frame_block(
    pose: PoseSequence, side: str
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per frame, for one foot: positions (image then world), visibility, the mid-hip in
    the image and the leg's length there.

    Positions are those of :data:`FOOT_PARTS` and the knee of the foot's own leg, then of
    the other leg; image points relative to the mid-hip in leg lengths
    (:func:`screener.events.leg_length_px`), world points relative to the world mid-hip in
    metres; the mid-hip in pixels. The horizontal axis is signed so that ``side`` is
    positive.
    """
    other = "right" if side == "left" else "left"
    leg = _LegFrame.of(pose, side)
    hip_mid = 0.5 * (pose.xy("left_hip") + pose.xy("right_hip"))
    names = [f"{s}_{p}" for s in (side, other) for p in (*FOOT_PARTS, "knee")]
    positions = _positions(pose, leg, names, hip_mid)
    vis = np.column_stack(
        [pose.visibility[:, INDEX[f"{s}_{p}"]] for s in (side, other) for p in FOOT_PARTS]
    )
    return positions, vis, hip_mid * np.array([leg.image_sign, 1.0]), leg.scale[:, 0]


def _positions(
    pose: PoseSequence, leg: _LegFrame, names: list[str], origin_px: FloatArray
) -> FloatArray:
    """Columns of the landmarks ``names``: image points relative to ``origin_px``
    (:meth:`_LegFrame.image`), then world points (:meth:`_LegFrame.world`), written into
    one array (a long clip's columns are not held twice), column by column in memory:
    :func:`_read_at` interpolates each column, which a row-ordered array would copy
    whole for every chunk of frames read."""
    n_names = len(names)
    out = np.empty((pose.n_frames, 5 * n_names), order="F")
    for i, name in enumerate(names):
        out[:, 2 * i : 2 * i + 2] = leg.image(pose.xy(name), origin_px)
        world = pose.world_xyz_m[:, INDEX[name]]
        out[:, 2 * n_names + 3 * i : 2 * n_names + 3 * i + 3] = leg.world(world)
    return out


def _filled(time_s: FloatArray, values: FloatArray) -> FloatArray:
    """``values`` (n, k) with each column's gaps filled linearly between its finite
    samples over time (held at the clip's ends); NaN for a column with fewer than two.

    Notes
    -----
    Fills ``values`` in place and returns it: pass an array nobody else reads.
    """
    for k in range(values.shape[1]):
        ok = np.isfinite(values[:, k])
        if ok.sum() < 2:
            values[:, k] = np.nan
        elif not ok.all():
            values[~ok, k] = np.interp(time_s[~ok], time_s[ok], values[ok, k])
    return values


def _read_at(time_s: FloatArray, filled: FloatArray, at_s: FloatArray) -> FloatArray:
    """Columns of ``filled`` (:func:`_filled`) interpolated linearly at ``at_s``."""
    return np.column_stack([np.interp(at_s, time_s, col) for col in filled.T])


#: Inputs of a model for the frames asked for (a slice), from a clip read once.
Inputs = Callable[[slice], FloatArray]


def contact_inputs(pose: PoseSequence, side: str, task: str) -> Inputs:
    """:func:`contact_features` of one foot for any frames, with the clip's landmarks
    read once (a long clip is read in chunks)."""
    if task not in TASKS:
        raise ValueError(f"the contact model reads {TASKS}, not {task!r}")
    positions, vis, hip_px, scale = _frame_block(pose, side)
    t = pose.time_s
    positions, hip_px = _filled(t, positions), _filled(t, hip_px)

    def read(rows: slice) -> FloatArray:
        hip_moves = _windowed(t, hip_px, rows, WINDOW_OFFSETS_S)[:, 2:] / scale[rows, None]
        onehot = np.zeros((t[rows].size, len(TASKS)))
        onehot[:, TASKS.index(task)] = 1.0
        return np.hstack(
            [_windowed(t, positions, rows, WINDOW_OFFSETS_S), vis[rows], hip_moves, onehot]
        )

    return read


def contact_features(
    pose: PoseSequence, side: str, task: str, rows: slice = slice(None)
) -> FloatArray:
    """Per-frame inputs of the contact model for one foot.

    Parameters
    ----------
    pose
        Cleaned landmarks (roll corrected).
    side
        The foot: ``"left"`` or ``"right"``.
    task
        ``"walk"`` or ``"jog"``.
    rows
        The frames wanted (all by default; a long clip is read in chunks).

    Returns
    -------
    ndarray
        ``(n_rows, n_features)``: the positions and visibility at the frame, the
        positions' changes from the frame to each time of :data:`WINDOW_OFFSETS_S`, and
        the task (one-hot).

    Notes
    -----
    Changes rather than positions over the window: they are the feet's motion, which
    contact is about, on a scale of their own after standardisation. The mid-hip's own
    motion in the image (in leg lengths at the frame) is among them: with it, the
    changes give each foot's motion in the image, which is zero for a planted foot (the
    camera is still).
    """
    return contact_inputs(pose, side, task)(rows)


def _windowed(
    time_s: FloatArray, filled: FloatArray, rows: slice, offsets_s: tuple[float, ...]
) -> FloatArray:
    """``filled`` (:func:`_filled`) at the frames ``rows``, then its changes to each time
    of ``offsets_s`` around them (0 left out)."""
    at = time_s[rows]
    centre = _read_at(time_s, filled, at)
    changes = [_read_at(time_s, filled, at + o) - centre for o in offsets_s if o != 0]
    return np.hstack([centre, *changes])


def rep_features(pose: PoseSequence, side: str, rows: slice = slice(None)) -> FloatArray:
    """Per-frame inputs of the squat repetition model, for a squat on leg ``side``.

    The shoulders, hips, knees, ankles, heels and toes, stance leg first: in the image
    relative to the stance ankle in leg lengths, in the world relative to the world
    mid-hip in metres (the horizontal axis signed so that the stance side is positive);
    at the frame and their changes to each time of :data:`REP_WINDOW_OFFSETS_S`.

    Notes
    -----
    The window spans 3 s: a repetition's start (the knee starting to bend) shows less in
    the first 100-200 ms than in how the whole descent unfolds.
    """
    return rep_inputs(pose, side)(rows)


def rep_inputs(pose: PoseSequence, side: str) -> Inputs:
    """:func:`rep_features` for any frames, with the clip's landmarks read once."""
    other = "right" if side == "left" else "left"
    leg = _LegFrame.of(pose, side)
    anchor = pose.xy(f"{side}_ankle")
    names = [f"{s}_{p}" for s in (side, other) for p in REP_LANDMARKS]
    t = pose.time_s
    positions = _filled(t, _positions(pose, leg, names, anchor))
    return lambda rows: _windowed(t, positions, rows, REP_WINDOW_OFFSETS_S)


@dataclass(frozen=True)
class LearnedStance:
    """Stance phases timed by the model.

    Attributes
    ----------
    spans
        Complete stance phases (:func:`screener.events.stance_spans`), each timed between
        frames where the probability crosses one half.
    masks
        Per side, the frames in stance (after the stance rule's tidying).
    probability
        Per side, the per-frame probability of floor contact (mean of the members').
    provenance
        The model card's name, version and data, and the clip's applicability distance.
    """

    spans: list[Span]
    masks: dict[str, BoolArray]
    probability: dict[str, FloatArray]
    provenance: dict[str, Any]


@cached_by_file
def load_event_model(path: Path) -> FrameModel:
    """Read a model written by ``bench/train_event_model.py``.

    Raises
    ------
    ConfigError
        The file is missing, not such a model, or reads another window.
    """
    return _read_model(path, CONTACT_TARGETS, WINDOW_OFFSETS_S, "stance event model")


def _read_model(
    path: Path, targets: tuple[str, ...], window_s: tuple[float, ...], what: str
) -> FrameModel:
    model = read_ensemble(path, targets, what, "bench/train_event_model.py")
    if tuple(model.card.get("window_offsets_s", ())) != window_s:
        raise ConfigError(f"{path}: the model reads another window than {window_s}")
    return model


def _read_probability(
    model: FrameModel, n_frames: int, legs: Sequence[Callable[[], Inputs]], what: str
) -> tuple[list[FloatArray], dict[str, Any]]:
    """The model's probability per frame for each of ``legs``, read in chunks of
    :data:`CHUNK_FRAMES`, and its provenance: the card, the clip's applicability (over
    every leg's frames), and ``applied`` (False, with ``not_applied``, a sentence naming
    ``what`` is timed instead, when the clip's inputs are unlike the training inputs:
    :class:`screener.frame_model.Applicability`).

    Each of ``legs`` builds its leg's inputs when called: one leg's filled landmarks are
    held at a time."""
    keys = ("name", "version", "trained_on", "validated_on", "real_video_check")
    info: dict[str, Any] = {k: model.card.get(k) for k in keys}
    probs = [np.empty(n_frames) for _ in legs]
    distances = []
    for build_inputs, prob in zip(legs, probs, strict=True):
        inputs = build_inputs()
        for start in range(0, n_frames, CHUNK_FRAMES):
            rows = slice(start, start + CHUNK_FRAMES)
            x = model.standardise(inputs(rows))
            prob[rows] = contact_probability(x, model)
            if model.applicability is not None:
                distances.append(model.applicability.frame_distances(x))
        del inputs, x  # this leg's filled landmarks go before the next leg's are built
    info["applied"] = True
    guard = model.applicability
    if guard is not None:
        distance = float(np.median(np.concatenate(distances)))
        info["applicability"] = {"distance": round(distance, 3), "limit": guard.limit}
        if not distance <= guard.limit:
            info["applied"] = False
            info["not_applied"] = (
                f"the learned {model.card.get('name', 'model')} was not applied: this clip's "
                f"landmarks are unlike its training data (distance {distance:.2f}, limit "
                f"{guard.limit:.2f}); {what} are timed by the rule"
            )
    return probs, info


def contact_probability(standardised: FloatArray, model: FrameModel) -> FloatArray:
    """Probability of floor contact per row: the mean of the members' probabilities."""
    logits = np.stack(model.member_outputs(standardised))[:, :, 0]
    return np.asarray(np.mean(1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0))), axis=0))


def _crossing_s(prob: FloatArray, time_s: FloatArray, before: int, after: int) -> float:
    """Time between frames ``before`` and ``after`` where ``prob`` crosses one half
    (linear); the frame inside the phase where the other one is outside the clip."""
    if before < 0:
        return float(time_s[after])
    if after >= prob.size:
        return float(time_s[before])
    p0, p1 = float(prob[before]), float(prob[after])
    if p0 == p1:
        return float(time_s[after] if p0 <= 0.5 else time_s[before])
    frac = float(np.clip((0.5 - p0) / (p1 - p0), 0.0, 1.0))
    return float(time_s[before] + frac * (time_s[after] - time_s[before]))


def find_stance(
    pose: PoseSequence, task: str, model: FrameModel, config: EventConfig
) -> LearnedStance:
    """Stance phases of both feet from the model's contact probability.

    Parameters
    ----------
    pose
        Cleaned landmarks (roll corrected).
    task
        ``"walk"`` or ``"jog"``.
    model
        :func:`load_event_model`.
    config
        Event settings: the stance rule's tidying (``stance_gap_max_s``, the task's
        ``min_stance_s``) and complete-phase checks (:func:`screener.events.stance_spans`)
        apply to the model's frames as to the rule's.

    Returns
    -------
    LearnedStance
        ``provenance["applied"]`` is False, with ``not_applied`` (a sentence), when the
        clip's inputs are unlike the model's training inputs
        (:class:`screener.frame_model.Applicability`); the spans and masks are then empty
        and the caller keeps the rule.

    Notes
    -----
    A phase starts where the probability rises through one half between the frame before
    it and its first frame, and ends where it falls through one half after its last
    frame (linear interpolation): at 24 fps a frame is 42 ms, most of the 50 ms a timing
    is allowed.
    """
    feet = [partial(contact_inputs, pose, side, task) for side in SIDES]
    probs, info = _read_probability(model, pose.n_frames, feet, "stance phases")
    if not info["applied"]:
        return LearnedStance([], {}, {}, info)
    prob = dict(zip(SIDES, probs, strict=True))
    t = pose.time_s
    masks = {
        side: tidy_mask(p > 0.5, t, config.min_stance_s[task], config.stance_gap_max_s)
        for side, p in prob.items()
    }
    spans = [
        replace(
            span,
            t_start_s=_crossing_s(prob[span.side], t, span.start - 1, span.start),
            t_end_s=_crossing_s(prob[span.side], t, span.stop - 1, span.stop),
        )
        for span in stance_spans(masks, t, config, prob)
    ]
    return LearnedStance(spans, masks, prob, info)


@cached_by_file
def load_rep_model(path: Path) -> FrameModel:
    """Read a squat repetition model written by ``bench/train_event_model.py --kind rep``.

    Raises
    ------
    ConfigError
        The file is missing, not such a model, or reads another window.
    """
    return _read_model(path, REP_TARGETS, REP_WINDOW_OFFSETS_S, "squat repetition model")


def refine_rep_edges(
    pose: PoseSequence, side: str, spans: list[Span], model: FrameModel
) -> tuple[list[Span], dict[str, Any]]:
    """The squat repetitions of the rule, with their start and end read by the model.

    Parameters
    ----------
    pose
        Cleaned landmarks (roll corrected).
    side
        The stance leg.
    spans
        The repetitions found by :func:`screener.events.detect_sls_reps`: their number and
        deepest points stay the rule's.

    Returns
    -------
    spans
        Each repetition whose deepest frame lies in a run of frames the model reads as
        within a repetition (probability above one half), that run holding no other
        repetition's deepest frame and not cut by the clip's edge, starts and ends where
        the probability crosses one half (between frames); the others keep the rule's
        edges.
    provenance
        The model card's name, version and data, the clip's applicability, and how many
        repetitions the model timed (``reps_timed``).
    """
    (prob,), info = _read_probability(
        model, pose.n_frames, [partial(rep_inputs, pose, side)], "repetitions"
    )
    if not info["applied"]:
        return spans, info
    t = pose.time_s
    runs = true_runs(prob > 0.5)
    deepest = [s.peak if s.peak is not None else (s.start + s.stop - 1) // 2 for s in spans]
    out = []
    for span, k in zip(spans, deepest, strict=True):
        run = next(((a, b) for a, b in runs if a <= k < b), None)
        if (
            run is None
            or run[0] == 0
            or run[1] == pose.n_frames
            or sum(run[0] <= d < run[1] for d in deepest) > 1
        ):
            out.append(span)
            continue
        a, b = run
        out.append(
            replace(
                span,
                start=a,
                stop=b,
                t_start_s=_crossing_s(prob, t, a - 1, a),
                t_end_s=_crossing_s(prob, t, b - 1, b),
            )
        )
    info["reps_timed"] = sum(s.t_start_s is not None for s in out)
    return out, info
