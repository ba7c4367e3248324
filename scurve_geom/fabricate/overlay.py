"""Geometry for showing the panels on the wall: quads per panel and the seam lines.

Pure numpy, for the Blender add-on's *Panelize* (which only converts it): the panels'
own grids, thinned to at most :data:`MAX_CELLS` quads a side, lifted a little off the
mirror along the exact surface normal on both sides, so they do not z-fight with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mesh import Mesh
from ..surface import Surface
from .core import Fabrication
from .differential import derivatives

__all__ = ["MAX_CELLS", "PanelOverlay", "panel_overlay"]

#: Quads along each side of a panel in the overlay: it shows classes, not strain.
MAX_CELLS = 12


@dataclass(frozen=True)
class PanelOverlay:
    """``mesh``: the panels' quads, facing out on both sides; ``face_panel``: int32 (M,), index into
    ``fab.panels`` of each quad; ``seam_vertices`` float64 (k, 3) and ``seam_edges``
    int32 (e, 2): every panel's outline as line segments. Metres, mirror's local frame."""

    mesh: Mesh
    face_panel: np.ndarray
    seam_vertices: np.ndarray
    seam_edges: np.ndarray


def _lifted(surface: Surface, uv: np.ndarray, side: float, lift: float) -> np.ndarray:
    d = derivatives(surface, uv[:, 0], uv[:, 1], side)
    n = np.cross(d.pu, d.pv)
    length = np.linalg.norm(n, axis=1)
    # Where the parametrisation pinches the normal is undefined: no lift there.
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.where(length[:, None] > 1e-12, n / length[:, None], 0.0)
    return surface.point(uv[:, 0], uv[:, 1]) + lift * n


def panel_overlay(fab: Fabrication, lift: float = 0.003) -> PanelOverlay:
    """The overlay for ``fab``: panel quads ``lift`` metres in front of and behind the
    wall (the back ones after all the front ones), outlines in front."""
    surface = Surface(fab.params)
    verts, faces, uvs, owner, seam_v, seam_e = [], [], [], [], [], []
    base = seam_base = 0
    for index, p in enumerate(fab.panels):
        c = p.cell
        nu, nv = min(MAX_CELLS, p.grid[0] - 1) + 1, min(MAX_CELLS, p.grid[1] - 1) + 1
        U, V = np.meshgrid(np.linspace(c.u0, c.u1, nu), np.linspace(c.v0, c.v1, nv),
                           indexing="ij")
        uv = np.stack([U.ravel(), V.ravel()], axis=1)
        verts.append(_lifted(surface, uv, c.side, lift))
        uvs.append(uv)
        idx = base + np.arange(nu * nv, dtype=np.int32).reshape(nu, nv)
        # Counter-clockwise from the front: u then v, as the mirror's own faces.
        quad = np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], axis=-1)
        faces.append(quad.reshape(-1, 4))
        owner.append(np.full(len(faces[-1]), index, dtype=np.int32))
        base += nu * nv
        local = idx - idx[0, 0]
        ring = np.concatenate([local[:, 0], local[-1, 1:], local[-2::-1, -1],
                               local[0, -2:0:-1]])
        seam_v.append(verts[-1][ring])
        k = np.arange(len(ring), dtype=np.int32)
        seam_e.append(seam_base + np.stack([k, np.roll(k, -1)], axis=1))
        seam_base += len(ring)
    front = np.concatenate(verts)
    # The same quads ``lift`` behind the wall, wound the other way: both faces are
    # polished, and a viewer sees the front of one half and the back of the other.
    behind = 2.0 * surface.point(*np.concatenate(uvs).T) - front
    quads = np.concatenate(faces).astype(np.int32)
    mesh = Mesh(np.concatenate([front, behind]),
                np.concatenate([quads, quads[:, ::-1] + len(front)]),
                np.concatenate(uvs + uvs))
    owner_all = np.concatenate(owner)
    return PanelOverlay(mesh, np.concatenate([owner_all, owner_all]), np.concatenate(seam_v),
                        np.concatenate(seam_e))
