"""Render many frames of the S-curve mirror on a Dask cluster: sweeps, turntables, animations.

    python render_scenes/farm.py --out out/sweep --sweep s_amplitude=0:0.9:7 --samples 16
    python render_scenes/farm.py --out out/orbit --turntable 48 --video
    python render_scenes/farm.py --out out/grow --animate s_amplitude=0:0.9 --frames 48
    python render_scenes/farm.py --scheduler tcp://HOST:8786 --out out/sweep --sweep ...

Takes every scene flag of ``render_scenes/scurve.py`` (preset, geometry, resolution,
samples, camera, sun, face planes...) and renders a list of jobs as Dask tasks, each
frame on one worker: by default a ``LocalCluster`` of worker processes on this machine
(workers × Cycles threads = cores), or with ``--scheduler`` a cluster started with the stock
``dask scheduler`` / ``dask worker`` commands (``--scheduler-file``: the address a
scheduler wrote to a file); see ``farm_cluster``. A task
returns the PNG's bytes and this process writes ``DIR/NNNN.png`` (temporary name, then
rename), ``DIR/manifest.json`` after every frame, a labelled ``contact_sheet.png`` for a
sweep and a GIF (``--video``: also an MP4) for a turntable or an animation.

Frames already on disk, whole and made by the same job (the manifest's key) are skipped;
``--force`` renders them again. Every job's arguments are checked before any cluster
starts: bad arguments (a swept value out of range among them) and an unreachable scheduler
exit with status 2 and one line on stderr. A frame that fails on a worker (a file the
worker does not have, a frame that keeps killing workers) is reported by name with its
whole cause on one line and the others are still delivered; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

if __name__ == "__mp_main__":
    # A LocalCluster's worker process, which multiprocessing starts by running this script
    # again under this name: from its first moment Ctrl-C is its nanny's business (see
    # farm_worker.leave_ctrl_c_to_the_nanny, which covers workers started otherwise).
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)

from render_scenes import scurve  # noqa: E402
from render_scenes.common import Parser, UsageError, script_argv  # noqa: E402
from render_scenes.farm_cluster import (  # noqa: E402
    MAX_DEFAULT_WORKERS,
    FarmError,
    Watch,
    connect,
    error_text,
    stderr_say,
    submit,
)
from render_scenes.farm_jobs import (  # noqa: E402
    Job,
    animate_jobs,
    blend_name,
    frames_done,
    grid_jobs,
    parse_sweep,
    png_bytes_ok,
    turntable_jobs,
    write_atomic,
    write_manifest,
)
from render_scenes.farm_output import (  # noqa: E402
    Progress,
    contact_sheet,
    encode_gif,
    worker_summary,
)
from scurve_geom.cli_common import signals  # noqa: E402
from scurve_geom.cli_common.atomic import check_output_folder  # noqa: E402

PROG = "farm.py"
#: Blender's own limit on render threads (BLENDER_MAX_THREADS).
MAX_CYCLES_THREADS = 1024
#: LocalCluster worker processes: each holds a whole Blender (hundreds of MB).
MAX_WORKERS = 256
DEFAULT_OUT = Path("out/farm")

def add_farm_arguments(p: Any) -> None:
    """The farm's own flags (everything else, ``--animate``/``--frames`` included, is a
    scurve.py scene flag)."""
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"folder for NNNN.png, manifest.json and the rest "
                   f"(default {DEFAULT_OUT})")
    p.add_argument("--sweep", action="append", default=[], metavar="NAME=A:B:N",
                   help="render N values from A to B of a scene flag (or NAME=V1,V2,...); "
                   "repeat for the grid of all combinations, e.g. s_amplitude=0:0.9:7")
    p.add_argument("--turntable", type=int, default=None, metavar="N",
                   help="N frames of a camera orbit around the mirror")
    p.add_argument("--fps", type=scurve._positive_int, default=24,
                   help="GIF/MP4 frame rate (default 24)")
    p.add_argument("--video", action="store_true",
                   help="turntable/animation: an MP4 too (H.264, Blender's own FFmpeg)")
    p.add_argument("--save-blend", type=Path, default=None, metavar="DIR",
                   help="also write one self-contained NNNN.blend per job to DIR "
                   "(`blender -b DIR/0001.blend -f 1` renders it; an animation's "
                   "NNNN.blend holds its keyframes: `-f NNNN`)")
    p.add_argument("--force", action="store_true", help="render frames already on disk again")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use the Dask scheduler at ADDRESS (tcp://HOST:8786) instead of "
                   "a LocalCluster on this machine")
    p.add_argument("--scheduler-file", type=Path, default=None, metavar="PATH",
                   help="use the scheduler whose address `dask scheduler --scheduler-file "
                   "PATH` wrote (HPC and batch set-ups: dask-jobqueue, dask-mpi)")
    p.add_argument("--workers", type=scurve._positive_int, default=None, metavar="N",
                   help=f"LocalCluster worker processes (default: the cores, at most "
                   f"{MAX_DEFAULT_WORKERS}, at most one per frame)")
    p.add_argument("--cycles-threads", type=int, default=0, metavar="N",
                   help="Cycles threads per frame (default: cores / workers locally, all "
                   "of a worker's cores with --scheduler); pixels do not depend on it")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for the scheduler and a first worker (default 10)")


def make_parser() -> argparse.ArgumentParser:
    """scurve.py's parser with the farm's flags in place of its single-render ones
    (``--out``, ``--turntable``, ``--video``, ``--save-blend``, ``--fps``)."""
    p = scurve.make_parser()
    p.prog = PROG
    p.description = ("Render sweeps, turntables and animations of the S-curve mirror on a "
                     "Dask cluster (a LocalCluster by default).")
    p.allow_abbrev = False
    p.conflict_handler = "resolve"
    add_farm_arguments(p.add_argument_group("farm"))
    return p


def _farm_only_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, add_help=False, allow_abbrev=False)
    add_farm_arguments(p)
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse and validate without Blender or Dask. Adds ``scene`` (the scurve.py scene
    arguments), ``jobs`` (list of :class:`Job`), ``kind`` and ``size`` (W, H).

    Raises
    ------
    UsageError
        With a one-line message, for any bad argument.
    """
    argv = list(argv)
    animated = make_parser().parse_args(argv).animate is not None  # --help, unknown flags
    ns, scene = _farm_only_parser().parse_known_args(argv)
    # scurve.py checks the scene flags (--animate and --frames among them) exactly as for
    # a single render; this --out is never written (workers render into their own
    # temporary folders).
    dummy = Path(tempfile.gettempdir()) / ("scurve-farm-check" if animated else
                                           "scurve-farm-check.png")
    checked = scurve.parse_args([*scene, "--out", str(dummy)])
    ns.scene, ns.size = scene, tuple(checked.resolution)
    if checked.frame_range is not None:
        raise UsageError("--frame-range: the farm renders every frame (those already on "
                         "disk are skipped)")
    kinds = [k for k, on in (("sweep", ns.sweep), ("turntable", ns.turntable is not None),
                             ("animate", animated)) if on]
    if len(kinds) > 1:
        raise UsageError(f"choose one of --sweep, --turntable, --animate (given: "
                         f"{', '.join('--' + k for k in kinds)})")
    ns.kind = kinds[0] if kinds else "still"
    if ns.turntable is not None and ns.turntable < 2:
        raise UsageError(f"--turntable {ns.turntable}: an orbit needs at least 2 frames")
    if ns.video and ns.kind not in ("turntable", "animate"):
        raise UsageError("--video needs --turntable or --animate (the video is made from "
                         "their frames)")
    if not 0 <= ns.cycles_threads <= MAX_CYCLES_THREADS:
        raise UsageError(f"--cycles-threads {ns.cycles_threads} is out of range: allowed 0 "
                         f"(automatic) to {MAX_CYCLES_THREADS}")
    if ns.workers is not None and ns.workers > MAX_WORKERS:
        raise UsageError(f"--workers {ns.workers} is out of range: allowed 1 to {MAX_WORKERS} "
                         "(each worker process holds a whole Blender)")
    if not 0 < ns.connect_timeout <= 86400:
        raise UsageError(f"--connect-timeout {ns.connect_timeout:g} is out of range: allowed "
                         "> 0 and <= 86400 seconds (a day)")
    if ns.scheduler is not None and ns.scheduler_file is not None:
        raise UsageError("give --scheduler ADDRESS or --scheduler-file PATH, not both")
    if ns.scheduler_file is not None and not ns.scheduler_file.is_file():
        raise UsageError(f"--scheduler-file {str(ns.scheduler_file)!r} does not exist "
                         "(`dask scheduler --scheduler-file PATH` writes it)")
    if ns.workers is not None and (ns.scheduler or ns.scheduler_file) is not None:
        raise UsageError("--workers sizes the LocalCluster; with --scheduler start as many "
                         "`dask worker`s as you like")
    for flag, folder in (("--out", ns.out), ("--save-blend", ns.save_blend)):
        if folder is not None:
            check_output_folder(folder, flag)
    parser = scurve.make_parser()
    if ns.kind == "sweep":
        ns.jobs = grid_jobs(scene, [parse_sweep(parser, s) for s in ns.sweep])
    elif ns.kind == "turntable":
        ns.jobs = turntable_jobs(scene, ns.turntable)
    elif ns.kind == "animate":
        ns.jobs = animate_jobs(scene, checked)
    else:
        ns.jobs = [Job(1, "still", tuple(scene))]
    check_jobs(ns.jobs, dummy)
    return ns


