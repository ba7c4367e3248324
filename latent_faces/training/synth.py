"""Procedural 96×96 RGB face generator: the embedded default data set.

Every face is drawn from signed-distance shapes evaluated for a whole batch at
once (arrays of shape ``(B, H, W)``), so thousands of faces render in seconds
with numpy alone.  Anti-aliasing comes from two sources: each shape's edge is
an analytic coverage ramp one sub-pixel wide, and the canvas is rendered at
``supersample`` times the output size and box-averaged down.

Face ``i`` of seed ``s`` depends only on ``(s, i)``; ``generate_faces(n, s,
start=k)`` therefore streams the same faces in any chunking.
"""

from __future__ import annotations

import numpy as np

__all__ = ["IMAGE_SIZE", "face_params", "generate_faces", "render_faces"]

IMAGE_SIZE = 96

# Number of uniform random numbers drawn per face; fixed so that adding a parameter later does
# not silently change every existing face (append new draws at the end, bump the count).
_N_UNIFORMS = 64

_SKIN = np.array(
    [
        [255, 228, 206],
        [244, 204, 170],
        [230, 180, 140],
        [212, 156, 112],
        [180, 122, 84],
        [140, 90, 58],
        [100, 64, 42],
        [70, 46, 32],
    ],
    dtype=np.float32,
) / 255.0
_HAIR = np.array(
    [
        [20, 16, 16],
        [48, 32, 24],
        [92, 58, 34],
        [140, 84, 44],
        [150, 56, 28],
        [214, 180, 112],
        [236, 214, 160],
        [160, 158, 156],
        [232, 230, 226],
        [40, 80, 170],
        [200, 80, 140],
    ],
    dtype=np.float32,
) / 255.0
# Natural colours are much more common than dyed ones.
_HAIR_P = np.array([0.2, 0.18, 0.15, 0.1, 0.07, 0.08, 0.05, 0.07, 0.04, 0.03, 0.03])
_IRIS = np.array(
    [[70, 42, 20], [110, 70, 30], [60, 110, 170], [70, 130, 80], [120, 120, 130], [30, 20, 15]],
    dtype=np.float32,
) / 255.0


