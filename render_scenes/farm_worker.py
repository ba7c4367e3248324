"""What runs on a farm worker: one job in, the PNG's bytes out.

A Dask worker process imports ``bpy`` once (on its first job) and renders many frames.
Every use of ``bpy`` -- the import, the version check, each render -- runs on one thread
this module starts and keeps (``BPY_THREAD``): Blender's module crashes (SIGSEGV in
``bpy.ops``) when it is imported on one thread and driven from another, and Dask calls
``client.run`` functions on the worker's event-loop thread but tasks on its thread pool.
The client calls :func:`render_job` by name through the standard library
(:func:`farm_call`), so a stock ``dask scheduler`` never needs this project's code.
Each job builds its own factory-fresh scene through ``scurve.staged_scene`` from the
job's scurve.py arguments, so a frame does not depend on which worker rendered it or
what it rendered before, and equals ``scurve.py`` run locally with the same arguments
(an animation's frame k: frame k of ``scurve.py --animate``, from the same keyframes).
The add-on is registered only while a job's scene is built and rendered (bpy 4.5 hangs
at exit with a class left registered). Nothing is written outside a private temporary
folder (in the Dask worker's local directory, which Dask cleans up): the client gets the
bytes and writes the files, so no shared file system is needed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

__all__ = ["RENDER_JOB", "STARTED_TOPIC", "WORKER_INFO", "farm_call", "leave_ctrl_c_to_the_nanny",
           "render_job", "worker_info"]

#: The names the client calls (see :func:`farm_call`).
RENDER_JOB = "render_scenes.farm_worker:render_job"
WORKER_INFO = "render_scenes.farm_worker:worker_info"

# The one thread that imports and drives bpy in this process, for its whole life. One
# thread also renders one job at a time: bpy is one global scene per process, whatever
# --nthreads the worker was started with.
_BPY_THREAD = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                    thread_name_prefix="scurve-bpy")
_BPY_IDENT: list[int] = []


def _on_bpy_thread(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` on the bpy thread; its result or its exception."""
    def call() -> Any:
        if not _BPY_IDENT:
            _BPY_IDENT.append(threading.get_ident())
        return fn(*args)

    if _BPY_IDENT and threading.get_ident() == _BPY_IDENT[0]:
        return fn(*args)
    return _BPY_THREAD.submit(call).result()


def farm_call(name: str, payload: dict[str, Any]) -> tuple[Any, ...]:
    """``client.submit(*farm_call(RENDER_JOB, payload))`` calls ``render_job(payload)``
    on a worker. Only ``functools.reduce``, ``operator.call``, ``pkgutil.resolve_name``
    and plain data are pickled: what Dask's scheduler unpickles it can import without this
    project (reduce computes ``call(call(resolve_name, name), payload)``)."""
    import functools
    import operator
    import pkgutil

    return functools.reduce, operator.call, [name, payload], pkgutil.resolve_name


def _name_of(w: Any) -> str:
    return str(w.name if w.name is not None and not isinstance(w.name, int) else w.address)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return _name_of(get_worker())
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def leave_ctrl_c_to_the_nanny() -> None:
    """In a worker process that a nanny started (a LocalCluster's, ``dask worker``'s),
    ignore SIGINT.

    Ctrl-C reaches the terminal's whole process group: the worker process would end on it
    with two tracebacks (its asyncio runner's and multiprocessing's), while its nanny --
    the farm client for a LocalCluster, ``dask worker`` otherwise -- stops it anyway, in
    order, and says so in one line. A worker without a nanny (``dask worker --no-nanny``)
    keeps Ctrl-C. Main thread only (``signal.signal``); elsewhere a no-op.
    """
    import multiprocessing

    if (multiprocessing.parent_process() is not None
            and threading.current_thread() is threading.main_thread()):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_info(dask_worker: Any = None) -> dict[str, Any]:
    """Host, process, cores, Dask name, Blender version and the checkout whose code it
    runs (``code``) of this worker (the client's
    check, through ``client.run``, that a worker can import this module and ``bpy``);
    imports bpy on the bpy thread. ``client.run`` calls it on the worker's main thread,
    where it also leaves Ctrl-C to the nanny (:func:`leave_ctrl_c_to_the_nanny`)."""
    leave_ctrl_c_to_the_nanny()
    def blender() -> str:
        import bpy

        return str(bpy.app.version_string)

    name = _worker_name() if dask_worker is None else _name_of(dask_worker)
    return {"host": socket.gethostname(), "pid": os.getpid(), "cores": os.cpu_count() or 1,
            "blender": _on_bpy_thread(blender), "name": name, "code": str(REPO)}


