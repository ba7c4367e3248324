"""The add-on from the source tree in real Blender: registration, Add/Edit S-Curve Mirror.

Run per Blender version, under timeout (see conftest.py)::

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_addon.py -q
"""

from __future__ import annotations

import math

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scurve_geom import MAX_VERTICES, PRESETS, MirrorParams, build_mesh  # noqa: E402

pytestmark = pytest.mark.blender

PARAM_SETS = {
    "default": {},
    "blog-unmatched": PRESETS["blog-unmatched"],
    "kapoor": PRESETS["kapoor"],
    "unwelded-bent": dict(weld_seam=False, length_segments=3, s_amplitude=0.7,
                          circle_vertices=12, arch_angle=2.0, radius=0.5, half_length=1.5),
    "subdivided": dict(length_segments=2, subdivision_levels=2,
                       boundary_smooth="PRESERVE_CORNERS"),
}


def add(**kwargs):
    """Run Add S-Curve Mirror and return the new active object."""
    assert bpy.ops.mesh.scurve_mirror_add(**kwargs) == {"FINISHED"}
    return bpy.context.active_object


def stored_params(obj) -> MirrorParams:
    from blender_addon import props

    return props.read_params(obj.scurve_mirror)


def assert_mesh_matches(obj, params: MirrorParams) -> None:
    """The object's mesh is scurve_geom's base grid for ``params``, array for array."""
    from blender_addon import mesh_io

    want = build_mesh(params.replace(subdivision_levels=0))
    got = mesh_io.read_mesh(obj.data)
    # Blender stores float32: the float64 library values, rounded once, exactly.
    np.testing.assert_array_equal(got["vertices"], want.vertices.astype(np.float32))
    np.testing.assert_array_equal(got["faces"], want.faces)
    np.testing.assert_array_equal(got["edges"], want.edges)
    np.testing.assert_array_equal(got["uv"], want.uv[want.faces.ravel()].astype(np.float32))
    # Nothing for Blender to fix: edges, corner edges and face offsets are consistent.
    assert obj.data.validate(verbose=False) is False
    assert len(obj.data.vertices) == want.n_vertices
    # Smooth shading everywhere.
    flags = np.empty(len(obj.data.polygons), dtype=bool)
    obj.data.polygons.foreach_get("use_smooth", flags)
    assert flags.all()


def assert_modifier(obj, params: MirrorParams) -> None:
    from blender_addon.mirror_object import MODIFIER_NAME

    subsurf = [m for m in obj.modifiers if m.type == "SUBSURF"]
    if params.subdivision_levels == 0:
        assert subsurf == []
        return
    assert [m.name for m in subsurf] == [MODIFIER_NAME]
    mod = subsurf[0]
    assert obj.modifiers[-1] == mod  # after anything that makes or moves geometry
    # Every level in the render, at most two in the viewport.
    assert mod.render_levels == params.subdivision_levels
    assert mod.levels == min(params.subdivision_levels, 2)
    assert mod.boundary_smooth == params.boundary_smooth


# --------------------------------------------------------------------------- registration


def test_register_unregister_three_times(factory_scene):
    import blender_addon
    from blender_addon import operators

    for _ in range(3):
        blender_addon.register()
        assert hasattr(bpy.types, "MESH_OT_scurve_mirror_add")
        assert hasattr(bpy.types, "OBJECT_OT_scurve_mirror_edit")
        panel = bpy.types.VIEW3D_PT_scurve_mirror
        assert (panel.bl_region_type, panel.bl_category) == ("UI", "S-Curve")
        assert "scurve_mirror" in bpy.types.Object.bl_rna.properties
        assert operators.menu_func in bpy.types.VIEW3D_MT_mesh_add._dyn_ui_initialize()
        assert bpy.ops.mesh.scurve_mirror_add.get_rna_type().name == "Add S-Curve Mirror"
        blender_addon.unregister()
        assert not hasattr(bpy.types, "MESH_OT_scurve_mirror_add")
        assert not hasattr(bpy.types, "VIEW3D_PT_scurve_mirror")
        assert "scurve_mirror" not in bpy.types.Object.bl_rna.properties
        assert operators.menu_func not in bpy.types.VIEW3D_MT_mesh_add._dyn_ui_initialize()


def test_redo_panel_offers_every_parameter_with_units(addon):
    from blender_addon import props

    rna = bpy.ops.mesh.scurve_mirror_add.get_rna_type().properties
    for field in MirrorParams.describe():
        prop = rna[field["name"]]
        assert prop.description == field["doc"]
        if field.get("unit") == "LENGTH":
            assert (prop.subtype, prop.unit) == ("DISTANCE", "LENGTH")
        if field.get("unit") == "ROTATION":
            assert (prop.subtype, prop.unit) == ("ANGLE", "ROTATION")
        if field.get("min") is not None and field["type"] in ("int", "float"):
            assert prop.hard_min == pytest.approx(field["min"], rel=1e-6)
            assert prop.hard_max == pytest.approx(field["max"], rel=1e-6)
    assert {i.identifier for i in rna["preset"].enum_items} == {props.CUSTOM, *PRESETS}
    assert set(bpy.types.MESH_OT_scurve_mirror_add.bl_options) >= {"REGISTER", "UNDO"}


