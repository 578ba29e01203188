"""The norms file: bundled content, validation, clinic overrides, clear errors."""

from __future__ import annotations

import re

import pytest

from screener.errors import ConfigError
from screener.norms import load_norms
from tests.report_fixtures import NORMS_PATH, write_text


def test_bundled_norms_cover_every_task_and_fault():
    norms = load_norms(NORMS_PATH)
    assert norms.schema_version == 1
    faults = {
        (task, m.fault) for task, t in norms.tasks.items() for m in t.metrics.values() if m.fault
    }
    for task in ("walk", "sls", "jog"):
        for fault in ("pelvic_drop", "knee_valgus", "femoral_ir", "trunk_lean"):
            assert (task, fault) in faults
    assert ("walk", "narrow_step_width") in faults
    assert ("jog", "narrow_step_width") in faults


def test_bundled_norms_say_where_no_norm_exists():
    norms = load_norms(NORMS_PATH)
    assert norms.tasks["walk"].metrics["pelvic_drop_deg"].status == "no_norm"
    for task in ("walk", "sls", "jog"):
        assert norms.tasks[task].metrics["femoral_ir_deg"].status == "no_norm"
        assert not norms.tasks[task].metrics["femoral_ir_deg"].bands


def test_running_needs_seven_steps_and_pelvic_drop_sdc_from_dingenen():
    norms = load_norms(NORMS_PATH)
    jog = norms.tasks["jog"]
    assert jog.min_events == 7
    assert jog.min_events_source == "dingenen2018"
    assert jog.metrics["pelvic_drop_deg"].sdc == pytest.approx(2.8)
    assert norms.sources["dingenen2018"].doi == "10.1016/j.ptsp.2018.06.009"


def test_sls_fppa_bands_are_sex_specific_and_cited():
    norms = load_norms(NORMS_PATH)
    fppa = norms.tasks["sls"].metrics["knee_fppa_deg"]
    female, group = fppa.band_for("female")
    assert group == "female" and female is not None
    assert female.mild == pytest.approx(8.4 + 5.1)  # Herrington 2014 control mean + 1 SD
    assert female.source == "herrington2014"
    any_band, group = fppa.band_for(None)
    assert group == "any" and any_band is not None
    # a sex without its own bands falls back to "any"
    pelvic = norms.tasks["sls"].metrics["pelvic_drop_deg"]
    assert pelvic.band_for("female")[1] == "any"


def test_every_peer_reviewed_source_has_an_identifier():
    norms = load_norms(NORMS_PATH)
    for key, source in norms.sources.items():
        if source.kind == "peer_reviewed":
            assert source.doi or source.pmid, key
            if source.doi:
                assert re.match(r"^10\.\d{4,}/\S+$", source.doi), key


def test_clinic_file_overrides_thresholds(tmp_path):
    text = NORMS_PATH.read_text().replace(
        "[tasks.jog.metrics.pelvic_drop_deg.bands.any]\nmild = 5.0",
        "[tasks.jog.metrics.pelvic_drop_deg.bands.any]\nmild = 4.0",
    )
    assert "mild = 4.0" in text
    path = write_text(tmp_path, "clinic.toml", text)
    norms = load_norms(path)
    assert norms.tasks["jog"].metrics["pelvic_drop_deg"].bands["any"].mild == 4.0
    assert norms.path == str(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the norms file"):
        load_norms(tmp_path / "nope.toml")


def test_bad_toml_is_a_config_error(tmp_path):
    path = write_text(tmp_path, "bad.toml", "schema_version = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_norms(path)


def test_wrong_band_order_names_the_key(tmp_path):
    text = NORMS_PATH.read_text().replace(
        "[tasks.jog.metrics.pelvic_drop_deg.bands.any]\nmild = 5.0\nmoderate = 7.8",
        "[tasks.jog.metrics.pelvic_drop_deg.bands.any]\nmild = 9.0\nmoderate = 7.8",
    )
    path = write_text(tmp_path, "clinic.toml", text)
    with pytest.raises(ConfigError) as info:
        load_norms(path)
    message = str(info.value)
    assert "clinic.toml" in message
    assert "tasks.jog.metrics.pelvic_drop_deg" in message
    assert "mild < moderate < severe" in message


def test_unknown_source_key_is_reported(tmp_path):
    text = NORMS_PATH.read_text().replace('sdc_source = "dingenen2018"', 'sdc_source = "nobody"', 1)
    path = write_text(tmp_path, "clinic.toml", text)
    with pytest.raises(ConfigError, match="cites source 'nobody'"):
        load_norms(path)


def test_missing_key_and_unsupported_schema(tmp_path):
    text = NORMS_PATH.read_text().replace('name = "screener default norms"\n', "")
    with pytest.raises(ConfigError, match="key 'name': Field required"):
        load_norms(write_text(tmp_path, "a.toml", text))
    text = NORMS_PATH.read_text().replace("schema_version = 1", "schema_version = 9")
    with pytest.raises(ConfigError, match="schema_version 9 is not supported"):
        load_norms(write_text(tmp_path, "b.toml", text))


def test_no_norm_metric_cannot_have_bands(tmp_path):
    text = NORMS_PATH.read_text().replace(
        'reference_source = "noehren2014"\nmethod_source = "ruescas2024"\n',
        'reference_source = "noehren2014"\nmethod_source = "ruescas2024"\n'
        "[tasks.walk.metrics.femoral_ir_deg.bands.any]\n"
        'mild = 1.0\nmoderate = 2.0\nsevere = 3.0\nsource = "project"\nbasis = "x y z"\n',
        1,
    )
    with pytest.raises(ConfigError, match="cannot have bands"):
        load_norms(write_text(tmp_path, "c.toml", text))


def test_squat_fppa_floor_is_four_sds_below_the_lower_control_mean_and_cited(tmp_path):
    norms = load_norms(NORMS_PATH)
    fppa = norms.tasks["sls"].metrics["knee_fppa_deg"]
    assert fppa.plausible_min is not None
    # 6.96 deg (men's controls, Ghulam 2021) - 4 x 5.1 deg (SD, Herrington 2014) = -13.4
    assert fppa.plausible_min == pytest.approx(-13.0, abs=0.5)
    assert fppa.plausible_source in norms.sources
    assert "ghulam2021" in fppa.cited_sources()
    text = NORMS_PATH.read_text().replace('plausible_source = "ghulam2021"\n', "", 1)
    with pytest.raises(ConfigError, match="plausible_min needs plausible_source"):
        load_norms(write_text(tmp_path, "c.toml", text))
