"""ITB movement-fault screener.

``screener.analyze(path, ...)`` runs the whole chain on one video and returns an
:class:`~screener.result.AnalysisResult`; ``screener.analyze_pose(pose, ...)`` runs it
from landmarks already estimated (e.g. cached keypoints). Importing the package is cheap:
MediaPipe is loaded only when a video is analysed.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("screener")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from screener.pipeline import analyze, analyze_pose

__all__ = ["__version__", "analyze", "analyze_pose"]


def __getattr__(name: str) -> Any:
    if name in ("analyze", "analyze_pose"):
        from screener import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'screener' has no attribute {name!r}")
