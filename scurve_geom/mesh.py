"""The quad mesh the library produces, and its checks.

A :class:`Mesh` is plain arrays, ready for ``foreach_set`` in Blender or for an exporter:
positions in metres, quads as vertex indices, one UV per vertex.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["GridLayout", "Mesh", "MeshReport"]


@dataclass(frozen=True)
class GridLayout:
    """How a structured grid's vertices are laid out, so edges need no search.

    Vertex ``(row j, column i)`` has index ``j * columns + i``; quads run row by row
    over :meth:`quad_columns`, corners ``(j, c), (j, c+1), (j+1, c+1), (j+1, c)``.
    ``gap`` is the column after which no quads are made (the unwelded seam: columns
    ``gap`` and ``gap + 1`` coincide but are not joined), or -1.
    """

    rows: int
    columns: int
    gap: int = -1

    def quad_columns(self) -> np.ndarray:
        """Left column index of every quad column, int64 (q,)."""
        cols = np.arange(self.columns - 1)
        return cols[cols != self.gap]


@dataclass(frozen=True, eq=False)
class Mesh:
    """A quad mesh with per-vertex UVs.

    Attributes
    ----------
    vertices : ndarray, float64, shape (N, 3)
        Positions in metres, z up.
    faces : ndarray, int32, shape (M, 4)
        Vertex indices of each quad, counter-clockwise seen from the front (the side a
        viewer on -y sees at the seam), so face normals point to the front.
    uv : ndarray, float64, shape (N, 2)
        Texture coordinates in [0, 1]: u along the wall (-x end 0, +x end 1), v up.
    grid : GridLayout or None
        Set when the vertices form a structured grid, which gives edges in closed form.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    grid: GridLayout | None = None

    def __post_init__(self) -> None:
        v, f, t = self.vertices, self.faces, self.uv
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"vertices must have shape (N, 3), got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 4:
            raise ValueError(f"faces must have shape (M, 4), got {f.shape}")
        if t.shape != (v.shape[0], 2):
            raise ValueError(f"uv must have shape ({v.shape[0]}, 2), got {t.shape}")

    @property
    def n_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def n_faces(self) -> int:
        return int(self.faces.shape[0])

    @functools.cached_property
    def edges(self) -> np.ndarray:
        """Unique undirected edges, int32 (E, 2).

        Closed form for a :class:`GridLayout` (horizontal edges row by row, then the
        vertical ones column by column: the order of Blender's Grid primitive, so the
        Geometry Nodes mirror has the same edges and subdivides identically); otherwise
        found from the faces.
        """
        g = self.grid
        if g is None:
            return _unique_edges(self.faces, self.n_vertices)
        rows = np.arange(g.rows, dtype=np.int32)[:, None] * g.columns
        qc = g.quad_columns().astype(np.int32)
        horizontal = (rows + qc[None, :]).ravel()
        vertical = (np.arange(g.rows - 1, dtype=np.int32)[None, :] * np.int32(g.columns)
                    + np.arange(g.columns, dtype=np.int32)[:, None]).ravel()
        edges = np.empty((horizontal.size + vertical.size, 2), dtype=np.int32)
        edges[: horizontal.size, 0] = horizontal
        edges[: horizontal.size, 1] = horizontal + 1
        edges[horizontal.size :, 0] = vertical
        edges[horizontal.size :, 1] = vertical + g.columns
        return edges

    @functools.cached_property
    def corner_edges(self) -> np.ndarray:
        """Index into :attr:`edges` of every face corner's edge (corner k to k+1), int32 (M, 4).

        What Blender stores as ``.corner_edge``: closed form for a grid, otherwise a
        sorted-key lookup.
        """
        g = self.grid
        if g is not None:
            qc = g.quad_columns().astype(np.int32)
            nq, rows = qc.size, g.rows
            left = qc[None, :] * np.int32(rows - 1) + np.arange(rows - 1, dtype=np.int32)[:, None]
            out = np.empty((rows - 1, nq, 4), dtype=np.int32)
            # Horizontal edges are numbered row by row, so a quad's bottom edge is its
            # own index and its top edge one row (nq) further; vertical edges follow,
            # column by column (rows - 1 per column).
            out[..., 0] = np.arange((rows - 1) * nq, dtype=np.int32).reshape(rows - 1, nq)
            np.add(out[..., 0], nq, out=out[..., 2])
            np.add(left, np.int32(rows * nq), out=out[..., 3])
            np.add(out[..., 3], np.int32(rows - 1), out=out[..., 1])
            return out.reshape(-1, 4)
        n = np.int64(self.n_vertices)
        faces = self.faces.astype(np.int64)
        a, b = faces, np.roll(faces, -1, axis=1)
        edges = self.edges.astype(np.int64)
        keys = np.minimum(edges[:, 0], edges[:, 1]) * n + np.maximum(edges[:, 0], edges[:, 1])
        order = np.argsort(keys)
        wanted = np.minimum(a, b) * n + np.maximum(a, b)
        return order[np.searchsorted(keys[order], wanted)].astype(np.int32)

    def face_normals(self) -> np.ndarray:
        """Unit face normals, float64 (M, 3), from the quads' diagonals' cross product."""
        v = self.vertices
        f = self.faces
        n = np.cross(v[f[:, 2]] - v[f[:, 0]], v[f[:, 3]] - v[f[:, 1]])
        length = np.linalg.norm(n, axis=1, keepdims=True)
        return n / np.where(length > 0, length, 1.0)

    def vertex_normals(self) -> np.ndarray:
        """Unit vertex normals, float64 (N, 3): area-weighted face normals summed."""
        v = self.vertices
        f = self.faces
        # Half the diagonals' cross product is the quad's vector area: area weighting for free.
        n = np.cross(v[f[:, 2]] - v[f[:, 0]], v[f[:, 3]] - v[f[:, 1]])
        out = np.zeros_like(v)
        idx = f.ravel()
        for k in range(3):
            out[:, k] = np.bincount(idx, weights=np.repeat(n[:, k], 4), minlength=len(v))
        length = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(length > 0, length, 1.0)

    def boundary_loops(self) -> list[np.ndarray]:
        """Boundary loops as arrays of vertex indices, in the faces' winding order."""
        src, dst = _boundary_half_edges(self.faces, self.n_vertices)
        nxt = dict(zip(src.tolist(), dst.tolist(), strict=True))
        loops = []
        seen: set[int] = set()
        for start in src.tolist():
            if start in seen:
                continue
            loop = [start]
            seen.add(start)
            cur = nxt[start]
            while cur != start and cur in nxt and cur not in seen:
                loop.append(cur)
                seen.add(cur)
                cur = nxt[cur]
            loops.append(np.asarray(loop))
        return loops

    def euler_characteristic(self) -> int:
        """``V - E + F`` counting only vertices used by a face (1 for a disc)."""
        used = np.unique(self.faces).size
        return used - len(self.edges) + self.n_faces

    def check(self, symmetry_tolerance: float = 1e-9) -> MeshReport:
        """Run every mesh check and return a :class:`MeshReport`.

        ``symmetry_tolerance`` is relative to the mesh's size: the report's
        ``symmetric`` is true when the 180° rotation about z maps every vertex onto a
        vertex within ``symmetry_tolerance * size``.
        """
        f = self.faces.astype(np.int64)
        n = self.n_vertices
        a = f.ravel()
        b = np.roll(f, -1, axis=1).ravel()
        directed = a * n + b
        undirected = np.minimum(a, b) * n + np.maximum(a, b)
        _, per_edge = np.unique(undirected, return_counts=True)
        consistent = np.unique(directed).size == directed.size
        src, _ = _boundary_half_edges(self.faces, n)
        # A vertex with two boundary fans (a bow tie) has out-degree > 1 on the boundary.
        bow_ties = int(np.sum(np.bincount(src, minlength=n) > 1)) if src.size else 0
        manifold = bool(per_edge.max(initial=0) <= 2 and bow_ties == 0)
        v = self.vertices
        size = float(np.ptp(v, axis=0).max()) if n else 0.0
        degenerate = _degenerate_faces(v, self.faces, (1e-12 * max(size, 1e-300) ** 2) ** 2)
        loops = self.boundary_loops() if manifold else []
        return MeshReport(
            vertices=n,
            edges=int(per_edge.size),
            faces=self.n_faces,
            manifold=manifold,
            consistent_winding=bool(consistent),
            boundary_loops=len(loops),
            euler_characteristic=self.euler_characteristic(),
            duplicate_vertices=_count_duplicates(v, 1e-9 * max(size, 1e-300)),
            degenerate_faces=degenerate,
            symmetry_error=_rotation_symmetry_error(v),
            size=size,
            symmetry_tolerance=symmetry_tolerance,
        )


