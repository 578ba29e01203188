"""MediaPipe BlazePose landmark names and the groups the screener uses.

The 33 landmarks follow MediaPipe's order. ``left``/``right`` are the SUBJECT's sides
(anatomical), not the image's.
"""

from __future__ import annotations

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

N_LANDMARKS = len(LANDMARK_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}

SIDES: tuple[str, str] = ("left", "right")

#: Landmarks of one leg, hip to toe, without the side prefix.
LEG_PARTS: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "foot_index")

#: Lower-body landmarks whose visibility sets a frame's quality.
LOWER_BODY: tuple[str, ...] = tuple(f"{s}_{p}" for s in SIDES for p in LEG_PARTS)

#: Face landmarks (used to blur faces and to tell anterior from posterior views).
FACE: tuple[str, ...] = LANDMARK_NAMES[:11]


def idx(name: str) -> int:
    """Return the index of a landmark by name, e.g. ``idx("left_knee") == 25``."""
    return INDEX[name]


def mirror_indices() -> list[int]:
    """Return, for each landmark, the index of its left/right counterpart (itself if central)."""
    out = []
    for name in LANDMARK_NAMES:
        if name.startswith("left_"):
            out.append(INDEX["right_" + name[5:]])
        elif name.startswith("right_"):
            out.append(INDEX["left_" + name[6:]])
        else:
            out.append(INDEX[name])
    return out
