"""Build or update the stage around a mirror: the one function the operator and the
render scripts share (:func:`setup_stage`).

Cycles with mirror-friendly light paths, a physical sky and a sun whose colour can go
toward red, a ground plane with a faint disturbed texture, a polished metal on the
mirror, a red cylinder, a green cone and a blue sphere in front of the concave half,
two large area lights and named camera views. The mirror is the one outside object it
changes: it gets the stage's metal material. Lengths are metres, angles radians, light
power watts (sun: W/m²).
"""

from __future__ import annotations

import math
from typing import Any

import bmesh
import bpy

from scurve_geom.optics.sun import SUN_DISC_DEG, sun_direction
from scurve_geom.placement.framing import VIEWS, prop_layout
from scurve_geom.stage_params import StageParams

from .. import compat
from . import materials, sky
from .cycles_settings import configure_cycles
from .frame import MirrorFrame, aim, depsgraph_of, mirror_frame, place_camera
from .tags import Created, ensure_collection, ensure_object

PROP_ROLES = ("prop_cylinder", "prop_cone", "prop_sphere")


def setup_stage(
    context: Any,
    mirror: Any,
    settings: StageParams | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Build or update the stage around ``mirror`` in ``context.scene``.

    Parameters
    ----------
    context
        A Blender context (``bpy.context``) or anything with ``.scene``.
    mirror
        The mirror object (a mesh); the stage is placed in its frame (location and
        rotation), so a moved or rotated mirror gets a matching stage.
    settings
        The stage's settings (sun, sky, lights, props, camera view, Cycles samples and
        device; see :class:`scurve_geom.StageParams` for units and defaults).
    **overrides
        ``StageParams`` fields replacing those of ``settings``
        (``setup_stage(context, mirror, view="concave", samples=8)``).

    Returns
    -------
    dict
        ``{role: object}`` of the stage objects.

    Raises
    ------
    ValueError
        For invalid settings or a mirror with no usable geometry; nothing in the
        scene has changed then.
    """
    p = (settings if settings is not None else StageParams()).replace(**overrides)
    scene = context.scene
    if mirror is None or getattr(mirror, "type", None) != "MESH":
        raise ValueError("the stage needs a mirror mesh object")
    frame = mirror_frame(mirror, context.evaluated_depsgraph_get()
                         if hasattr(context, "evaluated_depsgraph_get") else depsgraph_of(scene))
    if p.device == "gpu" and not compat.cycles_gpu_available(context):
        raise ValueError("device=gpu but no GPU is configured in Preferences > System")

    made = Created()
    try:
        objs = _build(scene, mirror, frame, made, p)
        # Scene-wide settings last: a failure above leaves them as they were.
        configure_cycles(scene, samples=p.samples, device=p.device, context=context)
        for v in VIEWS:
            place_camera(scene, objs[f"camera_{v}"], frame, v)
        scene.camera = objs[f"camera_{p.view}"]
        # Callers project points through the cameras next; matrix_world is stale
        # until the view layer is evaluated.
        view_layer = getattr(context, "view_layer", None)
        if view_layer is not None:
            view_layer.update()
    except Exception:
        made.rollback()
        raise
    return objs


def _build(scene: Any, mirror: Any, frame: MirrorFrame, made: Created,
           p: StageParams) -> dict[str, Any]:
    coll = ensure_collection(scene, made)
    h = frame.box.height
    lo, hi = frame.box.lo, frame.box.hi
    span = float(max(hi[0] - lo[0], hi[1] - lo[1], h))
    objs: dict[str, Any] = {}

    # Ground: large enough that its edge never shows from the named views.
    ground = ensure_object(coll, "ground", "S-Curve Ground",
                            lambda: _plane_mesh("S-Curve Ground"), made)
    c = (lo + hi) / 2
    ground.location = frame.world((c[0], c[1], lo[2]))
    ground.rotation_mode = "QUATERNION"
    ground.rotation_quaternion = frame.to_world.to_quaternion()
    ground.scale = (12 * span, 12 * span, 1.0)
    materials.assign(ground, materials.ground_material(made))
    objs["ground"] = ground

    sun = ensure_object(coll, "sun", "S-Curve Sun",
                         lambda: bpy.data.lights.new("S-Curve Sun", "SUN"), made)
    sun.data.color = p.sun_color
    sun.data.energy = p.sun_strength
    # 0.53° is the real sun's disc: crisp shadows, like the post's.
    sun.data.angle = math.radians(SUN_DISC_DEG)
    toward_sun = frame.world_dir(tuple(sun_direction(math.degrees(p.sun_elevation),
                                                      math.degrees(p.sun_azimuth))))
    aim(sun, frame.world((c[0], c[1], hi[2] + h)), -toward_sun)
    objs["sun"] = sun

    # Two large soft lights in front, left and right, high: "extended light sources"
    # whose reflections show any unevenness of the surface as kinks.
    for role, side in (("area_left", -1.0), ("area_right", 1.0)):
        light = ensure_object(coll, role, f"S-Curve Area {role[5:].title()}",
                               lambda: bpy.data.lights.new("S-Curve Area", "AREA"), made)
        light.data.shape = "RECTANGLE"
        light.data.size = 0.9 * h
        light.data.size_y = 0.45 * h
        light.data.energy = p.area_power
        pos = (side * 0.45 * (hi[0] - lo[0]), lo[1] - 1.6 * h, hi[2] + 0.9 * h)
        loc = frame.world(pos)
        aim(light, loc, frame.world((side * 0.2 * (hi[0] - lo[0]), c[1], lo[2] + 0.5 * h)) - loc)
        objs[role] = light

    for role, (spot, scale) in prop_layout(frame.box).items():
        obj = ensure_object(coll, role, role.replace("prop_", "S-Curve ").title(),
                             lambda role=role: _primitive_mesh(role), made)
        obj.location = frame.world(spot)
        obj.rotation_mode = "QUATERNION"
        obj.rotation_quaternion = frame.to_world.to_quaternion()
        obj.scale = scale
        obj.hide_render = not p.props
        obj.hide_viewport = not p.props
        materials.assign(obj, materials.prop_material(role, made))
        objs[role] = obj

    for v in VIEWS:
        role = f"camera_{v}"
        objs[role] = ensure_object(coll, role, f"S-Curve Camera {v.title()}",
                                    lambda v=v: bpy.data.cameras.new(f"S-Curve Camera {v.title()}"),
                                    made)

    scene.world = sky.world(scene, made, frame.world_dir, p.sun_elevation,
                                   p.sun_azimuth, p.sky_strength)
    materials.assign(mirror, materials.mirror_material(made, p.mirror_roughness))
    return objs



def _primitive_mesh(role: str) -> Any:
    """A unit primitive (radius 1, 2 tall, centred) with smooth sides and flat caps."""
    bm = bmesh.new()
    try:
        if role == "prop_sphere":
            bmesh.ops.create_uvsphere(bm, u_segments=48, v_segments=24, radius=1.0)
        else:
            tip = 0.0 if role == "prop_cone" else 1.0
            bmesh.ops.create_cone(bm, cap_ends=True, cap_tris=False, segments=48,
                                  radius1=1.0, radius2=tip, depth=2.0)
        for face in bm.faces:
            face.smooth = abs(face.normal.z) < 0.999
        mesh = bpy.data.meshes.new(role.replace("prop_", "S-Curve ").title())
        bm.to_mesh(mesh)
    finally:
        bm.free()
    return mesh


def _plane_mesh(name: str) -> Any:
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], [], [(0, 1, 2, 3)])
    return mesh


