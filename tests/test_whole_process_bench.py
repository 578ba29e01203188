"""bench/whole_process.py: the paired differences of an A/B of two source trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.whole_process import paired_differences, tree_env


def test_paired_differences_are_taken_pair_by_pair() -> None:
    # the machine slows down over the run: the medians of the two sides overlap, the
    # pairs all say the change saves 0.1 s
    before = [5.0, 5.4, 5.8, 6.2]
    after = [4.9, 5.3, 5.7, 6.1]
    d = paired_differences(after, before)
    assert d["median"] == pytest.approx(-0.1)
    assert d["low"] == pytest.approx(-0.1) and d["high"] == pytest.approx(-0.1)
    assert d["lower_after"] == 4 and d["pairs"] == 4


def test_paired_differences_need_matching_runs() -> None:
    with pytest.raises(ValueError, match="same, non-zero number"):
        paired_differences([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="same, non-zero number"):
        paired_differences([], [])


def test_a_tree_without_the_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no screener package"):
        tree_env(tmp_path, {})
