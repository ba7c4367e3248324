"""Geometry invariants of the mirror grid and the exact surface it samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import mirror_params

from scurve_geom import MirrorParams, Surface, build_grid, build_mesh, preset
from scurve_geom.plan import bend_curvature, centre_line, max_bend_offset

ROT = np.array([-1.0, -1.0, 1.0])


def grid(mesh):
    g = mesh.grid
    return mesh.vertices.reshape(g.rows, g.columns, 3)


@settings(max_examples=60, deadline=None)
@given(mirror_params())
def test_point_symmetry_to_1e12_relative(p):
    mesh = build_grid(p)
    v = grid(mesh)
    # The twin is the 180° rotation about z: column i maps to column -1-i.
    err = np.abs(v[:, ::-1] * ROT - v).max()
    assert err <= 1e-12 * max(p.half_length, p.radius)
    assert mesh.check().symmetric


def circumradius(a, b, c):
    ab, bc, ca = np.linalg.norm(a - b), np.linalg.norm(b - c), np.linalg.norm(c - a)
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a))
    return ab * bc * ca / (4 * area)


@settings(max_examples=40, deadline=None)
@given(mirror_params())
def test_end_vertices_lie_on_a_circle_of_radius(p):
    v = grid(build_grid(p))
    for end in (v[:, 0], v[:, -1]):
        # In one vertical plane: the horizontal positions are collinear.
        xy = end[:, :2] - end[:, :2].mean(axis=0)
        assert np.linalg.svd(xy, compute_uv=False)[-1] <= 1e-9 * p.radius
        n = len(end)
        for i, j, k in [(0, n // 2, n - 1), (0, 1, 2), (n - 3, n - 2, n - 1)]:
            assert circumradius(end[i], end[j], end[k]) == pytest.approx(p.radius, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(mirror_params())
def test_seam_is_a_straight_vertical_segment(p):
    v = grid(build_grid(p))
    k = p.length_segments
    seam_cols = [k] if p.weld_seam else [k, k + 1]
    for c in seam_cols:
        seam = v[:, c]
        assert np.abs(seam[:, :2]).max() <= 1e-12 * p.half_length
        assert seam[0, 2] == pytest.approx(0.0, abs=1e-12)
        assert seam[-1, 2] == pytest.approx(p.height, rel=1e-12)
        assert np.all(np.diff(seam[:, 2]) > 0)
    end_heights = v[:, -1, 2]
    if p.match_heights:
        np.testing.assert_allclose(v[:, k, 2], end_heights, rtol=0, atol=1e-12 * p.radius)
    else:
        # Before step 10: evenly spaced seam heights, so they differ from the arch's.
        np.testing.assert_allclose(np.diff(v[:, k, 2]), p.height / (p.rows - 1), rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(mirror_params(matched=True))
def test_rows_are_horizontal_when_heights_match(p):
    v = grid(build_grid(p))
    assert np.ptp(v[..., 2], axis=1).max() <= 1e-12 * p.radius


def test_rows_slant_before_step_10():
    v = grid(build_grid(preset("blog-unmatched")))
    slant = np.ptp(v[..., 2], axis=1)
    # Only the ground, the top and mid-height agree (the arch's z there is 0, 2r, r).
    level = [0, 8, 16]
    assert np.all(np.delete(slant, level) > 0.01)
    assert np.all(slant[level] < 1e-12)


def section_curvature(surf, u, v=0.5, h=1e-4):
    """Signed curvature (1/m) of the vertical section at u, by central differences."""
    p0, p1, p2 = surf.point(u, [v - h, v, v + h])
    d1 = (p2 - p0) / (2 * h)
    d2 = (p2 - 2 * p1 + p0) / h**2
    cross = np.cross(d1, d2)
    # Sign: positive when the section bends toward -y (convex to the front).
    return float(np.linalg.norm(cross) / np.linalg.norm(d1) ** 3 * np.sign(-cross[0] or 1.0))


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.5])
def test_vertical_curvature_zero_at_seam_one_over_r_at_ends(radius):
    surf = Surface(MirrorParams(radius=radius, half_length=3.0))
    assert section_curvature(surf, 0.5) == pytest.approx(0.0, abs=1e-6)
    right, left = section_curvature(surf, 1.0), section_curvature(surf, 0.0)
    assert abs(right) == pytest.approx(1 / radius, rel=1e-5)
    assert abs(left) == pytest.approx(1 / radius, rel=1e-5)
    assert np.sign(right) == -np.sign(left)
    # Grows with the distance from the seam, on both halves.
    quarter = section_curvature(surf, 0.75)
    assert 0 < abs(quarter) < abs(right)


@settings(max_examples=40, deadline=None)
@given(mirror_params(welded=True))
def test_welded_mesh_is_a_disc(p):
    report = build_grid(p).check()
    assert report.ok, str(report)
    assert report.euler_characteristic == 1
    assert report.boundary_loops == 1


@settings(max_examples=20, deadline=None)
@given(mirror_params(welded=False))
def test_unwelded_mesh_is_two_sheets_with_a_duplicate_seam(p):
    report = build_grid(p).check()
    assert report.boundary_loops == 2
    assert report.euler_characteristic == 2
    assert report.duplicate_vertices == p.rows
    assert not report.ok


@settings(max_examples=40, deadline=None)
@given(mirror_params())
def test_exact_counts(p):
    mesh = build_grid(p)
    rows, k = p.rows, p.length_segments
    cols = 2 * k + (1 if p.weld_seam else 2)
    assert mesh.vertices.shape == (rows * cols, 3)
    assert mesh.faces.shape == ((rows - 1) * 2 * k, 4)
    assert len(mesh.edges) == rows * 2 * k + (rows - 1) * cols
    assert (mesh.n_vertices, len(mesh.edges), mesh.n_faces) == p.base_counts()
    # The closed-form edges are exactly the faces' edges.
    f = mesh.faces.astype(np.int64)
    a, b = f.ravel(), np.roll(f, -1, axis=1).ravel()
    from_faces = np.unique(np.minimum(a, b) * mesh.n_vertices + np.maximum(a, b))
    e = np.sort(mesh.edges.astype(np.int64), axis=1)
    closed = np.sort(e[:, 0] * mesh.n_vertices + e[:, 1])
    np.testing.assert_array_equal(closed, from_faces)


def test_seed_counts():
    mesh = build_grid(preset("blog-part2"))
    assert preset("blog-part2").rows == 17
    assert mesh.vertices.shape == (17 * 3, 3)
    assert mesh.faces.shape == (32, 4)
    assert mesh.vertices.dtype == np.float64
    assert mesh.faces.dtype == np.int32


@settings(max_examples=40, deadline=None)
@given(mirror_params())
def test_uvs_in_range_and_monotone(p):
    mesh = build_grid(p)
    uv = mesh.uv.reshape(p.rows, p.columns, 2)
    assert uv.min() == 0.0 and uv.max() == 1.0
    assert np.all(np.diff(uv[0, :, 0]) >= 0)
    assert np.all(np.diff(uv[:, 0, 1]) > 0)


@settings(max_examples=40, deadline=None)
@given(mirror_params())
def test_normals_face_the_front_everywhere(p):
    mesh = build_grid(p.replace(s_amplitude=0.0))
    # The convex +x half's outside and the concave -x half's inside both face -y; only
    # the lips at the ends of a full half circle turn horizontal.
    assert mesh.face_normals()[:, 1].max() < 1e-9
    n = mesh.vertex_normals().reshape(p.rows, p.columns, 3)
    assert n[1:-1, p.length_segments, 1].max() < 0
    assert mesh.check().consistent_winding


@settings(max_examples=30, deadline=None)
@given(mirror_params())
def test_grid_samples_the_exact_surface(p):
    from scurve_geom.build import grid_parameters

    mesh = build_grid(p)
    u, v = grid_parameters(p)
    exact = Surface(p).point(u[None, :], v[:, None]).reshape(-1, 3)
    np.testing.assert_allclose(mesh.vertices, exact, rtol=0, atol=1e-12 * p.half_length)


def test_fine_grid_contains_the_coarse_one():
    coarse = grid(build_grid(preset("blog-part2", length_segments=4)))
    fine = grid(build_grid(preset("blog-part2", length_segments=16, circle_vertices=128)))
    np.testing.assert_allclose(fine[::4, ::4], coarse, atol=1e-12)


@pytest.mark.parametrize("half_length", [0.5, 3.0, 4.875, 40.0])
@pytest.mark.parametrize("fraction", [-1.0, -0.3, 0.2, 0.7, 1.0])
def test_s_bend_reaches_its_amplitude_and_keeps_arc_length(half_length, fraction):
    amplitude = fraction * max_bend_offset(half_length)
    kappa0 = bend_curvature(amplitude, half_length)
    s = np.linspace(-half_length, half_length, 20001)
    c, heading = centre_line(s, half_length, kappa0)
    assert c[-1, 1] == pytest.approx(amplitude, rel=1e-9, abs=1e-12)
    assert c[0, 1] == pytest.approx(-amplitude, rel=1e-9, abs=1e-12)
    length = np.linalg.norm(np.diff(c, axis=0), axis=1).sum()
    assert length == pytest.approx(2 * half_length, rel=1e-8)
    assert np.abs(heading).max() <= math.pi / 2 + 1e-12


def test_centre_line_quadrature_matches_a_refined_trapezoid():
    half_length, kappa0 = 3.0, bend_curvature(0.9 * max_bend_offset(3.0), 3.0)
    s = np.linspace(0, half_length, 400001)
    _, heading = centre_line(s, half_length, kappa0)
    ds = s[1] - s[0]
    # Written out: np.trapz is gone in numpy 2 and np.trapezoid absent from 1.26.
    def trapezoid(f):
        return float((f[1:] + f[:-1]).sum() * ds / 2)

    ref = np.array([trapezoid(np.cos(heading)), trapezoid(np.sin(heading))])
    got = centre_line(np.array([half_length]), half_length, kappa0)[0][0]
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_subdivision_is_part_of_build_mesh():
    p = preset("blog-part2", subdivision_levels=2)
    v, _e, _f = p.base_counts()
    assert build_mesh(p).n_vertices == p.vertex_count() > v


@settings(max_examples=30, deadline=None)
@given(mirror_params(max_rows=12, max_segments=5))
def test_corner_edges_join_each_corner_to_the_next(p):
    from scurve_geom import Mesh

    mesh = build_grid(p)
    # The same arrays without the layout: edges and corner edges found by search instead.
    generic = Mesh(mesh.vertices, mesh.faces, mesh.uv)
    for m in (mesh, generic, build_mesh(p.replace(subdivision_levels=1))):
        want = np.sort(np.stack([m.faces.ravel(), np.roll(m.faces, -1, axis=1).ravel()],
                                axis=1), axis=1)
        pairs = np.sort(m.edges[m.corner_edges.ravel()], axis=1)
        np.testing.assert_array_equal(pairs, want)
