"""Whole-process CPU, memory and wall time of ``screener analyze`` against a bare MediaPipe loop.

Prints figures; asserts nothing. What a new user sees at the command line, start-up and
report included (``bench/throughput.py`` measures inside one process instead):

1. Phone-sized clips made by scaling up a sample video (written to a temporary folder):
   1080x1920 at 60 fps, 5 s, and 2160x3840 (4K) at 60 fps, 5 s; H.264, a keyframe a
   second, as phones write them.
2. For each clip, alternating pairs (``--pairs``, default 3) of child processes, run as an
   installed package runs (:func:`installed_env`: the screener's modules compiled to
   bytecode once, before the pairs; session 10: before this, on a machine that sets
   ``PYTHONDONTWRITEBYTECODE``, every run compiled them; and one untimed run of each
   before the pairs, see :func:`compare_pairs`):
   ``screener analyze CLIP --no-cache`` (report included) and a bare loop of the same
   MediaPipe model over the same file, written as a naive user would (legacy
   ``mp.solutions.pose``, ``model_complexity=1``, ``cv2.VideoCapture`` read and
   ``cvtColor`` of every full-size frame). CPU seconds (user + sys of the child, from
   ``os.wait4``) and peak resident memory (``ru_maxrss`` of the child) of each, and their
   ratios (medians over the pairs).
3. Cached re-analysis with the report, as a process (wall seconds): ``screener analyze``
   on a clip whose keypoints are cached, with Python's bytecode of the screener's
   modules written by the first run (into a temporary ``PYTHONPYCACHEPREFIX``, even where
   ``PYTHONDONTWRITEBYTECODE`` is set, as on the development machine): an installed
   package has its bytecode; compiling the screener's modules on every run cost about
   0.15 s more.
4. Landmarks at the reduced decoding size (``PoseConfig.max_long_side_px``) against the
   full-size frames on the 1080p clip, and the analysis results (events, flag values) of
   both.
5. ``--long-minutes`` (default 10): the 1080p clip looped to that length (packets copied,
   no re-encoding), analysed with ``--no-cache --no-report`` while its resident memory is
   sampled every second: memory must stay flat over the clip.

Usage::

    python -m bench.whole_process [--pairs 3] [--sizes 1080p,4k] [--long-minutes 10]
                                  [--skip-landmarks] [--skip-cached] [--cached-runs 5]
                                  [--source VIDEO]
    python -m bench.whole_process --only-long --sizes 1080p --long-minutes 10
    python -m bench.whole_process --only-cached --sizes 1080p --cached-runs 7
    python -m bench.whole_process --sizes 1080p --pairs 8 --against /tmp/before  # A/B

The long-clip check prints resident memory (current and peak so far) and CPU seconds
every minute, so a run stopped early on a slow machine still shows how memory went.

Notes
-----
The parent process imports nothing heavy: Linux carries a parent's peak RSS into a child's
``ru_maxrss`` over ``fork``/``execve``, so a heavy parent would inflate the children's
figures. Clip making and landmark comparison run in child processes for the same reason.
CPU seconds are less sensitive than wall time to other load on a shared machine, but not
immune (cache and memory-bandwidth contention): run on a quiet machine for the figures
that matter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / "sample_videos" / "jog_normal_ant_60fps.mp4"
SIZES = {"1080p": (1080, 1920), "4k": (2160, 3840)}
MIB = 1024.0 * 1024.0


# --------------------------------------------------------------------------- children


def make_clip(src: Path, dst: Path, width: int, height: int, fps: int, seconds: float) -> None:
    """Scale every frame of ``src`` to ``width`` x ``height`` and encode H.264 at ``fps``."""
    from fractions import Fraction

    import av
    import cv2
    import numpy as np

    n_out = round(fps * seconds)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20", "g": str(fps)}
        n = 0
        while n < n_out:
            inp.seek(0)
            for frame in inp.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24")
                big = np.asarray(
                    cv2.resize(rgb, (width, height), interpolation=cv2.INTER_CUBIC), np.uint8
                )
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(big), format="rgb24")
                vf.pts = n
                vf.time_base = Fraction(1, fps)
                for packet in stream.encode(vf):
                    out.mux(packet)
                n += 1
                if n >= n_out:
                    break
        for packet in stream.encode():
            out.mux(packet)


def bare_loop(path: Path) -> int:
    """A naive user's loop: cv2 read, full-size BGR->RGB, ``Pose(model_complexity=1)``
    (:func:`bench.throughput.time_bare_mediapipe`); returns the frames read."""
    from bench.throughput import time_bare_mediapipe

    return time_bare_mediapipe(path)[0]


def compare_landmarks(path: Path) -> dict[str, object]:
    """Landmarks and results at the default decoding size against full-size frames."""
    import numpy as np

    import screener
    from screener.config import AnalysisConfig, PoseConfig
    from screener.landmarks import INDEX, LOWER_BODY
    from screener.video import probe_video

    info = probe_video(path)
    full_side = max(info.width_px, info.height_px)
    reduced = AnalysisConfig(cache_dir=None)
    full = AnalysisConfig(cache_dir=None, pose=PoseConfig(max_long_side_px=full_side))
    a = screener.analyze(path, config=reduced)
    b = screener.analyze(path, config=full)
    cols = [INDEX[n] for n in LOWER_BODY]
    both = a.raw_pose.detected & b.raw_pose.detected
    diff = a.raw_pose.image_xy_px[both][:, cols] - b.raw_pose.image_xy_px[both][:, cols]
    dist = np.linalg.norm(diff, axis=-1)
    values: list[float] = []
    for fa, fb in zip(a.summary["faults"], b.summary["faults"], strict=True):
        va, vb = fa.get("value"), fb.get("value")
        if isinstance(va, float) and isinstance(vb, float) and np.isfinite(va) and np.isfinite(vb):
            values.append(abs(va - vb))
    flags_a = [(f["side"], f["metric"], f.get("severity")) for f in a.summary["faults"]]
    flags_b = [(f["side"], f["metric"], f.get("severity")) for f in b.summary["faults"]]
    return {
        "reduced_long_side_px": reduced.pose.max_long_side_px,
        "full_long_side_px": full_side,
        "frames_both_detected": int(both.sum()),
        "detected_reduced": int(a.raw_pose.detected.sum()),
        "detected_full": int(b.raw_pose.detected.sum()),
        "lower_body_px_mean": float(np.nanmean(dist)),
        "lower_body_px_p95": float(np.nanpercentile(dist, 95)),
        "lower_body_px_max": float(np.nanmax(dist)),
        "image_width_px": info.width_px,
        "events_reduced": len(a.events),
        "events_full": len(b.events),
        "same_flags": flags_a == flags_b,
        "flag_value_max_abs_diff_deg": max(values) if values else float("nan"),
        "n_flag_values": len(values),
    }


def loop_clip(src: Path, dst: Path, times: int) -> None:
    """``src`` played ``times`` times in a row (packets copied, no re-encoding)."""
    from bench.throughput import loop_video

    loop_video(src, dst, times)


# --------------------------------------------------------------------------- parent


def _child_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.whole_process", "--child", *args]


def _screener_cmd() -> list[str]:
    script = Path(sys.executable).with_name("screener")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "screener.cli"]


def run_measured(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO
) -> dict[str, float]:
    """Run ``cmd`` (in ``cwd``) to completion; its wall and CPU seconds and peak RSS (MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(
        target=lambda: stderr_chunks.append(proc.stderr.read() if proc.stderr else b"")
    )
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{b''.join(stderr_chunks).decode()}"
        )
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024.0,
        "stderr_lines": float(len(b"".join(stderr_chunks).decode().splitlines())),
    }


