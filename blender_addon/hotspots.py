"""Sun Hot Spots: where the mirror focuses the stage's sun, shown on the ground.

The map comes from ``scurve_geom.optics`` (the exact surface of the mirror's current
shape, :func:`.mirror_object.object_params`: a procedural mirror's inputs as keyframed
or driven at the current frame; traced in numpy); this module only reads the sun and
the mirror's placement from the scene and turns the map into an image on a plane lying
on the ground.

Ray engine: Embree (``embreex``) when Blender's Python has it, otherwise Blender's own
``mathutils.bvhtree``, one ``ray_cast`` per ray. The extension does not bundle the
embreex wheel: it is native code (one wheel per platform and Python, a platform-split
extension build), and the BVH path gives a usable map in seconds at the operator's
default ray count (rates in README, "Sun hot spots").
"""

from __future__ import annotations

import math
import time
from typing import Any

import bpy
import numpy as np
from mathutils import Vector

from scurve_geom.optics import Engine, Hits, HotSpotMap, Sun, hot_spot_map, mirror_from_params

from . import compat, mirror_object, stage
from .common import is_editable_mirror

__all__ = [
    "OVERLAY_KEY",
    "BVHEngine",
    "SCENE_OT_scurve_sun_hot_spots",
    "SCENE_OT_scurve_sun_hot_spots_clear",
    "colorize",
    "make_engine",
    "register",
    "stage_sun",
    "unregister",
]

#: Custom property on every ID this module creates (object, mesh, material, image).
OVERLAY_KEY = "scurve_sun_hot_spots"
_NAME = "S-Curve Sun Hot Spots"
#: Height of the overlay above the ground, metres: clear of z-fighting with it.
_LIFT = 0.002


class BVHEngine:
    """First hits through ``mathutils.bvhtree`` (no extra package; one Python call per ray)."""

    def __init__(self, vertices: np.ndarray, triangles: np.ndarray) -> None:
        from mathutils.bvhtree import BVHTree

        self._v = np.asarray(vertices, dtype=np.float64)
        self._t = np.asarray(triangles, dtype=np.int64)
        self._tree: Any = BVHTree.FromPolygons(self._v.tolist(), self._t.tolist(), epsilon=0.0)

    def intersect(self, origins: np.ndarray, directions: np.ndarray) -> Hits:
        n = origins.shape[0]
        dist = np.full(n, np.inf)
        tri = np.full(n, -1, dtype=np.int64)
        cast = self._tree.ray_cast
        for k, (o, d) in enumerate(zip(origins.tolist(), directions.tolist(), strict=True)):
            _, _, index, distance = cast(o, d)
            if index is not None:
                tri[k] = index
                dist[k] = distance
        bary = np.zeros((n, 2))
        hit = tri >= 0
        if hit.any():
            p = origins[hit] + dist[hit, None] * directions[hit]
            c = self._v[self._t[tri[hit]]]
            e1, e2, q = c[:, 1] - c[:, 0], c[:, 2] - c[:, 0], p - c[:, 0]
            # Solve q = b1 e1 + b2 e2 in the least-squares sense (the point is on the plane).
            d11 = np.einsum("ij,ij->i", e1, e1)
            d12 = np.einsum("ij,ij->i", e1, e2)
            d22 = np.einsum("ij,ij->i", e2, e2)
            q1 = np.einsum("ij,ij->i", q, e1)
            q2 = np.einsum("ij,ij->i", q, e2)
            det = d11 * d22 - d12 * d12
            bary[hit, 0] = (d22 * q1 - d12 * q2) / det
            bary[hit, 1] = (d11 * q2 - d12 * q1) / det
        return Hits(dist, tri, bary)


def make_engine(vertices: np.ndarray, triangles: np.ndarray) -> tuple[Engine, str]:
    """Embree when importable, else the BVH engine; with the engine's name."""
    try:
        from scurve_geom.optics import EmbreeEngine

        return EmbreeEngine(vertices, triangles), "Embree"
    except ImportError:
        return BVHEngine(vertices, triangles), "Blender BVH"


