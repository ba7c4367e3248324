"""Benchmark Catmull-Clark subdivision and the exporters; report the limit-surface gap.

Run: ``python bench/bench_subdivide.py`` (add ``--quick`` to skip the largest cases).
Prints markdown tables and writes the numbers to ``bench/results/subdivide.json``
(``subdivide_bpy45.json`` in Blender 4.5's Python; ``--json`` elsewhere). Every time is
the best of a few runs; every speed claim is a ratio to a baseline measured in the same
run: a plain copy of arrays as large as the output (positions, UVs and faces), the
memory-bandwidth floor for producing them.

If ``bpy`` imports (e.g. ``.venv-bpy45/bin/python``), Blender's own limit surface
("Use Limit Surface" on) is also compared with its level-n refinement.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import best_of, blender_tag, write_result

from scurve_geom import build_grid, preset
from scurve_geom.export import FORMATS, export
from scurve_geom.mesh import Mesh
from scurve_geom.subdivide import catmull_clark, limit_positions

#: What the run measured, written at the end.
RESULT: dict[str, dict] = {"levels": {}, "limit_gap_mm": {}, "blender": {}, "export": {}}


def copy_floor(mesh: Mesh, repeats: int) -> float:
    """Seconds to copy arrays the size of ``mesh``'s positions, UVs and faces."""
    src = [mesh.vertices, mesh.uv, mesh.faces]
    dst = [np.empty_like(a) for a in src]

    def run() -> None:
        for s, d in zip(src, dst, strict=True):
            np.copyto(d, s)

    return best_of(run, repeats)