def check_jobs(jobs: Sequence[Job], dummy: Path) -> None:
    """Every job's scurve.py arguments, checked as a worker will check them, before any
    cluster starts (a swept value out of range stops the farm with one line)."""
    seen: set[tuple[str, ...]] = set()
    for job in jobs:
        if job.argv in seen:
            continue
        seen.add(job.argv)
        try:
            scurve.parse_args([*job.argv, "--out", str(dummy)])
        except UsageError as exc:
            raise UsageError(f"{job.file} ({job.label}): {exc}") from None


def render_all(ns: argparse.Namespace, todo: list[Job], entries: dict[int, dict[str, Any]],
               head: dict[str, Any], progress: Progress) -> list[str]:
    """Submit ``todo``, write each frame as it arrives; returns the failure lines."""
    failures: list[str] = []
    notes: set[str] = set()
    say = stderr_say(PROG)
    with connect(ns, len(todo)) as (client, threads, where):
        print(f"{PROG}: {len(todo)} frames on {where}", file=sys.stderr, flush=True)
        # Only now: an unreachable cluster leaves nothing behind.
        ns.out.mkdir(parents=True, exist_ok=True)
        if ns.save_blend is not None:
            ns.save_blend.mkdir(parents=True, exist_ok=True)
        run = uuid.uuid4().hex[:8]
        keys = {f"scurve-{job.file}-{run}": job for job in todo}
        futures = {submit(client, {"job": job.to_dict(), "cycles_threads": threads,
                                   "save_blend": ns.save_blend is not None}, key): job
                   for key, job in keys.items()}

        def describe(key: str) -> str | None:
            job = keys.get(key)
            return None if job is None else f"{job.file} ({job.label})"

        watch = Watch(client, describe, say)
        for fut, res, exc in watch.arrivals(futures):
            job = futures[fut]
            entry = {**job.to_dict(), "status": "failed"}
            if exc is not None:
                entry["error"] = error_text(exc, watch.names)
            elif not png_bytes_ok(res["png"], ns.size):
                entry["error"] = "the worker returned no whole PNG of the asked size"
            if "error" in entry:
                failures.append(f"{job.file} ({job.label}): {entry['error']}")
                progress.update(job, f"FAILED: {entry['error']}")
            else:
                assert res is not None
                write_atomic(ns.out / job.file, res["png"])
                if res["blend"] is not None:
                    write_atomic(ns.save_blend / blend_name(job), res["blend"])
                    entry["blend"] = str(ns.save_blend / blend_name(job))
                entry.update(status="done", worker=res["worker"], host=res["host"],
                             seconds=round(res["seconds"], 3),
                             cpu_seconds=round(res["cpu_seconds"], 3))
                for line in res["notes"]:
                    if line not in notes:
                        notes.add(line)
                        print(line.replace("scurve.py: ", f"{PROG}: worker: ", 1),
                              file=sys.stderr)
                progress.update(job, f"by {res['worker']} in {res['seconds']:.1f} s")
            fut.release()
            entries[job.index] = entry
            write_manifest(ns.out, head, [entries[i] for i in sorted(entries)])
    return failures


