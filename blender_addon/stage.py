"""Set Up Mirror Stage: the seed post's scene around an S-curve mirror.

Cycles with mirror-friendly light paths, a physical sky and a sun whose colour can go
toward red, a ground plane with a faint disturbed texture, a polished metal on the
mirror, a red cylinder, a green cone and a blue sphere in front of the concave half,
two large area lights and named camera views.

Everything the stage creates carries the custom property :data:`ROLE_KEY` (its role,
e.g. ``"sun"``) and lives in one collection, :data:`COLLECTION_NAME`. Running the
stage again finds its own objects by that tag and updates them; objects without the
tag are never modified, whatever their names. The mirror is the one outside object
it changes: it gets the stage's metal material.

The core is plain functions (:func:`setup_stage`, :func:`configure_cycles`,
:func:`frame_camera`) so headless scripts use exactly what the operator runs.
Lengths are metres, angles radians, light power watts (sun: W/m²).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import bmesh
import bpy
import numpy as np
from mathutils import Matrix, Vector

from . import compat

__all__ = [
    "COLLECTION_NAME",
    "DEFAULT_SUN_COLOR",
    "MIRROR_TAG",
    "NO_DENOISER_SAMPLE_FACTOR",
    "PROP_ROLES",
    "RED_SUN_COLOR",
    "ROLE_KEY",
    "VIEWS",
    "SCURVE_OT_stage",
    "classes",
    "configure_cycles",
    "denoise_note",
    "find_mirror",
    "frame_camera",
    "is_mirror",
    "register",
    "setup_stage",
    "stage_objects",
    "unregister",
]

COLLECTION_NAME = "S-Curve Stage"
#: Custom property naming the role of every ID the stage created.
ROLE_KEY = "scurve_stage_role"
#: Custom property that marks a mesh built elsewhere (a script, an import) as an
#: S-curve mirror. Mirrors made by "Add S-Curve Mirror" are recognised by their
#: ``scurve_mirror.is_mirror`` flag: see :func:`is_mirror`.
MIRROR_TAG = "scurve_mirror_object"
_PARAMS_KEY = "scurve_mirror"

#: Camera views, in the order the UI lists them. ``low`` is the seed's view from
#: near the ground, looking up at the wall.
VIEWS = ("front", "concave", "convex", "top", "low")
PROP_ROLES = ("prop_cylinder", "prop_cone", "prop_sphere")

#: Linear RGB. The default is a slightly warm daylight; the red sun is the post's
#: variant "a change of the sun's color to the red side of the spectrum".
DEFAULT_SUN_COLOR = (1.0, 0.95, 0.88)
RED_SUN_COLOR = (1.0, 0.2, 0.05)
#: Sample multiplier when the Blender build has no denoiser (Debian's, for one): the
#: denoised 32-sample default reaches ~48 dB at 640x360; 4x the samples halves raw noise.
NO_DENOISER_SAMPLE_FACTOR = 4

_PROP_COLORS = {
    "prop_cylinder": (0.8, 0.02, 0.02),
    "prop_cone": (0.02, 0.6, 0.02),
    "prop_sphere": (0.02, 0.05, 0.8),
}


# -- finding things -------------------------------------------------------------------


def is_mirror(obj: Any) -> bool:
    """Whether ``obj`` is a mesh tagged as an S-curve mirror."""
    if obj is None or obj.type != "MESH":
        return False
    if obj.get(MIRROR_TAG):
        return True
    # The add-on's ``Object.scurve_mirror.is_mirror`` flag.
    return bool(compat.stored_group_value(obj, _PARAMS_KEY, "is_mirror"))


def find_mirror(context: Any) -> Any | None:
    """The mirror to stage: the active object if it is one, else the first in the scene."""
    active = getattr(context, "active_object", None)
    if is_mirror(active):
        return active
    return next((o for o in context.scene.objects if is_mirror(o)), None)


def _role(idblock: Any) -> str | None:
    return idblock.get(ROLE_KEY)


def _stage_collection(scene: Any) -> Any | None:
    for coll in _walk_collections(scene.collection):
        if _role(coll) == "collection":
            return coll
    return None


def _walk_collections(root: Any) -> Iterable[Any]:
    for child in root.children:
        yield child
        yield from _walk_collections(child)


def stage_objects(scene: Any) -> dict[str, Any]:
    """``{role: object}`` for the stage objects in ``scene`` (empty when not staged).

    Only objects inside the stage collection count: an object the user moved out, or
    a tagged copy elsewhere, is no longer the stage's to change.
    """
    coll = _stage_collection(scene)
    found: dict[str, Any] = {}
    if coll is None:
        return found
    for obj in coll.all_objects:
        role = _role(obj)
        if role and role not in found:
            found[role] = obj
    return found


def _tagged(collection: Any, role: str) -> Any | None:
    return next((i for i in collection if _role(i) == role), None)


# -- the mirror's frame ----------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """The mirror's placement: an orthonormal frame and its extent in that frame.

    ``to_world`` maps frame coordinates (metres, seam on the z axis, wall on z = 0,
    front toward −y) to world coordinates; scale is taken out so sizes are metres.
    """

    to_world: Matrix
    points: np.ndarray  # mirror vertices in frame coordinates, (n, 3)

    @property
    def lo(self) -> np.ndarray:
        return self.points.min(axis=0)

    @property
    def hi(self) -> np.ndarray:
        return self.points.max(axis=0)

    @property
    def height(self) -> float:
        return float(self.hi[2] - self.lo[2])

    def world(self, p: Sequence[float] | np.ndarray) -> Vector:
        return self.to_world @ Vector([float(v) for v in p])

    def world_dir(self, d: Sequence[float]) -> Vector:
        return (self.to_world.to_3x3() @ Vector(d)).normalized()


def _surface_points(mirror: Any, depsgraph: Any | None) -> np.ndarray:
    """Points on the mirror's evaluated surface in object space, metres, (n, 3).

    The evaluated mesh includes the Subdivision Surface modifier. A coarse mesh (the
    seed's one strip per half) has too few vertices to say where the wall is between
    them, so points along its edges are added: the rows are straight there.
    """
    obj, mesh = mirror, mirror.data
    if depsgraph is not None:
        obj = mirror.evaluated_get(depsgraph)
        mesh = obj.to_mesh()
    try:
        n, ne = len(mesh.vertices), len(mesh.edges)
        flat = np.empty(n * 3, dtype=np.float64)
        mesh.vertices.foreach_get("co", flat)
        co = flat.reshape(n, 3)
        if 0 < ne and n < 20_000:
            flat_edges = np.empty(ne * 2, dtype=np.int64)
            mesh.edges.foreach_get("vertices", flat_edges)
            ev = flat_edges.reshape(ne, 2)
            t = np.linspace(0.0, 1.0, 17)[1:-1, None, None]
            along = co[ev[:, 0]] * (1 - t) + co[ev[:, 1]] * t
            co = np.vstack([co, along.reshape(-1, 3)])
    finally:
        if depsgraph is not None:
            obj.to_mesh_clear()
    return co


def _mirror_frame(mirror: Any, depsgraph: Any | None = None) -> _Frame:
    n = len(mirror.data.vertices)
    if n < 3:
        raise ValueError(f"mirror {mirror.name!r} has {n} vertices: nothing to stage around")
    co = _surface_points(mirror, depsgraph)
    if not np.isfinite(co).all():
        raise ValueError(f"mirror {mirror.name!r} has non-finite vertex coordinates")
    mw = np.array(mirror.matrix_world, dtype=np.float64)
    world = co @ mw[:3, :3].T + mw[:3, 3]
    loc, rot, _scale = mirror.matrix_world.decompose()
    to_world = Matrix.Translation(loc) @ rot.to_matrix().to_4x4()
    inv = np.array(to_world.inverted(), dtype=np.float64)
    local = world @ inv[:3, :3].T + inv[:3, 3]
    ext = local.max(axis=0) - local.min(axis=0)
    if ext[0] <= 1e-6 or ext[2] <= 1e-6:
        raise ValueError(f"mirror {mirror.name!r} is degenerate (extent {ext.round(6).tolist()} m)")
    return _Frame(to_world, local)


# -- geometry of the stage (frame coordinates) ------------------------------------------


_Placement = dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]]


def _prop_layout(frame: _Frame) -> _Placement:
    """Where the props stand: ``{role: (location, scale)}`` in frame coordinates.

    They stand in front of the concave (−x) half, spread along it, each a little in
    front of the wall's frontmost point at its x so no prop cuts the surface.
    """
    lo = frame.lo
    h = frame.height
    pts = frame.points
    out: _Placement = {}
    spec = {
        # role: (fraction of the −x half, radius, height) in units of the height
        "prop_cylinder": (0.30, 0.08, 0.40),
        "prop_cone": (0.55, 0.10, 0.35),
        "prop_sphere": (0.80, 0.10, 0.20),
    }
    for role, (frac, radius, height) in spec.items():
        x = lo[0] * frac
        near = pts[np.abs(pts[:, 0] - x) < 0.1 * h + 1e-9]
        y_front = float(near[:, 1].min()) if len(near) else float(lo[1])
        r, ht = radius * h, height * h
        y = y_front - 0.28 * h - r
        z0 = float(lo[2])
        if role == "prop_sphere":
            out[role] = ((x, y, z0 + r), (r, r, r))
        else:
            # Unit primitives are 2 units tall, centred: scale z by half the height.
            out[role] = ((x, y, z0 + ht / 2), (r, r, ht / 2))
    return out


def _view_spec(frame: _Frame, view: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(target, direction to camera, points to keep in frame)`` for a named view."""
    lo, hi = frame.lo, frame.hi
    h = frame.height
    mid = (lo + hi) / 2
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])])
    if view == "front":
        return np.array([mid[0], mid[1], lo[2] + 0.5 * h]), np.array([0.0, -1.0, 0.12]), corners
    if view in ("concave", "convex"):
        sign = -1.0 if view == "concave" else 1.0
        half = frame.points[frame.points[:, 0] * sign >= 0]
        hlo, hhi = half.min(axis=0), half.max(axis=0)
        # Include the props' ground footprint so the concave view shows them whole.
        hlo = hlo.copy()
        hlo[1] -= 0.6 * h
        pts = np.array([[x, y, z] for x in (hlo[0], hhi[0]) for y in (hlo[1], hhi[1])
                        for z in (hlo[2], hhi[2])])
        target = np.array([(hlo[0] + hhi[0]) / 2, (hlo[1] + hhi[1]) / 2, lo[2] + 0.45 * h])
        # From the outer end's side, so the camera looks into the half (into the
        # pocket of the concave one) rather than past the props at it.
        return target, np.array([0.4 * sign, -1.0, 0.25]), pts
    if view == "top":
        return np.array([mid[0], mid[1], lo[2]]), np.array([0.0, -0.35, 1.0]), corners
    if view == "low":
        # The seed's view: camera near the ground, slightly to the convex side,
        # looking up along the wall.
        return np.array([mid[0], mid[1], lo[2] + 0.6 * h]), np.array([0.35, -1.0, -0.12]), corners
    raise ValueError(f"view={view!r} is unknown: choose one of {', '.join(VIEWS)}")