def stage_sun(scene: Any, mirror: Any) -> Sun:
    """The stage's sun lamp as elevation/azimuth in the mirror's own frame (degrees).

    Raises
    ------
    ValueError
        When the scene has no stage sun (run Set Up Mirror Stage first).
    """
    lamp = stage.stage_objects(scene).get("sun")
    if lamp is None:
        raise ValueError("no stage sun: run Set Up Mirror Stage first")
    # A sun lamp shines along its local -Z: the sun itself is along +Z.
    toward = (lamp.matrix_world.to_3x3() @ Vector((0.0, 0.0, 1.0))).normalized()
    to_world = mirror_object.object_frame(mirror).to_world
    local = (to_world.to_3x3().transposed() @ toward).normalized()
    elevation = math.degrees(math.asin(max(-1.0, min(1.0, local.z))))
    azimuth = math.degrees(math.atan2(local.x, local.y)) % 360.0
    disc = math.degrees(lamp.data.angle) if lamp.data.type == "SUN" else 0.53
    return Sun(elevation, azimuth, min(disc, 30.0))


def colorize(concentration: np.ndarray) -> np.ndarray:
    """RGBA float32 (ny, nx, 4) of a map: black-red-yellow-white on a square-root scale,
    transparent where no reflected light falls."""
    peak = float(concentration.max())
    t = np.sqrt(concentration / peak) if peak > 0 else np.zeros_like(concentration)
    stops = np.array([0.0, 0.35, 0.7, 1.0])
    colours = np.array([[0.0, 0.0, 0.05], [0.75, 0.05, 0.15], [1.0, 0.6, 0.0], [1.0, 1.0, 0.85]])
    rgba = np.empty((*t.shape, 4), dtype=np.float32)
    for k in range(3):
        rgba[..., k] = np.interp(t, stops, colours[:, k])
    rgba[..., 3] = np.where(concentration > 0, 0.35 + 0.65 * np.minimum(1.0, 4 * t), 0.0)
    return rgba


def _remove_overlay() -> int:
    """Delete every ID this module made; returns how many objects went."""
    gone = 0
    for coll_name in ("objects", "meshes", "materials", "images"):
        coll = getattr(bpy.data, coll_name)
        for idblock in [i for i in coll if i.get(OVERLAY_KEY)]:
            gone += coll_name == "objects"
            coll.remove(idblock)
    return gone


def _overlay(context: Any, mirror: Any, hmap: HotSpotMap) -> Any:
    """A plane over the map's extent, just above the ground, textured with the map."""
    ny, nx = hmap.concentration.shape
    img = bpy.data.images.new(_NAME, nx, ny, alpha=True, float_buffer=True)
    img[OVERLAY_KEY] = True
    img.pixels.foreach_set(colorize(hmap.concentration).ravel())  # type: ignore[attr-defined]
    img.pack()

    x0, x1, y0, y1 = hmap.extent
    z = hmap.height + _LIFT
    mesh = bpy.data.meshes.new(_NAME)
    mesh[OVERLAY_KEY] = True
    mesh.from_pydata([(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0])

    mat = bpy.data.materials.new(_NAME)
    mat[OVERLAY_KEY] = True
    tree = compat.ensure_node_tree(mat)
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    mix = tree.nodes.new("ShaderNodeMixShader")
    clear = tree.nodes.new("ShaderNodeBsdfTransparent")
    glow = tree.nodes.new("ShaderNodeEmission")
    tex = tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.interpolation = "Closest"
    tree.links.new(tex.outputs["Color"], glow.inputs["Color"])
    tree.links.new(tex.outputs["Alpha"], mix.inputs["Fac"])
    tree.links.new(clear.outputs["BSDF"], mix.inputs[1])
    tree.links.new(glow.outputs["Emission"], mix.inputs[2])
    tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])
    mesh.materials.append(mat)

    obj = bpy.data.objects.new(_NAME, mesh)
    obj[OVERLAY_KEY] = True
    obj["peak_concentration"] = hmap.peak_concentration
    obj["peak_xy"] = list(hmap.peak_xy)
    obj.matrix_world = mirror_object.object_frame(mirror).to_world
    # An overlay for the eye: it casts no shadow and no render ray but the camera's meets it.
    compat.set_if_present(obj, visible_shadow=False, visible_diffuse=False,
                          visible_glossy=False, visible_transmission=False)
    obj.hide_select = True
    # Beside the stage's sun, in the stage's collection, when there is one.
    lamp = stage.stage_objects(context.scene).get("sun")
    target = lamp.users_collection[0] if lamp is not None else context.collection
    target.objects.link(obj)
    return obj


