"""The video stage: one video file to its landmarks and what else the pixels tell.

Probes the video, estimates the pose (cached; turned upright when the subject is not),
and searches a few frames for a second person, for the subject's face and for the room's
vertical lines. Kept apart from
:mod:`screener.pipeline` so that a process imports only NumPy, OpenCV, PyAV and MediaPipe
while pose estimation runs (the analysis and report libraries load after it: their memory
and MediaPipe's do not add up in ``screener analyze``'s peak).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from screener.capture import (
    OTHER_PEOPLE_LONG_SIDE_PX,
    OtherPeople,
    OtherPeopleFramePicker,
    load_envelope,
    other_people_frames,
)
from screener.clothing import Clothing, measure_clothing
from screener.config import AnalysisConfig
from screener.errors import NoPersonError, ViewError
from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import INDEX
from screener.lighting import (
    Lighting,
    dark_picture_note,
    measure_lighting,
    picture_brightness,
)
from screener.scene import SceneTilt
from screener.upright import check_upright
from screener.video import spread_indices
from screener.view import (
    FACE_SEARCH_FRAMES,
    FACE_SEARCH_LONG_SIDE_PX,
    FaceEvidence,
    face_region,
    face_search_frames,
)

if TYPE_CHECKING:
    from screener.video import Frame, RGBImage, VideoInfo

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

#: Part of the key of cached search results; bump when the searches change.
SEARCH_CACHE_VERSION = 4


@dataclass(frozen=True)
class Searches:
    """What the searches of a few frames found (None: that search was not run)."""

    other_people: OtherPeople | None
    faces: FaceEvidence | None
    scene_tilt: SceneTilt | None
    lighting: Lighting | None
    clothing: Clothing | None


@dataclass(frozen=True)
class VideoPose:
    """What the video stage gives the analysis: landmarks and what else was read."""

    raw: PoseSequence
    config: AnalysisConfig
    video_info: dict[str, Any]
    other_people: OtherPeople | None
    faces: FaceEvidence | None
    scene_tilt: SceneTilt | None = None
    lighting: Lighting | None = None
    clothing: Clothing | None = None


def estimate_video_pose(
    video: str | Path,
    config: AnalysisConfig,
    progress: ProgressCallback | None = None,
    *,
    release_pose_model: bool = False,
    pose_pass: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> VideoPose:
    """Probe the video, estimate the pose (turned upright if needed), look for a second
    person and for the subject's face, read the room's verticals and the lighting.

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
    pose_pass
        Entered around each pass of the pose model over the video (the command line's
        heap setting while frames are decoded, :func:`screener.cli.frame_memory_reused`).

    Returns
    -------
    VideoPose
        With the settings as used (a turned video records its turn in them).

    Notes
    -----
    Both searches look at a dozen frames, at the size each search uses. The pose pass
    keeps them as it decodes the clip (:class:`SearchFrameTap`); the few it could not
    (keypoints from the cache, a frame count other than the header's, the subject
    missing from the last frame) are decoded in one pass
    (:func:`screener.video.read_frames`). With a cache, the searches' results are kept
    beside the keypoints (keyed by the keypoints' file and the search settings), so a
    re-analysis neither decodes nor loads MediaPipe.
    """
    from screener.video import probe_video

    path = Path(video)
    info = probe_video(path, min_fps=config.min_fps, max_fps=config.max_fps)
    try:
        raw, config, tap = _upright_pose(path, config, progress, info, pose_pass)
    except NoPersonError as exc:
        raise _with_darkness(exc, path, config, info.n_frames_expected) from exc
    if release_pose_model:
        from screener.pose import release_landmarker

        release_landmarker()
    cache_file = _search_cache_file(raw, config)
    found = _load_searches(cache_file, config)
    if found is None:
        found = _search_frames(path, raw, config, tap)
        _save_searches(cache_file, config, found)
    return VideoPose(
        raw,
        config,
        _jsonable_info(info),
        found.other_people,
        found.faces,
        found.scene_tilt,
        found.lighting,
        found.clothing,
    )


class SearchFrameTap:
    """Keeps the frames the searches will look at while the pose pass decodes the clip.

    A :class:`screener.pose.FrameTap`: the frames :func:`face_search_frames` and
    :func:`other_people_frames` will choose once the pose is known, at the sizes the
    searches use, so that the clip is not decoded a second time.

    Parameters
    ----------
    n_expected
        The clip's frame count as its header says (or estimated); the frames are chosen
        for it. When the pass decodes another count, the frames chosen for the real count
        are mostly others, and the searches read them.
    config
        Which searches run, and how many frames the second-person search looks at.

    Notes
    -----
    Memory is bounded: one 640-px frame per second-person target (0.7 MB for a 16:9
    clip: 5.5 MB for 8) and, of the 12 face frames, only the head region the face search
    looks at (:func:`screener.view.face_region`, tens of KB each), plus frames on their
    way through the decoding queue. The frames for the second person are taken with the
    rule of :class:`screener.capture.OtherPeopleFramePicker`, applied as the frames go
    by; after a target's frame, the decoding thread waits (at most :attr:`WAIT_S`) for
    the pose of the frame before, so that it converts a frame only while its target
    still wants one. The last target's frame is kept only if it is the clip's last
    frame (the last frame with a pose is known only at the end); otherwise it is read
    afterwards.
    """

    #: Longest wait of the decoding thread for the pose of the frame before, seconds.
    WAIT_S = 2.0

    def __init__(self, n_expected: int, config: AnalysisConfig) -> None:
        capture = config.capture  # the lighting is measured on the second person's frames
        face_frames = spread_indices(n_expected, FACE_SEARCH_FRAMES) if capture.check_face else []
        self.face_frames = frozenset(face_frames)
        self.picker = (
            OtherPeopleFramePicker(n_expected, capture.other_people_frames)
            if _reads_search_frames(config)
            else None
        )
        self.turn = config.pose.rotate_cw_deg
        #: Frames kept for the second-person search, by index.
        self.others: dict[int, RGBImage] = {}
        #: Head regions cut for the face search (:func:`screener.view.face_region`).
        self.face_regions: dict[int, RGBImage | None] = {}
        self._seen = -1
        self._cond = threading.Condition()

    def sizes(self, index: int) -> Collection[int | None]:
        """The search sizes at which frame ``index`` is wanted (decoding thread)."""
        wanted: list[int | None] = []
        if index in self.face_frames:
            wanted.append(FACE_SEARCH_LONG_SIDE_PX)
        picker = self.picker
        if picker is not None and picker.could_pick(index):
            if index not in picker.targets:
                # wanted only if the frames since the target had no pose: wait for them
                with self._cond:
                    self._cond.wait_for(lambda: self._seen >= index - 1, timeout=self.WAIT_S)
            if picker.could_pick(index):
                wanted.append(OTHER_PEOPLE_LONG_SIDE_PX)
        return wanted

    def seen(
        self,
        frame: Frame,
        image_xy_px: FloatArray | None,
        image_size_px: tuple[int, int],
    ) -> None:
        """Keep what the searches will want of ``frame`` (the pose pass's thread)."""
        index = frame.index
        detected = image_xy_px is not None
        if index in self.face_frames and FACE_SEARCH_LONG_SIDE_PX in frame.extra:
            self.face_regions[index] = (
                face_region(
                    frame.extra[FACE_SEARCH_LONG_SIDE_PX], image_xy_px, image_size_px, self.turn
                )
                if image_xy_px is not None
                else None
            )
        if self.picker is not None:
            others = self.others
            if self.picker.offer(index, detected) and OTHER_PEOPLE_LONG_SIDE_PX in frame.extra:
                others[index] = frame.extra[OTHER_PEOPLE_LONG_SIDE_PX]
            for stale in set(others) - set(self.picker.slots):
                del others[stale]
        with self._cond:
            self._seen = index
            self._cond.notify_all()


def _with_darkness(
    exc: NoPersonError, path: Path, config: AnalysisConfig, n_frames_expected: int
) -> NoPersonError:
    """``exc``, or, when no person was found in a dark picture, the same error saying so
    (:func:`screener.lighting.dark_picture_note`)."""
    if not config.capture.check_lighting or not exc.problem.startswith("no person was found"):
        return exc
    note = dark_picture_note(
        picture_brightness(path, n_frames_expected),
        load_envelope(config.capture.envelope_path).lighting,
    )
    if note is None:
        return exc
    return NoPersonError(
        f"{exc.problem.rstrip('.')}: {note}",
        path=exc.path,
        remedy="Film again with the room lit, the light behind the camera.",
    )


def scene_tilt_frames(raw: PoseSequence, config: AnalysisConfig) -> list[int]:
    """The frames the room's verticals are read on: every other frame of the
    second-person search (:func:`screener.capture.other_people_frames`), which decodes
    them anyway; the background is still, so four frames give enough lines."""
    return other_people_frames(raw, config.capture.other_people_frames)[::2]


def _search_frames(
    path: Path, raw: PoseSequence, config: AnalysisConfig, tap: SearchFrameTap | None = None
) -> Searches:
    """The searches for a second person, for the face and for the room's verticals, and
    the subject's lighting and clothing (on the second person's frames), on
    the frames the pose pass kept (``tap``) and those it could not, decoded in one pass
    (the room's on :func:`scene_tilt_frames`)."""
    from screener.capture import detect_other_people
    from screener.scene import estimate_scene_tilt
    from screener.video import read_frames
    from screener.view import detect_faces

    capture = config.capture
    turn = config.pose.rotate_cw_deg
    check_others, check_face = capture.check_other_people, capture.check_face
    check_scene, check_light = capture.check_scene_tilt, capture.check_lighting
    check_clothes = capture.check_clothing
    n_others = capture.other_people_frames
    search = other_people_frames(raw, n_others) if _reads_search_frames(config) else []
    others_wanted = search if check_others else []
    light_wanted = search if check_light else []
    clothes_wanted = search if check_clothes else []
    scene_wanted = scene_tilt_frames(raw, config) if check_scene else []
    faces_wanted = face_search_frames(raw) if check_face else []
    kept = tap.others if tap is not None else {}
    regions = tap.face_regions if tap is not None else {}
    wanted_640 = sorted(set(search) | set(scene_wanted))
    missing: dict[int | None, list[int]] = {
        OTHER_PEOPLE_LONG_SIDE_PX: [i for i in wanted_640 if i not in kept],
        FACE_SEARCH_LONG_SIDE_PX: [i for i in faces_wanted if i not in regions],
    }
    n_missing = sum(len(m) for m in missing.values())
    read: dict[int | None, dict[int, RGBImage]] = {size: {} for size in missing}
    if n_missing:
        log.info(
            "%s: %d of the %d searched frames not kept by the pose pass; reading them",
            path,
            n_missing,
            len(wanted_640) + len(faces_wanted),
        )
        read = read_frames(path, missing)
    frames_640 = {
        **read[OTHER_PEOPLE_LONG_SIDE_PX],
        **{i: kept[i] for i in wanted_640 if i in kept},
    }
    others = (
        detect_other_people(
            path, raw, n_others, turn, {i: frames_640[i] for i in others_wanted if i in frames_640}
        )
        if check_others
        else None
    )
    faces = (
        detect_faces(
            path,
            raw,
            rotate_cw_deg=turn,
            frames=read[FACE_SEARCH_LONG_SIDE_PX],
            regions={i: regions[i] for i in faces_wanted if i in regions},
        )
        if check_face
        else None
    )
    scene = (
        estimate_scene_tilt(
            {i: frames_640[i] for i in scene_wanted if i in frames_640},
            raw,
            turn,
            capture.assumed_long_side_fov_deg,
        )
        if check_scene
        else None
    )
    lighting = (
        measure_lighting({i: frames_640[i] for i in light_wanted if i in frames_640}, raw, turn)
        if check_light
        else None
    )
    clothing = (
        measure_clothing({i: frames_640[i] for i in clothes_wanted if i in frames_640}, raw, turn)
        if check_clothes
        else None
    )
    return Searches(others, faces, scene, lighting, clothing)


def _reads_search_frames(config: AnalysisConfig) -> bool:
    """Whether any search reads the second person's frames (the second-person search
    itself, the lighting and the clothing)."""
    capture = config.capture
    return capture.check_other_people or capture.check_lighting or capture.check_clothing


def _search_key(config: AnalysisConfig) -> dict[str, Any]:
    return {
        "version": SEARCH_CACHE_VERSION,
        "check_other_people": config.capture.check_other_people,
        "other_people_frames": config.capture.other_people_frames,
        "check_face": config.capture.check_face,
        "check_scene_tilt": config.capture.check_scene_tilt,
        "check_lighting": config.capture.check_lighting,
        "check_clothing": config.capture.check_clothing,
        "assumed_long_side_fov_deg": config.capture.assumed_long_side_fov_deg,
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


def _load_searches(file: Path | None, config: AnalysisConfig) -> Searches | None:
    if file is None or not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("key") != _search_key(config):
            return None
        o, f, t = data["other_people"], data["faces"], data["scene_tilt"]
        others = (
            OtherPeople(tuple(o["frames_checked"]), tuple(o["frames_with_other"]))
            if o is not None
            else None
        )
        faces = FaceEvidence(int(f["checked"]), int(f["with_face"])) if f is not None else None
        scene = (
            SceneTilt(
                None if t["tilt_deg"] is None else float(t["tilt_deg"]),
                int(t["segments"]),
                int(t["frames"]),
            )
            if t is not None
            else None
        )
        light, clothes = data["lighting"], data["clothing"]
        lighting = Lighting(**light) if light is not None else None
        clothing = Clothing(**clothes) if clothes is not None else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring an unreadable search cache entry %s (%s)", file, exc)
        return None
    log.info("second-person, face, room, lighting and clothing searches from the cache (%s)", file)
    return Searches(others, faces, scene, lighting, clothing)


def _save_searches(file: Path | None, config: AnalysisConfig, found: Searches) -> None:
    """Write atomically (parallel workers may race); a failure only costs the cache."""
    if file is None:
        return
    others, faces, scene, light = found.other_people, found.faces, found.scene_tilt, found.lighting
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
        "scene_tilt": (
            {
                "tilt_deg": scene.tilt_deg,
                "segments": scene.segments,
                "frames": scene.frames,
            }
            if scene is not None
            else None
        ),
        "lighting": dataclasses.asdict(light) if light is not None else None,
        "clothing": dataclasses.asdict(found.clothing) if found.clothing is not None else None,
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
    path: Path,
    config: AnalysisConfig,
    progress: ProgressCallback | None,
    info: VideoInfo,
    pose_pass: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> tuple[PoseSequence, AnalysisConfig, SearchFrameTap]:
    """Estimate the pose, turning the frames first when the subject is not upright
    (``info``: the file's :func:`~screener.video.probe_video`, not probed again; each
    pass inside ``pose_pass()``).

    The subject is upside down or lying when the body axis in the landmarks points down
    or sideways (then the frames are turned by the quarter turn that makes it upright),
    or when MediaPipe finds a person in too few frames as decoded but does when they are
    turned half a turn (a phone held upside down, with no rotation tag).

    Returns
    -------
    raw, config, tap
        The landmarks, the settings with the turn applied (``pose.rotate_cw_deg``), and
        the frames the pass that gave the landmarks kept for the searches (none if they
        came from the cache).
    """
    from screener.pose import estimate_pose

    def turned(by_deg: int) -> AnalysisConfig:
        pose = config.pose.model_copy(
            update={"rotate_cw_deg": (config.pose.rotate_cw_deg + by_deg) % 360}
        )
        return config.model_copy(update={"pose": pose})

    def estimate(settings: AnalysisConfig) -> tuple[PoseSequence, SearchFrameTap]:
        tap = SearchFrameTap(info.n_frames_expected, settings)
        with pose_pass():
            sequence = estimate_pose(
                path,
                settings.pose,
                settings.cache_dir,
                progress=progress,
                tap=tap,
                video_info=info,
            )
        return sequence, tap

    raw: PoseSequence | None = None
    missed: NoPersonError | None = None
    try:
        raw, tap = estimate(config)
    except NoPersonError as exc:
        missed = exc
    if raw is None or raw.detected.mean() < config.checks.min_detected_fraction:
        # Perhaps upside down: MediaPipe often misses a head-down body. Try it turned.
        half = turned(180)
        try:
            again, again_tap = estimate(half)
        except NoPersonError:
            again = None
        better = again is not None and again.detected.mean() > (
            0.0 if raw is None else raw.detected.mean()
        )
        if again is not None and better:
            estimate_up = check_upright(again, str(path), config.checks.upright_max_tilt_deg)
            if estimate_up.rotate_cw_deg == 0:
                log.warning("%s: a person is found only with the frames turned 180°", path)
                return again, half, again_tap
    before = 0.0 if raw is None else float(raw.detected.mean())
    if before < config.checks.square_crop_below_detected_fraction and _wider_than_tall(
        info, config.pose.rotate_cw_deg
    ):
        # A small body in a landscape picture: show MediaPipe a square around it.
        centre = patient_x_fraction(raw)
        square = config.model_copy(
            update={"pose": config.pose.model_copy(update={"square_crop_x_fraction": centre})}
        )
        try:
            again, again_tap = estimate(square)
        except NoPersonError:
            again = None
        if (
            again is not None
            and again.detected.mean() > before
            and inside_square(again, centre)
            and check_upright(again, str(path), config.checks.upright_max_tilt_deg).rotate_cw_deg
            == 0
        ):
            log.warning(
                "%s: a person is found in %.0f%% of the frames of the landscape picture and "
                "in %.0f%% of a square of it around them",
                path,
                100 * before,
                100 * again.detected.mean(),
            )
            note = {"whole_picture_detected_fraction": round(before, 4)}
            return (
                again.with_arrays(source={**again.source, "square_crop": note}),
                square,
                again_tap,
            )
    if raw is None:
        assert missed is not None
        raise missed
    as_filmed = check_upright(raw, str(path), config.checks.upright_max_tilt_deg)
    turn = as_filmed.rotate_cw_deg
    if not turn:
        return raw, config, tap
    log.warning("%s: the subject is not upright; turning the frames %d° clockwise", path, turn)
    config = turned(turn)
    raw, tap = estimate(config)
    after = check_upright(raw, str(path), config.checks.upright_max_tilt_deg)
    if after.rotate_cw_deg:
        raise ViewError(
            "the pose model's skeleton is not upright whichever way the frames are turned "
            f"(its head points {as_filmed.axis_deg:.0f}° from the picture's up direction as "
            f"filmed, and {after.axis_deg:.0f}° with the frames turned {turn}°): it did not "
            "read this body",
            path=path,
            remedy="Film closer, so that head to feet span at least half of the picture's "
            "height, with the lens at the patient's knee height and the whole body in good "
            "light; a video stored on its side or upside down can be rotated to upright first.",
        )
    return raw, config, tap


def _wider_than_tall(info: VideoInfo, rotate_cw_deg: int) -> bool:
    """Whether the frames, upright as the pose model is shown them, are landscape."""
    width, height = info.width_px, info.height_px
    if rotate_cw_deg in (90, 270):
        width, height = height, width
    return width > height


#: The square's landmarks are used only if, in at least this share of the frames it found
#: the patient in, the body (shoulders to feet) lies inside the square: a patient who
#: walks out of it is better read from the whole picture. Not tuned: the rendered walkers
#: of hold-outs 36-41 and 46 stayed 0.28 of the square's side or more inside it.
SQUARE_INSIDE_MIN_FRACTION = 0.95


def inside_square(pose: PoseSequence, centre_x_fraction: float) -> bool:
    """Whether the body stays inside the square the landmarks were estimated in
    (:data:`SQUARE_INSIDE_MIN_FRACTION` of the frames with a person)."""
    width, height = pose.image_size_px
    left = min(max(centre_x_fraction * width - height / 2, 0.0), width - height)
    x = pose.image_xy_px[pose.detected][:, INDEX["left_shoulder"] :, 0]
    if not x.size:
        return False
    seen = np.isfinite(x)
    lowest = np.where(seen, x, np.inf).min(axis=1)
    highest = np.where(seen, x, -np.inf).max(axis=1)
    inside = (lowest >= left) & (highest <= left + height)
    return bool(inside.mean() >= SQUARE_INSIDE_MIN_FRACTION)


def patient_x_fraction(raw: PoseSequence | None) -> float:
    """Where across the picture (0-1 of its width) the patient's hips were found: the
    median over the frames with a person; the middle when none had one."""
    if raw is None or not raw.detected.any():
        return 0.5
    hips = raw.image_xy_px[raw.detected][:, [INDEX["left_hip"], INDEX["right_hip"]], 0]
    centre = float(np.nanmedian(hips)) / raw.image_size_px[0]
    return min(max(centre, 0.0), 1.0) if np.isfinite(centre) else 0.5


def _jsonable_info(info: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(info) and not isinstance(info, type):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}
    return {}
