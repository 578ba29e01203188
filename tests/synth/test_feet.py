"""A posed foot and the floor: a foot in the air is kept above it."""

from __future__ import annotations

import numpy as np

from screener_synth.feet import clear_floor
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
