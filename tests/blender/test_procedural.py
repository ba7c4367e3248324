"""The procedural mirror (Geometry Nodes) against scurve_geom, in real Blender.

Run per Blender version, under timeout (see conftest.py)::

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_procedural.py -q
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from scurve_geom import PRESETS, MirrorParams, build_mesh  # noqa: E402
from scurve_geom.plan import max_bend_offset  # noqa: E402

pytestmark = pytest.mark.blender

EPS32 = float(np.finfo(np.float32).eps)

PARAM_SETS = {
    "default": {},
    "blog-unmatched": PRESETS["blog-unmatched"],
    "kapoor": PRESETS["kapoor"],
    "unwelded-bent": dict(weld_seam=False, length_segments=3, s_amplitude=0.7,
                          circle_vertices=12, arch_angle=2.0, radius=0.5, half_length=1.5),
    "reverse-bend-at-limit": dict(length_segments=24, circle_vertices=40, half_length=2.0,
                                  # Just inside the 90° limit: float32 storage must not push it out.
                                  s_amplitude=-0.99999 * max_bend_offset(2.0), radius=3.0),
    "large-unwelded-unmatched": dict(radius=40.0, half_length=300.0, circle_vertices=16,
                                     length_segments=9, match_heights=False, weld_seam=False,
                                     s_amplitude=120.0, arch_angle=0.4),
}


def add(**kwargs: Any) -> Any:
    assert bpy.ops.mesh.scurve_mirror_add(**kwargs) == {"FINISHED"}
    return bpy.context.active_object


def evaluated(obj: Any) -> dict[str, np.ndarray]:
    """Arrays of the object's evaluated mesh (every modifier applied)."""
    from blender_addon import mesh_io

    depsgraph = bpy.context.evaluated_depsgraph_get()
    depsgraph.update()
    ob = obj.evaluated_get(depsgraph)
    mesh = ob.to_mesh()
    try:
        out = mesh_io.read_mesh(mesh)
        smooth = np.empty(len(mesh.polygons), dtype=bool)
        mesh.polygons.foreach_get("use_smooth", smooth)
        out["smooth"] = smooth
    finally:
        ob.to_mesh_clear()
    return out


def assert_matches_library(got: dict[str, np.ndarray], params: MirrorParams) -> None:
    """Same vertex order, faces, edges, UVs and shading as the mesh mode; the
    positions equal the float64 library's to a few float32 steps of the mirror's size."""
    want = build_mesh(params.replace(subdivision_levels=0))
    scale = float(np.abs(want.vertices).max())
    err = np.abs(got["vertices"].astype(np.float64) - want.vertices).max()
    assert err <= 8 * EPS32 * scale, f"{err:.3g} m is {err / (EPS32 * scale):.1f} float32 steps"
    np.testing.assert_array_equal(got["faces"], want.faces)
    np.testing.assert_array_equal(got["edges"], want.edges)
    np.testing.assert_allclose(got["uv"], want.uv[want.faces.ravel()], rtol=0, atol=4 * EPS32)
    assert got["smooth"].all()


def modifier(obj: Any) -> Any:
    from blender_addon import mirror_nodes

    return obj.modifiers[mirror_nodes.MODIFIER_NAME]


# --------------------------------------------------------------------------- the surface


@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_procedural_mirror_is_the_library_surface(addon, name):
    obj = add(procedural=True, subdivision_levels=0, **PARAM_SETS[name])
    assert len(obj.data.vertices) == 0  # the modifier makes the geometry
    assert_matches_library(evaluated(obj), MirrorParams(**PARAM_SETS[name]))


