"""Video in: probe a file, stream its frames upright with their real presentation times.

``probe_video`` checks that a file is a video the screener can analyse and describes it
(:class:`VideoInfo`); ``iter_frames`` streams its frames (:class:`Frame`: index, time,
upright RGB) from a background decoding thread; ``read_frame`` fetches one frame for the
report's stills.

Decoder choice (measured, November 2025, this machine, 2 shared cores)
-----------------------------------------------------------------------
Frames are decoded with PyAV (``av``, which bundles its own FFmpeg), not OpenCV's
``cv2.VideoCapture``:

* Rotation. OpenCV 4.11's FFMPEG backend does **not** auto-rotate here:
  ``CAP_PROP_ORIENTATION_AUTO`` reads 0 after opening and a clip tagged
  ``-display_rotation 90`` came out stored-landscape (``CAP_PROP_ORIENTATION_META``
  = 270). It rotates only after ``set(CAP_PROP_ORIENTATION_AUTO, 1)``. PyAV never
  rotates; it reports the display matrix per frame (``VideoFrame.rotation``, degrees
  counter-clockwise), and this module applies it exactly once. Both agree pixel for pixel
  with the ``ffmpeg`` command line's own auto-rotation.
* Times. Each frame's time is its container presentation timestamp (``frame.pts`` x
  ``time_base``) minus the stream's start time. On a variable-frame-rate mp4, mkv and
  webm written with known stamps, both PyAV pts and ``CAP_PROP_POS_MSEC`` matched to
  1e-15 s; PyAV also reports the stream start (0.5 s on a clip starting there), which is
  recorded in :attr:`VideoInfo.start_time_s`.
* Failures. ``cv2.VideoCapture.read`` returns False both at the end and on damaged data;
  PyAV raises, so a truncated file can be told from a complete one and counted
  (:class:`DecodeStats`). OpenCV also invents frame counts for mkv/webm (75 for a
  90-frame clip); PyAV says "unknown" (0), which is honest.
* Speed. Threaded PyAV decoding to RGB: 103 fps (VP9 1768x994) and 134 fps (H.264
  1088x1920) against 77 and 133 fps for ``cv2.VideoCapture`` read + ``cvtColor``.
* Reduced size. MediaPipe looks at the body through a 256-pixel crop, so frames for pose
  estimation are scaled down (``max_long_side_px``) BEFORE colour conversion: the Y, U and
  V planes of a 4:2:0 frame are resized with OpenCV's bilinear filter straight from the
  decoder's buffers (no copy), and swscale converts only the small frame to RGB, with the
  frame's own colour matrix and range. CPU seconds over decoding alone, 300 frames of
  an H.264 1080x1920 clip to 720x1280 (December 2026, 2 shared cores): 1.0 s, against
  2.2 s for converting the full frame to RGB and then resizing it (the former path) and
  2.0-3.4 s for swscale scaling to RGB in one pass (bilinear, area or fast bilinear).
  Against the former path the pixels differ by 0.07 grey levels on average (99th
  percentile 2). Other pixel formats (10-bit HDR, 4:2:2) take the former path.
* One decoding thread for the pose pass. ``iter_frames`` feeds a consumer (the pose
  model, about 11 ms a 720x1280 frame) slower than one thread decodes (about 1.7 CPU ms
  a 1080p H.264 frame), so its decoder, the plane resizing and the colour conversion run
  single-threaded (:func:`screener.threads.opencv_single_threaded` around the pass), the
  conversion through one swscale context kept for the stream (PyAV otherwise builds a
  new, multi-threaded one for every frame). The pixels are the same (tested on H.264
  4:2:0 in both ranges, 4:4:4 and 10-bit HEVC); the pose pass of a 1080x1920, 60 fps,
  5 s clip took 4.8 CPU s instead of 5.4 with FFmpeg's frame threading, OpenCV's thread
  pool and a context per frame (December 2026, 2 quiet cores; wall 3.7 s instead of
  4.2).

Notes
-----
Frame indices count decoded frames in presentation order from 0, as the decoder delivers
them; ``read_frame`` uses the same numbering.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.errors import VideoError

log = logging.getLogger(__name__)

RGBImage = npt.NDArray[np.uint8]

#: A decode that ends in an error with fewer frames than this is refused.
MIN_DECODED_FRAMES = 5
#: Bytes of decoded frames held ahead of the consumer: two frames of 720x1280 RGB, one
#: full-size 1080p or 4K frame (a single frame larger than this is still let through).
#: Against 16 MiB (~6 such frames), 10-12 MiB less at the peak of a 4K clip's pose pass
#: (measured December 2026); two frames keep the decoding thread ahead of the pose model.
QUEUE_BYTES = 6 * 1024 * 1024
#: Frames larger than this (pixels) are decoded by one thread when a few frames are read
#: (:func:`read_frames`): FFmpeg's frame threading keeps a decoded frame per thread in
#: flight (about 12 MiB each at 4K, cores + 1 of them). The pose pass (:func:`iter_frames`)
#: always decodes with one thread (module notes).
SINGLE_THREAD_DECODE_PX = 4_000_000
#: Pixel formats whose planes are resized before conversion (see the module notes).
_YUV420_FORMATS = ("yuv420p", "yuvj420p")

_STILL_IMAGE_FORMATS = ("image2", "_pipe", "gif", "apng", "webp")
_RE_EXPORT = "Export or copy the original recording again (mp4, mov, avi or webm)"


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as its container says (and its first frame confirms).

    Parameters
    ----------
    path
        The file.
    width_px, height_px
        Size of the UPRIGHT frame (after applying the rotation metadata), pixels.
    rotation_deg
        Clockwise rotation applied to the stored frames to show them upright: 0, 90, 180
        or 270 (the convention of the classic ``rotate`` tag).
    fps_nominal
        The container's average frame rate, frames per second.
    n_frames_header
        Frame count written in the container; 0 when the container does not say
        (common for mkv and webm).
    duration_s
        Duration of the video stream (or of the container), seconds.
    codec, container
        FFmpeg names, e.g. ``"h264"`` and ``"mov,mp4,m4a,3gp,3g2,mj2"``.
    size_bytes
        File size.
    stored_width_px, stored_height_px
        Size of the frames as stored, before rotation.
    start_time_s
        Presentation time of the stream's start; frame times are counted from it.

    Notes
    -----
    Only the first video stream is used.
    """

    path: Path
    width_px: int
    height_px: int
    rotation_deg: int
    fps_nominal: float
    n_frames_header: int
    duration_s: float
    codec: str
    container: str
    size_bytes: int
    stored_width_px: int = 0
    stored_height_px: int = 0
    start_time_s: float = 0.0

    @property
    def n_frames_expected(self) -> int:
        """Frame count from the header, or estimated from duration x frame rate."""
        if self.n_frames_header > 0:
            return self.n_frames_header
        return max(0, round(self.duration_s * self.fps_nominal))


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Parameters
    ----------
    index
        0-based index among the decoded frames.
    time_s
        Presentation time from the container, seconds from the stream start; strictly
        increasing over a video.
    rgb
        Upright RGB image, ``uint8``, shape ``(height, width, 3)``, C-contiguous.
    extra
        The same frame at the other sizes asked for (``extra_sizes`` of
        :func:`iter_frames`), by ``max_long_side_px``; the pixels :func:`read_frames`
        gives at those sizes. Empty unless asked for.
    """

    index: int
    time_s: float
    rgb: RGBImage
    extra: Mapping[int | None, RGBImage] = field(default_factory=dict)


@dataclass
class DecodeStats:
    """Counts filled in while :func:`iter_frames` decodes (read them after the loop).

    Parameters
    ----------
    n_decoded
        Frames yielded.
    n_frames_header
        The container's frame count (0 if unknown).
    truncated
        Decoding stopped on damaged or missing data before the end of the stream.
    error
        The decoder's message when ``truncated``.
    n_times_repaired
        Frames whose timestamp was missing, repeated or went backwards and was replaced.
    finished
        The whole stream was read (False if the consumer stopped early).
    """

    n_decoded: int = 0
    n_frames_header: int = 0
    truncated: bool = False
    error: str = ""
    n_times_repaired: int = 0
    finished: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "n_decoded": self.n_decoded,
            "n_frames_header": self.n_frames_header,
            "truncated": self.truncated,
            "error": self.error,
            "n_times_repaired": self.n_times_repaired,
            "finished": self.finished,
            "notes": list(self.notes),
        }


class FrameClock:
    """Turns container timestamps into strictly increasing frame times.

    Parameters
    ----------
    interval_s
        Nominal frame interval, used to replace a bad stamp.

    Notes
    -----
    A missing stamp (None), or one not later than the previous frame's time, becomes the
    previous time plus ``interval_s`` (0 for a first frame without a stamp). The rule
    depends only on the stamps seen so far, so it is deterministic and streamable. Later
    good stamps are kept as they are.
    """

    def __init__(self, interval_s: float) -> None:
        if not interval_s > 0:
            raise ValueError(f"frame interval must be positive, got {interval_s}")
        self.interval_s = interval_s
        self.last_s = -math.inf
        self.n_repaired = 0

    def time_of(self, stamp_s: float | None) -> float:
        """The time of the next frame, given its container stamp (None if it has none)."""
        if stamp_s is None or not stamp_s > self.last_s:
            self.n_repaired += 1
            stamp_s = self.last_s + self.interval_s if math.isfinite(self.last_s) else 0.0
        self.last_s = stamp_s
        return stamp_s


def probe_video(path: str | Path, *, min_fps: float = 24.0, max_fps: float = 240.0) -> VideoInfo:
    """Check that a file is an analysable video and describe it.

    Parameters
    ----------
    path
        The video file.
    min_fps, max_fps
        Accepted range of the nominal frame rate (``AnalysisConfig.min_fps/max_fps``).

    Returns
    -------
    VideoInfo

    Raises
    ------
    VideoError
        Missing file, a folder, an empty file, content that is not a video (judged by
        its bytes, not its name), a still image, an unsupported codec, no decodable
        frame, or a frame rate outside ``[min_fps, max_fps]``.

    Notes
    -----
    The first frame is decoded to confirm that the codec works and to read the rotation;
    the rest of the file is not read.
    """
    import av

    path = Path(path)
    size = _check_file(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        first = _first_frame(container, stream, path)
        rotation_cw = _rotation_cw(first)
        stored_w, stored_h = int(first.width), int(first.height)
        fps = _nominal_fps(stream)
        duration_s = _duration_s(container, stream)
        codec = str(stream.codec_context.name)
        info = VideoInfo(
            path=path,
            width_px=stored_h if rotation_cw in (90, 270) else stored_w,
            height_px=stored_w if rotation_cw in (90, 270) else stored_h,
            rotation_deg=rotation_cw,
            fps_nominal=fps,
            n_frames_header=int(stream.frames or 0),
            duration_s=duration_s,
            codec=codec,
            container=str(container.format.name),
            size_bytes=size,
            stored_width_px=stored_w,
            stored_height_px=stored_h,
            start_time_s=_start_time_s(stream),
        )
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"the video cannot be read ({_ffmpeg_reason(exc)})", path=path, remedy=_RE_EXPORT
        ) from exc
    finally:
        container.close()
    if not math.isfinite(fps) or fps <= 0:
        raise VideoError(
            "the file does not state a frame rate",
            path=path,
            remedy="Re-export it with a constant frame rate of 30, 60 or 120 fps.",
        )
    if fps < min_fps:
        raise VideoError(
            f"its frame rate is {fps:.1f} fps, below the {min_fps:g} fps needed to time "
            "stance phases and squat repetitions",
            path=path,
            remedy=f"Record again at {max(30.0, min_fps):g} fps or more (60-120 fps for jogging).",
        )
    if fps > max_fps:
        raise VideoError(
            f"its frame rate is {fps:.1f} fps, above the supported {max_fps:g} fps",
            path=path,
            remedy=f"Export the clip at {max_fps:g} fps or less (slow-motion clips: "
            "export at the real-time rate).",
        )
    log.debug("%s: %s", path, info)
    return info


def _set_decode_threads(stream: Any) -> None:
    """FFmpeg's automatic threading, but one thread above
    :data:`SINGLE_THREAD_DECODE_PX` (memory; see there)."""
    width = int(stream.codec_context.width or 0)
    height = int(stream.codec_context.height or 0)
    if width * height > SINGLE_THREAD_DECODE_PX:
        stream.thread_count = 1
    else:
        stream.thread_type = "AUTO"


def iter_frames(
    path: str | Path,
    *,
    max_long_side_px: int | None = 1280,
    stats: DecodeStats | None = None,
    extra_sizes: Callable[[int], Collection[int | None]] | None = None,
) -> Iterator[Frame]:
    """Stream a video's frames, upright, with their presentation times.

    Parameters
    ----------
    path
        The video file (check it with :func:`probe_video` first for clear errors).
    max_long_side_px
        Frames whose long side is larger are scaled down (aspect kept); None keeps the
        full size.
    stats
        Optional :class:`DecodeStats`, filled in as decoding goes (truncation, repaired
        timestamps, counts).
    extra_sizes
        Optional ``extra_sizes(index)``: the other ``max_long_side_px`` at which frame
        ``index`` is also wanted (in :attr:`Frame.extra`), e.g. a few frames kept for a
        later search while the whole clip is decoded for pose estimation. Called from the
        decoding thread, in frame order, ahead of the consumer by at most the queue.

    Yields
    ------
    Frame
        In presentation order; ``time_s`` strictly increasing.

    Raises
    ------
    VideoError
        The file cannot be opened, no frame decodes, or the file is truncated with fewer
        than :data:`MIN_DECODED_FRAMES` frames.

    Notes
    -----
    Decoding runs in a background thread that stays at most :data:`QUEUE_BYTES` of frames
    ahead (whatever their size), so memory does not grow with the clip's length and
    decoding overlaps the consumer's work (PyAV releases the GIL while decoding). Leaving
    the loop early stops the thread.

    A damaged or cut-short file yields the frames that decode, then logs a warning and
    sets ``stats.truncated``. FFmpeg usually reports a cut-short file as a normal end of
    stream, so a file is also judged truncated when fewer frames decode than its header
    counts or, without a count, when the frames cover less of the stated duration (see
    ``_shortfall``); with fewer than :data:`MIN_DECODED_FRAMES` frames it is refused.

    A missing, repeated or backward timestamp is replaced by the previous one plus the
    nominal frame interval (deterministic) and counted in ``stats.n_times_repaired``,
    with one warning per video.
    """
    path = Path(path)
    stats = stats if stats is not None else DecodeStats()
    _check_file(path)
    container = _open(path)
    stream = container.streams.video[0]
    stats.n_frames_header = int(stream.frames or 0)
    interval_s = 1.0 / _nominal_fps(stream) if _nominal_fps(stream) > 0 else 1.0 / 30.0
    start_s = _start_time_s(stream)
    duration_s = _duration_s(container, stream)
    stream.thread_count = 1  # the consumer is slower than one thread (module notes)

    out = _ByteQueue(QUEUE_BYTES)
    stop = threading.Event()

    def produce() -> None:
        import av
        from av.video.reformatter import VideoReformatter

        converter = VideoReformatter()
        try:
            for decoded, frame in enumerate(container.decode(stream)):
                rgb = _to_upright_rgb(frame, max_long_side_px, converter)
                extra = _extra_sizes(frame, rgb, max_long_side_px, extra_sizes, decoded, converter)
                nbytes = rgb.nbytes + sum(e.nbytes for e in extra.values() if e is not rgb)
                item = ("frame", (frame.pts, frame.time_base, rgb, extra))
                if not out.put(item, nbytes, stop):
                    return
            out.put(("end", None), 0, stop)
        except av.error.FFmpegError as exc:
            out.put(("broken", _ffmpeg_reason(exc)), 0, stop)
        except (ValueError, MemoryError, OSError) as exc:
            out.put(("broken", f"{type(exc).__name__}: {exc}"), 0, stop)
        except Exception as exc:  # noqa: BLE001 - forwarded: the consumer raises it
            out.put(("raised", exc), 0, stop)  # (else it would wait for frames forever)

    worker = threading.Thread(target=produce, name=f"decode-{path.name}", daemon=True)
    worker.start()
    index = 0
    clock = FrameClock(interval_s)
    try:
        while True:
            kind, payload = out.get()
            if kind == "frame":
                pts, time_base, rgb, extra = payload
                t = clock.time_of(_time_s(pts, time_base, start_s))
                stats.n_times_repaired = clock.n_repaired
                stats.n_decoded = index + 1
                yield Frame(index=index, time_s=t, rgb=rgb, extra=extra)
                index += 1
                continue
            if kind == "raised":
                raise payload
            if kind == "broken":
                stats.truncated = True
                stats.error = str(payload)
            stats.finished = True
            break
    finally:
        stop.set()
        out.wake()
        worker.join(timeout=5.0)
        container.close()

    if stats.n_times_repaired:
        log.warning(
            "%s: %d frame timestamps were missing, repeated or went backwards; replaced by "
            "the previous time plus %.4f s",
            path,
            stats.n_times_repaired,
            interval_s,
        )
    if not stats.truncated and stats.finished:
        shortfall = _shortfall(index, clock.last_s, interval_s, stats.n_frames_header, duration_s)
        if shortfall:
            stats.truncated = True
            stats.error = shortfall
    if stats.truncated:
        if index < MIN_DECODED_FRAMES:
            raise VideoError(
                f"only {index} frame(s) could be decoded ({stats.error}); the file is "
                "damaged or was cut short",
                path=path,
                remedy=_RE_EXPORT + ".",
            )
        note = f"decoding stopped after {index} frames: {stats.error}"
        stats.notes.append(note)
        log.warning("%s: the file looks truncated or damaged; %s", path, note)
    elif index == 0:
        raise VideoError("no frame could be decoded", path=path, remedy=_RE_EXPORT + ".")


def _extra_sizes(
    frame: Any,
    rgb: RGBImage,
    max_long_side_px: int | None,
    extra_sizes: Callable[[int], Collection[int | None]] | None,
    index: int,
    converter: Any = None,
) -> dict[int | None, RGBImage]:
    """Frame ``index`` at the extra sizes asked for; ``rgb`` itself where the size is the
    same as the stream's (the same conversion would give the same pixels)."""
    if extra_sizes is None:
        return {}
    out: dict[int | None, RGBImage] = {}
    width, height = int(frame.width), int(frame.height)
    own = _scaled_size(width, height, max_long_side_px)
    for size in extra_sizes(index):
        same = _scaled_size(width, height, size) == own
        out[size] = rgb if same else _to_upright_rgb(frame, size, converter)
    return out


