"""First and second derivatives of the exact surface, principal curvatures, areas.

Everything here is differentiated in closed form from the formulas in
:mod:`scurve_geom.surface` (the same ones :func:`scurve_geom.optics.mirror.exact_normals`
uses for the first derivatives): the mesh is never consulted. ``u`` and ``v`` are the
surface's own parameters in ``[0, 1]``; derivatives are per unit ``u`` and ``v``, in metres.

Within each half (``u < 0.5`` or ``u > 0.5``) the surface is smooth; on the seam it has a
crease when ``match_heights`` is off, which is why panels are always cut there.
"""

from __future__ import annotations

import math

import numpy as np

from ..surface import Surface

__all__ = ["Derivatives", "area_element", "derivatives", "panel_area", "principal_curvatures"]

# Gauss-Legendre on [0, 1] for panel areas: |P_u x P_v| is analytic inside a panel, so 24
# nodes per direction reach machine precision on panels a fraction of the wall wide
# (checked in tests against a 4x finer composite rule over each whole half).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_GL_NODES = 0.5 * (_GL_NODES + 1.0)
_GL_WEIGHTS = 0.5 * _GL_WEIGHTS


class Derivatives:
    """``P_u, P_v, P_uu, P_uv, P_vv``: float64 (n, 3) arrays, metres per parameter unit."""

    def __init__(self, pu: np.ndarray, pv: np.ndarray, puu: np.ndarray, puv: np.ndarray,
                 pvv: np.ndarray) -> None:
        self.pu, self.pv, self.puu, self.puv, self.pvv = pu, pv, puu, puv, pvv


def derivatives(surface: Surface, u: np.ndarray, v: np.ndarray,
                side: np.ndarray | float | None = None) -> Derivatives:
    """Analytic derivatives of ``surface`` at ``(u, v)`` (float arrays of shape (n,)).

    ``side`` (+1 or -1, broadcast to ``u``) picks the half whose formula applies on the
    seam itself (``u = 0.5``); by default the half ``u`` lies in.
    """
    p = surface.params
    u = np.asarray(u, dtype=np.float64).ravel()
    v = np.asarray(v, dtype=np.float64).ravel()
    L, r, k0 = p.half_length, p.radius, surface.kappa0
    b = 2.0 * u - 1.0
    sigma = np.sign(b) if side is None else np.broadcast_to(np.asarray(side, float), b.shape)
    t = sigma * b
    ang = math.pi * b
    phi = k0 * L / math.pi * (1.0 - np.cos(ang))
    kappa = k0 * np.sin(ang)                    # plan curvature, 1/m
    kappa_s = k0 * math.pi / L * np.cos(ang)    # its derivative along the arc, 1/m^2
    T = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=-1)
    N = np.stack([-np.sin(phi), np.cos(phi), np.zeros_like(phi)], axis=-1)
    Z = np.array([0.0, 0.0, 1.0])

    span = math.pi - 2.0 * surface.theta0
    theta = surface.theta0 + span * v
    sin_t, cos_t = np.sin(theta), np.cos(theta)
    w_a = -r * (sin_t - math.sin(surface.theta0))
    w_a_v = -r * span * cos_t
    w_a_vv = r * span**2 * sin_t
    z_a = r * (math.cos(surface.theta0) - cos_t)
    z_a_v = r * span * sin_t
    z_a_vv = r * span**2 * cos_t
    if p.match_heights:
        z_s, z_s_v, z_s_vv = z_a, z_a_v, z_a_vv
    else:
        z_s, z_s_v, z_s_vv = p.height * v, np.full_like(v, p.height), np.zeros_like(v)

    w = b * w_a
    c = lambda a: a[:, None]  # noqa: E731 - column broadcast, used a dozen times below
    # s = L b, b = 2u - 1: ds/du = 2L. dT/ds = kappa N, dN/ds = -kappa T.
    pu = c(2.0 * L * (1.0 - w * kappa)) * T + c(2.0 * w_a) * N + c(2.0 * sigma * (z_a - z_s)) * Z
    pv = c(b * w_a_v) * N + c((1.0 - t) * z_s_v + t * z_a_v) * Z
    puu = (c(-8.0 * L * w_a * kappa - 4.0 * L**2 * w * kappa_s) * T
           + c(4.0 * L**2 * kappa * (1.0 - w * kappa)) * N)
    puv = (c(-2.0 * L * b * w_a_v * kappa) * T + c(2.0 * w_a_v) * N
           + c(2.0 * sigma * (z_a_v - z_s_v)) * Z)
    pvv = c(b * w_a_vv) * N + c((1.0 - t) * z_s_vv + t * z_a_vv) * Z
    return Derivatives(pu, pv, puu, puv, pvv)


def principal_curvatures(d: Derivatives) -> tuple[np.ndarray, np.ndarray]:
    """Principal curvatures ``(k1, k2)``, 1/m, ``k1 >= k2``, float64 (n,) each.

    Signed with respect to the normal ``P_u x P_v`` (the mirror's front). NaN where the
    parametrisation degenerates (bottom of the seam of a full half-circle arch).
    """
    n = np.cross(d.pu, d.pv)
    with np.errstate(invalid="ignore", divide="ignore"):
        n /= np.linalg.norm(n, axis=1)[:, None]
        E = np.einsum("ij,ij->i", d.pu, d.pu)
        F = np.einsum("ij,ij->i", d.pu, d.pv)
        G = np.einsum("ij,ij->i", d.pv, d.pv)
        e = np.einsum("ij,ij->i", d.puu, n)
        f = np.einsum("ij,ij->i", d.puv, n)
        g = np.einsum("ij,ij->i", d.pvv, n)
        det = E * G - F * F
        K = (e * g - f * f) / det
        H = (e * G - 2.0 * f * F + g * E) / (2.0 * det)
        root = np.sqrt(np.maximum(H * H - K, 0.0))
    return H + root, H - root


def area_element(d: Derivatives) -> np.ndarray:
    """``|P_u x P_v|``: square metres per unit parameter area, float64 (n,)."""
    return np.linalg.norm(np.cross(d.pu, d.pv), axis=1)


def panel_area(surface: Surface, u0: float, u1: float, v0: float, v1: float,
               order: int = 1) -> float:
    """Area of the surface over the parameter rectangle, m², by Gauss-Legendre.

    ``order`` splits the rectangle into ``order x order`` cells, each with the 24x24 rule.
    """
    edges_u = np.linspace(u0, u1, order + 1)
    edges_v = np.linspace(v0, v1, order + 1)
    du, dv = np.diff(edges_u), np.diff(edges_v)
    uu = (edges_u[:-1, None] + du[:, None] * _GL_NODES[None, :]).ravel()
    vv = (edges_v[:-1, None] + dv[:, None] * _GL_NODES[None, :]).ravel()
    wu = (du[:, None] * _GL_WEIGHTS[None, :]).ravel()
    wv = (dv[:, None] * _GL_WEIGHTS[None, :]).ravel()
    U, V = np.meshgrid(uu, vv, indexing="ij")
    side = 1.0 if u0 + u1 >= 1.0 else -1.0
    dens = area_element(derivatives(surface, U.ravel(), V.ravel(), side)).reshape(U.shape)
    return float(wu @ dens @ wv)
