"""Batch analysis: many videos to per-video results and combined tidy tables, on Dask.

``screener batch INPUT -o OUTDIR`` (see :mod:`screener.batch.cli` and ``docs/batch.md``)
or, from Python::

    from screener.batch import BatchOptions, discover_videos, run_batch
    jobs = discover_videos(Path("videos"))
    report = run_batch(jobs, BatchOptions(outdir=Path("out")), workers=2)

Modules: :mod:`~screener.batch.inputs` (folder discovery, manifest),
:mod:`~screener.batch.worker` (the per-video task), :mod:`~screener.batch.state` (hashes,
markers, atomic folders), :mod:`~screener.batch.tables` (combined tables),
:mod:`~screener.batch.export` (TRC, MOT, C3D), :mod:`~screener.batch.runner` (Dask driver).
Dask is imported only when a batch runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from screener.batch.inputs import JobDefaults, VideoJob, discover_videos, read_manifest
    from screener.batch.runner import BatchReport, make_client, run_batch
    from screener.batch.worker import BatchOptions, process_video

_WHERE = {
    "JobDefaults": "inputs",
    "VideoJob": "inputs",
    "discover_videos": "inputs",
    "read_manifest": "inputs",
    "BatchReport": "runner",
    "make_client": "runner",
    "run_batch": "runner",
    "BatchOptions": "worker",
    "process_video": "worker",
}

__all__ = [
    "BatchOptions",
    "BatchReport",
    "JobDefaults",
    "VideoJob",
    "discover_videos",
    "make_client",
    "process_video",
    "read_manifest",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"screener.batch.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'screener.batch' has no attribute {name!r}")
