"""The validated container that every stage after pose estimation works on.

A :class:`PoseSequence` holds one video's landmarks with named, documented axes:

========================  ==========================  =========================================
attribute                 shape (axes)                meaning
========================  ==========================  =========================================
``time_s``                (frame,)                    presentation time of each decoded frame, s
``image_xy_px``           (frame, landmark, 2)        x right, y down, image pixels (upright)
``world_xyz_m``           (frame, landmark, 3)        MediaPipe world: metres, origin mid-hip,
                                                      x right, y down, z away from the camera
                                                      (float32 as MediaPipe gives them, or
                                                      float64)
``visibility``            (frame, landmark)           MediaPipe visibility, 0-1
``detected``              (frame,)                    a pose was found in the frame
========================  ==========================  =========================================

Missing values are NaN (never zeros). ``landmark`` follows
:data:`screener.landmarks.LANDMARK_NAMES`. Every array is float64 but ``world_xyz_m``,
which the pose stage and its cache hold in float32 (MediaPipe's own precision: at
36,000 frames a float64 copy is 28 MiB more); the cleaning stage's copies are float64
and :meth:`PoseSequence.xyz` always gives float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from screener.landmarks import INDEX, N_LANDMARKS

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: float32 (as MediaPipe gives them) or float64: see the module notes.
WorldArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]


@dataclass(frozen=True)
class PoseSequence:
    """Landmarks of one person over one video, with frame times.

    Parameters
    ----------
    time_s
        Presentation time of each frame in seconds, strictly increasing.
    image_xy_px
        Landmarks in upright image pixels, shape ``(n_frames, 33, 2)``.
    world_xyz_m
        MediaPipe world landmarks in metres, shape ``(n_frames, 33, 3)``, float32 or
        float64.
    visibility
        Per-landmark visibility 0-1, shape ``(n_frames, 33)``.
    detected
        Whether a pose was found in each frame, shape ``(n_frames,)``.
    image_size_px
        ``(width, height)`` of the upright frames.
    source
        Free-form provenance (video path, hash, model...), carried through.

    Notes
    -----
    The container is immutable: cleaning functions return new instances built with
    :meth:`with_arrays`.
    """

    time_s: FloatArray
    image_xy_px: FloatArray
    world_xyz_m: WorldArray
    visibility: FloatArray
    detected: BoolArray
    image_size_px: tuple[int, int]
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.time_s.shape[0]
        expected = {
            "time_s": (n,),
            "image_xy_px": (n, N_LANDMARKS, 2),
            "world_xyz_m": (n, N_LANDMARKS, 3),
            "visibility": (n, N_LANDMARKS),
            "detected": (n,),
        }
        for name, shape in expected.items():
            actual = getattr(self, name).shape
            if actual != shape:
                raise ValueError(f"PoseSequence.{name} has shape {actual}, expected {shape}")
        if self.world_xyz_m.dtype not in (np.float32, np.float64):
            raise ValueError(
                f"PoseSequence.world_xyz_m is {self.world_xyz_m.dtype}, expected float32 or float64"
            )
        if n > 1 and not np.all(np.diff(self.time_s) > 0):
            raise ValueError("PoseSequence.time_s must be strictly increasing")
        if len(self.image_size_px) != 2 or min(self.image_size_px) <= 0:
            raise ValueError(f"PoseSequence.image_size_px is invalid: {self.image_size_px}")

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.time_s.shape[0])

    @property
    def fps(self) -> float:
        """Median frame rate from the frame times (NaN with fewer than two frames)."""
        if self.n_frames < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.time_s)))

    def xy(self, name: str) -> FloatArray:
        """Image coordinates of one landmark, shape ``(n_frames, 2)``."""
        return self.image_xy_px[:, INDEX[name], :]

    def xyz(self, name: str) -> FloatArray:
        """World coordinates of one landmark, shape ``(n_frames, 3)``, in float64."""
        return self.world_xyz_m[:, INDEX[name], :].astype(np.float64, copy=False)

    def vis(self, name: str) -> FloatArray:
        """Visibility of one landmark, shape ``(n_frames,)``."""
        return self.visibility[:, INDEX[name]]

    def with_arrays(self, **arrays: Any) -> PoseSequence:
        """Return a copy with some arrays replaced (validated again)."""
        return replace(self, **arrays)

    def blanked(self, keep: BoolArray) -> PoseSequence:
        """A copy in which the frames outside ``keep`` show no person (landmarks NaN,
        visibility 0, not detected): left out of the analysis, while frame numbers and
        times still match the video's."""
        return self.with_arrays(
            image_xy_px=np.where(keep[:, None, None], self.image_xy_px, np.nan),
            world_xyz_m=np.where(keep[:, None, None], self.world_xyz_m, np.nan).astype(
                self.world_xyz_m.dtype
            ),
            visibility=np.where(keep[:, None], self.visibility, 0.0).astype(self.visibility.dtype),
            detected=self.detected & keep,
        )

    def take(self, frames: slice | npt.NDArray[np.integer[Any]]) -> PoseSequence:
        """The sequence restricted to some of its frames (a slice or increasing indices)."""
        return self.with_arrays(
            time_s=self.time_s[frames],
            image_xy_px=self.image_xy_px[frames],
            world_xyz_m=self.world_xyz_m[frames],
            visibility=self.visibility[frames],
            detected=self.detected[frames],
        )

    def save(self, path: str | Path) -> None:
        """Write the sequence to a compressed ``.npz`` file (atomically)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            time_s=self.time_s,
            image_xy_px=self.image_xy_px,
            world_xyz_m=self.world_xyz_m,
            visibility=self.visibility,
            detected=self.detected,
            image_size_px=np.asarray(self.image_size_px),
            source=np.asarray(_json_dumps(self.source)),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> PoseSequence:
        """Read a sequence written by :meth:`save` (world landmarks in the precision they
        were saved in: float32 stays float32)."""
        with np.load(Path(path), allow_pickle=False) as data:
            world = data["world_xyz_m"]
            return cls(
                time_s=data["time_s"].astype(np.float64),
                image_xy_px=data["image_xy_px"].astype(np.float64),
                world_xyz_m=world if world.dtype == np.float32 else world.astype(np.float64),
                visibility=data["visibility"].astype(np.float64),
                detected=data["detected"].astype(bool),
                image_size_px=(int(data["image_size_px"][0]), int(data["image_size_px"][1])),
                source=_json_loads(str(data["source"])),
            )


def empty_pose_sequence(time_s: FloatArray, image_size_px: tuple[int, int]) -> PoseSequence:
    """Return a sequence of the given frame times with every landmark missing (NaN)."""
    n = time_s.shape[0]
    return PoseSequence(
        time_s=np.asarray(time_s, dtype=np.float64),
        image_xy_px=np.full((n, N_LANDMARKS, 2), np.nan),
        world_xyz_m=np.full((n, N_LANDMARKS, 3), np.nan),
        visibility=np.zeros((n, N_LANDMARKS)),
        detected=np.zeros(n, dtype=bool),
        image_size_px=image_size_px,
    )


def _json_dumps(obj: dict[str, Any]) -> str:
    import json

    return json.dumps(obj, sort_keys=True, default=str)


def _json_loads(text: str) -> dict[str, Any]:
    import json

    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("PoseSequence source must be a JSON object")
    return loaded