def _shortfall(
    n_decoded: int, last_s: float, interval_s: float, n_header: int, duration_s: float
) -> str:
    """Why a stream that ended without an error looks cut short ("" if it does not).

    With a frame count in the header, any missing frame counts; without one (mkv, webm),
    the decoded frames must cover the stated duration to within 5 % plus two frames.
    """
    if n_header > 0:
        if n_decoded < n_header:
            return f"{n_decoded} of the {n_header} frames in the header decoded"
        return ""
    if math.isfinite(duration_s) and duration_s > 0:
        covered_s = last_s + interval_s
        if covered_s < 0.95 * duration_s - 2 * interval_s:
            return (
                f"the frames decoded cover {covered_s:.2f} s of the {duration_s:.2f} s "
                "the container states"
            )
    return ""


def read_frame(path: str | Path, index: int, *, max_long_side_px: int | None = None) -> RGBImage:
    """One upright RGB frame, numbered as :func:`iter_frames` numbers them.

    Parameters
    ----------
    path
        The video file.
    index
        0-based frame index.
    max_long_side_px
        Scale down as in :func:`iter_frames`; None (default) keeps the full size.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(height, width, 3)``.

    Raises
    ------
    VideoError
        The file cannot be read.
    IndexError
        ``index`` is outside the decodable frames.

    Notes
    -----
    The container's packets are listed once per file (cached by path, size and modification
    time; no decoding) to find the frame's timestamp; the decoder then seeks to the
    keyframe before it and decodes forward. Streams without packet timestamps are decoded
    from the start.

    The decoder is freed before the frame is converted to RGB: at 4K its reference
    frames take about 95 MiB (H.264, one thread), the RGB frame 24 MiB, and the two no
    longer add up (a 4K still: 24 MiB less at the peak, measured December 2026).
    """
    path = Path(path)
    if index < 0:
        raise IndexError(f"frame index must be >= 0, got {index}")
    return _to_upright_rgb(_decode_frame(path, index), max_long_side_px)