def bench_levels(name: str, base: Mesh, top: int) -> None:
    print(f"\n### Catmull-Clark on `{name}` ({base.n_vertices} vertices, {base.n_faces} quads)\n")
    print("| level | vertices | total time | this level | copy floor | ratio | vertices/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    previous = 0.0
    rows = RESULT["levels"][name] = {}
    for level in range(1, top + 1):
        repeats = 5 if level < top else 3
        out = catmull_clark(base, level)
        total = best_of(lambda lv=level: catmull_clark(base, lv), repeats)
        floor = copy_floor(out, repeats)
        print(
            f"| {level} | {out.n_vertices:,} | {total * 1e3:.1f} ms | "
            f"{(total - previous) * 1e3:.1f} ms | {floor * 1e3:.2f} ms | "
            f"{total / floor:.0f}× | {out.n_vertices / total / 1e6:.2f} M |"
        )
        rows[str(level)] = {"vertices": out.n_vertices, "total_ms": total * 1e3,
                            "copy_floor_ms": floor * 1e3, "over_copy": total / floor,
                            "vertices_per_s_m": out.n_vertices / total / 1e6}
        previous = total


def bench_limit_gap(top: int) -> None:
    print("\n### Limit surface vs level-n refinement (seed mesh, exact limit masks)\n")
    print("| level | gap, ALL (mm) | gap, PRESERVE_CORNERS (mm) |")
    print("|---:|---:|---:|")
    base = build_grid(preset("blog-part2"))
    for level in range(1, top + 1):
        gaps = []
        for rule in ("ALL", "PRESERVE_CORNERS"):
            out = catmull_clark(base, level, rule)
            d = np.linalg.norm(limit_positions(out, rule) - out.vertices, axis=1)
            gaps.append(d.max() * 1e3)
        print(f"| {level} | {gaps[0]:.4g} | {gaps[1]:.4g} |")
        RESULT["limit_gap_mm"][str(level)] = {"ALL": gaps[0], "PRESERVE_CORNERS": gaps[1]}


def bench_blender_limit(top: int) -> None:
    try:
        import bpy
    except ImportError:
        print("\n(bpy not importable: Blender limit-surface comparison skipped)")
        return
    bpy.ops.wm.read_factory_settings(use_empty=True)
    grid = build_grid(preset("blog-part2"))
    base = Mesh(grid.vertices.astype(np.float32).astype(np.float64), grid.faces, grid.uv)

    def evaluate(levels: int, rule: str, limit: bool) -> np.ndarray:
        me = bpy.data.meshes.new("bench")
        me.from_pydata(base.vertices.tolist(), [], base.faces.tolist())
        obj = bpy.data.objects.new("bench", me)
        bpy.context.scene.collection.objects.link(obj)
        mod = obj.modifiers.new("subsurf", "SUBSURF")
        mod.levels = mod.render_levels = levels
        mod.use_limit_surface = limit
        mod.boundary_smooth = rule
        ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
        out = ev.to_mesh()
        co = np.empty(3 * len(out.vertices), dtype=np.float32)
        out.vertices.foreach_get("co", co)
        ev.to_mesh_clear()
        bpy.data.objects.remove(obj)
        bpy.data.meshes.remove(me)
        return co.reshape(-1, 3).astype(np.float64)

    def nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
        i = d2.argmin(axis=1)
        return i, np.sqrt(d2[np.arange(len(a)), i])

    print(f"\n### Blender {bpy.app.version_string}: Subdivision Surface modifier (seed mesh, "
          "quality 3)\n")
    print("Blender's limit and refined meshes share vertex order, so their gap is per vertex; "
          "ours are matched to Blender's by nearest refined point.\n")
    print("| rule | level | ours vs Blender, refined (m) | Blender limit − refined (mm) "
          "| exact limit − Blender limit (mm) |")
    print("|---|---:|---:|---:|---:|")
    for rule in ("ALL", "PRESERVE_CORNERS"):
        for level in range(1, top + 1):
            ours = catmull_clark(base, level, rule)
            refined = evaluate(level, rule, False)
            limit = evaluate(level, rule, True)
            match, agree = nearest(ours.vertices, refined)
            gap = np.linalg.norm(limit - refined, axis=1).max() * 1e3
            exact = np.linalg.norm(limit_positions(ours, rule) - limit[match], axis=1).max() * 1e3
            print(f"| {rule} | {level} | {agree.max():.3g} | {gap:.4g} | {exact:.3g} |")
            RESULT["blender"].setdefault(rule, {})[str(level)] = {
                "ours_vs_blender_m": float(agree.max()), "limit_gap_mm": float(gap),
                "exact_vs_blender_limit_mm": float(exact)}
    bpy.ops.wm.read_factory_settings(use_empty=True)


def bench_export(mesh: Mesh) -> None:
    print(f"\n### Export of {mesh.n_vertices:,} vertices / {mesh.n_faces:,} quads\n")
    print("Floor: writing the same number of bytes from memory to a file in the same folder.\n")
    print("| format | time | size | write floor | ratio |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for ext in FORMATS:
            path = os.path.join(tmp, "mirror" + ext)
            seconds = best_of(lambda p=path: export(mesh, p), 1)
            size = os.path.getsize(path)
            blob = np.zeros(size, dtype=np.uint8)
            floor_path = os.path.join(tmp, "floor.bin")
            floor = best_of(lambda b=blob, fp=floor_path: Path(fp).write_bytes(b.tobytes()), 2)
            print(f"| {ext} | {seconds:.2f} s | {size / 1e6:.0f} MB | {floor * 1e3:.0f} ms | "
                  f"{seconds / floor:.0f}× |")
            RESULT["export"][ext] = {"seconds": seconds, "mb": size / 1e6,
                                     "write_floor_ms": floor * 1e3, "over_floor": seconds / floor}
            os.remove(path)
        seconds = best_of(lambda: export(mesh, os.path.join(tmp, "solid.stl"), thickness=0.01), 1)
        print(f"| .stl, thickness 10 mm (solidify + write) | {seconds:.2f} s | | | |")
        RESULT["export"]["stl_thickness_10mm_s"] = {"seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest cases")
    parser.add_argument("--json", type=Path, help="default: bench/results/subdivide.json")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs")
    bench_levels("blog-part2", build_grid(preset("blog-part2")), 5 if args.quick else 6)
    bench_levels("smooth", build_grid(preset("smooth")), 1 if args.quick else 2)
    bench_limit_gap(6)
    bench_blender_limit(3)
    if not args.quick:
        # ~1.2 M vertices: the million-vertex scale.
        bench_export(catmull_clark(build_grid(preset("smooth")), 2))
    RESULT["quick"] = args.quick  # type: ignore[assignment]
    write_result(f"subdivide{blender_tag()}", RESULT, args.json)


if __name__ == "__main__":
    main()
