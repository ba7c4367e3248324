"""Catmull-Clark subdivision of a quad mesh, reproducing Blender's Subdivision Surface modifier.

Blender's modifier hands the mesh to OpenSubdiv. With "Use Limit Surface" off it refines the
mesh uniformly ``levels`` times and outputs the refined vertices (not their limit positions).
That refinement is reproduced here exactly, in float64, for both of the modifier's
``boundary_smooth`` settings. Blender maps them (``subdiv_modifier.cc`` /
``subdiv_converter.cc``) to OpenSubdiv's vertex boundary interpolation:

``"ALL"`` (UI "All", the default) → ``VTX_BOUNDARY_EDGE_ONLY``
    Boundary edges are infinitely sharp creases: a boundary edge's new vertex is its
    midpoint and a boundary vertex moves by the cubic B-spline rule
    ``(1/8, 6/8, 1/8)`` along its two boundary neighbours. A corner (a vertex with one face
    and two edges) follows the same rule, so corners get rounded.
``"PRESERVE_CORNERS"`` (UI "Keep Corners") → ``VTX_BOUNDARY_EDGE_AND_CORNER``
    As above, but corners (one face, two edges, tested on the base mesh as OpenSubdiv's
    ``TopologyRefinerFactoryBase::prepareComponentTagsAndSharpness`` does) are infinitely
    sharp and stay where they are at every level.

Interior points follow the smooth Catmull-Clark rules as OpenSubdiv writes them for quads:
face point = mean of the corners; edge point = ``(v0 + v1 + f0 + f1) / 4``; vertex of
valence ``n`` = ``((n - 2) P + mean(edge neighbours) + mean(face points)) / n``.

UVs follow Blender's default UV smoothing, "Keep Boundaries" (``PRESERVE_BOUNDARIES`` →
OpenSubdiv ``FVAR_LINEAR_BOUNDARIES``): interior UVs use the same smooth rules as positions,
UVs on the boundary are interpolated linearly (boundary vertices keep their UV, boundary edge
points take the midpoint). ``uv_smooth="NONE"`` gives plain bilinear UVs instead. UVs here
are per vertex, i.e. the mesh has no UV seams, so face-varying and vertex topology coincide.

Everything is vectorised: the base mesh's edges come from one sort; every finer level's
edges and face-edge incidences are written down in closed form (each edge splits in two,
each quad adds four inner edges), so no level after the first sorts anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mesh import Mesh
from .params import BOUNDARY_RULES, MAX_VERTICES

__all__ = ["UV_SMOOTH_RULES", "catmull_clark", "limit_positions", "subdivided_counts"]

#: Blender's ``uv_smooth`` identifiers supported here.
UV_SMOOTH_RULES = ("PRESERVE_BOUNDARIES", "NONE")

MAX_LEVELS = 6


@dataclass(frozen=True)
class _Topology:
    """One level's connectivity, all int64 except where noted.

    faces : (F, 4) vertex indices. face_edges : (F, 4), edge ``k`` joins corners ``k`` and
    ``k + 1``. edges : (E, 2) endpoints. boundary_edge : bool (E,). corner : bool (V,),
    vertices kept fixed by ``PRESERVE_CORNERS``.
    """

    n_vertices: int
    faces: np.ndarray
    face_edges: np.ndarray
    edges: np.ndarray
    boundary_edge: np.ndarray
    corner: np.ndarray


def subdivided_counts(v: int, e: int, f: int, levels: int) -> tuple[int, int, int]:
    """``(vertices, edges, faces)`` of a quad mesh after ``levels`` of Catmull-Clark.

    Each level: ``V' = V + E + F``, ``E' = 2E + 4F``, ``F' = 4F``.
    """
    for _ in range(levels):
        v, e, f = v + e + f, 2 * e + 4 * f, 4 * f
    return v, e, f


def catmull_clark(
    mesh: Mesh,
    levels: int,
    boundary_smooth: str = "ALL",
    *,
    uv_smooth: str = "PRESERVE_BOUNDARIES",
) -> Mesh:
    """Subdivide a quad mesh ``levels`` times like Blender's modifier with the limit surface off.

    Parameters
    ----------
    mesh : Mesh
        Quads (int (M, 4)), positions float64 (N, 3) in metres, per-vertex UVs (N, 2).
        Must be manifold (no edge with more than two faces).
    levels : int
        0 to 6. Level 0 returns ``mesh`` itself.
    boundary_smooth : {"ALL", "PRESERVE_CORNERS"}
        Blender's ``SubsurfModifier.boundary_smooth``; see the module docstring.
    uv_smooth : {"PRESERVE_BOUNDARIES", "NONE"}
        Blender's ``SubsurfModifier.uv_smooth``: "Keep Boundaries" (the default) or linear.

    Returns
    -------
    Mesh
        ``V + E + F`` vertices per level: the old vertices keep their indices, then one per
        old edge, then one per old face. Faces are int32 (4M, 4) per level, face ``4f + k``
        being the child of old face ``f`` at its corner ``k``, with the parent's winding.
        ``grid`` is None.

    Raises
    ------
    ValueError
        For a bad ``levels`` / rule, a non-manifold edge, or a result over
        :data:`~scurve_geom.params.MAX_VERTICES` vertices.
    """
    if isinstance(levels, bool) or not isinstance(levels, int | np.integer):
        raise ValueError(f"levels={levels!r} must be an int from 0 to {MAX_LEVELS}")
    if not 0 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels={levels!r} is out of range: allowed 0 to {MAX_LEVELS}")
    if boundary_smooth not in BOUNDARY_RULES:
        raise ValueError(
            f"boundary_smooth={boundary_smooth!r} is not allowed: choose one of {BOUNDARY_RULES}"
        )
    if uv_smooth not in UV_SMOOTH_RULES:
        raise ValueError(
            f"uv_smooth={uv_smooth!r} is not allowed: choose one of {UV_SMOOTH_RULES}"
        )
    if levels == 0:
        return mesh

    topo = _base_topology(mesh.faces, mesh.n_vertices, boundary_smooth == "PRESERVE_CORNERS")
    n_out = subdivided_counts(
        mesh.n_vertices, len(topo.edges), len(topo.faces), levels
    )[0]
    if n_out > MAX_VERTICES:
        raise ValueError(
            f"levels={levels} would make {n_out} vertices: allowed at most {MAX_VERTICES}"
        )

    x = np.concatenate([mesh.vertices.T, mesh.uv.T]).astype(np.float64)
    for _ in range(levels - 1):
        x = _refine_level(x, topo, uv_smooth == "NONE")
        topo = _child_topology(topo)
    x = _refine_level(x, topo, uv_smooth == "NONE")
    faces = _child_faces(topo).astype(np.int32)
    return Mesh(np.ascontiguousarray(x[:3].T), faces, np.ascontiguousarray(x[3:].T))


def limit_positions(mesh: Mesh, boundary_smooth: str = "ALL") -> np.ndarray:
    """Where each vertex of ``mesh`` lands on the Catmull-Clark limit surface.

    Applied to ``catmull_clark(mesh, n)`` it gives the exact limit surface at the level-n
    vertices, i.e. how far level ``n`` still is from the limit. Blender's "Use Limit
    Surface" matches it to float32 precision except at the corners rounded by ``"ALL"``
    (crease-rule corners are irregular: OpenSubdiv isolates them only to the modifier's
    ``quality`` level, 3 by default, and Blender's "limit" there is that level's refined
    point, 7.8 mm off on the seed mesh; ``tests/blender`` checks this).

    Parameters
    ----------
    mesh : Mesh
        A manifold quad mesh, positions in metres.
    boundary_smooth : {"ALL", "PRESERVE_CORNERS"}
        As for :func:`catmull_clark`.

    Returns
    -------
    ndarray, float64 (N, 3)
        Interior vertex of valence ``n``: ``(n² P + 4 Σ edge neighbours + Σ diagonal
        neighbours) / (n (n + 5))``; crease (boundary) vertex: ``(a + 4 P + b) / 6``; fixed
        corner: ``P``.
    """
    if boundary_smooth not in BOUNDARY_RULES:
        raise ValueError(
            f"boundary_smooth={boundary_smooth!r} is not allowed: choose one of {BOUNDARY_RULES}"
        )
    topo = _base_topology(mesh.faces, mesh.n_vertices, boundary_smooth == "PRESERVE_CORNERS")
    p = np.asarray(mesh.vertices, dtype=np.float64)
    n_v = len(p)
    smooth, crease, _ = _vertex_classes(topo)
    edges, faces = topo.edges, topo.faces
    valence = np.bincount(edges.ravel(), minlength=n_v).astype(np.float64)
    edge_sum = _gather_sum(edges[:, 0], p[edges[:, 1]], n_v) + _gather_sum(
        edges[:, 1], p[edges[:, 0]], n_v
    )
    # Each quad corner's diagonal partner is two steps round the face.
    diag_sum = _gather_sum(faces.ravel(), p[np.roll(faces, 2, axis=1)].reshape(-1, 3), n_v)
    out = p.copy()
    n = valence[smooth, None]
    out[smooth] = (n * n * p[smooth] + 4.0 * edge_sum[smooth] + diag_sum[smooth]) / (n * (n + 5))
    b = edges[topo.boundary_edge]
    bsum = _gather_sum(b[:, 0], p[b[:, 1]], n_v) + _gather_sum(b[:, 1], p[b[:, 0]], n_v)
    out[crease] = (4.0 * p[crease] + bsum[crease]) / 6.0
    return out


# -- internals -----------------------------------------------------------------------------


def _base_topology(faces: np.ndarray, n_vertices: int, sharp_corners: bool) -> _Topology:
    """Edges of the base mesh (one sort), their boundary flags and the fixed corners."""
    f = np.asarray(faces, dtype=np.int64)
    if f.size and (f.min() < 0 or f.max() >= n_vertices):
        raise ValueError(f"faces index vertices outside 0..{n_vertices - 1}")
    a = f.ravel()
    b = np.roll(f, -1, axis=1).ravel()
    key = np.minimum(a, b) * n_vertices + np.maximum(a, b)
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    if counts.size and counts.max() > 2:
        raise ValueError(
            f"mesh is not manifold: {int(np.sum(counts > 2))} edge(s) have more than two faces"
        )
    edges = np.stack([uniq // n_vertices, uniq % n_vertices], axis=1)
    boundary = counts == 1
    corner = np.zeros(n_vertices, dtype=bool)
    if sharp_corners:
        n_faces = np.bincount(a, minlength=n_vertices)
        n_edges = np.bincount(edges.ravel(), minlength=n_vertices)
        corner = (n_faces == 1) & (n_edges == 2)
    # numpy 2.0.x returned inverse with the input's shape, 1.26 and >= 2.1 flat: reshape both.
    face_edges = inverse.reshape(f.shape)
    return _Topology(n_vertices, f, face_edges, edges, boundary, corner)


def _vertex_classes(topo: _Topology) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (V,): smooth interior vertices, crease (boundary) vertices, fixed ones.

    Boundary vertices with other than two boundary edges (non-manifold fans) are fixed, as
    OpenSubdiv sharpens non-manifold vertices; so are unused vertices.
    """
    n_v = topo.n_vertices
    valence = np.bincount(topo.edges.ravel(), minlength=n_v)
    n_boundary = np.bincount(topo.edges[topo.boundary_edge].ravel(), minlength=n_v)
    smooth = (n_boundary == 0) & (valence > 0)
    crease = (n_boundary == 2) & ~topo.corner
    fixed = ~(smooth | crease)
    return smooth, crease, fixed


