"""bench/landscape_square.py's summary of the whole picture against the square."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.landscape_square import summarise


def test_summary_adds_the_clips_of_each_pass_and_counts_refusals():
    rows = pd.DataFrame(
        [
            {
                "clip": "a",
                "pass": "whole",
                "detected": 0.4,
                "n_true": 4,
                "n_found": 2,
                "n_timed": 1,
                "fppa_sq": 8.0,
                "n_fppa": 2,
                "refused": None,
            },
            {
                "clip": "a",
                "pass": "square",
                "detected": 1.0,
                "n_true": 4,
                "n_found": 4,
                "n_timed": 3,
                "fppa_sq": 16.0,
                "n_fppa": 4,
                "refused": None,
            },
            {
                "clip": "b",
                "pass": "whole",
                "detected": 0.1,
                "n_true": np.nan,
                "n_found": np.nan,
                "n_timed": np.nan,
                "fppa_sq": np.nan,
                "n_fppa": np.nan,
                "refused": "too few",
            },
            {
                "clip": "b",
                "pass": "square",
                "detected": 0.9,
                "n_true": 3,
                "n_found": 3,
                "n_timed": 3,
                "fppa_sq": 9.0,
                "n_fppa": 3,
                "refused": None,
            },
        ]
    )
    table = summarise(rows)
    assert list(table.index) == ["whole", "square"]
    whole, square = table.loc["whole"], table.loc["square"]
    assert (whole["clips"], whole["refused"], whole["found"], whole["true"]) == (2, 1, 2, 4)
    assert whole["fppa_rmse_deg"] == pytest.approx(2.0) and whole["fppa_events"] == 2
    assert (square["found"], square["true"], square["timed"]) == (7, 7, 6)
    assert square["fppa_rmse_deg"] == pytest.approx(np.sqrt(25 / 7), abs=0.01)
    assert square["detected"] == pytest.approx(0.95)
