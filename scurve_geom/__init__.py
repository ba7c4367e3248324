"""The exact S-curve mirror surface, in numpy.

Parameters (:class:`MirrorParams`, :data:`PRESETS`) → a quad :class:`Mesh` from
:func:`build_mesh` → export (:mod:`scurve_geom.export`) or a Blender mesh (the add-on).
No Blender import anywhere: this package runs in any Python with numpy >= 1.26.

``export`` is deliberately not re-exported here: ``scurve_geom.export`` stays the
module, whose :func:`scurve_geom.export.export` writes the files. The stage's settings
are :class:`StageParams`; placement around the mirror is :mod:`scurve_geom.placement`,
sun hot spots :mod:`scurve_geom.optics`.
"""

from .build import build_grid, build_mesh
from .mesh import GridLayout, Mesh, MeshReport
from .params import BOUNDARY_RULES, MAX_VERTICES, PRESETS, MirrorParams, preset
from .solidify import solidify
from .stage_params import StageParams
from .subdivide import catmull_clark, limit_positions
from .surface import Surface

__all__ = [
    "BOUNDARY_RULES",
    "MAX_VERTICES",
    "PRESETS",
    "GridLayout",
    "Mesh",
    "MeshReport",
    "MirrorParams",
    "StageParams",
    "Surface",
    "build_grid",
    "build_mesh",
    "catmull_clark",
    "limit_positions",
    "preset",
    "solidify",
]

__version__ = "0.1.0"
