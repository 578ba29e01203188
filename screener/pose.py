"""Pose: MediaPipe BlazePose landmarks for every frame of a video, cached by content.

``estimate_pose(path, pose_config, cache_dir)`` returns a
:class:`~screener.keypoints.PoseSequence`: per frame the 33 landmarks in upright image
pixels and in world metres, their visibility, whether a person was found, and the frame
times of :func:`screener.video.iter_frames`. Results are cached on disk (npz) under a key
made of the video's CONTENT hash and the pose settings, so re-analysing a video with
other cleaning, event or norm settings, or after renaming it, runs no pose estimation.

Model
-----
By default the legacy ``mp.solutions.pose.Pose(model_complexity=1)``: the BlazePose GHUM
3D "full" model shipped inside the ``mediapipe==0.10.21`` wheel (works offline;
complexity 0 and 2 download weights at run time and are not offered). If
``PoseConfig.task_model_path`` is set, the Tasks API ``PoseLandmarker`` runs that
``.task`` file in VIDEO mode instead.

Notes
-----
* One landmarker per process. The legacy landmarker is created once and reused for
  every video (batch workers analyse many); its graph is reset before each video so no
  tracking state (previous landmarks, smoothing filters) leaks from one video to the
  next. Measured: reset 6 ms, close + construct 18 ms; after a reset the landmarks of a
  60-frame clip are bit-identical to a fresh run. A Tasks landmarker cannot be reset and
  is created per video.
* Real timestamps. The legacy API stamps frames at a simulated 30 fps
  (``_simulated_timestamp += 33333``); MediaPipe's landmark smoothing (a one-euro filter)
  uses those stamps, so its behaviour would depend on the clip's frame rate. We set the
  stamp to the frame's container time (microseconds) before each call, as the Tasks
  API's VIDEO mode does. On a 60 fps clip this changed landmarks by 1.4 % of the image
  width on average (7 % at most, fast motion) against the simulated stamps.
* Frames are scaled to ``PoseConfig.max_long_side_px`` before MediaPipe (which works on
  256 px crops); landmarks are returned in pixels of the full-size upright frame.
* Frames without a pose have NaN coordinates and visibility 0 (as
  :func:`screener.keypoints.empty_pose_sequence`).
* MediaPipe's C++ start-up lines (TensorFlow Lite delegate, absl and feedback-manager
  warnings) are written straight to file descriptor 2 by native code; they are sent to
  the null device while MediaPipe is imported, built and run until its first detection
  (:func:`quiet_native_stderr`), unless the ``screener`` logger is at DEBUG level.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import json
import logging
import math
import os
import sys
import threading
import types
import zipfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from screener.config import PoseConfig
from screener.errors import ConfigError, NoPersonError
from screener.keypoints import PoseSequence
from screener.landmarks import N_LANDMARKS
from screener.threads import opencv_single_threaded
from screener.upright import rotate_image
from screener.video import (
    DecodeStats,
    Frame,
    VideoInfo,
    iter_frames,
    probe_video,
)

log = logging.getLogger(__name__)

#: Bump when estimation changes in a way that makes older cached keypoints stale.
CACHE_VERSION = 1
LEGACY_MODEL = "BlazePose GHUM 3D full, legacy solutions.pose, model_complexity=1"
TASKS_MODEL = "BlazePose (user .task file), Tasks API PoseLandmarker, VIDEO mode"
_HASH_CHUNK_BYTES = 1 << 20

ProgressFn = Callable[[int, int], None]


class FrameTap(Protocol):
    """Looks at the frames of a pose pass as it decodes them (see :func:`estimate_pose`).

    For work that needs a few of a clip's frames after the pose pass (the searches of
    :mod:`screener.acquire`): keeping them as they go by saves decoding the clip again.
    """

    def sizes(self, index: int) -> Collection[int | None]:
        """Other sizes (``max_long_side_px``) at which frame ``index`` is wanted.

        Called from the decoding thread, in frame order, a few frames ahead of
        :meth:`seen`; the frame then comes with them in :attr:`Frame.extra`.
        """
        ...

    def seen(
        self,
        frame: Frame,
        image_xy_px: npt.NDArray[np.float64] | None,
        image_size_px: tuple[int, int],
    ) -> None:
        """Frame ``frame`` was given to the pose model.

        ``image_xy_px`` is the person's image landmarks ``(33, 2)`` as the
        :class:`PoseSequence` will hold them (pixels of the full-size frame of
        ``image_size_px``, turned as for the model), None if no person was found.
        """
        ...


# The process's landmarker (legacy API) and the settings it was built with.
_LOCK = threading.RLock()
_LANDMARKER: dict[str, Any] = {"key": None, "pose": None, "quiet": True}
#: Landmarkers constructed in this process (read by tests and the benchmark).
LANDMARKER_COUNTS = {"created": 0, "reset": 0, "videos": 0}


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to the null device meanwhile.

    Python's own writes to ``sys.stderr`` inside the block are lost too, so keep the block
    around native calls only. Does nothing when the ``screener`` logger shows DEBUG
    messages (``-vv``) or when descriptor 2 cannot be duplicated.

    Notes
    -----
    MediaPipe and TensorFlow Lite log through glog/absl to descriptor 2 directly; Python's
    ``logging`` and ``warnings`` cannot reach those lines. Not thread-safe against another
    thread redirecting descriptor 2 at the same time.
    """
    if logging.getLogger("screener").isEnabledFor(logging.DEBUG):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


