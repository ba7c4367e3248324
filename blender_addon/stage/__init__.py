"""Set Up Mirror Stage: the stage around a mirror, and its public names in one place.

Split by concern: :mod:`.tags` (how the stage finds its own objects), :mod:`.frame` (the
mirror's frame in Blender and the cameras aimed in it; the placement math is pure numpy
in :mod:`scurve_geom.placement.framing`), :mod:`.materials`, :mod:`.sky` (the world),
:mod:`.cycles_settings`, :mod:`.build` (:func:`setup_stage`, which the operator and the
render scripts share) and :mod:`.operator`. Callers import from here:
``stage.setup_stage``, ``stage.configure_cycles``, ``stage.find_mirror``.
"""

from __future__ import annotations

from scurve_geom.placement.framing import VIEWS
from scurve_geom.stage_params import DEFAULT_SUN_COLOR, RED_SUN_COLOR

from .build import PROP_ROLES, setup_stage
from .cycles_settings import configure_cycles, denoise_note
from .operator import SCURVE_OT_stage, classes, register, unregister
from .tags import COLLECTION_NAME, MIRROR_TAG, ROLE_KEY, find_mirror, is_mirror, stage_objects

__all__ = [
    "COLLECTION_NAME",
    "DEFAULT_SUN_COLOR",
    "MIRROR_TAG",
    "PROP_ROLES",
    "RED_SUN_COLOR",
    "ROLE_KEY",
    "VIEWS",
    "SCURVE_OT_stage",
    "classes",
    "configure_cycles",
    "denoise_note",
    "find_mirror",
    "is_mirror",
    "register",
    "setup_stage",
    "stage_objects",
    "unregister",
]
