"""Panelize and Export Cutting Patterns in real Blender (libigl inside Blender's Python).

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_fabricate_ops.py -q
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("igl", reason="requirements/bpy*.txt install libigl")

from blender_addon import fabricate_ops, mirror_nodes, mirror_object  # noqa: E402
from scurve_geom import preset  # noqa: E402
from scurve_geom.fabricate import FabricationOptions, fabricate  # noqa: E402
from scurve_geom.fabricate.drawings import CLASS_COLOURS  # noqa: E402

pytestmark = pytest.mark.blender


def add(**kwargs: Any) -> Any:
    assert bpy.ops.mesh.scurve_mirror_add(**kwargs) == {"FINISHED"}
    return bpy.context.active_object


def overlay(mirror: Any) -> dict[str, Any]:
    return {o.name: o for o in bpy.data.objects
            if o.get(fabricate_ops.OVERLAY_KEY) == mirror.name}


def set_input(mod: Any, name: str, value: Any) -> None:
    ident = {i.name: i.identifier for i in mod.node_group.interface.items_tree
             if getattr(i, "in_out", None) == "INPUT"}[mirror_nodes.label(name)]
    mod[ident] = value


def face_colours(obj: Any) -> np.ndarray:
    attr = obj.data.color_attributes["Panel Class"]
    flat = np.empty(len(attr.data) * 4, dtype=np.float32)
    attr.data.foreach_get("color", flat)
    return flat.reshape(-1, 4, 4)[:, 0, :3]     # one corner of each quad


def test_panelize_colours_the_panels_by_class(addon: Any) -> None:
    mirror = add(preset="blog-part2")
    bpy.context.scene.scurve_fabrication.plate_width = 1.8
    assert bpy.ops.object.scurve_panelize() == {"FINISHED"}
    objs = overlay(mirror)
    panels, seams = objs[f"{mirror.name} Panels"], objs[f"{mirror.name} Seams"]
    assert panels.parent == mirror and seams.parent == mirror
    assert panels.hide_render and seams.hide_render and panels.show_in_front
    want = fabricate(preset("blog-part2"), FabricationOptions(plate_width=1.8))
    assert len({p.strain_class for p in want.panels}) >= 2   # something to tell apart
    assert list(panels["panel_names"]) == [p.name for p in want.panels]
    assert list(panels["panel_classes"]) == [p.strain_class for p in want.panels]
    # Each face carries its panel's class colour.
    index = np.empty(len(panels.data.polygons), dtype=np.int32)
    panels.data.attributes["panel"].data.foreach_get("value", index)
    expected = np.array([CLASS_COLOURS[want.panels[i].strain_class] for i in index])
    np.testing.assert_allclose(face_colours(panels), expected, atol=1e-6)
    assert set(index) == set(range(len(want.panels)))
    # Each face's material is its class's, coloured in the Solid viewport too.
    slots = np.empty(len(panels.data.polygons), dtype=np.int32)
    panels.data.polygons.foreach_get("material_index", slots)
    shown = np.array([panels.data.materials[k].diffuse_color[:3] for k in slots])
    np.testing.assert_allclose(shown, expected, atol=1e-6)
    # Seams: every panel's outline, on the wall (within the 3 mm lift).
    co = np.empty(len(seams.data.vertices) * 3, dtype=np.float32)
    seams.data.vertices.foreach_get("co", co)
    assert len(seams.data.edges) == len(seams.data.vertices) > 0
    # Panelize again: the overlay is replaced, not duplicated.
    assert bpy.ops.object.scurve_panelize() == {"FINISHED"}
    assert len(overlay(mirror)) == 2
    assert bpy.ops.object.scurve_panelize_clear() == {"FINISHED"}
    assert overlay(mirror) == {}
    assert not any(m.get(fabricate_ops.OVERLAY_KEY) for m in bpy.data.meshes)


def test_panelize_uses_a_procedural_mirrors_current_shape(addon: Any) -> None:
    mirror = add(preset="kapoor", procedural=True)
    mod = mirror_object.geometry_modifier(mirror)
    set_input(mod, "radius", 2.2)          # changed in the modifier only
    set_input(mod, "arch_angle", 2.0)
    current = mirror_object.object_params(mirror)
    assert current.radius == pytest.approx(2.2) and mirror.scurve_mirror.radius != 2.2
    assert bpy.ops.object.scurve_panelize() == {"FINISHED"}
    panels = overlay(mirror)[f"{mirror.name} Panels"]
    want = fabricate(current)
    assert list(panels["panel_names"]) == [p.name for p in want.panels]
    assert len(want.panels) != len(fabricate(preset("kapoor")).panels)
    co = np.empty(len(panels.data.vertices) * 3, dtype=np.float32)
    panels.data.vertices.foreach_get("co", co)
    # The overlay's top reaches the current wall's height, not the stored one's.
    assert co.reshape(-1, 3)[:, 2].max() == pytest.approx(current.height, abs=0.01)


def test_export_writes_the_cli_files(addon: Any, tmp_path: Any) -> None:
    mirror = add(preset="kapoor")
    assert bpy.ops.object.scurve_export_patterns(directory=str(tmp_path)) == {"FINISHED"}
    out = tmp_path / fabricate_ops.folder_name(mirror.name)
    data = json.loads((out / "report.json").read_text())
    assert data["totals"]["panels"] == 12 and data["symmetry"]["unique_patterns"] == 6
    assert len(list((out / "patterns").glob("*.dxf"))) == 12
    for name in ("nesting.svg", "nesting.png", "strain_map.png"):
        assert (out / name).stat().st_size > 10_000
    # Again into the same folder: the earlier output is replaced as a set.
    assert bpy.ops.object.scurve_export_patterns(directory=str(tmp_path)) == {"FINISHED"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_bad_shape_reports_and_changes_nothing(addon: Any, tmp_path: Any,
                                               data_counts: Any) -> None:
    mirror = add(procedural=True)
    set_input(mirror_object.geometry_modifier(mirror), "circle_vertices", 33)
    before = data_counts()
    with pytest.raises(RuntimeError, match="circle_vertices=33"):
        bpy.ops.object.scurve_panelize()
    with pytest.raises(RuntimeError, match="circle_vertices=33"):
        bpy.ops.object.scurve_export_patterns(directory=str(tmp_path))
    assert data_counts() == before
    assert list(tmp_path.iterdir()) == []


def test_operators_need_a_mirror(addon: Any) -> None:
    assert not bpy.ops.object.scurve_panelize.poll()
    bpy.ops.mesh.primitive_cube_add()
    assert not bpy.ops.object.scurve_panelize.poll()
    assert not bpy.ops.object.scurve_export_patterns.poll()
    add()
    assert bpy.ops.object.scurve_panelize.poll()
    assert not bpy.ops.object.scurve_panelize_clear.poll()
