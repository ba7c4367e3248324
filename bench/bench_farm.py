"""Frames per minute: the farm (LocalCluster, 1 and 2 workers) against a loop of scurve.py.

    .venv-bpy45/bin/python bench/bench_farm.py [--frames 8] [--resolution 96 54]
                                               [--samples 4] [--json FILE]

The same sweep of ``--frames`` values of ``s_amplitude`` (small frames, where start-up
costs show) rendered three ways, in one run, each timed from the command's start to its
end (cluster start-up included):

* a shell-style loop of ``render_scenes/scurve.py`` invocations, one per frame: each pays
  Python and Blender start-up, the add-on's registration and one scene build; Cycles
  uses all cores (Blender's default);
* ``render_scenes/farm.py --workers 1``: one worker imports bpy once, Cycles on all cores;
* ``render_scenes/farm.py --workers 2``: two workers, one Cycles thread each.

Every farm frame is checked pixel-identical to the loop's frame with the same value.
Prints a markdown table; ratios are frames per minute over the loop's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SCURVE = REPO / "render_scenes" / "scurve.py"
FARM = REPO / "render_scenes" / "farm.py"


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        sys.exit(f"bench_farm: {' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return time.perf_counter() - t0


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--resolution", type=int, nargs=2, default=(96, 54))
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    scene = ["--resolution", *map(str, a.resolution), "--samples", str(a.samples)]
    values = [f"{0.9 * k / (a.frames - 1):.12g}" for k in range(a.frames)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as tmp:
        loop = Path(tmp) / "loop"
        loop.mkdir()
        t0 = time.perf_counter()
        for k, v in enumerate(values, start=1):
            timed([sys.executable, str(SCURVE), "--out", str(loop / f"{k:04d}.png"), *scene,
                   "--s-amplitude", v])
        rows.append(("loop of `scurve.py` invocations", time.perf_counter() - t0))
        for workers in (1, 2):
            out = Path(tmp) / f"farm{workers}"
            seconds = timed([sys.executable, str(FARM), "--out", str(out), *scene,
                             "--sweep", f"s_amplitude=0:0.9:{a.frames}",
                             "--workers", str(workers)])
            for k in range(1, a.frames + 1):
                if not np.array_equal(pixels(out / f"{k:04d}.png"),
                                      pixels(loop / f"{k:04d}.png")):
                    sys.exit(f"bench_farm: farm frame {k} differs from scurve.py's")
            rows.append((f"`farm.py --workers {workers}`", seconds))
    base = a.frames / rows[0][1] * 60
    print(f"{a.frames} frames, {a.resolution[0]}x{a.resolution[1]}, {a.samples} samples\n")
    print("| how | seconds | frames/min | ratio |\n|---|---:|---:|---:|")
    for name, s in rows:
        fpm = a.frames / s * 60
        print(f"| {name} | {s:.1f} | {fpm:.1f} | {fpm / base:.2f}× |")
    if a.json:
        a.json.write_text(json.dumps({"frames": a.frames, "resolution": list(a.resolution),
                                      "samples": a.samples,
                                      "seconds": {n: s for n, s in rows}}, indent=1))


if __name__ == "__main__":
    main()
