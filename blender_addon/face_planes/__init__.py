"""Add Face Planes: autoencoder-decoded faces (or a folder of pictures) on upright planes
placed where the mirror shows them.

Faces come from the bundled ``latent_faces`` package: its numpy decoder runs in
Blender's own Python (no torch), from latent points drawn by a mode (VAE normal samples,
the post's uniform cube with boundary ``b``, or a straight path between two faces).
Placement comes from :mod:`scurve_geom.placement.layout` (fixed arrangements, or aimed at the
scene camera so it sees every face in the mirror); this package only turns arrays into
images, planes and materials, and the scene into numbers.

Split by concern: :mod:`.sources` (where faces come from), :mod:`.placement` (the
mirror and camera as numbers), :mod:`.datablocks` (images, materials, meshes, objects),
:mod:`.preview` (the thumbnail strip) and :mod:`.ui` (settings, operators,
registration). Callers import from here.

Planes can be ``reflected`` only: invisible to camera rays (and to shadow and diffuse
rays, so they cast no shadow or glow of their own) but seen in reflections. Cycles
honours every ray type; EEVEE only camera and shadow visibility, and its screen-space
reflections cannot show what the camera does not see, so in EEVEE the mirror shows no
faces from such planes (at most through light probes).
"""

from __future__ import annotations

from .datablocks import (
    COLLECTION_NAME,
    ROLE_KEY,
    add_face_planes,
    face_plane_objects,
    remove_face_planes,
    set_visibility,
)
from .placement import frame_camera_of, placement
from .preview import preview_error, preview_icons, refresh_preview
from .sources import decode_faces, folder_faces, load_faces
from .ui import (
    SCENE_OT_scurve_face_planes,
    SCENE_OT_scurve_face_reroll,
    SCURVE_PG_faces,
    classes,
    register,
    unregister,
)

__all__ = [
    "COLLECTION_NAME",
    "ROLE_KEY",
    "SCENE_OT_scurve_face_planes",
    "SCENE_OT_scurve_face_reroll",
    "SCURVE_PG_faces",
    "add_face_planes",
    "classes",
    "decode_faces",
    "face_plane_objects",
    "folder_faces",
    "frame_camera_of",
    "load_faces",
    "placement",
    "preview_error",
    "preview_icons",
    "refresh_preview",
    "register",
    "remove_face_planes",
    "set_visibility",
    "unregister",
]
