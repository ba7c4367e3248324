"""Sun Hot Spots inside Blender: the operator at its defaults, per ray engine.

Run in Blender's Python, as the bpy module or in the binary::

    .venv-bpy45/bin/python bench/bench_hotspots_operator.py [--repeats 3]
    blender -b --factory-startup --python bench/bench_hotspots_operator.py -- [--repeats 3]

Adds the default mirror and the mirror stage (its sun: 40° up), then times
``scene.scurve_sun_hot_spots`` with its defaults (100 000 rays, 10 cm cells), whole
operator call, best of ``--repeats``: once with the engine this Blender has (Embree when
``embreex`` imports) and once on ``mathutils.bvhtree`` (``embreex`` hidden), the extension's
engine in a stock Blender. Also the whole pipeline's rays/s on each engine, from the same
calls (``scurve_geom.optics.hot_spot_map`` alone, no overlay), and the time to build each
engine's acceleration structure for the traced triangles. Writes the numbers to
``bench/results/hotspots_operator_bpyNN.json`` (NN: this Blender's version, e.g. 45).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bpy  # noqa: E402
from timing import blender_tag, write_result  # noqa: E402


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    if "--" in sys.argv:
        argv = sys.argv[sys.argv.index("--") + 1:]
    else:  # the bpy module takes the script's own arguments; the binary has none then
        argv = sys.argv[1:] if sys.argv[0].endswith(".py") else []
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import blender_addon
    from blender_addon import hotspots, mirror_object
    from scurve_geom.optics import hot_spot_map, mirror_from_params

    bpy.ops.wm.read_factory_settings(use_empty=True)
    blender_addon.register()
    try:
        assert bpy.ops.mesh.scurve_mirror_add() == {"FINISHED"}
        mirror = bpy.context.active_object
        assert bpy.ops.scene.scurve_stage() == {"FINISHED"}
        bpy.context.view_layer.objects.active = mirror
        # The shape the operator traces: the mirror's parameters as the viewport shows them.
        model = mirror_from_params(mirror_object.object_params(mirror))
        sun = hotspots.stage_sun(bpy.context.scene, mirror)
        op = bpy.ops.scene.scurve_sun_hot_spots
        rays = op.get_rna_type().properties["rays"].default
        rows = []
        engines = ["as installed", "mathutils.bvhtree"]
        for engine in engines:
            if engine == "mathutils.bvhtree":
                sys.modules["embreex"] = None  # type: ignore[assignment]  (import fails)
            _, name = hotspots.make_engine(model.vertices, model.triangles)
            if any(row[0] == name for row in rows):
                continue  # no embreex in this Blender: the first row was the BVH already
            t_op = best(lambda: op(), args.repeats)
            t_build = best(lambda: hotspots.make_engine(model.vertices, model.triangles),
                           args.repeats)
            tracer, _ = hotspots.make_engine(model.vertices, model.triangles)
            t_map = best(lambda t=tracer: hot_spot_map(model, sun, rays=rays, engine=t),
                         args.repeats)
            rows.append((name, t_op, rays / t_map, t_build))
    finally:
        blender_addon.unregister()

    print(f"Blender {bpy.app.version_string}, default mirror, sun "
          f"{sun.elevation_deg:.0f}° up, {rays:,} rays (the operator's default); "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| engine | operator, s | whole pipeline, rays/s | engine build, s |\n"
          "|---|---:|---:|---:|")
    for name, t_op, rate, t_build in rows:
        print(f"| {name} | {t_op:.2f} | {rate:,.0f} | {t_build:.2f} |")
    write_result(f"hotspots_operator{blender_tag()}", {
        "rays": rays, "triangles": int(model.triangles.shape[0]), "repeats": args.repeats,
        "sun_elevation_deg": sun.elevation_deg,
        "engines": {name: {"operator_s": t_op, "pipeline_rays_per_s": rate,
                           "engine_build_s": t_build}
                    for name, t_op, rate, t_build in rows},
    })
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
