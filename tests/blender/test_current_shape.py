"""Every feature sees a procedural mirror's current shape (issue 17).

A procedural mirror whose inputs were changed by hand, keyframed (the keys at another
frame than the value typed last) or driven shows its new shape in the viewport; Set Up
Mirror Stage, Add Face Planes (camera layout, in the add-on and in
``render_scenes/face_planes.py``), Sun Hot Spots and the sidebar's parameter list must
all use that shape: each gives exactly what it gives on a mesh mirror built with the
same values.

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_current_shape.py -q
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from screen import world_vertices  # noqa: E402

from blender_addon import face_planes, hotspots, mirror_nodes, mirror_object, panels  # noqa: E402

pytestmark = pytest.mark.blender

REPO = Path(__file__).resolve().parents[2]
#: The issue's edit: radius 1 -> 2, half length 3 -> 5, S amplitude 0 -> 0.8.
OLD = {"radius": 1.0, "half_length": 3.0, "s_amplitude": 0.0}
NEW = {"radius": 2.0, "half_length": 5.0, "s_amplitude": 0.8}
KINDS = ("edited", "keyframed", "driven")
RAYS = 20_000
FACES = 3


def add_mirror(procedural: bool, **values: Any) -> Any:
    assert bpy.ops.mesh.scurve_mirror_add(preset="blog-part2", procedural=procedural,
                                          **values) == {"FINISHED"}
    return bpy.context.active_object


def procedural_mirror(kind: str) -> Any:
    """A procedural mirror built with :data:`OLD` whose shape is :data:`NEW` by ``kind``."""
    obj = add_mirror(True, **OLD)
    mod = mirror_object.geometry_modifier(obj)
    ident = {name: mirror_nodes.input_path(mod, name).rsplit('"', 2)[1] for name in NEW}
    scene = bpy.context.scene
    if kind == "edited":
        # As typed into the modifier panel (which tags the object for evaluation):
        # the stored parameters still say OLD.
        for name, value in NEW.items():
            mod[ident[name]] = value
        obj.update_tag()
    elif kind == "keyframed":
        # Built with OLD at frame 1, keyed to NEW at frame 20, shown at frame 20: the
        # stored parameters still say OLD.
        for frame, values in ((1, OLD), (20, NEW)):
            for name, value in values.items():
                mod[ident[name]] = value
                obj.keyframe_insert(data_path=mirror_nodes.input_path(mod, name), frame=frame)
        scene.frame_set(20)
    else:
        target = bpy.data.objects.new("Driver Target", None)
        scene.collection.objects.link(target)
        target.location = (NEW["radius"], NEW["half_length"], NEW["s_amplitude"])
        for axis, name in enumerate(NEW):
            fcurve = obj.driver_add(mirror_nodes.input_path(mod, name))
            var = fcurve.driver.variables.new()
            var.name = "v"
            var.type = "TRANSFORMS"
            var.targets[0].id = target
            var.targets[0].transform_type = "LOC_" + "XYZ"[axis]
            fcurve.driver.expression = "v"
    bpy.context.view_layer.objects.active = obj
    return obj


def features(mirror: Any) -> dict[str, Any]:
    """What each feature makes of ``mirror`` (the active object) on a fresh stage."""
    scene = bpy.context.scene
    bpy.context.view_layer.objects.active = mirror
    assert bpy.ops.scene.scurve_stage(samples=1) == {"FINISHED"}
    bpy.context.view_layer.objects.active = mirror
    out: dict[str, Any] = {
        "params": mirror_object.object_params(mirror),
        "rows": panels.parameter_rows(mirror, scene),
        "camera": np.array(scene.camera.matrix_world),
    }
    assert bpy.ops.scene.scurve_sun_hot_spots(rays=RAYS, cell=0.1) == {"FINISHED"}
    overlay = next(o for o in bpy.data.objects if o.get(hotspots.OVERLAY_KEY))
    out["peak"] = float(overlay["peak_concentration"])
    out["peak_xy"] = tuple(overlay["peak_xy"])
    faces = list(face_planes.decode_faces(FACES, seed=1))
    planes = face_planes.add_face_planes(bpy.context, mirror, faces, layout="camera",
                                         visibility="reflected")
    # As evaluated (and saved): what the render sees.
    bpy.context.view_layer.update()
    out["planes"] = np.array([world_vertices(p) for p in planes])
    return out


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["params"] == want["params"]
    assert got["rows"] == want["rows"]
    # The stage measures the evaluated mesh: float32 Geometry Nodes against numpy.
    np.testing.assert_allclose(got["camera"], want["camera"], atol=1e-4)
    assert got["peak"] == pytest.approx(want["peak"], rel=1e-9)
    assert got["peak_xy"] == pytest.approx(want["peak_xy"], abs=1e-9)
    np.testing.assert_allclose(got["planes"], want["planes"], atol=1e-3)


@pytest.fixture(scope="module")
def mesh_features() -> dict[str, Any]:
    """The features of a mesh mirror built with :data:`NEW` (the reference)."""
    import blender_addon

    bpy.ops.wm.read_factory_settings(use_empty=True)
    blender_addon.register()
    try:
        scene = bpy.context.scene
        scene.render.resolution_x, scene.render.resolution_y = 96, 54
        mirror = add_mirror(False, **NEW)
        return features(mirror)
    finally:
        blender_addon.unregister()
        bpy.ops.wm.read_factory_settings(use_empty=True)


@pytest.mark.parametrize("kind", KINDS)
def test_every_feature_sees_the_current_shape(addon: Any, kind: str,
                                              mesh_features: dict[str, Any]) -> None:
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = 96, 54
    mirror = procedural_mirror(kind)
    stored = {name: getattr(mirror.scurve_mirror, name) for name in NEW}
    assert stored == OLD  # the stale copy the features used to read
    got = features(mirror)
    assert_same(got, mesh_features)
    # The sidebar lists the new values.
    rows = dict(got["rows"])
    assert rows["Radius"] == "2 m" and rows["Half Length"] == "5 m"
    assert rows["S Amplitude"] == "80 cm"  # as Blender shows lengths


def test_keyframes_give_the_shape_of_the_current_frame(addon: Any) -> None:
    obj = add_mirror(True, **OLD)
    mod = mirror_object.geometry_modifier(obj)
    path = mirror_nodes.input_path(mod, "s_amplitude")
    ident = path.rsplit('"', 2)[1]
    for frame, value in ((1, 0.0), (11, 0.8)):
        mod[ident] = value
        obj.keyframe_insert(data_path=path, frame=frame)
    scene = bpy.context.scene
    for frame, want in ((1, 0.0), (6, 0.4), (11, 0.8)):
        scene.frame_set(frame)
        got = mirror_object.object_params(obj).s_amplitude
        # Blender's default Bezier keys ease in and out; halfway is halfway.
        assert got == pytest.approx(want, abs=1e-6)


def test_driver_change_is_seen_without_a_frame_change(addon: Any) -> None:
    obj = procedural_mirror("driven")
    assert mirror_object.object_params(obj).radius == pytest.approx(2.0)
    bpy.data.objects["Driver Target"].location.x = 1.5
    # Nothing has evaluated the depsgraph since: object_params does.
    assert mirror_object.object_params(obj).radius == pytest.approx(1.5)


def test_panel_text_fits_the_default_sidebar(addon: Any) -> None:
    import blf

    from blender_addon import props

    # The 3D Viewport's sidebar opens 220 px wide at UI scale 1 (UI_SIDEBAR_PANEL_WIDTH
    # in 4.2-4.5); a box inside its panel leaves about 180 px, an icon takes 20. At
    # 11 pt "Procedural: inputs in the S-Curve Geometry modifier" was 279 px: cut.
    blf.size(0, 11)
    for line in panels.PROCEDURAL_NOTE:
        assert blf.dimensions(0, line)[0] <= 150, line
    rna = props.SCURVE_PG_mirror.bl_rna.properties
    for name in (rna[n].name for n in props.PARAM_NAMES):
        assert blf.dimensions(0, name)[0] <= panels.LABEL_FACTOR * 180 - 4, name
    for value in ("Keep Corners", "1.3900 m", "180°"):
        assert blf.dimensions(0, value)[0] <= (1 - panels.LABEL_FACTOR) * 180 - 4, value


@pytest.mark.parametrize("kind", KINDS)
def test_face_planes_script_sees_the_current_shape(addon: Any, kind: str, tmp_path: Path,
                                                   mesh_features: dict[str, Any]) -> None:
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = 96, 54
    procedural_mirror(kind)
    assert bpy.ops.scene.scurve_stage(samples=1) == {"FINISHED"}
    src, out = tmp_path / "mirror.blend", tmp_path / "faces.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(src))
    proc = subprocess.run(
        [sys.executable, str(REPO / "render_scenes" / "face_planes.py"), "--blend", str(src),
         "--face-planes", str(FACES), "--face-seed", "1", "--save", str(out)],
        capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bpy.ops.wm.open_mainfile(filepath=str(out))
    planes = face_planes.face_plane_objects(bpy.context.scene)
    got = np.array([world_vertices(p) for p in planes])
    np.testing.assert_allclose(got, mesh_features["planes"], atol=1e-3)


def test_hot_spots_of_an_animate_file_follow_the_frame(factory_scene: Any,
                                                       tmp_path: Path) -> None:
    """``scurve.py --animate`` keyframes the mirror; Sun Hot Spots at frame k maps the
    mirror of frame k, the same map as a mesh mirror built with frame k's values."""
    from render_scenes import animate, scurve
    from scurve_geom.optics import hot_spot_map, mirror_from_params

    args = scurve.parse_args(["--preset", "kapoor", "--animate", "s_amplitude=0:0.9",
                              "--frames", "5", "--resolution", "48", "27", "--out",
                              str(tmp_path / "frames")])
    with scurve.staged_scene(args) as (scene, mirror):
        results = {}
        for k in (1, 4):
            params = animate.apply_frame(scene, mirror, args, k)
            want = animate.frame_params(args.params, args.animate, k, args.frames)
            assert params.s_amplitude == pytest.approx(want.s_amplitude, abs=1e-6)
            bpy.context.view_layer.objects.active = mirror
            assert bpy.ops.scene.scurve_sun_hot_spots(rays=RAYS, cell=0.1) == {"FINISHED"}
            overlay = next(o for o in bpy.data.objects if o.get(hotspots.OVERLAY_KEY))
            results[k] = (float(overlay["peak_concentration"]), tuple(overlay["peak_xy"]))
            # The same map from the library for the mirror of frame k.
            ref = hot_spot_map(mirror_from_params(params),
                               hotspots.stage_sun(scene, mirror), rays=RAYS, cell=0.1)
            assert results[k][0] == pytest.approx(ref.peak_concentration, rel=1e-6)
            assert results[k][1] == pytest.approx(tuple(ref.peak_xy), abs=1e-6)
        assert results[1] != results[4]  # the bend moves the hot spot
