"""Pose estimation: real MediaPipe on short slices of real videos, the cache and errors.

The person videos are the committed sample videos (``sample_clip``); the same checks also
run on a real recording from ``../shared/real_videos`` (``*_real_videos`` tests, skipped
where that folder is absent).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from screener import pose as pose_module
from screener.config import PoseConfig
from screener.errors import ConfigError, NoPersonError
from screener.keypoints import PoseSequence
from screener.landmarks import INDEX, N_LANDMARKS
from screener.pose import (
    estimate_pose,
    landmarks_to_array,
    load_cached_pose,
    pose_provenance,
    video_sha256,
)
from screener.video import iter_frames, probe_video
from tests.conftest import remux_with_rotation

CFG = PoseConfig()


# --------------------------------------------------------------------------- helpers


def _check_person_sequence(seq: PoseSequence, clip: Path) -> None:
    """What any clip with one whole person in view must give."""
    info = probe_video(clip)
    times = np.array([f.time_s for f in iter_frames(clip)])
    assert seq.n_frames == times.size
    np.testing.assert_array_equal(seq.time_s, times)
    assert seq.image_size_px == (info.width_px, info.height_px)
    assert seq.detected.mean() > 0.8
    found = seq.detected
    # coordinates present exactly where a person was found, NaN (not 0) elsewhere
    assert np.isfinite(seq.image_xy_px[found]).all()
    assert np.isfinite(seq.world_xyz_m[found]).all()
    assert np.isnan(seq.image_xy_px[~found]).all()
    assert np.isnan(seq.world_xyz_m[~found]).all()
    # hips inside the (upright, full-size) image, in pixels not normalised units
    hips = seq.image_xy_px[found][:, [INDEX["left_hip"], INDEX["right_hip"]]]
    assert (hips[..., 0] > 0).all() and (hips[..., 0] < info.width_px).all()
    assert (hips[..., 1] > 0).all() and (hips[..., 1] < info.height_px).all()
    assert np.nanmax(seq.image_xy_px[..., 0]) > 1.5  # not normalised 0-1
    # world: metres, origin between the hips, a person-sized body
    mid_hip = seq.world_xyz_m[found][:, [INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=1)
    assert np.abs(mid_hip).max() < 0.1
    head_to_ankle = np.linalg.norm(
        seq.world_xyz_m[found][:, INDEX["nose"]] - seq.world_xyz_m[found][:, INDEX["left_ankle"]],
        axis=1,
    )
    assert 0.8 < np.median(head_to_ankle) < 2.2
    assert ((seq.visibility >= 0) & (seq.visibility <= 1)).all()
    # provenance
    assert seq.source["video"] == str(clip)
    assert seq.source["video_sha256"] == video_sha256(clip)
    assert "model_complexity=1" in seq.source["pose"]["pose_model"]
    assert seq.source["pose"]["mediapipe"] == "0.10.21"


# --------------------------------------------------------------------------- real MediaPipe


def test_estimate_pose_on_sample_video(sample_clip, tmp_path):
    seq = estimate_pose(sample_clip, CFG, tmp_path / "cache")
    _check_person_sequence(seq, sample_clip)


@pytest.mark.real_videos
def test_estimate_pose_on_real_videos(real_videos_clip):
    seq = estimate_pose(real_videos_clip, CFG, None)
    _check_person_sequence(seq, real_videos_clip)


def _check_cache(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    calls: list[str] = []
    real_legacy = pose_module._legacy
    real_new = pose_module._new_legacy_landmarker

    def counting_legacy(config):
        calls.append("run")
        return real_legacy(config)

    monkeypatch.setattr(pose_module, "_legacy", counting_legacy)
    first = estimate_pose(clip, CFG, cache)
    assert calls == ["run"] and first.source["cache"] == "miss"
    assert load_cached_pose(clip, CFG, cache) is not None

    # the same content under another name, other non-pose settings: no landmarker at all
    def no_landmarker(config):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(pose_module, "_legacy", no_landmarker)
    monkeypatch.setattr(pose_module, "_new_legacy_landmarker", no_landmarker)
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(clip.read_bytes())
    again = estimate_pose(copy, CFG, cache)
    assert again.source["cache"] == "hit" and again.source["video"] == str(copy)
    for name in ("time_s", "image_xy_px", "world_xyz_m", "visibility", "detected"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))

    # a different pose setting misses
    other = PoseConfig(smooth_landmarks=False)
    assert load_cached_pose(clip, other, cache) is None
    monkeypatch.setattr(pose_module, "_legacy", counting_legacy)
    monkeypatch.setattr(pose_module, "_new_legacy_landmarker", real_new)
    third = estimate_pose(clip, other, cache)
    assert calls == ["run", "run"] and third.source["cache"] == "miss"
    assert len(list((cache / "pose").glob("*.npz"))) == 2


def test_cache_hit_runs_no_pose_and_other_pose_setting_misses(sample_clip, tmp_path, monkeypatch):
    _check_cache(sample_clip, tmp_path, monkeypatch)


@pytest.mark.real_videos
def test_cache_on_real_videos(real_videos_clip, tmp_path, monkeypatch):
    _check_cache(real_videos_clip, tmp_path, monkeypatch)


def _check_reuse_without_leak(clip: Path, tmp_path: Path) -> None:
    """One landmarker across videos; a video's result does not depend on the one before."""
    other = tmp_path / "mirror.mp4"
    remux_with_rotation(clip, other, 180)  # a different picture for the tracker
    created = pose_module.LANDMARKER_COUNTS["created"]
    a1 = estimate_pose(clip, CFG, None)
    estimate_pose(other, CFG, None)
    a2 = estimate_pose(clip, CFG, None)
    assert pose_module.LANDMARKER_COUNTS["created"] <= created + 1
    np.testing.assert_array_equal(a1.image_xy_px, a2.image_xy_px)
    np.testing.assert_array_equal(a1.world_xyz_m, a2.world_xyz_m)


