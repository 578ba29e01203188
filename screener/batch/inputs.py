"""What a batch runs on: video discovery in a folder, or a manifest CSV.

Both give a list of :class:`VideoJob`: one video with its analysis arguments (task, side,
view, pain...) and the metadata carried to the combined tables (subject, session and any
extra manifest column).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screener.config import check_camera_distance_m, check_lens_height_cm, check_patient_height_cm
from screener.errors import ConfigError
from screener.tasks import task_choices

log = logging.getLogger(__name__)

#: File name endings taken as videos whatever their content (lower case).
VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v", ".3gp"}
)

#: Manifest columns the batch interprets; every other column is carried through as is.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "id",
    "path",
    "task",
    "side",
    "view",
    "subject",
    "session",
    "pain",
    "first_line_done",
    "sex",
    "lens_height_cm",
    "camera_distance_m",
    "patient_height_cm",
)

#: Metadata columns that lead every combined table (after ``video_id``), in this order.
META_COLUMNS: tuple[str, ...] = ("path", "subject", "session", "pain")

_CHOICES: dict[str, tuple[str, ...]] = {
    "side": ("left", "right", "auto"),
    "view": ("anterior", "posterior", "auto"),
    "sex": ("female", "male"),
}


def _choices(name: str) -> tuple[str, ...]:
    """Accepted values of a manifest column (tasks: the registry's, :mod:`screener.tasks`)."""
    return tuple(task_choices()) if name == "task" else _CHOICES[name]


_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}


@dataclass(frozen=True)
class JobDefaults:
    """Analysis arguments used where the manifest leaves them empty (or for a folder)."""

    task: str = "auto"
    side: str = "auto"
    view: str = "auto"
    pain: float | None = None
    first_line_done: bool = False
    sex: str | None = None
    lens_height_m: float | None = None
    camera_distance_m: float | None = None
    patient_height_m: float | None = None


@dataclass(frozen=True)
class VideoJob:
    """One video to analyse and what to carry with its results.

    Attributes
    ----------
    video_id
        Unique, file-system-safe name of the video's result folder
        (``OUTDIR/videos/<video_id>``), stable across runs.
    path
        Absolute path of the video.
    task, side, view, pain, first_line_done, sex, lens_height_m, camera_distance_m, patient_height_m
        Arguments of :func:`screener.analyze` (the manifest gives the lens height in
        centimetres, ``lens_height_cm``, the distance in metres, ``camera_distance_m``,
        and the patient's height in centimetres, ``patient_height_cm``).
    meta
        Metadata for the tables: ``path`` as given, ``subject``, ``session``, ``pain`` and
        every extra manifest column, in manifest order.
    error
        Why the manifest row cannot be run (the job is then recorded as failed), or None.
    """

    video_id: str
    path: Path
    task: str = "auto"
    side: str = "auto"
    view: str = "auto"
    pain: float | None = None
    first_line_done: bool = False
    sex: str | None = None
    lens_height_m: float | None = None
    camera_distance_m: float | None = None
    patient_height_m: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def analysis_args(self) -> dict[str, Any]:
        """The arguments that change the analysis (hashed into the settings; the lens
        height, the camera distance and the patient's height only where given, so that the
        batches run before they existed resume)."""
        args: dict[str, Any] = {
            "task": self.task,
            "side": self.side,
            "view": self.view,
            "pain": self.pain,
            "first_line_done": self.first_line_done,
            "sex": self.sex,
        }
        if self.lens_height_m is not None:
            args["lens_height_m"] = self.lens_height_m
        if self.camera_distance_m is not None:
            args["camera_distance_m"] = self.camera_distance_m
        if self.patient_height_m is not None:
            args["patient_height_m"] = self.patient_height_m
        return args


