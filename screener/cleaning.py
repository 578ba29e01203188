"""Cleaning of raw landmarks: mask, swap repair, gap filling, zero-lag low-pass filter.

Each function is pure: it takes a :class:`~screener.keypoints.PoseSequence` and returns a
new one (plus, where useful, a boolean mask of what it changed), so every step can be
tested and its effect reported per frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

from screener.config import CleaningConfig
from screener.keypoints import BoolArray, FloatArray, PoseSequence
from screener.landmarks import INDEX, LEG_PARTS, mirror_indices

log = logging.getLogger(__name__)

#: Landmarks whose continuity decides whether the legs' labels were swapped.
_SWAP_PARTS: tuple[str, ...] = ("knee", "ankle", "heel", "foot_index")


@dataclass(frozen=True)
class CleanedPose:
    """A cleaned sequence and what cleaning did to it.

    Attributes
    ----------
    pose
        The cleaned landmarks.
    masked
        ``(frame, landmark)``: the raw value was dropped (low visibility, out of frame).
    filled
        ``(frame, landmark)``: the value was interpolated across a short gap.
    swapped
        ``(frame,)``: the left/right leg labels were swapped back in this frame.
    cutoff_hz
        The low-pass cut-off actually applied (after clamping below Nyquist).
    notes
        Human-readable notes of anything unusual (clamped cut-off, resampling...).
    """

    pose: PoseSequence
    masked: BoolArray
    filled: BoolArray
    swapped: BoolArray
    cutoff_hz: float
    notes: tuple[str, ...]


def mask_low_visibility(
    pose: PoseSequence, visibility_min: float, margin_frac: float
) -> tuple[PoseSequence, BoolArray]:
    """Drop landmarks that are not visible enough or lie outside the image.

    Parameters
    ----------
    pose
        Raw landmarks.
    visibility_min
        Landmarks with a lower visibility become NaN.
    margin_frac
        Landmarks further outside the image than this fraction of its size become NaN
        (MediaPipe extrapolates body parts it cannot see); ``image_margin_fraction`` of
        :class:`~screener.config.CleaningConfig`.

    Returns
    -------
    pose
        The masked sequence.
    masked
        ``(frame, landmark)`` boolean array of the values dropped here (values that were
        already missing are not counted).
    """
    width, height = pose.image_size_px
    xy = pose.image_xy_px
    with np.errstate(invalid="ignore"):
        outside = (
            (xy[..., 0] < -margin_frac * width)
            | (xy[..., 0] > (1 + margin_frac) * width)
            | (xy[..., 1] < -margin_frac * height)
            | (xy[..., 1] > (1 + margin_frac) * height)
        )
    present = np.isfinite(xy[..., 0])
    drop = present & ((pose.visibility < visibility_min) | outside)
    image = xy.copy()
    world = pose.world_xyz_m.astype(np.float64)
    image[drop] = np.nan
    world[drop] = np.nan
    return pose.with_arrays(image_xy_px=image, world_xyz_m=world), drop


def repair_swaps(
    pose: PoseSequence, config: CleaningConfig | None = None
) -> tuple[PoseSequence, BoolArray]:
    """Undo frames where the model swapped the labels of the two legs.

    Parameters
    ----------
    pose
        Landmarks (masked or raw).
    config
        The swap rule's ``swap_max_distance_ratio`` and ``swap_min_separation_fraction``;
        the defaults if None.

    Returns
    -------
    pose
        The sequence with leg labels consistent over time.
    swapped
        ``(frame,)`` True where the leg labels (hip to toe, image, world and visibility)
        were exchanged.

    Notes
    -----
    Each frame is compared with the last frame whose legs are known: if giving the
    left leg's points the right leg's labels (and vice versa) moves the legs much less
    than keeping them, the frame's labels are exchanged. The distance is normalised by
    the distance between the two legs, so a frame where the legs overlap (a crossover
    step) is never swapped on a whim. This repairs short label flips; a labelling that is
    wrong for the whole clip (the model believing a subject seen from behind faces the
    camera) cannot be seen from continuity and is handled by the view stage.
    """
    swapped = _swapped_frames(pose.image_xy_px, config or CleaningConfig())
    if not swapped.any():
        return pose, swapped
    return swap_leg_labels(pose, swapped), swapped


def _swapped_frames(xy: FloatArray, config: CleaningConfig) -> BoolArray:
    """The frames of :func:`repair_swaps` whose leg labels must be exchanged."""
    rule = _SwapRule.of(config)
    left = np.array([INDEX[f"left_{p}"] for p in _SWAP_PARTS])
    right = np.array([INDEX[f"right_{p}"] for p in _SWAP_PARTS])
    n = xy.shape[0]
    swapped = np.zeros(n, dtype=bool)
    if not _any_swap_against_last_known(xy, left, right, rule):
        return swapped  # the loop below would swap nothing: skip it
    ref_left: FloatArray | None = None
    ref_right: FloatArray | None = None
    for t in range(n):
        cur_left, cur_right = xy[t, left], xy[t, right]
        if ref_left is not None and ref_right is not None:
            keep = _mean_distance(cur_left, ref_left) + _mean_distance(cur_right, ref_right)
            swap = _mean_distance(cur_left, ref_right) + _mean_distance(cur_right, ref_left)
            separation = _mean_distance(ref_left, ref_right)
            if rule.test(keep, swap, separation):
                swapped[t] = True
                cur_left, cur_right = cur_right, cur_left
        if np.isfinite(cur_left).all() and np.isfinite(cur_right).all():
            ref_left, ref_right = cur_left, cur_right
    if swapped.any():
        log.info("repaired left/right leg swaps in %d frames", int(swapped.sum()))
    return swapped


def _any_swap_against_last_known(
    xy: FloatArray, left: npt.NDArray[np.intp], right: npt.NDArray[np.intp], rule: _SwapRule
) -> bool:
    """Whether any frame passes the swap test against the last earlier frame whose legs
    are fully seen (the reference of :func:`repair_swaps` while nothing is swapped)."""
    with np.errstate(invalid="ignore"):
        cur_l, cur_r = xy[:, left], xy[:, right]
        known = np.isfinite(cur_l).all(axis=(1, 2)) & np.isfinite(cur_r).all(axis=(1, 2))
        idx = np.where(known, np.arange(len(xy)), -1)
        last = np.maximum.accumulate(idx)  # last known frame up to and including t
        ref = np.concatenate([[-1], last[:-1]])  # ... strictly before t
        has_ref = ref >= 0
        if not has_ref.any():
            return False
        r = np.where(has_ref, ref, 0)
        ref_l, ref_r = cur_l[r], cur_r[r]  # (not xy[r]: a copy of every landmark)

        def mean_dist(a: FloatArray, b: FloatArray) -> FloatArray:
            d = np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])
            count = (~np.isnan(d)).sum(axis=1)
            return np.where(count > 0, np.nansum(d, axis=1) / np.maximum(count, 1), np.nan)

        keep = mean_dist(cur_l, ref_l) + mean_dist(cur_r, ref_r)
        swap = mean_dist(cur_l, ref_r) + mean_dist(cur_r, ref_l)
        separation = mean_dist(ref_l, ref_r)
        test = has_ref & rule.test(keep, swap, separation)
    return bool(np.any(test))


@dataclass(frozen=True)
class _SwapRule:
    """The swap rule of :func:`repair_swaps`, for scalars or arrays of distances: the
    exchanged labels fit the reference ``max_ratio`` times as closely (by default at
    least twice as well), and better by ``min_separation`` of the legs' separation."""

    max_ratio: float
    min_separation: float

    @classmethod
    def of(cls, config: CleaningConfig) -> _SwapRule:
        return cls(config.swap_max_distance_ratio, config.swap_min_separation_fraction)

    def test(
        self,
        keep: FloatArray | float,
        swap: FloatArray | float,
        separation: FloatArray | float,
    ) -> BoolArray | np.bool_:
        with np.errstate(invalid="ignore"):
            return (
                np.isfinite(keep)
                & np.isfinite(swap)
                & (separation > 0)
                & (swap < self.max_ratio * keep)
                & (keep - swap > self.min_separation * separation)
            )


