"""Face-plane layouts: in front of the mirror, facing it, clear of it and of each other;
aimed layouts traced back from the camera through the exact surface."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import mirror_params

from scurve_geom import Surface, build_grid, preset
from scurve_geom.placement.layout import LAYOUTS, aimed_layout, face_plane_layout
from scurve_geom.placement.rays import PinholeCamera, segments_hit, surface_triangles


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["blog-part2", "kapoor", "smooth"])
@pytest.mark.parametrize("count", [1, 2, 5, 12])
def test_planes_face_the_mirror_and_keep_clear(layout, name, count):
    params = preset(name)
    planes = face_plane_layout(params, count, layout)
    assert planes.centres.shape == (count, 3) and planes.yaw.shape == (count,)
    wall = build_grid(params).vertices
    # Clear of the wall by more than half a plane, so no plane cuts the mirror.
    gap = np.linalg.norm(planes.centres[:, None, :2] - wall[None, :, :2], axis=2).min(axis=1)
    assert gap.min() > planes.size / 2
    # Each picture faces the wall: the ray from its centre along its facing hits the
    # wall's plan footprint side, i.e. the nearest wall point lies in front of it.
    nearest = wall[np.linalg.norm(planes.centres[:, None, :2] - wall[None, :, :2],
                                  axis=2).argmin(axis=1)]
    to_wall = nearest - planes.centres
    assert np.all(np.einsum("ij,ij->i", to_wall, planes.facing()) > 0)
    # Upright, within the wall's height, and not overlapping each other.
    assert np.all(planes.centres[:, 2] - planes.size / 2 >= 0)
    if count > 1:
        d = np.linalg.norm(planes.centres[:, None] - planes.centres[None], axis=2)
        assert d[~np.eye(count, dtype=bool)].min() > planes.size


def test_arc_stands_in_front_of_the_concave_half():
    planes = face_plane_layout(preset("smooth"), 5, "arc")
    assert np.all(planes.centres[:, 1] < 0)          # the front
    assert planes.centres[:, 0].mean() < 0            # the concave (-x) half


def test_invalid_arguments():
    p = preset("blog-part2")
    with pytest.raises(ValueError, match="count=0 is out of range"):
        face_plane_layout(p, 0)
    with pytest.raises(ValueError, match="layout='grid' is not allowed"):
        face_plane_layout(p, 3, "grid")
    with pytest.raises(ValueError, match="size=-1"):
        face_plane_layout(p, 3, size=-1.0)


# -- aimed at a camera ----------------------------------------------------------------------


def look_at(position, target):
    """A PinholeCamera at ``position`` looking at ``target``, 16:9, 40 mm lens on 36 mm."""
    back = np.asarray(position, float) - target
    back /= np.linalg.norm(back)
    right = np.cross([0.0, 0.0, 1.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    tan_x = 18.0 / 40.0
    return PinholeCamera(np.asarray(position, float), np.stack([right, up, back], -1),
                         (tan_x, tan_x * 9 / 16))


#: The stage's front and concave views of the smooth preset (blender_addon.stage).
FRONT = look_at([0.0, -8.25, 1.99], np.array([0.0, 0.0, 1.0]))
CONCAVE = look_at([-3.89, -6.07, 2.39], np.array([-1.54, -0.19, 0.90]))


def exact_normal(surf, uv):
    """The surface normal by central differences of another step than the layout's."""
    e = 1e-5
    du = surf.point(uv[:, 0] + e, uv[:, 1]) - surf.point(uv[:, 0] - e, uv[:, 1])
    dv = surf.point(uv[:, 0], uv[:, 1] + e) - surf.point(uv[:, 0], uv[:, 1] - e)
    n = np.cross(du, dv)
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def surface_uv(surf, points):
    """(u, v) of points on the surface, by Gauss-Newton from the nearest grid point."""
    u, v = np.meshgrid(np.linspace(0, 1, 241), np.linspace(0, 1, 81))
    grid = surf.point(u, v).reshape(-1, 3)
    guess = np.linalg.norm(points[:, None] - grid[None], axis=2).argmin(axis=1)
    uv = np.stack([u.ravel()[guess], v.ravel()[guess]], -1)
    for _ in range(20):
        e = 1e-6
        f = surf.point(uv[:, 0], uv[:, 1]) - points
        ju = (surf.point(uv[:, 0] + e, uv[:, 1]) - surf.point(uv[:, 0] - e, uv[:, 1])) / (2 * e)
        jv = (surf.point(uv[:, 0], uv[:, 1] + e) - surf.point(uv[:, 0], uv[:, 1] - e)) / (2 * e)
        j = np.stack([ju, jv], -1)
        uv = uv - np.linalg.lstsq(j[0], f[0], rcond=None)[0][None] if len(uv) == 1 else \
            uv - np.stack([np.linalg.lstsq(j[k], f[k], rcond=None)[0] for k in range(len(uv))])
    return uv