def _fit_distance(
    target: np.ndarray, to_cam: np.ndarray, points: np.ndarray, tan_w: float, tan_h: float,
    margin: float = 1.08,
) -> float:
    """Distance from ``target`` along ``to_cam`` at which every point is inside the frame.

    Pinhole camera looking at ``target``: a point at lateral offset ``a`` and depth
    ``d + f·rel`` is inside when ``|a| <= depth * tan`` → ``d >= |a|/tan - f·rel``.
    """
    f = -to_cam / np.linalg.norm(to_cam)
    right = np.cross(f, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    rel = points - target
    along = rel @ f
    need = np.maximum(np.abs(rel @ right) * margin / tan_w, np.abs(rel @ up) * margin / tan_h)
    return float(max((need - along).max(), 0.5))


# -- building blocks ---------------------------------------------------------------------


class _Created:
    """IDs created in one run, removed again if the run fails (scene left unchanged)."""

    def __init__(self) -> None:
        self.ids: list[tuple[Any, Any]] = []

    def add(self, collection: Any, idblock: Any) -> Any:
        self.ids.append((collection, idblock))
        return idblock

    def rollback(self) -> None:
        for collection, idblock in reversed(self.ids):
            try:
                collection.remove(idblock)
            except ReferenceError:
                # Already gone with its owner (e.g. a mesh removed with its object).
                pass


def _ensure_collection(scene: Any, made: _Created) -> Any:
    coll = _stage_collection(scene)
    if coll is None:
        coll = made.add(bpy.data.collections, bpy.data.collections.new(COLLECTION_NAME))
        coll[ROLE_KEY] = "collection"
        scene.collection.children.link(coll)
    return coll


def _ensure_object(coll: Any, role: str, name: str, make_data: Any, made: _Created) -> Any:
    obj = next((o for o in coll.all_objects if _role(o) == role), None)
    if obj is not None:
        return obj
    data = make_data()
    if data is not None:
        made.add(_data_collection(data), data)
        data[ROLE_KEY] = role
    obj = made.add(bpy.data.objects, bpy.data.objects.new(name, data))
    obj[ROLE_KEY] = role
    coll.objects.link(obj)
    return obj


def _data_collection(data: Any) -> Any:
    for kind, coll in ((bpy.types.Mesh, bpy.data.meshes), (bpy.types.Light, bpy.data.lights),
                       (bpy.types.Camera, bpy.data.cameras)):
        if isinstance(data, kind):
            return coll
    raise TypeError(f"no bpy.data collection for {data!r}")


def _ensure_material(role: str, name: str, made: _Created) -> Any:
    mat = _tagged(bpy.data.materials, role)
    if mat is None:
        mat = made.add(bpy.data.materials, bpy.data.materials.new(name))
        mat[ROLE_KEY] = role
    tree = compat.ensure_node_tree(mat)
    # Ours, so rebuilt from scratch each run: an update never accumulates nodes.
    tree.nodes.clear()
    return mat


def _principled(mat: Any, **inputs: Any) -> Any:
    tree = mat.node_tree
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.location = (-300, 0)
    for name, value in inputs.items():
        bsdf.inputs[name].default_value = value
    tree.links.new(bsdf.outputs["BSDF"], out.inputs["Surface"])
    return bsdf


def _mirror_material(made: _Created, roughness: float) -> Any:
    mat = _ensure_material("mat_mirror", "S-Curve Polished Steel", made)
    # Metallic 1 with a light, neutral base: polished stainless steel reflects ~60–70 %
    # evenly across the spectrum; a little roughness keeps it from looking like glass.
    _principled(mat, **{"Base Color": (0.80, 0.80, 0.82, 1.0), "Metallic": 1.0,
                        "Roughness": roughness})
    return mat


def _ground_material(made: _Created) -> Any:
    mat = _ensure_material("mat_ground", "S-Curve Ground", made)
    tree = mat.node_tree
    bsdf = _principled(mat, Roughness=0.85)
    coord = tree.nodes.new("ShaderNodeNewGeometry")
    noise = tree.nodes.new("ShaderNodeTexNoise")
    # Fractal (fBm) noise in world space (the plane is scaled, its object space is
    # not metres): metre-sized soft blotches plus fine grain, the post's "minimum
    # texture with disturbances", without a visible repeat.
    noise.inputs["Scale"].default_value = 0.8
    noise.inputs["Detail"].default_value = 10.0
    noise.inputs["Roughness"].default_value = 0.62
    ramp = tree.nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].position = 0.3
    ramp.color_ramp.elements[0].color = (0.07, 0.066, 0.06, 1.0)
    ramp.color_ramp.elements[1].position = 0.7
    ramp.color_ramp.elements[1].color = (0.20, 0.19, 0.17, 1.0)
    bump = tree.nodes.new("ShaderNodeBump")
    bump.inputs["Strength"].default_value = 0.15
    bump.inputs["Distance"].default_value = 0.02
    tree.links.new(coord.outputs["Position"], noise.inputs["Vector"])
    tree.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
    tree.links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    tree.links.new(noise.outputs["Fac"], bump.inputs["Height"])
    tree.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    return mat