def _decode_frame(path: Path, index: int) -> Any:
    """Frame ``index`` as decoded (a PyAV ``VideoFrame``), the decoder closed and freed.

    Nothing here outlives the call but the frame, which holds only its own buffer: the
    container, the stream and the decoding generator are released on return.
    """
    import av

    size = _check_file(path)
    stat = path.stat()
    packets = _packet_pts(str(path), size, stat.st_mtime_ns)
    pts_list = packets[0] if packets is not None else None
    container = _open(path)
    try:
        stream = container.streams.video[0]
        if pts_list is not None:
            if index >= len(pts_list):
                raise IndexError(f"{path}: frame {index} requested, the video has {len(pts_list)}")
            target = pts_list[index]
            seeker = _FrameSeeker(container, stream)
            seeker.seek(target)
            frame = seeker.frame_at(target)
            if frame is None or frame.pts != target:  # decode every frame, as before skipping
                log.info("%s: frame %d not reached skipping frames; decoding all", path, index)
                seeker = _FrameSeeker(container, stream, skip_unreferenced=False)
                seeker.seek(target)
                frame = seeker.frame_at(target)
            if frame is not None:
                return frame
        else:
            for i, frame in enumerate(container.decode(stream)):
                if i == index:
                    return frame
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"frame {index} cannot be decoded ({_ffmpeg_reason(exc)})",
            path=path,
            remedy=_RE_EXPORT + ".",
        ) from exc
    finally:
        container.close()
    raise IndexError(f"{path}: frame {index} could not be decoded")