@dataclass(frozen=True)
class MeshReport:
    """What :meth:`Mesh.check` found. Lengths in metres."""

    vertices: int
    edges: int
    faces: int
    manifold: bool
    consistent_winding: bool
    boundary_loops: int
    euler_characteristic: int
    duplicate_vertices: int
    degenerate_faces: int
    symmetry_error: float
    size: float
    symmetry_tolerance: float = 1e-9

    @property
    def symmetric(self) -> bool:
        """180° rotation about z maps the mesh onto itself within tolerance."""
        return self.symmetry_error <= self.symmetry_tolerance * max(self.size, 1e-300)

    @property
    def ok(self) -> bool:
        """A clean single sheet: manifold, one boundary loop, no duplicates, symmetric."""
        return (
            self.manifold
            and self.consistent_winding
            and self.boundary_loops == 1
            and self.duplicate_vertices == 0
            and self.degenerate_faces == 0
            and self.symmetric
        )

    def __str__(self) -> str:
        def yes(flag: bool) -> str:
            return "yes" if flag else "NO"

        rows = [
            ("vertices / edges / faces", f"{self.vertices} / {self.edges} / {self.faces}"),
            ("manifold", yes(self.manifold)),
            ("consistent winding", yes(self.consistent_winding)),
            ("boundary loops", str(self.boundary_loops)),
            ("Euler characteristic", str(self.euler_characteristic)),
            ("duplicate vertices", str(self.duplicate_vertices)),
            ("degenerate faces", str(self.degenerate_faces)),
            ("180° symmetry error", f"{self.symmetry_error:.3g} m ({yes(self.symmetric)})"),
            ("overall", "OK" if self.ok else "PROBLEMS"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _unique_edges(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    f = faces.astype(np.int64)
    a = f.ravel()
    b = np.roll(f, -1, axis=1).ravel()
    key = np.unique(np.minimum(a, b) * n_vertices + np.maximum(a, b))
    return np.stack([key // n_vertices, key % n_vertices], axis=1).astype(np.int32)


def _boundary_half_edges(faces: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges (src, dst) with no opposite half-edge: the boundary, in winding order."""
    f = faces.astype(np.int64)
    a = f.ravel()
    b = np.roll(f, -1, axis=1).ravel()
    fwd = a * n + b
    rev = b * n + a
    lone = ~np.isin(fwd, rev)
    return a[lone], b[lone]


def _degenerate_faces(v: np.ndarray, faces: np.ndarray, area2_eps: float) -> int:
    repeated = np.zeros(len(faces), dtype=bool)
    for i in range(4):
        for j in range(i + 1, 4):
            repeated |= faces[:, i] == faces[:, j]
    n = np.cross(v[faces[:, 2]] - v[faces[:, 0]], v[faces[:, 3]] - v[faces[:, 1]])
    tiny = np.einsum("ij,ij->i", n, n) <= area2_eps
    return int(np.sum(repeated | tiny))


def _quantize(v: np.ndarray, step: float) -> np.ndarray:
    return np.round(v / step).astype(np.int64)


def _count_duplicates(v: np.ndarray, step: float) -> int:
    if len(v) == 0:
        return 0
    return int(len(v) - np.unique(_quantize(v, step), axis=0).shape[0])


def _rotation_symmetry_error(v: np.ndarray) -> float:
    """Largest distance from a 180°-rotated vertex to its partner vertex, metres.

    Partners are found by sorting both point sets on coordinates quantized finer than
    any real asymmetry; points whose quantized keys disagree (true asymmetry, or a key
    straddling a rounding boundary) fall back to a brute-force nearest neighbour.
    """
    if len(v) == 0:
        return 0.0
    rotated = v * np.array([-1.0, -1.0, 1.0])
    size = float(np.ptp(v, axis=0).max()) or 1.0
    step = 1e-7 * size
    kv, kr = _quantize(v, step), _quantize(rotated, step)
    ov = np.lexsort(kv.T[::-1])
    orr = np.lexsort(kr.T[::-1])
    same = np.all(kv[ov] == kr[orr], axis=1)
    err = np.linalg.norm(v[ov[same]] - rotated[orr[same]], axis=1)
    worst = float(err.max(initial=0.0))
    misses = rotated[orr[~same]]
    if len(misses):
        # Brute force costs len(misses) * len(v): cap it; a sample still bounds the error
        # from below, which is enough to fail an asymmetric mesh.
        cap = max(16, 50_000_000 // len(v))
        if len(misses) > cap:
            misses = misses[np.random.default_rng(0).choice(len(misses), cap, replace=False)]
        step_pts = max(1, 4_000_000 // len(v))
        for start in range(0, len(misses), step_pts):
            chunk = misses[start : start + step_pts]
            d2 = ((chunk[:, None, :] - v[None, :, :]) ** 2).sum(axis=2).min(axis=1)
            worst = max(worst, float(np.sqrt(d2.max())))
    return worst
