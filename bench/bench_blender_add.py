"""Add S-Curve Mirror at a million vertices in real Blender, against the usual ways.

    .venv-bpy45/bin/python bench/bench_blender_add.py [--vertices 1000000] [--repeat 5]
                                                       [--no-bmesh] [--no-subdivide]

Part 1 times the whole operator (geometry in numpy + Blender mesh with edges, corner
edges, UVs, smooth shading + object at the cursor) and its two halves, against, in the
same run and on the same arrays: (a) ``Mesh.from_pydata`` (the usual add-on way, which
also makes Blender compute the edges) and (b) ``bmesh``; both also get the UVs and smooth
shading so the results are the same mesh. Ratios are to the operator.

Part 2 compares ``scurve_geom.subdivide.catmull_clark`` with Blender's applied
Subdivision Surface modifier on the same base mesh ("Use Limit Surface" off, same
boundary rule): time and the largest distance between corresponding vertices; then the
limit-surface gap (the modifier with "Use Limit Surface" on vs the level-n refinement).

Times are best of ``--repeat`` runs in seconds (bmesh: one run); distances in metres.
Prints markdown tables and writes the numbers to ``bench/results/blender_add_bpyNN.json``
(NN: the Blender version, e.g. 45).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bpy
from timing import blender_tag, write_result

import blender_addon
from blender_addon import mesh_io
from scurve_geom import MirrorParams, build_grid, build_mesh, preset
from scurve_geom.mesh import Mesh

#: What the run measured, written at the end.
RESULT: dict[str, Any] = {}


def best(fn: Callable[[], Any], repeat: int, cleanup: Callable[[], None] | None = None) -> float:
    """Smallest wall time of ``repeat`` calls, seconds; ``cleanup`` runs untimed after each."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if cleanup:
            cleanup()
    return min(times)


def clear_file() -> None:
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    for mesh in list(bpy.data.meshes):
        bpy.data.meshes.remove(mesh)


def params_for(vertices: int) -> MirrorParams:
    """A welded, unbent grid of about ``vertices`` vertices, as square as the rows allow."""
    side = max(3, round(math.sqrt(vertices)))
    rows = side if side % 2 else side + 1  # circle_vertices = 2 (rows - 1) is even
    k = max(1, round((vertices / rows - 1) / 2))
    # subdivision_levels=0: the Add operator builds this base grid; subdivision is the
    # modifier's, so it does not count toward the mesh written here.
    return MirrorParams(circle_vertices=2 * (rows - 1), length_segments=k, subdivision_levels=0)


