"""Where a posed foot meets the floor: kept above it in the air, on planted toes in push-off.

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


def _rotation_between(u: FloatArray, v: FloatArray) -> FloatArray:
    """The smallest rotation taking direction ``u`` to direction ``v`` (3-vectors)."""
    a, b = u / np.linalg.norm(u), v / np.linalg.norm(v)
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(np.dot(a, b))
    if sin < 1e-12:
        return np.eye(3)
    return Rotation.from_rotvec(axis / sin * np.arctan2(sin, cos)).as_matrix()


def plant_toes(
    hip: FloatArray,
    ankle: FloatArray,
    foot: FloatArray,
    points: FloatArray,
    pivot: np.ndarray,
    times: FloatArray,
    fade_s: float = 0.1,
    max_pitch_deg: float = 70.0,
    reach_tol_m: float = 0.005,
) -> tuple[FloatArray, FloatArray]:
    """Leg and foot rotations that keep a foot's toes planted while its heel rises.

    Parameters
    ----------
    hip, ankle
        ``(n, 3)`` hip and ankle centres of the leg as planned (world, floor at z = 0).
    foot
        ``(n, 3, 3)`` planned world rotations of the foot (flat in stance).
    points
        ``(k, 3)`` foot surface points relative to the ankle, neutral pose.
    pivot
        ``(n,)`` frames in stance in which this foot does not hold the body (in a walk,
        double support, from the other foot's landing to this one's toe-off).
    times
        ``(n,)`` frame times.
    fade_s
        After a pivot ends the leg and the foot turn back to their plan over this time.
    max_pitch_deg
        The steepest toes-down pitch tried.
    reach_tol_m
        A frame whose leg cannot put the planted toe point within this distance ends the
        pivot there: the toes leave the floor.

    Returns
    -------
    leg
        ``(n, 3, 3)`` rotation about the hip centre to apply to the thigh and shank (left-
        multiplied to their world rotations); the identity outside pivots and their fades.
    foot
        ``(n, 3, 3)`` foot rotations: in a pivot, the planned heading pitched toes-down so
        that the toe point planted in the pivot's first frame stays where it is; the plan
        elsewhere, faded in after each pivot.

    Notes
    -----
    The knee keeps its planned flexion, so the hip-ankle distance is the planned one; the
    ankle is put where that distance meets the circle the ankle draws about the planted
    toe as the foot pitches, and the leg is turned about the hip to reach it (the smallest
    rotation, mostly hip extension). The toe point is the foot's most forward point within
    3 mm of its lowest in the frame before the pivot, where the foot is still flat.
    """
    n = hip.shape[0]
    leg = np.repeat(np.eye(3)[None], n, axis=0)
    out = foot.copy()
    idx = np.flatnonzero(pivot)
    if idx.size == 0:
        return leg, out
    grid = np.arange(0.0, max_pitch_deg + 0.125, 0.25)
    pitched = rot_x(grid)  # (m, 3, 3); + pitch = toes down
    starts = idx[np.insert(np.diff(idx) > 1, 0, True)]
    ends = idx[np.append(np.diff(idx) > 1, True)]
    for start, end in zip(starts, ends, strict=True):
        # where the toes are in the last frame before the pivot (the foot still flat)
        ref = max(start - 1, 0)
        world = np.einsum("ij,kj->ki", foot[ref], points) + ankle[ref]
        forward = foot[ref] @ np.array([0.0, -1.0, 0.0])
        low = np.flatnonzero(world[:, 2] <= world[:, 2].min() + 0.003)
        toe = int(low[np.argmax(world[low] @ forward)])
        planted = world[toe]
        last = start - 1
        for k in range(start, end + 1):
            ahead = foot[k] @ np.array([0.0, -1.0, 0.0])
            heading = float(np.degrees(np.arctan2(ahead[0], -ahead[1])))
            rotations = rot_z(-heading) @ pitched  # (m, 3, 3)
            ankles = planted - np.einsum("mij,j->mi", rotations, points[toe])
            length = float(np.linalg.norm(ankle[k] - hip[k]))
            miss = np.abs(np.linalg.norm(ankles - hip[k], axis=1) - length)
            best = int(np.argmin(miss))
            if miss[best] > reach_tol_m:
                break
            leg[k] = _rotation_between(ankle[k] - hip[k], ankles[best] - hip[k])
            out[k] = rotations[best]
            last = k
        if last < start:
            continue
        after = np.flatnonzero((times > times[last]) & (times <= times[last] + fade_s))
        after = after[~pivot[after] | (after > last)]
        if after.size:
            w = (times[after] - times[last]) / fade_s
            out[after] = slerp(np.repeat(out[last][None], after.size, axis=0), foot[after], w)
            leg[after] = slerp(np.repeat(leg[last][None], after.size, axis=0), leg[after], w)
    return leg, out
