"""Sun hot spots: the whole tracing pipeline against trimesh + Embree's first hit.

Run: ``python bench/bench_optics.py [--rays N] [--json out.json]``.

Baseline, measured in the same run on the same triangles and the same sun rays:
``trimesh.Trimesh.ray.intersects_first`` (trimesh's Embree backend through embreex),
first hits only. Ours: :func:`scurve_geom.optics.map_for_params`' whole pipeline (sun
disc sampling, first hit, reflection about exact normals, every further hit, ground
deposit). Also shown: embreex's bare first-hit query, the floor under both. Each time is
the best of ``--repeats`` runs. Last, the rays and time a kapoor map needs for < 2 %
noise at its peak.

If ``bpy`` imports (``.venv-bpy45/bin/python``), the add-on's Blender engine
(``mathutils.bvhtree``) is measured too, on fewer rays.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import best_of, blender_tag, write_result

from scurve_geom import preset
from scurve_geom.optics import EmbreeEngine, Sun, hot_spot_map, mirror_from_params
from scurve_geom.optics.trace import Beam


def sun_rays(model, sun: Sun, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The pipeline's own first rays (same beam rectangle, same disc sampling)."""
    rng = np.random.default_rng(seed)
    return Beam(model, sun).sample(rng, n), -sun.sample_directions(rng, n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rays", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--elevation", type=float, default=40.0)
    ap.add_argument("--azimuth", type=float, default=200.0)
    ap.add_argument("--json", type=Path, help="default: bench/results/optics.json, "
                    "optics_bpy45.json in Blender 4.5's Python")
    ap.add_argument("--no-noise-run", action="store_true",
                    help="skip the map traced to < 2 %% noise")
    args = ap.parse_args()

    params = preset("kapoor")
    model = mirror_from_params(params)
    sun = Sun(args.elevation, args.azimuth)
    n = args.rays
    origins, dirs = sun_rays(model, sun, n)
    engine = EmbreeEngine(model.vertices, model.triangles)
    engine.intersect(origins[:1000], dirs[:1000])  # first call commits the scene: untimed
    base_name = "trimesh + Embree, first hit (baseline)"
    try:
        import trimesh
    except ImportError:  # Blender's Python: the bare Embree query is the baseline
        base_name = "embreex bare first hit, no trimesh here (baseline)"
        t_trimesh = best_of(lambda: engine.intersect(origins, dirs), args.repeats)
    else:
        tm = trimesh.Trimesh(model.vertices, model.triangles, process=False)
        assert tm.ray.__class__.__module__.endswith("ray_pyembree"), "trimesh has no Embree"
        tm.ray.intersects_first(origins[:1000], dirs[:1000])  # builds its scene
        t_trimesh = best_of(lambda: tm.ray.intersects_first(origins, dirs), args.repeats)
    t_embree = best_of(lambda: engine.intersect(origins, dirs), args.repeats)
    t_ours = best_of(lambda: hot_spot_map(model, sun, rays=n, engine=engine), args.repeats)
    result = {
        "preset": "kapoor", "triangles": int(model.triangles.shape[0]), "rays": n,
        "sun": [args.elevation, args.azimuth], "baseline": base_name,
        "trimesh_embree_first_hit_rays_per_s": n / t_trimesh,
        "embreex_first_hit_rays_per_s": n / t_embree,
        "pipeline_rays_per_s": n / t_ours,
        "pipeline_over_trimesh": t_trimesh / t_ours,
    }

    # Rays for < 2 % noise at the peak: noise ~ 1/sqrt(rays), so scale from a probe.
    full = None
    if not args.no_noise_run:
        probe = hot_spot_map(model, sun, rays=n, engine=engine)
        need = int(np.ceil(n * (probe.peak_noise / 0.019) ** 2))
        t0 = time.perf_counter()
        full = hot_spot_map(model, sun, rays=need, engine=engine)
        result.update(rays_for_2pct=need, seconds_for_2pct=time.perf_counter() - t0,
                      peak_noise=full.peak_noise, peak_concentration=full.peak_concentration)

    try:
        import bpy  # noqa: F401
    except ImportError:
        pass
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from blender_addon.hotspots import BVHEngine

        bvh = BVHEngine(model.vertices, model.triangles)
        m = min(n, 200_000)
        t_bvh = best_of(lambda: bvh.intersect(origins[:m], dirs[:m]), 1)
        t_bvh_map = best_of(lambda: hot_spot_map(model, sun, rays=m, engine=bvh), 1)
        result.update(blender_bvh_first_hit_rays_per_s=m / t_bvh,
                      blender_bvh_pipeline_rays_per_s=m / t_bvh_map)

    print(f"kapoor, {result['triangles']:,} triangles, {n:,} rays, sun {args.elevation:g}° "
          f"up at azimuth {args.azimuth:g}°\n")
    print("| what | rays/s | ratio to trimesh-Embree first hit |\n|---|---:|---:|")
    base = result["trimesh_embree_first_hit_rays_per_s"]
    rows = [(base_name, base),
            ("embreex bare first hit", result["embreex_first_hit_rays_per_s"]),
            ("whole pipeline (disc, hits, reflections, ground)", result["pipeline_rays_per_s"])]
    if "blender_bvh_pipeline_rays_per_s" in result:
        rows += [("mathutils.bvhtree first hit (Blender)",
                  result["blender_bvh_first_hit_rays_per_s"]),
                 ("whole pipeline on mathutils.bvhtree", result["blender_bvh_pipeline_rays_per_s"])]
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f} |")
    if full is not None:
        print(f"\n< 2 % noise at the peak: {result['rays_for_2pct']:,} rays in "
              f"{result['seconds_for_2pct']:.1f} s (peak {full.peak_concentration:.2f}× DNI, "
              f"noise {100 * full.peak_noise:.2f} %)")
    write_result(f"optics{blender_tag()}", result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