def test_landmarker_is_reused_without_tracking_leak(sample_clip, tmp_path):
    _check_reuse_without_leak(sample_clip, tmp_path)


@pytest.mark.real_videos
def test_landmarker_reuse_on_real_videos(real_videos_clip, tmp_path):
    _check_reuse_without_leak(real_videos_clip, tmp_path)


def _check_rotated_copy(clip: Path, tmp_path: Path) -> None:
    """A copy stored the same but tagged 90 degrees: landmarks in the UPRIGHT frame."""
    rotated = remux_with_rotation(clip, tmp_path / "tagged.mp4", 90)  # shown 90 deg CCW
    plain = estimate_pose(clip, CFG, None)
    turned = estimate_pose(rotated, CFG, None)
    width, height = plain.image_size_px
    assert turned.image_size_px == (height, width)
    both = plain.detected & turned.detected
    assert both.mean() > 0.7
    # rotating the picture 90 deg counter-clockwise maps (x, y) to (y, width - x)
    expected = np.stack([plain.image_xy_px[..., 1], width - plain.image_xy_px[..., 0]], axis=-1)
    legs = [INDEX[n] for n in ("left_hip", "right_hip", "left_knee", "right_knee")]
    error = np.abs(turned.image_xy_px[both][:, legs] - expected[both][:, legs])
    assert np.median(error) < 0.03 * max(width, height)


def test_rotated_copy_gives_upright_landmarks(sample_clip, tmp_path):
    _check_rotated_copy(sample_clip, tmp_path)


@pytest.mark.real_videos
def test_rotated_copy_on_real_videos(real_videos_clip, tmp_path):
    _check_rotated_copy(real_videos_clip, tmp_path)


def test_no_person_is_an_error(make_video):
    clip = make_video("empty_room.mp4", n_frames=15, size=(192, 128))
    with pytest.raises(NoPersonError, match=r"empty_room\.mp4: no person was found in any of"):
        estimate_pose(clip, CFG, None)


def test_progress_reaches_the_frame_count(make_video):
    clip = make_video("progress.mp4", n_frames=12, size=(128, 96))
    seen: list[tuple[int, int]] = []
    with pytest.raises(NoPersonError):
        estimate_pose(clip, CFG, None, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (12, 12)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_pose_pass_runs_opencv_single_threaded_and_restores_it(make_video, monkeypatch):
    """The decoding thread's resizing runs beside the pose model on one OpenCV thread
    (screener.video notes); the process's setting is restored after the pass."""
    import cv2

    clip = make_video("threads.mp4", n_frames=8, size=(128, 96))
    seen: list[int] = []

    class Runner:
        def process(self, rgb, time_s, image, world, vis):
            seen.append(cv2.getNumThreads())
            image[:] = 0.5
            world[:] = 0.0
            vis[:] = 1.0
            return True

        def finish(self):
            pass

    monkeypatch.setattr(pose_module, "_legacy", lambda config: Runner())
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(3)
        seq = estimate_pose(clip, CFG, None)
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)
    assert seq.n_frames == 8 and seen == [1] * 8


