"""Ray engines: first hits of many rays on a triangle mesh.

An engine is anything with ``intersect(origins, directions) -> Hits``. The reference
is Intel Embree through ``embreex`` (a PyPI wheel). Blender's extension, which cannot
count on that wheel, passes its own engine over ``mathutils.bvhtree`` (see
``blender_addon/hotspots.py``); the tracer does not care which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["EmbreeEngine", "Engine", "Hits", "default_engine"]


@dataclass(frozen=True)
class Hits:
    """First hits of n rays.

    Attributes
    ----------
    distance : float64 (n,)
        Along the (unit) direction, metres; ``inf`` for a miss.
    triangle : int64 (n,)
        Index of the hit triangle, -1 for a miss.
    bary : float64 (n, 2)
        Barycentric weights ``(b1, b2)`` of the hit: the point is
        ``(1 - b1 - b2) A + b1 B + b2 C`` for the triangle's corners ``A, B, C``.
    """

    distance: np.ndarray
    triangle: np.ndarray
    bary: np.ndarray


class Engine(Protocol):
    def intersect(self, origins: np.ndarray, directions: np.ndarray) -> Hits:
        """First hits of rays ``origins`` (n, 3) along unit ``directions`` (n, 3), float32
        or float64."""
        ...


class EmbreeEngine:
    """Embree's first-hit query over one triangle mesh (single precision, as Embree works).

    Parameters
    ----------
    vertices : float (N, 3), metres
    triangles : int (M, 3)
    """

    def __init__(self, vertices: np.ndarray, triangles: np.ndarray) -> None:
        from embreex import rtcore_scene
        from embreex.mesh_construction import TriangleMesh

        self._scene = rtcore_scene.EmbreeScene()
        # Kept referenced: Embree reads the buffers in place.
        self._vertices = np.ascontiguousarray(vertices, dtype=np.float32)
        self._triangles = np.ascontiguousarray(triangles, dtype=np.int32)
        TriangleMesh(self._scene, self._vertices, self._triangles)

    def intersect(self, origins: np.ndarray, directions: np.ndarray) -> Hits:
        out = self._scene.run(
            np.ascontiguousarray(origins, dtype=np.float32),
            np.ascontiguousarray(directions, dtype=np.float32),
            output=1,
        )
        tri = out["primID"].astype(np.int64)
        dist = out["tfar"].astype(np.float64)
        dist[tri < 0] = np.inf
        bary = np.stack([out["u"], out["v"]], axis=1).astype(np.float64)
        return Hits(dist, tri, bary)


def default_engine(vertices: np.ndarray, triangles: np.ndarray) -> Engine:
    """Embree when ``embreex`` is installed.

    Raises
    ------
    ImportError
        Naming the missing package and how to install it.
    """
    try:
        return EmbreeEngine(vertices, triangles)
    except ImportError as exc:
        raise ImportError(
            f"the sun hot-spot tracer needs a ray engine: pip install embreex ({exc})"
        ) from None
