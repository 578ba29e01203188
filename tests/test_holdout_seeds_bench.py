"""bench.holdout_seeds: a hold-out's draw checked against stored clips' seeds."""

from __future__ import annotations

import argparse
import json

from bench.holdout_seeds import clashes, main, stored_seeds
from screener_synth.cli import drawn_specs


def _draw(seed: int, n: int = 5) -> list:
    args = argparse.Namespace(
        split="final", n=n, seed=seed, envelope="inside", fps=None,
        lighting="room", exposure=0.0, protocol="corpus",
    )  # fmt: skip
    return drawn_specs(args)[0]


def test_a_stored_clip_with_a_drawn_seed_is_a_clash(tmp_path, capsys):
    drawn = _draw(46000)
    stored_folder = tmp_path / "corpus" / "old_set"
    stored_folder.mkdir(parents=True)
    (stored_folder / "a.truth.json").write_text(json.dumps({"seed": int(drawn[2].seed)}))
    (stored_folder / "b.truth.json").write_text(json.dumps({"seed": 1}))
    (stored_folder / "broken.truth.json").write_text("{not json")
    stored = stored_seeds([tmp_path / "corpus"])
    assert set(stored) == {int(drawn[2].seed), 1}
    found = clashes(drawn, stored)
    assert [(name, seed) for name, seed, _ in found] == [(drawn[2].name, int(drawn[2].seed))]
    args = ["--seed", "46000", "--n", "5", "--envelope", "inside", str(tmp_path / "corpus")]
    assert main(args) == 1
    assert drawn[2].name in capsys.readouterr().out


def test_no_clash_passes(tmp_path, capsys):
    (tmp_path / "c.truth.json").write_text(json.dumps({"seed": 1}))
    assert clashes(_draw(46000), stored_seeds([tmp_path])) == []
    assert main(["--seed", "46000", "--n", "5", str(tmp_path)]) == 0
    assert "no clash" in capsys.readouterr().out