#: Modules that ``import mediapipe`` loads only for its drawing helpers
#: (``mediapipe.python.solutions.drawing_utils`` imports ``matplotlib.pyplot`` for
#: ``plot_landmarks``), which the screener never calls.
_DRAWING_ONLY_MODULES = ("matplotlib", "matplotlib.pyplot")


class _NotLoaded(types.ModuleType):
    """Stands in for a module mediapipe imports but the screener never uses."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"{self.__name__}.{name}: {self.__name__} was left out when MediaPipe was "
            "imported (screener.pose.import_mediapipe); MediaPipe's drawing helpers are "
            "not available in this process"
        )


def import_mediapipe() -> Any:
    """The ``mediapipe`` package, imported without matplotlib.

    Returns
    -------
    module
        ``mediapipe``, as ``import mediapipe`` gives it.

    Notes
    -----
    ``import mediapipe`` imports all of ``mediapipe.python.solutions``, whose drawing
    helpers import ``matplotlib.pyplot``: 32 MiB of resident memory and 0.6 CPU s of the
    0.9 s MediaPipe's import takes (measured December 2026, 2 shared cores), for a plotting
    function the screener never calls. While MediaPipe is first imported, empty modules
    stand in for ``matplotlib`` and ``matplotlib.pyplot``; they are taken out of
    ``sys.modules`` afterwards, so a later ``import matplotlib`` (the web app's trend
    charts) loads the real package. ``mediapipe.solutions.drawing_utils.plot_landmarks``
    then fails with an ``AttributeError`` that names this function. Nothing is replaced
    when matplotlib or MediaPipe is already imported. ``mediapipe`` is pinned
    (``==0.10.21``), so what its import loads is fixed; a test checks that it still
    imports, runs and leaves matplotlib out.

    A thread that imports matplotlib for the first time while another imports MediaPipe
    for the first time would get the stand-in; no process of the screener does both (the
    web app draws its charts in the server process, MediaPipe runs in the workers).
    """
    if "mediapipe" in sys.modules or any(name in sys.modules for name in _DRAWING_ONLY_MODULES):
        import mediapipe

        return mediapipe
    stand_ins = {name: _NotLoaded(name) for name in _DRAWING_ONLY_MODULES}
    stand_ins["matplotlib"].pyplot = stand_ins["matplotlib.pyplot"]  # type: ignore[attr-defined]
    sys.modules.update(stand_ins)
    try:
        import mediapipe
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return mediapipe


def video_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks (memory stays flat)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pose_provenance(pose_config: PoseConfig | None = None) -> dict[str, Any]:
    """Which model and library versions produce the keypoints.

    Parameters
    ----------
    pose_config
        Settings in use; None means the defaults (bundled legacy model).

    Returns
    -------
    dict
        ``pose_model``, ``mediapipe``, ``opencv``, ``pyav`` and, for a ``.task`` model,
        ``task_model_path`` and ``task_model_sha256``.

    Notes
    -----
    Versions are read from the installed package metadata; MediaPipe is not imported.
    """
    info: dict[str, Any] = {
        "pose_model": LEGACY_MODEL,
        "mediapipe": _package_version("mediapipe"),
        "opencv": _opencv_version(),
        "pyav": _package_version("av"),
    }
    if pose_config is not None and pose_config.task_model_path is not None:
        model = _check_task_model(pose_config.task_model_path)
        info["pose_model"] = TASKS_MODEL
        info["task_model_path"] = str(model)
        info["task_model_sha256"] = video_sha256(model)
    return info


def pose_settings_sha256(pose_config: PoseConfig) -> str:
    """Hash of everything that decides the keypoints besides the video.

    The pose settings (a ``.task`` model by its content hash, not its path), the
    MediaPipe version and :data:`CACHE_VERSION`.
    """
    settings = pose_config.model_dump(mode="json")
    if not settings["rotate_cw_deg"]:  # keys of unrotated keypoints stay as they were
        del settings["rotate_cw_deg"]
    if settings["square_crop_x_fraction"] is None:  # nor those of uncropped ones
        del settings["square_crop_x_fraction"]
    prov = pose_provenance(pose_config)
    settings["task_model_path"] = prov.get("task_model_sha256")
    payload = {
        "settings": settings,
        "pose_model": prov["pose_model"],
        "mediapipe": prov["mediapipe"],
        "cache_version": CACHE_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def pose_cache_path(cache_dir: Path, video_hash: str, pose_config: PoseConfig) -> Path:
    """Where the keypoints of a video (by content hash) and pose settings are cached."""
    return Path(cache_dir) / "pose" / f"{video_hash}-{pose_settings_sha256(pose_config)[:16]}.npz"


def load_cached_pose(
    path: str | Path, pose_config: PoseConfig, cache_dir: Path | None
) -> PoseSequence | None:
    """Cached keypoints of a video with these pose settings, or None (never runs pose).

    Parameters
    ----------
    path
        The video; hashed by content.
    pose_config
        Pose settings.
    cache_dir
        Cache folder; None returns None.

    Notes
    -----
    An unreadable cache entry is logged and ignored (it will be recomputed and
    overwritten). The returned ``source["video"]`` is ``path``, even if the keypoints were
    cached under another name of the same content.
    """
    if cache_dir is None:
        return None
    if pose_config.task_model_path is not None:
        _check_task_model(pose_config.task_model_path)
    return _load_cache(Path(path), video_sha256(path), pose_config, Path(cache_dir))


def estimate_pose(
    path: str | Path,
    pose_config: PoseConfig,
    cache_dir: Path | None,
    *,
    progress: ProgressFn | None = None,
    tap: FrameTap | None = None,
    video_info: VideoInfo | None = None,
) -> PoseSequence:
    """Landmarks of the person in every frame of a video (cached).

    Parameters
    ----------
    path
        The video file.
    pose_config
        MediaPipe settings; any change here is a cache miss.
    cache_dir
        Keypoint cache folder (created if needed); None disables the cache.
    progress
        Called as ``progress(frames_done, frames_expected)`` about every 1 % of the clip
        and at the end; ``frames_expected`` is the header's count (or an estimate from the
        duration), so it may differ slightly from the final count.
    tap
        Optional :class:`FrameTap` shown every frame of the pose pass, upright as
        decoded (before ``rotate_cw_deg``); not called when the keypoints come from the
        cache.
    video_info
        The file's :func:`~screener.video.probe_video` when the caller has it (the
        file is then not probed again: opening it and decoding its first frame cost
        about 30 ms at 1080p); None: probed here.

    Returns
    -------
    PoseSequence
        Raw landmarks as MediaPipe gave them (no cleaning). ``source`` holds ``video``,
        ``video_sha256``, ``video_info``, ``decode`` (counts, truncation), ``pose``
        (:func:`pose_provenance` plus settings and their hash) and ``cache`` (hit/miss).

    Raises
    ------
    VideoError
        The file is not an analysable video (see :func:`screener.video.probe_video`).
    NoPersonError
        No frame has a person.
    ConfigError
        ``task_model_path`` is set but the file is missing or not a ``.task`` model.

    Notes
    -----
    The frame-rate limits are the caller's policy (``screener.analyze`` checks them
    with :func:`probe_video` first); this function accepts any positive frame rate.
    """
    path = Path(path)
    if pose_config.task_model_path is not None:
        _check_task_model(pose_config.task_model_path)
    if video_info is None:
        video_info = probe_video(path, min_fps=0.0, max_fps=math.inf)
    info = _turned(video_info, pose_config.rotate_cw_deg)
    digest = video_sha256(path)
    if cache_dir is not None:
        cached = _load_cache(path, digest, pose_config, Path(cache_dir))
        if cached is not None:
            if progress is not None:
                progress(cached.n_frames, cached.n_frames)
            return cached

    stats = DecodeStats()
    arrays = _run_pose(path, info, pose_config, stats, progress, tap)
    n_detected = int(arrays["detected"].sum())
    if n_detected == 0:
        raise NoPersonError(
            f"no person was found in any of the {stats.n_decoded} frames",
            path=path,
            remedy="Film the whole body, head to feet, with the person facing or turned away "
            "from the camera, in good light.",
        )
    source: dict[str, Any] = {
        "video": str(path),
        "video_sha256": digest,
        "video_info": _info_dict(info),
        "decode": stats.as_dict(),
        "n_frames_detected": n_detected,
        "pose": {
            **pose_provenance(pose_config),
            "settings": pose_config.model_dump(mode="json"),
            "settings_sha256": pose_settings_sha256(pose_config),
            "timestamps": "container presentation times fed to MediaPipe",
        },
    }
    sequence = PoseSequence(
        time_s=arrays["time_s"],
        image_xy_px=arrays["image_xy_px"],
        world_xyz_m=arrays["world_xyz_m"],
        visibility=arrays["visibility"],
        detected=arrays["detected"],
        image_size_px=(info.width_px, info.height_px),
        source={**source, "cache": "miss" if cache_dir is not None else "disabled"},
    )
    if cache_dir is not None:
        _save_cache(sequence, pose_cache_path(Path(cache_dir), digest, pose_config))
    log.info(
        "%s: pose in %d of %d frames (%s)",
        path,
        n_detected,
        sequence.n_frames,
        source["pose"]["pose_model"],
    )
    return sequence


# --------------------------------------------------------------------------- running


def _run_pose(
    path: Path,
    info: VideoInfo,
    config: PoseConfig,
    stats: DecodeStats,
    progress: ProgressFn | None,
    tap: FrameTap | None = None,
) -> dict[str, npt.NDArray[Any]]:
    """Decode and estimate; returns the arrays of a PoseSequence (trimmed)."""
    expected = info.n_frames_expected
    out = _Buffers(max(expected + 8, 64))
    step = max(1, expected // 100)
    width, height = float(info.width_px), float(info.height_px)
    size = (info.width_px, info.height_px)
    with _LOCK, opencv_single_threaded():
        runner = _TaskRunner(config) if config.task_model_path is not None else _legacy(config)
        try:
            frames = iter_frames(
                path,
                max_long_side_px=config.max_long_side_px,
                stats=stats,
                extra_sizes=tap.sizes if tap is not None else None,
            )
            for frame in frames:
                i = frame.index
                out.ensure(i + 1)
                out.time_s[i] = frame.time_s
                rgb = rotate_image(frame.rgb, config.rotate_cw_deg)
                shown, left, side = square_crop(rgb, config.square_crop_x_fraction)
                found = runner.process(shown, frame.time_s, out.image[i], out.world[i], out.vis[i])
                if found and side != rgb.shape[1]:  # crop-relative 0-1 -> frame-relative
                    out.image[i][:, 0] = (left + out.image[i][:, 0] * side) / rgb.shape[1]
                out.detected[i] = found
                if tap is not None:
                    tap.seen(frame, _pixels(out.image[i], width, height) if found else None, size)
                if progress is not None and (i + 1) % step == 0:
                    progress(i + 1, max(expected, i + 1))
        finally:
            runner.finish()
    n = stats.n_decoded
    if progress is not None:
        progress(n, n)
    return out.trimmed(n, width, height)


def square_crop(
    rgb: npt.NDArray[np.uint8], centre_x_fraction: float | None
) -> tuple[npt.NDArray[np.uint8], int, int]:
    """The part of an upright frame the pose model is shown (``PoseConfig.square_crop_x_fraction``).

    Returns
    -------
    shown, left, side
        The whole frame, 0 and its width when ``centre_x_fraction`` is None or the frame
        is not wider than tall; otherwise the square of the frame's full height centred at
        ``centre_x_fraction`` of its width (moved inside the frame where it would cross an
        edge), its first column and its side. Image x in 0-1 of the square maps to the
        frame's as ``(left + x * side) / width``.

    Notes
    -----
    MediaPipe's person detector looks at the whole picture letterboxed to a square, so
    what it needs is the body's share of the picture's long side (docs/capture.md): a
    square of a 16:9 landscape frame shows the same body 1.78 times larger to it, as a
    portrait recording would.
    """
    height, width = rgb.shape[:2]
    if centre_x_fraction is None or width <= height:
        return rgb, 0, width
    left = min(max(round(centre_x_fraction * width - height / 2), 0), width - height)
    return np.ascontiguousarray(rgb[:, left : left + height]), left, height


class _Buffers:
    """Preallocated per-frame arrays, grown by doubling if the header undercounts.

    The landmarks are held in float32, the precision MediaPipe gives them in (its
    landmark messages carry 32-bit floats), so nothing is lost; a 10-minute clip at
    60 fps holds 27 MiB instead of 54 while the video is read. :meth:`trimmed` gives
    the image landmarks in float64 pixels and the world landmarks as they are, in
    float32 (:class:`~screener.keypoints.PoseSequence`).
    """

    def __init__(self, capacity: int) -> None:
        self.time_s = np.empty(capacity)
        self.image = np.full((capacity, N_LANDMARKS, 2), np.nan, dtype=np.float32)
        self.world = np.full((capacity, N_LANDMARKS, 3), np.nan, dtype=np.float32)
        self.vis = np.zeros((capacity, N_LANDMARKS), dtype=np.float32)
        self.detected = np.zeros(capacity, dtype=bool)

    def ensure(self, size: int) -> None:
        capacity = self.time_s.shape[0]
        if size <= capacity:
            return
        grown = max(size, 2 * capacity)
        self.time_s = _grow(self.time_s, grown, np.nan)
        self.image = _grow(self.image, grown, np.nan)
        self.world = _grow(self.world, grown, np.nan)
        self.vis = _grow(self.vis, grown, 0.0)
        self.detected = _grow(self.detected, grown, False)

    def trimmed(self, n: int, width: float, height: float) -> dict[str, npt.NDArray[Any]]:
        """The first ``n`` frames, image x and y in float64 scaled from 0-1 to pixels by
        ``width`` and ``height``, world landmarks in float32; each buffer is released once
        converted."""
        image = self.image[:n].astype(np.float64)
        self.image = self.image[:0].copy()
        image[:, :, 0] *= width
        image[:, :, 1] *= height
        world = self.world[:n].copy()
        self.world = self.world[:0].copy()
        vis = self.vis[:n].astype(np.float64)
        self.vis = self.vis[:0].copy()
        return {
            "time_s": self.time_s[:n].copy(),
            "image_xy_px": image,
            "world_xyz_m": world,
            "visibility": vis,
            "detected": self.detected[:n].copy(),
        }


def _pixels(image: npt.NDArray[np.float32], width: float, height: float) -> npt.NDArray[np.float64]:
    """One frame's landmarks from 0-1 to pixels, computed as :meth:`_Buffers.trimmed` does."""
    xy = image.astype(np.float64)
    xy[:, 0] *= width
    xy[:, 1] *= height
    return xy


