"""bench/silhouette_fppa.py: its fit and the model file it writes, on rows with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import silhouette_fppa as bench
from screener.silhouette import READINGS, load_silhouette_model

FEATURES = ["knee_fppa_deg", "knee_fppa_geometric_deg", *READINGS]


def _rows(n_clips: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for clip in range(n_clips):
        view = "anterior" if clip % 2 else "posterior"
        for _ in range(5):
            x = rng.normal(6.0, 4.0, len(FEATURES))
            truth = 1.0 + 0.8 * x[0] + 0.3 * x[2] if view == "anterior" else 2.0 + x[0]
            rows.append(
                {
                    "clip": f"c{clip}", "folder": "f", "clip_id": f"f/c{clip}", "task": "jog",
                    "view": view, "azimuth_deg": 3.0, "truth": truth,
                    **dict(zip(FEATURES, x, strict=True)),
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_the_fit_recovers_a_linear_truth_and_fills_a_missing_reading():
    rows = _rows()
    front = rows[rows["view"] == "anterior"].copy()
    params = bench.fit_ridge(front, FEATURES)
    assert np.sqrt(np.mean((bench.predict(params, front, FEATURES) - front["truth"]) ** 2)) < 0.1
    front.loc[front.index[0], "sil_midline"] = np.nan
    assert np.isfinite(bench.predict(params, front, FEATURES)).all()


def test_leave_one_clip_out_is_near_zero_for_an_exact_linear_truth():
    rows = _rows()
    assert bench.loco_rmse(rows[rows["view"] == "posterior"], FEATURES) < 0.2


def test_the_written_model_is_read_back_and_predicts_as_fitted(tmp_path):
    rows = _rows()
    path = tmp_path / "model.toml"
    bench.write_model(path, rows, ["set_a"])
    model = load_silhouette_model(path)
    assert model.features == tuple(FEATURES)
    assert set(model.views) == {"anterior", "posterior"}
    back = rows[rows["view"] == "posterior"]
    direct = bench.predict(bench.fit_ridge(back, FEATURES), back, FEATURES)
    assert model.predict("posterior", back) == pytest.approx(direct, abs=1e-3)
    assert "set_a" in model.source