# --------------------------------------------------------------------------- add


@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_add_builds_the_library_mesh(addon, name):
    bpy.context.scene.cursor.location = (1.0, -2.0, 0.5)
    from blender_addon import props

    obj = add(**PARAM_SETS[name])
    # Unset values take the add-on's defaults (the seed's look: 3 subdivision levels).
    requested = MirrorParams(**{**props.DEFAULTS, **PARAM_SETS[name]})
    params = stored_params(obj)
    # The stored values are the requested ones up to Blender's float32 storage.
    for key, value in requested.to_dict().items():
        if isinstance(value, float):
            assert getattr(params, key) == pytest.approx(value, rel=1e-6, abs=1e-7)
        else:
            assert getattr(params, key) == value
    assert obj.scurve_mirror.is_mirror
    assert tuple(obj.location) == pytest.approx((1.0, -2.0, 0.5))
    assert_mesh_matches(obj, params)
    assert_modifier(obj, params)
    assert len(bpy.data.objects) == len(bpy.data.meshes) == 1


@pytest.mark.parametrize(("preset", "levels"), [(None, 3), ("blog-part2", 3),
                                               ("blog-unmatched", 3), ("kapoor", 0),
                                               ("smooth", 0)])
def test_default_look_subdivides_coarse_grids_only(addon, preset, levels):
    # The seed's 17-row grid gets its Subdivision Surface (2 levels in the viewport, 3 in
    # the render); grids fine enough to need none get none.
    obj = add() if preset is None else add(preset=preset)
    params = stored_params(obj)
    assert params.subdivision_levels == levels
    assert_modifier(obj, params)


def test_preset_fills_values_and_explicit_values_win(addon):
    obj = add(preset="kapoor")
    want = MirrorParams(**PRESETS["kapoor"])
    got = stored_params(obj)
    assert got.length_segments == want.length_segments
    assert got.arch_angle == pytest.approx(want.arch_angle, rel=1e-6)
    obj = add(preset="kapoor", radius=2.0, length_segments=5)
    got = stored_params(obj)
    assert (got.radius, got.length_segments, got.circle_vertices) == (2.0, 5, 128)


def test_add_needs_object_mode(addon):
    add()
    bpy.ops.object.mode_set(mode="EDIT")
    assert not bpy.ops.mesh.scurve_mirror_add.poll()
    bpy.ops.object.mode_set(mode="OBJECT")
    assert bpy.ops.mesh.scurve_mirror_add.poll()
    assert "Object Mode" in bpy.ops.mesh.scurve_mirror_add.get_rna_type().description


def test_full_half_circle_survives_float32(addon):
    # pi stored as float32 is 3.1415927 > math.pi: it must still be accepted as pi.
    obj = add(arch_angle=math.pi)
    assert stored_params(obj).arch_angle == math.pi


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(circle_vertices=33), "circle_vertices=33"),
        (dict(s_amplitude=50.0), "s_amplitude=50.0"),
        (dict(circle_vertices=8192, length_segments=8192), f"at most {MAX_VERTICES}"),
    ],
)
def test_invalid_input_reports_error_and_leaves_nothing(addon, data_counts, kwargs, message):
    add()  # something already in the file, which must stay as it is
    before = data_counts()
    # bpy.ops turns an ERROR report into RuntimeError carrying the report's text.
    with pytest.raises(RuntimeError, match=message):
        bpy.ops.mesh.scurve_mirror_add(**kwargs)
    assert data_counts() == before


# --------------------------------------------------------------------------- edit / redo


def test_edit_rebuilds_in_place_and_keeps_materials(addon, data_counts):
    obj = add(length_segments=2)
    mesh_name = obj.data.name
    material = bpy.data.materials.new("polished")
    obj.data.materials.append(material)
    before = data_counts()

    assert bpy.ops.object.scurve_mirror_edit(radius=1.5, length_segments=4,
                                             subdivision_levels=1) == {"FINISHED"}
    assert data_counts() == before  # replaced, not added
    assert bpy.context.active_object == obj and obj.data.name == mesh_name
    assert obj.data.materials[0] == material
    params = stored_params(obj)
    assert (params.radius, params.length_segments, params.subdivision_levels) == (1.5, 4, 1)
    # Parameters not passed keep the object's values.
    assert params.circle_vertices == 32 and params.weld_seam
    assert_mesh_matches(obj, params)
    assert_modifier(obj, params)

    # Again, as a redo with other values would: back to no modifier, unwelded seam.
    assert bpy.ops.object.scurve_mirror_edit(subdivision_levels=0, weld_seam=False,
                                             preset="CUSTOM") == {"FINISHED"}
    params = stored_params(obj)
    assert params.radius == 1.5 and not params.weld_seam
    assert_mesh_matches(obj, params)
    assert_modifier(obj, params)
    assert data_counts() == before


