"""Camera and prop placement around the mirror (scurve_geom.placement.framing), without Blender."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import mirror_params

from scurve_geom import build_grid, preset
from scurve_geom.placement.framing import (
    VIEWS,
    Box,
    camera_axes,
    camera_position,
    fit_distance,
    prop_layout,
    view_spec,
)

SENSOR, LENS = 36.0, 40.0


def box_of(params) -> Box:
    v = build_grid(params).vertices
    return Box(v - [0.0, 0.0, v[:, 2].min()])


def projected(points, cam, target):
    """Image-plane tangents (across, up) and depth of ``points`` seen from ``cam``."""
    f, right, up = camera_axes(cam - target)
    rel = points - cam
    depth = rel @ f
    return rel @ right / depth, rel @ up / depth, depth


@settings(max_examples=40, deadline=None)
@given(params=mirror_params(), view=st.sampled_from(VIEWS), wide=st.booleans())
def test_every_view_keeps_the_wall_and_props_in_the_picture(params, view, wide):
    box = box_of(params)
    res = (960, 540) if wide else (540, 960)
    cam, target, dist = camera_position(box, view, SENSOR, LENS, res)
    assert dist >= 0.5 and np.isfinite(cam).all()
    tan_big = SENSOR / 2 / LENS
    tan_w, tan_h = ((tan_big, tan_big * res[1] / res[0]) if wide
                    else (tan_big * res[0] / res[1], tan_big))
    _, _, keep = view_spec(box, view)
    if view in ("concave", "front", "low"):
        keep = np.vstack([keep, [loc for loc, _ in prop_layout(box).values()]])
    a, b, depth = projected(keep, cam, target)
    assert (depth > 0).all()
    if view == "low":
        # Lifted to crouching eye level after the fit, so only that is promised.
        assert cam[2] >= 0.15 * box.height - 1e-12
    else:
        assert np.abs(a).max() <= tan_w * (1 + 1e-9)
        assert np.abs(b).max() <= tan_h * (1 + 1e-9)


def test_fit_distance_is_tight():
    # A square of half-size 1 at the target, camera straight on: distance 1.08/tan.
    pts = np.array([[-1.0, 0.0, -1.0], [1.0, 0.0, 1.0]])
    d = fit_distance(np.zeros(3), np.array([0.0, -1.0, 0.0]), pts, 0.5, 0.5)
    assert d == pytest.approx(1.08 / 0.5)


@pytest.mark.parametrize("name", ["blog-part2", "kapoor", "smooth"])
def test_props_stand_in_front_of_the_concave_half_on_the_ground(name):
    # Points between the seam and the ends too (the stage adds them along edges).
    params = preset(name)
    box = box_of(params.replace(length_segments=max(16, params.length_segments)))
    wall = box.points
    for role, (loc, scale) in prop_layout(box).items():
        x, y, z = loc
        assert x < 0, role  # the concave (−x) half
        near = wall[np.abs(wall[:, 0] - x) < 0.2 * box.height]
        # Clear of the wall's front by more than the prop's radius.
        assert y + scale[0] < near[:, 1].min(), role
        bottom = z - scale[2] if role != "prop_sphere" else z - scale[0]
        assert bottom == pytest.approx(0.0, abs=1e-12)


def test_unknown_view_is_named():
    with pytest.raises(ValueError, match="view='side' is unknown"):
        view_spec(box_of(preset("blog-part2")), "side")