def _grow(array: npt.NDArray[Any], size: int, fill: float | bool) -> npt.NDArray[Any]:
    bigger = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


# Wire layout of a serialized (Normalized)LandmarkList whose landmarks carry exactly
# x, y, z and visibility (what solutions.pose returns): per landmark a length-delimited
# field 1 of 20 bytes, then four fixed32 fields 1-4. Checked before use; anything else
# takes the attribute-by-attribute path.
_WIRE = np.dtype(
    [
        ("tag", "u1"),
        ("len", "u1"),
        ("tx", "u1"),
        ("x", "<f4"),
        ("ty", "u1"),
        ("y", "<f4"),
        ("tz", "u1"),
        ("z", "<f4"),
        ("tv", "u1"),
        ("v", "<f4"),
    ]
)
_WIRE_TAGS = {"tag": 0x0A, "len": 20, "tx": 0x0D, "ty": 0x15, "tz": 0x1D, "tv": 0x25}


def landmarks_to_array(landmark_list: Any) -> npt.NDArray[np.float64]:
    """``(33, 4)`` array of x, y, z, visibility from a MediaPipe landmark-list proto.

    Notes
    -----
    Parses the serialized message with one ``np.frombuffer`` (21 us against 100 us for
    attribute access, measured) when its layout is the expected one; otherwise reads the
    attributes.
    """
    buffer = landmark_list.SerializeToString()
    if len(buffer) == N_LANDMARKS * _WIRE.itemsize:
        rec = np.frombuffer(buffer, dtype=_WIRE)
        if all(bool(np.all(rec[name] == value)) for name, value in _WIRE_TAGS.items()):
            return np.stack([rec["x"], rec["y"], rec["z"], rec["v"]], axis=1).astype(np.float64)
    return np.array(
        [(p.x, p.y, p.z, p.visibility) for p in landmark_list.landmark], dtype=np.float64
    )


