"""Where a posed foot meets the floor: kept above it in the air, on its toes in push-off.

Pure NumPy and SciPy (no torch), vectorised over frames; used by
:meth:`screener_synth.body.AnnyBody.pose`. World frame as in
:mod:`screener_synth.geometry` (+Z up, the subject faces -Y); a foot rotation is its world
rotation from the neutral pose, and a positive pitch about +X turns the toes down.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from screener_synth.geometry import FloatArray, rot_x, rot_z


def slerp(a: FloatArray, b: FloatArray, w: FloatArray) -> FloatArray:
    """Per-frame rotation ``a · exp(w · log(aᵀ b))``."""
    rel = Rotation.from_matrix(np.einsum("nji,njk->nik", a, b)).as_rotvec()
    return np.einsum("nij,njk->nik", a, Rotation.from_rotvec(rel * w[:, None]).as_matrix())


def pivot_on_toes(
    foot: FloatArray,
    ankle_z: FloatArray,
    points: FloatArray,
    pivot: np.ndarray,
    times: FloatArray,
    fade_s: float = 0.1,
    max_pitch_deg: float = 70.0,
) -> FloatArray:
    """Foot rotations that keep a stance foot's toes on the floor while its heel rises.

    Parameters
    ----------
    foot
        ``(n, 3, 3)`` planned world rotations of the foot (flat in stance).
    ankle_z
        ``(n,)`` ankle-centre height above the floor.
    points
        ``(k, 3)`` foot surface points relative to the ankle, neutral pose.
    pivot
        ``(n,)`` frames in stance in which this foot does not hold the body: in a walk,
        double support, after the other foot has landed and before this one's toe-off.
    times
        ``(n,)`` frame times.
    fade_s
        After toe-off the foot turns from its last pivot attitude to the plan over this
        time, so that it leaves the floor without a jump.
    max_pitch_deg
        The steepest toes-down pitch tried.

    Returns
    -------
    ndarray
        ``(n, 3, 3)``: in pivot frames the planned heading pitched toes-down about the
        ankle until the foot's lowest point meets the floor (flat while the flat foot
        already reaches it); the plan elsewhere, faded in after each pivot run.

    Notes
    -----
    The ankle centre is where the leg puts it (the body is held by the other foot), so
    the foot turns about the ankle, not about the toes: the toes may slide a few
    millimetres. Without this the trailing foot of a walk lifts off flat as soon as the
    other foot lands, 0.12 of a stride before its labelled toe-off.
    """
    out = foot.copy()
    idx = np.flatnonzero(pivot)
    if idx.size == 0:
        return out
    grid = np.arange(0.0, max_pitch_deg + 0.25, 0.5)
    lowest = np.einsum("mij,kj->mki", rot_x(grid), points)[..., 2].min(axis=1)  # (m,)
    gap = lowest[None, :] + ankle_z[idx, None]  # (t, m), decreasing along the grid
    reaching = gap <= 0.0
    best = np.where(reaching.any(axis=1), grid[reaching.argmax(axis=1)], max_pitch_deg)
    forward = foot[idx] @ np.array([0.0, -1.0, 0.0])
    heading = np.degrees(np.arctan2(forward[:, 0], -forward[:, 1]))
    out[idx] = rot_z(-heading) @ rot_x(best)
    ends = idx[np.append(np.diff(idx) > 1, True)]
    for end in ends:
        after = np.flatnonzero((times > times[end]) & (times <= times[end] + fade_s) & ~pivot)
        if after.size == 0:
            continue
        w = (times[after] - times[end]) / fade_s
        out[after] = slerp(np.repeat(out[end][None], after.size, axis=0), foot[after], w)
    return out


def clear_floor(
    foot: FloatArray, ankle_z: FloatArray, points: FloatArray, free: np.ndarray
) -> FloatArray:
    """Foot rotations that keep a free foot above the floor, as close to the plan as it can.

    Parameters
    ----------
    foot
        ``(n, 3, 3)`` planned world rotations of the foot (from the neutral pose).
    ankle_z
        ``(n,)`` ankle-centre height above the floor.
    points
        ``(k, 3)`` foot surface points relative to the ankle, neutral pose.
    free
        ``(n,)`` frames where this foot does not hold the body (it may be re-oriented).

    Returns
    -------
    ndarray
        ``(n, 3, 3)``: the plan where it clears the floor; elsewhere the planned heading
        with the pitch (about the medio-lateral axis) nearest the plan that does, or the
        pitch that sinks least.
    """
    out = foot.copy()
    lowest = np.einsum("nij,kj->nki", foot, points)[..., 2].min(axis=1) + ankle_z
    todo = np.flatnonzero(free & (lowest < 0.0))
    if todo.size == 0:
        return out
    forward = foot[todo] @ np.array([0.0, -1.0, 0.0])
    planned = np.degrees(np.arctan2(-forward[:, 2], np.hypot(forward[:, 0], forward[:, 1])))
    heading = np.degrees(np.arctan2(forward[:, 0], -forward[:, 1]))
    grid = np.arange(-40.0, 80.5, 1.0)
    rot = rot_x(grid)  # (m, 3, 3); +pitch = toes down
    z = np.einsum("mij,kj->mki", rot, points)[..., 2].min(axis=1)  # (m,)
    clearance = z[None, :] + ankle_z[todo, None]  # (t, m)
    cost = np.abs(grid[None, :] - planned[:, None]) + 1e3 * np.clip(-clearance, 0, None)
    best = grid[cost.argmin(axis=1)]
    out[todo] = rot_z(-heading) @ rot_x(best)
    return out
