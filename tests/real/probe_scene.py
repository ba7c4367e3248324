"""Runs inside a real Blender: ``blender -b FILE.blend -P probe_scene.py -- OUT.json [HIDDEN.png]``.

Writes what the tests check about a saved scene: the objects and their roles, the
mirror's screen region through the scene camera (a mask of the render's size), and,
given a second path, renders the same scene with the mirror hidden for comparison.
Exits 1 on any error (Blender itself would exit 0).
"""

from __future__ import annotations

import json
import sys
import traceback


def main() -> int:
    import bpy
    import numpy as np
    from bpy_extras.object_utils import world_to_camera_view

    args = sys.argv[sys.argv.index("--") + 1:]
    out = args[0]
    scene = bpy.context.scene
    # The add-on need not be installed: its stored parameters stay on the object as
    # plain ID properties.
    mirrors = [o for o in scene.objects
               if o.get("scurve_mirror") is not None or o.get("scurve_mirror_object")]
    info = {
        "objects": [{"name": o.name, "type": o.type,
                     "role": o.get("scurve_stage_role") or o.get("scurve_face_role")}
                    for o in scene.objects],
        "images": [{"name": i.name, "packed": i.packed_file is not None}
                   for i in bpy.data.images if i.get("scurve_face_role")],
        "camera": scene.camera.name if scene.camera else None,
        "mirrors": [m.name for m in mirrors],
        "cycles": {"samples": scene.cycles.samples,
                   "use_denoising": scene.cycles.use_denoising},
    }
    if mirrors and scene.camera is not None:
        w = scene.render.resolution_x * scene.render.resolution_percentage // 100
        h = scene.render.resolution_y * scene.render.resolution_percentage // 100
        deps = bpy.context.evaluated_depsgraph_get()
        ev = mirrors[0].evaluated_get(deps)
        mesh = ev.to_mesh()
        co = np.empty(len(mesh.vertices) * 3)
        mesh.vertices.foreach_get("co", co)
        ev.to_mesh_clear()
        mw = np.array(mirrors[0].matrix_world)
        pts = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
        from mathutils import Vector

        ndc = np.array([tuple(world_to_camera_view(scene, scene.camera, Vector(p)))
                        for p in pts[:: max(1, len(pts) // 4000)]])
        info["mirror_uv"] = ndc[:, :2].tolist()
        info["resolution"] = [w, h]
    if len(args) > 1:
        for m in mirrors:
            m.hide_render = True
        scene.render.filepath = args[1]
        scene.render.use_file_extension = False
        bpy.ops.render.render(write_still=True)
    with open(out, "w") as fh:
        json.dump(info, fh)
    return 0


try:
    code = main()
except Exception:
    traceback.print_exc()
    code = 1
sys.exit(code)