class _LegacyRunner:
    """The process's ``solutions.pose.Pose``, fed container timestamps."""

    def __init__(self, pose: Any) -> None:
        self.pose = pose
        self.last_us = -1

    def process(
        self,
        rgb: npt.NDArray[np.uint8],
        time_s: float,
        image: npt.NDArray[np.float32],
        world: npt.NDArray[np.float32],
        vis: npt.NDArray[np.float32],
    ) -> bool:
        t_us = max(round(time_s * 1e6), self.last_us + 1)
        self.last_us = t_us
        # process() adds 33333 us to this before stamping the packet (see module Notes).
        self.pose._simulated_timestamp = t_us - 33333
        if _LANDMARKER["quiet"]:
            with quiet_native_stderr():
                result = self.pose.process(rgb)
        else:
            result = self.pose.process(rgb)
        if result.pose_landmarks is None:
            return False
        # Both models and the projection have run once: their start-up lines are out.
        _LANDMARKER["quiet"] = False
        lm = landmarks_to_array(result.pose_landmarks)
        image[:] = lm[:, :2]
        vis[:] = lm[:, 3]
        if result.pose_world_landmarks is not None:
            world[:] = landmarks_to_array(result.pose_world_landmarks)[:, :3]
        return True

    def finish(self) -> None:
        """Keep the landmarker for the next video (it is reset then)."""


