"""Camera view: anterior, posterior or sagittal, from the landmarks.

Frontal-plane measures (pelvic drop, knee FPPA, hip adduction) need a frontal view. A
side (sagittal) view is refused for them with a clear message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from screener.keypoints import PoseSequence
from screener.landmarks import INDEX
from screener.video import spread_indices

#: Median (shoulder + hip width) / 2 divided by torso length below which the view is
#: taken as sagittal. Frontal views give about 0.45-0.7, side views about 0.05-0.2.
SAGITTAL_WIDTH_RATIO = 0.25


@dataclass(frozen=True)
class ViewEstimate:
    """The camera view of a clip.

    Attributes
    ----------
    view
        ``"anterior"`` (subject faces the camera), ``"posterior"`` or ``"sagittal"``.
    confidence
        0-1.
    width_ratio
        Median half of (shoulder width + hip width) over torso length, in the image.
    facing_fraction
        Fraction of frames whose left/right labels place the subject's left on the image
        right (as when facing the camera).
    face_visibility
        Median visibility of the nose and eyes.
    """

    view: str
    confidence: float
    width_ratio: float
    facing_fraction: float
    face_visibility: float


def detect_view(pose: PoseSequence) -> ViewEstimate:
    """Tell anterior, posterior and sagittal views apart.

    Parameters
    ----------
    pose
        Landmarks (masked is best; unfiltered is fine).

    Returns
    -------
    ViewEstimate

    Notes
    -----
    Frontal against sagittal: in a frontal view the shoulders and hips are wide in the
    image relative to the torso's length; from the side they nearly overlap.

    Anterior against posterior: the pose model labels the subject's own left and right,
    so a subject facing the camera has the left hip on the image's right. A model can
    mislabel a subject seen from behind as facing the camera; the face's visibility is
    used as a second cue and lowers the confidence when the two disagree.
    """
    lh, rh = pose.xy("left_hip"), pose.xy("right_hip")
    ls, rs = pose.xy("left_shoulder"), pose.xy("right_shoulder")
    with np.errstate(invalid="ignore"):
        hip_w = np.abs(lh[:, 0] - rh[:, 0])
        sh_w = np.abs(ls[:, 0] - rs[:, 0])
        torso = np.linalg.norm(0.5 * (ls + rs) - 0.5 * (lh + rh), axis=1)
        ratio = 0.5 * (hip_w + sh_w) / torso
        facing = (lh[:, 0] - rh[:, 0]) + (ls[:, 0] - rs[:, 0]) > 0
    ok = np.isfinite(ratio)
    if not ok.any():
        return ViewEstimate("anterior", 0.0, float("nan"), float("nan"), float("nan"))
    width_ratio = float(np.median(ratio[ok]))
    facing_fraction = float(np.mean(facing[ok]))
    face_vis = float(
        np.nanmedian(np.concatenate([pose.vis(n)[ok] for n in ("nose", "left_eye", "right_eye")]))
    )
    if width_ratio < SAGITTAL_WIDTH_RATIO:
        confidence = float(np.clip(1.0 - width_ratio / SAGITTAL_WIDTH_RATIO, 0.0, 1.0))
        return ViewEstimate("sagittal", confidence, width_ratio, facing_fraction, face_vis)
    view = "anterior" if facing_fraction >= 0.5 else "posterior"
    confidence = float(abs(facing_fraction - 0.5) * 2.0)
    confidence *= float(np.clip((width_ratio - SAGITTAL_WIDTH_RATIO) / 0.15, 0.0, 1.0))
    return ViewEstimate(view, confidence, width_ratio, facing_fraction, face_vis)


@dataclass(frozen=True)
class WalkingRun:
    """A stretch of a clip in which the subject walks one way along the line of sight.

    Attributes
    ----------
    start, stop
        First frame and one past the last.
    start_s, end_s
        Their times, seconds.
    toward
        True when the subject comes toward the camera (grows in the image).
    size_ratio
        The body's image size at the run's larger end over that at its smaller end.
    """

    start: int
    stop: int
    start_s: float
    end_s: float
    toward: bool
    size_ratio: float

    @property
    def view(self) -> Literal["anterior", "posterior"]:
        """The view a walk this way is filmed from (people walk forward)."""
        return "anterior" if self.toward else "posterior"

    @property
    def duration_s(self) -> float:
        """Length of the run, seconds."""
        return self.end_s - self.start_s


def find_walking_runs(
    pose: PoseSequence, *, min_rate_per_s: float, min_duration_s: float, min_size_ratio: float
) -> list[WalkingRun]:
    """Stretches in which the body keeps growing or shrinking in the image.

    Parameters
    ----------
    pose
        Landmarks (raw or cleaned).
    min_rate_per_s
        The body's image size must change by at least this fraction per second
        (log-size rate, smoothed over about a second).
    min_duration_s, min_size_ratio
        A run must last this long and change the body's image size by this factor.

    Returns
    -------
    list of WalkingRun
        In time order. A walk toward or away from the camera gives one; a walk away and
        back (a turn) gives one each way.

    Notes
    -----
    The size is the legs' image length (:func:`screener.events.leg_length_px`, a
    one-second median). A single-leg squat shortens and lengthens it too (the thigh
    foreshortens as the knee goes forward), by up to 25 % but for at most 1.2 s each
    way on the stored squats; jogging in place and standing barely change it.
    """
    from scipy.ndimage import uniform_filter1d

    from screener.cleaning import true_runs
    from screener.events import leg_length_px

    size = leg_length_px(pose)
    if pose.n_frames < 3 or not np.isfinite(size).all() or not np.isfinite(pose.fps):
        return []
    log_size = uniform_filter1d(np.log(size), max(3, round(pose.fps)), mode="nearest")
    rate = np.gradient(log_size, pose.time_s)
    runs = []
    for toward, moving in ((True, rate > min_rate_per_s), (False, rate < -min_rate_per_s)):
        for start, stop in true_runs(moving):
            ratio = float(np.exp(abs(log_size[stop - 1] - log_size[start])))
            t0, t1 = float(pose.time_s[start]), float(pose.time_s[stop - 1])
            if t1 - t0 >= min_duration_s and ratio >= min_size_ratio:
                runs.append(WalkingRun(start, stop, t0, t1, toward, ratio))
    return sorted(runs, key=lambda r: r.start)


def walking_view(
    pose: PoseSequence, *, min_rate_per_s: float, min_duration_s: float, min_size_ratio: float
) -> Literal["anterior", "posterior"] | None:
    """The view a walk along the line of sight is filmed from: anterior when the subject
    comes toward the camera, posterior when they go away (people walk forward).

    Parameters are those of :func:`find_walking_runs`.

    Returns
    -------
    str or None
        None when the clip holds no walking run, or runs both ways.

    Notes
    -----
    It reads the body's growth in the image, not the pose model's left/right labels or
    the face, so it settles a walk on which those two disagree. On the stored rendered
    walks (958 with a run, session 29) it gave the true view for every one; 11 walks had
    no run. A single-leg squat's descent can read as a run too (115 of 1,326 stored
    squats, a guide squat's two-second descent), so it says something only of a walk.
    """
    runs = find_walking_runs(
        pose,
        min_rate_per_s=min_rate_per_s,
        min_duration_s=min_duration_s,
        min_size_ratio=min_size_ratio,
    )
    views = {r.view for r in runs}
    return views.pop() if len(views) == 1 else None


#: A frontal face in at least this share of the searched frames says the subject faces
#: the camera; in at most :data:`FACE_ABSENT_MAX`, that they turn their back to it.
FACE_PRESENT_MIN = 0.5
FACE_ABSENT_MAX = 0.15
#: Fewer searchable frames than this give no face evidence.
FACE_MIN_FRAMES = 4
#: Shoulders narrower than this in the image leave the face too small to look for.
FACE_MIN_SHOULDER_PX = 24.0
#: Labels this consistent (confidence) that contradict the face are a mirrored skeleton.
LABELS_CONSISTENT_MIN = 0.8
#: Below this confidence, and without face evidence, the view is not guessed.
MIN_VIEW_CONFIDENCE = 0.5
#: A face in fewer than this share of the searched frames does not overrule labels that
#: consistently say posterior: the frontal-face cascade also fires on some backs of heads.
#: In the face searches of 348 rendered hold-out videos (session 29), 185 of 197 filmed
#: from the front showed a face in at least 0.8 of the frames and none filmed from behind
#: (151) more than 0.67 (four squats from behind: 0.42-0.67, three of them refused for
#: their view before this limit); the one front view with labels saying posterior, 0.83.
FACE_OVERRULES_LABELS_MIN = 0.75


@dataclass(frozen=True)
class FaceEvidence:
    """Frontal faces found in the video near the tracked head.

    Attributes
    ----------
    frames_checked
        Frames whose head region was large enough to search.
    frames_with_face
        Those in which a frontal face was found.
    """

    frames_checked: int
    frames_with_face: int

    @property
    def fraction(self) -> float:
        """Share of searched frames with a face (NaN if none was searched)."""
        return self.frames_with_face / self.frames_checked if self.frames_checked else float("nan")

    @property
    def says(self) -> str | None:
        """``"anterior"``, ``"posterior"`` or None (not enough evidence either way)."""
        if self.frames_checked < FACE_MIN_FRAMES:
            return None
        if self.fraction >= FACE_PRESENT_MIN:
            return "anterior"
        if self.fraction <= FACE_ABSENT_MAX:
            return "posterior"
        return None


#: Local contrast equalisation of the head region before the face detector (OpenCV's
#: CLAHE): a face in shade against a bright background keeps its contrast, where a
#: histogram equalised over the whole region spent it on the background. Session 14, on
#: 200 clips (opened hold-outs 23-24 and the lighting sets' tuning and validation clips,
#: filmed from the front and from behind; the global equalisation before): faces of
#: clips filmed from the front said "posterior" on 5 (11), nothing on 3 (15); of clips
#: filmed from behind said "anterior" on 1 (0; a refusal asking for the view, not a
#: wrong one). Checked on 112 clips that chose nothing (hold-out 25's videos, the final
#: lighting set in both rooms and its room-lit twin): from the front "posterior" 1 (8),
#: nothing 6 (8); from behind 42 of 42 right (42).
FACE_CLAHE_CLIP, FACE_CLAHE_TILES = 3.0, (4, 4)
#: Decoding size (long side, px) of the frames searched for a face.
FACE_SEARCH_LONG_SIDE_PX = 1280
#: Frames searched for a face, evenly spread over the clip.
FACE_SEARCH_FRAMES = 12


def face_search_frames(pose: PoseSequence, n_frames: int = FACE_SEARCH_FRAMES) -> list[int]:
    """The frames :func:`detect_faces` searches: ``n_frames`` evenly spread over the clip."""
    return spread_indices(pose.n_frames, n_frames)


#: Face landmarks whose mean centres the head region searched for a face.
_HEAD_LANDMARKS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def face_region(
    rgb: npt.NDArray[np.uint8],
    image_xy_px: npt.NDArray[np.float64],
    image_size_px: tuple[int, int],
    rotate_cw_deg: int = 0,
) -> npt.NDArray[np.uint8] | None:
    """The head region of one frame that :func:`detect_faces` searches (a copy).

    Parameters
    ----------
    rgb
        The frame, upright as decoded (any size, e.g. :data:`FACE_SEARCH_LONG_SIDE_PX`).
    image_xy_px
        The frame's image landmarks ``(33, 2)``, pixels of the full-size frame as the
        pose model saw it (``PoseSequence.image_xy_px[index]``).
    image_size_px
        ``(width, height)`` of that full-size frame (``PoseSequence.image_size_px``).
    rotate_cw_deg
        The turn the pose model's frames were given.

    Returns
    -------
    numpy.ndarray or None
        None when the landmarks place no head (face or shoulder landmarks missing) or
        the shoulders are narrower than :data:`FACE_MIN_SHOULDER_PX` in ``rgb``'s pixels:
        such a frame is not searched.
    """
    from screener.upright import rotate_image

    head = image_xy_px[[INDEX[n] for n in _HEAD_LANDMARKS]]
    ls, rs = image_xy_px[INDEX["left_shoulder"]], image_xy_px[INDEX["right_shoulder"]]
    head = head[np.isfinite(head).all(axis=1)]
    if head.size == 0 or not (np.isfinite(ls).all() and np.isfinite(rs).all()):
        return None
    img = rotate_image(rgb, rotate_cw_deg)  # as the pose model saw it
    width, height = image_size_px
    sx, sy = img.shape[1] / width, img.shape[0] / height
    size = float(np.linalg.norm(ls - rs)) * sx
    if size < FACE_MIN_SHOULDER_PX:
        return None
    cx, cy = head.mean(axis=0) * (sx, sy)
    crop = img[
        max(0, int(cy - 0.7 * size)) : max(0, int(cy + 0.6 * size)),
        max(0, int(cx - 0.6 * size)) : max(0, int(cx + 0.6 * size)),
    ]
    if min(crop.shape[:2]) < 8:
        return None
    return np.array(crop, dtype=np.uint8)  # a copy: the frame itself is not kept


def detect_faces(
    video: str | Path,
    pose: PoseSequence,
    n_frames: int = FACE_SEARCH_FRAMES,
    rotate_cw_deg: int = 0,
    frames: Mapping[int, npt.NDArray[np.uint8]] | None = None,
    regions: Mapping[int, npt.NDArray[np.uint8] | None] | None = None,
) -> FaceEvidence:
    """Look for the subject's face in the pixels, independently of the pose model's labels.

    Parameters
    ----------
    video
        The video the pose was estimated from.
    pose
        Its landmarks (the head's position and the shoulders' width set the crop).
    n_frames
        Frames searched, evenly spread over the clip.
    rotate_cw_deg
        The turn the pose model's frames were given.
    frames
        The frames of :func:`face_search_frames` already decoded at
        :data:`FACE_SEARCH_LONG_SIDE_PX` (by index); None: read from ``video``.
    regions
        Head regions already cut from frames decoded at that size
        (:func:`face_region`, None where it gave none), by index; the frames they cover
        are neither taken from ``frames`` nor read.

    Returns
    -------
    FaceEvidence

    Notes
    -----
    The head region (centred on the face landmarks, 1.2 shoulder widths across) is
    scaled to 160 px, its contrast equalised locally (CLAHE, :data:`FACE_CLAHE_CLIP`,
    :data:`FACE_CLAHE_TILES`), and OpenCV's frontal-face Haar cascade
    (shipped with OpenCV, offline) is run on it. The pose model labels left and right
    by what it believes, so on a back view with the face hidden it can believe the
    subject faces the camera, consistently; the pixels are a second opinion. Measured:
    a face in 12 of 12 frames of each anterior sample render and 11 of 12 of the
    Pose2Sim camera facing the subjects (10 with a histogram equalised over the whole
    region, before session 14); in 0 of 12 of each posterior render and of the Pose2Sim
    cameras behind the subject.
    """
    import cv2

    from screener.video import read_frames

    cascade = cv2.CascadeClassifier(
        str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    )
    clahe = cv2.createCLAHE(clipLimit=FACE_CLAHE_CLIP, tileGridSize=FACE_CLAHE_TILES)
    wanted = face_search_frames(pose, n_frames)
    regions = regions if regions is not None else {}
    if frames is None:
        to_read = [i for i in wanted if i not in regions]
        frames = read_frames(video, {FACE_SEARCH_LONG_SIDE_PX: to_read})[FACE_SEARCH_LONG_SIDE_PX]
    checked = found = 0
    for index in wanted:
        if index in regions:
            crop = regions[index]
        else:
            rgb = frames.get(index)
            if rgb is None:
                continue
            crop = face_region(rgb, pose.image_xy_px[index], pose.image_size_px, rotate_cw_deg)
        if crop is None:
            continue
        scale = 160.0 / max(crop.shape[:2])
        big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        grey = clahe.apply(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY))
        faces = cascade.detectMultiScale(grey, scaleFactor=1.05, minNeighbors=4, minSize=(20, 20))
        checked += 1
        found += int(len(faces) > 0)
    return FaceEvidence(checked, found)


@dataclass(frozen=True)
class ViewDecision:
    """The view chosen from the pose model's labels and the face in the pixels.

    Attributes
    ----------
    view
        ``"anterior"`` or ``"posterior"``.
    confidence
        0-1.
    mirror_frames
        Frames whose every left/right label must be exchanged (their labels contradict
        the view), empty if none.
    problem
        Set when the view cannot be decided: what contradicts what (the caller asks the
        user for ``--view``).
    note
        What the decision set aside (for the warnings), or None.
    set_aside
        With ``note``: the contradiction set aside, in the words of ``problem`` (a walking
        direction that disagrees with the view settles it instead).
    """

    view: str
    confidence: float
    mirror_frames: npt.NDArray[np.bool_]
    problem: str | None = None
    note: str | None = None
    set_aside: str | None = None


def facing_per_frame(pose: PoseSequence) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per frame, whether the labels place the subject's left on the image's right (as
    when facing the camera), and whether the frame is clear enough to say (hips and
    shoulders each at least a fifth of the torso length wide, in the same order)."""
    lh, rh = pose.xy("left_hip"), pose.xy("right_hip")
    ls, rs = pose.xy("left_shoulder"), pose.xy("right_shoulder")
    with np.errstate(invalid="ignore"):
        torso = np.linalg.norm(0.5 * (ls + rs) - 0.5 * (lh + rh), axis=1)
        hip = (lh[:, 0] - rh[:, 0]) / torso
        sh = (ls[:, 0] - rs[:, 0]) / torso
        clear = (np.abs(hip) > 0.2) & (np.abs(sh) > 0.2) & (np.sign(hip) == np.sign(sh))
    return np.asarray(hip + sh > 0), np.asarray(clear & np.isfinite(torso))


