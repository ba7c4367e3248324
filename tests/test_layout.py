"""Face-plane layouts: in front of the mirror, facing it, clear of it and of each other."""

from __future__ import annotations

import numpy as np
import pytest

from scurve_geom import build_grid, preset
from scurve_geom.layout import LAYOUTS, face_plane_layout


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
