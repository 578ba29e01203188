"""The walking stance rule on a real walker, against her foot contacts
(bench/real_walk_events.py; ../shared/real_videos/sports2d_demo)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bench.real_walk_events import (
    crop_walker,
    edge_error,
    heel_offs,
    read_grey_frames,
    reference_stances,
    stance_edges,
    walk_pose,
)
from screener.config import AnalysisConfig
from screener.pose import estimate_pose


def test_edge_error_takes_the_nearest_found_edge_within_the_match_window() -> None:
    assert edge_error(100, [80, 99, 104]) == -1
    assert edge_error(100, [90, 120]) is None  # both further than 6 frames
    assert edge_error(None, [100]) is None
    assert edge_error(100, []) is None


@pytest.mark.real_videos
def test_real_videos_walk_stance_edges_fall_on_the_walkers_contacts(
    real_videos_dir: Path, tmp_path: Path
) -> None:
    demo = real_videos_dir / "sports2d_demo" / "demo.mp4"
    if not demo.is_file():
        pytest.skip(f"real_videos: {demo} is absent")
    clip = crop_walker(demo, tmp_path / "walker.mp4")
    config = AnalysisConfig()
    raw = estimate_pose(clip, config.pose, None)
    stances = reference_stances(raw, read_grey_frames(clip))

    # the reference: seven heel strikes read from the pixels at a steady cadence
    # (measured 18-20 frames apart) and the pixels' toe-offs near the eye's labels
    firsts = [s.first for s in stances if s.first is not None]
    assert len(firsts) == 7
    assert all(16 <= b - a <= 22 for a, b in itertools.pairwise(firsts))
    toe_checks = [s.last_by_pixels - s.last for s in stances if s.last_by_pixels is not None]
    assert sum(abs(d) <= 2 for d in toe_checks) >= 6  # measured 7 of 8

    # the heel leaves the ground well before the toes, as gait texts say (measured: 3-14
    # frames, median 8.5, 283 ms; the renders' walk raises it 120-150 ms before)
    on_toes = [
        s.last - off
        for s, off in zip(stances, heel_offs(raw, read_grey_frames(clip), stances), strict=True)
        if off is not None
    ]
    assert len(on_toes) >= 6
    assert all(0 < d <= 16 for d in on_toes)
    assert sorted(on_toes)[len(on_toes) // 2] >= 4

    # the screener's rule, at its default speed limit: where it finds a stance phase
    # its edges are within a frame of the contacts (measured: 5 of 8 toe-offs and
    # 3 of 7 heel strikes; the others missed or 4-6 frames off)
    found = stance_edges(walk_pose(raw, config), config)
    toe_offs = [edge_error(s.last, [e for _, e in found[s.side]]) for s in stances]
    strikes = [edge_error(s.first, [b for b, _ in found[s.side]]) for s in stances]
    assert sum(e is not None and abs(e) <= 1 for e in toe_offs) >= 4
    assert sum(e is not None and abs(e) <= 1 for e in strikes) >= 2