def _prop_material(role: str, made: _Created) -> Any:
    names = {"prop_cylinder": "Red", "prop_cone": "Green", "prop_sphere": "Blue"}
    mat = _ensure_material(f"mat_{role}", f"S-Curve {names[role]}", made)
    _principled(mat, **{"Base Color": (*_PROP_COLORS[role], 1.0), "Roughness": 0.35})
    return mat


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


def _assign(obj: Any, mat: Any) -> None:
    if obj.material_slots:
        obj.material_slots[0].material = mat
    else:
        obj.data.materials.append(mat)


def _aim(obj: Any, location: Vector, direction: Vector) -> None:
    """Place ``obj`` at ``location`` with its −Z axis (cameras, lights) along ``direction``."""
    obj.location = location
    obj.rotation_mode = "QUATERNION"
    obj.rotation_quaternion = direction.to_track_quat("-Z", "Y")


def _sun_vector(elevation: float, azimuth: float) -> tuple[float, float, float]:
    # The sky node's convention (checked by rendering): rotation 0 puts the sun toward
    # +y, rotation 90° toward +x.
    ce = math.cos(elevation)
    return (ce * math.sin(azimuth), ce * math.cos(azimuth), math.sin(elevation))


def _world(
    scene: Any, made: _Created, frame: _Frame, elevation: float, azimuth: float, strength: float
) -> Any:
    world = _tagged(bpy.data.worlds, "world")
    if world is None:
        world = made.add(bpy.data.worlds, bpy.data.worlds.new("S-Curve Sky"))
        world[ROLE_KEY] = "world"
    tree = compat.ensure_node_tree(world)
    # The sky is smooth: a 512-pixel importance map samples it as well as the default
    # 2048 one, and building that map costs seconds per render on a CPU.
    compat.set_if_present(world.cycles, sampling_method="MANUAL", sample_map_resolution=512)
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputWorld")
    bg = tree.nodes.new("ShaderNodeBackground")
    sky = tree.nodes.new("ShaderNodeTexSky")
    bg.location, sky.location = (-250, 0), (-550, 0)
    # The sky node works in world axes; turn the frame's azimuth into a world one.
    d = frame.world_dir(_sun_vector(elevation, azimuth))
    # The sun lamp lights the scene; a sky sun disc too would double it and show a
    # second sun in the mirror.
    compat.configure_sky(
        sky, sun_elevation=math.asin(max(-1.0, min(1.0, d.z))),
        sun_rotation=math.atan2(d.x, d.y), sun_disc=False,
    )
    bg.inputs["Strength"].default_value = strength
    tree.links.new(sky.outputs["Color"], bg.inputs["Color"])
    tree.links.new(bg.outputs["Background"], out.inputs["Surface"])
    return world


