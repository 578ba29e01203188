"""bench/pose_size.py --copies: a recording against its copy, run through MediaPipe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.pose_size import REAL, copy_path, main
from bench.reencode import main as reencode

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "sls_left_faulty_ant_30fps.mp4"


def test_copy_path_mirrors_real_videos_and_else_takes_the_name(tmp_path: Path) -> None:
    real = REAL / "pose2sim_multiperson" / "cam01.mp4"
    assert copy_path(real, tmp_path) == tmp_path / "pose2sim_multiperson" / "cam01.mp4"
    assert copy_path(SAMPLE, tmp_path) == tmp_path / SAMPLE.name


def test_a_copy_is_compared_with_its_original(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The original against itself differs by nothing; a coarse copy (240 px, 150 kbit/s,
    scaled back) moves the landmarks by more than nothing and far less than the body."""
    src = tmp_path / "src"
    src.mkdir()
    (src / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    copies = tmp_path / "coarse"
    assert reencode([str(src), str(copies), "--short-side", "240", "--kbps", "150",
                     "--restore-size"]) == 0  # fmt: skip
    assert main([str(SAMPLE), "--sizes", "1280", "--reference", "1280",
                 "--copies", f"coarse={copies}"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "landmarks" in line]
    assert len(lines) == 2
    same, coarse = lines
    assert "0.00 px mean" in same
    match = re.search(r"\(([0-9.]+) % / ", coarse)  # mean, % of the subject's height
    assert match is not None
    assert 0.0 < float(match.group(1)) < 10.0
