"""Add Face Planes: autoencoder-decoded faces (or a folder of pictures) on upright planes
placed where the mirror shows them.

Faces come from the bundled ``latent_faces`` package: its numpy decoder runs in
Blender's own Python (no torch), from latent points drawn by a mode (VAE normal samples,
the post's uniform cube with boundary ``b``, or a straight path between two faces).
Placement comes from :mod:`scurve_geom.layout` (fixed arrangements, or aimed at the
scene camera so it sees every face in the mirror); this module only turns arrays into
images, planes and materials, and the camera into numbers.

Planes can be ``reflected`` only: invisible to camera rays (and to shadow and diffuse
rays, so they cast no shadow or glow of their own) but seen in reflections. Cycles
honours every ray type; EEVEE only camera and shadow visibility, and its screen-space
reflections cannot show what the camera does not see, so in EEVEE the mirror shows no
faces from such planes (at most through light probes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import bpy
import numpy as np
from bpy.props import EnumProperty, FloatProperty, IntProperty, StringProperty
from mathutils import Matrix, Vector

from scurve_geom import MirrorParams
from scurve_geom.layout import (
    FACE_LAYOUTS,
    MAX_PLANES,
    VISIBILITIES,
    PlacedPlanes,
    aimed_layout,
    face_plane_layout,
)
from scurve_geom.rays import PinholeCamera

from .. import compat, mirror_object, stage
from ..common import Result, is_editable_mirror

__all__ = [
    "COLLECTION_NAME",
    "add_face_planes",
    "decode_faces",
    "face_plane_objects",
    "folder_faces",
    "frame_camera_of",
    "load_faces",
    "placement",
    "remove_face_planes",
    "set_visibility",
]

COLLECTION_NAME = "S-Curve Face Planes"
#: Custom property marking every ID this module made, so a rerun replaces exactly those.
ROLE_KEY = "scurve_face_role"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SOURCES = ("DECODER", "FOLDER")
# Layouts, visibilities and the plane limit live in scurve_geom.layout, latent modes in
# latent_faces.sampling: the scripts' flags read them there too.
LAYOUTS = FACE_LAYOUTS


# -- where faces come from ----------------------------------------------------------------


def decode_faces(
    count: int,
    *,
    decoder: str | Path | None = None,
    mode: str = "normal",
    boundary: float = 2.5,
    seed: int = 0,
) -> np.ndarray:
    """Decode ``count`` faces with the numpy decoder.

    Parameters
    ----------
    decoder : path, optional
        A decoder ``.npz`` exported by ``latent_faces``; the shipped one by default.
    mode : {"normal", "uniform", "interpolate"}
        How latent points are drawn (see ``latent_faces.sample_latents``).
    boundary : float
        Upper bound of the uniform cube (mode ``uniform``).
    seed : int
        Fixes the latent points.

    Returns
    -------
    ndarray, float32 (count, 96, 96, 3)
        RGB in [0, 1], rows top to bottom.

    Raises
    ------
    ValueError
        Naming the decoder file when it is missing, of the wrong shape or version.
    """
    import latent_faces

    path = Path(decoder) if decoder else latent_faces.shipped_decoder_path()
    if not path.is_file():
        raise ValueError(f"decoder file {str(path)!r} does not exist")
    dec = latent_faces.NumpyDecoder.load(path)
    z = latent_faces.sample_latents(mode, count, seed, boundary=boundary, z_dim=dec.z_dim)
    return np.asarray(dec.decode(z), dtype=np.float32)


def folder_faces(folder: str | Path, count: int, seed: int = 0) -> list[np.ndarray]:
    """Read ``count`` pictures from ``folder`` (PNG/JPEG) with Blender's image loader.

    With more pictures than planes a seeded choice picks which; with fewer, they repeat.

    Returns
    -------
    list of ndarray, float32 (h, w, 3)
        RGB in [0, 1], rows top to bottom.

    Raises
    ------
    ValueError
        For a missing folder, a folder without pictures, or a file Blender cannot read
        (naming the file).
    """
    root = Path(bpy.path.abspath(str(folder))) if str(folder).startswith("//") else Path(folder)
    if not root.is_dir():
        raise ValueError(f"face folder {str(root)!r} does not exist")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"face folder {str(root)!r} has no PNG or JPEG pictures")
    rng = np.random.default_rng(seed)
    if len(files) > count:
        files = [files[i] for i in sorted(rng.choice(len(files), count, replace=False))]
    chosen = [files[i % len(files)] for i in range(count)]
    cache: dict[Path, np.ndarray] = {}
    for path in dict.fromkeys(chosen):
        cache[path] = _read_picture(path)
    return [cache[p] for p in chosen]


def _read_picture(path: Path) -> np.ndarray:
    try:
        img = bpy.data.images.load(str(path), check_existing=False)
    except RuntimeError as exc:
        raise ValueError(f"cannot read picture {str(path)!r}: {exc}") from None
    try:
        w, h = img.size
        if w == 0 or h == 0:
            raise ValueError(f"cannot read picture {str(path)!r}: not a valid image")
        flat = np.empty(w * h * img.channels, dtype=np.float32)
        img.pixels.foreach_get(flat)  # type: ignore[attr-defined]
        # Blender stores rows bottom to top; faces travel top to bottom like any image.
        rgb = flat.reshape(h, w, img.channels)[::-1, :, :3]
        if img.is_float:
            # Float files (EXR, 16-bit) load scene-linear; 8-bit ones keep their display
            # values. Display values throughout, so folder and decoded faces agree.
            rgb = _linear_to_srgb(rgb)
        return np.ascontiguousarray(rgb)
    finally:
        bpy.data.images.remove(img)


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)


def load_faces(settings: Any) -> list[np.ndarray]:
    """The faces a settings struct (``Scene.scurve_faces``) asks for."""
    if settings.source == "FOLDER":
        return folder_faces(settings.folder, settings.count, settings.seed)
    return list(decode_faces(settings.count, decoder=settings.decoder or None,
                             mode=settings.mode, boundary=settings.boundary,
                             seed=settings.seed))


# -- building ----------------------------------------------------------------------------


def face_plane_objects(scene: Any) -> list[Any]:
    """The face planes this module made in ``scene``, in placement order."""
    objs = [o for o in scene.objects if o.get(ROLE_KEY) == "plane"]
    return sorted(objs, key=lambda o: o.get("scurve_face_index", 0))


def remove_face_planes(scene: Any) -> int:
    """Delete the face planes made here (with their meshes, materials, images); return count."""
    objs = face_plane_objects(scene)
    for obj in objs:
        bpy.data.objects.remove(obj)
    _purge_unused()
    return len(objs)


def _image(name: str, rgb: np.ndarray) -> Any:
    h, w = rgb.shape[:2]
    img = bpy.data.images.new(name, width=w, height=h, alpha=False)
    img[ROLE_KEY] = "image"
    rgba = np.ones((h, w, 4), dtype=np.float32)
    rgba[..., :3] = np.clip(rgb, 0.0, 1.0)[::-1]
    # The decoder's numbers are display values (sRGB), as in the training pictures; a
    # byte image tagged sRGB shows them as such.
    img.pixels.foreach_set(rgba.ravel())  # type: ignore[attr-defined]
    img.update()
    # Packed, so a saved .blend carries its faces with it.
    img.pack()
    return img


def _material(name: str, img: Any, emission: float) -> Any:
    mat = bpy.data.materials.new(name)
    mat[ROLE_KEY] = "material"
    tree = compat.ensure_node_tree(mat)
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    tex = tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.interpolation = "Cubic"
    bsdf.location, tex.location = (-300, 0), (-700, 0)
    compat.node_input(bsdf, "Roughness").default_value = 0.6
    tree.links.new(tex.outputs["Color"], compat.node_input(bsdf, "Base Color"))
    # Emission lets the faces read in the mirror whatever the lighting; 0 makes them
    # plain diffuse prints.
    tree.links.new(tex.outputs["Color"], compat.node_input(bsdf, "Emission Color", "Emission"))
    compat.node_input(bsdf, "Emission Strength").default_value = emission
    # The back of a picture is a plain dark board: a camera behind a plane sees no
    # mirror-reversed face, and the faces appear where they should, in the mirror.
    back = tree.nodes.new("ShaderNodeBsdfDiffuse")
    back.inputs["Color"].default_value = (0.03, 0.03, 0.035, 1.0)
    geometry = tree.nodes.new("ShaderNodeNewGeometry")
    mix = tree.nodes.new("ShaderNodeMixShader")
    back.location, geometry.location, mix.location = (-300, -420), (-300, 260), (-80, 0)
    tree.links.new(geometry.outputs["Backfacing"], mix.inputs["Fac"])
    tree.links.new(bsdf.outputs["BSDF"], mix.inputs[1])
    tree.links.new(back.outputs["BSDF"], mix.inputs[2])
    tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])
    return mat


def _plane_mesh(name: str, aspect: float, shape: np.ndarray) -> Any:
    # The picture (aspect kept inside the unit square) in the xz plane, facing -y, UVs
    # upright, then given its size and shear: the object carries only a rigid pose,
    # which Blender keeps exactly (a skewed object matrix would be decomposed and lost).
    hw, hh = 0.5 * min(1.0, aspect), 0.5 * min(1.0, 1.0 / aspect)
    unit = np.array([(-hw, 0, -hh), (hw, 0, -hh), (hw, 0, hh), (-hw, 0, hh)])
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata((unit @ shape.T).tolist(), [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", [0, 0, 1, 0, 1, 1, 0, 1])
    mesh[ROLE_KEY] = "mesh"
    return mesh


def _collection(scene: Any) -> Any:
    for coll in bpy.data.collections:
        if coll.get(ROLE_KEY) == "collection" and scene.user_of_id(coll):
            return coll
    coll = bpy.data.collections.new(COLLECTION_NAME)
    coll[ROLE_KEY] = "collection"
    scene.collection.children.link(coll)
    return coll


def _mirror_params(mirror: Any) -> MirrorParams:
    if is_editable_mirror(mirror):
        # Its shape now: a procedural mirror's inputs as changed, keyframed or driven.
        return mirror_object.object_params(mirror)
    # A mirror mesh made elsewhere: place around a wall of its bounding size.
    dims = mirror.dimensions
    return MirrorParams(radius=max(dims.z / 2, 0.01), half_length=max(dims.x / 2, 0.01))


def frame_camera_of(camera: Any, mirror: Any, scene: Any) -> PinholeCamera:
    """``camera`` as a :class:`PinholeCamera` in ``mirror``'s own coordinates, where its
    parameters apply (its frame, :func:`.mirror_object.object_frame`, divided by its
    scale).

    The field of view comes from the camera's frame at the scene's resolution, so it
    matches a render (sensor fit included; lens shift is ignored).

    Raises
    ------
    ValueError
        For a mirror scaled unevenly: reflections off it are not those of its
        parameters' surface.
    """
    placed = mirror_object.object_frame(mirror)
    scale = placed.uniform_scale(mirror.name)
    loc, rot, _scale = (placed.to_world.inverted() @ camera.matrix_world).decompose()
    loc /= scale
    corners = np.array([tuple(v) for v in camera.data.view_frame(scene=scene)])
    depth = float(np.abs(corners[:, 2]).max())
    tan_half = (float(np.abs(corners[:, 0]).max()) / depth,
                float(np.abs(corners[:, 1]).max()) / depth)
    return PinholeCamera(np.array(loc), np.array(rot.to_matrix()), tan_half)


def _obstacles(scene: Any, mirror: Any) -> np.ndarray:
    """Bounding spheres ``(x, y, z, r)`` of the stage's rendered props in the mirror frame."""
    to_local = mirror.matrix_world.inverted()
    out = []
    for role, obj in stage.stage_objects(scene).items():
        if role not in stage.PROP_ROLES or obj.hide_render:
            continue
        corners = np.array([tuple(to_local @ obj.matrix_world @ Vector(c))
                            for c in obj.bound_box])
        centre = corners.mean(axis=0)
        out.append([*centre, float(np.linalg.norm(corners - centre, axis=1).max())])
    return np.array(out).reshape(-1, 4)


