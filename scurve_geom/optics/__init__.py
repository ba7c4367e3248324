"""Sun hot spots: where the mirror's concave half focuses sunlight, how strongly, and when.

Sun rays (a 0.53° disc) hit a fine triangle mesh of the exact surface through a ray
engine (Embree via ``embreex``), reflect about the exact surface's normals, follow
further hits on the wall, and land on the ground, mapped as multiples of the direct
normal irradiance. ``python -m scurve_geom.optics --help`` is the command line.

    >>> from scurve_geom import preset
    >>> from scurve_geom.optics import Sun, map_for_params
    >>> m = map_for_params(preset("kapoor"), Sun(40.0, 200.0), rays=200_000)
    >>> m.peak_concentration, m.peak_xy          # doctest: +SKIP
"""

from .engine import EmbreeEngine, Engine, Hits, default_engine
from .hotspots import Extent, HotSpotMap, default_extent, hot_spot_map, map_for_params
from .mirror import DEFAULT_FACET, MirrorModel, exact_normals, grid_model, mirror_from_params
from .sun import SUN_DISC_DEG, Sun, solar_positions, sun_direction
from .trace import Segments, TraceTotals, trace

__all__ = [
    "DEFAULT_FACET",
    "SUN_DISC_DEG",
    "EmbreeEngine",
    "Engine",
    "Extent",
    "Hits",
    "HotSpotMap",
    "MirrorModel",
    "Segments",
    "Sun",
    "TraceTotals",
    "default_engine",
    "default_extent",
    "exact_normals",
    "grid_model",
    "hot_spot_map",
    "map_for_params",
    "mirror_from_params",
    "solar_positions",
    "sun_direction",
    "trace",
]