def _legacy(config: PoseConfig) -> _LegacyRunner:
    """The process's legacy landmarker for these settings, reset for a new video."""
    key = (
        config.model_complexity,
        config.min_detection_confidence,
        config.min_tracking_confidence,
        config.smooth_landmarks,
    )
    pose = _LANDMARKER["pose"]
    if pose is not None and _LANDMARKER["key"] == key:
        with quiet_native_stderr():
            pose.reset()
            pose._graph.wait_until_idle()  # calculators open (and log) in graph threads
        _LANDMARKER["quiet"] = True
        LANDMARKER_COUNTS["reset"] += 1
    else:
        _LANDMARKER.update(key=None, pose=None)
        if pose is not None:
            pose.close()
        pose = _new_legacy_landmarker(config)
        _LANDMARKER.update(key=key, pose=pose)
    LANDMARKER_COUNTS["videos"] += 1
    return _LegacyRunner(pose)


def release_landmarker() -> None:
    """Close the process's landmarker and hand its memory back to the system.

    For a process that analyses one video (the ``screener analyze`` command): MediaPipe's
    graph and model buffers are freed before the analysis and report libraries load, so
    the two do not add up in the peak memory. The next video builds a new landmarker.

    Notes
    -----
    On glibc, ``malloc_trim(0)`` returns the freed heap pages to the system (measured on
    a 1080x1920 clip: resident memory 371 MiB after pose estimation, 239 MiB after this).
    A process that never imported MediaPipe (keypoints and searches from the cache) holds
    nothing of it: then nothing is collected or trimmed (a full collection costs about
    0.02 s there).
    """
    with _LOCK:
        pose = _LANDMARKER["pose"]
        _LANDMARKER.update(key=None, pose=None)
        if pose is not None:
            pose.close()
    if "mediapipe" not in sys.modules:
        return
    gc.collect()
    if sys.platform.startswith("linux"):
        # not glibc (e.g. musl): nothing to trim
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _new_legacy_landmarker(config: PoseConfig) -> Any:
    with quiet_native_stderr():
        mp = import_mediapipe()
        LANDMARKER_COUNTS["created"] += 1
        _LANDMARKER["quiet"] = True
        pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=config.model_complexity,
            smooth_landmarks=config.smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )
        pose._graph.wait_until_idle()  # calculators open (and log) in graph threads
        return pose


