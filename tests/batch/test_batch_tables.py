"""Combined tables rebuilt from result folders: schema, carried columns, values, failures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from screener.batch.inputs import META_COLUMNS, VideoJob
from screener.batch.tables import (
    FAULT_COLUMNS,
    STAT_COLUMNS,
    VIDEO_COLUMNS,
    build_tables,
    write_tables,
)
from screener.metrics import EVENT_COLUMNS


def _job(video_id: str, **meta) -> VideoJob:
    base = {"path": f"{video_id}.mp4", "subject": "S1", "session": "pre", "pain": 3.0}
    return VideoJob(video_id=video_id, path=Path(f"/data/{video_id}.mp4"), meta={**base, **meta})


@pytest.fixture()
def batch(tmp_path, jog_result, sls_result, write_result_folder):
    jobs = [
        _job("jog", age=34, quality="good"),
        _job("sls", age=51, quality="poor"),
        _job("bad", age=40),
        _job("later", age=22),
    ]
    write_result_folder(tmp_path, jobs[0], jog_result)
    write_result_folder(tmp_path, jobs[1], sls_result)
    statuses = {"jog": "ok", "sls": "skipped", "bad": "failed"}
    failures = {"bad": {"reason": "/data/bad.mp4: not a video.", "code": "bad_video"}}
    return tmp_path, jobs, build_tables(jobs, statuses, failures, tmp_path)


def test_events_table_has_one_row_per_event_with_manifest_columns(batch, jog_result, sls_result):
    _, _, tables = batch
    events = tables.events
    lead = ["video_id", *META_COLUMNS, "age", "manifest_quality", "task", "view"]
    assert list(events.columns[: len(lead)]) == lead
    assert list(events.columns[len(lead) :]) == list(EVENT_COLUMNS)
    assert len(events) == len(jog_result.events) + len(sls_result.events)
    jog = events[events["video_id"] == "jog"].reset_index(drop=True)
    assert (jog["age"] == 34).all() and (jog["subject"] == "S1").all()
    assert (jog["manifest_quality"] == "good").all()  # extra column renamed, not clobbered
    assert (jog["task"] == "jog").all()
    pd.testing.assert_series_equal(
        jog["pelvic_drop_deg"],
        jog_result.events["pelvic_drop_deg"].reset_index(drop=True),
        check_names=False,
    )
    assert set(events["video_id"]) == {"jog", "sls"}  # failed and unfinished are left out


def test_summary_table_one_row_per_video_side_metric_with_fault_flags(
    batch, jog_result, sls_result
):
    _, _, tables = batch
    summary = tables.summary
    lead = ["video_id", *META_COLUMNS, "age", "manifest_quality", "task", "view", "side", "metric"]
    assert list(summary.columns) == [*lead, *STAT_COLUMNS, *FAULT_COLUMNS]
    assert not summary.duplicated(["video_id", "side", "metric"]).any()
    # sls: events on the stance side only -> rows for that side only
    assert set(summary.loc[summary["video_id"] == "sls", "side"]) == {
        s for s in ("left", "right") if sls_result.summary["sides"][s]["n_events"]
    }
    row = summary[
        (summary["video_id"] == "jog")
        & (summary["side"] == "left")
        & (summary["metric"] == "pelvic_drop_deg")
    ].iloc[0]
    stats = jog_result.summary["sides"]["left"]["pelvic_drop_deg"]
    assert row["mean"] == pytest.approx(stats["mean"]) and row["max"] == pytest.approx(stats["max"])
    assert row["mean"] == pytest.approx(8.0, abs=0.5)  # the planted drop
    assert row["n_events"] == jog_result.summary["sides"]["left"]["n_events"]
    fault = next(
        f
        for f in jog_result.summary["faults"]
        if f["fault"] == "pelvic_drop" and f["side"] == "left"
    )
    assert row["fault"] == "pelvic_drop"
    assert row["fault_verdict"] == fault["verdict"]
    assert row["fault_severity"] == fault["severity"]
    # the planted 8 deg drop is over the threshold whether or not a verdict is given
    assert row["fault_value"] == pytest.approx(8.0, abs=0.5)
    assert row["fault_value"] > row["fault_threshold"]
    if fault["verdict"] != "withheld":
        assert fault["severity"] != "none"
    assert row["fault_threshold"] == pytest.approx(fault["threshold"])
    right = summary[
        (summary["video_id"] == "jog")
        & (summary["side"] == "right")
        & (summary["metric"] == "pelvic_drop_deg")
    ].iloc[0]
    assert right["mean"] == pytest.approx(2.0, abs=0.5)


def test_failures_videos_and_faults_tables(batch, jog_result):
    _, _, tables = batch
    failures = tables.failures
    assert list(failures.columns[:3]) == ["path", "reason", "code"]
    assert failures[["path", "code"]].values.tolist() == [["bad.mp4", "bad_video"]]
    videos = tables.videos.set_index("video_id")
    assert list(tables.videos.columns[-len(VIDEO_COLUMNS) :]) == list(VIDEO_COLUMNS)
    assert videos["status"].to_dict() == {
        "jog": "ok",
        "sls": "skipped",
        "bad": "failed",
        "later": "not_run",
    }
    assert videos.loc["jog", "n_events_left"] == jog_result.summary["sides"]["left"]["n_events"]
    assert videos.loc["jog", "result_dir"] == "videos/jog"
    assert videos["analysed_part"].isna().all()  # every clip analysed whole
    capture = jog_result.summary["capture"]
    assert videos.loc["jog", "camera_roll_deg"] == pytest.approx(capture["roll_deg"])
    assert videos.loc["jog", "subject_height_fraction"] == pytest.approx(
        capture["subject_height_fraction"]
    )
    assert videos.loc["jog", "n_warnings"] == len(jog_result.summary["quality"]["warnings"])
    assert pd.isna(videos.loc["bad", "camera_roll_deg"]) and pd.isna(
        videos.loc["bad", "n_warnings"]
    )
    faults = tables.faults
    assert len(faults[faults["video_id"] == "jog"]) == len(jog_result.summary["faults"])
    assert {"fault", "side", "severity", "value", "threshold", "source"} <= set(faults.columns)


def test_tables_written_as_parquet_and_csv_round_trip(batch):
    outdir, _, tables = batch
    files = write_tables(tables, outdir)
    names = sorted(p.name for p in files)
    assert names == sorted(
        [f"{n}.{e}" for n in ("events", "summary", "faults", "videos") for e in ("csv", "parquet")]
        + ["failures.csv"]
    )
    for name in ("events", "summary", "videos"):
        pq = pd.read_parquet(outdir / f"{name}.parquet")
        csv = pd.read_csv(outdir / f"{name}.csv")
        assert list(pq.columns) == list(getattr(tables, name).columns) == list(csv.columns)
        assert len(pq) == len(csv) == len(getattr(tables, name))
    events = pd.read_parquet(outdir / "events.parquet")
    assert pd.api.types.is_float_dtype(events["pelvic_drop_deg"])
    assert pd.api.types.is_integer_dtype(events["age"])
    failures = pd.read_csv(outdir / "failures.csv")
    assert failures.loc[0, "reason"] == "/data/bad.mp4: not a video."


def test_empty_batch_still_has_the_schema(tmp_path):
    jobs = [_job("a")]
    tables = build_tables(jobs, {"a": "failed"}, {"a": {"reason": "x", "code": "y"}}, tmp_path)
    assert len(tables.events) == 0 and "pelvic_drop_deg" in tables.events.columns
    assert len(tables.summary) == 0 and "mean" in tables.summary.columns
    write_tables(tables, tmp_path)
    assert pd.read_parquet(tmp_path / "events.parquet").columns.tolist() == list(
        tables.events.columns
    )
    assert pd.read_csv(tmp_path / "failures.csv")["code"].tolist() == ["y"]


def test_a_clip_analysed_in_part_says_which_part() -> None:
    from screener.batch.tables import analysed_part

    assert analysed_part({"view_detection": {"walking_turn": None}}) is None
    turn = {"view_detection": {"walking_turn": {"analysed_s": [4.5, 8.0]}}}
    assert analysed_part(turn) == "one way of a walk that turns round: 4.5-8.0 s"
    legs = {"other_leg_left_out": {"analysed_leg": "left"}}
    assert analysed_part(legs) == "the left leg's squats of a clip with both legs'"