def first_hit(surf, origin, direction):
    """Distance along a ray to the first crossing of a fine mesh of the surface (or inf)."""
    tris = surface_triangles(surf, 192, 64)
    far = origin + 100.0 * direction
    lo, hi = 0.0, 100.0
    if not segments_hit(origin[None], far[None], tris)[0]:
        return np.inf
    for _ in range(40):  # bisection on "the segment [origin, t] crosses the surface"
        mid = 0.5 * (lo + hi)
        if segments_hit(origin[None], (origin + mid * direction)[None], tris)[0]:
            hi = mid
        else:
            lo = mid
    return hi


@pytest.mark.parametrize("camera", [FRONT, CONCAVE], ids=["front", "concave"])
def test_the_camera_sees_each_picture_centre_in_the_mirror(camera):
    params = preset("smooth")
    surf = Surface(params)
    planes = aimed_layout(params, camera, 6)
    p = planes.mirror_points
    assert p.shape == (6, 3) and planes.centres.shape == (6, 3)
    # Each mirror point is on the exact surface, in the camera's view...
    uv = surface_uv(surf, p)
    np.testing.assert_allclose(surf.point(uv[:, 0], uv[:, 1]), p, atol=1e-9)
    xy, depth = camera.screen(p)
    assert (depth > 0).all() and camera.inside(xy).all()
    # ...and traced back: the camera's ray meets the surface first at that point, its
    # reflection about the exact normal passes through the picture's centre, and
    # nothing of the mirror lies between.
    for k in range(6):
        d = p[k] - camera.position
        dist = np.linalg.norm(d)
        d /= dist
        assert abs(first_hit(surf, camera.position, d) - dist) < 2e-3 * params.height
        n = exact_normal(surf, uv[k:k + 1])[0]
        r = d - 2 * (d @ n) * n
        to_centre = planes.centres[k] - p[k]
        along = to_centre @ r
        assert along > 0
        assert np.linalg.norm(to_centre - along * r) < 1e-6 * along
        assert first_hit(surf, p[k] + 1e-3 * r, r) > along
        # The picture faces back along the reflected ray, toward the mirror point.
        np.testing.assert_allclose(planes.facing()[k], -r, atol=1e-9)


def test_pictures_stand_clear_and_apart():
    params = preset("smooth")
    planes = aimed_layout(params, FRONT, 6)
    corners = planes.corners()
    assert (corners[..., 2] > 0).all()                      # above the ground
    wall = build_grid(preset("smooth", circle_vertices=96, length_segments=48)).vertices
    gap = np.linalg.norm(corners.reshape(-1, 1, 3) - wall[None], axis=2).min()
    assert gap > 0.02 * params.height                        # none cuts the mirror
    xy = FRONT.screen(planes.mirror_points)[0]
    d = np.abs(xy[:, None] - xy[None]).max(axis=2)
    assert d[~np.eye(6, dtype=bool)].min() > 0.1             # spread over the image
    assert np.all(np.diff(xy[:, 0]) >= 0)                   # left to right
    # Proper frames (the mirrored flag swaps the picture instead).
    assert (np.linalg.det(planes.frames) > 0).all()
    np.testing.assert_allclose(np.linalg.norm(planes.frames[:, :, 1], axis=1), 1.0)


