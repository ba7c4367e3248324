"""Procedural (Geometry Nodes) against mesh mode at about a million vertices.

One Blender process, same parameters (circle_vertices 1024 → 513 rows, length_segments
976 → 1953 columns: 1,001,889 vertices, no subdivision), each step timed ``--repeat``
times with a parameter change in between so nothing is cached:

* ``mesh``: what Edit S-Curve does in mesh mode — ``scurve_geom.build_mesh`` plus
  ``foreach_set`` into the mesh — then the depsgraph update;
* ``procedural``: what it does in procedural mode — write the modifier's inputs — then
  the depsgraph update, which evaluates the node group (Blender's own threads);
* ``procedural, read back``: the same plus ``to_mesh`` of the evaluated object, which
  is what a render or an export pays once more.

    timeout 900 .venv-bpy45/bin/python bench/bench_procedural.py

Writes the numbers to ``bench/results/procedural_bpyNN.json`` (NN: the Blender version).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from timing import blender_tag, write_result  # noqa: E402

PARAMS = dict(circle_vertices=1024, length_segments=976, subdivision_levels=0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()

    import bpy

    import blender_addon
    from blender_addon import mirror_nodes, mirror_object
    from scurve_geom import MirrorParams

    bpy.ops.wm.read_factory_settings(use_empty=True)
    blender_addon.register()
    try:
        base = MirrorParams(**PARAMS)
        print(f"Blender {bpy.app.version_string}, {base.vertex_count():,} vertices")
        bpy.ops.mesh.scurve_mirror_add(**base.to_dict())
        mesh_obj = bpy.context.active_object
        bpy.ops.mesh.scurve_mirror_add(procedural=True, **base.to_dict())
        proc_obj = bpy.context.active_object
        depsgraph = bpy.context.evaluated_depsgraph_get()
        depsgraph.update()

        def run(obj: object, k: int, read_back: bool) -> float:
            params = base.replace(s_amplitude=0.1 * (k % 5), radius=1.0 + 0.01 * k)
            t0 = time.perf_counter()
            mirror_object.set_geometry(obj, params)
            depsgraph.update()
            if read_back:
                ev = obj.evaluated_get(depsgraph)  # type: ignore[attr-defined]
                mesh = ev.to_mesh()
                assert len(mesh.vertices) == base.vertex_count()
                ev.to_mesh_clear()
            return time.perf_counter() - t0

        results = {}
        for name, obj, read_back in (("mesh", mesh_obj, False),
                                     ("procedural", proc_obj, False),
                                     ("procedural, read back", proc_obj, True)):
            times = [run(obj, k, read_back) for k in range(1, a.repeat + 1)]
            results[name] = times
        floor = min(results["mesh"])
        for name, times in results.items():
            print(f"{name:>22}: best {min(times):.3f} s, median {statistics.median(times):.3f} s"
                  f" ({min(times) / floor:.2f}x mesh)")
        assert mirror_nodes.find_node_group() is not None
        write_result(f"procedural{blender_tag()}", {
            "vertices": base.vertex_count(), "repeat": a.repeat,
            "modes": {name: {"best_s": min(times), "median_s": statistics.median(times),
                             "best_over_mesh": min(times) / floor}
                      for name, times in results.items()}})
    finally:
        blender_addon.unregister()
    return 0


if __name__ == "__main__":
    sys.exit(main())