class _FrameSeeker:
    """Frames of one stream decoded toward wanted presentation stamps, in increasing order.

    Notes
    -----
    Until the packet stamped with the wanted stamp (or a later one) is reached, frames
    that no other frame refers to are not decoded at all (FFmpeg's ``skip_frame =
    NONREF``): no frame after them needs them, and nothing before the target is shown.
    With B-frames (most encoders' default) that halves the work of reaching a frame in
    the middle of a group of pictures; without them nothing is skipped. Skipping is
    switched off before the target's packet is decoded, so the frame given is the one a
    full decode gives (``tests/test_video.py`` compares them). Frames a packet yields
    beyond the one asked for are kept for the next request (at the end of the stream the
    decoder gives all it holds at once).
    """

    def __init__(self, container: Any, stream: Any, *, skip_unreferenced: bool = True) -> None:
        self._container = container
        self._stream = stream
        self._skip = skip_unreferenced
        self._packets: Iterator[Any] = iter(())
        self._pending: list[Any] = []

    def seek(self, pts: int) -> None:
        """Go to the keyframe at or before ``pts``."""
        self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        self._packets = iter(self._container.demux(self._stream))
        self._pending = []

    def frame_at(self, target_pts: int) -> Any:
        """The first frame stamped ``target_pts`` or later (None when the stream ends)."""
        codec = self._stream.codec_context
        codec.skip_frame = "NONREF" if self._skip else "DEFAULT"
        try:
            while True:
                while self._pending:
                    frame = self._pending.pop(0)
                    if frame.pts is not None and frame.pts >= target_pts:
                        return frame
                packet = next(self._packets, None)
                if packet is None:
                    return None
                if packet.pts is not None and packet.pts >= target_pts:
                    codec.skip_frame = "DEFAULT"
                self._pending = list(packet.decode())
        finally:
            codec.skip_frame = "DEFAULT"