def swap_leg_labels(pose: PoseSequence, frames: BoolArray) -> PoseSequence:
    """Exchange the left and right labels of both legs (hip to toe) in the given frames."""
    arrays = {}
    for name in ("image_xy_px", "world_xyz_m", "visibility"):
        values = getattr(pose, name).copy()
        _exchange_legs(values, frames)
        arrays[name] = values
    return pose.with_arrays(**arrays)


def _exchange_legs(values: npt.NDArray[np.floating], frames: BoolArray) -> None:
    """Exchange the legs' landmarks (axis 1) of ``values`` in ``frames``, in place."""
    leg_left = [INDEX[f"left_{p}"] for p in LEG_PARTS]
    leg_right = [INDEX[f"right_{p}"] for p in LEG_PARTS]
    order = np.arange(len(mirror_indices()))
    order[leg_left] = leg_right
    order[leg_right] = leg_left
    values[frames] = values[frames][:, order]


def mirror_all_labels(pose: PoseSequence) -> PoseSequence:
    """Exchange every left/right label in every frame (a whole-clip mislabelling)."""
    order = np.asarray(mirror_indices())
    return pose.with_arrays(
        image_xy_px=pose.image_xy_px[:, order],
        world_xyz_m=pose.world_xyz_m[:, order],
        visibility=pose.visibility[:, order],
    )


