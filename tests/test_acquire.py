"""The video stage: frames read for the searches, and the searches' cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import screener.acquire as acquire
from screener.config import AnalysisConfig
from screener.video import iter_frames, read_frames


@pytest.mark.parametrize("rotation", [0, 90])
def test_read_frames_are_the_frames_iter_frames_yields(make_video, rotation):
    # keyframes every 10 frames: the far indices are reached by seeking
    video = make_video("v.mp4", n_frames=60, size=(160, 96), display_rotation_ccw=rotation)
    wanted = {None: [0, 7, 25, 26, 59, 75], 64: [3, 41, 59]}
    got = read_frames(video, wanted)
    for size, indices in wanted.items():
        expected = {
            f.index: f.rgb for f in iter_frames(video, max_long_side_px=size) if f.index in indices
        }
        assert sorted(got[size]) == sorted(expected) == [i for i in indices if i < 60]
        for index, rgb in expected.items():
            assert np.array_equal(got[size][index], rgb), (size, index)


def test_read_frames_of_nothing_reads_nothing(tmp_path):
    assert read_frames(tmp_path / "missing.mp4", {640: []}) == {640: {}}


def test_search_results_are_cached_with_the_keypoints(sample_clip, tmp_path, monkeypatch):
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    first = acquire.estimate_video_pose(sample_clip, config)
    assert first.other_people is not None and first.faces is not None
    assert len(list((tmp_path / "cache").rglob("*.searches.json"))) == 1

    def no_search(*args, **kwargs):
        raise AssertionError("the searches ran again")

    monkeypatch.setattr(acquire, "_search_frames", no_search)
    again = acquire.estimate_video_pose(sample_clip, config, release_pose_model=True)
    assert again.raw.source["cache"] == "hit"
    assert again.other_people == first.other_people
    assert again.faces == first.faces

    # other search settings: not taken from the cache
    fewer = config.model_copy(
        update={"capture": config.capture.model_copy(update={"other_people_frames": 4})}
    )
    with pytest.raises(AssertionError, match="ran again"):
        acquire.estimate_video_pose(sample_clip, fewer)


def test_an_unreadable_search_cache_entry_is_recomputed(sample_clip, tmp_path):
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    first = acquire.estimate_video_pose(sample_clip, config)
    (entry,) = Path(tmp_path / "cache").rglob("*.searches.json")
    entry.write_text("{not json", encoding="utf-8")
    again = acquire.estimate_video_pose(sample_clip, config)
    assert again.other_people == first.other_people and again.faces == first.faces
    assert entry.read_text(encoding="utf-8").startswith("{")
    assert "not json" not in entry.read_text(encoding="utf-8")
