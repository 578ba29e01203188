"""Where a posed foot meets the floor: a foot in the air is kept above it.

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