class _TaskRunner:
    """A Tasks API PoseLandmarker in VIDEO mode, created for one video.

    Notes
    -----
    Timestamps are integer milliseconds, forced strictly increasing (two frames less than
    1 ms apart, above 1000 fps, would otherwise collide).
    """

    def __init__(self, config: PoseConfig) -> None:
        mp = import_mediapipe()
        from mediapipe.tasks.python import BaseOptions, vision

        model = _check_task_model(config.task_model_path or Path())
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
            min_pose_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
            output_segmentation_masks=False,
        )
        try:
            with quiet_native_stderr():
                self.landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"MediaPipe cannot load the pose model ({exc})",
                path=config.task_model_path,
                remedy="Use a pose_landmarker .task file from MediaPipe, or unset "
                "pose.task_model_path to use the bundled model.",
            ) from exc
        LANDMARKER_COUNTS["created"] += 1
        LANDMARKER_COUNTS["videos"] += 1
        self.mp = mp
        self.last_ms = -1

    def process(
        self,
        rgb: npt.NDArray[np.uint8],
        time_s: float,
        image: npt.NDArray[np.float32],
        world: npt.NDArray[np.float32],
        vis: npt.NDArray[np.float32],
    ) -> bool:
        t_ms = max(round(time_s * 1000.0), self.last_ms + 1)
        self.last_ms = t_ms
        frame = self.mp.Image(image_format=self.mp.ImageFormat.SRGB, data=rgb)
        result = self.landmarker.detect_for_video(frame, t_ms)
        if not result.pose_landmarks:
            return False
        lms = result.pose_landmarks[0]
        image[:] = [(p.x, p.y) for p in lms]
        vis[:] = [p.visibility if p.visibility is not None else np.nan for p in lms]
        if result.pose_world_landmarks:
            world[:] = [(p.x, p.y, p.z) for p in result.pose_world_landmarks[0]]
        return True

    def finish(self) -> None:
        self.landmarker.close()