def sample_rss(
    cmd: list[str], every_s: float = 1.0, log_every_s: float = 60.0
) -> tuple[list[tuple[float, float]], float]:
    """Run ``cmd``, sampling its resident memory; ``[(t_s, rss_mib)]`` and peak MiB.

    Every ``log_every_s`` the current and peak resident memory (``VmRSS``, ``VmHWM``) and
    CPU seconds are printed, so a run stopped early still shows how memory went.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, float]] = []
    status_file = Path(f"/proc/{proc.pid}/status")
    stat_file = Path(f"/proc/{proc.pid}/stat")
    next_log = log_every_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            fields = dict(
                line.split(":", 1) for line in status_file.read_text().splitlines() if ":" in line
            )
            now = time.perf_counter() - start
            rss = float(fields["VmRSS"].split()[0]) / 1024
            samples.append((now, rss))
            if now >= next_log:
                ticks = stat_file.read_text().rsplit(")", 1)[1].split()
                cpu = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
                hwm = float(fields["VmHWM"].split()[0]) / 1024
                print(
                    f"    {now:6.0f} s wall, {cpu:6.0f} CPU s: RSS {rss:5.0f} MiB, "
                    f"peak so far {hwm:5.0f} MiB",
                    flush=True,
                )
                next_log += log_every_s
        except (OSError, KeyError, IndexError, ValueError):
            pass
        time.sleep(every_s)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode})")
    peak = usage.ru_maxrss / 1024.0
    return samples, peak


def _median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def installed_env(tmp: Path) -> dict[str, str]:
    """The environment of an installed screener: the bytecode of its modules compiled once
    (into a temporary ``PYTHONPYCACHEPREFIX``, even where ``PYTHONDONTWRITEBYTECODE`` is
    set, as on the development machine), as ``pip install`` leaves the bytecode of
    MediaPipe and OpenCV that the bare loop imports."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp / "bytecode")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    package = REPO / "screener"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=env, check=True)
    return env


