"""The ``screener`` command: one-line errors, exit codes, nothing that looks like a result."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from screener.cli import main


def _assert_fresh_python_prints_ok(code: str) -> None:
    """Run ``code`` in a new interpreter (imports and the collector start clean there)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "screener.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("screener: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_not_a_video_gives_one_line_naming_the_file(tmp_path):
    fake = tmp_path / "walk.mp4"
    fake.write_text("this is a text file, not a video\n")
    out = tmp_path / "out"
    proc = _run("analyze", str(fake), "-o", str(out))
    assert proc.returncode == 2
    line = _error_line(proc.stderr)
    assert str(fake) in line
    assert not out.exists()


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    proc = _run("analyze", str(empty), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "empty" in _error_line(proc.stderr)


def test_missing_file(tmp_path):
    proc = _run("analyze", str(tmp_path / "nope.mp4"))
    assert proc.returncode == 2
    assert "nope.mp4" in _error_line(proc.stderr)


def test_video_without_a_person(make_video, tmp_path):
    def grey(height: int, width: int, index: int) -> np.ndarray:
        return np.full((height, width, 3), 90 + index % 5, np.uint8)

    blank = make_video("blank.mp4", n_frames=60, fps=30.0, size=(320, 240), frame_fn=grey)
    out = tmp_path / "out"
    assert main(["analyze", str(blank), "-o", str(out)]) == 2
    assert not out.exists()


def test_invalid_pain_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(tmp_path / "x.mp4"), "--pain", "12"])
    assert exc.value.code == 2
    assert "pain must be from 0 to 10" in capsys.readouterr().err


LENS, DISTANCE, HEIGHT = "--lens-height-cm", "--camera-distance-m", "--patient-height-cm"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        # 0.6 is metres, 850 millimetres
        *((LENS, v, "the lens height must be") for v in ("850", "0.6", "knee")),
        # 250 is centimetres
        *((DISTANCE, v, "the camera distance must be") for v in ("250", "0.1", "far")),
        # 1.65 is metres, 1650 millimetres
        *((HEIGHT, v, "the patient's height must be") for v in ("1.65", "1650", "tall")),
    ],
)
def test_an_entry_in_the_wrong_unit_is_refused_by_the_parser(
    tmp_path, capsys, flag, value, message
):
    # refused before the video is read
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(tmp_path / "x.mp4"), flag, value])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_both_commands_take_the_lens_height_in_centimetres_and_the_distance_in_metres() -> None:
    import argparse

    from screener.batch.cli import register
    from screener.cli_analyze import add_placement_arguments

    parser = argparse.ArgumentParser()
    add_placement_arguments(parser, "for a test", "for a test")
    args = parser.parse_args(["--lens-height-cm", "55", "--camera-distance-m", "2.5"])
    assert args.lens_height_m == pytest.approx(0.55)
    assert args.camera_distance_m == pytest.approx(2.5)
    assert parser.parse_args([]).lens_height_m is None
    assert parser.parse_args([]).camera_distance_m is None
    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    register(commands)
    batch = commands.choices["batch"]
    args = batch.parse_args(
        ["folder", "-o", "out", "--lens-height-cm", "120", "--camera-distance-m", "3"]
    )
    assert args.lens_height_m == pytest.approx(1.2)
    assert args.camera_distance_m == pytest.approx(3.0)


def test_both_commands_take_the_patient_height_in_centimetres() -> None:
    import argparse

    from screener.batch.cli import register
    from screener.cli_analyze import add_patient_height_argument

    parser = argparse.ArgumentParser()
    add_patient_height_argument(parser, "for a test")
    assert parser.parse_args(["--patient-height-cm", "152"]).patient_height_m == pytest.approx(1.52)
    assert parser.parse_args([]).patient_height_m is None
    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    register(commands)
    batch = commands.choices["batch"]
    args = batch.parse_args(["folder", "-o", "out", "--patient-height-cm", "170"])
    assert args.patient_height_m == pytest.approx(1.7)


