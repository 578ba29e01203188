"""Exports for the biomechanics toolchain: TRC keypoints and OpenSim ``.mot`` angles.

TRC (``PathFileType 4``, the OpenSim/Motion Analysis marker format)
    The 33 MediaPipe landmarks of the cleaned pose, named as in
    :data:`screener.landmarks.LANDMARK_NAMES`.

    - ``coords="world"`` (default): MediaPipe *world* landmarks in metres, turned to
      OpenSim's Y-up convention: X = the image's right, Y = up, Z = toward the camera
      (a right-handed frame; MediaPipe's is x right, y down, z away). The origin is the
      mid-hip point **of each frame** (MediaPipe estimates no global translation), so the
      pelvis does not travel: fit joint angles with the pelvis translation free.
    - ``coords="image"``: upright image pixels with Y flipped up (X = column, Y = image
      height - row, Z = 0), ``Units px``: for 2D tools and plotting, not for OpenSim IK.

    Missing landmarks are written as ``NaN``.

MOT (OpenSim storage)
    ``time`` then every per-frame angle column of ``frames.csv`` (names as in the output
    spec, degrees, ``inDegrees=yes``); missing values are ``NaN``. The columns are the
    screener's own clinical angles, not the coordinates of an OpenSim model: load the file
    to plot or compare, not to drive a model.

C3D (optional, needs the ``c3d`` package)
    The same markers and units as the TRC, NaN-free (missing points get residual -1, the
    C3D convention for an invalid point).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from screener.keypoints import FloatArray, PoseSequence
from screener.landmarks import LANDMARK_NAMES

log = logging.getLogger(__name__)

TrcCoords = Literal["world", "image"]
EXPORT_FORMATS: tuple[str, ...] = ("trc", "mot", "c3d")


def parse_exports(text: str | None) -> tuple[str, ...]:
    """Parse ``--export trc,mot`` into a sorted tuple of known formats.

    Raises
    ------
    ValueError
        An unknown format is named.
    """
    if not text:
        return ()
    names = {t.strip().lower() for t in text.split(",") if t.strip()}
    unknown = sorted(names - set(EXPORT_FORMATS))
    if unknown:
        raise ValueError(
            f"unknown export format(s) {', '.join(unknown)}; "
            f"choose from {', '.join(EXPORT_FORMATS)}"
        )
    return tuple(f for f in EXPORT_FORMATS if f in names)


def marker_positions(pose: PoseSequence, coords: TrcCoords = "world") -> tuple[FloatArray, str]:
    """Marker positions in the export frame and their unit.

    Returns
    -------
    xyz
        ``(n_frames, 33, 3)``, see the module notes for axes; NaN where missing.
    units
        ``"m"`` for world coordinates, ``"px"`` for image coordinates.
    """
    if coords == "world":
        w = pose.world_xyz_m.astype(np.float64, copy=False)
        return np.stack([w[..., 0], -w[..., 1], -w[..., 2]], axis=-1), "m"
    if coords == "image":
        xy = pose.image_xy_px
        height = float(pose.image_size_px[1])
        return np.stack([xy[..., 0], height - xy[..., 1], np.zeros_like(xy[..., 0])], axis=-1), (
            "px"
        )
    raise ValueError(f"coords must be 'world' or 'image', got {coords!r}")


def _fmt(value: float) -> str:
    return "NaN" if not np.isfinite(value) else f"{value:.6f}"


def write_trc(path: Path, pose: PoseSequence, coords: TrcCoords = "world") -> Path:
    """Write the pose's landmarks as a TRC marker file.

    Parameters
    ----------
    path
        File to write.
    pose
        The (cleaned) pose.
    coords
        ``"world"`` (metres, Y up) or ``"image"`` (pixels, Y up).

    Returns
    -------
    Path
        ``path``.
    """
    xyz, units = marker_positions(pose, coords)
    n_frames, n_markers = xyz.shape[0], xyz.shape[1]
    rate = pose.fps if np.isfinite(pose.fps) else 0.0
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
        "OrigDataStartFrame\tOrigNumFrames",
        f"{rate:.6f}\t{rate:.6f}\t{n_frames}\t{n_markers}\t{units}\t{rate:.6f}\t1\t{n_frames}",
        "\t".join(["Frame#", "Time", *[f"{name}\t\t" for name in LANDMARK_NAMES]]).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, n_markers + 1)),
        "",
    ]
    for f in range(n_frames):
        values = "\t".join(_fmt(v) for v in xyz[f].ravel())
        lines.append(f"{f + 1}\t{pose.time_s[f]:.6f}\t{values}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def angle_columns(frames: pd.DataFrame) -> list[str]:
    """The per-frame angle columns (``*_deg``) of a frames table, in table order."""
    return [c for c in frames.columns if str(c).endswith("_deg")]


def write_mot(path: Path, frames: pd.DataFrame, columns: Iterable[str] | None = None) -> Path:
    """Write per-frame angles as an OpenSim storage (``.mot``) file, in degrees.

    Parameters
    ----------
    path
        File to write.
    frames
        The frames table (``time_s`` and angle columns).
    columns
        Angle columns to write; every ``*_deg`` column if None.

    Returns
    -------
    Path
        ``path``.
    """
    cols = list(columns) if columns is not None else angle_columns(frames)
    data = frames[["time_s", *cols]].to_numpy(dtype=float)
    lines = [
        path.stem,
        "version=1",
        f"nRows={data.shape[0]}",
        f"nColumns={data.shape[1]}",
        "inDegrees=yes",
        "endheader",
        "\t".join(["time", *cols]),
    ]
    lines.extend("\t".join(_fmt(v) for v in row) for row in data)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_c3d(path: Path, pose: PoseSequence, coords: TrcCoords = "world") -> Path:
    """Write the pose's landmarks as a C3D file (needs the ``c3d`` package).

    Raises
    ------
    ModuleNotFoundError
        ``c3d`` is not installed (``pip install c3d``).
    """
    import c3d

    xyz, units = marker_positions(pose, coords)
    rate = pose.fps if np.isfinite(pose.fps) else 30.0
    writer = c3d.Writer(point_rate=float(rate), point_units=units.ljust(4)[:4])
    writer.set_point_labels(list(LANDMARK_NAMES))
    for f in range(xyz.shape[0]):
        points = np.zeros((xyz.shape[1], 5), dtype=np.float32)
        finite = np.isfinite(xyz[f]).all(axis=1)
        points[finite, :3] = xyz[f][finite]
        points[~finite, 3] = -1.0
        writer.add_frames([(points, np.zeros((0, 0), dtype=np.float32))])
    with path.open("wb") as fh, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No analog data found")
        writer.write(fh)
    return path


def write_exports(
    outdir: Path,
    stem: str,
    formats: Iterable[str],
    pose: PoseSequence,
    frames: pd.DataFrame,
    coords: TrcCoords = "world",
) -> list[Path]:
    """Write the requested exports of one analysed video into ``outdir``.

    Returns
    -------
    list of Path
        ``<stem>.trc``, ``<stem>.mot``, ``<stem>.c3d`` as requested.
    """
    written = []
    for fmt in formats:
        target = outdir / f"{stem}.{fmt}"
        if fmt == "trc":
            written.append(write_trc(target, pose, coords))
        elif fmt == "mot":
            written.append(write_mot(target, frames))
        elif fmt == "c3d":
            written.append(write_c3d(target, pose, coords))
        else:
            raise ValueError(f"unknown export format {fmt!r}")
    return written
