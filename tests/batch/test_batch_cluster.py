"""A batch when the cluster fails: a killed worker, a vanished scheduler, a lost last worker.

Real MediaPipe runs on two copies of a sample video (so a video takes long enough to be
caught running); a worker process is killed with SIGKILL, as the out-of-memory killer or
a decoder crash would, once its video's started marker appears.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from screener.batch import state
from screener.batch.inputs import discover_videos
from screener.batch.runner import LOG_FILE, make_client, run_batch
from screener.batch.worker import BatchOptions
from screener.config import AnalysisConfig

pytestmark = pytest.mark.video

SAMPLE = Path(__file__).resolve().parents[2] / "sample_videos" / "walk_faulty_ant_30fps.mp4"


def _videos(tmp_path: Path, names: tuple[str, ...]) -> Path:
    if not SAMPLE.is_file():
        pytest.fail(f"sample video {SAMPLE} missing")
    src = tmp_path / "in"
    src.mkdir()
    for name in names:
        shutil.copy(SAMPLE, src / name)
    return src


@pytest.fixture()
def two_videos(tmp_path) -> Path:
    return _videos(tmp_path, ("a_walk.mp4", "b_walk.mp4"))


def _wait_for_start(out: Path, video_ids: list[str], timeout_s: float = 240) -> tuple[str, dict]:
    """The first video whose started marker appears, and the marker."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for video_id in video_ids:
            marker = state.read_json(state.running_file(out, video_id))
            if marker is not None:
                return video_id, marker
        time.sleep(0.05)
    raise AssertionError("no video started")


def test_killed_worker_fails_only_the_video_it_was_analysing(tmp_path):
    """Two workers, three videos: one video is queued behind another on a worker (Dask
    hands a one-thread worker up to two tasks); the worker analysing the first video to
    start is killed."""
    out = tmp_path / "out"
    jobs = discover_videos(_videos(tmp_path, ("a_walk.mp4", "b_walk.mp4", "c_walk.mp4")))
    ids = [job.video_id for job in jobs]
    options = BatchOptions(outdir=out, config=AnalysisConfig(cache_dir=None))
    killed: dict[str, str] = {}

    def kill_first_started() -> None:
        video_id, marker = _wait_for_start(out, ids)
        killed["video_id"] = video_id
        os.kill(int(marker["pid"]), signal.SIGKILL)

    killer = threading.Thread(target=kill_first_started, daemon=True)
    client, cluster = make_client(workers=2)
    try:
        killer.start()
        report = run_batch(jobs, options, client=client, progress=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    killer.join(timeout=5)
    victim = killed["video_id"]
    assert report.counts["failed"] == 1 and report.counts["analysed"] == 2
    failures = pd.read_csv(out / "failures.csv").set_index("video_id")
    assert list(failures.index) == [victim]
    assert failures.loc[victim, "code"] == "worker_lost"
    reason = str(failures.loc[victim, "reason"])
    assert victim in reason and "worker process analysing it" in reason
    # The others, also the one queued on the killed worker, were analysed.
    for other in (i for i in ids if i != victim):
        done = state.read_json(state.video_dir(out, other) / state.DONE_MARKER)
        assert done is not None and done["status"] == "ok"
    log_text = (out / LOG_FILE).read_text()
    assert f"FAILED {victim} [worker_lost]" in log_text
    assert not (out / state.RUNNING_DIR).exists() or not any((out / state.RUNNING_DIR).iterdir())


def _start(args: list[str], log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=log_path.open("w"), start_new_session=True
    )


@pytest.mark.parametrize("lost", ["scheduler", "worker"])
def test_lost_scheduler_or_last_worker_stops_with_a_clear_message(two_videos, tmp_path, lost):
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = _start(
        [dask, "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
         "--no-dashboard"],
        tmp_path / "scheduler.log",
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = _start(
            [dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
             "--no-nanny", "--no-dashboard"],
            tmp_path / "worker.log",
        )  # fmt: skip
        out = tmp_path / "out"
        ids = [job.video_id for job in discover_videos(two_videos)]

        def kill_when_started() -> None:
            _wait_for_start(out, ids)
            target = scheduler if lost == "scheduler" else worker
            assert target is not None
            os.killpg(target.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_started, daemon=True)
        killer.start()
        proc = subprocess.run(
            [sys.executable, "-m", "screener.cli", "batch", str(two_videos), "-o", str(out),
             "--scheduler", address, "--cluster-timeout", "5", "--no-progress",
             "--cache-dir", str(tmp_path / "cache")],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        killer.join(timeout=5)
    finally:
        for proc_ in (worker, scheduler):
            if proc_ is not None and proc_.poll() is None:
                os.killpg(proc_.pid, signal.SIGKILL)
                proc_.wait()
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("screener: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    words = "lost the connection to the Dask scheduler" if lost == "scheduler" else "no worker"
    assert words in errors[0] and "run the same command again" in errors[0]
    log_text = (out / LOG_FILE).read_text()
    assert words in log_text
    if lost == "worker":
        assert "left the cluster" in log_text
    provenance = json.loads((out / "provenance.json").read_text())
    assert words in provenance["stopped"]
    videos = pd.read_csv(out / "videos.csv")
    assert len(videos) == 2 and "ok" not in set(videos["status"])
