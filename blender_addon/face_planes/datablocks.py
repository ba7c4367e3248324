"""The face planes as Blender data: packed images, materials, sheared plane meshes,
objects in their own collection; replaced whole, removed by tag.

Planes can be ``reflected`` only: invisible to camera rays (and to shadow and diffuse
rays, so they cast no shadow or glow of their own) but seen in reflections. Cycles
honours every ray type; EEVEE only camera and shadow visibility, and its screen-space
reflections cannot show what the camera does not see, so in EEVEE the mirror shows no
faces from such planes (at most through light probes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from scurve_geom.placement.layout import FACE_LAYOUTS, VISIBILITIES

from .. import compat
from .placement import placement

__all__ = [
    "COLLECTION_NAME",
    "ROLE_KEY",
    "add_face_planes",
    "face_plane_objects",
    "remove_face_planes",
    "set_visibility",
]

COLLECTION_NAME = "S-Curve Face Planes"
#: Custom property marking every ID this package made, so a rerun replaces exactly those.
ROLE_KEY = "scurve_face_role"


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
        see :func:`scurve_geom.placement.layout.aimed_layout`; the others are upright
        arrangements, see :func:`scurve_geom.placement.layout.face_plane_layout`.
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
    if layout not in FACE_LAYOUTS:
        raise ValueError(f"layout={layout!r} is not allowed: choose one of {FACE_LAYOUTS}")
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