def test_edit_with_preset_replaces_every_value(addon):
    obj = add(radius=0.5)
    assert bpy.ops.object.scurve_mirror_edit(preset="blog-unmatched") == {"FINISHED"}
    params = stored_params(obj)
    # The preset's values, with the Subdivision Surface its coarse grid needs.
    assert params == MirrorParams(**PRESETS["blog-unmatched"], subdivision_levels=3)
    assert_mesh_matches(obj, params)


def test_invalid_edit_leaves_the_mirror_unchanged(addon, data_counts):
    obj = add(length_segments=3)
    before_counts = data_counts()
    before = (len(obj.data.vertices), stored_params(obj))
    with pytest.raises(RuntimeError, match="circle_vertices=31"):
        bpy.ops.object.scurve_mirror_edit(circle_vertices=31)
    assert (len(obj.data.vertices), stored_params(obj)) == before
    assert data_counts() == before_counts


def test_edit_poll_needs_a_mirror_in_object_mode(addon):
    assert not bpy.ops.object.scurve_mirror_edit.poll()
    bpy.ops.mesh.primitive_cube_add()
    assert not bpy.ops.object.scurve_mirror_edit.poll()
    with pytest.raises(RuntimeError, match="not an S-curve mirror"):
        bpy.ops.object.scurve_mirror_edit()
    add()
    assert bpy.ops.object.scurve_mirror_edit.poll()
    bpy.ops.object.mode_set(mode="EDIT")
    assert not bpy.ops.object.scurve_mirror_edit.poll()
    bpy.ops.object.mode_set(mode="OBJECT")
    doc = bpy.ops.object.scurve_mirror_edit.get_rna_type().description
    assert "active object" in doc and "Object Mode" in doc


# --------------------------------------------------------------------------- undo safety


def test_state_lives_in_blender_data_and_survives_reload(addon, tmp_path):
    """What undo needs, checked where background Blender allows it.

    ``ed.undo`` cannot run without a window (its poll fails in background mode), so this
    checks the property undo relies on: the mirror's parameters and mesh are ordinary
    Blender data, restored by a file round trip (memfile undo is the same round trip in
    memory), and Edit works on the restored object with no Python-side state.
    """
    obj = add(length_segments=2, s_amplitude=0.4, subdivision_levels=1)
    params = stored_params(obj)
    path = str(tmp_path / "mirror.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path)
    obj = bpy.data.objects["S-Curve Mirror"]
    assert stored_params(obj) == params
    assert_mesh_matches(obj, params)
    assert_modifier(obj, params)
    bpy.context.view_layer.objects.active = obj
    assert bpy.ops.object.scurve_mirror_edit(length_segments=3) == {"FINISHED"}
    assert_mesh_matches(obj, params.replace(length_segments=3))


# --------------------------------------------------------------------------- conversion


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cv=st.integers(2, 12).map(lambda k: 2 * k),
    k=st.integers(1, 6),
    weld=st.booleans(),
    match=st.booleans(),
    bend=st.floats(-0.9, 0.9),
)
def test_random_parameters_convert_exactly(addon, cv, k, weld, match, bend):
    from blender_addon import mesh_io

    params = MirrorParams(circle_vertices=cv, length_segments=k, weld_seam=weld,
                          match_heights=match, s_amplitude=bend)
    mesh = build_mesh(params)
    data = mesh_io.new_mesh("check", mesh)
    try:
        got = mesh_io.read_mesh(data)
        np.testing.assert_array_equal(got["vertices"], mesh.vertices.astype(np.float32))
        np.testing.assert_array_equal(got["faces"], mesh.faces)
        assert data.validate(verbose=False) is False
    finally:
        bpy.data.meshes.remove(data)


def test_subdivided_library_mesh_converts_without_grid(addon):
    # A mesh with no grid layout (the numpy subdivision's output) takes the generic path.
    from blender_addon import mesh_io

    mesh = build_mesh(MirrorParams(subdivision_levels=1))
    data = mesh_io.new_mesh("subdivided", mesh)
    try:
        got = mesh_io.read_mesh(data)
        np.testing.assert_array_equal(got["faces"], mesh.faces)
        assert data.validate(verbose=False) is False
    finally:
        bpy.data.meshes.remove(data)