def test_same_subdivision_as_mesh_mode(addon):
    kw = dict(length_segments=2, s_amplitude=0.8, subdivision_levels=2,
              boundary_smooth="PRESERVE_CORNERS")
    mesh_obj = add(**kw)
    proc_obj = add(procedural=True, **kw)
    names = [m.name for m in proc_obj.modifiers]
    assert names == ["S-Curve Geometry", "S-Curve Subdivision"]
    a, b = evaluated(mesh_obj), evaluated(proc_obj)
    np.testing.assert_array_equal(a["faces"], b["faces"])
    scale = float(np.abs(a["vertices"]).max())
    np.testing.assert_allclose(b["vertices"], a["vertices"], rtol=0, atol=8 * EPS32 * scale)
    np.testing.assert_allclose(b["uv"], a["uv"], rtol=0, atol=1e-6)


def test_keyframed_input_follows_the_frame(addon):
    from blender_addon import mirror_nodes

    obj = add(procedural=True, subdivision_levels=0, length_segments=6)
    mod = modifier(obj)
    path = mirror_nodes.input_path(mod, "s_amplitude")
    for frame, value in ((1, 0.0), (11, 0.9)):
        mod[mirror_nodes_id(mod, "s_amplitude")] = value
        obj.keyframe_insert(data_path=path, frame=frame)
    seen = []
    for frame in (1, 6, 11):
        bpy.context.scene.frame_set(frame)
        value = mirror_nodes.read_inputs(mod)["s_amplitude"]
        seen.append(value)
        assert_matches_library(evaluated(obj), MirrorParams(length_segments=6,
                                                            s_amplitude=value))
    assert seen[0] == 0.0 and 0.0 < seen[1] < 0.9 and seen[2] == pytest.approx(0.9)


def test_driven_radius(addon):
    from blender_addon import mirror_nodes

    obj = add(procedural=True, subdivision_levels=0)
    empty = bpy.data.objects.new("Radius Empty", None)
    bpy.context.scene.collection.objects.link(empty)
    empty.location.z = 1.75
    fcurve = obj.driver_add(mirror_nodes.input_path(modifier(obj), "radius"))
    var = fcurve.driver.variables.new()
    var.name = "h"
    var.targets[0].id = empty
    var.targets[0].data_path = "location.z"
    fcurve.driver.expression = "h"
    bpy.context.scene.frame_set(1)
    got = evaluated(obj)
    assert_matches_library(got, MirrorParams(radius=1.75))


# --------------------------------------------------------------------------- the node group


def test_node_group_is_built_once_and_reused(addon):
    from blender_addon import mirror_nodes

    for _ in range(3):
        add(procedural=True)
    groups = [g for g in bpy.data.node_groups if g.get(mirror_nodes.VERSION_KEY)]
    assert len(groups) == 1 and groups[0].name == mirror_nodes.NODE_GROUP_NAME
    assert groups[0][mirror_nodes.VERSION_KEY] == mirror_nodes.BUILD_VERSION
    assert groups[0].users == 3
    nodes = len(groups[0].nodes)
    assert mirror_nodes.ensure_node_group() == groups[0]
    assert len(groups[0].nodes) == nodes


