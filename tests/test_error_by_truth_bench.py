"""bench/error_by_truth.py: the error per bin of the true value, the reading's slope, the
split between and within clips, and the in-sample line (known answers on small tables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.error_by_truth import error_by_truth_bin, inside_events, linear_summary, main


def _table(rows: list[tuple[str, str, float, float, bool]]) -> pd.DataFrame:
    # (folder, clip, truth, reading, inside the envelope), all squats from the front
    return pd.DataFrame(
        [
            {
                "folder": f, "clip": c, "task": "sls", "view": "anterior",
                "metric": "knee_fppa_deg", "truth": t, "measured": m, "inside_envelope": i,
            }
            for f, c, t, m, i in rows
        ]
    )  # fmt: skip


def _summary(rows: pd.DataFrame) -> dict[str, float]:
    """The squats-from-the-front row of ``linear_summary`` as plain numbers."""
    table = linear_summary(inside_events(rows, "knee_fppa_deg"))
    row = table.to_dict("index")[("sls", "anterior")]
    return {str(k): float(v) for k, v in row.items()}


def test_a_shrinking_reading_is_read_low_at_large_truths_and_high_at_small() -> None:
    # reading = 5 + 0.5 x truth: +2.5 at truth 5, -5 at truth 20
    truths = [5.0, 5.0, 20.0, 20.0]
    rows = _table([("f", f"c{k}", t, 5.0 + 0.5 * t, True) for k, t in enumerate(truths)])
    table = error_by_truth_bin(inside_events(rows, "knee_fppa_deg"), [0, 10, 40])
    assert list(table["bias_deg"]) == [2.5, -5.0]
    assert list(table["rmse_deg"]) == [2.5, 5.0]
    summary = _summary(rows)
    assert summary["slope_reading_on_truth"] == pytest.approx(0.5)
    # a noiseless linear reading is undone exactly by the in-sample line
    assert summary["rmse_line_in_sample_deg"] == pytest.approx(0.0, abs=0.01)
    assert (summary["line_b"], summary["line_a"]) == (pytest.approx(2.0), pytest.approx(-10.0))


def test_error_splits_into_clip_offsets_and_scatter_within_clips() -> None:
    # two clips: one reads 3 deg high at both events, the other -1 and +1 about 0
    rows = _table(
        [
            ("f", "a", 10.0, 13.0, True),
            ("f", "a", 12.0, 15.0, True),
            ("f", "b", 10.0, 9.0, True),
            ("f", "b", 12.0, 13.0, True),
            ("g", "a", 11.0, 99.0, False),  # outside the envelope: left out
            ("g", "c", 11.0, np.nan, True),  # no reading: left out
        ]
    )
    events = inside_events(rows, "knee_fppa_deg")
    assert len(events) == 4
    summary = _summary(rows)
    assert summary["clips"] == 2
    # clip means +3 and 0 -> RMS sqrt(4.5); within: 0, 0, -1, +1 -> RMS sqrt(0.5)
    assert summary["between_clip_deg"] == pytest.approx(np.sqrt(4.5), abs=0.01)
    assert summary["within_clip_deg"] == pytest.approx(np.sqrt(0.5), abs=0.01)
    total = np.sqrt(summary["between_clip_deg"] ** 2 + summary["within_clip_deg"] ** 2)
    assert summary["rmse_deg"] == pytest.approx(total, abs=0.01)


def test_same_clip_name_in_two_folders_counts_as_two_clips() -> None:
    rows = _table([("f", "a", 10.0, 12.0, True), ("g", "a", 10.0, 8.0, True)])
    summary = _summary(rows)
    assert summary["clips"] == 2
    assert summary["within_clip_deg"] == 0.0


def test_command_prints_tables_and_refuses_a_wrong_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "events.csv"
    rows = [("f", f"c{k}", float(t), float(t) + 1.0, True) for k, t in enumerate(range(12))]
    _table(rows).to_csv(good, index=False)
    assert main([str(good), "--bins", "0,5,20"]) == 0
    out = capsys.readouterr().out
    assert "12 events, 12 clips inside the envelope" in out
    assert "rmse_line_in_sample_deg" in out

    other = tmp_path / "other.csv"
    pd.DataFrame({"clip": ["a"], "x": [1]}).to_csv(other, index=False)
    assert main([str(other)]) == 2
    assert "not a bench.accuracy events table" in capsys.readouterr().err
    assert main([str(tmp_path / "absent.csv")]) == 2
    assert "no such events table" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(good), "--bins", "5,0"])
