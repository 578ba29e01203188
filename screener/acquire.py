"""The video stage: one video file to its landmarks and what else the pixels tell.

Probes the video, estimates the pose (cached; turned upright when the subject is not),
and searches a few frames for a second person and for the subject's face. Kept apart from
:mod:`screener.pipeline` so that a process imports only NumPy, OpenCV, PyAV and MediaPipe
while pose estimation runs (the analysis and report libraries load after it: their memory
and MediaPipe's do not add up in ``screener analyze``'s peak).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from screener.capture import OTHER_PEOPLE_LONG_SIDE_PX, OtherPeople, other_people_frames
from screener.config import AnalysisConfig
from screener.errors import NoPersonError
from screener.keypoints import PoseSequence
from screener.upright import check_upright
from screener.view import FACE_SEARCH_LONG_SIDE_PX, FaceEvidence, face_search_frames

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

#: Part of the key of cached search results; bump when the searches change.
SEARCH_CACHE_VERSION = 1


@dataclass(frozen=True)
class VideoPose:
    """What the video stage gives the analysis: landmarks and what else was read."""

    raw: PoseSequence
    config: AnalysisConfig
    video_info: dict[str, Any]
    other_people: OtherPeople | None
    faces: FaceEvidence | None


def estimate_video_pose(
    video: str | Path,
    config: AnalysisConfig,
    progress: ProgressCallback | None = None,
    *,
    release_pose_model: bool = False,
) -> VideoPose:
    """Probe the video, estimate the pose (turned upright if needed), look for a second
    person and for the subject's face.

    Parameters
    ----------
    video
        The video file.
    config
        Settings; ``cache_dir`` (if set) caches the keypoints and the searches' results.
    progress
        Called as ``progress(frames_done, frames_total)`` during pose estimation.
    release_pose_model
        Close the process's MediaPipe landmarker once the pose is estimated (see
        :func:`screener.pose.release_landmarker`), before the searches: for a process
        that analyses one video. False keeps it for the next video.

    Returns
    -------
    VideoPose
        With the settings as used (a turned video records its turn in them).

    Notes
    -----
    Both searches look at a dozen frames: those are decoded in one pass
    (:func:`screener.video.read_frames`), at the size each search uses. With a cache,
    their results are kept beside the keypoints (keyed by the keypoints' file and the
    search settings), so a re-analysis neither decodes nor loads MediaPipe.
    """
    from screener.video import probe_video

    path = Path(video)
    info = probe_video(path, min_fps=config.min_fps, max_fps=config.max_fps)
    raw, config = _upright_pose(path, config, progress)
    if release_pose_model:
        from screener.pose import release_landmarker

        release_landmarker()
    cache_file = _search_cache_file(raw, config)
    cached = _load_searches(cache_file, config)
    if cached is not None:
        others, faces = cached
    else:
        others, faces = _search_frames(path, raw, config)
        _save_searches(cache_file, config, others, faces)
    return VideoPose(raw, config, _jsonable_info(info), others, faces)


def _search_frames(
    path: Path, raw: PoseSequence, config: AnalysisConfig
) -> tuple[OtherPeople | None, FaceEvidence | None]:
    """The search for a second person and for the face, on frames decoded in one pass."""
    from screener.capture import detect_other_people
    from screener.video import read_frames
    from screener.view import detect_faces

    turn = config.pose.rotate_cw_deg
    check_others, check_face = config.capture.check_other_people, config.capture.check_face
    n_others = config.capture.other_people_frames
    frames = read_frames(
        path,
        {
            OTHER_PEOPLE_LONG_SIDE_PX: other_people_frames(raw, n_others) if check_others else [],
            FACE_SEARCH_LONG_SIDE_PX: face_search_frames(raw) if check_face else [],
        },
    )
    others = (
        detect_other_people(path, raw, n_others, turn, frames[OTHER_PEOPLE_LONG_SIDE_PX])
        if check_others
        else None
    )
    faces = (
        detect_faces(path, raw, rotate_cw_deg=turn, frames=frames[FACE_SEARCH_LONG_SIDE_PX])
        if check_face
        else None
    )
    return others, faces


def _search_key(config: AnalysisConfig) -> dict[str, Any]:
    return {
        "version": SEARCH_CACHE_VERSION,
        "check_other_people": config.capture.check_other_people,
        "other_people_frames": config.capture.other_people_frames,
        "check_face": config.capture.check_face,
        "rotate_cw_deg": config.pose.rotate_cw_deg,
    }


def _search_cache_file(raw: PoseSequence, config: AnalysisConfig) -> Path | None:
    """Beside the keypoints' cache file; None without a cache."""
    if config.cache_dir is None or raw.source.get("cache") not in ("hit", "miss"):
        return None
    digest = raw.source.get("video_sha256")
    if not isinstance(digest, str):
        return None
    from screener.pose import pose_cache_path

    return pose_cache_path(Path(config.cache_dir), digest, config.pose).with_suffix(
        ".searches.json"
    )