@pytest.mark.parametrize("interface_changed", [False, True])
def test_node_group_is_rebuilt_on_version_change(addon, interface_changed):
    from blender_addon import mirror_nodes

    obj = add(procedural=True, subdivision_levels=0)
    mod = modifier(obj)
    mirror_nodes.write_inputs(mod, MirrorParams(radius=1.2, length_segments=3))
    obj.keyframe_insert(data_path=mirror_nodes.input_path(mod, "radius"), frame=5)
    mirror_nodes.write_inputs(mod, MirrorParams(radius=0.7, length_segments=3))
    obj.keyframe_insert(data_path=mirror_nodes.input_path(mod, "radius"), frame=1)
    bpy.context.scene.frame_set(1)
    tree = mod.node_group
    # What a file saved by an older add-on looks like: another version tag, a stale node
    # (and, in the second case, an interface that lacks an input).
    tree[mirror_nodes.VERSION_KEY] = "0.0.1+nodes0"
    tree.nodes.new("GeometryNodeMeshCube")
    if interface_changed:
        item = next(i for i in tree.interface.items_tree if i.name == "S Amplitude")
        tree.interface.remove(item)
    identifiers = {i.name: i.identifier for i in tree.interface.items_tree
                   if i.item_type == "SOCKET" and i.in_out == "INPUT"}
    assert mirror_nodes.ensure_node_group() == tree
    assert tree[mirror_nodes.VERSION_KEY] == mirror_nodes.BUILD_VERSION
    # An unchanged interface is kept as it is (so are the inputs' identifiers).
    kept = {i.name: i.identifier for i in tree.interface.items_tree
            if i.item_type == "SOCKET" and i.in_out == "INPUT"}
    assert (kept == identifiers) != interface_changed
    assert not any(n.bl_idname == "GeometryNodeMeshCube" for n in tree.nodes)
    assert len([g for g in bpy.data.node_groups if g.get(mirror_nodes.VERSION_KEY)]) == 1
    # The modifier kept its values (matched by input name when the interface changed).
    got = mirror_nodes.read_inputs(mod)
    assert (got["radius"], got["length_segments"]) == (pytest.approx(0.7), 3)
    assert_matches_library(evaluated(obj), MirrorParams(radius=0.7, length_segments=3))
    # And its keyframes still drive the same input.
    bpy.context.scene.frame_set(5)
    assert mirror_nodes.read_inputs(mod)["radius"] == pytest.approx(1.2)
    assert_matches_library(evaluated(obj), MirrorParams(radius=1.2, length_segments=3))