def fill_gaps(pose: PoseSequence, max_gap_s: float) -> tuple[PoseSequence, BoolArray]:
    """Interpolate short runs of missing values linearly in time.

    Parameters
    ----------
    pose
        Landmarks with NaN where missing.
    max_gap_s
        Gaps whose duration (from the last valid frame to the next) is at most this are
        filled; longer gaps and gaps at the ends of the clip stay NaN.

    Returns
    -------
    pose
        The filled sequence.
    filled
        ``(frame, landmark)`` True where a value was interpolated.
    """
    image = pose.image_xy_px.copy()
    world = pose.world_xyz_m.astype(np.float64)
    filled = _fill_gaps_in_place(pose.time_s, image, world, max_gap_s)
    return pose.with_arrays(image_xy_px=image, world_xyz_m=world), filled


def _fill_gaps_in_place(
    t: FloatArray, image: FloatArray, world: FloatArray, max_gap_s: float
) -> BoolArray:
    """:func:`fill_gaps` on the arrays themselves; returns where values were filled."""
    filled = np.zeros(image.shape[:2], dtype=bool)
    for lm in range(image.shape[1]):
        missing = ~np.isfinite(image[:, lm, 0])
        for start, stop in true_runs(missing):
            if start == 0 or stop == len(t):
                continue
            if t[stop] - t[start - 1] > max_gap_s + 1e-9:
                continue
            w = (t[start:stop] - t[start - 1]) / (t[stop] - t[start - 1])
            for arr in (image, world):
                a, b = arr[start - 1, lm], arr[stop, lm]
                arr[start:stop, lm] = a + w[:, None] * (b - a)
            filled[start:stop, lm] = True
    return filled


