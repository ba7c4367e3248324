"""Where the stage's cameras and props go around a mirror: pure numpy, no Blender.

Everything here works in the mirror's *frame*: metres, the seam on the z axis, the wall
standing on its lowest point, its front toward −y (see ``docs/design.md``, "Axes and
placement"). The Blender side (``blender_addon.stage.frame``) measures the mirror's
evaluated surface in that frame and maps the results back to world space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VIEWS", "Box", "camera_position", "fit_distance", "prop_layout", "view_spec"]

#: Camera views, in the order the UI lists them. ``low`` is the seed's view from near the
#: ground, looking up at the wall.
VIEWS = ("front", "concave", "convex", "top", "low")

#: ``{role: (location, scale)}`` in frame coordinates, metres.
Placement = dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]]


@dataclass(frozen=True)
class Box:
    """Points on the mirror's surface in frame coordinates, float (n, 3), metres."""

    points: np.ndarray

    @property
    def lo(self) -> np.ndarray:
        return self.points.min(axis=0)

    @property
    def hi(self) -> np.ndarray:
        return self.points.max(axis=0)

    @property
    def height(self) -> float:
        return float(self.hi[2] - self.lo[2])


def prop_layout(box: Box) -> Placement:
    """Where the props stand: ``{role: (location, scale)}`` in frame coordinates.

    They stand in front of the concave (−x) half, spread along it, each a little in
    front of the wall's frontmost point at its x so no prop cuts the surface. Scales are
    for Blender's unit primitives (radius 1, 2 tall, centred).
    """
    lo = box.lo
    h = box.height
    pts = box.points
    out: Placement = {}
    spec = {
        # role: (fraction of the −x half, radius, height) in units of the height
        "prop_cylinder": (0.30, 0.08, 0.40),
        "prop_cone": (0.55, 0.10, 0.35),
        "prop_sphere": (0.80, 0.10, 0.20),
    }
    for role, (frac, radius, height) in spec.items():
        x = lo[0] * frac
        near = pts[np.abs(pts[:, 0] - x) < 0.1 * h + 1e-9]
        y_front = float(near[:, 1].min()) if len(near) else float(lo[1])
        r, ht = radius * h, height * h
        y = y_front - 0.28 * h - r
        z0 = float(lo[2])
        if role == "prop_sphere":
            out[role] = ((float(x), y, z0 + r), (r, r, r))
        else:
            # Unit primitives are 2 units tall, centred: scale z by half the height.
            out[role] = ((float(x), y, z0 + ht / 2), (r, r, ht / 2))
    return out


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                     for z in (lo[2], hi[2])])


def view_spec(box: Box, view: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(target, direction to camera, points to keep in frame)`` for a named view.

    Raises
    ------
    ValueError
        For a view not in :data:`VIEWS`.
    """
    lo, hi = box.lo, box.hi
    h = box.height
    mid = (lo + hi) / 2
    corners = _box_corners(lo, hi)
    if view == "front":
        return np.array([mid[0], mid[1], lo[2] + 0.5 * h]), np.array([0.0, -1.0, 0.12]), corners
    if view in ("concave", "convex"):
        sign = -1.0 if view == "concave" else 1.0
        half = box.points[box.points[:, 0] * sign >= 0]
        hlo, hhi = half.min(axis=0), half.max(axis=0)
        # Include the props' ground footprint so the concave view shows them whole.
        hlo = hlo.copy()
        hlo[1] -= 0.6 * h
        target = np.array([(hlo[0] + hhi[0]) / 2, (hlo[1] + hhi[1]) / 2, lo[2] + 0.45 * h])
        # From the outer end's side, so the camera looks into the half (into the
        # pocket of the concave one) rather than past the props at it.
        return target, np.array([0.4 * sign, -1.0, 0.25]), _box_corners(hlo, hhi)
    if view == "top":
        return np.array([mid[0], mid[1], lo[2]]), np.array([0.0, -0.35, 1.0]), corners
    if view == "low":
        # The seed's view: camera near the ground, slightly to the convex side,
        # looking up along the wall.
        return np.array([mid[0], mid[1], lo[2] + 0.6 * h]), np.array([0.35, -1.0, -0.12]), corners
    raise ValueError(f"view={view!r} is unknown: choose one of {', '.join(VIEWS)}")


def camera_axes(to_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(forward, right, up)`` unit vectors of a camera looking along ``-to_cam``, z up."""
    f = -to_cam / np.linalg.norm(to_cam)
    right = np.cross(f, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    return f, right, np.cross(right, f)


def fit_distance(
    target: np.ndarray, to_cam: np.ndarray, points: np.ndarray, tan_w: float, tan_h: float,
    margin: float = 1.08,
) -> float:
    """Distance from ``target`` along ``to_cam`` at which every point is inside the frame.

    Pinhole camera looking at ``target`` with half-angle tangents ``tan_w`` (across) and
    ``tan_h`` (up): a point at lateral offset ``a`` and depth ``d + f·rel`` is inside when
    ``|a| <= depth * tan``, so ``d >= |a|/tan - f·rel``. Metres; at least 0.5.
    """
    f, right, up = camera_axes(to_cam)
    rel = points - target
    along = rel @ f
    need = np.maximum(np.abs(rel @ right) * margin / tan_w, np.abs(rel @ up) * margin / tan_h)
    return float(max((need - along).max(), 0.5))


def camera_position(
    box: Box, view: str, sensor_width: float, lens: float, resolution: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(camera position, target, distance)`` in frame coordinates for a named view.

    ``sensor_width`` and ``lens`` in millimetres (Blender's sensor fit AUTO: the sensor
    width spans the longer image side), ``resolution`` (width, height) in pixels. The
    views that show the props keep them in the picture too.
    """
    target, to_cam, pts = view_spec(box, view)
    if view in ("concave", "front", "low"):
        extra = [np.array(loc) for loc, _ in prop_layout(box).values()]
        pts = np.vstack([pts, *extra])
    w, h = resolution
    tan_big = (sensor_width / 2) / lens
    tan_w, tan_h = (tan_big, tan_big * h / w) if w >= h else (tan_big * w / h, tan_big)
    dist = fit_distance(target, to_cam, pts, tan_w, tan_h)
    to_cam = to_cam / np.linalg.norm(to_cam)
    cam_pos = target + dist * to_cam
    if view == "low":
        # Keep the "low" camera at eye level of someone crouching, above the ground.
        cam_pos[2] = max(cam_pos[2], box.lo[2] + 0.15 * box.height)
    return cam_pos, target, dist
