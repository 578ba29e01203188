"""End to end: ``screener batch`` runs MediaPipe on the sample videos, plus bad files.

One session-scoped batch (a local Dask cluster of 2 worker processes) analyses a few
sample clips, a truncated copy of one (corrupt) and a text file named ``.mp4``; the other
tests re-run it on copies of its output folder (in-process Dask client), so each sample
is analysed by MediaPipe once per test session.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from screener.batch import state
from screener.batch.inputs import discover_videos, read_manifest
from screener.batch.runner import LOG_FILE, make_client, run_batch
from screener.batch.worker import BatchOptions
from screener.cli import main as cli_main
from screener.config import AnalysisConfig
from screener.landmarks import LANDMARK_NAMES

pytestmark = pytest.mark.video

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
#: At most this many clips, one per task where possible (CI time).
MAX_CLIPS = 3


def _pick_samples() -> list[Path]:
    clips = sorted(p for p in SAMPLES.glob("*") if p.suffix.lower() in (".mp4", ".mov"))
    if not clips:
        pytest.fail(f"no sample videos in {SAMPLES}: render them first (see README)")
    chosen: dict[str, Path] = {}
    for clip in clips:
        truth = clip.with_name(clip.stem + ".truth.json")
        task = json.loads(truth.read_text())["task"] if truth.is_file() else clip.name
        chosen.setdefault(task, clip)
    return sorted(chosen.values(), key=lambda p: p.stat().st_size)[:MAX_CLIPS]


@pytest.fixture(scope="session")
def first_batch(tmp_path_factory):
    """Input folder (samples, a corrupt clip, a non-video) and the first batch over it."""
    root = tmp_path_factory.mktemp("batch_videos")
    src = root / "in"
    (src / "subject1").mkdir(parents=True)
    clips = _pick_samples()
    for clip in clips:
        shutil.copy(clip, src / "subject1" / clip.name)
    (src / "corrupt.mp4").write_bytes(clips[0].read_bytes()[:4096])
    (src / "notes.mp4").write_text("this is a text file, not a video\n")
    (src / "readme.txt").write_text("ignored\n")
    config = AnalysisConfig(cache_dir=root / "cache")
    options = BatchOptions(outdir=root / "out", config=config, exports=("trc", "mot"))
    client, cluster = make_client(workers=2)
    try:
        report = run_batch(discover_videos(src), options, client=client, progress=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return {"src": src, "out": root / "out", "options": options, "report": report, "clips": clips}


@pytest.fixture(scope="module")
def inprocess_client():
    from distributed import Client

    client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0")
    yield client
    client.close()


def _copy_out(first_batch, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_batch["out"], out)
    return out


def test_good_clips_succeed_bad_files_are_listed_with_reasons(first_batch):
    out, report, clips = first_batch["out"], first_batch["report"], first_batch["clips"]
    failures = pd.read_csv(out / "failures.csv").set_index("path")
    assert {"corrupt.mp4", "notes.mp4"} <= set(failures.index)
    for name in ("corrupt.mp4", "notes.mp4"):
        assert failures.loc[name, "code"] == "bad_video", failures.loc[name, "reason"]
        assert name in str(failures.loc[name, "reason"])
    assert "readme.txt" not in failures.index
    videos = pd.read_csv(out / "videos.csv").set_index("path")
    ok = videos[videos["status"] == "ok"]
    assert len(ok) + len(failures) == report.counts["videos"] == len(clips) + 2
    assert len(ok) >= 1
    for clip in clips:
        truth = clip.with_name(clip.stem + ".truth.json")
        rel = f"subject1/{clip.name}"
        if rel in ok.index and truth.is_file():
            assert ok.loc[rel, "task"] == json.loads(truth.read_text())["task"]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["counts"]["analysed"] == len(ok) and prov["counts"]["failed"] == len(failures)
    assert prov["engine"]["workers"] == 2 and not prov["interrupted"]
    assert prov["config_sha256"] == first_batch["options"].config.sha256()
    assert prov["pose"]["in_results"]["pose_model"]
    assert "notes.mp4" in (out / LOG_FILE).read_text()


def test_tables_schema_and_content_match_the_per_video_results(first_batch):
    out = first_batch["out"]
    events = pd.read_parquet(out / "events.parquet")
    summary = pd.read_parquet(out / "summary.parquet")
    ok = pd.read_csv(out / "videos.csv").query("status == 'ok'")
    assert list(events.columns[:7]) == [
        "video_id",
        "path",
        "subject",
        "session",
        "pain",
        "task",
        "view",
    ]
    for video_id in ok["video_id"]:
        own = pd.read_csv(state.video_dir(out, video_id) / "events.csv")
        mine = events[events["video_id"] == video_id]
        assert len(mine) == len(own)
        np.testing.assert_allclose(mine["pelvic_drop_deg"], own["pelvic_drop_deg"], equal_nan=True)
        sj = json.loads((state.video_dir(out, video_id) / "summary.json").read_text())
        for side in ("left", "right"):
            n = sj["sides"][side]["n_events"]
            rows = summary[(summary["video_id"] == video_id) & (summary["side"] == side)]
            assert (len(rows) > 0) == (n > 0)
            if n:
                knee = rows.set_index("metric").loc["knee_fppa_deg"]
                assert knee["n_events"] == n
                mean = sj["sides"][side]["knee_fppa_deg"]["mean"]
                assert (mean is None and pd.isna(knee["mean"])) or knee["mean"] == pytest.approx(
                    mean
                )


def test_exports_read_back(first_batch):
    out = first_batch["out"]
    import trc as trc_reader

    ok = pd.read_csv(out / "videos.csv").query("status == 'ok'")
    video_id = ok["video_id"].iloc[0]
    folder = state.video_dir(out, video_id)
    frames = pd.read_csv(folder / "frames.csv")
    data = trc_reader.TRCData()
    data.load(str(folder / f"{video_id}.trc"))
    assert data["NumFrames"] == len(frames) and data["Markers"] == list(LANDMARK_NAMES)
    assert data["Units"] == "m"
    np.testing.assert_allclose(data["Time"], frames["time_s"], atol=1e-5)
    hips = np.array(data["left_hip"]), np.array(data["right_hip"])
    mid = np.nanmean((hips[0] + hips[1]) / 2, axis=0)
    assert np.all(np.abs(mid) < 0.05)  # world landmarks: origin at the mid-hip point
    mot = (folder / f"{video_id}.mot").read_text().split("\n")
    end = mot.index("endheader")
    labels = mot[end + 1].split("\t")
    assert labels[0] == "time" and "pelvic_obliquity_deg" in labels
    rows = [r for r in mot[end + 2 :] if r]
    assert len(rows) == len(frames)
    col = labels.index("left_knee_fppa_deg")
    values = np.array([float(r.split("\t")[col]) for r in rows])
    np.testing.assert_allclose(values, frames["left_knee_fppa_deg"], atol=1e-5, equal_nan=True)


def test_rerun_skips_unchanged_videos_and_failures(first_batch, inprocess_client, tmp_path):
    out = _copy_out(first_batch, tmp_path)
    options = BatchOptions(outdir=out, config=first_batch["options"].config, exports=("trc", "mot"))
    run1 = json.loads((out / "provenance.json").read_text())["run_id"]
    ok_ids = pd.read_csv(out / "videos.csv").query("status == 'ok'")["video_id"].tolist()

    report = run_batch(
        discover_videos(first_batch["src"]), options, client=inprocess_client, progress=False
    )

    assert report.counts["analysed"] == 0
    assert report.counts["skipped"] == len(ok_ids)
    assert report.counts["failed"] == first_batch["report"].counts["failed"]
    for video_id in ok_ids:  # analyze did not run again: markers are still the first run's
        marker = json.loads((state.video_dir(out, video_id) / state.DONE_MARKER).read_text())
        assert marker["run_id"] == run1
    lines = (out / LOG_FILE).read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if "video(s) from" in line)
    this_run = lines[start:]
    assert not any("runner: ok " in line for line in this_run)
    assert sum("runner: unchanged " in line for line in this_run) == len(ok_ids)
    assert sum("(as in the previous run)" in line for line in this_run) == 2
    assert pd.read_parquet(out / "events.parquet").equals(
        pd.read_parquet(first_batch["out"] / "events.parquet")
    )


def test_reuse_keypoints_gives_the_same_results_without_pose(
    first_batch, inprocess_client, tmp_path
):
    out = _copy_out(first_batch, tmp_path)
    config = first_batch["options"].config.model_copy(update={"cache_dir": None})
    same = BatchOptions(
        outdir=out, config=config, exports=("trc", "mot"), reuse_keypoints=True, force=True
    )
    report = run_batch(
        discover_videos(first_batch["src"]), same, client=inprocess_client, progress=False
    )
    ok_ids = pd.read_csv(out / "videos.csv").query("status == 'ok'")["video_id"].tolist()
    assert report.counts["analysed"] == len(ok_ids) > 0
    for video_id in ok_ids:
        folder = state.video_dir(out, video_id)
        assert json.loads((folder / state.DONE_MARKER).read_text())["pose_from"] == (
            "result_folder"
        )
        before = pd.read_csv(state.video_dir(first_batch["out"], video_id) / "events.csv")
        after = pd.read_csv(folder / "events.csv")
        pd.testing.assert_frame_equal(before, after)

    # a new cut-off changes the settings hash: everything is re-analysed from keypoints
    cleaning = config.cleaning.model_copy(
        update={"cutoff_hz": {"walk": 4.0, "sls": 4.0, "jog": 7.0}}
    )
    new = BatchOptions(
        outdir=out, config=config.model_copy(update={"cleaning": cleaning}), reuse_keypoints=True
    )
    report = run_batch(
        discover_videos(first_batch["src"]), new, client=inprocess_client, progress=False
    )
    assert report.counts["analysed"] == len(ok_ids)
    cutoffs = {
        json.loads((state.video_dir(out, v) / "summary.json").read_text())["provenance"][
            "lowpass_cutoff_hz"
        ]
        for v in ok_ids
    }
    assert cutoffs <= {4.0, 7.0}


def test_manifest_with_extra_columns(first_batch, inprocess_client, tmp_path):
    src, clips = first_batch["src"], first_batch["clips"]
    manifest = tmp_path / "manifest.csv"
    lines = ["path,subject,session,pain,cohort,visit_date"]
    for i, clip in enumerate(clips):
        lines.append(
            f"{src / 'subject1' / clip.name},P{i:02d},baseline,{i + 2},runners,2026-0{i + 1}-15"
        )
    lines.append(f"{src / 'notes.mp4'},P99,baseline,,runners,2026-05-01")
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    run_batch(
        read_manifest(manifest),
        BatchOptions(outdir=out, config=first_batch["options"].config),
        client=inprocess_client,
        progress=False,
    )
    events = pd.read_csv(out / "events.csv")
    assert {"cohort", "visit_date"} <= set(events.columns)
    assert list(events.columns[:7]) == [
        "video_id",
        "path",
        "subject",
        "session",
        "pain",
        "cohort",
        "visit_date",
    ]
    for subject, group in events.groupby("subject"):
        i = int(str(subject)[1:])
        assert set(group["pain"]) == {i + 2} and set(group["visit_date"]) == {f"2026-0{i + 1}-15"}
    failures = pd.read_csv(out / "failures.csv")
    assert failures.loc[0, "subject"] == "P99" and failures.loc[0, "cohort"] == "runners"


def test_cli_rerun_reports_counts_and_exit_code(first_batch, tmp_path, capsys):
    out = _copy_out(first_batch, tmp_path)
    code = cli_main(
        [
            "batch",
            str(first_batch["src"]),
            "-o",
            str(out),
            "--workers",
            "1",
            "--export",
            "trc,mot",
            "--cache-dir",
            str(first_batch["options"].config.cache_dir),
            "--no-progress",
        ]
    )
    stdout = capsys.readouterr().out
    n_ok = first_batch["report"].counts["analysed"]
    assert code == 1  # some videos failed
    assert f"0 analysed, {n_ok} unchanged, 2 failed" in stdout
