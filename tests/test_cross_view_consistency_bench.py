"""bench/cross_view_consistency.py: verdicts on two cameras' series with known answers."""

from __future__ import annotations

import numpy as np

from bench.cross_view_consistency import consistency, tally

TRUTH = np.sin(np.linspace(0, 6, 60)) * 5


def _entry(geometric_offset: float, model: np.ndarray) -> dict:
    return {
        "values": {
            "geometric": (TRUTH + geometric_offset).tolist(),
            "model": model.tolist(),
            "truth": TRUTH.tolist(),
        }
    }


def test_a_correction_that_removes_each_views_own_error_passes_and_matches_the_truth() -> None:
    a = _entry(+3.0, TRUTH + 0.2)
    b = _entry(-3.0, TRUTH - 0.2)
    result = consistency(a, b)
    assert result is not None
    assert result.geometric_rms_deg == np.float64(6.0)
    assert result.model_rms_deg < 0.5
    assert result.truth_verdict and result.verdict(0.5)


def test_a_correction_that_flattens_every_reading_is_caught_only_by_the_guard() -> None:
    flat = np.zeros_like(TRUTH)
    result = consistency(_entry(+3.0, flat), _entry(-3.0, flat))
    assert result is not None
    assert result.model_rms_deg == 0.0
    assert result.verdict(0.0)  # agreement alone rewards it
    assert not result.verdict(0.5)  # the guard does not
    assert not result.truth_verdict


def test_the_tally_counts_bodies_and_agreement_with_the_truth() -> None:
    good = {"cam02": {"pelvic_obliquity_deg": _entry(3.0, TRUTH)},
            "cam04": {"pelvic_obliquity_deg": _entry(-3.0, TRUTH)}}  # fmt: skip
    flat = np.zeros_like(TRUTH)
    bad = {"cam02": {"pelvic_obliquity_deg": _entry(3.0, flat)},
           "cam04": {"pelvic_obliquity_deg": _entry(-3.0, flat)}}  # fmt: skip
    counts = tally({"b1": good, "b2": bad}, ("cam02", "cam04"), 0.5)["pelvic_obliquity_deg"]
    assert counts == {
        "bodies": 2, "pass": 1, "pass_no_guard": 2, "truth": 1, "agree": 2, "agree_no_guard": 1,
    }  # fmt: skip