def land(surf, uv, centre, frame, du, dv):
    """Image position of the surface point at ``uv + (du, dv)``, and where its reflection
    meets the picture, in picture coordinates (fractions of its width and height)."""
    normal = frame[:, 1]
    q = surf.point(uv[0] + du, uv[1] + dv)
    d = (q - FRONT.position) / np.linalg.norm(q - FRONT.position)
    n = exact_normal(surf, np.array([[uv[0] + du, uv[1] + dv]]))[0]
    r = d - 2 * (d @ n) * n
    hit = q + ((centre - q) @ normal) / (r @ normal) * r - centre
    return FRONT.screen(q)[0], np.linalg.lstsq(frame[:, [0, 2]], hit, rcond=None)[0]


def test_a_picture_reflected_reads_upright_and_square():
    """Trace rays from image points around a mirror point: they land on the picture as
    an upright square of the asked height (to first order), read unmirrored."""
    params = preset("smooth")
    surf = Surface(params)
    planes = aimed_layout(params, FRONT, 3, face_height=0.12)
    uv = surface_uv(surf, planes.mirror_points)
    for k in range(3):
        centre, frame = planes.centres[k], planes.frames[k]

        e = 1e-4
        (x0, c0), (xu, cu), (xv, cv) = (land(surf, uv[k], centre, frame, du, dv)
                                        for du, dv in ((0, 0), (e, 0), (0, e)))
        screen = np.stack([xu - x0, xv - x0], -1)
        pic = np.stack([cu - c0, cv - c0], -1)
        if planes.mirrored[k]:
            pic[0] *= -1                                      # the image is swapped
        m = pic @ np.linalg.inv(screen)                       # picture per image unit
        # An image offset of one face height (0.24 units) up is the picture's full height.
        np.testing.assert_allclose(m * 0.24, np.eye(2), atol=1e-3)


def test_aimed_layout_refuses_what_does_not_fit():
    params = preset("smooth")
    with pytest.raises(ValueError, match="count=0 is out of range"):
        aimed_layout(params, FRONT, 0)
    with pytest.raises(ValueError, match="face_height=0 is out of range"):
        aimed_layout(params, FRONT, 3, face_height=0)
    with pytest.raises(ValueError, match="of count=40 pictures fit"):
        aimed_layout(params, FRONT, 40, face_height=0.3)
    # A camera looking away sees no mirror at all.
    away = look_at([0.0, -8.0, 2.0], np.array([0.0, -20.0, 2.0]))
    with pytest.raises(ValueError, match="only 0 of count=1"):
        aimed_layout(params, away, 1)