def read_frames(
    path: str | Path, wanted: Mapping[int | None, Collection[int]]
) -> dict[int | None, dict[int, RGBImage]]:
    """A few upright RGB frames, at one or more sizes, in one pass over the video.

    Parameters
    ----------
    path
        The video file.
    wanted
        Frame indices (numbered as :func:`iter_frames` numbers them) per
        ``max_long_side_px`` (as in :func:`iter_frames`; None: full size).

    Returns
    -------
    dict
        Per size, the frames found by index; an index past the decodable frames is left
        out.

    Raises
    ------
    VideoError
        The file cannot be opened.

    Notes
    -----
    For the searches that look at a dozen frames of a clip (a second person, the face):
    only the wanted frames are converted to RGB, decoding stops after the last one, and
    the decoder seeks to the keyframe before a wanted frame when that keyframe lies ahead
    of where decoding is (on a long clip most frames are never decoded). A frame decoded
    after a seek is the frame decoded in sequence. Frames no other frame refers to are
    not decoded on the way to a wanted one (:class:`_FrameSeeker`).
    """
    import av

    path = Path(path)
    out: dict[int | None, dict[int, RGBImage]] = {size: {} for size in wanted}
    sizes_of: dict[int, list[int | None]] = {}
    for size, indices in wanted.items():
        for index in indices:
            sizes_of.setdefault(int(index), []).append(size)
    if not sizes_of:
        return out
    size_bytes = _check_file(path)
    packets = _packet_pts(str(path), size_bytes, path.stat().st_mtime_ns)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        _set_decode_threads(stream)
        if packets is None:  # no stamps to seek by: decode in order
            for index, frame in enumerate(container.decode(stream)):
                for size in sizes_of.get(index, ()):
                    out[size][index] = _to_upright_rgb(frame, size)
                if index >= max(sizes_of):
                    break
            return out
        stamps, keys = packets
        seeker = _FrameSeeker(container, stream)
        last_pts: int | None = None
        for target in sorted(i for i in sizes_of if i < len(stamps)):
            target_pts = stamps[target]
            key = keys[max(0, bisect.bisect_right(keys, target_pts) - 1)] if keys else None
            if last_pts is None or (key is not None and key > last_pts):
                seeker.seek(key or 0)
            frame = seeker.frame_at(target_pts)
            if frame is None:
                break
            last_pts = int(frame.pts)
            if last_pts == target_pts:
                for size in sizes_of[target]:
                    out[size][target] = _to_upright_rgb(frame, size)
    except av.error.FFmpegError as exc:
        log.warning("%s: decoding stopped while reading frames: %s", path, _ffmpeg_reason(exc))
    finally:
        container.close()
    return out