def face_params(count: int, seed: int = 0, start: int = 0) -> dict[str, np.ndarray]:
    """Draw the parameters of faces ``start .. start+count-1`` for ``seed``.

    Parameters
    ----------
    count : int
        Number of faces.
    seed : int
        Data-set seed.
    start : int
        Index of the first face.

    Returns
    -------
    dict of str to ndarray
        Each value has leading dimension ``count`` (float32 scalars per face, or
        ``(count, 3)`` float32 RGB colours in [0, 1], or int64 style codes).
    """
    if count < 0 or start < 0:
        raise ValueError("count and start must be non-negative")
    u = np.stack(
        [np.random.default_rng([seed, start + i]).random(_N_UNIFORMS) for i in range(count)]
    ).astype(np.float32) if count else np.zeros((0, _N_UNIFORMS), np.float32)
    it = iter(range(_N_UNIFORMS))

    def nxt() -> np.ndarray:
        return u[:, next(it)]

    def rng_(lo: float, hi: float) -> np.ndarray:
        return (lo + (hi - lo) * nxt()).astype(np.float32)

    def pick(p: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.cumsum(p) / np.sum(p), nxt(), side="right").clip(0, len(p) - 1)

    def mix(palette: np.ndarray, t: np.ndarray) -> np.ndarray:
        pos = t * (len(palette) - 1)
        i0 = np.floor(pos).astype(int).clip(0, len(palette) - 2)
        f = (pos - i0)[:, None]
        return palette[i0] * (1 - f) + palette[i0 + 1] * f

    p: dict[str, np.ndarray] = {}
    p["cx"] = rng_(-0.08, 0.08)
    p["cy"] = rng_(-0.10, 0.04)
    p["rx"] = rng_(0.46, 0.58)
    p["ry"] = p["rx"] * rng_(1.12, 1.40)
    p["jaw"] = rng_(0.0, 0.35)  # narrowing of the lower face: round to pointed chin
    p["roll"] = rng_(-0.22, 0.22)
    p["yaw"] = rng_(-0.45, 0.45)
    p["pitch"] = rng_(-0.12, 0.12)
    p["skin"] = np.clip(mix(_SKIN, nxt()) * rng_(0.93, 1.07)[:, None], 0, 1)
    hair_idx = pick(_HAIR_P)
    p["hair"] = np.clip(_HAIR[hair_idx] * rng_(0.8, 1.2)[:, None], 0, 1)
    # Styles: 0 bald, 1 crop, 2 long, 3 bob, 4 curly, 5 side fringe, 6 bun.
    p["hair_style"] = pick(np.array([0.06, 0.22, 0.2, 0.15, 0.12, 0.15, 0.1]))
    p["hair_len"] = rng_(0.0, 1.0)
    p["hairline"] = rng_(-0.62, -0.38)
    p["eye_sep"] = rng_(0.34, 0.46)
    p["eye_y"] = rng_(-0.12, 0.02)
    p["eye_r"] = rng_(0.075, 0.105)
    p["eye_open"] = rng_(0.35, 0.75)
    p["iris"] = _IRIS[pick(np.array([0.3, 0.2, 0.15, 0.12, 0.1, 0.13]))]
    p["brow_y"] = rng_(0.13, 0.22)
    p["brow_tilt"] = rng_(-0.35, 0.35)  # > 0: angry inner-down brows
    p["brow_th"] = rng_(0.025, 0.05)
    p["nose_len"] = rng_(0.18, 0.32)
    p["nose_w"] = rng_(0.07, 0.13)
    p["mouth_y"] = rng_(0.42, 0.56)
    p["mouth_w"] = rng_(0.22, 0.40)
    p["smile"] = rng_(-0.5, 1.0)
    p["mouth_open"] = np.where(nxt() < 0.3, rng_(0.03, 0.12), 0.0).astype(np.float32)
    p["lip"] = np.clip(p["skin"] * np.array([0.85, 0.55, 0.55], np.float32)
                       * rng_(0.8, 1.05)[:, None], 0, 1)
    p["glasses"] = (nxt() < 0.3).astype(np.int64) * (1 + (nxt() < 0.4).astype(np.int64))
    p["glasses_tint"] = (nxt() < 0.2).astype(np.float32)
    p["frame"] = np.stack([rng_(0.0, 0.6)] * 3, axis=1) * np.array([1.0, 0.9, 0.8], np.float32)
    p["beard"] = ((nxt() < 0.15) & (p["hair_style"] != 6)).astype(np.float32)
    p["light_dir"] = rng_(-np.pi, np.pi)
    p["light_k"] = rng_(0.1, 0.45)
    p["exposure"] = rng_(0.85, 1.12)
    p["tint"] = np.stack([rng_(0.92, 1.08), np.ones(count, np.float32), rng_(0.92, 1.08)], 1)
    p["bg_a"] = u[:, 50:53] * 0.9 + 0.05
    p["bg_b"] = u[:, 53:56] * 0.9 + 0.05
    p["bg_angle"] = rng_(-np.pi, np.pi)
    p["bg_style"] = pick(np.array([0.4, 0.3, 0.3]))  # 0 gradient, 1 stripes, 2 blobs
    p["bg_freq"] = rng_(4.0, 14.0)
    p["cloth"] = u[:, 56:59] * 0.8 + 0.1
    p["blob_x"] = u[:, 59:62] * 2 - 1
    p["blob_y"] = u[:, 61:64] * 2 - 1
    return p


def _cov(d: np.ndarray, px: float) -> np.ndarray:
    """Coverage of a shape with signed distance ``d`` (negative inside), ramp one pixel wide."""
    return np.clip(0.5 - d / px, 0.0, 1.0)


def _ellipse(x: np.ndarray, y: np.ndarray, rx, ry) -> np.ndarray:
    """Approximate signed distance to an axis-aligned ellipse centred at the origin."""
    q = np.sqrt((x / rx) ** 2 + (y / ry) ** 2)
    return (q - 1.0) * np.minimum(rx, ry)


def _over(img: np.ndarray, alpha: np.ndarray, colour) -> np.ndarray:
    """Composite ``colour`` over ``img`` (B, 3, H, W) with coverage ``alpha`` (B, H, W).

    Channel-first on purpose: numpy broadcasts slowly over a trailing axis of length 3.
    """
    c = np.asarray(colour, np.float32)
    if c.ndim == 1:
        c = c[None, :, None, None]
    a = alpha[:, None].astype(np.float32, copy=False)
    img += a * (c - img)
    return img


