"""The numeric libraries' thread pools held at one thread, and restored after."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from screener.threads import blas_single_threaded, opencv_single_threaded


def test_opencv_single_threaded_restores_the_thread_count():
    import cv2

    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(3)
        with opencv_single_threaded():
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == 3
        with pytest.raises(RuntimeError), opencv_single_threaded():
            raise RuntimeError("stop")
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)


def _blas_threads() -> list[int]:
    import numpy  # noqa: F401  (loads NumPy's BLAS)

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_blas_single_threaded_holds_every_blas_pool_at_one_and_restores_it():
    assert _blas_threads(), "NumPy's BLAS is loaded"
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with blas_single_threaded():
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == before
        with pytest.raises(RuntimeError), blas_single_threaded():
            raise RuntimeError("stop")
        assert _blas_threads() == before


def test_the_analysis_of_landmarks_runs_blas_on_one_thread(monkeypatch):
    import screener.pipeline as pipeline
    from screener.config import AnalysisConfig
    from tests.synthetic import jog_in_place, make_sequence

    seen: list[list[int]] = []
    real = pipeline._frame_table

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_frame_table", spy)
    figure, _ = jog_in_place()
    pose = make_sequence(figure, fps=60.0, duration_s=4.0)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        pipeline.analyze_pose(
            pose, task="jog", view="anterior", config=AnalysisConfig(cache_dir=None)
        )
        assert _blas_threads() == before
    assert seen and all(threads == [1] * len(before) for threads in seen)