def link(mesh: bpy.types.Mesh) -> bpy.types.Object:
    obj = bpy.data.objects.new(mesh.name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def add_uv_and_smooth(me: bpy.types.Mesh, m: Mesh) -> None:
    layer = me.uv_layers.new(name="UVMap")
    layer.uv.foreach_set("vector", m.uv[m.faces.ravel()].astype(np.float32).ravel())
    me.shade_smooth()


def via_from_pydata(params: MirrorParams) -> None:
    m = build_mesh(params)
    me = bpy.data.meshes.new("from_pydata")
    me.from_pydata(m.vertices, [], m.faces)
    add_uv_and_smooth(me, m)
    me.update()
    link(me)


def via_bmesh(params: MirrorParams) -> None:
    import bmesh  # importable only once bpy is loaded

    m = build_mesh(params)
    bm = bmesh.new()
    verts = [bm.verts.new(co) for co in m.vertices.tolist()]
    uv_layer = bm.loops.layers.uv.new("UVMap")
    uv = m.uv.tolist()
    for quad in m.faces.tolist():
        face = bm.faces.new([verts[i] for i in quad])
        face.smooth = True
        for loop, i in zip(face.loops, quad, strict=True):
            loop[uv_layer].uv = uv[i]
    me = bpy.data.meshes.new("bmesh")
    bm.to_mesh(me)
    bm.free()
    link(me)


def part_add(args: argparse.Namespace) -> None:
    params = params_for(args.vertices)
    # Subdivision off: the operator refuses a grid whose default-look subdivision would pass
    # the vertex budget (1M x 64), and this measures writing the grid, not the modifier.
    kw = {"circle_vertices": params.circle_vertices, "length_segments": params.length_segments,
          "subdivision_levels": 0}
    grid = build_mesh(params)
    n = grid.n_vertices
    print(f"\n## Add S-Curve Mirror at {n:,} vertices ({grid.n_faces:,} quads), "
          f"Blender {bpy.app.version_string}\n")

    rows: list[tuple[str, float]] = []
    t_op = best(lambda: bpy.ops.mesh.scurve_mirror_add(**kw), args.repeat, clear_file)
    rows.append(("**Add S-Curve Mirror** (operator: geometry + mesh + UVs + object)", t_op))
    rows.append(("  of which: geometry (`build_mesh`, numpy)",
                 best(lambda: build_mesh(params), args.repeat)))
    rows.append(("  of which: Blender mesh (`mesh_io.new_mesh`, foreach_set)",
                 best(lambda: mesh_io.new_mesh("m", grid), args.repeat, clear_file)))
    rows.append(("(a) `from_pydata` + UVs + smooth (same arrays, geometry included)",
                 best(lambda: via_from_pydata(params), args.repeat, clear_file)))
    if not args.no_bmesh:
        rows.append(("(b) `bmesh` + UVs + smooth (same arrays, geometry included)",
                     best(lambda: via_bmesh(params), 1, clear_file)))

    print("| path | time (s) | × operator |")
    print("| --- | ---: | ---: |")
    for name, t in rows:
        print(f"| {name} | {t:.3f} | {t / t_op:.1f} |")
    keys = ["operator_s", "geometry_s", "mesh_s", "from_pydata_s", "bmesh_s"]
    RESULT["add"] = {"vertices": n, "repeat": args.repeat,
                     **{k: t for k, (_, t) in zip(keys, rows, strict=False)}}


def apply_subsurf(m: Mesh, levels: int, rule: str, limit: bool) -> tuple[np.ndarray, float]:
    """Blender's applied Subdivision Surface: positions float64 (N, 3) and the apply time."""
    obj = link(mesh_io.new_mesh("subsurf", m))
    mod = obj.modifiers.new("subsurf", "SUBSURF")
    mod.levels = mod.render_levels = levels
    mod.boundary_smooth = rule
    mod.use_limit_surface = limit
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    t0 = time.perf_counter()
    bpy.ops.object.modifier_apply(modifier=mod.name)
    elapsed = time.perf_counter() - t0
    co = np.empty(3 * len(obj.data.vertices), dtype=np.float32)
    obj.data.vertices.foreach_get("co", co)
    clear_file()
    return co.reshape(-1, 3).astype(np.float64), elapsed


def max_nearest(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest distance from a vertex of ``ours`` to the nearest of ``theirs``, metres.

    The two subdivisions number their vertices differently; with equal counts and
    distances far below the edge length, nearest neighbours are the corresponding ones.
    """
    from mathutils import kdtree

    tree = kdtree.KDTree(len(theirs))
    for i, p in enumerate(theirs.tolist()):
        tree.insert(p, i)
    tree.balance()
    return max(tree.find(p)[2] for p in ours.tolist())


def part_subdivide(args: argparse.Namespace) -> None:
    try:
        from scurve_geom.subdivide import catmull_clark, limit_positions
    except ImportError:
        print("\n(scurve_geom.subdivide is missing: Catmull-Clark comparison skipped)")
        return
    levels = args.levels
    base = build_grid(preset("kapoor"))
    # Blender stores float32: start both from the same rounded positions.
    base = Mesh(base.vertices.astype(np.float32).astype(np.float64), base.faces, base.uv,
                base.grid)
    print(f"\n## Catmull-Clark: numpy vs Blender's applied modifier, preset kapoor "
          f"({base.n_vertices:,} vertices) at {levels} levels\n")
    print("| boundary rule | vertices out | numpy (s) | Blender apply (s) | "
          "max distance, limit off (m) | limit-surface gap (m) | "
          "Blender limit vs numpy limit (m) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rule in ("ALL", "PRESERVE_CORNERS"):
        t_np = best(lambda rule=rule: catmull_clark(base, levels, rule), args.repeat)
        ours = catmull_clark(base, levels, rule)
        times, theirs = [], None
        for _ in range(args.repeat):
            theirs, t = apply_subsurf(base, levels, rule, limit=False)
            times.append(t)
        assert theirs is not None and len(theirs) == ours.n_vertices
        limit_blender, _ = apply_subsurf(base, levels, rule, limit=True)
        gap = max_nearest(ours.vertices, limit_blender)
        ours_limit = limit_positions(ours, rule)
        distance = max_nearest(ours.vertices, theirs)
        limits = max_nearest(ours_limit, limit_blender)
        print(f"| {rule} | {ours.n_vertices:,} | {t_np:.3f} | {min(times):.3f} | "
              f"{distance:.2e} | {gap:.2e} | {limits:.2e} |")
        RESULT.setdefault("subdivide", {"preset": "kapoor", "levels": levels})[rule] = {
            "vertices": ours.n_vertices, "numpy_s": t_np, "blender_apply_s": min(times),
            "max_distance_m": distance, "limit_gap_m": gap, "limit_vs_numpy_limit_m": limits}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vertices", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--levels", type=int, default=2)
    ap.add_argument("--no-bmesh", action="store_true", help="skip the slow bmesh path")
    ap.add_argument("--no-subdivide", action="store_true")
    args = ap.parse_args()

    bpy.ops.wm.read_factory_settings(use_empty=True)
    blender_addon.register()
    try:
        part_add(args)
        if not args.no_subdivide:
            part_subdivide(args)
    finally:
        clear_file()
        blender_addon.unregister()
    write_result(f"blender_add{blender_tag()}", RESULT)


if __name__ == "__main__":
    main()
