"""Set Up Mirror Stage: the operator, and the stage's public names in one place.

The stage is split by concern: :mod:`.stage_tags` (how it finds its own objects),
:mod:`scurve_geom.framing` (camera and prop placement, pure numpy) with
:mod:`.stage_frame` (the mirror's frame in Blender), :mod:`.stage_materials`,
:mod:`.stage_world` (sky), :mod:`.cycles_settings` and :mod:`.stage_build`
(:func:`setup_stage`, which the operator and the render scripts share). Callers import
everything from here: ``stage.setup_stage``, ``stage.configure_cycles``, ``stage.VIEWS``.
"""

from __future__ import annotations

import math
from typing import Any

import bpy

from scurve_geom.framing import VIEWS, sun_direction

from .cycles_settings import NO_DENOISER_SAMPLE_FACTOR, configure_cycles, denoise_note
from .stage_build import DEFAULT_SUN_COLOR, PROP_ROLES, RED_SUN_COLOR, setup_stage
from .stage_frame import depsgraph_of, frame_camera, mirror_frame
from .stage_tags import (
    COLLECTION_NAME,
    MIRROR_TAG,
    ROLE_KEY,
    find_mirror,
    is_mirror,
    stage_objects,
)

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
    "sun_direction",
    "unregister",
]

# The single-module stage's private helpers under their old names, for code written
# against it before the split (the sun's direction is shared with the optics).
_sun_vector = sun_direction
_mirror_frame = mirror_frame
_depsgraph = depsgraph_of


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