class SCENE_OT_scurve_sun_hot_spots(bpy.types.Operator):
    """Trace the stage's sun on the S-curve mirror and show the reflected light on the
    ground (a multiple of the sun's direct irradiance); the peak goes to the status bar"""

    bl_idname = "scene.scurve_sun_hot_spots"
    bl_label = "Sun Hot Spots"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    rays: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Rays", min=1000, soft_max=10_000_000, default=100_000,
        description="Sun rays traced (more: less noise, longer). Without the embreex "
        "package Blender's own BVH traces about 10x slower than Embree",
    )
    cell: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Cell Size", min=0.005, max=5.0, default=0.1, unit="LENGTH",
        description="Size of the map's square cells",
    )
    reflectance: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Reflectance", min=0.0, max=1.0, default=0.9, subtype="FACTOR",
        description="Fraction of light the mirror reflects per bounce",
    )
    height: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Receiver Height", min=0.0, soft_max=3.0, default=0.0, unit="LENGTH",
        description="Map a horizontal plane this high instead of the ground (1.7: head height)",
    )

    @classmethod
    def poll(cls, context: Any) -> bool:
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        mirror = stage.find_mirror(context)
        if not is_editable_mirror(mirror):
            cls.poll_message_set("Needs a mirror made by Add > Mesh > S-Curve Mirror")
            return False
        if "sun" not in stage.stage_objects(context.scene):
            cls.poll_message_set("Needs the stage's sun: run Set Up Mirror Stage first")
            return False
        return True

    def execute(self, context: Any) -> Any:  # a set of Blender's result literals
        mirror = stage.find_mirror(context)
        try:
            if mirror is None or not is_editable_mirror(mirror):
                raise ValueError("no S-curve mirror made by this add-on in the scene")
            frame = mirror_object.object_frame(mirror)
            if abs(frame.uniform_scale(mirror.name) - 1.0) > 1e-4:
                shown = tuple(round(s, 4) for s in (frame.scale.x, frame.scale.y,
                                                    frame.scale.z))
                raise ValueError(f"mirror {mirror.name!r} is scaled {shown}: apply the scale "
                                 "or change its radius and half length instead")
            params = mirror_object.object_params(mirror)
            sun = stage_sun(context.scene, mirror)
            if sun.elevation_deg <= 0:
                raise ValueError(f"the stage's sun is below the horizon "
                                 f"({sun.elevation_deg:.1f}°): no hot spots")
            start = time.perf_counter()
            model = mirror_from_params(params)
            engine, engine_name = make_engine(model.vertices, model.triangles)
            hmap = hot_spot_map(model, sun, cell=self.cell, rays=self.rays,
                                reflectance=self.reflectance, height=self.height,
                                engine=engine)
            seconds = time.perf_counter() - start
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        _remove_overlay()
        _overlay(context, mirror, hmap)
        x, y = hmap.peak_xy
        self.report({"INFO"}, (
            f"Sun hot spot: peak {hmap.peak_concentration:.1f}× the sun's direct irradiance at "
            f"({x:.2f}, {y:.2f}) m from the seam; sun {sun.elevation_deg:.0f}° up, azimuth "
            f"{sun.azimuth_deg:.0f}°; {self.rays:,} rays in {seconds:.1f} s ({engine_name})"
        ))
        return {"FINISHED"}


class SCENE_OT_scurve_sun_hot_spots_clear(bpy.types.Operator):
    """Remove the sun hot-spot map from the scene"""

    bl_idname = "scene.scurve_sun_hot_spots_clear"
    bl_label = "Remove Sun Hot Spots"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: Any) -> bool:
        return any(o.get(OVERLAY_KEY) for o in bpy.data.objects)

    def execute(self, context: Any) -> Any:
        n = _remove_overlay()
        self.report({"INFO"}, f"Removed {n} sun hot-spot map{'s' if n != 1 else ''}")
        return {"FINISHED"}


classes = (SCENE_OT_scurve_sun_hot_spots, SCENE_OT_scurve_sun_hot_spots_clear)
register, unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]