# -- render settings --------------------------------------------------------------------


def configure_cycles(
    scene: Any,
    *,
    samples: int = 128,
    adaptive_threshold: float = 0.02,
    device: str = "auto",
    seed: int = 0,
    context: Any | None = None,
) -> str:
    """Cycles with adaptive sampling, OpenImageDenoise and light paths for mirrors.

    A build without OpenImageDenoise renders undenoised with ``samples`` ×
    :data:`NO_DENOISER_SAMPLE_FACTOR`; :func:`denoise_note` words that for the user.

    ``device``: ``"auto"`` (the GPU when the user's preferences configure one, else the
    CPU), ``"cpu"`` or ``"gpu"``. Returns the device used (``"CPU"`` or ``"GPU"``).

    Light paths: a view into the concave half bounces between facing parts of the
    wall several times before it leaves, so glossy bounces go up from 4 to 16; caustics
    stay on (the focused sun and lamp reflections on the ground are part of the
    seed's look) with Filter Glossy 1 and an indirect clamp to keep their noise down.
    """
    if samples < 1:
        raise ValueError(f"samples={samples} must be at least 1")
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"device={device!r} is unknown: choose auto, cpu or gpu")
    scene.render.engine = "CYCLES"
    c = scene.cycles
    gpu = compat.cycles_gpu_available(context)
    if device == "gpu" and not gpu:
        raise ValueError("device=gpu but no GPU is configured in Preferences > System")
    c.device = "GPU" if (gpu and device != "cpu") else "CPU"
    c.use_adaptive_sampling = True
    c.adaptive_threshold = adaptive_threshold
    denoiser = compat.cycles_denoiser(c)
    c.use_denoising = denoiser is not None
    if denoiser is not None:
        c.samples = samples
        c.denoiser = denoiser
        c.denoising_input_passes = "RGB_ALBEDO_NORMAL"
        c.denoising_prefilter = "ACCURATE"
        compat.denoise_on_cpu(c)
    else:
        # Without a denoiser the same noise needs many more samples; adaptive sampling
        # stops early where the image has converged, so the cost is mostly in the
        # concave half's reflections.
        c.samples = samples * NO_DENOISER_SAMPLE_FACTOR
    c.max_bounces = 16
    c.glossy_bounces = 16
    c.diffuse_bounces = 3
    c.transmission_bounces = 4
    c.transparent_max_bounces = 8
    c.volume_bounces = 0
    c.caustics_reflective = True
    c.caustics_refractive = False
    c.blur_glossy = 1.0
    c.sample_clamp_direct = 0.0
    c.sample_clamp_indirect = 10.0
    c.seed = seed
    return c.device


