"""The Dask driver and the per-video task, re-analysing saved keypoints (no pose, no video).

A previous run is emulated by result folders holding ``keypoints.npz`` of generated
sequences and a ``done.json`` for the video files' content under older settings; the
batch then re-analyses them with ``--reuse-keypoints`` through the real
``screener.analyze_pose``. The same driver runs MediaPipe on real videos in
``test_batch_videos.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from screener.batch import state
from screener.batch.inputs import JobDefaults, discover_videos, read_manifest
from screener.batch.runner import LOG_FILE, make_client, run_batch
from screener.batch.worker import BatchOptions
from screener.config import AnalysisConfig


@pytest.fixture()
def previous_run(tmp_path, jog_result, sls_result):
    """Input folder of 3 'videos' with keypoints saved by a previous run, and 1 without."""
    src = tmp_path / "in"
    src.mkdir()
    config = AnalysisConfig(cache_dir=tmp_path / "cache")
    results = {"a_jog.mp4": jog_result, "b_jog.mp4": jog_result, "c_sls.mp4": sls_result}
    out = tmp_path / "out"
    for i, (name, result) in enumerate(results.items()):
        video = src / name
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(64) + bytes([i]))
        folder = state.video_dir(out, name)
        folder.mkdir(parents=True)
        result.raw_pose.save(folder / state.KEYPOINTS_FILE)
        (folder / state.DONE_MARKER).write_text(
            json.dumps(
                {
                    "status": "ok",
                    "video_sha256": state.file_sha256(video),
                    "pose_sha256": state.pose_sha256(config),
                    "settings_sha256": "settings of an older run",
                }
            )
        )
    (src / "d_new.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(64))
    return src, out, config


def _marker(out: Path, video_id: str) -> dict:
    return json.loads((state.video_dir(out, video_id) / state.DONE_MARKER).read_text())


@pytest.fixture(scope="module")
def inprocess_client():
    from distributed import Client

    client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0")
    yield client
    client.close()


def test_reuse_keypoints_then_rerun_skips_then_new_settings_reanalyse(
    previous_run, inprocess_client
):
    src, out, config = previous_run
    jobs = discover_videos(src, JobDefaults())
    options = BatchOptions(outdir=out, config=config, reuse_keypoints=True, exports=("trc", "mot"))

    first = run_batch(jobs, options, client=inprocess_client, progress=False)

    assert first.counts == {"videos": 4, "analysed": 3, "skipped": 0, "failed": 1, "not_run": 0}
    run1 = json.loads((out / "provenance.json").read_text())["run_id"]
    for vid in ("a_jog.mp4", "b_jog.mp4", "c_sls.mp4"):
        marker = _marker(out, vid)
        assert marker["run_id"] == run1 and marker["pose_from"] == "result_folder"
        folder = state.video_dir(out, vid)
        for name in (
            "frames.csv",
            "frames.parquet",
            "events.csv",
            "summary.json",
            "keypoints.npz",
            f"{vid}.trc",
            f"{vid}.mot",
        ):
            assert (folder / name).is_file(), name
    failures = pd.read_csv(out / "failures.csv")
    assert failures["code"].tolist() == ["no_cached_keypoints"]
    assert "d_new.mp4" in str(failures.loc[0, "path"])
    assert "without --reuse-keypoints" in str(failures.loc[0, "reason"])
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["video_id"]) == {"a_jog.mp4", "b_jog.mp4", "c_sls.mp4"}
    summary = pd.read_parquet(out / "summary.parquet")
    assert set(summary["task"]) == {"jog", "sls"}
    assert not [p for p in (out / "videos").iterdir() if p.name.startswith(".")]

    # the same run again: nothing is re-analysed (markers keep the first run's id)
    second = run_batch(jobs, options, client=inprocess_client, progress=False)
    assert second.counts["skipped"] == 3 and second.counts["analysed"] == 0
    assert all(_marker(out, v)["run_id"] == run1 for v in ("a_jog.mp4", "c_sls.mp4"))
    log_text = (out / LOG_FILE).read_text()
    assert log_text.count("unchanged a_jog.mp4") == 1
    assert len(pd.read_parquet(out / "events.parquet")) == len(events)  # tables rebuilt

    # a new cut-off: re-analysed from the saved keypoints, with the new settings hash
    cleaning = config.cleaning.model_copy(
        update={"cutoff_hz": {"walk": 4.0, "sls": 4.0, "jog": 8.0}}
    )
    new = BatchOptions(
        outdir=out,
        config=config.model_copy(update={"cleaning": cleaning}),
        reuse_keypoints=True,
        exports=("trc", "mot"),
    )
    third = run_batch(jobs, new, client=inprocess_client, progress=False)
    assert third.counts["analysed"] == 3
    run3 = json.loads((out / "provenance.json").read_text())["run_id"]
    assert _marker(out, "a_jog.mp4")["run_id"] == run3 != run1
    summary_json = json.loads((state.video_dir(out, "a_jog.mp4") / "summary.json").read_text())
    assert summary_json["provenance"]["lowpass_cutoff_hz"] == 8.0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["config_sha256"] == new.config.sha256() != options.config.sha256()
    assert prov["counts"]["analysed"] == 3 and prov["options"]["reuse_keypoints"] is True


def test_manifest_extra_columns_and_bad_rows(previous_run, inprocess_client):
    src, out, config = previous_run
    manifest = src / "manifest.csv"  # paths relative to the manifest's folder
    manifest.write_text(
        "path,task,subject,session,pain,cohort,age\n"
        "a_jog.mp4,jog,S01,pre,4,runners,31\n"
        "c_sls.mp4,sls,S02,post,,controls,45\n"
        "b_jog.mp4,swim,S03,pre,2,runners,29\n"
        "missing.mp4,walk,S04,pre,1,runners,50\n"
    )
    jobs = read_manifest(manifest)
    report = run_batch(
        jobs,
        BatchOptions(outdir=out, config=config, reuse_keypoints=True),
        client=inprocess_client,
        progress=False,
    )

    assert report.counts["analysed"] == 2 and report.counts["failed"] == 2
    events = pd.read_parquet(out / "events.parquet")
    lead = ["video_id", "path", "subject", "session", "pain", "cohort", "age", "task", "view"]
    assert list(events.columns[: len(lead)]) == lead
    a = events[events["subject"] == "S01"]
    assert len(a) > 0 and set(a["cohort"]) == {"runners"} and set(a["age"]) == {31}
    assert set(a["pain"]) == {4.0} and set(a["task"]) == {"jog"}
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["cohort"]) == {"runners", "controls"}
    failures = pd.read_csv(out / "failures.csv").set_index("subject")
    assert failures.loc["S03", "code"] == "bad_manifest_row"
    assert "task='swim'" in str(failures.loc["S03", "reason"])
    assert failures.loc["S04", "code"] == "missing_file"
    assert failures.loc["S04", "path"] == "missing.mp4"
    videos = pd.read_csv(out / "videos.csv").set_index("subject")
    assert videos.loc["S02", "status"] == "ok" and videos.loc["S04", "status"] == "failed"


def test_local_cluster_with_two_worker_processes(previous_run):
    src, out, config = previous_run
    jobs = discover_videos(src)
    client, cluster = make_client(workers=2)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        report = run_batch(
            jobs,
            BatchOptions(outdir=out, config=config, reuse_keypoints=True),
            client=client,
            progress=False,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    assert report.counts["analysed"] == 3 and report.counts["failed"] == 1
    log_text = (out / LOG_FILE).read_text()
    assert "[worker]" in log_text  # records logged in the worker processes reach the log
    assert len(pd.read_parquet(out / "events.parquet")) > 0


def test_slurm_example_job_script(tmp_path):
    """The SLURM example builds single-threaded worker processes (checked without SLURM)."""
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[2] / "examples" / "slurm_batch.py"
    done = subprocess.run(
        [
            sys.executable,
            str(example),
            str(tmp_path),
            "-o",
            str(tmp_path / "out"),
            "--dry-run",
            "--queue",
            "cpu",
            "--processes",
            "3",
            "--memory",
            "6GB",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    script = done.stdout
    assert "#SBATCH -p cpu" in script and "--cpus-per-task=3" in script
    assert "--nthreads 1" in script and "--nworkers 3" in script