def _load_searches(
    file: Path | None, config: AnalysisConfig
) -> tuple[OtherPeople | None, FaceEvidence | None] | None:
    if file is None or not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("key") != _search_key(config):
            return None
        o, f = data["other_people"], data["faces"]
        others = (
            OtherPeople(tuple(o["frames_checked"]), tuple(o["frames_with_other"]))
            if o is not None
            else None
        )
        faces = FaceEvidence(int(f["checked"]), int(f["with_face"])) if f is not None else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring an unreadable search cache entry %s (%s)", file, exc)
        return None
    log.info("second-person and face searches from the cache (%s)", file)
    return others, faces


def _save_searches(
    file: Path | None,
    config: AnalysisConfig,
    others: OtherPeople | None,
    faces: FaceEvidence | None,
) -> None:
    """Write atomically (parallel workers may race); a failure only costs the cache."""
    if file is None:
        return
    data = {
        "key": _search_key(config),
        "other_people": (
            {
                "frames_checked": list(others.frames_checked),
                "frames_with_other": list(others.frames_with_other),
            }
            if others is not None
            else None
        ),
        "faces": (
            {"checked": faces.frames_checked, "with_face": faces.frames_with_face}
            if faces is not None
            else None
        ),
    }
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(file)
    except OSError as exc:
        log.warning("cannot write the search cache %s (%s); continuing without it", file, exc)
        tmp.unlink(missing_ok=True)


def _upright_pose(
    path: Path, config: AnalysisConfig, progress: ProgressCallback | None
) -> tuple[PoseSequence, AnalysisConfig]:
    """Estimate the pose, turning the frames first when the subject is not upright.

    The subject is upside down or lying when the body axis in the landmarks points down
    or sideways (then the frames are turned by the quarter turn that makes it upright),
    or when MediaPipe finds a person in too few frames as decoded but does when they are
    turned half a turn (a phone held upside down, with no rotation tag).

    Returns
    -------
    raw, config
        The landmarks, and the settings with the turn applied (``pose.rotate_cw_deg``).
    """
    from screener.pose import estimate_pose

    def turned(by_deg: int) -> AnalysisConfig:
        pose = config.pose.model_copy(
            update={"rotate_cw_deg": (config.pose.rotate_cw_deg + by_deg) % 360}
        )
        return config.model_copy(update={"pose": pose})

    raw: PoseSequence | None = None
    missed: NoPersonError | None = None
    try:
        raw = estimate_pose(path, config.pose, config.cache_dir, progress=progress)
    except NoPersonError as exc:
        missed = exc
    if raw is None or raw.detected.mean() < config.checks.min_detected_fraction:
        # Perhaps upside down: MediaPipe often misses a head-down body. Try it turned.
        half = turned(180)
        try:
            again = estimate_pose(path, half.pose, half.cache_dir, progress=progress)
        except NoPersonError:
            again = None
        better = again is not None and again.detected.mean() > (
            0.0 if raw is None else raw.detected.mean()
        )
        if again is not None and better:
            estimate = check_upright(again, str(path), config.checks.upright_max_tilt_deg)
            if estimate.rotate_cw_deg == 0:
                log.warning("%s: a person is found only with the frames turned 180°", path)
                return again, half
        if raw is None:
            assert missed is not None
            raise missed
    turn = check_upright(raw, str(path), config.checks.upright_max_tilt_deg).rotate_cw_deg
    if not turn:
        return raw, config
    log.warning("%s: the subject is not upright; turning the frames %d° clockwise", path, turn)
    config = turned(turn)
    return estimate_pose(path, config.pose, config.cache_dir, progress=progress), config


def _jsonable_info(info: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(info) and not isinstance(info, type):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}
    return {}
