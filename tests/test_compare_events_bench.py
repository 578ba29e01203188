"""bench.compare_events: two readings of the same events are paired event by event, and
the change and its clip-resampled interval have known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.compare_events import compare, paired_change, paired_events


def _events(errors: dict[str, list[float]], view: str = "anterior", inside: bool = True) -> list:
    """Rows of a ``--events-csv`` table: knee FPPA events of squats whose truths are
    10, 11, ... within each clip, read with the given errors."""
    rows = []
    for clip, errs in errors.items():
        for k, err in enumerate(errs):
            truth = 10.0 + k
            rows.append(("sls", view, clip, "knee_fppa_deg", truth + err, truth, inside))
    return rows


COLUMNS = ["task", "view", "clip", "metric", "measured", "truth", "inside_envelope"]


def test_a_uniform_shrink_of_every_error_is_measured_with_a_tight_interval() -> None:
    rng = np.random.default_rng(1)
    errors = {f"c{k}": list(rng.normal(0.0, 3.0, 3)) for k in range(20)}
    before = pd.DataFrame(_events(errors), columns=COLUMNS)
    halved = {clip: [e / 2 for e in errs] for clip, errs in errors.items()}
    after = pd.DataFrame(_events(halved), columns=COLUMNS)
    row = compare(before, after, "sls", "knee_fppa_deg").set_index("view").loc["all"]
    assert row.events == 60 and row.clips == 20
    assert row.rmse_after_deg == pytest.approx(row.rmse_before_deg / 2)
    assert row.change_pct == pytest.approx(-50.0)
    # every resample halves its RMSE: the interval lies below zero, around the difference
    assert row.ci_low_deg <= row.difference_deg <= row.ci_high_deg < 0.0


def test_a_change_in_one_clip_only_gives_an_interval_holding_zero() -> None:
    errors = {f"c{k}": [2.0, -2.0] for k in range(10)}
    before = pd.DataFrame(_events(errors), columns=COLUMNS)
    after = pd.DataFrame(_events({**errors, "c0": [0.0, 0.0]}), columns=COLUMNS)
    change = paired_change(paired_events(before, after, "sls", "knee_fppa_deg"))
    assert change["difference_deg"] < 0.0
    assert change["ci_high_deg"] == pytest.approx(0.0)  # resamples without c0 change nothing


def test_views_are_split_and_events_outside_the_envelope_left_out() -> None:
    front = _events({"f0": [1.0, 1.0], "f1": [1.0]}, view="anterior")
    behind = _events({"b0": [3.0]}, view="posterior")
    outside = _events({"o0": [30.0]}, inside=False)
    before = pd.DataFrame(front + behind + outside, columns=COLUMNS)
    table = compare(before, before, "sls", "knee_fppa_deg").set_index("view")
    assert list(table.index) == ["all", "anterior", "posterior"]
    assert table.loc["anterior", "rmse_before_deg"] == pytest.approx(1.0)
    assert table.loc["posterior", "rmse_before_deg"] == pytest.approx(3.0)
    assert table.loc["all", "events"] == 4  # the clip outside is not counted
    assert table.loc["all", "difference_deg"] == 0.0


def test_tables_of_different_events_are_refused() -> None:
    before = pd.DataFrame(_events({"c0": [1.0, 1.0]}), columns=COLUMNS)
    other = before.assign(truth=before["truth"] + 5.0)
    with pytest.raises(ValueError, match="do not pair"):
        paired_events(before, other, "sls", "knee_fppa_deg")