#: One command to time: its argument list, environment and working directory.
Setup = tuple[list[str], dict[str, str], Path]


def alternate_runs(setups: dict[str, Setup], pairs: int) -> dict[str, list[dict[str, float]]]:
    """One untimed run of each setup, then ``pairs`` rounds of each, their order swapped
    every round (so that the machine's drift falls on both alike); each timed run printed.

    Returns
    -------
    dict
        Per setup's name, the :func:`run_measured` rows of its timed runs, in order.
    """
    for cmd, env, cwd in setups.values():
        run_measured(cmd, env, cwd)
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in setups}
    names = list(setups)
    for i in range(pairs):
        for name in names if i % 2 == 0 else names[::-1]:
            row = run_measured(*setups[name])
            rows[name].append(row)
            print(
                f"  pair {i + 1} {name:<9} cpu {row['cpu_s']:6.2f} s  wall {row['wall_s']:6.2f} s"
                f"  peak {row['peak_mib']:5.0f} MiB  stderr lines {row['stderr_lines']:.0f}",
                flush=True,
            )
    return rows


def compare_pairs(clip: Path, pairs: int, outdir: Path, env: dict[str, str]) -> None:
    """Alternating pairs of ``screener analyze --no-cache`` and the bare loop on ``clip``.

    Notes
    -----
    One untimed run of each comes first. ``env`` points Python's bytecode at a temporary
    ``PYTHONPYCACHEPREFIX``, where the ``__pycache__`` of the installed libraries is not
    read: the first run of each command compiled the libraries it imports (SciPy, pandas,
    MediaPipe; about 3.6 CPU s for the screener, profiled) and showed as a "cold first
    pair" (session 15: 1.52x against 1.30x and 1.16x).
    """
    screener_cmd = [*_screener_cmd(), "analyze", str(clip), "--no-cache", "-o", str(outdir)]
    rows = alternate_runs(
        {
            "screener": (screener_cmd, env, REPO),
            "bare": (_child_cmd("bare", str(clip)), env, REPO),
        },
        pairs,
    )
    screener_rows, bare_rows = rows["screener"], rows["bare"]
    cpu_s, cpu_b = _median(screener_rows, "cpu_s"), _median(bare_rows, "cpu_s")
    mem_s, mem_b = _median(screener_rows, "peak_mib"), _median(bare_rows, "peak_mib")
    wall_s, wall_b = _median(screener_rows, "wall_s"), _median(bare_rows, "wall_s")
    print(f"  {'median':<16} {'screener analyze':>17} {'bare loop':>10} {'ratio':>7}")
    print(f"  {'CPU seconds':<16} {cpu_s:>17.2f} {cpu_b:>10.2f} {cpu_s / cpu_b:>7.2f}")
    print(f"  {'peak MiB':<16} {mem_s:>17.0f} {mem_b:>10.0f} {mem_s / mem_b:>7.2f}")
    print(f"  {'wall seconds':<16} {wall_s:>17.2f} {wall_b:>10.2f} {wall_s / wall_b:>7.2f}")


