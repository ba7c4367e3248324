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