def denoise_note(scene: Any) -> str | None:
    """A one-line note when :func:`configure_cycles` found no denoiser, else ``None``."""
    c = scene.cycles
    if c.use_denoising:
        return None
    return (f"this Blender has no OpenImageDenoise: rendering without a denoiser at "
            f"{c.samples} samples ({NO_DENOISER_SAMPLE_FACTOR}x the requested "
            f"{c.samples // NO_DENOISER_SAMPLE_FACTOR})")


# -- cameras ------------------------------------------------------------------------------


def frame_camera(scene: Any, camera: Any, mirror: Any, view: str = "front") -> None:
    """Aim ``camera`` at ``mirror`` from the named ``view``, fitting it to the frame.

    Fitting uses the scene's current resolution (aspect ratio), so set the resolution
    first. ``view`` is one of :data:`VIEWS`.
    """
    frame = _mirror_frame(mirror, _depsgraph(scene))
    _frame_camera(scene, camera, frame, view)


def _depsgraph(scene: Any) -> Any | None:
    # The scene's first view layer: headless callers may have no context view layer.
    layer = scene.view_layers[0] if scene.view_layers else None
    return layer.depsgraph if layer is not None else None


def _frame_camera(scene: Any, camera: Any, frame: _Frame, view: str) -> None:
    target, to_cam, pts = _view_spec(frame, view)
    if view in ("concave", "front", "low"):
        extra = [np.array(loc) for loc, _ in _prop_layout(frame).values()]
        pts = np.vstack([pts, *extra])
    cam = camera.data
    cam.lens = 40.0
    cam.sensor_fit = "AUTO"
    w, h = scene.render.resolution_x, scene.render.resolution_y
    tan_big = (cam.sensor_width / 2) / cam.lens
    tan_w, tan_h = (tan_big, tan_big * h / w) if w >= h else (tan_big * w / h, tan_big)
    dist = _fit_distance(target, to_cam, pts, tan_w, tan_h)
    to_cam = to_cam / np.linalg.norm(to_cam)
    cam_pos = target + dist * to_cam
    if view == "low":
        # Keep the "low" camera at eye level of someone crouching, above the ground.
        cam_pos[2] = max(cam_pos[2], frame.lo[2] + 0.15 * frame.height)
    loc = frame.world(cam_pos)
    _aim(camera, loc, frame.world(target) - loc)
    cam.clip_start = 0.05
    cam.clip_end = max(1000.0, 20 * dist)