def sniff_video(path: Path) -> bool:
    """Whether a file's first bytes are those of a video container.

    Recognises ISO base media (mp4, mov, m4v, 3gp: an ``ftyp``/``moov``/``mdat``/``wide``/
    ``free``/``skip`` box first), AVI (``RIFF....AVI ``) and Matroska/WebM (EBML magic).

    Returns
    -------
    bool
        False for unreadable files and anything else.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    if len(head) < 12:
        return False
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return head[:4] == b"\x1a\x45\xdf\xa3"


def is_video_candidate(path: Path) -> bool:
    """A file the batch should try: a video extension, or video content under any name.

    A file with a video extension is tried even if its content is not a video, so that a
    mislabelled or corrupt file is reported in ``failures.csv`` rather than ignored.
    """
    return path.suffix.lower() in VIDEO_EXTENSIONS or sniff_video(path)


def discover_videos(
    folder: Path, defaults: JobDefaults | None = None, *, exclude: Iterable[Path] = ()
) -> list[VideoJob]:
    """Find the videos under a folder, recursively, in a stable (sorted) order.

    Parameters
    ----------
    folder
        Folder to search. Hidden files and folders (``.name``) are skipped.
    defaults
        Analysis arguments for every video.
    exclude
        Folders not to search (e.g. the batch's own output folder inside ``folder``).

    Returns
    -------
    list of VideoJob
        One per candidate file (see :func:`is_video_candidate`); ``meta["path"]`` is the
        path relative to ``folder``.

    Raises
    ------
    ConfigError
        ``folder`` is not a folder.
    """
    defaults = defaults or JobDefaults()
    root = folder.resolve()
    if not root.is_dir():
        raise ConfigError("not a folder", path=folder, remedy="Give a folder or a manifest CSV.")
    excluded = {p.resolve() for p in exclude}
    found: list[Path] = []
    ignored = 0
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in excluded
        )
        for name in sorted(filenames):
            candidate = here / name
            if name.startswith(".") or not candidate.is_file():
                continue
            if is_video_candidate(candidate):
                found.append(candidate)
            else:
                ignored += 1
                log.debug("not a video, ignored: %s", candidate)
    log.info("%s: %d video file(s), %d other file(s) ignored", folder, len(found), ignored)
    found.sort(key=lambda p: p.relative_to(root).as_posix())
    rels = [p.relative_to(root).as_posix() for p in found]
    ids = make_video_ids(rels)
    return [
        VideoJob(
            video_id=vid,
            path=p,
            task=defaults.task,
            side=defaults.side,
            view=defaults.view,
            pain=defaults.pain,
            first_line_done=defaults.first_line_done,
            sex=defaults.sex,
            lens_height_m=defaults.lens_height_m,
            camera_distance_m=defaults.camera_distance_m,
            patient_height_m=defaults.patient_height_m,
            meta={"path": rel, "subject": None, "session": None, "pain": defaults.pain},
        )
        for p, rel, vid in zip(found, rels, ids, strict=True)
    ]


def safe_id(text: str) -> str:
    """A file-system-safe folder name from a relative path (``a/b c.mp4`` -> ``a__b_c.mp4``)."""
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("._") for part in text.split("/")]
    slug = "__".join(p for p in parts if p and p != "_")
    return slug[:120] or "video"


def make_video_ids(names: list[str]) -> list[str]:
    """Unique, stable folder names for relative paths (or given ids).

    Names that clash once made safe (or differ only by case, which some file systems
    ignore) get a suffix from a hash of the full name, so the id of a video does not
    depend on the order of the others.
    """
    slugs = [safe_id(n) for n in names]
    counts: dict[str, int] = {}
    for s in slugs:
        counts[s.lower()] = counts.get(s.lower(), 0) + 1
    out = []
    for name, slug in zip(names, slugs, strict=True):
        if counts[slug.lower()] > 1:
            slug = f"{slug}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
        out.append(slug)
    return out


def read_manifest(path: Path, defaults: JobDefaults | None = None) -> list[VideoJob]:
    """Read a manifest CSV: one row per video to analyse.

    Parameters
    ----------
    path
        CSV with a ``path`` column (relative paths are relative to the manifest's folder)
        and optional ``id``, ``task``, ``side``, ``view``, ``subject``, ``session``,
        ``pain``, ``first_line_done``, ``sex``, ``lens_height_cm`` (the phone's lens above
        the floor, measured when filming), ``camera_distance_m`` (the lens' distance from
        the patient, measured when filming), ``patient_height_cm`` (the patient's height)
        columns; any other column is carried to the combined tables unchanged.
    defaults
        Arguments used where a row leaves them empty.

    Returns
    -------
    list of VideoJob
        In manifest order. A row with an invalid value (``task=run``, ``pain=12``) becomes
        a job with ``error`` set, recorded as failed without stopping the batch.

    Raises
    ------
    ConfigError
        The file cannot be read, is not a CSV, has no ``path`` column or repeats an ``id``.
    """
    import pandas as pd

    defaults = defaults or JobDefaults()
    try:
        numeric = ("pain", "lens_height_cm", "camera_distance_m", "patient_height_cm")
        table = pd.read_csv(path, dtype={c: "string" for c in MANIFEST_COLUMNS if c not in numeric})
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the manifest ({exc})",
            path=path,
            remedy="Give a CSV file with a header row and a 'path' column.",
        ) from exc
    table.columns = [str(c).strip() for c in table.columns]
    if "path" not in table.columns:
        raise ConfigError(
            f"the manifest has no 'path' column (columns: {', '.join(table.columns)})",
            path=path,
            remedy="Add a 'path' column with the video files, relative to the manifest.",
        )
    base = path.resolve().parent
    rows: list[dict[str, Any]] = [
        {str(k): _scalar(v) for k, v in rec.items()} for rec in table.to_dict("records")
    ]
    given_ids = [r.get("id") for r in rows]
    if "id" in table.columns and all(given_ids):
        ids = [safe_id(str(i)) for i in given_ids]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ConfigError(
                f"the manifest repeats the id(s) {', '.join(dupes[:5])}",
                path=path,
                remedy="Give every row its own id (or leave the id column out).",
            )
    else:
        ids = make_video_ids([_id_source(r.get("path"), n) for n, r in enumerate(rows)])
    jobs = [_job_from_row(r, vid, base, defaults) for r, vid in zip(rows, ids, strict=True)]
    log.info("%s: %d row(s)", path, len(jobs))
    return jobs


def _scalar(value: Any) -> Any:
    """Plain Python value of a cell: None for empty, numbers as int/float, text stripped."""
    if value is None:
        return None
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _id_source(raw_path: Any, row: int) -> str:
    if raw_path is None:
        return f"row{row + 2}"
    return str(raw_path).replace("\\", "/").lstrip("/")


def _job_from_row(
    row: Mapping[str, Any], video_id: str, base: Path, defaults: JobDefaults
) -> VideoJob:
    problems: list[str] = []
    raw_path = row.get("path")
    path = Path(str(raw_path)).expanduser() if raw_path is not None else Path()
    if raw_path is None:
        problems.append("the row has no path")
    elif not path.is_absolute():
        path = base / path
    args: dict[str, Any] = {}
    for name in ("task", "side", "view", "sex"):
        value = row.get(name)
        if value is None:
            args[name] = getattr(defaults, name)
        elif str(value).lower() in _choices(name):
            args[name] = str(value).lower()
        else:
            args[name] = getattr(defaults, name)
            problems.append(f"{name}={value!r} is not one of {', '.join(_choices(name))}")
    pain = row.get("pain")
    if pain is None:
        args["pain"] = defaults.pain
    else:
        try:
            args["pain"] = float(pain)
        except (TypeError, ValueError):
            args["pain"] = None
            problems.append(f"pain={pain!r} is not a number")
        else:
            if not 0 <= args["pain"] <= 10:
                problems.append(f"pain={pain!r} is not from 0 to 10")
    # (manifest column, analysis argument in metres, check, the column's units per metre)
    entered = (
        ("lens_height_cm", "lens_height_m", check_lens_height_cm, 100.0),
        ("camera_distance_m", "camera_distance_m", check_camera_distance_m, 1.0),
        ("patient_height_cm", "patient_height_m", check_patient_height_cm, 100.0),
    )
    for column, name, check, per_metre in entered:
        value = row.get(column)
        args[name] = getattr(defaults, name)
        if value is not None:
            try:
                args[name] = check(value) / per_metre
            except ValueError as exc:
                problems.append(f"{column}={value!r}: {exc}")
    fld = row.get("first_line_done")
    if fld is None:
        args["first_line_done"] = defaults.first_line_done
    elif str(fld).lower() in _TRUE | _FALSE:
        args["first_line_done"] = str(fld).lower() in _TRUE
    else:
        args["first_line_done"] = defaults.first_line_done
        problems.append(f"first_line_done={fld!r} is not yes/no")
    meta: dict[str, Any] = {
        "path": raw_path,
        "subject": row.get("subject"),
        "session": row.get("session"),
        "pain": args["pain"],
    }
    for key, value in row.items():
        if key not in MANIFEST_COLUMNS:
            meta[key] = value
    return VideoJob(
        video_id=video_id,
        path=path.resolve() if raw_path is not None else path,
        meta=meta,
        error="; ".join(problems) or None,
        **args,
    )