def _gather_sum(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``out[i] = Σ values[index == i]``, float64 (size, d), one bincount per column."""
    out = np.empty((size, values.shape[1]))
    for k in range(values.shape[1]):
        out[:, k] = np.bincount(index, weights=values[:, k], minlength=size)
    return out


def _refine_level(x: np.ndarray, topo: _Topology, linear_uv: bool) -> np.ndarray:
    """One Catmull-Clark level of positions and UVs stored by row: (5, V) → (5, V + E + F).

    Rows 0-2 are x, y, z, rows 3-4 u, v. Positions and UVs share every smooth stencil, so
    they are refined together and split only where the boundary rules differ. Row-major
    storage keeps each bincount's weights and each gather contiguous.
    """
    n_v = topo.n_vertices
    faces, face_edges, edges = topo.faces, topo.face_edges, topo.edges
    n_e, n_f = len(edges), len(faces)
    smooth, crease, _ = _vertex_classes(topo)
    boundary = np.flatnonzero(topo.boundary_edge)
    e0, e1 = edges[:, 0], edges[:, 1]
    out = np.empty((x.shape[0], n_v + n_e + n_f))

    face_pts = out[:, n_v + n_e :]
    np.add(x[:, faces[:, 0]], x[:, faces[:, 1]], out=face_pts)
    face_pts += x[:, faces[:, 2]]
    face_pts += x[:, faces[:, 3]]
    face_pts *= 0.25
    # Each face point is scattered to its four edges and its four corners.
    face_rep = np.repeat(face_pts, 4, axis=1)
    fe_flat, fv_flat = face_edges.ravel(), faces.ravel()

    edge_pts = out[:, n_v : n_v + n_e]
    np.add(x[:, e0], x[:, e1], out=edge_pts)
    for row, pts in zip(face_rep, edge_pts, strict=True):
        pts += np.bincount(fe_flat, weights=row, minlength=n_e)
    edge_pts *= 0.25
    # Boundary edges (few): the midpoint instead.
    edge_pts[:, boundary] = 0.5 * (x[:, e0[boundary]] + x[:, e1[boundary]])

    vert_pts = out[:, :n_v]
    valence = np.bincount(edges.ravel(), minlength=n_v).astype(np.float64)
    n = np.where(smooth, valence, 1.0)
    # (n - 2)/n P + (Σ edge neighbours + Σ face points)/n², valid where smooth.
    np.multiply(x, (n - 2.0) / n, out=vert_pts)
    inv_n2 = 1.0 / (n * n)
    for k in range(x.shape[0]):
        total: np.ndarray = np.bincount(e0, weights=x[k, e1], minlength=n_v).astype(np.float64)
        total += np.bincount(e1, weights=x[k, e0], minlength=n_v)
        total += np.bincount(fv_flat, weights=face_rep[k], minlength=n_v)
        total *= inv_n2
        vert_pts[k] += total

    # Boundary vertices (few): positions by the crease rule or fixed, UVs kept.
    not_smooth = np.flatnonzero(~smooth)
    vert_pts[:, not_smooth] = x[:, not_smooth]
    creases = np.flatnonzero(crease)
    b0, b1 = e0[boundary], e1[boundary]
    for k in range(3):
        nb = np.bincount(b0, weights=x[k, b1], minlength=n_v)
        nb += np.bincount(b1, weights=x[k, b0], minlength=n_v)
        vert_pts[k, creases] = 0.75 * x[k, creases] + 0.125 * nb[creases]

    if linear_uv:
        out[3:, :n_v] = x[3:]
        out[3:, n_v : n_v + n_e] = 0.5 * (x[3:, e0] + x[3:, e1])
    return out


def _child_topology(topo: _Topology) -> _Topology:
    """Connectivity of the next level, in closed form (no sorting).

    Child vertices: old vertices, then edge points (``V + e``), then face points
    (``V + E + f``). Child edge ``2e`` / ``2e + 1`` is the half of old edge ``e`` at its
    first / second endpoint; ``2E + 4f + k`` joins edge point ``k`` of face ``f`` to its
    face point. Child face ``4f + k`` is ``(v_k, e_k, c, e_{k-1})``.
    """
    n_v = topo.n_vertices
    faces, face_edges, edges = topo.faces, topo.face_edges, topo.edges
    n_e, n_f = len(edges), len(faces)
    fe_prev = np.roll(face_edges, 1, axis=1)  # edge k-1, which ends at corner k
    centre = (n_v + n_e + np.arange(n_f, dtype=np.int64))[:, None]
    child_faces = _child_faces(topo)

    inner = 2 * n_e + 4 * np.arange(n_f, dtype=np.int64)[:, None] + np.arange(4)
    child_fe = np.empty((n_f, 4, 4), dtype=np.int64)
    child_fe[..., 0] = 2 * face_edges + (faces != edges[face_edges, 0])
    child_fe[..., 1] = inner
    child_fe[..., 2] = np.roll(inner, 1, axis=1)
    child_fe[..., 3] = 2 * fe_prev + (faces != edges[fe_prev, 0])

    child_edges = np.empty((2 * n_e + 4 * n_f, 2), dtype=np.int64)
    mid = n_v + np.arange(n_e, dtype=np.int64)
    child_edges[0 : 2 * n_e : 2, 0] = edges[:, 0]
    child_edges[0 : 2 * n_e : 2, 1] = mid
    child_edges[1 : 2 * n_e : 2, 0] = mid
    child_edges[1 : 2 * n_e : 2, 1] = edges[:, 1]
    child_edges[2 * n_e :, 0] = (n_v + face_edges).ravel()
    child_edges[2 * n_e :, 1] = np.repeat(centre[:, 0], 4)

    boundary = np.zeros(2 * n_e + 4 * n_f, dtype=bool)
    boundary[: 2 * n_e] = np.repeat(topo.boundary_edge, 2)
    corner = np.zeros(n_v + n_e + n_f, dtype=bool)
    # A sharp corner's vertex point is the same index one level down, and stays sharp.
    corner[:n_v] = topo.corner
    return _Topology(
        n_v + n_e + n_f,
        child_faces,
        child_fe.reshape(-1, 4),
        child_edges,
        boundary,
        corner,
    )


def _child_faces(topo: _Topology) -> np.ndarray:
    """The next level's quads, int64 (4F, 4): child ``4f + k`` is ``(v_k, e_k, c, e_{k-1})``."""
    n_v, face_edges = topo.n_vertices, topo.face_edges
    n_e, n_f = len(topo.edges), len(topo.faces)
    child = np.empty((n_f, 4, 4), dtype=np.int64)
    child[..., 0] = topo.faces
    child[..., 1] = n_v + face_edges
    child[..., 2] = (n_v + n_e + np.arange(n_f, dtype=np.int64))[:, None]
    child[..., 3] = n_v + np.roll(face_edges, 1, axis=1)
    return child.reshape(-1, 4)