def spread_indices(n_total: int, n_frames: int) -> list[int]:
    """``n_frames`` frame indices evenly spread over ``range(n_total)``, first and last
    included (fewer, without repeats, when the clip has fewer frames); sorted."""
    if n_total <= 0 or n_frames <= 0:
        return []
    return sorted(set(np.linspace(0, n_total - 1, n_frames).round().astype(int).tolist()))


# --------------------------------------------------------------------------- helpers


def _check_file(path: Path) -> int:
    """Size of an existing, non-empty regular file; VideoError otherwise."""
    if not path.exists():
        raise VideoError("file not found", path=path, remedy="Check the path and the file name.")
    if path.is_dir():
        raise VideoError(
            "this is a folder, not a video file",
            path=path,
            remedy="Give a video file (or use `screener batch` for a folder).",
        )
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise VideoError(
            f"the file cannot be read ({exc.strerror})",
            path=path,
            remedy="Check that the file is readable (permissions, disk, network share).",
        ) from exc
    if size == 0:
        raise VideoError(
            "the file is empty (0 bytes)",
            path=path,
            remedy="The upload or copy failed; copy the original recording again.",
        )
    kind = _sniff(head)
    if kind is not None:
        raise VideoError(
            f"this is not a video: its content is {kind}",
            path=path,
            remedy="Give the video file itself (mp4, mov, avi or webm).",
        )
    return size