# --------------------------------------------------------------------------- no MediaPipe run


def test_missing_task_model_is_a_clear_error(make_video, tmp_path):
    clip = make_video("clip.mp4", n_frames=5)
    config = PoseConfig(task_model_path=tmp_path / "pose_landmarker_full.task")
    with pytest.raises(ConfigError, match=r"pose_landmarker_full\.task: pose model file not found"):
        estimate_pose(clip, config, None)


def test_task_model_that_is_not_a_bundle_is_refused(make_video, tmp_path):
    clip = make_video("clip.mp4", n_frames=5)
    fake = tmp_path / "fake.task"
    fake.write_text("not a model")
    with pytest.raises(ConfigError, match=r"not a MediaPipe \.task model"):
        estimate_pose(clip, PoseConfig(task_model_path=fake), None)


def test_landmark_parsing_fast_path_matches_attributes():
    from mediapipe.framework.formats import landmark_pb2

    rng = np.random.default_rng(3)
    values = rng.normal(size=(N_LANDMARKS, 5)).astype(np.float32)
    plain = landmark_pb2.NormalizedLandmarkList()
    with_presence = landmark_pb2.NormalizedLandmarkList()
    for x, y, z, v, p in values:
        plain.landmark.add(x=x, y=y, z=z, visibility=v)
        with_presence.landmark.add(x=x, y=y, z=z, visibility=v, presence=p)
    expected = values[:, :4].astype(np.float64)
    np.testing.assert_array_equal(landmarks_to_array(plain), expected)  # fast path
    np.testing.assert_array_equal(landmarks_to_array(with_presence), expected)  # fallback
    world = landmark_pb2.LandmarkList()
    for x, y, z, v, _ in values:
        world.landmark.add(x=x, y=y, z=z, visibility=v)
    np.testing.assert_array_equal(landmarks_to_array(world), expected)


def test_cache_key_follows_content_and_pose_settings(make_video, tmp_path):
    clip = make_video("clip.mp4", n_frames=5)
    same = make_video("same.mp4", n_frames=5)
    different = make_video("different.mp4", n_frames=6)
    assert video_sha256(clip) == video_sha256(same) != video_sha256(different)
    key = pose_module.pose_cache_path(tmp_path, video_sha256(clip), CFG)
    assert key == pose_module.pose_cache_path(tmp_path, video_sha256(same), CFG)
    assert key != pose_module.pose_cache_path(
        tmp_path, video_sha256(clip), PoseConfig(smooth_landmarks=False)
    )


def test_corrupt_cache_entry_is_ignored(make_video, tmp_path):
    clip = make_video("clip.mp4", n_frames=5)
    entry = pose_module.pose_cache_path(tmp_path, video_sha256(clip), CFG)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"garbage")
    assert load_cached_pose(clip, CFG, tmp_path) is None
    assert load_cached_pose(clip, CFG, None) is None


def test_pose_provenance_names_model_and_versions():
    prov = pose_provenance()
    assert prov["pose_model"] == (
        "BlazePose GHUM 3D full, legacy solutions.pose, model_complexity=1"
    )
    assert prov["mediapipe"] == "0.10.21"
    assert prov["opencv"].startswith("4.")


def _run_fresh(code: str) -> str:
    """``code``'s standard output in a new interpreter (nothing imported yet)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_mediapipe_imports_and_runs_without_matplotlib(sample_clip):
    code = (
        "import sys\n"
        "from screener.pose import import_mediapipe\n"
        "from screener.video import read_frame\n"
        "mp = import_mediapipe()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
        f"rgb = read_frame({str(sample_clip)!r}, 0, max_long_side_px=1280)\n"
        "with mp.solutions.pose.Pose(model_complexity=1) as pose:\n"
        "    found = pose.process(rgb).pose_landmarks\n"
        "print(len(found.landmark))\n"
        "try:\n"
        "    mp.solutions.drawing_utils.plot_landmarks(found)\n"
        "except AttributeError as exc:\n"
        "    print('import_mediapipe' in str(exc))\n"
        "import matplotlib.pyplot\n"
        "print(callable(matplotlib.pyplot.figure))\n"
    )
    assert _run_fresh(code).splitlines() == ["[]", str(N_LANDMARKS), "True", "True"]


def test_mediapipe_keeps_matplotlib_already_imported():
    code = (
        "import matplotlib.pyplot as plt\n"
        "from screener.pose import import_mediapipe\n"
        "print(import_mediapipe().solutions.drawing_utils.plt is plt)\n"
    )
    assert _run_fresh(code) == "True"