def test_blend_renders_without_the_addon(addon, tmp_path):
    import blender_addon

    add(procedural=True, subdivision_levels=0, s_amplitude=0.5, length_segments=4)
    path = str(tmp_path / "procedural.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    blender_addon.unregister()
    try:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.wm.open_mainfile(filepath=path)
        obj = bpy.data.objects["S-Curve Mirror"]
        assert_matches_library(evaluated(obj), MirrorParams(s_amplitude=0.5, length_segments=4))
    finally:
        blender_addon.register()


# --------------------------------------------------------------------------- modes


def evaluated_material(obj: Any) -> Any:
    depsgraph = bpy.context.evaluated_depsgraph_get()
    depsgraph.update()
    slots = obj.evaluated_get(depsgraph).material_slots
    return slots[0].material if slots else None


def test_materials_reach_the_generated_mesh(addon):
    from blender_addon import stage

    obj = add(procedural=True)
    # The stage's steel, assigned as to any mirror, is what renders.
    stage.setup_stage(bpy.context, obj, samples=1)
    assert evaluated_material(obj).name == "S-Curve Polished Steel"
    # A mirror that had a material before becoming procedural keeps showing it.
    plain = add()
    mat = bpy.data.materials.new("brass")
    plain.data.materials.append(mat)
    bpy.context.view_layer.objects.active = plain
    assert bpy.ops.object.scurve_mirror_make_procedural() == {"FINISHED"}
    assert evaluated_material(plain).original == mat


def test_make_procedural_then_apply_round_trip(addon, data_counts):
    from blender_addon import mesh_io, mirror_object

    obj = add(length_segments=3, s_amplitude=0.4)
    material = bpy.data.materials.new("steel")
    obj.data.materials.append(material)
    before = evaluated(obj)
    assert bpy.ops.object.scurve_mirror_make_procedural() == {"FINISHED"}
    assert mirror_object.is_procedural(obj)
    assert [m.name for m in obj.modifiers] == ["S-Curve Geometry", "S-Curve Subdivision"]
    after = evaluated(obj)
    np.testing.assert_array_equal(after["faces"], before["faces"])
    scale = float(np.abs(before["vertices"]).max())
    np.testing.assert_allclose(after["vertices"], before["vertices"], rtol=0,
                               atol=8 * EPS32 * scale)
    assert not bpy.ops.object.scurve_mirror_make_procedural.poll()

    # A change made in the modifier panel is what Apply bakes.
    mod = modifier(obj)
    mod[mirror_nodes_id(mod, "radius")] = 1.25
    counts = data_counts()
    assert bpy.ops.object.scurve_mirror_apply() == {"FINISHED"}
    assert not mirror_object.is_procedural(obj)
    params = mirror_object.object_params(obj)
    assert params.radius == pytest.approx(1.25) and params.s_amplitude == pytest.approx(0.4)
    want = build_mesh(params.replace(subdivision_levels=0))
    got = mesh_io.read_mesh(obj.data)
    np.testing.assert_array_equal(got["vertices"], want.vertices.astype(np.float32))
    np.testing.assert_array_equal(got["faces"], want.faces)
    assert evaluated_material(obj).original == material
    assert [m.name for m in obj.modifiers] == ["S-Curve Subdivision"]
    assert data_counts() == counts  # the node group stays for other mirrors; nothing added


def mirror_nodes_id(mod: Any, name: str) -> str:
    from blender_addon import mirror_nodes

    return mirror_nodes.input_path(mod, name).rsplit('"', 2)[1]


def test_edit_works_on_a_procedural_mirror(addon, data_counts):
    from blender_addon import mirror_nodes

    obj = add(procedural=True, subdivision_levels=1)
    counts = data_counts()
    assert bpy.ops.object.scurve_mirror_edit(radius=1.5, length_segments=4,
                                             subdivision_levels=0) == {"FINISHED"}
    assert data_counts() == counts
    assert len(obj.data.vertices) == 0
    got = mirror_nodes.read_inputs(modifier(obj))
    assert (got["radius"], got["length_segments"]) == (1.5, 4)
    assert [m.name for m in obj.modifiers] == ["S-Curve Geometry"]
    assert_matches_library(evaluated(obj), MirrorParams(radius=1.5, length_segments=4))
    # Edit starts from the modifier's values, not stale stored ones.
    modifier(obj)[mirror_nodes_id(modifier(obj), "circle_vertices")] = 20
    assert bpy.ops.object.scurve_mirror_edit(half_length=2.0) == {"FINISHED"}
    assert mirror_nodes.read_inputs(modifier(obj))["circle_vertices"] == 20
    assert_matches_library(evaluated(obj), MirrorParams(radius=1.5, length_segments=4,
                                                        circle_vertices=20, half_length=2.0))


def test_apply_refuses_inputs_the_library_refuses(addon):
    obj = add(procedural=True)
    mod = modifier(obj)
    mod[mirror_nodes_id(mod, "circle_vertices")] = 33
    with pytest.raises(RuntimeError, match="circle_vertices=33"):
        bpy.ops.object.scurve_mirror_apply()
    assert mod.name in obj.modifiers and len(obj.data.vertices) == 0


def test_conversions_need_a_mirror(addon):
    assert not bpy.ops.object.scurve_mirror_make_procedural.poll()
    bpy.ops.mesh.primitive_cube_add()
    assert not bpy.ops.object.scurve_mirror_make_procedural.poll()
    assert not bpy.ops.object.scurve_mirror_apply.poll()
    add()
    assert bpy.ops.object.scurve_mirror_make_procedural.poll()
    assert not bpy.ops.object.scurve_mirror_apply.poll()
    bpy.ops.object.mode_set(mode="EDIT")
    assert not bpy.ops.object.scurve_mirror_make_procedural.poll()


def test_node_group_version_follows_the_manifest():
    import tomllib

    from blender_addon import mirror_nodes

    manifest = tomllib.loads((Path(__file__).parents[2] / "blender_manifest.toml").read_text())
    assert mirror_nodes.ADDON_VERSION == manifest["version"]
    assert mirror_nodes.BUILD_VERSION.startswith(manifest["version"] + "+")