def test_bad_settings_file_is_a_clear_error(tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text('{"cleaning": {"cutoff_hz": {"walk": -1}}}')
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    assert main(["analyze", str(video), "--config", str(settings)]) == 2
    err = capsys.readouterr().err
    assert "settings.json" in err and "invalid settings" in err


def test_help_lists_every_subcommand():
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("analyze", "batch", "serve", "worker"):
        assert command in proc.stdout


def test_native_writes_to_stderr_are_silenced_only_inside_the_block():
    """MediaPipe's C++ lines go to file descriptor 2 directly; the block sends them away."""
    code = (
        "import os\n"
        "from screener.pose import quiet_native_stderr\n"
        "with quiet_native_stderr():\n"
        "    os.write(2, b'native start-up line\\n')\n"
        "os.write(2, b'after the block\\n')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "native start-up line" not in proc.stderr
    assert "after the block" in proc.stderr


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_bar_draws_on_a_terminal_only_and_erases_itself():
    from screener.cli_analyze import ProgressBar

    piped = _Stream(tty=False)
    bar = ProgressBar(piped, "clip.mp4: pose")  # type: ignore[arg-type]
    bar(10, 100)
    bar.close()
    assert piped.text == ""

    tty = _Stream(tty=True)
    bar = ProgressBar(tty, "clip.mp4: pose")  # type: ignore[arg-type]
    bar(50, 100)
    bar(100, 100)
    assert "50%" in tty.text and "100/100 frames" in tty.text and "\n" not in tty.text
    bar.close()
    assert tty.text.endswith("\r\033[K")


def test_analyze_builds_only_its_parser_and_imports_no_optional_group_or_heavy_library():
    code = (
        "import sys\n"
        "from screener.cli import build_parser, command_of\n"
        "argv = ['-v', 'analyze', 'clip.mp4', '--task', 'walk', '--running-pain', '6']\n"
        "args = build_parser(command_of(argv)).parse_args(argv)\n"
        "assert args.command == 'analyze' and args.task == 'walk', args\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('pandas', 'scipy', 'cv2', 'av')\n"
        "         or m.startswith(('screener.web', 'screener.batch'))]\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    _assert_fresh_python_prints_ok(code)


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "clip.mp4"],
        ["-q", "analyze", "clip.mp4", "--side", "left", "--first-line", "nsaids", "--pdf"],
        ["-v", "-v", "analyze", "clip.mp4", "--red-flag", "swelling", "-o", "out"],
    ],
)
def test_the_analyze_parser_alone_reads_arguments_as_the_full_parser_does(argv):
    from screener.cli import build_parser, command_of

    assert command_of(argv) == "analyze"
    alone = vars(build_parser(command_of(argv)).parse_args(argv))
    full = vars(build_parser().parse_args(argv))
    assert alone == full


def test_help_before_the_command_or_another_command_builds_every_subcommand():
    from screener.cli import build_parser, command_of

    assert command_of(["--help", "analyze"]) is None
    assert command_of(["-v"]) is None
    assert command_of(["-v", "serve", "--port", "1"]) == "serve"
    parser = build_parser(command_of(["-v", "serve"]))
    assert "batch" in parser.format_help() and "analyze" in parser.format_help()


def test_collection_is_paused_inside_and_resumes_with_the_objects_frozen():
    code = (
        "import gc\n"
        "from screener.cli import collection_paused\n"
        "assert gc.isenabled() and gc.get_freeze_count() == 0\n"
        "with collection_paused():\n"
        "    assert not gc.isenabled()\n"
        "    made = [[i] for i in range(1000)]\n"
        "assert gc.isenabled() and gc.get_freeze_count() >= 1000\n"
        "gc.disable()\n"
        "with collection_paused():\n"
        "    assert not gc.isenabled()\n"
        "assert not gc.isenabled()\n"
        "print('ok')\n"
    )
    _assert_fresh_python_prints_ok(code)


def test_releasing_the_landmarker_collects_only_once_mediapipe_was_loaded():
    code = (
        "import gc, sys, types\n"
        "import screener.pose as pose\n"
        "calls = []\n"
        "gc.collect = lambda *a: calls.append(1) or 0\n"
        "assert 'mediapipe' not in sys.modules\n"
        "pose.release_landmarker()\n"
        "assert calls == [], calls\n"
        "sys.modules['mediapipe'] = types.ModuleType('mediapipe')\n"
        "pose.release_landmarker()\n"
        "assert calls == [1], calls\n"
        "print('ok')\n"
    )
    _assert_fresh_python_prints_ok(code)


def test_analyze_lets_idle_blas_threads_sleep_and_sets_it_before_numpy_loads():
    code = (
        "import contextlib, io, os, sys\n"
        "os.environ.pop('OPENBLAS_THREAD_TIMEOUT', None)\n"
        "from screener.cli import main\n"
        "def run(*argv):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main(list(argv))\n"
        "run('--help')\n"
        "assert 'OPENBLAS_THREAD_TIMEOUT' not in os.environ\n"
        "run('-v', 'analyze', '--help')\n"
        "assert os.environ['OPENBLAS_THREAD_TIMEOUT'] == '16', os.environ\n"
        "assert 'numpy' not in sys.modules  # OpenBLAS reads it when NumPy loads it\n"
        "os.environ['OPENBLAS_THREAD_TIMEOUT'] = '20'\n"
        "run('analyze', '--help')\n"
        "assert os.environ['OPENBLAS_THREAD_TIMEOUT'] == '20'  # the user's value is kept\n"
        "print('ok')\n"
    )
    _assert_fresh_python_prints_ok(code)
