"""The hot-spot map against Cycles: the same scene rendered with caustics.

Scene: the blog-part2 mirror's exact surface (a fine smooth-shaded grid), a perfect
mirror of reflectance R (a Glossy BSDF, roughness 0, colour R), a white diffuse ground,
a sun lamp and nothing else (black world). The ground is seen from straight above by an
orthographic camera whose pixels are the map's cells.

Cycles finds a caustic only when a path from the ground, reflected by the mirror, happens
to hit the sun's disc: with the real 0.53° disc that is one path in ~10⁴ even in the hot
spot, hopeless at test sizes. So the sun here is 12° across, in Cycles and in the map
alike (the tracer takes any disc). The sun's direct light is kept off the ground (the
lamp is invisible to diffuse rays) so the render holds reflected light only, as the map
does; a second, direct-light render of the bare ground (irradiance DNI sin e) converts
pixel values to multiples of DNI.

Tolerances, from the render's noise: at 1024 samples the smoothed (3×3-cell) peak of
three seeds scattered ±8 % around the map's (±5 % at 2048), and the total reflected
power on the picture came within −3.2 % to +1.3 % of the map's (−1 % to +1.3 % at
2048). Asserted: peaks within 2 cells of each other, peak values within 15 %, totals
within 6 %, patterns correlated above 0.9.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender_addon import compat  # noqa: E402
from scurve_geom import preset  # noqa: E402
from scurve_geom.optics import Sun, default_extent, hot_spot_map, mirror_from_params  # noqa: E402

pytestmark = pytest.mark.blender

ELEVATION, AZIMUTH, DISC = 40.0, 200.0, 12.0
REFLECTANCE = 0.9
CELL = 0.2
SAMPLES = 1024
PARAMS = preset("blog-part2", circle_vertices=96, length_segments=48)


def _ground_material() -> Any:
    mat = bpy.data.materials.new("ground")
    tree = compat.ensure_node_tree(mat)
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    bsdf = tree.nodes.new("ShaderNodeBsdfDiffuse")
    bsdf.inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
    tree.links.new(bsdf.outputs[0], out.inputs["Surface"])
    return mat


def _mirror_material() -> Any:
    mat = bpy.data.materials.new("mirror")
    tree = compat.ensure_node_tree(mat)
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    bsdf = tree.nodes.new("ShaderNodeBsdfGlossy")
    bsdf.inputs["Color"].default_value = (REFLECTANCE, REFLECTANCE, REFLECTANCE, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.0
    tree.links.new(bsdf.outputs[0], out.inputs["Surface"])
    return mat


def _scene(extent: tuple[float, float, float, float], nx: int, ny: int) -> dict[str, Any]:
    from blender_addon import mesh_io
    from scurve_geom import build_mesh

    scene = bpy.context.scene
    mesh = mesh_io.new_mesh("mirror", build_mesh(PARAMS))
    mirror = bpy.data.objects.new("mirror", mesh)
    mesh.materials.append(_mirror_material())
    scene.collection.objects.link(mirror)
    mirror.visible_camera = False  # the camera looks at the ground under it too

    x0, x1, y0, y1 = extent
    gmesh = bpy.data.meshes.new("ground")
    big = 200.0
    gmesh.from_pydata([(-big, -big, 0), (big, -big, 0), (big, big, 0), (-big, big, 0)], [],
                      [(0, 1, 2, 3)])
    gmesh.materials.append(_ground_material())
    ground = bpy.data.objects.new("ground", gmesh)
    scene.collection.objects.link(ground)

    light = bpy.data.lights.new("sun", "SUN")
    light.energy = 1.0
    light.angle = math.radians(DISC)
    sun = bpy.data.objects.new("sun", light)
    scene.collection.objects.link(sun)
    e, a = math.radians(ELEVATION), math.radians(AZIMUTH)
    from mathutils import Vector

    toward = Vector((math.cos(e) * math.sin(a), math.cos(e) * math.cos(a), math.sin(e)))
    sun.rotation_mode = "QUATERNION"
    sun.rotation_quaternion = (-toward).to_track_quat("-Z", "Y")

    cam_data = bpy.data.cameras.new("top")
    cam_data.type = "ORTHO"
    cam_data.ortho_scale = max(x1 - x0, y1 - y0)
    cam_data.sensor_fit = "AUTO"
    cam = bpy.data.objects.new("top", cam_data)
    cam.location = ((x0 + x1) / 2, (y0 + y1) / 2, 20.0)
    scene.collection.objects.link(cam)
    scene.camera = cam

    # No world at all: a black background, no sky light.
    scene.world = None

    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y = nx, ny
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.render.filter_size = 0.01  # a pixel is one map cell, not a blend of its neighbours
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    c = scene.cycles
    c.device = "CPU"
    c.use_adaptive_sampling = False
    c.use_denoising = False
    c.caustics_reflective = True
    c.caustics_refractive = False
    c.blur_glossy = 0.0
    c.sample_clamp_direct = 0.0
    c.sample_clamp_indirect = 0.0
    c.max_bounces = 12
    c.diffuse_bounces = 1
    c.glossy_bounces = 10
    c.transmission_bounces = 0
    c.transparent_max_bounces = 0
    c.volume_bounces = 0
    c.seed = 1
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    return {"scene": scene, "mirror": mirror, "sun": sun}


def _render(scene: Any, samples: int, folder: Path, name: str) -> np.ndarray:
    scene.cycles.samples = samples
    path = folder / f"{name}.exr"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    w, h = img.size
    px = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(px)
    bpy.data.images.remove(img)
    return px.reshape(h, w, 4)[..., :3].mean(axis=2).astype(np.float64)


def _smooth(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1)
    return sum(p[1 + dj:p.shape[0] - 1 + dj, 1 + di:p.shape[1] - 1 + di]
               for dj in (-1, 0, 1) for di in (-1, 0, 1)) / 9.0


def test_cycles_caustic_matches_the_map(factory_scene: Any) -> None:
    model = mirror_from_params(PARAMS)
    full = default_extent(model, CELL)
    # The concave half's side in front of the wall, where this sun's hot spot falls.
    extent = (full[0], 0.5, full[2], 0.5)
    hmap = hot_spot_map(model, Sun(ELEVATION, AZIMUTH, DISC), cell=CELL, extent=extent,
                        rays=400_000, reflectance=REFLECTANCE)
    ny, nx = hmap.concentration.shape
    built = _scene(hmap.extent, nx, ny)
    scene = built["scene"]
    with tempfile.TemporaryDirectory() as tmp:
        # Reflected light only: the lamp lights the ground through the mirror alone.
        built["sun"].visible_diffuse = False
        caustic = _render(scene, SAMPLES, Path(tmp), "caustic")
        # Calibration: the bare ground in direct sun, irradiance DNI sin(e).
        built["sun"].visible_diffuse = True
        built["mirror"].hide_render = True
        direct = _render(scene, 4, Path(tmp), "direct")
    per_dni = float(np.median(direct)) / math.sin(math.radians(ELEVATION))
    assert per_dni > 0
    render = _smooth(caustic / per_dni)
    traced = _smooth(hmap.concentration)
    jr, ir = np.unravel_index(render.argmax(), render.shape)
    jt, it = np.unravel_index(traced.argmax(), traced.shape)
    dump = os.environ.get("SCURVE_OPTICS_DUMP")
    if dump:  # for the README's side-by-side picture
        np.savez(dump, render=caustic / per_dni, traced=hmap.concentration,
                 extent=np.array(hmap.extent))
    print(f"peak: traced {traced.max():.3f} at {(jt, it)}, Cycles {render.max():.3f} at "
          f"{(jr, ir)}; total traced {traced.sum():.1f} Cycles {render.sum():.1f}")
    assert max(abs(jr - jt), abs(ir - it)) <= 2
    assert render.max() == pytest.approx(traced.max(), rel=0.15)
    assert render.sum() == pytest.approx(traced.sum(), rel=0.06)
    assert np.corrcoef(render.ravel(), traced.ravel())[0, 1] > 0.9
