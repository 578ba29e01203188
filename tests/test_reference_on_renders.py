"""Known answers for the pure functions of ``bench/reference_on_renders.py``."""

from __future__ import annotations

import numpy as np
import pytest

from bench.reference_on_renders import (
    LAB_PLACEMENTS,
    agreement,
    camera_position,
    fitted_yfov_deg,
    pinhole_to_camera,
    verdicts,
)
from screener_synth.geometry import PinholeCamera


def test_pinhole_to_camera_projects_as_the_render_camera() -> None:
    rng = np.random.default_rng(0)
    pelvis = np.array([0.1, 0.2, 0.95])
    for placement in LAB_PLACEMENTS:
        pos = camera_position(placement, pelvis)
        pin = PinholeCamera(tuple(pos), tuple(pelvis), 40.0, 360, 640, roll_deg=7.0)
        cam = pinhole_to_camera(placement.name, pin)
        points = pelvis + rng.normal(0.0, 0.5, (50, 3))
        np.testing.assert_allclose(cam.project(points), pin.project(points), atol=1e-9)
        np.testing.assert_allclose(cam.position_m, pos, atol=1e-12)


def test_camera_position_matches_the_placement() -> None:
    pelvis = np.array([0.0, 0.0, 1.0])
    front = camera_position(LAB_PLACEMENTS[2], pelvis)  # cam04: 5 deg toward the left
    assert front[1] < 0 and front[0] > 0  # in front (-Y), on the subject's left (+X)
    assert np.hypot(front[0], front[1]) == pytest.approx(4.08)
    assert front[2] == pytest.approx(1.92)
    behind = camera_position(LAB_PLACEMENTS[1], pelvis)  # cam02: -164 deg
    assert behind[1] > 0 and behind[0] < 0


def test_fitted_yfov_frames_the_points() -> None:
    pos, target = np.array([0.0, -3.0, 1.0]), np.array([0.0, 0.0, 1.0])
    points = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]])  # 1 m above and below, 3 m away
    yfov = fitted_yfov_deg(pos, target, points, (360, 640))
    assert yfov == pytest.approx(2 * np.degrees(np.arctan((1 / 3) / 0.85)))


def test_agreement_and_verdicts() -> None:
    fig = agreement(np.array([1.0, 3.0, np.nan]), np.array([0.0, 0.0, 5.0]))
    assert fig["n"] == 2
    assert fig["bias_deg"] == pytest.approx(2.0)
    assert fig["rmse_deg"] == pytest.approx(np.sqrt(5.0))
    assert fig["sd_deg"] == pytest.approx(1.0)

    def cam(geo_ref: float, model_ref: float, geo_t: float, model_t: float) -> dict:
        return {
            "geometric-ref_loo": {"rmse_deg": geo_ref, "sd_deg": geo_ref},
            "model-ref_loo": {"rmse_deg": model_ref, "sd_deg": model_ref},
            "geometric-truth": {"rmse_deg": geo_t},
            "model-truth": {"rmse_deg": model_t},
            "geometric-ref_all": {"rmse_deg": geo_ref},
            "model-ref_all": {"rmse_deg": model_ref},
        }

    v = verdicts({"a": cam(5, 4, 5, 3), "b": cam(5, 6, 5, 3)})
    assert not v["check"] and v["truth"] and not v["agree"]
    assert verdicts({"a": cam(5, 4, 5, 3)})["check"] is False  # one camera is too few
