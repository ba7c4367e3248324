"""Render quality per second: PSNR against a 1024-sample reference versus render time.

The default scene of ``render_scenes/scurve.py`` (smooth preset, front camera, props),
rendered with

* ``ours``: the stage's Cycles settings (``blender_addon.stage.configure_cycles``:
  adaptive sampling at threshold 0.02, OpenImageDenoise, 16 glossy bounces, caustics
  with Filter Glossy 1 and an indirect clamp of 10) and its 512-pixel sky importance map;
* ``factory``: Blender's factory Cycles settings (every ``scene.cycles`` and
  ``world.cycles`` property reset to its default: adaptive threshold 0.01, OIDN,
  4 glossy bounces, automatic sky map), same scene otherwise;

at 1, 2, 4, … samples. The reference is 1024 samples with adaptive sampling off and
the stage's light paths (the multiple reflections in the concave half need them),
denoised. PSNR is over the 8-bit display image (peak 1). Time is the wall-clock time of
``bpy.ops.render.render`` (scene sync, BVH, sampling, denoising); CPU time of the process
is recorded too because the machine is shared.

    # in the bpy environment; writes JSON, then the plot with matplotlib where present
    timeout 7200 .venv-bpy45/bin/python bench/bench_render_quality.py \\
        --resolution 640 360 --json bench/results/render_quality.json
    .venv/bin/python bench/bench_render_quality.py --plot bench/results/render_quality.json \\
        --png docs/img/bench_render_quality.png
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from timing import write_result  # noqa: E402

SAMPLES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
REFERENCE_SAMPLES = 1024
TARGET_DB = 35.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images with values in 0..1."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def time_to(points: list[dict[str, float]], target: float, key: str = "seconds") -> float | None:
    """Render time (``key``) at which PSNR first reaches ``target``.

    Points are taken in sample order (the work done), not time order: on a shared
    machine a larger sample count can finish sooner than a smaller one. Between the
    bracketing sample counts the time is interpolated linearly in PSNR.
    """
    pts = sorted(points, key=lambda p: p["samples"])
    if pts and pts[0]["psnr"] >= target:
        return pts[0][key]
    for lo, hi in itertools.pairwise(pts):
        if lo["psnr"] < target <= hi["psnr"]:
            f = (target - lo["psnr"]) / (hi["psnr"] - lo["psnr"])
            return lo[key] + f * (hi[key] - lo[key])
    return None


def _render(bpy: Any, scene: Any, folder: Path, name: str) -> tuple[np.ndarray, float, float]:
    path = folder / f"{name}.png"
    scene.render.filepath = str(path)
    scene.render.use_file_extension = False
    wall, cpu = time.perf_counter(), time.process_time()
    bpy.ops.render.render(write_still=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    img = bpy.data.images.load(str(path))
    try:
        px = np.empty(len(img.pixels), dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    w, h = scene.render.resolution_x, scene.render.resolution_y
    return px.reshape(h, w, 4)[..., :3], wall, cpu


def _factory(scene: Any) -> None:
    for owner in (scene.cycles, scene.world.cycles):
        for prop in owner.bl_rna.properties:
            if not prop.is_readonly and prop.identifier != "rna_type":
                owner.property_unset(prop.identifier)


def measure(resolution: tuple[int, int], keep: Path | None) -> dict[str, Any]:
    import bpy

    from blender_addon import stage
    from render_scenes import scurve

    folder = keep or Path(tempfile.mkdtemp(prefix="scurve-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    args = scurve.parse_args(["--resolution", *map(str, resolution),
                              "--out", str(folder / "unused.png")])
    result: dict[str, Any] = {"resolution": list(resolution), "reference_samples":
                              REFERENCE_SAMPLES, "blender": bpy.app.version_string,
                              "curves": {}}
    with scurve.staged_scene(args) as (scene, _mirror):
        c = scene.cycles
        c.samples, c.use_adaptive_sampling = REFERENCE_SAMPLES, False
        ref, wall, cpu = _render(bpy, scene, folder, "reference")
        print(f"reference: {wall:.1f} s", file=sys.stderr, flush=True)
        result["reference_seconds"] = wall
        for config in ("ours", "factory"):
            stage.configure_cycles(scene)
            scene.world.cycles.sampling_method = "MANUAL"
            scene.world.cycles.sample_map_resolution = 512
            if config == "factory":
                _factory(scene)
            c.device = "CPU"
            points = []
            for spp in SAMPLES:
                c.samples = spp
                img, wall, cpu = _render(bpy, scene, folder, f"{config}_{spp:04d}")
                points.append({"samples": spp, "seconds": wall, "cpu_seconds": cpu,
                               "psnr": psnr(img, ref)})
                print(f"{config:8s} {spp:5d} spp {wall:7.2f} s {points[-1]['psnr']:6.2f} dB",
                      file=sys.stderr, flush=True)
            result["curves"][config] = points
    for config, points in result["curves"].items():
        for key in ("seconds", "cpu_seconds"):
            result[f"{config}_{key}_to_{TARGET_DB:g}dB"] = time_to(points, TARGET_DB, key)
    return result


def plot(result: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), dpi=100, sharey=True)
    panels = (("seconds", "wall-clock render time, s"), ("cpu_seconds", "CPU time, s"))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for config, points in result["curves"].items():
            pts = sorted(points, key=lambda p: p["samples"])
            line, = ax.plot([p[key] for p in pts], [p["psnr"] for p in pts], "o-", label=config)
            for p in pts:
                ax.annotate(str(p["samples"]), (p[key], p["psnr"]), fontsize=7,
                            textcoords="offset points", xytext=(3, -9))
            hit = time_to(pts, TARGET_DB, key)
            if hit is not None:
                ax.axvline(hit, ls=":", color=line.get_color())
        ax.axhline(TARGET_DB, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"PSNR vs {result['reference_samples']}-sample reference, dB")
    axes[0].legend()
    w, h = result["resolution"]
    fig.suptitle(f"S-curve default scene {w}x{h}, Blender {result['blender']}, 2 shared CPU "
                 f"cores; labels: samples; dotted: time to {TARGET_DB:g} dB", fontsize=9)
    fig.tight_layout()
    fig.savefig(png)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resolution", type=int, nargs=2, default=(640, 360), metavar=("W", "H"))
    ap.add_argument("--json", type=Path, default=Path("bench/results/render_quality.json"))
    ap.add_argument("--keep", type=Path, default=None, help="keep the renders in this folder")
    ap.add_argument("--plot", type=Path, default=None, metavar="JSON",
                    help="only draw the plot from an earlier run's JSON")
    ap.add_argument("--png", type=Path, default=Path("docs/img/bench_render_quality.png"))
    a = ap.parse_args()
    if a.plot is not None:
        result = json.loads(a.plot.read_text())
    else:
        result = measure(tuple(a.resolution), a.keep)
        write_result("render_quality", result, a.json)
    for config, points in result["curves"].items():
        shown = []
        for key in ("seconds", "cpu_seconds"):
            t = time_to(points, TARGET_DB, key)
            shown.append("not reached" if t is None else f"{t:.1f} s")
        best = max(points, key=lambda p: p["psnr"])
        print(f"{config}: time to {TARGET_DB:g} dB: {shown[0]} wall, {shown[1]} CPU; "
              f"best {best['psnr']:.1f} dB at {best['samples']} samples")
    try:
        plot(result, a.png)
        print(f"wrote {a.png}", file=sys.stderr)
    except ImportError:
        print("matplotlib missing here: plot with --plot JSON in .venv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
