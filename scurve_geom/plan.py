"""The plan centre line: straight, or bent into an S by an odd curvature.

The centre line ``C(s)`` is parametrised by arc length ``s`` in metres, ``s = 0`` at the
seam. Its signed curvature is ``kappa(s) = kappa0 * sin(pi s / L)``: odd in ``s``, zero at
the seam and at both ends, so the heading ``phi(s) = kappa0 L / pi * (1 - cos(pi s / L))``
is even and ``C`` is odd, which keeps the wall's 180° symmetry exact.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["bend_curvature", "centre_line", "max_bend_offset"]

# Gauss-Legendre on [0, 1]: the heading is an entire function of s and never turns more
# than 90°, so 48 nodes integrate cos/sin(phi) to machine precision (checked in tests
# against a 4x refined rule).
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
_NODES = 0.5 * (_NODES + 1.0)
_WEIGHTS = 0.5 * _WEIGHTS

#: Largest end heading the bend may reach, radians: beyond 90° the ends curl back.
MAX_END_HEADING = math.pi / 2


def _heading(s: np.ndarray, half_length: float, kappa0: float) -> np.ndarray:
    return kappa0 * half_length / math.pi * (1.0 - np.cos(math.pi * s / half_length))


def centre_line(
    s: np.ndarray, half_length: float, kappa0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points and headings of the plan centre line.

    Parameters
    ----------
    s : array_like, shape (n,)
        Arc lengths from the seam, metres, within ``[-half_length, half_length]``.
    half_length : float
        Arc length from the seam to each end, metres.
    kappa0 : float
        Peak curvature, 1/metres (0: a straight line along +x).

    Returns
    -------
    points : ndarray, float64, shape (n, 2)
        ``C(s)`` in the xy plane, metres. Odd: ``C(-s) == -C(s)`` exactly.
    heading : ndarray, float64, shape (n,)
        ``phi(s)``, radians from +x. Even.
    """
    s = np.asarray(s, dtype=np.float64)
    heading = _heading(s, half_length, kappa0)
    if kappa0 == 0.0:
        return np.stack([s, np.zeros_like(s)], axis=-1), heading
    # Integrate from 0 to |s| and restore the sign afterwards: the result is then odd to
    # the last bit, not merely to quadrature accuracy.
    a = np.abs(s)
    phi = _heading(a[:, None] * _NODES[None, :], half_length, kappa0)
    points = np.empty((s.size, 2))
    np.matmul(np.cos(phi), _WEIGHTS, out=points[:, 0])
    np.matmul(np.sin(phi), _WEIGHTS, out=points[:, 1])
    points *= s[:, None]
    return points, heading


def _end_offset(half_length: float, kappa0: float) -> float:
    return float(centre_line(np.array([half_length]), half_length, kappa0)[0][0, 1])


def max_bend_offset(half_length: float) -> float:
    """Largest sideways end offset the bend can reach, metres (end heading 90°)."""
    kappa_max = MAX_END_HEADING * math.pi / (2.0 * half_length)
    return _end_offset(half_length, kappa_max)


def bend_curvature(s_amplitude: float, half_length: float) -> float:
    """Peak curvature ``kappa0`` (1/m) whose centre line ends ``s_amplitude`` m sideways.

    The offset is measured from the seam's tangent line (the x axis); positive bends
    the +x half toward +y. Solved by bisection, the offset being monotone in ``kappa0``
    up to the 90° heading limit.

    Raises
    ------
    ValueError
        If ``|s_amplitude|`` exceeds :func:`max_bend_offset`.
    """
    if s_amplitude == 0.0:
        return 0.0
    limit = max_bend_offset(half_length)
    target = abs(s_amplitude)
    if target > limit:
        raise ValueError(
            f"s_amplitude={s_amplitude!r} is out of range: allowed {-limit:.6g} to {limit:.6g}"
        )
    lo, hi = 0.0, MAX_END_HEADING * math.pi / (2.0 * half_length)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _end_offset(half_length, mid) < target:
            lo = mid
        else:
            hi = mid
    return math.copysign(0.5 * (lo + hi), s_amplitude)