def render_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Render one job: ``payload`` is ``{"job": Job.to_dict(), "cycles_threads": int,
    "save_blend": bool}``; returns ``{"png": bytes, "blend": bytes|None, "worker": name,
    "host": ..., "seconds": float, "cpu_seconds": float, "notes": [str]}`` (seconds: wall
    time; cpu_seconds: this process's CPU time, all threads; notes: the lines scurve.py printed
    about the scene, e.g. a missing denoiser). Runs on the bpy thread.

    ``cycles_threads`` > 0 fixes Cycles' thread count (0: all of this machine's cores).
    Pixels do not depend on it. With ``save_blend`` the scene is also returned as a
    compressed .blend that renders the frame with ``blender -b FILE -f 1`` (an
    animation's: ``-f K`` with K the job's ``frame``).

    Raises
    ------
    ValueError
        With a one-line message naming the parameter, for arguments scurve.py rejects or a
        scene the stage cannot build (the job fails; other jobs go on).
    """
    name = _worker_name()  # get_worker() answers on Dask's task thread only
    _tell_started()
    result: dict[str, Any] = _on_bpy_thread(_render_job, payload["job"],
                                            int(payload.get("cycles_threads", 0)),
                                            bool(payload.get("save_blend", False)),
                                            _scratch_folder())
    return {**result, "worker": name}


#: The Dask event topic on which a worker says which frame it starts (farm_cluster.Watch).
STARTED_TOPIC = "scurve-farm-started"


def _tell_started() -> None:
    """Tell the client, through the scheduler's event log, that this worker starts this
    task now (Dask's own view, ``processing``, also lists tasks queued on the worker)."""
    try:
        from distributed import get_worker

        w = get_worker()
        w.log_event(STARTED_TOPIC, {"key": str(w.get_current_task()), "worker": w.address,
                                    "pid": os.getpid()})
    except (ImportError, ValueError):
        pass


def _scratch_folder() -> str | None:
    """The Dask worker's own local directory: Dask removes it when the worker closes, and
    a worker that starts later purges those of workers that were killed (a SIGKILL, or a
    nanny's kill after Ctrl-C), so a frame's files never outlive its worker for long.
    None outside a worker (the system's temporary folder then)."""
    try:
        from distributed import get_worker

        return str(get_worker().local_directory)
    except (ImportError, ValueError, AttributeError):
        return None


def _render_job(job: dict[str, Any], cycles_threads: int, save_blend: bool,
                scratch: str | None = None) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    tmp = Path(tempfile.mkdtemp(prefix="scurve-farm-", dir=scratch))
    log = tmp / "stdout.txt"
    try:
        with _stdout_to(log):
            png, blend = _render(job, tmp, cycles_threads, save_blend)
        return {"png": png, "blend": blend, "host": socket.gethostname(),
                "seconds": time.perf_counter() - started,
                # The whole process's CPU (Cycles' threads too): comparable across loads.
                "cpu_seconds": time.process_time() - cpu,
                "notes": [ln for ln in log.read_text(errors="replace").splitlines()
                          if ln.startswith("scurve.py: ")]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    """Send file descriptor 1 to ``path``: Blender prints every render's progress there
    from C, and a worker's terminal (or the client's, for a LocalCluster) is no place
    for it. One bpy thread makes the process-wide switch safe."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    try:
        with open(path, "wb") as f:
            os.dup2(f.fileno(), 1)
        yield
    finally:
        sys.stdout.flush()
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def _render(job: dict[str, Any], tmp: Path, cycles_threads: int,
            save_blend: bool) -> tuple[bytes, bytes | None]:
    import bpy
    from mathutils import Matrix

    from render_scenes import animate, scurve
    from render_scenes.common import UsageError, render_png

    out = tmp / job["file"]
    try:
        # With --animate scurve.py's --out is the frames' folder (never written here).
        args = scurve.parse_args([*job["argv"], "--out", str(out.with_suffix(""))
                                  if job["kind"] == "animate" else str(out)])
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    try:
        # The scene scurve.py builds, keyframes and all for an animation.
        with scurve.staged_scene(args) as (scene, mirror):
            if args.animate:
                animate.apply_frame(scene, mirror, args, job["frame"])
            if cycles_threads > 0:
                scene.render.threads_mode = "FIXED"
                scene.render.threads = cycles_threads
            if job.get("orbit"):
                k, n = job["orbit"]
                scurve.orbit_camera(Matrix, scene, mirror, scene.camera.matrix_world.copy(),
                                    k, n)
            render_png(bpy, scene, out)
            blend = (_blend_bytes(bpy, scene, tmp, out.stem, bool(args.animate))
                     if save_blend else None)
    except scurve.SceneError as exc:
        raise ValueError(str(exc)) from None
    return out.read_bytes(), blend


def _blend_bytes(bpy: Any, scene: Any, tmp: Path, stem: str, animated: bool) -> bytes:
    """The scene as a self-contained .blend with images packed; ``blender -b FILE -f K``
    writes ``STEM_000K.png`` beside the file.

    ``animated``: the scene keeps its frame range and keyframes (the Geometry Nodes mirror
    needs no add-on), saved at the job's frame, so ``-f K`` renders frame K of the
    animation. Otherwise frame 1 is the job's frame: its camera and mesh are baked in and
    Cycles' seed does not follow the frame.
    """
    if not animated:
        scene.frame_start = scene.frame_end = 1
        scene.frame_current = 1
    scene.render.filepath = f"//{stem}_"
    scene.render.use_file_extension = True
    bpy.ops.file.pack_all()
    path = tmp / f"{stem}.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True, compress=True)
    return path.read_bytes()
