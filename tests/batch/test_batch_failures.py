"""Failures that stop nothing but the video concerned, or stop the batch with one line."""

from __future__ import annotations

import logging
import subprocess
import sys

import distributed  # noqa: F401  (installs Dask's own stderr handler)

from screener.batch import state
from screener.batch.inputs import VideoJob
from screener.batch.runner import LOG_FILE, _batch_logging
from screener.batch.worker import BatchOptions, process_video
from screener.config import AnalysisConfig


def test_a_retried_task_of_a_video_that_killed_its_worker_fails_at_once(tmp_path):
    """A scheduler that retries a task whose worker died gets the failure, not a new crash."""
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    job = VideoJob(video_id="v", path=video)
    options = BatchOptions(outdir=tmp_path / "out", config=AnalysisConfig(cache_dir=None))
    died = {"pid": 4242, "host": "node-3", "started_at": "earlier"}
    state.mark_running(options.outdir, "v", "run-1", died)
    outcome = process_video(job, options, "run-1")
    assert outcome["status"] == "failed" and outcome["code"] == "worker_lost"
    assert "pid 4242 on node-3" in outcome["reason"] and str(video) in outcome["reason"]
    assert not state.running_file(options.outdir, "v").exists()
    # A marker of another run (an earlier batch) does not count: the video is analysed
    # (and fails here as the bad video it is, not as a lost worker).
    state.mark_running(options.outdir, "v", "run-0", died)
    outcome = process_video(job, options, "run-2")
    assert outcome["code"] == "bad_video"
    assert not state.running_file(options.outdir, "v").exists()


def test_unreachable_scheduler_is_one_line(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    proc = subprocess.run(
        [sys.executable, "-m", "screener.cli", "batch", str(src), "-o", str(tmp_path / "out"),
         "--scheduler", "tcp://127.0.0.1:9", "--cluster-timeout", "2", "--no-progress"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("screener: error:"), proc.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in lines[0]
    assert not (tmp_path / "out" / ".batch.lock").exists()
    assert "cannot reach the Dask scheduler" in (tmp_path / "out" / "batch.log").read_text()


def test_dask_log_records_go_to_the_batch_log_not_the_terminal(tmp_path, capsys):
    """A reconnecting client's traceback lands in batch.log for the whole run, from its start."""
    dask_log = logging.getLogger("distributed.client")
    before = logging.getLogger("distributed").handlers[:]
    with _batch_logging(tmp_path):
        try:
            raise OSError("Timed out trying to connect to tcp://10.0.0.1:8786")
        except OSError:
            dask_log.exception("Failed to reconnect to scheduler")
        logging.getLogger("asyncio").error("Task exception was never retrieved")
    captured = capsys.readouterr()
    assert "reconnect" not in captured.err and "Traceback" not in captured.err
    assert "never retrieved" not in captured.err
    text = (tmp_path / LOG_FILE).read_text()
    assert "Failed to reconnect to scheduler" in text and "tcp://10.0.0.1:8786" in text
    assert "Task exception was never retrieved" in text
    # Dask's handlers are back once the run is over.
    assert logging.getLogger("distributed").handlers == before
