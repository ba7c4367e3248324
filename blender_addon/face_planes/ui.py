"""Face-plane settings (``Scene.scurve_faces``), the Add Face Planes and Re-roll
operators, and their registration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, StringProperty

from scurve_geom.placement.layout import MAX_PLANES

from .. import stage
from ..common import Result
from .datablocks import add_face_planes
from .preview import refresh_preview, release_preview
from .sources import load_faces

__all__ = [
    "SCENE_OT_scurve_face_planes",
    "SCENE_OT_scurve_face_reroll",
    "SCURVE_PG_faces",
    "classes",
    "register",
    "unregister",
]


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
    if _refresh_after_load in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_refresh_after_load)
    if bpy.app.timers.is_registered(_refresh_after_load):
        bpy.app.timers.unregister(_refresh_after_load)
    release_preview()
    del bpy.types.Scene.scurve_faces  # type: ignore[attr-defined]
    _unregister()