def decide_view(
    pose: PoseSequence, labels: ViewEstimate, faces: FaceEvidence | None
) -> ViewDecision:
    """Combine the labels' view with the face evidence and the frames' consistency.

    Parameters
    ----------
    pose
        The landmarks the labels' estimate came from.
    labels
        :func:`detect_view`'s estimate (not sagittal).
    faces
        :func:`detect_faces`' evidence, or None (no video).

    Returns
    -------
    ViewDecision

    Notes
    -----
    - labels and face agree, or there is no face evidence and the labels are consistent
      (confidence at least :data:`MIN_VIEW_CONFIDENCE`): the labels' view;
    - the face says one view and consistent labels (confidence at least
      :data:`LABELS_CONSISTENT_MIN`) the other: a mirrored skeleton (the pose model
      believes a subject seen from behind faces the camera, or the reverse) or a face
      the detector missed; the view is not guessed. Except labels saying posterior
      against a face seen in fewer than :data:`FACE_OVERRULES_LABELS_MIN` of the frames:
      the cascade also fires on backs of heads, so the labels' view, with a note;
    - the face says one view and the labels are inconsistent (they flip from frame to
      frame): the face's view, and the frames whose labels contradict it are mirrored;
    - neither is clear: the view is not guessed.
    """
    facing, clear = facing_per_frame(pose)
    none = np.zeros(pose.n_frames, dtype=bool)
    face = faces.says if faces is not None else None
    if face is None or face == labels.view:
        if face is None and labels.confidence < MIN_VIEW_CONFIDENCE:
            return ViewDecision(
                labels.view,
                labels.confidence,
                none,
                f"the pose model's left/right labels flip between frames (view confidence "
                f"{labels.confidence:.2f}) and no face evidence settles it",
            )
        conf = labels.confidence if face is None else max(labels.confidence, 0.9)
        return ViewDecision(labels.view, conf, none)
    assert faces is not None
    seen = f"a face in {faces.frames_with_face} of {faces.frames_checked} frames"
    weak_face = face == "anterior" and faces.fraction < FACE_OVERRULES_LABELS_MIN
    if labels.confidence >= LABELS_CONSISTENT_MIN and labels.view == "posterior" and weak_face:
        return ViewDecision(
            labels.view,
            labels.confidence,
            none,
            note=f"the face search saw {seen}, too few to overrule the pose model's labels, "
            "which say posterior throughout (a back of the head can look like a face to it): "
            "analysed as filmed from behind; if the patient faced the camera, give --view "
            "anterior",
            set_aside=f"the pose model's left/right labels say posterior but the pixels show "
            f"{seen}",
        )
    if labels.confidence >= LABELS_CONSISTENT_MIN:
        return ViewDecision(
            labels.view,
            0.0,
            none,
            f"the pose model's left/right labels say {labels.view} but the pixels show {seen} "
            f"(the skeleton may be mirrored)",
        )
    contradict = clear & (facing != (face == "anterior"))
    return ViewDecision(face, 0.7, contradict)


def mirror_labels_in(pose: PoseSequence, frames: npt.NDArray[np.bool_]) -> PoseSequence:
    """Exchange every left/right label (face, arms and legs) in the given frames."""
    from screener.landmarks import mirror_indices

    order = np.asarray(mirror_indices())
    arrays = {}
    for name in ("image_xy_px", "world_xyz_m", "visibility"):
        values = getattr(pose, name).copy()
        values[frames] = values[frames][:, order]
        arrays[name] = values
    return pose.with_arrays(**arrays)
