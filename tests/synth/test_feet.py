"""A posed foot and the floor: kept above it in the air, rolled onto planted toes in push-off."""

from __future__ import annotations

import numpy as np

from screener_synth.feet import clear_floor, plant_toes
from screener_synth.geometry import rot_x

#: a box-shaped foot relative to its ankle: heel 5 cm behind, toes 15 cm ahead (the
#: subject faces -Y), sole 8 cm below the ankle
FOOT = np.array(
    [[x, y, -0.08] for x in (-0.04, 0.04) for y in (0.05, -0.15)]
    + [[x, y, 0.0] for x in (-0.04, 0.04) for y in (0.05, -0.15)]
)


def _lowest(rotations: np.ndarray, ankle_z: np.ndarray) -> np.ndarray:
    return np.einsum("nij,kj->nki", rotations, FOOT)[..., 2].min(axis=1) + ankle_z


def test_a_free_foot_is_pitched_out_of_the_floor_as_little_as_it_can() -> None:
    n = 5
    plan = rot_x(np.full(n, 30.0))  # toes 30 degrees down: through the floor at this height
    ankle_z = np.full(n, 0.09)
    free = np.array([True, True, True, False, False])
    out = clear_floor(plan, ankle_z, FOOT, free)
    assert np.all(_lowest(out[:3], ankle_z[:3]) >= -0.001)  # the 1 degree grid
    assert np.allclose(out[3:], plan[3:])  # a foot that holds the body is not moved
    pitch = np.degrees(np.arctan2(out[:, 2, 1], out[:, 1, 1]))
    assert np.all((pitch[:3] > 0.0) & (pitch[:3] < 30.0))


def test_a_trailing_foot_rolls_onto_planted_toes_until_the_leg_cannot_reach() -> None:

    n, fps = 60, 100.0
    times = np.arange(n) / fps
    # the hip moves forward (-Y) at 1.2 m/s over a leg of constant length whose
    # foot starts flat on the floor 10 cm behind it: the planned ankle just follows the hip
    hip = np.column_stack([np.zeros(n), -1.2 * times, np.full(n, 0.93)])
    ankle = hip + np.array([0.0, 0.1, -0.85])
    flat = np.repeat(np.eye(3)[None], n, axis=0)
    pivot = np.arange(n) >= 1
    leg, foot = plant_toes(hip, ankle, flat, FOOT, pivot, times)
    new_ankle = hip + np.einsum("nij,nj->ni", leg, ankle - hip)
    toes = np.einsum("nij,kj->nki", foot, FOOT) + new_ankle[:, None, :]
    tip = toes[:, np.argmin(FOOT[:, 1] + 10 * FOOT[:, 2])]  # front bottom corner
    planted = np.linalg.norm(tip - tip[0], axis=1) < 0.005
    held = int(np.argmin(planted))  # the first frame whose toes have moved
    assert 6 < held < n - 15  # rolled for a while, then the leg could no longer reach
    # the toes stay put and on the floor while the heel rises
    assert np.abs(tip[:held, 2]).max() < 0.003
    heel = toes[:, np.argmax(FOOT[:, 1] - 10 * FOOT[:, 2])]  # back bottom corner
    assert np.all(np.diff(heel[:held, 2]) > 0) and heel[held - 1, 2] > 0.03
    # the leg keeps its length (only turned about the hip), and after a 0.1 s fade its plan
    assert np.allclose(np.linalg.norm(new_ankle - hip, axis=1), np.linalg.norm(ankle - hip, axis=1))
    assert np.allclose(leg[held + 11 :], np.eye(3)) and np.allclose(foot[held + 11 :], flat[0])
