"""The farm's cost per frame against ``blender -b FILE.blend -f 1`` on the same saved scenes.

    .venv-bpy45/bin/python bench/bench_farm.py [--frames 6] [--resolution 320 180]
                                               [--samples 16] [--json FILE]

Needs a real Blender binary for the baseline: ``$BLENDER``, else tools/real_blender.sh's.

One run, on this machine:

1. A stock cluster as the README starts it -- ``dask scheduler`` in an empty folder and ONE
   ``dask worker --nthreads 1`` (one worker, so frames are rendered one after another, as
   the baseline renders them; Cycles uses all cores in both) -- and ``farm.py --scheduler
   ... --turntable N --save-blend DIR``. This bench reads the farm's progress lines as they
   come and stamps them: the steady cost of a frame is the time between the first and the
   last frame's arrival over N-1; the start-up is the first arrival minus one steady frame.
   The worker's own seconds per frame (scene build, render, PNG, .blend: the manifest's
   ``seconds``) subtracted from the steady cost leave the client's and scheduler's overhead
   per frame (submitting, assigning, fetching the bytes, writing PNG and manifest).
2. The baseline, the same N scenes as the farm saved them (NNNN.blend), each rendered by
   ``blender -b NNNN.blend -f 1`` in its own process, the way a shell loop, Flamenco or
   Deadline would: Blender's start-up and the file's load are part of its cost. Debian's
   Blender has no OpenImageDenoise, so it renders with the denoiser off
   (``--python-expr``); the same files are also rendered by the farm's own build (the bpy
   module, a fresh process per file, denoiser on as in the farm) so the ratio is also
   shown between equal builds.

This machine is shared (other jobs come and go), so wall times measured one after another
are not comparable; CPU seconds are: each row also gives the CPU time its processes used
(the blender process's, the worker process's per frame from the manifest's
``cpu_seconds``, the client's and the scheduler's for the whole run). The client's and
scheduler's CPU seconds per frame, over the worker's per frame, are the farm's overhead.

Prints a markdown table and writes the numbers to ``bench/results/farm.json`` (or ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import write_result

REPO = Path(__file__).resolve().parents[1]
FARM = REPO / "render_scenes" / "farm.py"
NO_DENOISER = "import bpy; bpy.context.scene.cycles.use_denoising = False"
#: The bpy module's `blender -b FILE -f 1`: open, render frame 1 to a file, exit.
BPY_RENDER = """import sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
s = bpy.context.scene
s.frame_set(1)
s.render.filepath = sys.argv[2]
s.render.use_file_extension = False
bpy.ops.render.render(write_still=True)
"""


def real_blender() -> str:
    if os.environ.get("BLENDER"):
        return os.environ["BLENDER"]
    r = subprocess.run(["bash", str(REPO / "tools" / "real_blender.sh"), "--check"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not r.stdout.strip():
        sys.exit("bench_farm: no Blender binary: set BLENDER=/path/to/blender")
    return r.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def farm_run(tmp: Path, n: int, scene: list[str]) -> dict:
    """The farm on a stock scheduler and one stock worker; arrival times of its frames."""
    dask = str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    (tmp / "scheduler").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], cwd=tmp / "scheduler", env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True),
             subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"],
                              cwd=REPO, env={**env, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        import psutil
        from distributed import Client

        with Client(address, timeout=60) as c:
            c.wait_for_workers(1, timeout=120)
        scheduler = psutil.Process(procs[0].pid)
        sched0 = sum(scheduler.cpu_times()[:2])
        client0 = children_cpu()
        out, blends = tmp / "frames", tmp / "blends"
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, str(FARM), "--scheduler", address, "--out",
                              str(out), "--save-blend", str(blends), "--turntable", str(n),
                              *scene], cwd=tmp, env=env, stderr=subprocess.PIPE, text=True)
        assert p.stderr is not None
        client = psutil.Process(p.pid)
        nanny = psutil.Process(procs[1].pid)
        worker_side = [nanny, *nanny.children(recursive=True)]
        arrivals, lines, cpu, wcpu = [], [], [], []
        for line in p.stderr:
            lines.append(line)
            if re.search(r"\] \d+/\d+ frames", line) and " by " in line:
                arrivals.append(time.perf_counter() - t0)
                # client + scheduler CPU so far: the marginal cost of a frame, start-up apart
                cpu.append(sum(client.cpu_times()[:2]) + sum(scheduler.cpu_times()[:2])
                           - sched0)
                # the worker side: nanny and worker process, Dask's threads and Cycles'
                wcpu.append(sum(sum(q.cpu_times()[:2]) for q in worker_side))
        if p.wait() != 0 or len(arrivals) != n:
            sys.exit("bench_farm: the farm failed:\n" + "".join(lines[-20:]))
        total = time.perf_counter() - t0
        client_cpu = children_cpu() - client0
        scheduler_cpu = sum(scheduler.cpu_times()[:2]) - sched0
        jobs = json.loads((out / "manifest.json").read_text())["jobs"]
        return {"arrivals": arrivals, "total": total, "blends": blends,
                "worker_seconds": [j["seconds"] for j in jobs],
                "worker_cpu": [j["cpu_seconds"] for j in jobs],
                "client_cpu": client_cpu, "scheduler_cpu": scheduler_cpu,
                "overhead_cpu_at_arrivals": cpu, "worker_side_cpu_at_arrivals": wcpu}
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a command."""
    t0, c0 = time.perf_counter(), children_cpu()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        sys.exit(f"bench_farm: {' '.join(cmd)} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return time.perf_counter() - t0, children_cpu() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--resolution", type=int, nargs=2, default=(320, 180))
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="copy frame 2 as the farm, blender -b and the bpy module made it")
    a = ap.parse_args()
    if a.frames < 3:
        sys.exit("bench_farm: --frames must be at least 3")
    blender = real_blender()
    scene = ["--resolution", *map(str, a.resolution), "--samples", str(a.samples)]
    n = a.frames
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as tmp_name:
        tmp = Path(tmp_name)
        farm = farm_run(tmp, n, scene)
        files = sorted(farm["blends"].glob("*.blend"))
        assert len(files) == n, files
        real = [timed([blender, "-b", str(f), "--python-expr", NO_DENOISER, "-o",
                       str(tmp / f"real_{f.stem}_#"), "-f", "1"], tmp) for f in files]
        module = [timed([sys.executable, "-c", BPY_RENDER, str(f), str(tmp / f"bpy_{f.stem}.png")],
                        tmp) for f in files]
        version = subprocess.run([blender, "--version"], capture_output=True,
                                 text=True).stdout.splitlines()[0]
        if a.keep:
            a.keep.mkdir(parents=True, exist_ok=True)
            for src, name in ((tmp / "frames" / "0002.png", "farm"),
                              (tmp / "real_0002_1.png", "blender_b"),
                              (tmp / "bpy_0002.png", "bpy_module")):
                shutil.copy(src, a.keep / f"{name}_0002.png")
    arrivals = farm["arrivals"]
    steady = (arrivals[-1] - arrivals[0]) / (n - 1)
    at = farm["overhead_cpu_at_arrivals"]
    marginal = (at[-1] - at[0]) / (n - 1)  # client + scheduler CPU per further frame
    wat = farm["worker_side_cpu_at_arrivals"]
    worker_side = (wat[-1] - wat[0]) / (n - 1)  # nanny + worker process per further frame
    # The first frame pays bpy's import and Cycles' first kernel set-up: steady frames only.
    worker_wall = statistics.mean(farm["worker_seconds"][1:])
    worker_cpu = statistics.mean(farm["worker_cpu"][1:])
    overhead_cpu = (farm["client_cpu"] + farm["scheduler_cpu"]) / n
    real_wall, real_cpu = (statistics.mean(x) for x in zip(*real, strict=True))
    mod_wall, mod_cpu = (statistics.mean(x) for x in zip(*module, strict=True))
    load = os.getloadavg()[0]
    print(f"{n} frames (a turntable), {a.resolution[0]}x{a.resolution[1]}, {a.samples} "
          f"samples, one worker, {os.cpu_count()} cores; load average {load:.1f} after\n")
    print("| per frame | CPU s | farm CPU / it | wall s |\n|---|---:|---:|---:|")
    rows = [(f"`blender -b NNNN.blend -f 1` ({version}, no denoiser)", real_cpu, real_wall),
            ("the same files, bpy 4.5 module, a process each (denoiser on)", mod_cpu, mod_wall),
            ("farm worker, steady (bpy 4.5, denoiser on)", worker_cpu, steady)]
    for name, c, w in rows:
        print(f"| {name} | {c:.2f} | {worker_cpu / c:.2f}× | {w:.2f} |")
    print(f"| farm worker side (nanny + worker process, all threads), per further frame "
          f"| {worker_side:.3f} | | |")
    print(f"| farm client + scheduler, per further frame | {marginal:.3f} | | |")
    print(f"| farm client + scheduler, whole run / {n} | {overhead_cpu:.3f} | | |")
    print(f"\nclient + scheduler overhead per frame: {100 * marginal / worker_cpu:.2f} % of "
          f"the worker's CPU per frame ({100 * overhead_cpu / worker_cpu:.1f} % with their "
          f"start-up spread over {n} frames: {at[0]:.2f} CPU s until the first frame); wall: "
          f"{steady - worker_wall:.3f} s per frame between arrivals beyond the worker's own "
          f"time; first frame {arrivals[0]:.1f} s after the farm's start (connect, bpy "
          "import, first scene; the cluster already running)")
    write_result("farm", {
            "command": " ".join(["bench/bench_farm.py", *sys.argv[1:]]),
            "frames": n, "resolution": list(a.resolution), "samples": a.samples,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_average_after": round(load, 2), "blender_version": version,
            "blender_b_wall_cpu_seconds": [[round(w, 3), round(c, 3)] for w, c in real],
            "bpy_module_wall_cpu_seconds": [[round(w, 3), round(c, 3)] for w, c in module],
            "farm_arrivals_seconds": [round(x, 3) for x in arrivals],
            "farm_total_seconds": round(farm["total"], 3),
            "farm_worker_seconds": farm["worker_seconds"],
            "farm_worker_cpu_seconds": farm["worker_cpu"],
            "farm_client_cpu_seconds": round(farm["client_cpu"], 3),
            "farm_scheduler_cpu_seconds": round(farm["scheduler_cpu"], 3),
            "farm_steady_wall_seconds_per_frame": round(steady, 3),
            "farm_first_frame_seconds": round(arrivals[0], 3),
            "overhead_cpu_seconds_at_arrivals": [round(x, 3) for x in at],
            "overhead_cpu_seconds_per_further_frame": round(marginal, 4),
            "worker_side_cpu_seconds_at_arrivals": [round(x, 3) for x in wat],
            "worker_side_cpu_seconds_per_further_frame": round(worker_side, 4),
            "farm_total_cpu_per_frame_over_blender_b": round((worker_side + marginal)
                                                             / real_cpu, 3),
            "overhead_fraction_per_further_frame": round(marginal / worker_cpu, 5),
            "overhead_cpu_seconds_per_frame_whole_run": round(overhead_cpu, 4),
            "overhead_fraction_whole_run": round(overhead_cpu / worker_cpu, 5),
            "farm_worker_cpu_over_blender_b": round(worker_cpu / real_cpu, 3),
            "farm_worker_cpu_over_bpy_module": round(worker_cpu / mod_cpu, 3)}, a.json)


if __name__ == "__main__":
    main()
