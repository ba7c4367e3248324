"""Runs inside a GUI Blender (``blender FILE --python gui_agent.py -- STATE.json``).

It only *reports*: a timer writes Blender's state (screen regions, the sidebar tab,
the mirror's parameters, the stage, face planes, the clipboard) to a JSON file four
times a second, so the test can compute where to click and check what a click did.
It never drives Blender: every action in the GUI test is real X input (xdotool).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import bpy

STATE = sys.argv[sys.argv.index("--") + 1] if "--" in sys.argv else "/tmp/scurve-gui-state.json"
PERIOD = 0.25


def _regions(area):
    out = {}
    for region in area.regions:
        if region.width > 1 and region.height > 1:
            out[region.type] = [region.x, region.y, region.width, region.height]
    return out


def _addon_module(name: str):
    for mod_name, mod in sys.modules.items():
        if mod_name.endswith(f"scurve_mirror.{name}") or mod_name == f"blender_addon.{name}":
            return mod
    return None


def _mirror_params(obj) -> dict | None:
    settings = getattr(obj, "scurve_mirror", None)
    if settings is None or not getattr(settings, "is_mirror", False):
        return None
    out = {}
    for key in ("radius", "half_length", "circle_vertices", "length_segments",
                "s_amplitude", "subdivision_levels"):
        if hasattr(settings, key):
            value = getattr(settings, key)
            out[key] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return out


def state() -> dict:
    wm = bpy.context.window_manager
    windows = []
    for window in wm.windows:
        areas = []
        for area in window.screen.areas:
            entry = {"type": area.type, "rect": [area.x, area.y, area.width, area.height],
                     "regions": _regions(area)}
            if area.type == "VIEW_3D":
                space = area.spaces.active
                entry["sidebar"] = bool(space.show_region_ui)
                entry["shading"] = space.shading.type
                for region in area.regions:
                    if region.type == "UI":
                        entry["category"] = getattr(region, "active_panel_category", None)
            areas.append(entry)
        windows.append({"size": [window.width, window.height], "areas": areas})
    scene = bpy.context.scene
    objects = []
    for obj in scene.objects:
        objects.append({
            "name": obj.name, "type": obj.type, "mirror": _mirror_params(obj),
            "role": obj.get("scurve_stage_role") or obj.get("scurve_face_role"),
            "collections": [c.name for c in obj.users_collection],
            "modifiers": [m.type for m in obj.modifiers],
            "vertices": len(obj.data.vertices) if obj.type == "MESH" else 0,
            "visible_camera": getattr(obj, "visible_camera", True),
        })
    faces = getattr(scene, "scurve_faces", None)
    fp = _addon_module("face_planes")
    previews = None
    if fp is not None and hasattr(fp, "preview_icons"):
        try:
            previews = [int(i) for i in fp.preview_icons()]
        except Exception:
            previews = None
    return {
        "pid": os.getpid(),
        # Wall time of this report: a stale one means Blender's main loop is busy.
        "time": time.time(),
        "file": bpy.data.filepath,
        "is_dirty": bpy.data.is_dirty,
        "windows": windows,
        "objects": objects,
        "collections": [c.name for c in bpy.data.collections],
        "images": [i.name for i in bpy.data.images],
        "engine": scene.render.engine,
        "face_seed": getattr(faces, "seed", None),
        "previews": previews,
        "clipboard": wm.clipboard[:200],
        "last_operators": [op.bl_idname for op in wm.operators][-8:],
        "addons": sorted(a.module for a in bpy.context.preferences.addons),
    }


def tick() -> float:
    try:
        data = state()
        tmp = STATE + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, STATE)
    except Exception:
        with open(STATE + ".error", "w") as fh:
            fh.write(traceback.format_exc())
    return PERIOD


bpy.app.timers.register(tick, first_interval=PERIOD, persistent=True)