def render_faces(p: dict[str, np.ndarray], size: int = IMAGE_SIZE,
                 supersample: int = 1) -> np.ndarray:
    """Render faces described by :func:`face_params`.

    Parameters
    ----------
    p : dict
        Output of :func:`face_params` (leading dimension B).
    size : int
        Output side length in pixels.
    supersample : int
        Render at ``size * supersample`` and box-average down (1 disables).

    Returns
    -------
    ndarray of uint8, shape (B, size, size, 3)
    """
    b = len(p["cx"])
    s = size * supersample
    px = 2.0 / s
    lin = (np.arange(s, dtype=np.float32) + 0.5) * px - 1.0
    gx = lin[None, None, :]
    gy = lin[None, :, None]

    def col(name: str) -> np.ndarray:
        return p[name][:, :, None, None]

    def sc(name: str) -> np.ndarray:
        return p[name][:, None, None]

    # Background: two-colour gradient along a random direction, optionally stripes or blobs.
    ang = sc("bg_angle")
    t = 0.5 + 0.5 * (np.cos(ang) * gx + np.sin(ang) * gy) / 1.42
    style = sc("bg_style")
    stripes = 0.5 + 0.5 * np.sin(sc("bg_freq") * (np.cos(ang) * gy - np.sin(ang) * gx))
    blobs = np.zeros((b, s, s), np.float32)
    for k in range(3):
        bx = p["blob_x"][:, k, None, None]
        by = p["blob_y"][:, k, None, None]
        blobs += np.exp(-((gx - bx) ** 2 + (gy - by) ** 2) * (sc("bg_freq") * 0.6))
    t = np.where(style == 1, 0.55 * t + 0.45 * stripes, t)
    t = np.where(style == 2, np.clip(0.4 * t + 0.8 * blobs, 0, 1), t)
    img = col("bg_a") * (1 - t[:, None]) + col("bg_b") * t[:, None]

    # Head frame: rotate by roll around the head centre.
    cx, cy, rx, ry = sc("cx"), sc("cy"), sc("rx"), sc("ry")
    cr, sr = np.cos(sc("roll")), np.sin(sc("roll"))
    x = cr * (gx - cx) + sr * (gy - cy)
    y = -sr * (gx - cx) + cr * (gy - cy)
    yaw, pitch = sc("yaw"), sc("pitch")
    style = sc("hair_style")
    hair = col("hair")

    # Long hair behind head and shoulders.
    hl = sc("hair_len")
    long_d = np.maximum(_ellipse(x, y - 0.15 - 0.25 * hl, rx * 1.25, ry * (1.05 + 0.3 * hl)),
                        -(y + ry * 1.1))
    bob_d = np.maximum(_ellipse(x, y + 0.05, rx * 1.22, ry * 1.02), y - ry * (0.35 + 0.2 * hl))
    back = np.where(style == 2, _cov(long_d, px), 0.0) + np.where(style == 3, _cov(bob_d, px), 0.0)
    img = _over(img, np.clip(back, 0, 1) * 0.97, hair * 0.8)

    # Neck and clothed shoulders.
    neck_d = np.maximum(np.abs(x) - rx * 0.45, -(y - ry * 0.3))
    img = _over(img, _cov(neck_d, px), col("skin") * 0.78)
    sh_d = _ellipse(gx - cx * 0.5, gy - (cy + ry + 0.62), 1.05, 0.55)
    img = _over(img, _cov(sh_d, px), col("cloth"))

    # Ears, just outside the head outline, the far one hidden by yaw.
    for side in (-1.0, 1.0):
        ex = side * rx * (1.0 - 0.25 * np.maximum(side * yaw, 0)) - side * 0.01
        ear_d = _ellipse(x - ex, y - 0.02, rx * 0.16, ry * 0.2)
        img = _over(img, _cov(ear_d, px), col("skin") * 0.9)

    # Head: an ellipse whose lower half narrows towards the chin.
    xn = x / (1.0 - sc("jaw") * np.clip(y / ry, 0, 1) ** 2)
    head_d = _ellipse(xn, y, rx, ry)
    head_a = _cov(head_d, px)
    # Lambert-like shading from a pseudo sphere normal, lit from a random direction.
    nx = np.clip(xn / rx - 0.4 * yaw, -1, 1)
    ny = np.clip(y / ry, -1, 1)
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    la = sc("light_dir")
    shade = 1.0 + sc("light_k") * (np.cos(la) * nx + np.sin(la) * ny + 0.5 * (nz - 0.7))
    skin = col("skin") * shade[:, None]
    img = _over(img, head_a, skin)

    # Beard: lower face region in hair colour, below the mouth line and around it.
    beard_d = np.maximum(head_d + 0.005, -(y - sc("mouth_y") * ry * 0.75))
    img = _over(img, _cov(beard_d, px) * sc("beard") * 0.92, hair * 0.9)

    # Eyes, brows, nose, mouth and glasses always fall inside a fixed central window (head
    # position, size and roll are bounded), so they are drawn on that window only: a view of
    # ``img`` updated in place, about a third of the pixels.
    r0, r1 = int(s * (1 - 0.62) / 2), int(np.ceil(s * (1 + 0.75) / 2))
    c0, c1 = int(s * (1 - 0.75) / 2), int(np.ceil(s * (1 + 0.75) / 2))
    full = img
    img = full[:, :, r0:r1, c0:c1]
    gxw, gyw = gx[..., c0:c1], gy[:, r0:r1, :]
    x = cr * (gxw - cx) + sr * (gyw - cy)
    y = -sr * (gxw - cx) + cr * (gyw - cy)
    # Facial features are shifted sideways by yaw (the nose more, it sticks out) and
    # vertically by pitch; the far eye is foreshortened.
    fx = x - yaw * rx * 0.45
    fy = y - pitch * ry
    eye_y = sc("eye_y") * ry
    er = sc("eye_r")
    for side in (-1.0, 1.0):
        fore = 1.0 - 0.45 * np.maximum(side * yaw, 0)
        ex = side * sc("eye_sep") * rx * fore
        erx = er * fore
        ery = er * sc("eye_open")
        exx, eyy = fx - ex, fy - eye_y
        # Brows: tilted thick ellipses above the eyes; tilt sign mirrored so that
        # positive tilt lowers the inner ends (anger).
        by = eye_y - sc("brow_y") * ry
        tilt = sc("brow_tilt") * side
        bxx = fx - ex
        byy = fy - by + tilt * bxx
        brow_d = _ellipse(bxx, byy + 0.6 * bxx**2 / er, erx * 1.4, sc("brow_th"))
        _over(img, _cov(brow_d, px) * 0.95, hair * 0.7)
        eye_d = _ellipse(exx, eyy, erx, ery)
        eye_a = _cov(eye_d, px)
        _over(img, eye_a, np.array([0.95, 0.94, 0.92], np.float32))
        iris_dx = -yaw * er * 0.5
        iris_d = np.maximum(_ellipse(exx - iris_dx, eyy, er * 0.5 * fore, er * 0.5), eye_d)
        _over(img, _cov(iris_d, px), col("iris"))
        pup_d = np.maximum(_ellipse(exx - iris_dx, eyy, er * 0.22 * fore, er * 0.22), eye_d)
        _over(img, _cov(pup_d, px), np.array([0.04, 0.03, 0.03], np.float32))
        lid_d = np.abs(eye_d) - px * 0.7
        _over(img, _cov(lid_d, px) * 0.8, col("skin") * 0.45)

    # Nose: a soft shadowed ridge on the side away from the light, plus nostrils.
    nxc = fx - yaw * rx * 0.3
    nl = sc("nose_len") * ry
    ny0 = eye_y + 0.02
    on_nose = (fy > ny0) & (fy < ny0 + nl)
    ridge_d = np.abs(nxc + 0.3 * sc("nose_w") * np.sign(np.cos(la) + 1e-3)) - px * 1.2
    _over(img, _cov(ridge_d, px) * on_nose * 0.35, col("skin") * 0.6)
    tip_d = _ellipse(nxc, fy - ny0 - nl, sc("nose_w"), sc("nose_w") * 0.45)
    _over(img, _cov(tip_d, px) * 0.3, col("skin") * 0.75)
    for side in (-1.0, 1.0):
        nos_d = _ellipse(nxc - side * sc("nose_w") * 0.45, fy - ny0 - nl - 0.01, 0.022, 0.012)
        _over(img, _cov(nos_d, px) * 0.8, col("skin") * 0.35)

    # Mouth: a parabola (smile > 0 curves the corners up), optionally open.
    my = sc("mouth_y") * ry
    mw = sc("mouth_w") * rx
    mxx = fx - yaw * rx * 0.15
    curve = -sc("smile") * 0.09 * (mxx / mw) ** 2
    myy = fy - my - curve
    inside_w = np.abs(mxx) < mw
    mo = sc("mouth_open")
    lip_d = np.where(inside_w, np.abs(myy) - (0.018 + mo * (1 - (mxx / mw) ** 2)),
                     np.hypot(np.abs(mxx) - mw, myy) - 0.006)
    _over(img, _cov(lip_d, px), col("lip"))
    open_d = np.where(inside_w, np.abs(myy) - mo * 0.7 * (1 - (mxx / mw) ** 2), 1.0)
    _over(img, _cov(open_d, px) * (mo > 0), np.array([0.25, 0.06, 0.06], np.float32))
    teeth_d = np.maximum(open_d, myy + mo * 0.15)
    _over(img, _cov(teeth_d, px) * (mo > 0.05), np.array([0.92, 0.9, 0.85], np.float32))

    # Glasses: 1 round, 2 rectangular (superellipse) frames, sometimes tinted.
    g = sc("glasses")
    if np.any(p["glasses"] > 0):
        for side in (-1.0, 1.0):
            fore = 1.0 - 0.45 * np.maximum(side * yaw, 0)
            gxx = fx - side * sc("eye_sep") * rx * fore
            gyy = fy - eye_y
            grx = er * 1.75 * fore
            gry = er * 1.45
            rnd = np.sqrt((gxx / grx) ** 2 + (gyy / gry) ** 2)
            sq = (np.abs(gxx / grx) ** 4 + np.abs(gyy / gry) ** 4) ** 0.25
            q = np.where(g == 2, sq, rnd)
            ring_d = np.abs(q - 1.0) * gry - 0.012
            lens_a = _cov((q - 1.0) * gry, px) * (g > 0) * sc("glasses_tint") * 0.75
            _over(img, lens_a, np.array([0.08, 0.08, 0.1], np.float32))
            _over(img, _cov(ring_d, px) * (g > 0), col("frame"))
        br_d = np.maximum(np.abs(fy - eye_y + er * 0.4) - 0.01,
                          np.abs(fx) - sc("eye_sep") * rx * 0.5)
        _over(img, _cov(br_d, px) * (g > 0), col("frame"))

    img = full
    x = cr * (gx - cx) + sr * (gy - cy)
    y = -sr * (gx - cx) + cr * (gy - cy)

    # Front hair: a cap above the hairline inside a slightly enlarged head outline.
    cap_out = _ellipse(x, y + 0.02, rx * 1.08, ry * 1.08)
    hairline = sc("hairline") * ry + 0.1 * (x / rx) ** 2 * ry
    cap_d = np.maximum(cap_out, y - hairline)
    fringe_line = hairline + 0.22 * ry * np.clip(0.7 - (x / rx + 0.6), 0, 1)
    fringe_d = np.maximum(cap_out, y - fringe_line)
    curly_r = rx * 1.3 + 0.035 * np.sin(14 * np.arctan2(y, x))
    curly_d = np.maximum(np.hypot(x, y + ry * 0.35) - curly_r, y - hairline)
    bun_d = np.minimum(cap_d, np.hypot(x, y + ry * 1.15) - rx * 0.42)
    front = np.select(
        [style == 1, style == 2, style == 3, style == 4, style == 5, style == 6],
        [cap_d, cap_d, np.maximum(cap_out, y - (hairline + 0.18 * ry)),
         curly_d, fringe_d, bun_d],
        default=np.ones_like(cap_d),
    )
    hair_shade = 1.0 + 0.15 * np.sin(40 * x + 6 * y) * (style != 4)
    img = _over(img, _cov(front, px), hair * hair_shade[:, None])

    # Global exposure and colour temperature.
    img = np.clip(img * (sc("exposure")[:, None] * col("tint")), 0.0, 1.0)
    if supersample > 1:
        img = img.reshape(b, 3, size, supersample, size, supersample).mean(axis=(3, 5))
    return np.round(img.transpose(0, 2, 3, 1) * 255.0).astype(np.uint8)


def generate_faces(count: int, seed: int = 0, start: int = 0, size: int = IMAGE_SIZE,
                   supersample: int = 1, chunk: int = 32) -> np.ndarray:
    """Render ``count`` synthetic faces.

    Parameters
    ----------
    count : int
        Number of faces.
    seed : int
        Data-set seed; the same ``(seed, start + i)`` always gives the same face.
    start : int
        Index of the first face (for streaming / train-test splits by index range).
    size : int
        Output side length.
    supersample : int
        Anti-aliasing factor.
    chunk : int
        Faces rendered per vectorised batch (bounds peak memory).

    Returns
    -------
    ndarray of uint8, shape (count, size, size, 3)
    """
    out = np.empty((count, size, size, 3), np.uint8)
    for i in range(0, count, chunk):
        n = min(chunk, count - i)
        out[i:i + n] = render_faces(face_params(n, seed, start + i), size, supersample)
    return out