# -- the stage ----------------------------------------------------------------------------


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
    frame = _mirror_frame(mirror, context.evaluated_depsgraph_get()
                          if hasattr(context, "evaluated_depsgraph_get") else _depsgraph(scene))
    if device == "gpu" and not compat.cycles_gpu_available(context):
        raise ValueError("device=gpu but no GPU is configured in Preferences > System")

    made = _Created()
    try:
        objs = _build(scene, mirror, frame, made, rgb, sun_strength, sun_elevation,
                      sun_azimuth, sky_strength, area_power, props, mirror_roughness)
        # Scene-wide settings last: a failure above leaves them as they were.
        configure_cycles(scene, samples=samples, device=device, context=context)
        for v in VIEWS:
            _frame_camera(scene, objs[f"camera_{v}"], frame, v)
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
    scene: Any, mirror: Any, frame: _Frame, made: _Created, rgb: tuple[float, float, float],
    sun_strength: float, sun_elevation: float, sun_azimuth: float, sky_strength: float,
    area_power: float, props: bool, mirror_roughness: float,
) -> dict[str, Any]:
    coll = _ensure_collection(scene, made)
    h = frame.height
    lo, hi = frame.lo, frame.hi
    span = float(max(hi[0] - lo[0], hi[1] - lo[1], h))
    objs: dict[str, Any] = {}

    # Ground: large enough that its edge never shows from the named views.
    ground = _ensure_object(coll, "ground", "S-Curve Ground",
                            lambda: _plane_mesh("S-Curve Ground"), made)
    c = (lo + hi) / 2
    ground.location = frame.world((c[0], c[1], lo[2]))
    ground.rotation_mode = "QUATERNION"
    ground.rotation_quaternion = frame.to_world.to_quaternion()
    ground.scale = (12 * span, 12 * span, 1.0)
    _assign(ground, _ground_material(made))
    objs["ground"] = ground

    sun = _ensure_object(coll, "sun", "S-Curve Sun",
                         lambda: bpy.data.lights.new("S-Curve Sun", "SUN"), made)
    sun.data.color = rgb
    sun.data.energy = sun_strength
    # 0.53° is the real sun's disc: crisp shadows, like the post's.
    sun.data.angle = math.radians(0.53)
    toward_sun = frame.world_dir(_sun_vector(sun_elevation, sun_azimuth))
    _aim(sun, frame.world((c[0], c[1], hi[2] + h)), -toward_sun)
    objs["sun"] = sun

    # Two large soft lights in front, left and right, high: "extended light sources"
    # whose reflections show any unevenness of the surface as kinks.
    for role, side in (("area_left", -1.0), ("area_right", 1.0)):
        light = _ensure_object(coll, role, f"S-Curve Area {role[5:].title()}",
                               lambda: bpy.data.lights.new("S-Curve Area", "AREA"), made)
        light.data.shape = "RECTANGLE"
        light.data.size = 0.9 * h
        light.data.size_y = 0.45 * h
        light.data.energy = area_power
        pos = (side * 0.45 * (hi[0] - lo[0]), lo[1] - 1.6 * h, hi[2] + 0.9 * h)
        loc = frame.world(pos)
        _aim(light, loc, frame.world((side * 0.2 * (hi[0] - lo[0]), c[1], lo[2] + 0.5 * h)) - loc)
        objs[role] = light

    for role, (spot, scale) in _prop_layout(frame).items():
        obj = _ensure_object(coll, role, role.replace("prop_", "S-Curve ").title(),
                             lambda role=role: _primitive_mesh(role), made)
        obj.location = frame.world(spot)
        obj.rotation_mode = "QUATERNION"
        obj.rotation_quaternion = frame.to_world.to_quaternion()
        obj.scale = scale
        obj.hide_render = not props
        obj.hide_viewport = not props
        _assign(obj, _prop_material(role, made))
        objs[role] = obj

    for v in VIEWS:
        role = f"camera_{v}"
        objs[role] = _ensure_object(coll, role, f"S-Curve Camera {v.title()}",
                                    lambda v=v: bpy.data.cameras.new(f"S-Curve Camera {v.title()}"),
                                    made)

    scene.world = _world(scene, made, frame, sun_elevation, sun_azimuth, sky_strength)
    _assign(mirror, _mirror_material(made, mirror_roughness))
    return objs