def filter_butterworth(
    pose: PoseSequence, cutoff_hz: float, order: int = 2
) -> tuple[PoseSequence, float, tuple[str, ...]]:
    """Zero-lag low-pass Butterworth filter of every landmark coordinate.

    Parameters
    ----------
    pose
        Landmarks; NaN runs split the signal into segments filtered separately.
    cutoff_hz
        Cut-off frequency. Clamped to 0.4 x the sampling rate if higher (noted).
    order
        Design order; the filter runs forward and backward (``sosfiltfilt``), so the
        effective order is ``2 * order`` and the phase lag is zero.

    Returns
    -------
    pose
        The filtered sequence.
    cutoff_hz
        The cut-off applied.
    notes
        Notes on clamping or resampling.

    Notes
    -----
    A Butterworth filter assumes uniform sampling. Frame times of variable-frame-rate
    phone video are first interpolated onto a uniform grid at the median frame rate,
    filtered there and interpolated back to the original frame times. Segments too short
    for the filter's padding (under ~0.5 s at 30 fps) are left unfiltered, which the
    frame quality flags record.
    """
    if pose.n_frames < 2:
        return pose, cutoff_hz, ()
    image = pose.image_xy_px.copy()
    world = pose.world_xyz_m.astype(np.float64)
    applied, notes = _filter_in_place(pose.time_s, image, world, cutoff_hz, order)
    return pose.with_arrays(image_xy_px=image, world_xyz_m=world), applied, notes


#: Bytes of landmark coordinates filtered in one call (with the filter's temporaries,
#: about five times this is allocated at once, whatever the clip's length).
_FILTER_CHUNK_BYTES = 1024 * 1024


