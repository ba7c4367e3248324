"""Set Up Mirror Stage in real Blender: contents, idempotence, foreign objects, errors.

Run under a timeout, one Blender version per process::

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_stage.py -q
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from bpy_extras.object_utils import world_to_camera_view  # noqa: E402
from mathutils import Vector  # noqa: E402
from screen import world_vertices  # noqa: E402

from blender_addon import compat, stage  # noqa: E402

pytestmark = pytest.mark.blender


def add_mirror(preset: str = "blog-part2", **kw: Any) -> Any:
    """The mirror as users make it: through the add-on's own operator."""
    assert bpy.ops.mesh.scurve_mirror_add(preset=preset, **kw) == {"FINISHED"}
    return bpy.context.active_object


def wall_points(obj: Any, per_edge: int = 16) -> np.ndarray:
    """World points on the mirror surface: vertices plus points along every edge.

    The seed's coarse grid has vertices only at the seam and the ends; its rows are
    straight, so points along the edges say where the wall is in between.
    """
    me = obj.data
    co = np.empty(len(me.vertices) * 3)
    me.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    ev = np.empty(len(me.edges) * 2, dtype=np.int64)
    me.edges.foreach_get("vertices", ev)
    ev = ev.reshape(-1, 2)
    t = np.linspace(0, 1, per_edge + 1)[:, None, None]
    pts = (co[ev[:, 0]] * (1 - t) + co[ev[:, 1]] * t).reshape(-1, 3)
    mw = np.array(obj.matrix_world)
    return pts @ mw[:3, :3].T + mw[:3, 3]


def snapshot(obj: Any) -> tuple:
    return (obj.name, tuple(obj.location), tuple(obj.rotation_euler), tuple(obj.scale),
            tuple(c.name for c in obj.users_collection),
            tuple(s.material.name if s.material else None for s in obj.material_slots),
            obj.hide_render)


def run_stage(**kw: Any) -> set[str]:
    return bpy.ops.scene.scurve_stage(**kw)


def test_stage_contents(addon: Any) -> None:
    mirror = add_mirror()
    assert run_stage() == {"FINISHED"}
    scene = bpy.context.scene
    objs = stage.stage_objects(scene)
    expected = {"ground", "sun", "area_left", "area_right", *stage.PROP_ROLES,
                *(f"camera_{v}" for v in stage.VIEWS)}
    assert set(objs) == expected
    coll = next(c for c in bpy.data.collections if c.get(stage.ROLE_KEY) == "collection")
    assert coll.name == stage.COLLECTION_NAME
    assert all(o.users_collection == (coll,) for o in objs.values())
    assert mirror.name not in coll.all_objects

    # Render settings the issue asks for.
    c = scene.cycles
    assert scene.render.engine == "CYCLES"
    assert c.device == "CPU"  # no GPU configured in a factory session
    assert c.use_adaptive_sampling and c.use_denoising
    assert c.denoiser == "OPENIMAGEDENOISE"
    assert c.glossy_bounces >= 8 and c.max_bounces >= c.glossy_bounces
    assert c.caustics_reflective
    assert 0.0 < c.blur_glossy <= 2.0

    # A physical sky, chosen by feature: Nishita on 4.x, multiple scattering on 5.0.
    sky = [n for n in scene.world.node_tree.nodes if n.bl_idname == "ShaderNodeTexSky"]
    assert len(sky) == 1
    items = compat.enum_items(bpy.types.ShaderNodeTexSky, "sky_type")
    want = "MULTIPLE_SCATTERING" if "MULTIPLE_SCATTERING" in items else "NISHITA"
    assert sky[0].sky_type == want

    # Polished metal on the mirror.
    bsdf = mirror.material_slots[0].material.node_tree.nodes["Principled BSDF"]
    assert bsdf.inputs["Metallic"].default_value == 1.0
    assert bsdf.inputs["Roughness"].default_value <= 0.1

    # Props: the right colours, in front of (−y) the concave (−x) half, not cutting it.
    wall = wall_points(mirror)
    for role, channel in zip(stage.PROP_ROLES, (0, 1, 2), strict=True):
        obj = objs[role]
        colour = obj.material_slots[0].material.node_tree.nodes["Principled BSDF"] \
            .inputs["Base Color"].default_value
        assert int(np.argmax(colour[:3])) == channel
        assert obj.location.x < 0
        near = wall[np.abs(wall[:, 0] - obj.location.x) < 0.2]
        assert obj.location.y < near[:, 1].min()
        radius = max(obj.scale.x, obj.scale.y)
        gap = np.linalg.norm(wall - np.array(obj.location), axis=1).min()
        assert gap > radius
        assert obj.hide_render is False

    # The ground is under the mirror's base; the sun looks down on the front.
    assert objs["ground"].location.z == pytest.approx(wall[:, 2].min(), abs=1e-6)
    down = objs["sun"].matrix_world.to_3x3() @ Vector((0, 0, -1))
    assert down.z < 0 and down.y > 0
    assert tuple(objs["sun"].data.color) == pytest.approx(stage.DEFAULT_SUN_COLOR, abs=1e-6)
    for role in ("area_left", "area_right"):
        light = objs[role].data
        assert light.type == "AREA" and light.size * light.size_y >= 0.5


