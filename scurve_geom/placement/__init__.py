"""Where things stand around the mirror: pure numpy, no Blender.

:mod:`.framing` places the stage's cameras and props in the mirror's frame;
:mod:`.layout` places face planes (fixed arrangements, or aimed by reflection through
:mod:`.reflected`, with the camera rays and segment tests of :mod:`.rays`). Everything
works in the mirror's own coordinates: metres, seam on the z axis, front toward −y
(docs/design.md, "Axes and placement").
"""

from __future__ import annotations

from .framing import VIEWS, Box, camera_position, prop_layout
from .layout import (
    FACE_LAYOUTS,
    LAYOUTS,
    MAX_PLANES,
    VISIBILITIES,
    PlacedPlanes,
    PlaneLayout,
    aimed_layout,
    face_plane_layout,
)
from .rays import PinholeCamera

__all__ = [
    "FACE_LAYOUTS",
    "LAYOUTS",
    "MAX_PLANES",
    "VIEWS",
    "VISIBILITIES",
    "Box",
    "PinholeCamera",
    "PlacedPlanes",
    "PlaneLayout",
    "aimed_layout",
    "camera_position",
    "face_plane_layout",
    "prop_layout",
]
