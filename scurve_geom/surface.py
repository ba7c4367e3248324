"""The exact surface the mirror's grid samples.

A point is addressed by ``(u, v)`` in ``[0, 1]²``: ``u`` runs along the wall from the
−x end (0) through the seam (0.5) to the +x end (1), ``v`` runs up the arch from the
ground (0) to the top (1). With ``s = L (2u - 1)`` the arc length from the seam and
``theta = theta0 + (pi - 2 theta0) v`` the arch angle, where ``theta0 = (pi - arch_angle)/2``:

* the end arch is the circle ``z = r (cos theta0 - cos theta)``,
  ``w = -r (sin theta - sin theta0)``, ``w`` the offset along the plan normal;
* the seam is the straight vertical segment ``w = 0`` with heights ``z_seam(v)``: the
  arch's heights when ``match_heights`` (the seed's step 10), evenly spaced otherwise;
* in between, Blender's Grid Fill of a four-sided loop with straight side rails is a
  linear blend of the two opposite edges, so with ``t = |s| / L``::

      z = (1 - t) z_seam(v) + t z_arch(v),    w = (s / L) w_arch(v)

  Every row is a straight horizontal segment when heights match; vertical sections are
  half-ellipses with semi-axes ``r`` and ``t r``, circles only at the ends.
* The point is ``P = (C(s) + w N(s), z)`` with ``C`` the plan centre line and ``N`` its
  left normal (see :mod:`scurve_geom.plan`). ``w`` is odd in ``s`` and ``C`` odd, ``N``
  even, so ``P(1 - u, v) = R P(u, v)`` with ``R`` the 180° rotation about z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .params import MirrorParams
from .plan import bend_curvature, centre_line

__all__ = ["Profile", "Surface"]


@dataclass(frozen=True)
class Profile:
    """Per-row quantities of the surface, sampled at heights ``v``.

    Attributes are float64 arrays of the shape of ``v``: the arch height ``z_arch`` and
    sideways offset ``w_arch`` (metres, at the +x end) and the seam height ``z_seam``.
    """

    z_arch: np.ndarray
    w_arch: np.ndarray
    z_seam: np.ndarray


class Surface:
    """The analytic mirror surface for one :class:`~scurve_geom.MirrorParams`.

    Examples
    --------
    >>> surf = Surface(MirrorParams())
    >>> surf.point(0.5, 1.0)        # top of the seam, metres
    array([0., 0., 2.])
    """

    def __init__(self, params: MirrorParams) -> None:
        self.params = params
        self.kappa0 = bend_curvature(params.s_amplitude, params.half_length)
        self.theta0 = (math.pi - params.arch_angle) / 2.0

    def profile(self, v: np.ndarray) -> Profile:
        """Arch and seam samples at row parameters ``v`` (array, any shape, in [0, 1])."""
        p = self.params
        v = np.asarray(v, dtype=np.float64)
        theta = self.theta0 + (math.pi - 2.0 * self.theta0) * v
        z_arch = p.radius * (math.cos(self.theta0) - np.cos(theta))
        w_arch = -p.radius * (np.sin(theta) - math.sin(self.theta0))
        z_seam = z_arch if p.match_heights else p.height * v
        return Profile(z_arch, w_arch, z_seam)

    def columns(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-column quantities at ``u`` (shape (n,)).

        Returns
        -------
        centre : float64 (n, 2)
            The plan centre line point, metres.
        normal : float64 (n, 2)
            The unit plan normal (the centre line's left normal).
        blend : float64 (n,)
            ``s / L`` in [-1, 1]: the signed Grid Fill blend weight toward the arch.
        """
        p = self.params
        blend = 2.0 * np.asarray(u, dtype=np.float64) - 1.0
        centre, heading = centre_line(blend * p.half_length, p.half_length, self.kappa0)
        normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
        return centre, normal, blend

    def point(self, u: np.ndarray | float, v: np.ndarray | float) -> np.ndarray:
        """Surface points at ``(u, v)``, broadcast together; float64 (..., 3), metres."""
        u_arr, v_arr = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        shape = u_arr.shape
        centre, normal, blend = self.columns(u_arr.ravel())
        prof = self.profile(v_arr.ravel())
        t = np.abs(blend)
        w = blend * prof.w_arch
        out = np.empty((u_arr.size, 3))
        out[:, :2] = centre + w[:, None] * normal
        out[:, 2] = (1.0 - t) * prof.z_seam + t * prof.z_arch
        return out.reshape(*shape, 3)

    def normal(self, u: np.ndarray | float, v: np.ndarray | float) -> np.ndarray:
        """Unit normals of the exact surface at ``(u, v)``, broadcast; float64 (..., 3).

        Analytic: ``dP/du x dP/dv`` of the formulas above, the centre line entering only
        through its heading and curvature, which have closed forms. Oriented like the
        mesh's faces: toward the front (−y at the seam). The one degenerate point (the
        bottom of the seam of a full half-circle arch, where ``dP/dv`` vanishes) is NaN.
        """
        u_arr, v_arr = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        shape = u_arr.shape
        u, v = u_arr.ravel(), v_arr.ravel()
        surf = self
        p = self.params
        L, r, k0 = p.half_length, p.radius, surf.kappa0
        b = 2.0 * u - 1.0
        t = np.abs(b)
        ang = math.pi * b  # pi * s / L
        phi = k0 * L / math.pi * (1.0 - np.cos(ang))
        kappa = k0 * np.sin(ang)
        cos_p, sin_p = np.cos(phi), np.sin(phi)

        span = math.pi - 2.0 * surf.theta0  # d theta / d v (the arch angle)
        theta = surf.theta0 + span * v
        sin_t, cos_t = np.sin(theta), np.cos(theta)
        z_arch = r * (math.cos(surf.theta0) - cos_t)
        w_arch = -r * (sin_t - math.sin(surf.theta0))
        z_arch_v = r * span * sin_t
        w_arch_v = -r * span * cos_t
        if p.match_heights:
            z_seam, z_seam_v = z_arch, z_arch_v
        else:
            z_seam, z_seam_v = p.height * v, np.full_like(v, p.height)

        w = b * w_arch
        # dP/du: ds/du = 2L along the tangent T (scaled by 1 - w kappa, since dN/ds = -kappa T),
        # dw/du = 2 w_arch along the plan normal N, and the Grid Fill blend in z.
        a_t = 2.0 * L * (1.0 - w * kappa)
        a_n = 2.0 * w_arch
        pu_x = a_t * cos_p - a_n * sin_p
        pu_y = a_t * sin_p + a_n * cos_p
        # dP/dv: along N by c_n = b w_arch', up by the blended heights' derivative.
        c_n = b * w_arch_v
        pv_z = (1.0 - t) * z_seam_v + t * z_arch_v
        # n = dP/du x dP/dv, written out: dP/dv's plan part is c_n N, and T x N is +z.
        n = np.empty((u.size, 3))
        n[:, 0] = pu_y * pv_z
        np.multiply(pu_x, -pv_z, out=n[:, 1])
        np.multiply(a_t, c_n, out=n[:, 2])
        if not p.match_heights:
            pu_z = 2.0 * np.sign(b) * (z_arch - z_seam)
            n[:, 0] -= pu_z * c_n * cos_p
            n[:, 1] -= pu_z * c_n * sin_p
        length = np.sqrt(np.einsum("ij,ij->i", n, n))
        # The one degenerate point (bottom of the seam of a full half-circle arch, where
        # dP/dv vanishes) gets no normal; the tracer falls back to the facet's there.
        with np.errstate(invalid="ignore", divide="ignore"):
            n /= length[:, None]
        n[length < 1e-12] = np.nan
        return n.reshape(*shape, 3)