def test_obstacles_keep_sight_lines_clear():
    params = preset("smooth")
    free = aimed_layout(params, FRONT, 2, face_height=0.12)
    ball = np.array([[*free.mirror_points[0] + [0, -1.0, 0], 0.4]])
    blocked = aimed_layout(params, FRONT, 2, face_height=0.12, obstacles=ball)
    for k in range(2):
        a, b = FRONT.position, blocked.mirror_points[k]
        t = np.clip((ball[0, :3] - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
        assert np.linalg.norm(a + t * (b - a) - ball[0, :3]) > 0.4


def test_camera_is_validated():
    with pytest.raises(ValueError, match="rotation"):
        PinholeCamera(np.zeros(3), np.diag([1.0, 1.0, -1.0]), (0.5, 0.3))
    with pytest.raises(ValueError, match="tan_half"):
        PinholeCamera(np.zeros(3), np.eye(3), (0.0, 0.3))


@settings(max_examples=8, deadline=None)
@given(params=mirror_params(max_rows=24, max_segments=6), count=st.integers(1, 3),
       side=st.floats(-1.0, 1.0), back=st.floats(2.5, 4.0), rise=st.floats(0.3, 1.5))
def test_aimed_pictures_lie_on_reflected_camera_rays(params, count, side, back, rise):
    """Any mirror, a camera somewhere in front: every picture placed stands on the camera
    ray reflected about the exact normal at its mirror point, facing it, above ground."""
    h, size = params.height, max(params.half_length, params.height)
    camera = look_at([side * params.half_length, -back * size, rise * h],
                     np.array([0.0, 0.0, 0.5 * h]))
    try:
        planes = aimed_layout(params, camera, count, face_height=0.05)
    except ValueError as exc:
        assert "pictures fit" in str(exc)
        return
    surf = Surface(params)
    uv = surface_uv(surf, planes.mirror_points)
    np.testing.assert_allclose(surf.point(uv[:, 0], uv[:, 1]), planes.mirror_points,
                               atol=1e-9 * size)
    d = planes.mirror_points - camera.position
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    n = exact_normal(surf, uv)
    r = d - 2 * np.sum(d * n, axis=1, keepdims=True) * n
    to_centre = planes.centres - planes.mirror_points
    along = np.sum(to_centre * r, axis=1)
    assert (along > 0).all()
    assert (np.linalg.norm(to_centre - along[:, None] * r, axis=1) < 1e-6 * along).all()
    np.testing.assert_allclose(planes.facing(), -r, atol=1e-9)
    assert (planes.corners()[..., 2] > 0).all()
    assert (np.linalg.det(planes.frames) > 0).all()


def random_affine(rng, reflect=False):
    """A rotation, a non-uniform scale (negative on x if ``reflect``) and a shift."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    scale = rng.uniform(0.5, 2.0, 3) * ([-1.0, 1.0, 1.0] if reflect else 1.0)
    m = np.eye(4)
    m[:3, :3] = q @ np.diag(scale) @ q.T @ q  # scaled along rotated axes, then turned
    m[:3, 3] = rng.normal(size=3)
    return m


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), reflect=st.booleans(),
       camera=st.sampled_from([FRONT, CONCAVE]))
def test_transformed_pictures_split_into_rigid_poses_and_shapes(seed, reflect, camera):
    """Skewed frames (aimed pictures, seen through any mirror matrix) factor into a
    rigid pose an object keeps exactly and a shape in the plane's own xz plane."""
    rng = np.random.default_rng(seed)
    planes = aimed_layout(preset("smooth"), camera, 4)
    m = random_affine(rng, reflect)
    moved = planes.transformed(m)
    # Every point of every picture is mapped by m.
    np.testing.assert_allclose(moved.corners(), planes.corners() @ m[:3, :3].T + m[:3, 3],
                               atol=1e-12)
    np.testing.assert_allclose(moved.mirror_points,
                               planes.mirror_points @ m[:3, :3].T + m[:3, 3], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(moved.frames[:, :, 1], axis=1), 1.0)
    assert (np.linalg.det(moved.frames) > 0).all()
    for placed in (planes, moved):
        poses, shapes = placed.poses()
        rot = poses[:, :3, :3]
        np.testing.assert_allclose(rot @ rot.transpose(0, 2, 1), np.broadcast_to(np.eye(3),
                                   rot.shape), atol=1e-12)
        np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-12)
        np.testing.assert_allclose(rot @ shapes, placed.frames, atol=1e-12)
        np.testing.assert_allclose(poses[:, :3, 3], placed.centres)
        np.testing.assert_allclose(shapes[:, 1], np.broadcast_to([0.0, 1.0, 0.0],
                                   (len(shapes), 3)), atol=1e-12)
        assert (np.tril(shapes, -1) == 0).all()
        assert (np.diagonal(shapes, axis1=1, axis2=2) > 0).all()
    # The aimed frames are really skewed: a transform of loc/rot/scale could not hold them.
    _, shapes = planes.poses()
    assert np.abs(shapes[:, 0, 2]).max() > 1e-3
