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
from collections.abc import Sequence
from typing import Any

import bmesh
import bpy

from scurve_geom.framing import VIEWS, prop_layout, sun_direction

from . import compat, stage_materials, stage_world
from .cycles_settings import configure_cycles
from .stage_frame import MirrorFrame, aim, depsgraph_of, mirror_frame, place_camera
from .stage_tags import Created, ensure_collection, ensure_object

#: Linear RGB. The default is a slightly warm daylight; the red sun is the post's
#: variant "a change of the sun's color to the red side of the spectrum".
DEFAULT_SUN_COLOR = (1.0, 0.95, 0.88)
RED_SUN_COLOR = (1.0, 0.2, 0.05)
PROP_ROLES = ("prop_cylinder", "prop_cone", "prop_sphere")


def _check_color(name: str, color: Sequence[float]) -> tuple[float, float, float]:
    rgb = tuple(float(c) for c in color)
    if len(rgb) != 3 or not all(math.isfinite(c) and 0.0 <= c <= 1.0 for c in rgb):
        raise ValueError(f"{name}={tuple(color)!r} must be three numbers in 0..1 (linear RGB)")
    return rgb  # type: ignore[return-value]


def setup_stage(
    context: Any,
    mirror: Any,
    *,
    sun_color: Sequence[float] = DEFAULT_SUN_COLOR,
    sun_strength: float = 3.0,
    sun_elevation: float = math.radians(32.0),
    sun_azimuth: float = math.radians(205.0),
    sky_strength: float = 0.15,
    area_power: float = 300.0,
    props: bool = True,
    mirror_roughness: float = 0.03,
    view: str = "front",
    samples: int = 128,
    device: str = "auto",
) -> dict[str, Any]:
    """Build or update the stage around ``mirror`` in ``context.scene``.

    Parameters
    ----------
    context
        A Blender context (``bpy.context``) or anything with ``.scene``.
    mirror
        The mirror object (a mesh); the stage is placed in its frame (location and
        rotation), so a moved or rotated mirror gets a matching stage.
    sun_color
        Linear RGB in 0..1 of the sun lamp (:data:`RED_SUN_COLOR` for the post's
        red variant).
    sun_strength
        Sun irradiance, W/m².
    sun_elevation, sun_azimuth
        Sun angles in radians: above the horizon, and about +z measured from the
        mirror's +y axis toward +x (π: the sun faces the front).
    sky_strength
        Multiplier of the physical sky's radiance (it is very bright at 1).
    area_power
        Power of each of the two area lights, watts.
    props
        Whether the red cylinder, green cone and blue sphere are shown.
    mirror_roughness
        Principled roughness of the mirror metal (0: perfect mirror).
    view
        Which camera becomes the scene camera (one of :data:`VIEWS`).
    samples, device
        Cycles settings, see :func:`configure_cycles`.

    Returns
    -------
    dict
        ``{role: object}`` of the stage objects.

    Raises
    ------
    ValueError
        For invalid arguments or a mirror with no usable geometry; nothing in the
        scene has changed then.
    """
    scene = context.scene
    rgb = _check_color("sun_color", sun_color)
    for name, value in (("sun_strength", sun_strength), ("sky_strength", sky_strength),
                        ("area_power", area_power), ("mirror_roughness", mirror_roughness)):
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"{name}={value!r} must be a finite number >= 0")
    if mirror_roughness > 1.0:
        raise ValueError(f"mirror_roughness={mirror_roughness!r} must be in 0..1")
    if not -math.pi / 2 <= sun_elevation <= math.pi / 2:
        raise ValueError(f"sun_elevation={sun_elevation!r} rad must be in -pi/2..pi/2")
    if view not in VIEWS:
        raise ValueError(f"view={view!r} is unknown: choose one of {', '.join(VIEWS)}")
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"device={device!r} is unknown: choose auto, cpu or gpu")
    if samples < 1:
        raise ValueError(f"samples={samples} must be at least 1")
    if mirror is None or getattr(mirror, "type", None) != "MESH":
        raise ValueError("the stage needs a mirror mesh object")
    frame = mirror_frame(mirror, context.evaluated_depsgraph_get()
                         if hasattr(context, "evaluated_depsgraph_get") else depsgraph_of(scene))
    if device == "gpu" and not compat.cycles_gpu_available(context):
        raise ValueError("device=gpu but no GPU is configured in Preferences > System")

    made = Created()
    try:
        objs = _build(scene, mirror, frame, made, rgb, sun_strength, sun_elevation,
                      sun_azimuth, sky_strength, area_power, props, mirror_roughness)
        # Scene-wide settings last: a failure above leaves them as they were.
        configure_cycles(scene, samples=samples, device=device, context=context)
        for v in VIEWS:
            place_camera(scene, objs[f"camera_{v}"], frame, v)
        scene.camera = objs[f"camera_{view}"]
        # Callers project points through the cameras next; matrix_world is stale
        # until the view layer is evaluated.
        view_layer = getattr(context, "view_layer", None)
        if view_layer is not None:
            view_layer.update()
    except Exception:
        made.rollback()
        raise
    return objs


def _build(
    scene: Any, mirror: Any, frame: MirrorFrame, made: Created, rgb: tuple[float, float, float],
    sun_strength: float, sun_elevation: float, sun_azimuth: float, sky_strength: float,
    area_power: float, props: bool, mirror_roughness: float,
) -> dict[str, Any]:
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
    stage_materials.assign(ground, stage_materials.ground_material(made))
    objs["ground"] = ground

    sun = ensure_object(coll, "sun", "S-Curve Sun",
                         lambda: bpy.data.lights.new("S-Curve Sun", "SUN"), made)
    sun.data.color = rgb
    sun.data.energy = sun_strength
    # 0.53° is the real sun's disc: crisp shadows, like the post's.
    sun.data.angle = math.radians(0.53)
    toward_sun = frame.world_dir(sun_direction(sun_elevation, sun_azimuth))
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
        light.data.energy = area_power
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
        obj.hide_render = not props
        obj.hide_viewport = not props
        stage_materials.assign(obj, stage_materials.prop_material(role, made))
        objs[role] = obj

    for v in VIEWS:
        role = f"camera_{v}"
        objs[role] = ensure_object(coll, role, f"S-Curve Camera {v.title()}",
                                    lambda v=v: bpy.data.cameras.new(f"S-Curve Camera {v.title()}"),
                                    made)

    scene.world = stage_world.world(scene, made, frame.world_dir, sun_elevation, sun_azimuth,
                                   sky_strength)
    stage_materials.assign(mirror, stage_materials.mirror_material(made, mirror_roughness))
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


