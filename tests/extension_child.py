"""A user's session with the installed extension, in a child Blender (issue 21).

The same file runs in the real binary and in the ``bpy`` module::

    blender -b --python tests/extension_child.py -- MODE WORK
    python tests/extension_child.py MODE WORK        # a Python with bpy

and prints one ``RESULT {json}`` line. Modes:

``cli ARGS...``
    (bpy module) Blender's own ``blender --command extension ARGS`` handler, the code
    the binary runs for it; ``sync``/``install``/``update`` with online access on, as
    ``--online-mode`` gives the binary.
``before``
    The user's settings (an asset library of their own, undo steps) saved as
    *Save Preferences* does; a procedural mirror, and the node-group asset added from
    *Add Modifier* (the operator its menu item runs) on a cube; a small Cycles render;
    the file saved as ``WORK/old.blend``.
``after``
    Opens ``WORK/old.blend`` with whatever version is installed now: renders it again,
    then adds a mirror (which rebuilds the file's node group for the new version),
    and reports the evaluated meshes, the preferences and the render.
``bare``
    Opens ``WORK/old.blend`` with no extension enabled: the asset's modifier and the
    procedural mirror still evaluate.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import traceback
from pathlib import Path

import bpy

ASSET = "scurve_mirror_nodes.blend/NodeTree/S-Curve Mirror"
USER_UNDO_STEPS = 77


def addon_module() -> str | None:
    return next((a.module for a in bpy.context.preferences.addons
                 if a.module.endswith(".scurve_mirror")), None)


def installed_version() -> str | None:
    name = addon_module()
    if name is None or name not in sys.modules:
        return None
    import tomllib

    folder = Path(sys.modules[name].__file__).parent
    return tomllib.loads((folder / "blender_manifest.toml").read_text())["version"]


def evaluated_vertices(obj) -> list[list[float]]:
    depsgraph = bpy.context.evaluated_depsgraph_get()
    depsgraph.update()
    ob = obj.evaluated_get(depsgraph)
    mesh = ob.to_mesh()
    try:
        return [list(v.co) for v in mesh.vertices]
    finally:
        ob.to_mesh_clear()


def digest(vertices: list[list[float]]) -> str:
    return hashlib.sha256(json.dumps(vertices).encode()).hexdigest()


def library_entries() -> list[list[str]]:
    return [[lib.name, lib.path] for lib in bpy.context.preferences.filepaths.asset_libraries]


def render(path: Path) -> str:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False
    scene.cycles.seed = 0
    scene.render.resolution_x, scene.render.resolution_y = 192, 108
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return str(path)


def mirror_state(out: dict) -> None:
    tagged = [g for g in bpy.data.node_groups if g.get("scurve_mirror_nodes") is not None]
    out["group_tags"] = sorted(str(g["scurve_mirror_nodes"]) for g in tagged)
    out["meshes"] = {o.name: digest(evaluated_vertices(o)) for o in bpy.data.objects
                     if o.type == "MESH"}
    out["counts"] = {o.name: len(evaluated_vertices(o)) for o in bpy.data.objects
                     if o.type == "MESH"}


def add_asset_modifier(obj) -> set[str]:
    """The asset from the extension's library as a modifier on ``obj``.

    Without a window no asset list gets loaded, and the operator the menu item runs
    (``object.modifier_add_node_group``) refuses with "Asset loading is unfinished"; so
    this does what it does once loaded: take the asset's group from the library the
    preferences name, appended (the library's import method), into a Nodes modifier.
    The GUI test clicks the real menu item.
    """
    entry = next(lib for lib in bpy.context.preferences.filepaths.asset_libraries
                 if lib.name == "S-Curve Mirror")
    blend, _, name = ASSET.partition("/NodeTree/")
    with bpy.data.libraries.load(str(Path(entry.path) / blend), link=False,
                                 assets_only=True) as (source, target):
        assert name in source.node_groups, source.node_groups
        target.node_groups = [name]
    group = target.node_groups[0]
    assert group.is_modifier and group.asset_data is not None
    mod = obj.modifiers.new(group.name, "NODES")
    mod.node_group = group
    return {"FINISHED"}


def before(work: Path, out: dict) -> None:
    prefs = bpy.context.preferences
    mine = work / "my_assets"
    mine.mkdir(exist_ok=True)
    prefs.filepaths.asset_libraries.new(name="My Assets", directory=str(mine))
    prefs.edit.undo_steps = USER_UNDO_STEPS
    bpy.ops.wm.save_userpref()
    out["libraries"] = library_entries()

    bpy.ops.wm.read_homefile(use_empty=False)
    for obj in list(bpy.data.objects):
        if obj.type == "MESH":
            bpy.data.objects.remove(obj)
    bpy.ops.mesh.primitive_cube_add(location=(-6.0, 6.0, 0.0))
    cube = bpy.context.active_object
    cube.name = "Asset Cube"
    out["asset_add"] = sorted(add_asset_modifier(cube))
    out["asset_modifiers"] = [[m.type, m.node_group.name if m.node_group else None,
                               m.node_group.library is None if m.node_group else None]
                              for m in cube.modifiers]
    from scurve_geom import MirrorParams, build_mesh

    want = build_mesh(MirrorParams(subdivision_levels=0)).vertices
    got = evaluated_vertices(cube)
    out["asset_vertices"] = len(got)
    out["asset_vs_library"] = max((abs(a - b) for g, w in zip(got, want.tolist(), strict=True)
                                   for a, b in zip(g, w, strict=True)), default=None) \
        if len(got) == len(want) else None
    out["library_extent"] = float(abs(want).max())
    # A procedural mirror after it: the add-on takes the group the asset brought as its own.
    bpy.context.scene.cursor.location = (0.0, 0.0, 0.0)
    assert bpy.ops.mesh.scurve_mirror_add(procedural=True, radius=1.3, s_amplitude=0.5,
                                          subdivision_levels=0) == {"FINISHED"}
    bpy.context.active_object.name = "Mirror"
    mirror_state(out)
    # The factory camera, pulled back to see both (the asset's wall stands at (-6, 6)).
    camera = bpy.context.scene.camera
    camera.location = (9.0, -16.0, 9.0)
    camera.rotation_euler = (1.15, 0.0, 0.42)
    out["render"] = render(work / "before.png")
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "old.blend"))


def after(work: Path, out: dict) -> None:
    prefs = bpy.context.preferences
    out["libraries"] = library_entries()
    out["undo_steps"] = prefs.edit.undo_steps
    bpy.ops.wm.open_mainfile(filepath=str(work / "old.blend"))
    mirror_state(out)
    out["render"] = render(work / "after.png")
    # Any use of the procedural mirror brings the file's node group up to this version.
    assert bpy.ops.mesh.scurve_mirror_add(procedural=True, subdivision_levels=0) == {"FINISHED"}
    bpy.data.objects.remove(bpy.context.active_object)
    rebuilt: dict = {}
    mirror_state(rebuilt)
    out["rebuilt"] = rebuilt
    out["render_rebuilt"] = render(work / "after_rebuilt.png")


def bare(work: Path, out: dict) -> None:
    bpy.ops.wm.open_mainfile(filepath=str(work / "old.blend"))
    mirror_state(out)
    out["render"] = render(work / "bare.png")


def cli(args: list[str], out: dict) -> None:
    from bl_pkg import bl_extension_cli

    if args[0] in {"sync", "install", "update"}:
        bpy.context.preferences.system.use_online_access = True
    out["status"] = bl_extension_cli.cli_extension_handler(args)


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    mode, rest = argv[0], argv[1:]
    if "--" not in sys.argv:
        # The bpy module starts on factory preferences; the binary reads the user's
        # (and enables their extensions) before running a script.
        bpy.ops.wm.read_userpref()
    out: dict = {"mode": mode, "addon": addon_module(), "version": installed_version(),
                 "blender": list(bpy.app.version)}
    try:
        if mode == "cli":
            cli(rest, out)
        else:
            {"before": before, "after": after, "bare": bare}[mode](Path(rest[0]), out)
        out["libraries_at_exit"] = library_entries()
        out["prefs_dirty_at_exit"] = bpy.context.preferences.is_dirty
        status = 0
    except Exception:
        out["error"] = traceback.format_exc()
        status = 1
    print("RESULT " + json.dumps(out), flush=True)
    sys.stderr.flush()
    # Leave without Blender's atexit teardown (bpy 4.2 crashes, 4.5 may hang there).
    os._exit(status)


if __name__ == "__main__":
    main()
