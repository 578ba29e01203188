"""A posed foot and the floor: kept above it in the air, on its toes in push-off."""

from __future__ import annotations

import numpy as np

from screener_synth.feet import clear_floor, pivot_on_toes
from screener_synth.geometry import rot_x

#: a box-shaped foot relative to its ankle: heel 5 cm behind, toes 15 cm ahead (the
#: subject faces -Y), sole 8 cm below the ankle
FOOT = np.array(
    [[x, y, -0.08] for x in (-0.04, 0.04) for y in (0.05, -0.15)]
    + [[x, y, 0.0] for x in (-0.04, 0.04) for y in (0.05, -0.15)]
)


def _lowest(rotations: np.ndarray, ankle_z: np.ndarray) -> np.ndarray:
    return np.einsum("nij,kj->nki", rotations, FOOT)[..., 2].min(axis=1) + ankle_z


def test_a_rising_heel_keeps_the_toes_on_the_floor_then_fades_back_to_the_plan() -> None:
    n = 40
    times = np.arange(n) / 60.0
    ankle_z = np.concatenate([np.linspace(0.08, 0.14, 20), np.linspace(0.15, 0.2, 20)])
    flat = np.repeat(np.eye(3)[None], n, axis=0)
    pivot = np.arange(n) < 20
    out = pivot_on_toes(flat, ankle_z, FOOT, pivot, times, fade_s=0.1)
    low = _lowest(out, ankle_z)
    # on the floor through push-off: within the 0.5 degree grid (1.5 mm at the toes)
    assert np.all(np.abs(low[:20]) < 0.002)
    pitch = np.degrees(np.arctan2(out[:, 2, 1], out[:, 1, 1]))  # toes down > 0
    assert pitch[0] < 0.5 and pitch[19] > 20.0
    assert np.all(np.diff(pitch[:20]) >= -1e-9)  # the heel only rises
    # after toe-off the foot turns back to the (flat) plan over 0.1 s, without a jump
    assert np.all(np.abs(np.diff(pitch[19:27])) < pitch[19] / 4)
    assert np.allclose(out[27:], flat[27:])


def test_a_foot_that_does_not_push_off_is_left_as_planned() -> None:
    n = 10
    plan = rot_x(np.linspace(0.0, 10.0, n))
    out = pivot_on_toes(plan, np.full(n, 0.3), FOOT, np.zeros(n, bool), np.arange(n) / 30.0)
    assert np.allclose(out, plan)


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
