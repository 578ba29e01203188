"""Video decoding on generated clips with known sizes, rotations and frame times."""

from __future__ import annotations

import logging
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from screener.errors import VideoError
from screener.video import (
    MIN_DECODED_FRAMES,
    DecodeStats,
    FrameClock,
    VideoInfo,
    iter_frames,
    probe_video,
    read_frame,
    read_frames,
)


def _band_colours(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean colour of the top rows (red band when upright) and of the bottom rows."""
    h = rgb.shape[0]
    return rgb[: h // 10, rgb.shape[1] // 2 :].mean(axis=(0, 1)), rgb[-h // 10 :].mean(axis=(0, 1))


def _written_s(times_s) -> np.ndarray:
    """The stamps ``write_video`` writes for these times (1 ms time base)."""
    return np.round(np.asarray(times_s) * 1000.0) / 1000.0


def _is_upright(rgb: np.ndarray) -> bool:
    """Red band on top, green band on the left, as ``orientation_pattern`` draws it."""
    top, bottom = _band_colours(rgb)
    left = rgb[rgb.shape[0] // 2 :, : max(1, rgb.shape[1] // 16)].mean(axis=(0, 1))
    return bool(top[0] > 180 > top[1] and bottom[0] < 100 and left[1] > 180 > left[0])


# --------------------------------------------------------------------------- rotation


@pytest.mark.parametrize(("ccw", "clockwise"), [(90, 270), (-90, 90), (180, 180)])
def test_rotated_phone_clip_comes_out_upright(make_video, ccw, clockwise):
    # Stored landscape 160x96 with a display matrix, like a phone held upright.
    path = make_video("portrait.mp4", size=(160, 96), n_frames=12, display_rotation_ccw=ccw)
    info = probe_video(path)
    expected_wh = (160, 96) if ccw == 180 else (96, 160)
    assert (info.width_px, info.height_px) == expected_wh
    assert (info.stored_width_px, info.stored_height_px) == (160, 96)
    assert info.rotation_deg == clockwise
    frames = list(iter_frames(path))
    assert len(frames) == 12
    for frame in frames:
        assert frame.rgb.shape == (expected_wh[1], expected_wh[0], 3)
        assert frame.rgb.dtype == np.uint8 and frame.rgb.flags.c_contiguous
        assert _is_upright(frame.rgb), "rotation applied wrongly (or twice)"


def test_unrotated_clip_is_left_alone(make_video):
    path = make_video("landscape.mp4", size=(160, 96), n_frames=6)
    info = probe_video(path)
    assert (info.width_px, info.height_px, info.rotation_deg) == (160, 96, 0)
    assert all(_is_upright(f.rgb) and f.rgb.shape == (96, 160, 3) for f in iter_frames(path))


def test_long_side_is_scaled_down_after_rotation(make_video):
    path = make_video("big.mp4", size=(640, 360), n_frames=4, display_rotation_ccw=90)
    frames = list(iter_frames(path, max_long_side_px=320))
    assert frames[0].rgb.shape == (320, 180, 3)
    assert _is_upright(frames[0].rgb)
    assert next(iter_frames(path, max_long_side_px=None)).rgb.shape == (640, 360, 3)


def _smooth_pattern(height: int, width: int, index: int) -> np.ndarray:
    """Colour gradients with a soft moving disc: content a bilinear resize represents well."""
    y, x = np.mgrid[0:height, 0:width].astype(float)
    cx, cy = width * (0.3 + 0.02 * index), height * 0.5
    disc = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (0.1 * min(width, height)) ** 2))
    img = np.stack([255 * x / width, 255 * y / height, 200 * disc + 30], axis=-1)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("rotation", [0, 90])
def test_reduced_size_frames_match_full_size_frames_scaled_down(make_video, rotation):
    """Planes resized before conversion give the picture of the full frame scaled down."""
    import cv2

    path = make_video(
        f"smooth{rotation}.mp4",
        size=(640, 360),
        n_frames=3,
        frame_fn=_smooth_pattern,
        display_rotation_ccw=rotation,
    )
    small = list(iter_frames(path, max_long_side_px=320))
    full = list(iter_frames(path, max_long_side_px=None))
    for a, b in zip(small, full, strict=True):
        expected = cv2.resize(b.rgb, a.rgb.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        diff = np.abs(a.rgb.astype(int) - expected.astype(int))
        assert a.rgb.shape == ((180, 320, 3) if rotation == 0 else (320, 180, 3))
        assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 6, (diff.mean(), diff.max())


@pytest.mark.parametrize(
    ("codec", "pix_fmt"),
    [
        ("libx264", "yuv420p"),
        ("libx264", "yuvj420p"),
        ("libx264", "yuv444p"),
        ("libx265", "yuv420p10le"),
    ],
)
def test_streamed_frames_are_converted_as_single_frames_are(make_video, codec, pix_fmt):
    """The pose pass converts with one swscale context kept for the stream, single-threaded
    (module notes); the pixels must be those of PyAV's own conversion of each frame, which
    ``read_frames`` uses, at the reduced and at the full size, in every range and format."""
    path = make_video(
        f"{pix_fmt}.mp4",
        size=(640, 360),
        n_frames=6,
        codec=codec,
        pix_fmt=pix_fmt,
        frame_fn=_smooth_pattern,
    )
    indices = list(range(6))
    single = read_frames(path, {320: indices, None: indices})
    for size in (320, None):
        streamed = [f.rgb for f in iter_frames(path, max_long_side_px=size)]
        assert len(streamed) == 6
        for index in indices:
            np.testing.assert_array_equal(streamed[index], single[size][index])


def test_frame_queue_is_bounded_in_bytes():
    stop = threading.Event()
    from screener.video import _ByteQueue

    q = _ByteQueue(100)
    assert q.put(("frame", 1), 150, stop), "one item larger than the bound passes an empty queue"
    waiter = threading.Thread(target=lambda: q.put(("frame", 2), 10, stop))
    waiter.start()
    waiter.join(timeout=0.3)
    assert waiter.is_alive(), "a second item must wait while 150 bytes are queued"
    assert q.get() == ("frame", 1)
    waiter.join(timeout=2.0)
    assert not waiter.is_alive() and q.nbytes == 10
    assert q.put(("frame", 3), 80, stop) and q.nbytes == 90
    stop.set()
    assert not q.put(("frame", 4), 20, stop), "a stopped producer gives up instead of waiting"


# --------------------------------------------------------------------------- time


def test_variable_frame_rate_times_are_the_written_pts(make_video):
    gaps_ms = [33, 17, 33, 50, 8, 33, 41, 17] * 5
    written_ms = np.concatenate([[0], np.cumsum(gaps_ms)])
    path = make_video("vfr.mp4", times_s=written_ms / 1000.0)
    stats = DecodeStats()
    times = np.array([f.time_s for f in iter_frames(path, stats=stats)])
    np.testing.assert_allclose(times, written_ms / 1000.0, rtol=0, atol=1e-9)
    assert np.all(np.diff(times) > 0)
    assert stats.n_times_repaired == 0 and not stats.truncated
    # and not index / fps:
    assert not np.allclose(times, np.arange(times.size) / probe_video(path).fps_nominal)


def test_times_count_from_the_stream_start(make_video):
    path = make_video("late.mp4", times_s=[0.5 + i / 30 for i in range(20)])
    info = probe_video(path)
    assert info.start_time_s == pytest.approx(0.5, abs=1e-6)
    times = [f.time_s for f in iter_frames(path)]
    np.testing.assert_allclose(
        times, _written_s([0.5 + i / 30 for i in range(20)]) - 0.5, atol=1e-9
    )


def test_frame_clock_repairs_missing_repeated_and_backward_stamps():
    clock = FrameClock(0.01)
    stamps = [None, 0.02, 0.02, 0.015, 0.05, None, 0.06]
    times = [clock.time_of(s) for s in stamps]
    assert times == pytest.approx([0.0, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07])
    assert clock.n_repaired == 5  # first None, 0.02 again, 0.015, None, 0.06 (not > 0.06)
    with pytest.raises(ValueError, match="positive"):
        FrameClock(0.0)


# --------------------------------------------------------------------------- containers


@pytest.mark.parametrize(
    ("name", "codec", "expected_codec"),
    [
        ("clip.mp4", "libx264", "h264"),
        ("clip.mov", "libx264", "h264"),
        ("clip.avi", "mpeg4", "mpeg4"),
        ("clip.webm", "libvpx-vp9", "vp9"),
        ("clip.mkv", "libx264", "h264"),
    ],
)
def test_common_containers_decode(make_video, name, codec, expected_codec):
    time_base = Fraction(1, 30) if name.endswith(".avi") else Fraction(1, 1000)
    path = make_video(name, codec=codec, n_frames=20, time_base=time_base)
    info = probe_video(path)
    assert info.codec == expected_codec
    assert info.fps_nominal == pytest.approx(30.0, rel=0.02)
    frames = list(iter_frames(path))
    assert len(frames) == 20
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(20) / 30, atol=2e-3)
    assert all(_is_upright(f.rgb) for f in frames)


def test_video_is_recognised_by_content_not_name(make_video, tmp_path):
    real = make_video("clip.mp4", n_frames=10)
    renamed = real.rename(tmp_path / "clip.txt")
    assert probe_video(renamed).codec == "h264"


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match=r"nope\.mp4: file not found\. Check the path"):
        probe_video(tmp_path / "nope.mp4")


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(VideoError, match=r"empty\.mp4: the file is empty \(0 bytes\)"):
        probe_video(empty)
    with pytest.raises(VideoError, match="empty"):
        next(iter(iter_frames(empty)))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name,age\nann,31\n" * 50, "not a video"),
        (bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8)), "not a video"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG image"),
        (b"%PDF-1.7\n" + b"x" * 100, "PDF document"),
        (b'[video]\nname = "x"\n', "no video stream|not a video"),
    ],
)
def test_non_video_with_mp4_name(tmp_path, content, expected):
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(content)
    with pytest.raises(VideoError, match=expected) as err:
        probe_video(fake)
    message = str(err.value)
    assert message.startswith(str(fake)) and "\n" not in message
    assert message.rstrip().endswith(".")


def test_still_image_is_refused(tmp_path):
    import cv2

    image = tmp_path / "photo.mp4"
    ok, data = cv2.imencode(".bmp", np.zeros((32, 32, 3), np.uint8))
    assert ok
    image.write_bytes(data.tobytes())
    with pytest.raises(VideoError, match=r"still image \(format .bmp_pipe.\)"):
        probe_video(image)


def test_folder_is_refused(tmp_path):
    with pytest.raises(VideoError, match="folder"):
        probe_video(tmp_path)


@pytest.mark.parametrize(
    ("fps", "message"), [(10.0, r"10\.0 fps, below"), (300.0, r"30\d\.\d fps, above")]
)
def test_frame_rate_outside_limits(make_video, fps, message):
    path = make_video(f"clip{fps:g}.mp4", fps=fps, n_frames=10)
    with pytest.raises(VideoError, match=message):
        probe_video(path)


def test_frame_rate_limits_are_parameters(make_video):
    path = make_video("slow.mp4", fps=10.0, n_frames=10)
    assert probe_video(path, min_fps=5.0).fps_nominal == pytest.approx(10.0, rel=0.01)
    with pytest.raises(VideoError, match="above the supported 8 fps"):
        probe_video(path, min_fps=1.0, max_fps=8.0)


def _faststart_clip(make_video, name: str, n_frames: int = 60) -> Path:
    """An mp4 with its index first, so a cut-short copy still opens (like a phone upload)."""

    def noisy(height: int, width: int, index: int) -> np.ndarray:
        rng = np.random.default_rng(index)
        return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)

    return make_video(name, n_frames=n_frames, frame_fn=noisy, options={"movflags": "faststart"})


def _packet_end_offsets(path: Path) -> list[int]:
    import av

    with av.open(str(path)) as container:
        ends = [
            int(p.pos) + int(p.size)
            for p in container.demux(container.streams.video[0])
            if p.pos is not None and p.size
        ]
    return sorted(ends)


def test_truncated_file_yields_what_decodes_and_says_so(make_video, tmp_path, caplog):
    full = _faststart_clip(make_video, "full.mp4")
    ends = _packet_end_offsets(full)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: ends[29] + 1])  # 30 whole frames of 60
    info = probe_video(cut)
    assert info.n_frames_header == 60
    stats = DecodeStats()
    with caplog.at_level(logging.WARNING, logger="screener.video"):
        frames = list(iter_frames(cut, stats=stats))
    assert MIN_DECODED_FRAMES <= len(frames) < 60
    assert stats.truncated and stats.n_decoded == len(frames)
    assert stats.n_frames_header == 60
    assert "truncated" in caplog.text and str(cut) in caplog.text
    np.testing.assert_allclose(
        [f.time_s for f in frames], _written_s(np.arange(len(frames)) / 30), atol=1e-9
    )


def test_truncated_file_with_few_frames_is_an_error(make_video, tmp_path):
    full = _faststart_clip(make_video, "full.mp4")
    ends = _packet_end_offsets(full)
    cut = tmp_path / "cut_early.mp4"
    cut.write_bytes(full.read_bytes()[: ends[1] + 1])
    with pytest.raises(VideoError, match=r"cut_early\.mp4: only \d frame\(s\) could be decoded"):
        list(iter_frames(cut))


def test_mp4_without_its_index_is_called_incomplete(make_video, tmp_path):
    full = make_video("moov_last.mp4", n_frames=30)  # index written at the end
    cut = tmp_path / "moov_lost.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(VideoError, match="incomplete"):
        probe_video(cut)


def test_complete_file_is_not_reported_truncated(make_video):
    path = _faststart_clip(make_video, "whole.mp4", n_frames=20)
    stats = DecodeStats()
    assert len(list(iter_frames(path, stats=stats))) == 20
    assert stats.finished and not stats.truncated and stats.notes == []


# --------------------------------------------------------------------------- streaming


def test_leaving_the_loop_early_stops_the_decoder(make_video):
    path = make_video("long.mp4", n_frames=120)
    before = {t.ident for t in threading.enumerate()}
    stats = DecodeStats()
    for frame in iter_frames(path, stats=stats):
        if frame.index == 3:
            break
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []
    assert stats.n_decoded == 4 and not stats.finished


@pytest.mark.parametrize(
    ("fault", "expected", "message"),
    [
        # a decoding failure: the frames that decoded are kept, too few is a VideoError
        (MemoryError("no room"), VideoError, "only 0 frame"),
        # any other fault (a bug) reaches the consumer as raised, never left waiting
        (TypeError("a bug"), TypeError, "a bug"),
    ],
)
def test_fault_in_the_decoding_thread_is_raised_in_the_consumer(
    make_video, monkeypatch, fault, expected, message
):
    import screener.video as video

    path = make_video("clip.mp4", n_frames=10)

    def broken(frame, max_long_side_px, converter=None):
        raise fault

    monkeypatch.setattr(video, "_to_upright_rgb", broken)
    with pytest.raises(expected, match=message):
        list(iter_frames(path))


# --------------------------------------------------------------------------- read_frame


def test_read_frame_matches_the_streamed_frame(make_video):
    times = np.cumsum([0.0] + [0.033, 0.017, 0.05] * 13)
    path = make_video("vfr_rot.mp4", times_s=times, display_rotation_ccw=90)
    frames = [f.rgb for f in iter_frames(path, max_long_side_px=None)]
    for index in (0, 1, 9, 10, 11, 25, len(frames) - 1):
        np.testing.assert_array_equal(read_frame(path, index), frames[index])
    with pytest.raises(IndexError):
        read_frame(path, len(frames))
    with pytest.raises(IndexError):
        read_frame(path, -1)


def test_frames_read_past_skipped_b_frames_are_the_streamed_frames(make_video, sample_videos):
    """read_frame and read_frames skip unreferenced frames on the way to a wanted one;
    every frame they give must still be the one a full decode gives (clips with B-frames:
    a constant-rate libx264 clip with a keyframe every 10 frames, and a sample video)."""
    made = make_video("b_frames.mp4", n_frames=40)
    for path in (made, sample_videos[0]):
        frames = [f.rgb for f in iter_frames(path, max_long_side_px=None)]
        n = len(frames)
        indices = sorted({0, 1, 2, 5, 9, 10, 13, n // 2, n // 2 + 1, n - 2, n - 1})
        for index in indices:
            np.testing.assert_array_equal(read_frame(path, index), frames[index])
        got = read_frames(path, {None: indices})[None]
        assert sorted(got) == indices
        for index in indices:
            np.testing.assert_array_equal(got[index], frames[index])


def test_video_info_is_frozen(make_video):
    info = probe_video(make_video("clip.mp4", n_frames=5))
    assert isinstance(info, VideoInfo)
    assert info.size_bytes == info.path.stat().st_size
    assert info.n_frames_header == 5 and info.n_frames_expected == 5
    assert "mp4" in info.container
    with pytest.raises(AttributeError):
        info.width_px = 1  # type: ignore[misc]


# --------------------------------------------------------------------------- sample videos


def test_sample_videos_decode_as_their_truth_says(sample_videos):
    import json

    with_truth = [v for v in sample_videos if v.with_suffix(".truth.json").is_file()]
    if not with_truth:
        pytest.skip("no sample videos with truth committed yet")
    for video in with_truth:
        truth = json.loads(video.with_suffix(".truth.json").read_text())
        info = probe_video(video)
        portrait = info.height_px > info.width_px
        assert portrait == (truth["orientation"] == "portrait"), video.name
        assert info.rotation_deg == truth["rotation_meta_deg"] % 360, video.name
        assert info.fps_nominal == pytest.approx(truth["fps"], rel=0.01), video.name
        stats = DecodeStats()
        times = [f.time_s for f in iter_frames(video, max_long_side_px=256, stats=stats)]
        assert len(times) == truth["n_frames"] and not stats.truncated, video.name
        assert np.all(np.diff(times) > 0)
