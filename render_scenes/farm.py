"""Render many frames of the S-curve mirror on a Dask cluster: sweeps, turntables, animations.

    python render_scenes/farm.py --out out/sweep --sweep s_amplitude=0:0.9:7 --samples 16
    python render_scenes/farm.py --out out/orbit --turntable 48 --video
    python render_scenes/farm.py --out out/grow --animate s_amplitude=0:0.9 --frames 48
    python render_scenes/farm.py --scheduler tcp://HOST:8786 --out out/sweep --sweep ...

Takes every scene flag of ``render_scenes/scurve.py`` (preset, geometry, resolution,
samples, camera, sun, face planes...) and renders a list of jobs as Dask tasks, each
frame on one worker: by default a ``LocalCluster`` of worker processes on this machine
(workers × Cycles threads = cores), or with ``--scheduler`` a cluster started with the stock
``dask scheduler`` / ``dask worker`` commands in the project's bpy environment. A task
returns the PNG's bytes and this process writes ``DIR/NNNN.png`` (temporary name, then
rename), ``DIR/manifest.json`` after every frame, a labelled ``contact_sheet.png`` for a
sweep and a GIF (``--video``: also an MP4) for a turntable or an animation.

Frames already on disk, whole and made by the same job (the manifest's key) are skipped;
``--force`` renders them again. A frame that fails (a swept value out of range, say) is
reported by name and the others are still delivered; the exit status is then 1. Bad
arguments and an unreachable scheduler exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from render_scenes import farm_worker, scurve  # noqa: E402
from render_scenes.common import Parser, UsageError, script_argv, writable_folder  # noqa: E402
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

PROG = "farm.py"
DEFAULT_OUT = Path("out/farm")
#: Largest LocalCluster chosen without --workers: each worker holds a whole Blender.
MAX_DEFAULT_WORKERS = 4


class FarmError(Exception):
    """The cluster cannot be used (unreachable, no workers, no bpy): one line, exit 2."""


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
    if ns.cycles_threads < 0:
        raise UsageError(f"--cycles-threads {ns.cycles_threads} must be 0 (automatic) or more")
    if not ns.connect_timeout > 0:
        raise UsageError(f"--connect-timeout {ns.connect_timeout} must be > 0 seconds")
    if ns.workers is not None and ns.scheduler is not None:
        raise UsageError("--workers sizes the LocalCluster; with --scheduler start as many "
                         "`dask worker`s as you like")
    for flag, folder in (("--out", ns.out), ("--save-blend", ns.save_blend)):
        if folder is None:
            continue
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"cannot write to {flag} {str(folder)!r}: it is a file")
        writable_folder(folder if folder.is_dir() else folder.parent, f"{flag} {str(folder)!r}")
    parser = scurve.make_parser()
    if ns.kind == "sweep":
        ns.jobs = grid_jobs(scene, [parse_sweep(parser, s) for s in ns.sweep])
    elif ns.kind == "turntable":
        ns.jobs = turntable_jobs(scene, ns.turntable)
    elif ns.kind == "animate":
        ns.jobs = animate_jobs(scene, checked)
    else:
        ns.jobs = [Job(1, "still", tuple(scene))]
    return ns


# -- the cluster -------------------------------------------------------------------------


@contextlib.contextmanager
def connect(ns: argparse.Namespace, n_jobs: int) -> Iterator[tuple[Any, int, str]]:
    """A Dask client; yields ``(client, cycles_threads, description)``.

    Raises
    ------
    FarmError
        When the scheduler cannot be reached or no worker joins in time.
    """
    if importlib.util.find_spec("distributed") is None:
        raise FarmError("needs Dask: pip install dask distributed (requirements/bpy45.txt)")
    # Dask logs retries and worker losses at length; the farm reports what matters itself.
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    from distributed import Client, LocalCluster

    cores = os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        if ns.scheduler is None:
            if importlib.util.find_spec("bpy") is None:
                raise FarmError("needs Blender: run it with a Python that has the bpy module "
                                "(.venv-bpy45), or use --scheduler")
            workers = ns.workers or max(1, min(n_jobs, cores, MAX_DEFAULT_WORKERS))
            threads = ns.cycles_threads or max(1, cores // workers)
            # One thread per worker: bpy holds one scene per process.
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL))
            client = stack.enter_context(Client(cluster))
            where = f"a LocalCluster ({threads} Cycles threads per worker)"
        else:
            try:
                client = stack.enter_context(Client(ns.scheduler, timeout=ns.connect_timeout))
            except (OSError, TimeoutError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise FarmError(f"cannot reach the scheduler at {ns.scheduler}: {first}") from None
            try:
                client.wait_for_workers(1, timeout=ns.connect_timeout)
            except TimeoutError:
                raise FarmError(f"no worker joined the scheduler at {ns.scheduler} within "
                                f"{ns.connect_timeout:g} s") from None
            threads = ns.cycles_threads
            where = f"the scheduler at {ns.scheduler}"
        try:
            info = client.run(farm_worker.worker_info)
        except Exception as exc:  # an import error on a worker, whatever its type
            raise FarmError(f"a worker cannot run the farm's code ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}): start workers "
                            "in a bpy environment with PYTHONPATH set to this checkout") from None
        blender = sorted({i["blender"] for i in info.values()})
        yield client, threads, f"{len(info)} workers of {where}, Blender {', '.join(blender)}"


def _arrivals(client: Any, futures: Iterable[Any], patience: float) -> Iterator[Any]:
    """The futures as they finish. Dask keeps tasks while no worker is connected (they
    run when one joins); say so once per outage instead of waiting silently."""
    from distributed import wait

    pending, alone = set(futures), False
    while pending:
        try:
            done, pending = wait(pending, timeout=patience, return_when="FIRST_COMPLETED")
        except TimeoutError:
            workers = client.scheduler_info().get("workers") or {}
            if not workers and not alone:
                print(f"{PROG}: no worker is connected; waiting for one (frames done so far "
                      "are kept; Ctrl-C stops)", file=sys.stderr, flush=True)
            alone = not workers
            continue
        alone = False
        yield from done


def _error_text(exc: BaseException) -> str:
    """One line: a worker's ValueError is already a sentence naming the parameter; other
    failures (a Blender error, KilledWorker after repeated worker deaths) keep their type."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def render_all(ns: argparse.Namespace, todo: list[Job], entries: dict[int, dict[str, Any]],
               head: dict[str, Any], progress: Progress) -> list[str]:
    """Submit ``todo``, write each frame as it arrives; returns the failure lines."""
    failures: list[str] = []
    notes: set[str] = set()
    with connect(ns, len(todo)) as (client, threads, where):
        print(f"{PROG}: {len(todo)} frames on {where}", file=sys.stderr, flush=True)
        # Only now: an unreachable cluster leaves nothing behind.
        ns.out.mkdir(exist_ok=True)
        if ns.save_blend is not None:
            ns.save_blend.mkdir(exist_ok=True)
        run = uuid.uuid4().hex[:8]
        futures = {client.submit(farm_worker.render_job, job.to_dict(), threads,
                                 ns.save_blend is not None, key=f"scurve-{job.file}-{run}",
                                 pure=False): job for job in todo}
        for fut in _arrivals(client, futures, max(5.0, ns.connect_timeout)):
            job = futures[fut]
            entry = {**job.to_dict(), "status": "failed"}
            res = fut.result() if fut.status != "error" else None
            if res is None:
                entry["error"] = _error_text(fut.exception())
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
                             seconds=round(res["seconds"], 3))
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
    if ns.kind == "sweep":
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
    arguments or a cluster that cannot be used (one line on stderr)."""
    args = script_argv(argv)
    try:
        ns = parse_args(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        return run(ns, args)
    except FarmError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