def _sniff(head: bytes) -> str | None:
    """Name a common NON-video file type from its first bytes (None: could be a video)."""
    signatures: tuple[tuple[bytes, str], ...] = (
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or an office document)"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"ID3", "MP3 audio"),
        (b"fLaC", "FLAC audio"),
    )
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"WEBP"):
        return "WAV audio" if head[8:12] == b"WAVE" else "a WebP image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "a HEIC/AVIF still image"
    return None


def _is_iso_media(path: Path) -> bool:
    """The file starts like an MP4/MOV (ISO base media) file."""
    with path.open("rb") as handle:
        head = handle.read(12)
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


def _open(path: Path) -> Any:
    """Open the container and check it holds a video stream; VideoError otherwise."""
    import av

    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        if _is_iso_media(path):
            raise VideoError(
                "the MP4/MOV file is incomplete or damaged: its index cannot be read "
                "(typical of a recording or a copy that was cut short)",
                path=path,
                remedy="Copy the original recording from the phone again.",
            ) from exc
        raise VideoError(
            f"this is not a video file the decoder recognises ({_ffmpeg_reason(exc)})",
            path=path,
            remedy="Give an mp4, mov, avi or webm video.",
        ) from exc
    name = str(container.format.name)
    if not container.streams.video:
        container.close()
        raise VideoError(
            f"the file holds no video stream (format {name!r})",
            path=path,
            remedy="Give a video file, not audio, subtitles or text.",
        )
    if any(tag in name for tag in _STILL_IMAGE_FORMATS):
        container.close()
        raise VideoError(
            f"this is a still image (format {name!r}), not a video",
            path=path,
            remedy="Give a video of the movement (mp4, mov, avi or webm).",
        )
    return container


def _first_frame(container: Any, stream: Any, path: Path) -> Any:
    import av

    try:
        for frame in container.decode(stream):
            return frame
    except av.error.DecoderNotFoundError as exc:
        raise VideoError(
            f"its codec ({stream.codec_context.name}) is not supported",
            path=path,
            remedy="Re-encode it as H.264 mp4.",
        ) from exc
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"no frame could be decoded ({_ffmpeg_reason(exc)})",
            path=path,
            remedy=_RE_EXPORT + ".",
        ) from exc
    raise VideoError("the video stream has no decodable frame", path=path, remedy=_RE_EXPORT + ".")


def _rotation_cw(frame: Any) -> int:
    """Clockwise display rotation of a decoded frame, one of 0, 90, 180, 270."""
    ccw = round(float(getattr(frame, "rotation", 0) or 0))
    return (-ccw) % 360 // 90 * 90


