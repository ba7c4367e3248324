"""Sun hot spots: exact normals, the sun's convention, and the tracer against known optics.

Ray counts are small (a few 10⁵): each trace takes about a second on a shared core.
Tolerances are set from the Monte Carlo noise each test reports, not tuned to a run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scurve_geom import MirrorParams, Surface, preset
from scurve_geom.optics import (
    Segments,
    Sun,
    exact_normals,
    grid_model,
    hot_spot_map,
    map_for_params,
    mirror_from_params,
    sun_direction,
    trace,
)

pytest.importorskip("embreex")

RHO = 0.9


# -- the surface's normals -------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    radius=st.floats(0.3, 5.0),
    arch=st.floats(0.3, math.pi),
    bend=st.floats(-0.9, 0.9),
    match=st.booleans(),
)
def test_exact_normals_match_finite_differences(radius, arch, bend, match):
    base = MirrorParams(radius=radius, half_length=3.0, arch_angle=arch, match_heights=match)
    p = base.replace(s_amplitude=bend * base.max_s_amplitude())
    surf = Surface(p)
    rng = np.random.default_rng(1)
    uv = rng.uniform(0.02, 0.98, (200, 2))
    uv[:, 0] = np.where(np.abs(uv[:, 0] - 0.5) < 1e-3, 0.6, uv[:, 0])  # z kinks at the seam
    h = 1e-6
    pu = (surf.point(uv[:, 0] + h, uv[:, 1]) - surf.point(uv[:, 0] - h, uv[:, 1])) / (2 * h)
    pv = (surf.point(uv[:, 0], uv[:, 1] + h) - surf.point(uv[:, 0], uv[:, 1] - h)) / (2 * h)
    ref = np.cross(pu, pv)
    ref /= np.linalg.norm(ref, axis=1)[:, None]
    assert np.abs(exact_normals(p, uv) - ref).max() < 1e-6


def test_traced_mesh_samples_the_exact_surface():
    p = preset("kapoor")
    model = mirror_from_params(p, facet=0.05)
    again = Surface(p).point(model.coords[:, 0], model.coords[:, 1])
    assert np.abs(model.vertices - again).max() < 1e-9
    # The footprint ring encloses the wall's plan: every vertex within its bounding box.
    ring = model.footprint()
    lo, hi = ring.min(0), ring.max(0)
    assert (model.vertices[:, :2] >= lo - 1e-9).all() and (model.vertices[:, :2] <= hi + 1e-9).all()


# -- the sun ---------------------------------------------------------------------------


def test_sun_convention_is_the_stages():
    # docs/design.md, "The sun": azimuth 0 toward +y (north), 90 toward +x; elevation
    # above the horizon.
    assert np.allclose(sun_direction(0.0, 0.0), [0, 1, 0], atol=1e-15)
    assert np.allclose(sun_direction(0.0, 90.0), [1, 0, 0], atol=1e-15)
    assert np.allclose(sun_direction(90.0, 123.0), [0, 0, 1], atol=1e-15)
    e, a = 30.0, 205.0
    expect = [math.cos(math.radians(e)) * math.sin(math.radians(a)),
              math.cos(math.radians(e)) * math.cos(math.radians(a)), math.sin(math.radians(e))]
    assert np.allclose(sun_direction(e, a), expect)


def test_disc_samples_fill_the_disc_and_no_more():
    sun = Sun(35.0, 140.0)
    d = sun.sample_directions(np.random.default_rng(0), 100_000).astype(np.float64)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-6)
    # atan2 of |d x s| and d . s: accurate at small angles, unlike arccos.
    angle = np.degrees(np.arctan2(np.linalg.norm(np.cross(d, sun.direction), axis=1),
                                  d @ sun.direction))
    assert angle.max() <= 0.53 / 2 + 1e-5  # float32 directions: ~1e-7 rad
    # Uniform per solid angle: half the samples within 1/sqrt(2) of the radius.
    assert abs(np.mean(angle < 0.53 / 2 / math.sqrt(2)) - 0.5) < 0.01


@pytest.mark.parametrize("kwargs", [dict(elevation_deg=91.0, azimuth_deg=0.0),
                                    dict(elevation_deg=10.0, azimuth_deg=float("nan")),
                                    dict(elevation_deg=10.0, azimuth_deg=0.0, disc_deg=-1.0)])
def test_bad_sun_is_refused_by_name(kwargs):
    with pytest.raises(ValueError, match="_deg="):
        Sun(**kwargs)


def test_solar_position_matches_nrel_spa_reference():
    # The worked example of NREL's SPA report (Reda & Andreas, NREL/TP-560-34302, table
    # A5.1): Golden, Colorado, 2003-10-17 12:30:30 at UTC-7: zenith 50.11162°,
    # azimuth 194.34024°.
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pvlib")
    from scurve_geom.optics import solar_positions

    t = pd.DatetimeIndex([pd.Timestamp("2003-10-17 12:30:30")]).tz_localize("Etc/GMT+7")
    e, a = solar_positions(39.742476, -105.1786, t, altitude=1830.14, pressure=82000.0,
                           temperature=11.0, delta_t=67.0)
    assert abs((90.0 - e[0]) - 50.11162) < 1e-4
    assert abs(a[0] - 194.34024) < 1e-4


# -- known optics ----------------------------------------------------------------------


def _plane():
    """A vertical 2 m × 2 m mirror on y = 0, standing on the ground, facing −y."""
    return grid_model(lambda u, v: np.stack([2 * u - 1, 0 * u, 2 * v], -1),
                      lambda uv: np.tile([0.0, -1.0, 0.0], (len(uv), 1)), 3, 3)


@pytest.mark.parametrize("azimuth", [180.0, 210.0, 10.0])
def test_flat_wall_intercepts_its_projection_and_sends_it_all_down(azimuth):
    e = 40.0
    m = hot_spot_map(_plane(), Sun(e, azimuth), rays=200_000, cell=0.1, reflectance=RHO)
    t = m.totals
    seen = 4.0 * math.cos(math.radians(e)) * abs(math.cos(math.radians(azimuth)))
    noise = 3.0 / math.sqrt(200_000 * t.intercepted / t.sampled_area)
    assert t.intercepted == pytest.approx(seen, rel=noise)
    # Energy: one reflection each, all downward: the ground gets exactly rho of it.
    assert t.to_ground == pytest.approx(RHO * t.intercepted, rel=1e-12)
    assert t.escaped_up == 0.0 and t.trapped == 0.0
    assert m.on_plane == pytest.approx(t.to_ground, rel=1e-12)
    # A flat mirror does not concentrate: the lit patch gets rho * sin(e) of DNI.
    lit = m.concentration[m.concentration > 0.5 * RHO * math.sin(math.radians(e))]
    assert np.median(lit) == pytest.approx(RHO * math.sin(math.radians(e)), rel=0.02)


def test_energy_is_conserved_on_the_kapoor_wall():
    m = map_for_params(preset("kapoor"), Sun(35.0, 195.0), rays=200_000, cell=0.1,
                       reflectance=RHO, facet=0.04)
    t = m.totals
    assert t.intercepted > 0
    assert t.to_ground <= RHO * t.intercepted * (1 + 1e-12)
    assert t.escaped_up > 0 and t.max_bounce_seen >= 2  # the concave half reflects into itself
    # Every ray loses 1 - rho at its first reflection, more at later ones.
    assert (1 - RHO) * t.intercepted * (1 - 1e-9) <= t.absorbed < t.intercepted
    # The map holds what reached the ground, less what landed outside it.
    assert m.concentration.sum() * m.cell**2 == pytest.approx(m.on_plane - m.outside, rel=1e-9)
    assert m.on_plane == pytest.approx(t.to_ground, rel=1e-3)
    # With a perfect mirror nothing is absorbed: every bit lands or escapes.
    m1 = map_for_params(preset("kapoor"), Sun(35.0, 195.0), rays=50_000, reflectance=1.0,
                        facet=0.04)
    t1 = m1.totals
    assert t1.to_ground + t1.escaped_up + t1.trapped == pytest.approx(t1.intercepted, rel=1e-9)


def test_nearly_flat_wall_concentrates_at_most_one():
    # 0.1 rad end arcs: a 2 m wall bulging 2.5 cm. The ends' sections still focus
    # weakly (radius 20 m): the peak stays under 1 but above a flat wall's rho sin(e).
    p = MirrorParams(radius=20.0, half_length=3.0, arch_angle=0.1)
    m = map_for_params(p, Sun(40.0, 180.0), rays=600_000, cell=0.2, reflectance=RHO)
    assert m.peak_noise < 0.03
    assert RHO * math.sin(math.radians(40.0)) < m.peak_concentration <= 1.0


def test_half_turn_of_the_sun_turns_the_map_half_round():
    p = preset("kapoor")
    a = map_for_params(p, Sun(38.0, 215.0), rays=150_000, cell=0.2, facet=0.04)
    b = map_for_params(p, Sun(38.0, 35.0), rays=150_000, cell=0.2, facet=0.04, seed=7)
    assert a.extent == pytest.approx([-e for e in (b.extent[1], b.extent[0],
                                                   b.extent[3], b.extent[2])])
    rotated = b.concentration[::-1, ::-1]
    # Different seeds: equal up to noise. Compare 2x2-cell blocks to steady it.
    def blocks(c):
        h, w = (c.shape[0] // 2) * 2, (c.shape[1] // 2) * 2
        return c[:h, :w].reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
    A, B = blocks(a.concentration), blocks(rotated)
    assert np.abs(A - B).sum() / A.sum() < 0.15
    assert a.totals.intercepted == pytest.approx(b.totals.intercepted, rel=0.01)
    assert np.unravel_index(A.argmax(), A.shape) == np.unravel_index(B.argmax(), B.shape)


def test_concave_cylinder_focuses_at_half_its_radius():
    # A trough: a circular cylinder of radius R along x, concave side up, lit from the
    # zenith (perpendicular to its axis), 5° each side of the vertex (paraxial). The
    # reflected rays' narrowest waist is the focal line, R/2 above the vertex.
    R, half, z_vertex = 1.0, math.radians(5.0), 0.2

    def point(u, v):
        phi = (2 * v - 1) * half
        return np.stack([2 * u - 1, R * np.sin(phi), z_vertex + R - R * np.cos(phi)], -1)

    def normal(uv):
        phi = (2 * uv[:, 1] - 1) * half
        return np.stack([0 * phi, -np.sin(phi), np.cos(phi)], -1)

    model = grid_model(point, normal, 41, 5)
    heights = z_vertex + R * np.linspace(0.40, 0.60, 81)
    sums = np.zeros((3, heights.size))

    def waist(seg: Segments) -> None:
        assert seg.bounce == 1 and np.isinf(seg.length).all()
        y = seg.origins[:, 1:2] + (heights - seg.origins[:, 2:3]) / seg.directions[:, 2:3] \
            * seg.directions[:, 1:2]
        w = seg.power[:, None]
        sums[0] += w.sum() * np.ones(heights.size)
        sums[1] += (w * y).sum(0)
        sums[2] += (w * y * y).sum(0)

    trace(model, Sun(90.0, 0.0), waist, rays=100_000, reflectance=RHO)
    mean = sums[1] / sums[0]
    spread = np.sqrt(sums[2] / sums[0] - mean**2)
    best = heights[spread.argmin()] - z_vertex
    # Paraxial focus R/2; the rim's rays cross at R(1 - 1/(2 cos 5°)) = 0.4981 R.
    assert best == pytest.approx(R / 2, abs=0.005 * R)
    # At the waist only the sun's disc spreads the rays: a uniform disc of angular radius
    # a has an rms of a/2 across, (R/2)(a/2) at R/2 from the mirror.
    a = math.radians(0.53 / 2)
    assert spread.min() == pytest.approx(R / 2 * a / 2, rel=0.1)
    # The map on the focal plane peaks on the focal line (y = 0) and far above DNI.
    m = hot_spot_map(model, Sun(90.0, 0.0), rays=100_000, cell=0.02, height=z_vertex + R / 2,
                     extent=(-1.0, 1.0, -0.2, 0.2))
    assert abs(m.peak_xy[1]) <= m.cell
    assert m.peak_concentration > 3.0


def test_grid_hit_coordinates_equal_the_barycentric_interpolation():
    import dataclasses

    from scurve_geom.optics.trace import _hit_coords, _triangle_coords

    model = mirror_from_params(preset("kapoor"), facet=0.05)
    general = dataclasses.replace(model, grid_shape=None)
    rng = np.random.default_rng(3)
    tri = rng.integers(0, model.triangles.shape[0], 5000)
    bary = rng.random((5000, 2))
    bary[bary.sum(1) > 1] = 1 - bary[bary.sum(1) > 1]
    fast = _hit_coords(model, tri, bary, None)
    slow = _hit_coords(general, tri, bary, _triangle_coords(general))
    assert np.abs(fast - slow).max() < 1e-12
