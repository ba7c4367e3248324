"""Sun Hot Spots in real Blender: the stage's sun, the overlay, removal, bad input.

    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender/test_hotspots.py -q
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender_addon import hotspots, props  # noqa: E402
from scurve_geom.optics import EmbreeEngine, Sun, hot_spot_map, mirror_from_params  # noqa: E402

pytestmark = pytest.mark.blender

RAYS = 20_000


def staged(preset: str = "kapoor", **stage_kw: Any) -> Any:
    assert bpy.ops.mesh.scurve_mirror_add(preset=preset) == {"FINISHED"}
    mirror = bpy.context.active_object
    assert bpy.ops.scene.scurve_stage(**stage_kw) == {"FINISHED"}
    bpy.context.view_layer.objects.active = mirror
    return mirror


def overlay_ids() -> dict[str, list[str]]:
    return {k: sorted(i.name for i in getattr(bpy.data, k) if i.get(hotspots.OVERLAY_KEY))
            for k in ("objects", "meshes", "materials", "images")}


def test_map_of_the_stage_sun_on_the_ground(addon: Any, data_counts: Any) -> None:
    mirror = staged(sun_elevation=math.radians(35.0), sun_azimuth=math.radians(200.0))
    # The stage's azimuth is in the mirror's frame: turning and moving the mirror turns
    # the world's sun with it, and the hot spots stay where they were relative to the wall.
    mirror.rotation_euler = (0.0, 0.0, math.radians(30.0))
    mirror.location = (2.0, -1.0, 0.0)
    assert bpy.ops.scene.scurve_stage(sun_elevation=math.radians(35.0),
                                      sun_azimuth=math.radians(200.0)) == {"FINISHED"}
    bpy.context.view_layer.update()
    sun = hotspots.stage_sun(bpy.context.scene, mirror)
    assert sun.elevation_deg == pytest.approx(35.0, abs=1e-3)
    assert sun.azimuth_deg == pytest.approx(200.0, abs=1e-3)
    assert sun.disc_deg == pytest.approx(0.53, abs=1e-4)

    before = data_counts()
    assert bpy.ops.scene.scurve_sun_hot_spots(rays=RAYS, cell=0.1) == {"FINISHED"}
    ids = overlay_ids()
    assert all(len(v) == 1 for v in ids.values()), ids
    obj = bpy.data.objects[ids["objects"][0]]
    # Same numbers as the library for the same sun and seed.
    ref = hot_spot_map(mirror_from_params(props.read_params(mirror.scurve_mirror)),
                       sun, rays=RAYS, cell=0.1)
    assert obj["peak_concentration"] == pytest.approx(ref.peak_concentration, rel=1e-6)
    # The overlay lies on the ground in the mirror's frame, its image the map's grid.
    img = bpy.data.images[ids["images"][0]]
    ny, nx = ref.concentration.shape
    assert tuple(img.size) == (nx, ny)
    mw = np.array(obj.matrix_world)
    assert np.allclose(mw, np.array(mirror.matrix_world), atol=1e-6)
    corners = np.array([v.co[:] for v in obj.data.vertices])
    assert corners[:, 2] == pytest.approx(0.002)
    assert corners[:, 0].min() == pytest.approx(ref.extent[0], abs=1e-5)
    px = np.empty(nx * ny * 4, dtype=np.float32)
    img.pixels.foreach_get(px)
    alpha = px.reshape(ny, nx, 4)[..., 3]
    assert ((alpha > 0) == (ref.concentration > 0)).all()

    # Again: replaced, not added to. Then removed: the file is as before.
    assert bpy.ops.scene.scurve_sun_hot_spots(rays=RAYS, cell=0.1) == {"FINISHED"}
    assert all(len(v) == 1 for v in overlay_ids().values())
    assert bpy.ops.scene.scurve_sun_hot_spots_clear() == {"FINISHED"}
    assert all(not v for v in overlay_ids().values())
    assert data_counts() == before


def test_blender_bvh_engine_agrees_with_embree(addon: Any) -> None:
    model = mirror_from_params(props.read_params(_params_holder("kapoor")), facet=0.05)
    sun = Sun(40.0, 190.0)
    a = hot_spot_map(model, sun, rays=RAYS, cell=0.1,
                     engine=hotspots.BVHEngine(model.vertices, model.triangles))
    b = hot_spot_map(model, sun, rays=RAYS, cell=0.1,
                     engine=EmbreeEngine(model.vertices, model.triangles))
    assert a.totals.intercepted == pytest.approx(b.totals.intercepted, rel=1e-3)
    assert np.abs(a.concentration - b.concentration).sum() < 0.01 * b.concentration.sum()


def _params_holder(preset: str) -> Any:
    assert bpy.ops.mesh.scurve_mirror_add(preset=preset) == {"FINISHED"}
    return bpy.context.active_object.scurve_mirror


def test_bad_cases_cancel_and_change_nothing(addon: Any, data_counts: Any) -> None:
    assert bpy.ops.mesh.scurve_mirror_add(preset="blog-part2") == {"FINISHED"}
    assert not bpy.ops.scene.scurve_sun_hot_spots.poll()  # no stage, no sun
    bpy.ops.scene.scurve_stage(sun_elevation=math.radians(-5.0))
    mirror = bpy.context.active_object
    before = data_counts()
    with pytest.raises(RuntimeError, match="below the horizon"):
        bpy.ops.scene.scurve_sun_hot_spots(rays=RAYS)
    assert data_counts() == before
    bpy.ops.scene.scurve_stage(sun_elevation=math.radians(30.0))
    mirror.scale = (2.0, 2.0, 2.0)
    before = data_counts()
    with pytest.raises(RuntimeError, match="scaled"):
        bpy.ops.scene.scurve_sun_hot_spots(rays=RAYS)
    assert data_counts() == before


def test_colours_are_transparent_where_dark() -> None:
    c = np.array([[0.0, 0.5], [2.0, 8.0]])
    rgba = hotspots.colorize(c)
    assert rgba.shape == (2, 2, 4) and rgba.dtype == np.float32
    assert rgba[0, 0, 3] == 0.0 and (rgba[c > 0][:, 3] > 0).all()
    assert rgba[1, 1, :3].sum() > rgba[0, 1, :3].sum()  # brighter for more light
