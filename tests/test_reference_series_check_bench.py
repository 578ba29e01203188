"""bench/reference_series_check.py: reading a reference, resampling it, finding the
offset, the comparison and the verdict (known answers), and once end to end on a sample
video with its rendered truth as the reference."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.real_video_agreement import agreement
from bench.reference_series_check import (
    ReferenceError,
    best_offset_s,
    check_recording,
    frame_pairs,
    read_reference,
    resample,
    verdict,
)

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"


def _frames(fps: float = 30.0, seconds: float = 4.0) -> pd.DataFrame:
    t = np.arange(0.0, seconds, 1.0 / fps)
    return pd.DataFrame(
        {
            "time_s": t,
            "pelvic_obliquity_deg": 5 * np.sin(2 * np.pi * 0.9 * t)
            + 2 * np.sin(2 * np.pi * 2.3 * t),
            "left_in_stance": (np.sin(2 * np.pi * 0.9 * t) > 0).astype(int),
            "right_in_stance": (np.sin(2 * np.pi * 0.9 * t) <= 0).astype(int),
        }
    )


def _reference_of(frames: pd.DataFrame, offset_s: float, rate_hz: float = 100.0) -> pd.DataFrame:
    """The frames' pelvic obliquity sampled at ``rate_hz`` on a clock ``offset_s`` ahead."""
    t = np.arange(-1.0, frames["time_s"].iloc[-1] + 1.0, 1.0 / rate_hz)
    values = np.interp(t, frames["time_s"], frames["pelvic_obliquity_deg"])
    return pd.DataFrame({"time_s": t + offset_s, "pelvic_obliquity_deg": values})


def test_a_reference_without_times_or_angles_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "ref.csv"
    pd.DataFrame({"t": [0.0, 0.1], "pelvic_obliquity_deg": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(ReferenceError, match="no time_s column"):
        read_reference(path)
    pd.DataFrame({"time_s": [0.0, 0.1], "pelvis": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(ReferenceError, match=r"as frames\.csv does"):
        read_reference(path)
    pd.DataFrame({"time_s": [0.1, 0.0], "pelvic_obliquity_deg": [1.0, 2.0]}).to_csv(
        path, index=False
    )
    with pytest.raises(ReferenceError, match="strictly increasing"):
        read_reference(path)


def test_resampling_interpolates_and_leaves_gaps_and_the_outside_empty() -> None:
    ref = pd.DataFrame(
        {"time_s": [0.0, 1.0, 2.0, 3.0], "pelvic_obliquity_deg": [0, 10, np.nan, 30]}
    )
    out = resample(ref, np.array([-0.5, 0.5, 1.5, 2.5, 3.0, 3.5]))["pelvic_obliquity_deg"]
    np.testing.assert_allclose(out, [np.nan, 5.0, np.nan, np.nan, 30.0, np.nan])


@pytest.mark.parametrize("offset", [-0.45, 0.0, 0.72])
def test_the_offset_between_the_clocks_is_found(offset: float) -> None:
    frames = _frames()
    # the offset read from a sync event is 60 ms off; the refinement finds the true one
    found, r = best_offset_s([frames], _reference_of(frames, offset), offset + 0.06, 0.1)
    assert found == pytest.approx(offset, abs=0.006)
    assert r > 0.99
    at_frames = resample(_reference_of(frames, offset), frames["time_s"].to_numpy() + found)
    measured, ref = frame_pairs(frames, at_frames)["pelvic_obliquity_deg"]
    assert agreement(measured, ref)["rmse_deg"] < 0.05


def test_a_leg_angle_is_compared_only_while_that_leg_bears_weight() -> None:
    frames = _frames()
    frames["left_hip_adduction_deg"] = 4.0
    at_frames = frames[["time_s"]].assign(
        left_hip_adduction_deg=np.where(frames.left_in_stance > 0, 4.0, 50.0)
    )
    measured, ref = frame_pairs(frames, at_frames)["hip_adduction_deg"]
    assert len(measured) == int(frames.left_in_stance.sum())
    assert agreement(measured, ref)["rmse_deg"] == 0.0


def _recording(name: str, geo: float, cor: float, warnings: list[str] | None = None) -> dict:
    def run(rmse: float) -> dict:
        return {"frames": {"pelvic_obliquity_deg": {"rmse_deg": rmse}}, "events": {}}

    return {
        "video": f"{name}.mp4",
        "reference": f"{name}.csv",
        "placement_warnings": warnings or [],
        "comparison": {"geometric": run(geo), "corrected": run(cor)},
    }


def test_the_verdict_needs_two_recordings_inside_the_envelope_all_closer() -> None:
    first, second = _recording("a", 4.0, 2.0), _recording("b", 5.0, 3.0)
    assert not verdict([first])["pelvic_obliquity_deg"]["verified"]
    assert not verdict([first, first])["pelvic_obliquity_deg"]["verified"]  # one recording
    assert verdict([first, second])["pelvic_obliquity_deg"]["verified"]
    assert not verdict([first, _recording("c", 3.0, 3.5)])["pelvic_obliquity_deg"]["verified"]
    outside = _recording("d", 3.0, 3.5, ["the camera is about 25° to the patient's left"])
    v = verdict([first, second, outside])["pelvic_obliquity_deg"]
    assert (v["recordings"], v["verified"]) == (2, True)


def _args(**kw: object) -> argparse.Namespace:
    base = {
        "reference_source": "rendered joint centres",
        "task": "walk",
        "side": "auto",
        "view": "anterior",
        "lens_height_cm": None,
        "offset_s": 0.25,
        "refine_s": 0.1,
    }
    return argparse.Namespace(**{**base, **kw})  # fmt: skip


def test_a_sample_walk_against_its_own_truth_on_a_shifted_clock(tmp_path: Path) -> None:
    """MediaPipe on a real file: the sample's rendered truth, its clock 0.3 s ahead, is
    found 0.3 s ahead from a sync read 50 ms off, and a reference with its sign reversed
    is refused."""
    video = SAMPLES / "walk_faulty_ant_30fps.mp4"
    truth = pd.read_csv(SAMPLES / "walk_faulty_ant_30fps.truth.csv")
    columns = [
        "time_s",
        "pelvic_obliquity_deg",
        "left_hip_adduction_deg",
        "right_hip_adduction_deg",
    ]
    reference = truth[columns].assign(time_s=truth["time_s"] + 0.3)
    path = tmp_path / "reference.csv"
    reference.to_csv(path, index=False)
    result = check_recording(video, path, _args())
    assert result["offset_s"] == pytest.approx(0.3, abs=1 / 30)
    events = result["comparison"]["corrected"]["events"]
    assert events["pelvic_drop_deg"]["n"] > 0 and events["hip_adduction_deg"]["n"] > 0
    given = check_recording(video, path, _args(offset_s=0.3, refine_s=0.0))
    assert given["offset_s"] == 0.3
    assert given["comparison"]["geometric"]["frames"]["pelvic_obliquity_deg"]["n"] > 0
    reversed_sign = reference.assign(pelvic_obliquity_deg=-reference["pelvic_obliquity_deg"])
    reversed_sign = reversed_sign.drop(
        columns=["left_hip_adduction_deg", "right_hip_adduction_deg"]
    )
    reversed_sign.to_csv(path, index=False)
    with pytest.raises(ReferenceError, match="correlates negatively"):
        check_recording(video, path, _args())