def finish(ns: argparse.Namespace, entries: dict[int, dict[str, Any]]) -> list[Path]:
    """The contact sheet of a sweep, the GIF (and MP4) of a whole turntable/animation."""
    written = []
    rendered = any(e.get("status") == "done" for e in entries.values())
    if ns.kind == "sweep" and rendered:
        contact_sheet(ns.out, ns.jobs, ns.out / "contact_sheet.png")
        written.append(ns.out / "contact_sheet.png")
    frames = [ns.out / j.file for j in ns.jobs]
    whole = all(entries.get(j.index, {}).get("status") == "done" for j in ns.jobs)
    if ns.kind in ("turntable", "animate") and whole:
        name = "turntable" if ns.kind == "turntable" else "animation"
        encode_gif(frames, ns.out / f"{name}.gif", ns.fps)
        written.append(ns.out / f"{name}.gif")
        if ns.video:
            import bpy

            from blender_addon import compat

            scurve._encode_video(bpy, compat, frames, ns.out / f"{name}.mp4", ns.size, ns.fps)
            written.append(ns.out / f"{name}.mp4")
    return written


def run(ns: argparse.Namespace, argv: Sequence[str]) -> int:
    """Render what is not done yet and write the outputs; returns the exit status."""
    if ns.video:
        if importlib.util.find_spec("bpy") is None:
            raise FarmError("--video encodes with Blender's FFmpeg: run the farm with a "
                            "Python that has the bpy module, or drop --video (a GIF is made)")
        from blender_addon import compat

        if not compat.ffmpeg_available():
            raise FarmError("this Blender has no FFmpeg; drop --video (a GIF is made)")
    resume = frames_done(ns.jobs, ns.out, ns.size, ns.force, ns.save_blend)
    entries = {i: {**e, "resumed": True} for i, e in resume.done.items()}
    head = {"format": 1, "command": [PROG, *argv], "kind": ns.kind, "scene": ns.scene,
            "frames": len(ns.jobs)}
    if resume.done:
        print(f"{PROG}: {len(resume.done)} of {len(ns.jobs)} frames already rendered "
              "(--force renders them again)", file=sys.stderr)
    failures: list[str] = []
    if resume.todo:
        progress = Progress(PROG, len(ns.jobs), already=len(resume.done))
        try:
            failures = render_all(ns, resume.todo, entries, head, progress)
        finally:
            progress.close()
    else:
        write_manifest(ns.out, head, [entries[i] for i in sorted(entries)])
    for line in worker_summary(list(entries.values())):
        print(f"{PROG}: {line}", file=sys.stderr)
    for path in finish(ns, entries):
        print(f"{PROG}: wrote {path}", file=sys.stderr)
    if failures:
        print(f"{PROG}: error: {len(failures)} of {len(ns.jobs)} frames failed:",
              file=sys.stderr)
        for line in failures:
            print(f"{PROG}:   {line}", file=sys.stderr)
        return 1
    print(f"{PROG}: {len(ns.jobs)} frames in {ns.out}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when every frame is delivered, 1 when a frame failed, 2 on bad
    arguments or a cluster that cannot be used (one line on stderr), 130/143 after
    Ctrl-C/SIGTERM (one line; frames delivered so far stay, whole, with their manifest;
    the LocalCluster's workers are stopped, a remote cluster's are left running)."""
    args = script_argv(argv)

    def farm(_: object) -> int:
        try:
            return run(parse_args(args), args)
        except FarmError as exc:
            raise UsageError(str(exc)) from None

    return signals.cli_main(PROG, farm)


if __name__ == "__main__":
    signals.main_exit(main())
