"""The sun: its direction from elevation and azimuth, its disc, and where it stands when.

Convention (``docs/design.md``, "The sun", shared with the Blender stage): elevation above
the horizon and azimuth compass style with +y as north, azimuth 0 toward +y and 90°
toward +x. The direction *to* the sun is ``(cos e sin a, cos e cos a, sin e)``.
The disc is 0.53° across with uniform radiance (limb darkening is ignored: it moves
no hot spot and changes a peak by well under the map's noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SUN_DISC_DEG", "Sun", "solar_positions", "sun_direction"]

#: Angular diameter of the sun, degrees.
SUN_DISC_DEG = 0.53


def sun_direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector toward the sun, float64 (3,), from degrees (compass azimuth, +y north)."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([math.cos(e) * math.sin(a), math.cos(e) * math.cos(a), math.sin(e)])


@dataclass(frozen=True)
class Sun:
    """A sun position and disc.

    Attributes
    ----------
    elevation_deg : float
        Degrees above the horizon, -90 to 90.
    azimuth_deg : float
        Compass degrees, +y north, +x east; any finite value (taken modulo 360).
    disc_deg : float
        Full angular diameter of the disc, degrees, 0 (a point) to 30; 0.53 the real sun.
    """

    elevation_deg: float
    azimuth_deg: float
    disc_deg: float = SUN_DISC_DEG

    def __post_init__(self) -> None:
        for name in ("elevation_deg", "azimuth_deg", "disc_deg"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{name}={value!r} must be a number of degrees")
            if not math.isfinite(value):
                raise ValueError(f"{name}={value!r} is not finite")
        if not -90.0 <= self.elevation_deg <= 90.0:
            raise ValueError(
                f"elevation_deg={self.elevation_deg!r} is out of range: allowed -90 to 90 degrees"
            )
        if not 0.0 <= self.disc_deg <= 30.0:
            raise ValueError(
                f"disc_deg={self.disc_deg!r} is out of range: allowed 0 to 30 degrees"
            )

    @property
    def direction(self) -> np.ndarray:
        """Unit vector toward the disc's centre, float64 (3,)."""
        return sun_direction(self.elevation_deg, self.azimuth_deg)

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(s, e1, e2)``: the sun direction and two unit vectors across it (right-handed)."""
        s = self.direction
        helper = np.array([0.0, 0.0, 1.0]) if abs(s[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        e1 = np.cross(helper, s)
        e1 /= np.linalg.norm(e1)
        return s, e1, np.cross(s, e1)

    def sample_directions(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` directions toward points spread uniformly (per solid angle) over the disc.

        Returns float32 (n, 3) unit vectors (single precision, as the ray engine takes
        them: 1e-7 rad is far inside the 4.6e-3 rad disc); the rays travel along their
        negative.
        """
        s, e1, e2 = (v.astype(np.float32) for v in self.basis())
        one_minus_cos_max = np.float32(1.0 - math.cos(math.radians(self.disc_deg) / 2.0))
        # Uniform over the spherical cap: cos(alpha) uniform in [cos_max, 1]; then
        # sin(alpha)^2 = (1 - cos)(1 + cos) without cancellation.
        h = rng.random(n, dtype=np.float32) * one_minus_cos_max
        cos_a = 1.0 - h
        sin_a = np.sqrt(h * (2.0 - h))
        psi = rng.random(n, dtype=np.float32) * np.float32(2.0 * math.pi)
        a = sin_a * np.cos(psi)
        b = sin_a * np.sin(psi)
        # Component by component: a (n, 3) @ (3, 3) product goes to BLAS, whose threads
        # cost more than they save at this size on a shared machine.
        out = np.empty((n, 3), dtype=np.float32)
        for k in range(3):
            out[:, k] = cos_a * s[k] + a * e1[k] + b * e2[k]
        return out


def solar_positions(
    latitude: float,
    longitude: float,
    times: object,
    altitude: float = 0.0,
    pressure: float | None = None,
    temperature: float = 12.0,
    delta_t: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Apparent sun elevation and azimuth, degrees, through pvlib's NREL SPA.

    Parameters
    ----------
    latitude, longitude : float
        Degrees, north and east positive.
    times : pandas.DatetimeIndex
        Time-zone aware instants.
    altitude : float
        Metres above sea level.
    pressure, temperature : float
        Pascal (default: standard for ``altitude``) and °C, for refraction.
    delta_t : float, optional
        TT − UT1 in seconds (default: pvlib's estimate for the date).

    Returns
    -------
    elevation, azimuth : float64 (n,)
        Apparent (refraction-corrected) elevation and compass azimuth, degrees; the
        site's north is taken to be the mirror's +y.

    Raises
    ------
    ImportError
        Without pvlib (``pip install pvlib``, the ``sun`` extra).
    """
    import pvlib

    extra = {} if delta_t is None else {"delta_t": delta_t}
    pos = pvlib.solarposition.get_solarposition(
        times, latitude, longitude, altitude=altitude, pressure=pressure,
        method="nrel_numpy", temperature=temperature, **extra,
    )
    return (
        np.asarray(pos["apparent_elevation"], dtype=np.float64),
        np.asarray(pos["azimuth"], dtype=np.float64),
    )