def _filter_in_place(
    t: FloatArray, image: FloatArray, world: FloatArray, cutoff_hz: float, order: int
) -> tuple[float, tuple[str, ...]]:
    """:func:`filter_butterworth` on the arrays themselves; returns the cut-off applied
    and the notes.

    Landmarks seen in every frame are filtered a few at a time (each coordinate is
    filtered on its own, so grouping them changes no value; a few at a time keeps the
    filter's temporaries small on long clips).
    """
    notes: list[str] = []
    fs = float(1.0 / np.median(np.diff(t)))
    applied = float(cutoff_hz)
    if applied >= 0.4 * fs:
        applied = 0.4 * fs
        notes.append(
            f"low-pass cut-off {cutoff_hz:g} Hz is too close to the frame rate's Nyquist "
            f"limit ({fs / 2:.1f} Hz); {applied:.1f} Hz used"
        )
    sos = butter(order, applied, btype="low", output="sos", fs=fs)
    padlen = 3 * (2 * len(sos) + 1)
    dt = np.diff(t)
    irregular = bool(np.max(np.abs(dt - np.median(dt))) > 0.05 * np.median(dt))
    if irregular:
        notes.append("variable frame rate: resampled to a uniform grid for filtering")
    valid_all = np.isfinite(image[:, :, 0]) & np.isfinite(world[:, :, 0])
    whole = np.flatnonzero(valid_all.all(axis=0))  # seen in every frame: few calls for all
    n = len(t)
    per_call = max(1, _FILTER_CHUNK_BYTES // (n * 5 * image.itemsize))
    for first in range(0, whole.size, per_call):
        cols = whole[first : first + per_call]
        stacked = np.concatenate(
            [image[:, cols].reshape(n, -1), world[:, cols].reshape(n, -1)], axis=1
        )
        smooth = _filter_segment(t, stacked, sos, fs, padlen, irregular)
        split = cols.size * 2
        image[:, cols] = smooth[:, :split].reshape(n, cols.size, 2)
        world[:, cols] = smooth[:, split:].reshape(n, cols.size, 3)
    for lm in np.flatnonzero(~valid_all.all(axis=0)):
        valid = valid_all[:, lm]
        for start, stop in true_runs(valid):
            seg_t = t[start:stop]
            for arr in (image, world):
                seg = arr[start:stop, lm]
                arr[start:stop, lm] = _filter_segment(seg_t, seg, sos, fs, padlen, irregular)
    return applied, tuple(notes)


def _filter_segment(
    t: FloatArray, values: FloatArray, sos: FloatArray, fs: float, padlen: int, irregular: bool
) -> FloatArray:
    if len(t) <= padlen:
        return values
    if not irregular:
        return np.asarray(sosfiltfilt(sos, values, axis=0))
    grid = np.arange(t[0], t[-1] + 0.5 / fs, 1.0 / fs)
    if len(grid) <= padlen:
        return values
    on_grid = np.column_stack([np.interp(grid, t, values[:, k]) for k in range(values.shape[1])])
    smooth = sosfiltfilt(sos, on_grid, axis=0)
    return np.column_stack([np.interp(t, grid, smooth[:, k]) for k in range(values.shape[1])])


def clean_pose(raw: PoseSequence, config: CleaningConfig, cutoff_hz: float) -> CleanedPose:
    """Run the whole cleaning chain: mask, repair swaps, fill gaps, low-pass filter.

    Parameters
    ----------
    raw
        Landmarks as MediaPipe returned them.
    config
        Cleaning settings.
    cutoff_hz
        Low-pass cut-off for this clip's task.

    Returns
    -------
    CleanedPose
        The cleaned landmarks and what was done to them.
    """
    return filter_cleaned(prepare_pose(raw, config), cutoff_hz, config.filter_order)


def crossed_hip_frames(image_xy_px: FloatArray, min_separation_leg: float = 0.05) -> BoolArray:
    """Frames whose two hip landmarks are in each other's place across the image.

    Parameters
    ----------
    image_xy_px
        ``(frame, landmark, 2)`` image landmarks (swap-repaired).
    min_separation_leg
        Only a clip whose hips are, in the median frame, at least this many leg lengths
        (hip to ankle, in the image) apart is checked: in a frontal view they are about
        0.2 apart; where they overlap (a side view) a crossing means nothing.

    Returns
    -------
    ndarray
        ``(frame,)`` True where the left hip is on the other side of the right hip from
        where it is in the clip's median frame.

    Notes
    -----
    In a frontal view of walking, jogging or squatting the pelvis never turns 90° away
    from the camera, so a reversed hip line is the model's error, not the body's: on a
    rendered walk one frame's hips crossed over and the event read a 44° pelvic drop.
    The frames' hip landmarks are dropped and filled from their neighbours.
    """
    dx = image_xy_px[:, INDEX["left_hip"], 0] - image_xy_px[:, INDEX["right_hip"], 0]
    hip_y = 0.5 * (image_xy_px[:, INDEX["left_hip"], 1] + image_xy_px[:, INDEX["right_hip"], 1])
    ankle_y = 0.5 * (
        image_xy_px[:, INDEX["left_ankle"], 1] + image_xy_px[:, INDEX["right_ankle"], 1]
    )
    out = np.zeros(dx.shape[0], dtype=bool)
    seen = np.isfinite(dx)
    leg = np.abs(ankle_y - hip_y)
    if seen.sum() < 3 or not np.isfinite(leg).any():
        return out
    typical = float(np.median(dx[seen]))
    if abs(typical) < min_separation_leg * float(np.nanmedian(leg)):
        return out
    with np.errstate(invalid="ignore"):
        out[seen] = np.sign(dx[seen]) == -np.sign(typical)
    return out


def prepare_pose(
    raw: PoseSequence, config: CleaningConfig, *, swapped: BoolArray | None = None
) -> CleanedPose:
    """Every cleaning step but the low-pass filter: mask, repair swaps, fill gaps.

    These steps do not depend on the cut-off, so a clip cleaned at two cut-offs can run
    them once (see :func:`filter_cleaned`). ``cutoff_hz`` of the result is NaN (unfiltered).

    Parameters
    ----------
    raw
        Landmarks as MediaPipe returned them.
    config
        Cleaning settings.
    swapped
        The frames whose leg labels are exchanged, as an earlier call on these landmarks
        (or on these landmarks before their labels were mirrored) found them: the search
        is skipped. None: searched (if ``config.repair_swaps``).
    """
    pose, masked = mask_low_visibility(raw, config.visibility_min, config.image_margin_fraction)
    # The masked arrays are this function's own: swap repair and gap filling change them
    # in place (on a long clip every copy is tens of MiB).
    image, visibility = pose.image_xy_px, pose.visibility
    world = pose.world_xyz_m.astype(np.float64, copy=False)  # float64 already: no copy
    if swapped is None:
        swapped = np.zeros(raw.n_frames, dtype=bool)
        if config.repair_swaps:
            swapped = _swapped_frames(image, config)
    if swapped.any():
        visibility = visibility.copy()  # the raw landmarks' own until here
        for values in (image, world, visibility):
            _exchange_legs(values, swapped)
    crossed = crossed_hip_frames(image)
    if crossed.any():
        hips = np.array([INDEX["left_hip"], INDEX["right_hip"]])
        image[np.ix_(crossed, hips)] = np.nan
        world[np.ix_(crossed, hips)] = np.nan
        masked = masked.copy()
        masked[np.ix_(crossed, hips)] = True
        log.info("dropped the hips of %d frame(s) whose hip line was reversed", crossed.sum())
    filled = _fill_gaps_in_place(raw.time_s, image, world, config.max_gap_s)
    return CleanedPose(
        pose=pose.with_arrays(image_xy_px=image, world_xyz_m=world, visibility=visibility),
        masked=masked,
        filled=filled,
        swapped=swapped,
        cutoff_hz=np.nan,
        notes=(),
    )


def filter_cleaned(
    prepared: CleanedPose, cutoff_hz: float, order: int, *, in_place: bool = False
) -> CleanedPose:
    """Low-pass filter a :func:`prepare_pose` result: the last step of :func:`clean_pose`.

    Parameters
    ----------
    prepared
        A :func:`prepare_pose` result.
    cutoff_hz, order
        As :func:`filter_butterworth`'s.
    in_place
        Filter ``prepared``'s own coordinate arrays instead of copies: for a caller that
        gives ``prepared`` up (saves a copy of the landmarks; ``prepared`` then holds the
        filtered values).
    """
    world = prepared.pose.world_xyz_m
    if not in_place or prepared.pose.n_frames < 2 or world.dtype != np.float64:
        pose, applied, notes = filter_butterworth(prepared.pose, cutoff_hz, order)
    else:
        pose = prepared.pose
        applied, notes = _filter_in_place(
            pose.time_s, pose.image_xy_px, world.astype(np.float64, copy=False), cutoff_hz, order
        )
    return replace(prepared, pose=pose, cutoff_hz=applied, notes=tuple(notes))


def mirror_cleaned(cleaned: CleanedPose) -> CleanedPose:
    """Exchange every left/right label of a cleaned sequence and of its per-landmark records.

    Cleaning treats left and right alike (masking, gap filling and filtering act on each
    landmark alone; the swap rule is symmetric), so this equals cleaning the mirrored raw
    landmarks, without running the chain again.
    """
    order = np.asarray(mirror_indices())
    return replace(
        cleaned,
        pose=mirror_all_labels(cleaned.pose),
        masked=cleaned.masked[:, order],
        filled=cleaned.filled[:, order],
    )


def true_runs(mask: BoolArray) -> list[tuple[int, int]]:
    """Return ``(start, stop)`` of each run of True values (stop exclusive)."""
    if mask.size == 0:
        return []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _mean_distance(a: FloatArray, b: FloatArray) -> float:
    """Mean distance between corresponding points, over the pairs present in both."""
    diff = a - b
    d = np.hypot(diff[:, 0], diff[:, 1]) if diff.shape[-1] == 2 else np.linalg.norm(diff, axis=-1)
    d = d[~np.isnan(d)]
    return float(d.sum() / d.size) if d.size else float("nan")
