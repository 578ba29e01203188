"""bench/stance_edges.py on a stored jog whose first stance starts 0.06 s into the clip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.stance_edges import main

CLIP = Path(__file__).parent.parent / "corpus" / "final28_inside" / "jog_ante_30fps_finali000"


def test_the_edge_rule_finds_the_first_stance_that_the_old_rule_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MediaPipe's stored landmarks of a rendered jog: the left foot lands 0.06 s after the
    clip's first frame (two frames of swing at 30 fps). With the shipped settings every
    stance phase is found; with the edge rule off (the confident swing needing more
    frames than the clip has) the first is not."""
    for path in CLIP.parent.glob(CLIP.name + ".*"):
        shutil.copy(path, tmp_path / path.name)
    assert main([str(tmp_path), "--setting", 'before={"edge_swing_confident_frames": 1000}']) == 0
    lines = capsys.readouterr().out.splitlines()
    found = {line.split()[0]: line.split()[3] for line in lines[1:]}
    assert found["default"] == "100%"
    assert int(found["before"].rstrip("%")) < 100