def placement(context: Any, mirror: Any, count: int, layout: str = "arc", *,
              camera: Any = None, distance: float | None = None,
              size: float | None = None) -> PlacedPlanes:
    """Where :func:`add_face_planes` puts ``count`` pictures, in ``mirror``'s frame.

    Arguments as there; raises ValueError for a camera layout without a camera.
    """
    params = _mirror_params(mirror)
    if layout != "camera":
        return face_plane_layout(params, count, layout, distance=distance, size=size).placed()
    scene = context.scene
    camera = camera if camera is not None else scene.camera
    if camera is None or getattr(camera, "type", None) != "CAMERA":
        raise ValueError("layout 'camera' needs a scene camera: set one (or Set Up Mirror "
                         "Stage), or choose another layout")
    view = frame_camera_of(camera, mirror, scene)
    # A picture's size there follows from how large the camera should see it.
    return aimed_layout(params, view, count, distance=distance,
                        obstacles=_obstacles(scene, mirror))


def set_visibility(obj: Any, visibility: str) -> None:
    """Make ``obj`` an ordinary object (``visible``) or one seen only in reflections."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility={visibility!r} is not allowed: choose one of "
                         f"{VISIBILITIES}")
    seen = visibility == "visible"
    # Glossy rays always see it: that is how the mirror shows it.
    obj.visible_camera = seen
    obj.visible_shadow = seen
    obj.visible_diffuse = seen
    obj.visible_transmission = seen
    obj.visible_volume_scatter = seen
    obj.visible_glossy = True


def add_face_planes(
    context: Any,
    mirror: Any,
    faces: Sequence[np.ndarray],
    *,
    layout: str = "arc",
    distance: float | None = None,
    size: float | None = None,
    emission: float = 1.0,
    visibility: str = "visible",
    camera: Any = None,
) -> list[Any]:
    """Place one plane per face around ``mirror``, replacing earlier face planes.

    Parameters
    ----------
    faces : sequence of ndarray (h, w, 3) float
        RGB in [0, 1], rows top to bottom (e.g. :func:`decode_faces`).
    layout : {"camera", "arc", "row", "ring"}
        ``camera``: where ``camera`` (default the scene camera) sees them in the mirror,
        see :func:`scurve_geom.layout.aimed_layout`; the others are upright
        arrangements, see :func:`scurve_geom.layout.face_plane_layout`.
    distance, size : float, optional
        Metres, in the mirror's frame (its scale applies); ``size`` only for the fixed
        layouts (aimed pictures are sized to look large from the camera).
    emission : float
        Emission strength of the pictures (0: diffuse only).
    visibility : {"visible", "reflected"}
        ``reflected``: invisible to camera, shadow and diffuse rays, seen in the mirror.
    camera : bpy.types.Object, optional
        The camera a ``camera`` layout aims at; default the scene camera.

    Returns
    -------
    list of bpy.types.Object
        The planes. On any error nothing new is left in the scene and the earlier
        planes are still there.
    """
    if not faces:
        raise ValueError("no faces to place")
    if not (math.isfinite(emission) and emission >= 0):
        raise ValueError(f"emission={emission!r} is out of range: allowed >= 0")
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not allowed: choose one of {LAYOUTS}")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility={visibility!r} is not allowed: choose one of "
                         f"{VISIBILITIES}")
    if mirror is None or getattr(mirror, "type", None) != "MESH":
        raise ValueError("face planes need a mirror mesh object")
    for i, rgb in enumerate(faces):
        if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 1:
            raise ValueError(f"face {i} has shape {rgb.shape}, expected (h, w, 3)")
    lay = placement(context, mirror, len(faces), layout, camera=camera, distance=distance,
                    size=size)
    poses, shapes = lay.transformed(np.array(mirror.matrix_world)).poses()
    scene = context.scene
    made: list[tuple[Any, Any]] = []
    try:
        old = face_plane_objects(scene)
        coll = _collection(scene)
        planes = []
        for i, rgb in enumerate(faces):
            tag = f"S-Curve Face {i + 1:02d}"
            # Swapped left-right where the mirror swaps it back: the camera sees the face
            # as decoded.
            img = _image(tag, rgb[:, ::-1] if lay.mirrored[i] else rgb)
            made.append((bpy.data.images, img))
            mat = _material(tag, img, emission)
            made.append((bpy.data.materials, mat))
            mesh = _plane_mesh(tag, rgb.shape[1] / rgb.shape[0], shapes[i])
            made.append((bpy.data.meshes, mesh))
            mesh.materials.append(mat)
            obj = bpy.data.objects.new(tag, mesh)
            made.append((bpy.data.objects, obj))
            obj[ROLE_KEY] = "plane"
            obj["scurve_face_index"] = i
            obj.matrix_world = Matrix(poses[i].tolist())
            set_visibility(obj, visibility)
            coll.objects.link(obj)
            planes.append(obj)
    except Exception:
        for collection, idb in reversed(made):
            try:
                collection.remove(idb)
            except ReferenceError:
                pass
        raise
    # Only now that the new planes stand: the old ones go (ours only, by tag).
    for obj in old:
        bpy.data.objects.remove(obj)
    _purge_unused()
    return planes


def _purge_unused() -> None:
    for coll, role in ((bpy.data.meshes, "mesh"), (bpy.data.materials, "material"),
                       (bpy.data.images, "image")):
        for idb in list(coll):
            if idb.get(ROLE_KEY) == role and idb.users == 0:
                coll.remove(idb)  # type: ignore[arg-type]


# -- settings, preview, operators ----------------------------------------------------------

class _Preview:
    """The thumbnail strip: one preview collection, and the settings it shows."""

    collection: Any = None
    key: tuple | None = None
    error: str = ""


def _preview_key(settings: Any) -> tuple:
    return (settings.source, settings.count, settings.seed, settings.mode,
            round(settings.boundary, 6), settings.decoder, settings.folder)


def refresh_preview(settings: Any) -> str:
    """Fill the thumbnail strip for ``settings``; returns an error message or ''."""
    import bpy.utils.previews

    if _Preview.collection is None:
        _Preview.collection = bpy.utils.previews.new()
    key = _preview_key(settings)
    if _Preview.key == key:
        return _Preview.error
    pcoll = _Preview.collection
    pcoll.clear()
    _Preview.key, _Preview.error = key, ""
    try:
        faces = load_faces(settings)
    except ValueError as exc:
        _Preview.error = str(exc)
        return _Preview.error
    for i, rgb in enumerate(faces):
        prev = pcoll.new(f"face{i}")
        h, w = rgb.shape[:2]
        prev.image_size = (w, h)
        rgba = np.ones((h, w, 4), dtype=np.float32)
        rgba[..., :3] = rgb[::-1]
        prev.image_pixels_float.foreach_set(rgba.ravel())  # type: ignore[union-attr]
    return ""


def preview_icons() -> list[int]:
    """Icon ids of the current thumbnail strip (empty before the first refresh)."""
    pcoll = _Preview.collection
    if pcoll is None:
        return []
    return [pcoll[f"face{i}"].icon_id for i in range(len(pcoll))]


def preview_error() -> str:
    """Why the last refresh found no faces ('' when it did)."""
    return _Preview.error


def _on_change(self: Any, context: Any) -> None:
    refresh_preview(self)


class SCURVE_PG_faces(bpy.types.PropertyGroup):
    """Face-plane settings of a scene (``Scene.scurve_faces``)."""

    count: IntProperty(  # type: ignore[valid-type]
        name="Planes", description="Number of face planes", default=6, min=1,
        max=MAX_PLANES, update=_on_change)
    layout: EnumProperty(  # type: ignore[valid-type]
        name="Layout", description="How the planes stand around the mirror",
        items=[("camera", "Camera", "Where the scene camera sees them in the mirror, "
                "spread over its image"),
               ("arc", "Arc", "On an arc before the concave half"),
               ("row", "Row", "In a row along the front of the wall"),
               ("ring", "Ring", "All around the sculpture")],
        default="arc")
    visibility: EnumProperty(  # type: ignore[valid-type]
        name="Visibility", description="Who sees the planes",
        items=[("reflected", "Reflections Only", "Invisible to the camera (and casting no "
                "shadow): seen only in the mirror, so nothing hides the sculpture. Cycles: "
                "EEVEE's reflections show only what the camera sees"),
               ("visible", "Visible", "Ordinary objects: the camera sees their dark backs")],
        default="reflected")
    source: EnumProperty(  # type: ignore[valid-type]
        name="Faces", description="Where the pictures come from",
        items=[("DECODER", "Decoder", "Decode latent points with the numpy decoder"),
               ("FOLDER", "Folder", "Pictures from a folder of PNG/JPEG files")],
        default="DECODER", update=_on_change)
    folder: StringProperty(  # type: ignore[valid-type]
        name="Folder", description="Folder of face pictures", subtype="DIR_PATH",
        update=_on_change)
    decoder: StringProperty(  # type: ignore[valid-type]
        name="Decoder", description="Decoder .npz exported by latent_faces (empty: shipped)",
        subtype="FILE_PATH", update=_on_change)
    mode: EnumProperty(  # type: ignore[valid-type]
        name="Latent Points", description="How latent points are drawn",
        items=[("normal", "VAE Normal", "Samples of N(0, I), the VAE's prior"),
               ("uniform", "Uniform Cube", "Components uniform in (0, b): the post's test"),
               ("interpolate", "Interpolation", "A straight path between two faces")],
        default="normal", update=_on_change)
    boundary: FloatProperty(  # type: ignore[valid-type]
        name="Boundary b", description="Upper bound of the uniform cube", default=2.5,
        min=0.01, max=100.0, update=_on_change)
    seed: IntProperty(  # type: ignore[valid-type]
        name="Seed", description="Fixes the latent points (or the folder's choice)",
        default=0, min=0, update=_on_change)
    emission: FloatProperty(  # type: ignore[valid-type]
        name="Emission", description="Glow of the pictures (0: diffuse prints)",
        default=1.0, min=0.0, max=50.0)


class SCENE_OT_scurve_face_planes(bpy.types.Operator):
    """Place autoencoder faces on planes where the mirror shows them"""

    bl_idname = "scene.scurve_face_planes"
    bl_label = "Add Face Planes"
    bl_description = ("Place autoencoder faces on planes where the mirror shows them. "
                      "Needs an S-curve mirror, in Object Mode")
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    @classmethod
    def poll(cls, context: Any) -> bool:
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode")
            return False
        if stage.find_mirror(context) is None:
            cls.poll_message_set("Add an S-curve mirror first")
            return False
        return True

    def execute(self, context: Any) -> Result:
        settings = context.scene.scurve_faces
        mirror = stage.find_mirror(context)
        wm = context.window_manager
        wm.progress_begin(0, 2)
        try:
            faces = load_faces(settings)
            wm.progress_update(1)
            planes = add_face_planes(context, mirror, faces, layout=settings.layout,
                                     emission=settings.emission,
                                     visibility=settings.visibility)
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        finally:
            wm.progress_end()
        self.report({"INFO"}, f"Placed {len(planes)} face planes")
        return {"FINISHED"}


class SCENE_OT_scurve_face_reroll(bpy.types.Operator):
    """Draw new latent points (or another choice of pictures) for the face planes"""

    bl_idname = "scene.scurve_face_reroll"
    bl_label = "Re-roll"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a plain set

    def execute(self, context: Any) -> Result:
        context.scene.scurve_faces.seed += 1
        return {"FINISHED"}


classes = (SCURVE_PG_faces, SCENE_OT_scurve_face_planes, SCENE_OT_scurve_face_reroll)
_register: Callable[[], None]
_unregister: Callable[[], None]
# The stubs declare the factory as returning None; it returns (register, unregister).
_register, _unregister = bpy.utils.register_classes_factory(classes)  # type: ignore[func-returns-value, misc]


@bpy.app.handlers.persistent
def _refresh_after_load(*_args: Any) -> None:
    # The strip belongs to the scene's settings: fill it for a newly opened file (and
    # once after registering) so the panel has thumbnails before anything is changed.
    scene = getattr(bpy.context, "scene", None)
    if scene is not None and hasattr(scene, "scurve_faces"):
        refresh_preview(scene.scurve_faces)


def register() -> None:
    _register()
    bpy.app.handlers.load_post.append(_refresh_after_load)
    if not bpy.app.background:
        bpy.app.timers.register(_refresh_after_load, first_interval=0.2)
    bpy.types.Scene.scurve_faces = bpy.props.PointerProperty(  # type: ignore[attr-defined, func-returns-value]
        type=SCURVE_PG_faces, name="S-Curve Face Planes")


def unregister() -> None:
    import bpy.utils.previews

    if _refresh_after_load in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_refresh_after_load)
    if bpy.app.timers.is_registered(_refresh_after_load):
        bpy.app.timers.unregister(_refresh_after_load)
    if _Preview.collection is not None:
        bpy.utils.previews.remove(_Preview.collection)
    _Preview.collection, _Preview.key, _Preview.error = None, None, ""
    del bpy.types.Scene.scurve_faces  # type: ignore[attr-defined]
    _unregister()