# -- operator ------------------------------------------------------------------------------


class SCURVE_OT_stage(bpy.types.Operator):
    """Set up a Cycles stage around the S-curve mirror: sky, sun, ground, coloured props,
    area lights and cameras, in the collection "S-Curve Stage". Needs an S-curve mirror
    (the active object or one in the scene) and Object Mode"""

    bl_idname = "scene.scurve_stage"
    bl_label = "Set Up Mirror Stage"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    sun_color: bpy.props.FloatVectorProperty(  # type: ignore[valid-type]
        name="Sun Color", subtype="COLOR", size=3, min=0.0, max=1.0,
        default=DEFAULT_SUN_COLOR, description="Colour of the sun (toward red for dusk)",
    )
    sun_strength: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Sun Strength", min=0.0, soft_max=20.0, default=3.0,
        description="Sun irradiance in W/m²",
    )
    sun_elevation: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Sun Elevation", subtype="ANGLE", min=-math.pi / 2, max=math.pi / 2,
        default=math.radians(32.0), description="Sun angle above the horizon",
    )
    sun_azimuth: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Sun Azimuth", subtype="ANGLE", default=math.radians(205.0),
        description="Sun direction about the mirror's vertical axis, from its back (+y); "
        "180° is straight in front",
    )
    sky_strength: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Sky Strength", min=0.0, soft_max=2.0, default=0.15,
        description="Multiplier of the physical sky's brightness",
    )
    area_power: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Area Light Power", min=0.0, soft_max=2000.0, default=300.0, unit="POWER",
        description="Power of each of the two large area lights",
    )
    props: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Coloured Props", default=True,
        description="Show the red cylinder, green cone and blue sphere by the concave half",
    )
    view: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Camera", default="front",
        items=[(v, v.title(), f"Make the {v} camera the scene camera") for v in VIEWS],
    )
    samples: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Samples", min=1, soft_max=4096, default=128,
        description="Cycles render samples (adaptive sampling stops earlier where it can)",
    )

    @classmethod
    def poll(cls, context: Any) -> bool:
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        if find_mirror(context) is None:
            cls.poll_message_set(
                "Needs an S-curve mirror: add one with Add > Mesh > S-Curve Mirror"
            )
            return False
        return True

    def execute(self, context: Any) -> Any:  # a set of Blender's result literals
        mirror = find_mirror(context)
        assert mirror is not None  # poll() checked
        try:
            setup_stage(
                context, mirror, sun_color=tuple(self.sun_color),
                sun_strength=self.sun_strength, sun_elevation=self.sun_elevation,
                sun_azimuth=self.sun_azimuth, sky_strength=self.sky_strength,
                area_power=self.area_power, props=self.props, view=self.view,
                samples=self.samples,
            )
        except (ValueError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        note = denoise_note(context.scene)
        if note:
            self.report({"WARNING"}, f"Stage set up around {mirror.name!r}; {note}")
        else:
            self.report({"INFO"}, f"Stage set up around {mirror.name!r}")
        return {"FINISHED"}


classes = (SCURVE_OT_stage,)
register, unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]