def test_every_view_sees_the_mirror(addon: Any) -> None:
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = 160, 90
    mirror = add_mirror("kapoor")
    run_stage()
    objs = stage.stage_objects(scene)
    wall = world_vertices(mirror)
    for view in stage.VIEWS:
        cam = objs[f"camera_{view}"]
        uvw = np.array([world_to_camera_view(scene, cam, Vector(p))[:] for p in wall[::7]])
        assert (uvw[:, 2] > 0).all(), view  # all in front of the camera
        inside = ((uvw[:, :2] >= 0) & (uvw[:, :2] <= 1)).all(axis=1)
        if view in ("front", "top", "low"):
            assert inside.all(), view  # the whole wall is framed
        else:
            half = wall[::7][:, 0] < 0 if view == "concave" else wall[::7][:, 0] > 0
            assert inside[half].mean() > 0.9, view
        # ... and fills a fair part of the frame, not a speck in the middle.
        span = uvw[inside, :2].max(axis=0) - uvw[inside, :2].min(axis=0)
        assert span.max() > 0.5, view
    assert scene.camera == objs["camera_front"]
    assert run_stage(view="low") == {"FINISHED"}
    assert scene.camera == objs["camera_low"]


def test_stage_is_idempotent_and_leaves_foreign_objects_alone(addon: Any, data_counts: Any) -> None:
    scene = bpy.context.scene
    # Foreign things, some with the very names the stage uses.
    foreign_mesh = bpy.data.meshes.new("S-Curve Ground")
    foreign_mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    decoy = bpy.data.objects.new("S-Curve Sun", foreign_mesh)
    scene.collection.objects.link(decoy)
    decoy.location = (7, 8, 9)
    decoy_mat = bpy.data.materials.new("S-Curve Polished Steel")
    decoy.data.materials.append(decoy_mat)
    foreign_coll = bpy.data.collections.new(stage.COLLECTION_NAME)
    scene.collection.children.link(foreign_coll)
    lamp = bpy.data.objects.new("My Lamp", bpy.data.lights.new("My Lamp", "POINT"))
    foreign_coll.objects.link(lamp)
    lamp.location = (1, 2, 3)

    mirror = add_mirror()
    bpy.context.view_layer.objects.active = mirror
    before = {o.name: snapshot(o) for o in (decoy, lamp)}
    assert run_stage() == {"FINISHED"}
    first = data_counts()
    names = sorted(o.name for o in bpy.data.objects)
    staged = {r: o.as_pointer() for r, o in stage.stage_objects(scene).items()}

    assert run_stage() == {"FINISHED"}
    assert data_counts() == first
    assert sorted(o.name for o in bpy.data.objects) == names
    assert {r: o.as_pointer() for r, o in stage.stage_objects(scene).items()} == staged
    assert {o.name: snapshot(o) for o in (decoy, lamp)} == before
    assert decoy.data.materials[0] == decoy_mat
    assert len(foreign_coll.objects) == 1
    # Per material/world exactly one stage-tagged copy exists.
    for kind in ("materials", "worlds"):
        roles = [i[stage.ROLE_KEY] for i in getattr(bpy.data, kind) if stage.ROLE_KEY in i]
        assert len(roles) == len(set(roles)), kind
    # Node trees are rebuilt, not appended to.
    ground_mat = stage.stage_objects(scene)["ground"].material_slots[0].material
    assert len(ground_mat.node_tree.nodes) == 6


