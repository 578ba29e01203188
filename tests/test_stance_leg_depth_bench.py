"""bench/stance_leg_depth.py: the request's counts on known rows, and a stored squat."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.stance_leg_depth import edge_table, main, outcome, read_stance_legs

CORPUS = Path(__file__).parents[1] / "corpus" / "val"
BEHIND = "sls_left_post_24fps_val004"
FRONT = "sls_left_ante_24fps_val000"


def _table() -> pd.DataFrame:
    """Four squats: right and near-level in depth, wrong with its lower foot 0.2 m nearer,
    right with it 0.12 m nearer (outside the envelope), and one asked for already."""
    return pd.DataFrame(
        {
            "clip": ["a", "b", "c", "d"],
            "true": ["left", "left", "right", "right"],
            "inside": [True, True, False, True],
            "elevation_deg": [0.0, 15.0, 10.0, 5.0],
            "read": ["left", "right", "right", "asked"],
            "cue": ["lower_foot", "lower_foot", "lower_foot", None],
            "nearer_m": [0.02, 0.20, 0.12, np.nan],
        }
    )


def test_a_lower_foot_nearer_than_the_edge_becomes_a_request():
    table = _table()
    assert list(outcome(table, None)) == ["right", "wrong", "right", "asked"]
    assert list(outcome(table, 0.15)) == ["right", "asked", "right", "asked"]
    assert list(outcome(table, 0.10)) == ["right", "asked", "asked", "asked"]
    rows = edge_table(table, [0.10, 0.15]).set_index("edge_m").astype(object)
    records = rows.to_dict(orient="index")
    counts = {e: [r["right_all"], r["asked_all"], r["wrong_all"]] for e, r in records.items()}
    assert counts == {"off": [2, 1, 1], "0.10": [1, 3, 0], "0.15": [2, 2, 0]}
    inside = [records["0.10"][c] for c in ("right_inside", "asked_inside", "wrong_inside")]
    assert inside == [1, 2, 0]


@pytest.mark.skipif(not CORPUS.exists(), reason="no corpus")
def test_a_stored_squat_from_behind_is_read_with_its_depth_lead(tmp_path, capsys):
    for name in (BEHIND, FRONT):
        for path in CORPUS.glob(f"{name}.*"):
            shutil.copy(path, tmp_path / path.name)
    table = read_stance_legs([tmp_path])
    assert len(table) == 1 and table["true"].iloc[0] == "left"  # the front squat left out
    read, nearer = str(table["read"].iloc[0]), float(table["nearer_m"].iloc[0])
    assert read in ("left", "right", "asked")
    if read != "asked":
        assert np.isfinite(nearer) and abs(nearer) < 1.0
    assert main([str(tmp_path), "--edges", "0.14"]) == 0
    out = capsys.readouterr().out
    assert "1 single-leg squats filmed posterior" in out and "0.14" in out
