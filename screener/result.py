"""The result of one analysis and how it is written to disk."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from screener.fileio import atomic_write, staged_output

if TYPE_CHECKING:  # pandas and the settings load with the analysis, not with OUTPUT_FILES
    import pandas as pd

    from screener.config import AnalysisConfig
    from screener.keypoints import PoseSequence

log = logging.getLogger(__name__)

#: Every file :meth:`AnalysisResult.write` may write into an output folder.
OUTPUT_FILES: tuple[str, ...] = (
    "frames.csv",
    "frames.parquet",
    "events.csv",
    "summary.json",
    "report.html",
    "report.pdf",
    "handout.html",
    "handout.pdf",
    "annotated.mp4",
)
#: Every folder it may write there (replaced whole by the next run).
OUTPUT_FOLDERS: tuple[str, ...] = ("stills",)
#: Rows of ``frames.csv`` formatted at a time. pandas' default (100,000 cells) made
#: 13 MiB of strings at once for a 10-minute clip's frames, at the analysis's peak;
#: 1,000 rows make about 2 MiB (``bench/analysis_memory.py``, December 2026). The file
#: is the same.
CSV_CHUNK_ROWS = 1000


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced, in memory.

    Attributes
    ----------
    frames
        One row per decoded frame, the columns of ``frames.csv`` in the output spec.
    events
        One row per stance phase or repetition, the columns of ``events.csv``.
    summary
        The content of ``summary.json`` (task, view, sides, faults, plan, quality,
        provenance).
    pose
        The cleaned landmarks the angles were computed from.
    raw_pose
        The landmarks as MediaPipe returned them (before cleaning).
    config
        The settings used.
    video_path
        The analysed video, if the analysis started from one (used for report stills).
    """

    frames: pd.DataFrame
    events: pd.DataFrame
    summary: dict[str, Any]
    pose: PoseSequence
    raw_pose: PoseSequence
    config: AnalysisConfig
    video_path: Path | None = None

    def write(
        self,
        outdir: str | Path,
        *,
        report: bool = True,
        pdf: bool = False,
        annotated_video: bool = False,
    ) -> list[Path]:
        """Write the output files of the spec to ``outdir``.

        Parameters
        ----------
        outdir
            Folder to write to (created if needed).
        report
            Also write ``report.html`` and the patient handout ``handout.html``.
        pdf
            Also write ``report.pdf`` and ``handout.pdf``, printed from the same HTML.
        annotated_video
            Also write ``annotated.mp4``: the video with faces blurred and the skeleton
            and each frame's angles drawn (needs the analysed video file).

        Returns
        -------
        list of Path
            The files written.

        Raises
        ------
        OutputError
            The folder cannot be written (a file in the way, read-only, disk full); then
            nothing in ``outdir`` has changed.

        Notes
        -----
        Every file is first written to a temporary folder beside ``outdir``; only when all
        are complete are they moved into ``outdir`` (renames, which need no disk space).
        A full disk or an interruption never leaves ``frames.csv`` without
        ``summary.json``. Output files of an earlier run that this call does not write
        (e.g. ``report.pdf``) are removed, so the folder never mixes two analyses.
        """
        out = Path(outdir)
        with staged_output(out, stale=OUTPUT_FILES + OUTPUT_FOLDERS) as staging:
            names = [p.name for p in self._write_files(staging, report, pdf, annotated_video)]
        written = [out / name for name in names]
        log.info("wrote %d files to %s", len(written), out)
        return written

    def _write_files(self, out: Path, report: bool, pdf: bool, annotated_video: bool) -> list[Path]:
        """Write every requested file into ``out`` (a temporary folder)."""
        written = [
            atomic_write(
                out / "frames.csv",
                lambda p: self.frames.to_csv(p, index=False, chunksize=CSV_CHUNK_ROWS),
            ),
            atomic_write(out / "frames.parquet", lambda p: self.frames.to_parquet(p, index=False)),
            atomic_write(out / "events.csv", lambda p: self.events.to_csv(p, index=False)),
            atomic_write(
                out / "summary.json",
                lambda p: p.write_text(json.dumps(to_jsonable(self.summary), indent=2)),
            ),
        ]
        if report or pdf:
            from screener.report import write_report

            written.extend(write_report(self, out, html=report, pdf=pdf))
        if annotated_video:
            from screener.report.annotated import write_annotated_video

            written.append(write_annotated_video(self, out / "annotated.mp4"))
        return written


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars and arrays, paths and non-finite floats to plain JSON values
    (NaN → null)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if getattr(obj, "ndim", 0) > 0 and hasattr(obj, "tolist"):  # an array (no numpy import)
        return to_jsonable(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