def _check_task_model(model_path: Path) -> Path:
    """The ``.task`` file, or ConfigError naming what is wrong."""
    model = Path(model_path)
    remedy = (
        "Set pose.task_model_path to a MediaPipe pose_landmarker .task file, or leave it "
        "unset to use the bundled full model."
    )
    if not model.is_file():
        raise ConfigError("pose model file not found", path=model, remedy=remedy)
    if not zipfile.is_zipfile(model):
        raise ConfigError(
            "this is not a MediaPipe .task model (a .task file is a zip bundle)",
            path=model,
            remedy=remedy,
        )
    return model


# --------------------------------------------------------------------------- cache


def _load_cache(
    path: Path, digest: str, config: PoseConfig, cache_dir: Path
) -> PoseSequence | None:
    file = pose_cache_path(cache_dir, digest, config)
    if not file.is_file():
        return None
    try:
        cached = PoseSequence.load(file)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("%s: ignoring an unreadable keypoint cache entry %s (%s)", path, file, exc)
        return None
    if cached.source.get("video_sha256") != digest:
        log.warning("%s: keypoint cache entry %s belongs to another video; ignored", path, file)
        return None
    log.info("%s: keypoints from the cache (%s)", path, file)
    source = {**cached.source, "video": str(path), "cache": "hit", "cache_file": str(file)}
    # MediaPipe's world landmarks are float32 (entries written before they were kept so
    # hold them in float64, converted exactly)
    return cached.with_arrays(
        source=source, world_xyz_m=cached.world_xyz_m.astype(np.float32, copy=False)
    )


def _save_cache(sequence: PoseSequence, file: Path) -> None:
    """Write atomically under a unique temporary name (parallel workers may race)."""
    tmp = file.with_name(f".{file.stem}.{os.getpid()}.{threading.get_ident()}.npz")
    try:
        sequence.save(tmp)
        tmp.replace(file)
    except OSError as exc:
        log.warning("cannot write the keypoint cache %s (%s); continuing without it", file, exc)
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- misc


def _turned(info: VideoInfo, cw_deg: int) -> VideoInfo:
    """The video's information after an extra clockwise turn of its frames."""
    if not cw_deg:
        return info
    quarter = cw_deg in (90, 270)
    return replace(
        info,
        width_px=info.height_px if quarter else info.width_px,
        height_px=info.width_px if quarter else info.height_px,
        rotation_deg=(info.rotation_deg + cw_deg) % 360,
    )


def _info_dict(info: VideoInfo) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _opencv_version() -> str:
    for name in ("opencv-contrib-python", "opencv-python", "opencv-python-headless"):
        found = _package_version(name)
        if found != "not installed":
            return found
    return "not installed"