def paired_differences(after: list[float], before: list[float]) -> dict[str, float]:
    """Median, lowest and highest of the pairwise differences ``after - before``, and how
    many pairs were lower after (the pairs ran side by side, so the machine's drift cancels
    within a pair)."""
    if len(after) != len(before) or not after:
        raise ValueError("paired differences need the same, non-zero number of runs of each")
    diffs = [a - b for a, b in zip(after, before, strict=True)]
    return {
        "median": statistics.median(diffs),
        "low": min(diffs),
        "high": max(diffs),
        "lower_after": float(sum(d < 0 for d in diffs)),
        "pairs": float(len(diffs)),
    }


def tree_env(tree: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` with the screener imported from another source tree (``tree``: a checkout
    such as ``git worktree add /tmp/before <commit>``), its modules compiled once.

    Run the commands in ``tree`` too: ``python -m`` puts the working directory ahead of
    ``PYTHONPATH`` (and this repository is the editable install's)."""
    package = tree / "screener"
    if not (package / "__init__.py").is_file():
        raise SystemExit(f"{tree}: no screener package there (give a checkout of this repository)")
    out = {**env, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=out, check=True)
    return out


def compare_trees(clip: Path, pairs: int, outdir: Path, env: dict[str, str], against: Path) -> None:
    """Alternating pairs of ``screener analyze --no-cache`` from this tree and from
    ``against``, with the paired CPU differences.

    Notes
    -----
    A change worth a tenth of a CPU second is below the whole process's run-to-run spread
    (session 31: the clothing reading's 0.08 s saving, clear in one process's stage
    timings, was a median of -0.04 s within -0.26 to +0.19 s over 8 pairs): the pairs'
    differences, not two medians, say whether a change helped.
    """
    cmd = [*_screener_cmd(), "analyze", str(clip), "--no-cache", "-o", str(outdir)]
    rows = alternate_runs(
        {
            "this tree": (cmd, env, REPO),
            "against": (cmd, tree_env(against, env), against.resolve()),
        },
        pairs,
    )
    for key, unit in (("cpu_s", "CPU s"), ("wall_s", "wall s"), ("peak_mib", "peak MiB")):
        d = paired_differences(
            [r[key] for r in rows["this tree"]], [r[key] for r in rows["against"]]
        )
        print(
            f"  {unit}: this tree {_median(rows['this tree'], key):.2f}, against "
            f"{_median(rows['against'], key):.2f}; paired difference median {d['median']:+.3f} "
            f"({d['low']:+.3f} to {d['high']:+.3f}), lower in {d['lower_after']:.0f} of "
            f"{d['pairs']:.0f} pairs"
        )


def cached_reanalysis(clip: Path, tmp: Path, repeats: int = 5) -> None:
    """Wall time of ``screener analyze`` (report included) with the keypoints cached."""
    env = {**installed_env(tmp), "SCREENER_CACHE_DIR": str(tmp / "cache")}
    cmd = [*_screener_cmd(), "analyze", str(clip), "-o", str(tmp / "cached-out")]
    first = run_measured(cmd, env)
    print(f"  first run (fills the cache and writes bytecode): wall {first['wall_s']:.2f} s")
    rows = [run_measured(cmd, env) for _ in range(repeats)]
    for row in rows:
        print(
            f"  cached re-analysis + report: wall {row['wall_s']:.2f} s, cpu {row['cpu_s']:.2f} s,"
            f" peak {row['peak_mib']:.0f} MiB"
        )
    print(f"  median wall {_median(rows, 'wall_s'):.2f} s (target <= 2 s)")


def long_clip_memory(clip: Path, tmp: Path, minutes: float) -> None:
    """Resident memory over a ``minutes``-long clip made by looping ``clip``."""
    clip_s = 5.0
    times = max(1, round(minutes * 60 / clip_s))
    longer = tmp / f"looped-{times}x.mp4"
    subprocess.run(_child_cmd("loop", str(clip), str(longer), str(times)), cwd=REPO, check=True)
    cmd = [*_screener_cmd(), "analyze", str(longer), "--no-cache", "--no-report"]
    cmd += ["-o", str(tmp / "long-out")]
    samples, peak = sample_rss(cmd)
    if not samples:
        print("  no memory samples taken")
        return
    end = samples[-1][0]
    print(f"  {times} loops ({times * clip_s / 60:.1f} min of video), {end:.0f} s wall")
    for k in range(1, 11):
        window = [rss for t, rss in samples if (k - 1) * end / 10 <= t <= k * end / 10]
        if window:
            print(f"  {k * 10:>3} % of the run: RSS max {max(window):6.0f} MiB")
    first = [rss for t, rss in samples if 0.1 * end <= t <= 0.3 * end]
    last = [rss for t, rss in samples if t >= 0.7 * end]
    if first and last:
        print(
            f"  peak {peak:.0f} MiB; RSS max in 10-30 % of the run {max(first):.0f} MiB, "
            f"in the last 30 % {max(last):.0f} MiB (growth {max(last) - max(first):+.0f} MiB)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--sizes", default="1080p,4k", help="comma-separated: 1080p, 4k")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="0 skips it")
    parser.add_argument("--skip-landmarks", action="store_true")
    parser.add_argument("--skip-cached", action="store_true")
    parser.add_argument("--cached-runs", type=int, default=5, help="cached re-analyses timed")
    parser.add_argument("--only-long", action="store_true", help="only the long-clip memory check")
    parser.add_argument("--only-cached", action="store_true", help="only the cached re-analysis")
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another checkout of this repository: alternate `screener analyze` from this tree "
        "and from that one on the first size's clip and print the paired differences "
        "(instead of the comparison with the bare loop)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _run_child(args.child)

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    print(f"source: {args.source}; {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="screener-bench-") as tmp_name:
        tmp = Path(tmp_name)
        clips: dict[str, Path] = {}
        for name in sizes:
            width, height = SIZES[name]
            clips[name] = tmp / f"clip-{name}.mp4"
            cmd = _child_cmd("make", str(args.source), str(clips[name]), str(width), str(height))
            subprocess.run(cmd, cwd=REPO, check=True)
            size_mb = clips[name].stat().st_size / 1e6
            print(f"made {name}: {width}x{height}, 60 fps, 5 s, {size_mb:.1f} MB", flush=True)
        if args.only_long:
            first = next(iter(clips.values()))
            print(f"\nmemory over a {args.long_minutes:g}-minute clip ({first.name})", flush=True)
            long_clip_memory(first, tmp, args.long_minutes)
            return 0
        if args.only_cached:
            first = next(iter(clips.values()))
            print(f"\ncached re-analysis with report ({first.name})", flush=True)
            cached_reanalysis(first, tmp, args.cached_runs)
            return 0
        env = installed_env(tmp)
        if args.against is not None:
            first = next(iter(clips.values()))
            print(f"\n{first.name}: this tree against {args.against}", flush=True)
            compare_trees(first, args.pairs, tmp / "out-trees", env, args.against)
            return 0
        help_run = run_measured([*_screener_cmd(), "--help"], env)
        print(
            f"\n`screener --help`: wall {help_run['wall_s']:.2f} s, cpu {help_run['cpu_s']:.2f} s"
        )
        for name, clip in clips.items():
            print(f"\n{name}: screener analyze --no-cache vs bare MediaPipe loop", flush=True)
            compare_pairs(clip, args.pairs, tmp / f"out-{name}", env)
        first = next(iter(clips.values()))
        if not args.skip_cached:
            print(f"\ncached re-analysis with report ({first.name})", flush=True)
            cached_reanalysis(first, tmp, args.cached_runs)
        if not args.skip_landmarks:
            print(f"\nlandmarks, reduced vs full-size frames ({first.name})", flush=True)
            proc = subprocess.run(
                _child_cmd("landmarks", str(first)),
                cwd=REPO,
                check=True,
                capture_output=True,
                text=True,
            )
            for key, value in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                print(f"  {key}: {value:.2f}" if isinstance(value, float) else f"  {key}: {value}")
        if args.long_minutes > 0:
            print(f"\nmemory over a {args.long_minutes:g}-minute clip ({first.name})", flush=True)
            long_clip_memory(first, tmp, args.long_minutes)
    return 0


def _run_child(argv: list[str]) -> int:
    kind, *rest = argv
    if kind == "make":
        src, dst, width, height = rest
        make_clip(Path(src), Path(dst), int(width), int(height), fps=60, seconds=5.0)
    elif kind == "bare":
        bare_loop(Path(rest[0]))
    elif kind == "landmarks":
        print(json.dumps(compare_landmarks(Path(rest[0]))))
    elif kind == "loop":
        loop_clip(Path(rest[0]), Path(rest[1]), int(rest[2]))
    else:
        raise SystemExit(f"unknown child {kind!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
