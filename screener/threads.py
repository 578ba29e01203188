"""Thread pools of the numeric libraries, held at one thread where more only cost CPU.

The analysis multiplies small matrices (a learned model's few hundred inputs for a chunk
of frames) and the pose pass resizes frames beside a pose model that keeps the cores
busy: a library's own thread pool there waits and spins more than it computes.

* :func:`opencv_single_threaded`: OpenCV's pool during the pose pass
  (:mod:`screener.video`'s module notes).
* :func:`blas_single_threaded`: the BLAS libraries' pools (NumPy's and SciPy's OpenBLAS,
  or MKL) during the analysis of landmarks (:func:`screener.pipeline.analyze_pose`). On a
  10-minute, 60 fps clip (36,000 frames, December 2026, 2 cores, another job running),
  the learned models' networks took 7.8 CPU s with OpenBLAS's two threads and about 0.7
  with one, in 500-frame chunks; the results are the same.

Notes
-----
Both settings are the process's: another thread's OpenCV or BLAS calls run on one thread
while a block is active (the same results, only slower), and the previous setting is
restored when it ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def opencv_single_threaded() -> Iterator[None]:
    """OpenCV's thread pool at one thread inside the block, restored after.

    For the pose pass, whose decoding thread resizes every frame's planes beside the pose
    model (:mod:`screener.video`'s module notes).
    """
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


@contextlib.contextmanager
def blas_single_threaded() -> Iterator[None]:
    """Every loaded BLAS library's thread pool at one thread inside the block, restored
    after (threadpoolctl).

    Notes
    -----
    Each block restores what it found: blocks overlapping in two threads (analyses in a
    threaded batch worker) can leave the pools at one thread after both end, if the
    first to start ends first. Only the speed of other BLAS calls is affected.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