def _nominal_fps(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return float("nan")


def _start_time_s(stream: Any) -> float:
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _duration_s(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1e6
    return float("nan")


def _time_s(pts: int | None, time_base: Fraction | None, start_s: float) -> float | None:
    if pts is None or time_base is None:
        return None
    return float(pts * time_base) - start_s


class _ByteQueue:
    """A FIFO between the decoding thread and the consumer, bounded in bytes, not items.

    Parameters
    ----------
    max_bytes
        ``put`` waits while the queued items hold this many bytes or more; an item is
        always accepted into an empty queue, so one frame larger than the bound passes.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.items: deque[tuple[tuple[str, Any], int]] = deque()
        self.nbytes = 0
        self.cond = threading.Condition()

    def put(self, item: tuple[str, Any], nbytes: int, stop: threading.Event) -> bool:
        """Queue ``item`` once there is room; False if ``stop`` was set meanwhile."""
        with self.cond:
            while self.items and self.nbytes + nbytes > self.max_bytes:
                if stop.is_set():
                    return False
                self.cond.wait(timeout=0.1)
            if stop.is_set():
                return False
            self.items.append((item, nbytes))
            self.nbytes += nbytes
            self.cond.notify_all()
            return True

    def get(self) -> tuple[str, Any]:
        """The oldest item, waiting for one."""
        with self.cond:
            while not self.items:
                self.cond.wait()
            item, nbytes = self.items.popleft()
            self.nbytes -= nbytes
            self.cond.notify_all()
            return item

    def wake(self) -> None:
        """Wake a waiting producer (after its stop event is set)."""
        with self.cond:
            self.cond.notify_all()


def _scaled_size(width: int, height: int, max_long_side_px: int | None) -> tuple[int, int] | None:
    """``(width, height)`` scaled so the long side is ``max_long_side_px``; None: keep."""
    long_side = max(width, height)
    if max_long_side_px is None or long_side <= max_long_side_px:
        return None
    scale = max_long_side_px / long_side
    return max(2, round(width * scale)), max(2, round(height * scale))


def _plane(plane: Any, width: int, height: int) -> RGBImage:
    """A decoder plane as a ``(height, width)`` uint8 view of its buffer (no copy)."""
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return rows[:height, :width]


def _rgb24(frame: Any, converter: Any = None) -> RGBImage:
    """The frame in RGB (swscale, the frame's colour matrix and range).

    ``converter``: a ``VideoReformatter`` kept for a stream's frames, used single-threaded
    (the same pixels as PyAV's own ``to_ndarray``, which builds a new context each frame).
    """
    if converter is None:
        return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    return np.asarray(
        converter.reformat(frame, format="rgb24", threads=1).to_ndarray(), dtype=np.uint8
    )


def _scaled_yuv420_rgb(frame: Any, size: tuple[int, int], converter: Any = None) -> RGBImage:
    """RGB of a 4:2:0 frame at ``size``: planes resized (OpenCV bilinear), then converted.

    The small frame keeps the source's pixel format, colour matrix and range, so swscale
    converts it as it would have converted the full frame (``converter``: see
    :func:`_rgb24`).
    """
    import av
    import cv2

    width, height = size
    small = av.VideoFrame(width, height, frame.format.name)
    src_w, src_h = int(frame.width), int(frame.height)
    for k, plane in enumerate(frame.planes):
        div = 1 if k == 0 else 2
        dst_w, dst_h = -(-width // div), -(-height // div)
        cv2.resize(
            _plane(plane, -(-src_w // div), -(-src_h // div)),
            (dst_w, dst_h),
            dst=_plane(small.planes[k], dst_w, dst_h),
            interpolation=cv2.INTER_LINEAR,
        )
    small.colorspace = frame.colorspace
    small.color_range = frame.color_range
    return _rgb24(small, converter)


def _to_upright_rgb(frame: Any, max_long_side_px: int | None, converter: Any = None) -> RGBImage:
    """RGB scaled down to ``max_long_side_px`` (see the module notes), rotated upright
    (``converter``: see :func:`_rgb24`)."""
    import cv2

    size = _scaled_size(int(frame.width), int(frame.height), max_long_side_px)
    rgb: npt.NDArray[Any]
    if size is None:
        rgb = _rgb24(frame, converter)
    elif frame.format.name in _YUV420_FORMATS and len(frame.planes) == 3:
        rgb = _scaled_yuv420_rgb(frame, size, converter)
    else:
        rgb = cv2.resize(_rgb24(frame, converter), size, interpolation=cv2.INTER_LINEAR)
    rotation = _rotation_cw(frame)
    if rotation == 90:
        rgb = cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    elif rotation == 180:
        rgb = cv2.rotate(rgb, cv2.ROTATE_180)
    elif rotation == 270:
        rgb = cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return np.ascontiguousarray(rgb, dtype=np.uint8)


@functools.lru_cache(maxsize=8)
def _packet_pts(
    path: str, size: int, mtime_ns: int
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Sorted presentation stamps of the video packets and of its keyframes (no decoding).

    None if any packet has no stamp.
    """
    import av

    del size, mtime_ns  # part of the cache key only
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stamps: list[int] = []
            keys: list[int] = []
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    return None
                stamps.append(int(packet.pts))
                if packet.is_keyframe:
                    keys.append(int(packet.pts))
    except av.error.FFmpegError:
        return None
    return tuple(sorted(stamps)), tuple(sorted(keys))


def _ffmpeg_reason(exc: BaseException) -> str:
    """The decoder's message without the file name it repeats."""
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())