def test_stage_updates_in_place(addon: Any, data_counts: Any) -> None:
    scene = bpy.context.scene
    mirror = add_mirror()
    run_stage()
    counts = data_counts()
    sun = stage.stage_objects(scene)["sun"]
    assert run_stage(sun_color=stage.RED_SUN_COLOR, props=False, sun_strength=5.0) == {"FINISHED"}
    assert data_counts() == counts
    objs = stage.stage_objects(scene)
    assert objs["sun"] == sun
    assert tuple(sun.data.color) == pytest.approx(stage.RED_SUN_COLOR, abs=1e-6)
    assert sun.data.energy == pytest.approx(5.0)
    assert all(objs[r].hide_render for r in stage.PROP_ROLES)

    # The stage follows a moved and turned mirror: same objects, new places.
    ground_before = objs["ground"].location.copy()
    mirror.location = (10.0, -4.0, 1.0)
    mirror.rotation_euler = (0.0, 0.0, math.radians(90))
    bpy.context.view_layer.update()
    run_stage()
    assert data_counts() == counts
    assert (objs["ground"].location - ground_before).length > 5
    assert objs["ground"].location.z == pytest.approx(1.0, abs=1e-5)
    # The props stay in front of the concave half in the mirror's own frame.
    to_local = mirror.matrix_world.inverted()
    for role in stage.PROP_ROLES:
        local = to_local @ objs[role].location
        assert local.x < 0 and local.y < 0, role


def test_poll_needs_a_mirror_and_object_mode(addon: Any) -> None:
    assert not bpy.ops.scene.scurve_stage.poll()
    with pytest.raises(RuntimeError, match="S-curve mirror"):
        run_stage()
    mirror = add_mirror()
    assert bpy.ops.scene.scurve_stage.poll()
    # Any mirror in the scene will do when the active object is something else.
    other = bpy.data.objects.new("Empty", None)
    bpy.context.scene.collection.objects.link(other)
    bpy.context.view_layer.objects.active = other
    assert stage.find_mirror(bpy.context) == mirror
    bpy.context.view_layer.objects.active = mirror
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        assert not bpy.ops.scene.scurve_stage.poll()
        with pytest.raises(RuntimeError, match="Object Mode"):
            run_stage()
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")


def test_plain_tag_marks_a_mirror(factory_scene: Any) -> None:
    # A mesh built without the add-on (a script, an import) can be staged by tagging it.
    me = bpy.data.meshes.new("wall")
    me.from_pydata([(-1, 0, 0), (1, 0, 0), (1, 0, 2), (-1, 0, 2)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("wall", me)
    factory_scene.collection.objects.link(obj)
    assert not stage.is_mirror(obj)
    obj[stage.MIRROR_TAG] = True
    assert stage.is_mirror(obj)
    objs = stage.setup_stage(bpy.context, obj, samples=4)
    assert factory_scene.camera == objs["camera_front"]


def test_invalid_input_cancels_and_leaves_scene_unchanged(addon: Any, data_counts: Any) -> None:
    scene = bpy.context.scene
    me = bpy.data.meshes.new("empty wall")
    obj = bpy.data.objects.new("empty wall", me)
    scene.collection.objects.link(obj)
    obj[stage.MIRROR_TAG] = True
    bpy.context.view_layer.objects.active = obj
    engine = scene.render.engine
    counts = data_counts()
    # Run from Python, an operator's ERROR report surfaces as RuntimeError (and the
    # operator returned CANCELLED).
    with pytest.raises(RuntimeError, match="0 vertices"):
        run_stage()
    assert data_counts() == counts
    assert scene.render.engine == engine and scene.world is None

    with pytest.raises(ValueError, match="sun_color"):
        stage.setup_stage(bpy.context, obj, sun_color=(2.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="view"):
        stage.setup_stage(bpy.context, obj, view="side")
    assert data_counts() == counts


def test_failure_midway_rolls_back(addon: Any, data_counts: Any, monkeypatch: Any) -> None:
    # A failure after objects were created (here: building the world) must remove them.
    scene = bpy.context.scene
    add_mirror()
    counts = data_counts()
    engine = scene.render.engine

    def broken(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("simulated failure while building the world")

    from blender_addon.stage import sky

    monkeypatch.setattr(sky, "world", broken)
    with pytest.raises(RuntimeError, match="simulated failure"):
        run_stage()
    assert data_counts() == counts
    assert scene.render.engine == engine
    assert stage.stage_objects(scene) == {}
