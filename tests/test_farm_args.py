"""render_scenes/farm.py without Blender or Dask: arguments, job lists, resume, outputs.

The real clusters (LocalCluster, stock scheduler and workers, faults) are tested in
tests/blender/test_farm.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from render_scenes import farm
from render_scenes.common import UsageError
from render_scenes.farm_jobs import (
    Job,
    frames_done,
    load_manifest,
    png_bytes_ok,
    png_ok,
    write_manifest,
)
from render_scenes.farm_output import Progress, sheet_columns, worker_summary

Image = pytest.importorskip("PIL.Image")

FARM = Path(farm.__file__)
TINY = ["--resolution", "64", "36", "--samples", "2"]


def parse(tmp_path: Path, *argv: str):
    return farm.parse_args(["--out", str(tmp_path / "frames"), *argv])


def png(size: tuple[int, int] = (64, 36), colour: tuple[int, int, int] = (10, 20, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


# -- sweeps and job lists ----------------------------------------------------------------


def test_sweep_range_includes_both_ends_in_the_flags_units(tmp_path: Path) -> None:
    ns = parse(tmp_path, "--sweep", "s_amplitude=0:0.9:7", *TINY)
    assert ns.kind == "sweep" and len(ns.jobs) == 7
    assert [j.values for j in ns.jobs][:3] == [(("s_amplitude", "0"),),
                                               (("s_amplitude", "0.15"),),
                                               (("s_amplitude", "0.3"),)]
    assert ns.jobs[-1].argv == (*TINY, "--s-amplitude", "0.9")
    assert [j.file for j in ns.jobs] == [f"{k:04d}.png" for k in range(1, 8)]
    # Angles stay in degrees, as scurve.py's flag takes them.
    ns = parse(tmp_path, "--sweep", "arch-angle=90:180:3")
    assert [j.argv[-1] for j in ns.jobs] == ["90", "135", "180"]


def test_repeated_sweeps_make_the_grid_last_fastest(tmp_path: Path) -> None:
    ns = parse(tmp_path, "--sweep", "s_amplitude=0:0.6:3", "--sweep", "radius=1,1.5")
    assert [tuple(v for _, v in j.values) for j in ns.jobs] == [
        ("0", "1"), ("0", "1.5"), ("0.3", "1"), ("0.3", "1.5"), ("0.6", "1"), ("0.6", "1.5")]
    assert ns.jobs[3].argv == ("--s-amplitude", "0.3", "--radius", "1.5")
    assert ns.jobs[3].label == "s_amplitude=0.3, radius=1.5"
    assert sheet_columns(ns.jobs) == 2


def test_lists_booleans_choices_and_integers(tmp_path: Path) -> None:
    ns = parse(tmp_path, "--sweep", "camera=front,low", "--sweep", "weld_seam=on,off")
    assert [j.argv for j in ns.jobs] == [
        ("--camera", "front", "--weld-seam"), ("--camera", "front", "--no-weld-seam"),
        ("--camera", "low", "--weld-seam"), ("--camera", "low", "--no-weld-seam")]
    ns = parse(tmp_path, "--sweep", "length_segments=4:16:4")
    assert [j.argv[-1] for j in ns.jobs] == ["4", "8", "12", "16"]


def test_turntable_and_animation_jobs(tmp_path: Path) -> None:
    ns = parse(tmp_path, "--turntable", "4", *TINY)
    assert ns.kind == "turntable"
    assert [(j.orbit, j.frame, j.argv) for j in ns.jobs] == [((k, 4), k + 1, tuple(TINY))
                                                             for k in range(4)]
    assert ns.jobs[1].label == "orbit=90deg"
    anim = ("--animate", "s_amplitude=0:0.9", "--frames", "4", "--animate", "arch-angle=90:180")
    ns = parse(tmp_path, *anim)
    assert ns.kind == "animate"
    # One scene (scurve.py's, keyframed) for every frame; the job picks the frame.
    assert [(j.index, j.frame, j.argv) for j in ns.jobs] == [(k, k, anim) for k in range(1, 5)]
    assert [j.label for j in ns.jobs] == [
        f"s_amplitude={a}, arch_angle={d}" for a, d in [("0", "90"), ("0.3", "120"),
                                                         ("0.6", "150"), ("0.9", "180")]]
    assert len({j.key() for j in ns.jobs}) == 4
    ns = parse(tmp_path, "--animate", "length_segments=2:8", "--frames", "3")
    assert [j.label for j in ns.jobs] == [f"length_segments={n}" for n in (2, 5, 8)]
    assert parse(tmp_path).jobs == [Job(1, "still", ())]


def test_job_keys_follow_what_decides_the_picture(tmp_path: Path) -> None:
    a = parse(tmp_path, "--sweep", "s_amplitude=0,0.5", *TINY).jobs
    b = parse(tmp_path, "--sweep", "s_amplitude=0,0.5", *TINY).jobs
    c = parse(tmp_path, "--sweep", "s_amplitude=0,0.5", "--resolution", "64", "36",
              "--samples", "3").jobs
    assert [j.key() for j in a] == [j.key() for j in b]
    assert len({j.key() for j in a + c}) == 4
    t = parse(tmp_path, "--turntable", "2").jobs
    assert t[0].key() != t[1].key()  # same arguments, another orbit step


def test_every_jobs_values_are_checked_before_any_cluster(tmp_path: Path) -> None:
    # A swept value out of range stops the farm before a cluster starts: exit 2, one line
    # naming the frame and scurve.py's own message, nothing written. (No Dask or bpy is
    # needed to get there: this runs in the numpy-only environment too.)
    r = subprocess.run([sys.executable, str(FARM), "--out", str(tmp_path / "frames"),
                        "--sweep", "s_amplitude=0,0.6,9", "--scheduler", "tcp://127.0.0.1:9",
                        *TINY], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        "farm.py: error: 0003.png (s_amplitude=9): s_amplitude=9.0 is out of range: "
        "allowed -1.80658 to 1.80658 for half_length=3.0"], r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_frames_whole_cause_is_one_line() -> None:
    from render_scenes.farm_cluster import error_text

    exc = RuntimeError("Error during deserialization of the task graph. This frequently\n"
                       "occurs if the Scheduler and Client have different environments.")
    assert error_text(exc) == (
        "RuntimeError: Error during deserialization of the task graph. This frequently "
        "occurs if the Scheduler and Client have different environments.")
    assert error_text(ValueError("s_amplitude=9.0 is out of range")) == \
        "s_amplitude=9.0 is out of range"
    distributed = pytest.importorskip("distributed")

    class Last:
        address = "tcp://10.0.0.7:4242"

    killed = distributed.KilledWorker("scurve-0002.png-ab12", Last(), 3)
    assert error_text(killed, {"tcp://10.0.0.7:4242": "w2"}) == (
        "KilledWorker: 4 workers died in turn while rendering this frame (Dask's "
        "distributed.scheduler.allowed-failures = 3); the last was w2 (tcp://10.0.0.7:4242): "
        "see its log")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sweep", "s_amplitude"], "expected NAME=START:STOP:COUNT"),
        (["--sweep", "frobnicate=0:1:3"], "'frobnicate' is not a scene flag"),
        (["--sweep", "out=a,b"], "'out' is not a scene flag"),
        (["--sweep", "turntable=2,3"], "'turntable' is not a scene flag"),
        (["--sweep", "s_amplitude=0:1"], "expected NAME=START:STOP:COUNT"),
        (["--sweep", "s_amplitude=0:x:3"], "must be numbers"),
        (["--sweep", "s_amplitude=0:inf:3"], "must be finite"),
        (["--sweep", "s_amplitude=0:1:1"], "COUNT must be at least 2"),
        (["--sweep", "camera=0:1:3"], "--camera is not numeric"),
        (["--sweep", "resolution=64,96"], "takes 2 values"),
        (["--sweep", "length_segments=1:2:3"], "whole numbers"),
        (["--sweep", "weld_seam=maybe"], "on or off, not 'maybe'"),
        (["--sweep", "radius=1,,2"], "an empty value"),
        (["--sweep", "radius=1,2", "--sweep", "radius=3,4"], "names a parameter twice"),
        (["--sweep", "radius=1,2", "--turntable", "3"], "choose one of --sweep, --turntable"),
        (["--animate", "radius=1:2:3", "--frames", "3"], "'1:2:3' is not two numbers A:B"),
        (["--animate", "sun_elevation=0:90"], "'sun_elevation' cannot be animated"),
        (["--animate", "radius=1:2", "--frames", "3", "--frame-range", "1", "2"],
         "--frame-range: the farm renders every frame"),
        (["--animate", "radius=1:2", "--sweep", "s_amplitude=0,1"], "choose one of"),
        (["--turntable", "1"], "at least 2 frames"),
        (["--video"], "--video needs --turntable or --animate"),
        (["--frames", "1", "--animate", "radius=1:2"], "needs at least 2 frames"),
        (["--frames", "3", "--animate", "s_amplitude=0:9"], "--animate at frame 2: "),
        (["--workers", "2", "--scheduler", "tcp://h:8786"], "--workers sizes the LocalCluster"),
        (["--scheduler", "tcp://h:8786", "--scheduler-file", "s.json"], "not both"),
        (["--scheduler-file", "/nonexistent/scheduler.json"], "does not exist (`dask scheduler"),
        (["--cycles-threads", "-1"], "--cycles-threads -1"),
        (["--connect-timeout", "0"], "--connect-timeout 0"),
        (["--radius", "-1"], "radius=-1.0 is out of range"),
        (["--preset", "nope"], "preset 'nope' is unknown"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments(tmp_path: Path, argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(tmp_path, *argv)


def test_unwritable_folders(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="it is a file"):
        farm.parse_args(["--out", str(tmp_path / "file")])
    with pytest.raises(UsageError, match="it is a file"):
        farm.parse_args(["--out", str(tmp_path / "f"), "--save-blend", str(tmp_path / "file")])
    with pytest.raises(UsageError, match="is a file, not a folder"):
        farm.parse_args(["--out", str(tmp_path / "file" / "such")])
    farm.parse_args(["--out", str(tmp_path / "no" / "such")])  # made with its parent, later
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_help_lists_scene_and_farm_flags() -> None:
    text = farm.make_parser().format_help()
    for flag in ("--sweep", "--scheduler", "--workers", "--animate", "--save-blend DIR",
                 "--s-amplitude", "--face-planes", "--camera"):
        assert flag in text
    assert "--save-blend PATH" not in text  # scurve.py's single-file meaning is replaced


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, str(FARM), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv", [["--sweep", "nope=1,2"], ["--out", "/proc/a/b"],
                                  ["--sweep", "radius=1,2", "--turntable", "4"]])
def test_script_exits_2_with_one_line_and_writes_nothing(tmp_path: Path,
                                                         argv: list[str]) -> None:
    r = _run(*argv, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("farm.py: error: "), r.stderr
    assert list(tmp_path.iterdir()) == []


# -- resume ------------------------------------------------------------------------------


def test_png_check_finds_truncation_corruption_and_size(tmp_path: Path) -> None:
    data = png()
    assert png_bytes_ok(data) and png_bytes_ok(data, (64, 36))
    assert not png_bytes_ok(data, (36, 64))
    assert not png_bytes_ok(data[:-1]) and not png_bytes_ok(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[40] ^= 0xFF
    assert not png_bytes_ok(bytes(flipped))
    assert not png_bytes_ok(b"") and not png_bytes_ok(b"GIF89a" + data)
    assert not png_ok(tmp_path / "missing.png")


def _done_entry(job: Job) -> dict:
    return {**job.to_dict(), "status": "done", "worker": "w1", "host": "h", "seconds": 1.0}


def test_resume_skips_only_whole_frames_of_the_same_job(tmp_path: Path) -> None:
    jobs = parse(tmp_path, "--sweep", "s_amplitude=0:0.6:4", *TINY).jobs
    out = tmp_path / "frames"
    out.mkdir()
    entries = [_done_entry(j) for j in jobs]
    entries[3]["status"] = "failed"
    write_manifest(out, {"format": 1}, entries)
    (out / "0001.png").write_bytes(png())
    (out / "0002.png").write_bytes(png()[:50])  # truncated
    (out / "0004.png").write_bytes(png())  # but the manifest says it failed
    r = frames_done(jobs, out, (64, 36), force=False)
    assert sorted(r.done) == [1] and [j.index for j in r.todo] == [2, 3, 4]
    # Another picture size, other arguments, --force, a missing .blend: render again.
    assert not frames_done(jobs, out, (96, 54), force=False).done
    other = parse(tmp_path, "--sweep", "s_amplitude=0:0.6:4", "--samples", "3").jobs
    assert not frames_done(other, out, (64, 36), force=False).done
    assert not frames_done(jobs, out, (64, 36), force=True).done
    blends = tmp_path / "blends"
    blends.mkdir()
    assert not frames_done(jobs, out, (64, 36), False, blends=blends).done
    (blends / "0001.blend").write_bytes(b"BLENDER")
    assert sorted(frames_done(jobs, out, (64, 36), False, blends=blends).done) == [1]
    # A broken manifest counts as none.
    (out / "manifest.json").write_text("{")
    assert load_manifest(out) == {} and not frames_done(jobs, out, (64, 36), False).done


def test_manifest_is_written_whole(tmp_path: Path) -> None:
    jobs = parse(tmp_path, "--turntable", "3").jobs
    write_manifest(tmp_path, {"format": 1, "kind": "turntable"}, [_done_entry(j) for j in jobs])
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["kind"] == "turntable" and [j["file"] for j in data["jobs"]] == [
        "0001.png", "0002.png", "0003.png"]
    assert data["jobs"][1]["orbit"] == [1, 3] and data["jobs"][1]["worker"] == "w1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


# -- outputs -----------------------------------------------------------------------------


def test_progress_and_worker_summary(tmp_path: Path) -> None:
    jobs = parse(tmp_path, "--sweep", "radius=1,2,3").jobs
    stream = io.StringIO()
    p = Progress("farm.py", total=3, already=1, stream=stream)
    p.update(jobs[1], "by w1 in 2.0 s")
    p.update(jobs[2], "by w2 in 2.0 s")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "2/3 frames" in lines[0] and "3/3 frames" in lines[1]
    assert re.search(r"\[#+-*\] 2/3 frames, \d:\d\d:\d\d left \| 0002.png \(radius=2\)",
                     lines[0])
    entries = [{"status": "done", "worker": "w1", "host": "a", "seconds": 2.0},
               {"status": "done", "worker": "w1", "host": "a", "seconds": 4.0},
               {"status": "done", "worker": "w2", "host": "b", "seconds": 3.0},
               {"status": "done", "worker": "w3", "host": "c", "seconds": 3.0,
                "resumed": True},
               {"status": "failed"}]
    assert worker_summary(entries) == ["w1 (a): 2 frames, 6.0 s busy, 3.0 s per frame",
                                       "w2 (b): 1 frames, 3.0 s busy, 3.0 s per frame"]


def test_contact_sheet_has_a_labelled_cell_per_job(tmp_path: Path) -> None:
    import numpy as np

    from render_scenes.farm_output import contact_sheet

    jobs = parse(tmp_path, "--sweep", "s_amplitude=0,0.5", "--sweep", "radius=1,2").jobs
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200)]
    for job, colour in zip(jobs, colours, strict=False):  # the fourth frame "failed"
        (tmp_path / job.file).write_bytes(png((64, 36), colour))
    contact_sheet(tmp_path, jobs, tmp_path / "sheet.png")
    sheet = np.asarray(Image.open(tmp_path / "sheet.png").convert("RGB")).astype(int)
    h, w, _ = sheet.shape
    assert w > 2 * 160 and h > 2 * 90  # 2x2 grid of enlarged frames with labels
    for colour in colours:
        assert (np.abs(sheet - colour).sum(axis=2) == 0).sum() >= 64 * 36
    assert (np.abs(sheet - 128).sum(axis=2) == 0).sum() >= 64 * 36  # the failed cell
    # Labels: dark text pixels below each cell's picture.
    assert ((sheet.sum(axis=2) < 200).sum()) > 100


def test_without_dask_or_bpy_the_farm_says_what_it_needs(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        need = "needs Dask"
    elif importlib.util.find_spec("bpy") is None:
        need = "needs Blender"
    else:
        pytest.skip("Dask and bpy are here: the farm would render (tests/blender covers it)")
    r = _run("--out", "frames", *TINY, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and need in lines[0], r.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_contact_sheet_when_no_frame_rendered(tmp_path: Path) -> None:
    ns = parse(tmp_path, "--sweep", "s_amplitude=0,0.3")
    ns.out.mkdir()
    failed = {j.index: {**j.to_dict(), "status": "failed", "error": "x"} for j in ns.jobs}
    assert farm.finish(ns, failed) == []
    assert not (ns.out / "contact_sheet.png").exists()
    # One frame is enough for a sheet (the other cell marked failed).
    Image.new("RGB", (64, 36), (200, 30, 30)).save(ns.out / "0001.png")
    failed[1]["status"] = "done"
    assert farm.finish(ns, failed) == [ns.out / "contact_sheet.png"]
    assert png_ok(ns.out / "contact_sheet.png")
